package verify_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/verify"
)

// worker is a healthy report: it did work, was off-CPU offPct percent of
// one second and its longest gap was gapMs on CPU 0.
func worker(cg string, idx int, offPct float64, gapMs float64) wire.WorkerReport {
	return wire.WorkerReport{
		Cgroup:    cg,
		Index:     idx,
		PID:       100 + idx,
		Work:      "CpuSpin",
		WorkUnits: 1000,
		WallNs:    1_000_000_000,
		OffCPUNs:  uint64(offPct * 10_000_000),
		MaxGapNs:  uint64(gapMs * 1e6),
	}
}

// byName indexes results by check name and fails the test on a duplicate.
func byName(t *testing.T, rs []verify.CheckResult) map[string]verify.CheckResult {
	t.Helper()
	m := map[string]verify.CheckResult{}
	for _, r := range rs {
		if _, dup := m[r.Name]; dup {
			t.Fatalf("check %q reported twice in %v", r.Name, rs)
		}
		m[r.Name] = r
	}
	return m
}

func names(rs []verify.CheckResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestWorkerReportNameAndOffCPU(t *testing.T) {
	w := wire.WorkerReport{Cgroup: "cg1", Index: 3, PID: 42, WallNs: 2000, OffCPUNs: 500}
	if got, want := w.Name(), "cg1[3] (pid 42)"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	if got := w.OffCPUPct(); got != 25 {
		t.Errorf("OffCPUPct() = %v, want 25", got)
	}
	if got := (wire.WorkerReport{OffCPUNs: 5}).OffCPUPct(); got != 0 {
		t.Errorf("OffCPUPct() with zero wall time = %v, want 0", got)
	}
}

func TestEvaluateHealthyScenario(t *testing.T) {
	reports := []wire.WorkerReport{
		worker("cg0", 0, 10, 5), worker("cg0", 1, 20, 7),
		worker("cg1", 0, 30, 3), worker("cg1", 1, 40, 9),
	}
	env := verify.Env{}
	rs := verify.Evaluate(reports, verify.Defaults(env), env)
	want := []string{verify.CheckWorkers, verify.CheckStarvation, verify.CheckSpread, verify.CheckGap}
	if got := names(rs); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("checks = %v, want %v", got, want)
	}
	for _, r := range rs {
		if !r.Passed || r.Relaxed != "" {
			t.Errorf("%v: want a pass with no relaxation", r)
		}
	}
	if f := verify.Failed(rs); len(f) != 0 {
		t.Errorf("Failed() = %v, want none", f)
	}
	m := byName(t, rs)
	if got, want := m[verify.CheckWorkers].Message, "4 workers reported"; got != want {
		t.Errorf("workers message = %q, want %q", got, want)
	}
	if got, want := m[verify.CheckStarvation].Message, "all 4 workers made progress (fewest work units: 1000)"; got != want {
		t.Errorf("starvation message = %q, want %q", got, want)
	}
	wantSpread := "spread within 15.0%: cg0: 10.0% (off-CPU 10.0%..20.0%, 2 workers); cg1: 10.0% (off-CPU 30.0%..40.0%, 2 workers)"
	if got := m[verify.CheckSpread].Message; got != wantSpread {
		t.Errorf("spread message = %q, want %q", got, wantSpread)
	}
	if got, want := m[verify.CheckGap].Message, "longest gap 9.0ms (cg1[1] (pid 101), cpu 0) within 2000ms"; got != want {
		t.Errorf("gap message = %q, want %q", got, want)
	}
}

func TestEvaluateStarvation(t *testing.T) {
	starved := worker("cg1", 1, 10, 1)
	starved.WorkUnits = 0
	reports := []wire.WorkerReport{worker("cg0", 0, 10, 1), worker("cg0", 1, 10, 1), worker("cg1", 0, 10, 1), starved}
	env := verify.Env{}
	r := byName(t, verify.Evaluate(reports, verify.Defaults(env), env))[verify.CheckStarvation]
	if r.Passed {
		t.Fatalf("starvation passed with a worker that did no work: %v", r)
	}
	if want := "1 of 4 workers did no work: cg1[1] (pid 101)"; r.Message != want {
		t.Errorf("message = %q, want %q", r.Message, want)
	}
}

func TestEvaluateSpread(t *testing.T) {
	tests := []struct {
		name     string
		reports  []wire.WorkerReport
		limit    float64
		pass     bool
		contains []string
		excludes []string
	}{
		{
			name: "within limit",
			reports: []wire.WorkerReport{
				worker("a", 0, 10, 1), worker("a", 1, 24, 1),
			},
			limit: 15, pass: true,
			contains: []string{"spread within 15.0%", "a: 14.0% (off-CPU 10.0%..24.0%, 2 workers)"},
		},
		{
			name: "one cgroup above the limit",
			reports: []wire.WorkerReport{
				worker("fair", 0, 10, 1), worker("fair", 1, 12, 1),
				worker("unfair", 0, 10, 1), worker("unfair", 1, 50, 1), worker("unfair", 2, 30, 1),
			},
			limit: 15, pass: false,
			contains: []string{"fairness spread above 15.0% in unfair: 40.0% (off-CPU 10.0%..50.0%, 3 workers)"},
			excludes: []string{"in fair", "; fair"},
		},
		{
			// The spread is per cgroup: very different cgroups each of
			// one worker have no spread at all.
			name: "single-worker cgroups",
			reports: []wire.WorkerReport{
				worker("x", 0, 0, 1), worker("y", 0, 90, 1),
			},
			limit: 15, pass: true,
			contains: []string{"x: 0.0% (off-CPU 0.0%..0.0%, 1 workers)", "y: 0.0% (off-CPU 90.0%..90.0%, 1 workers)"},
		},
		{
			name:    "exactly at the limit",
			reports: []wire.WorkerReport{worker("a", 0, 10, 1), worker("a", 1, 25, 1)},
			limit:   15, pass: true,
			contains: []string{"a: 15.0%"},
		},
		{
			name:    "just above the limit",
			reports: []wire.WorkerReport{worker("a", 0, 10, 1), worker("a", 1, 25.5, 1)},
			limit:   15, pass: false,
			contains: []string{"fairness spread above 15.0% in a: 15.5%"},
		},
		{
			name:    "relaxed limit admits a wider spread",
			reports: []wire.WorkerReport{worker("a", 0, 10, 1), worker("a", 1, 40, 1)},
			limit:   35, pass: true,
			contains: []string{"spread within 35.0%", "a: 30.0%"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := verify.Thresholds{NotStarved: verify.On, MaxSpreadPct: tt.limit}
			rs := verify.Evaluate(tt.reports, th, verify.Env{})
			m := byName(t, rs)
			r, ok := m[verify.CheckSpread]
			if !ok {
				t.Fatalf("no spread check in %v", names(rs))
			}
			if r.Passed != tt.pass {
				t.Errorf("passed = %v, want %v: %s", r.Passed, tt.pass, r.Message)
			}
			for _, s := range tt.contains {
				if !strings.Contains(r.Message, s) {
					t.Errorf("message %q lacks %q", r.Message, s)
				}
			}
			for _, s := range tt.excludes {
				if strings.Contains(r.Message, s) {
					t.Errorf("message %q should not contain %q", r.Message, s)
				}
			}
			if _, ok := m[verify.CheckGap]; ok {
				t.Errorf("gap check ran with MaxGapMs 0")
			}
		})
	}
}

func TestEvaluateGap(t *testing.T) {
	slow := worker("cg0", 1, 10, 2500)
	slow.MaxGapCPU = 3
	slow.MaxGapAtNs = 1_200_000_000
	reports := []wire.WorkerReport{worker("cg0", 0, 10, 1999), slow, worker("cg1", 0, 10, 2000)}
	th := verify.Thresholds{NotStarved: verify.On, MaxGapMs: 2000}
	r := byName(t, verify.Evaluate(reports, th, verify.Env{}))[verify.CheckGap]
	if r.Passed {
		t.Fatalf("gap passed with a 2500ms gap over a 2000ms limit: %v", r)
	}
	want := "scheduling gap above 2000ms: cg0[1] (pid 101) 2500.0ms on cpu 3 at +1200ms"
	if r.Message != want {
		t.Errorf("message = %q, want %q", r.Message, want)
	}

	// A gap exactly at the limit passes.
	reports = []wire.WorkerReport{worker("cg1", 0, 10, 2000)}
	r = byName(t, verify.Evaluate(reports, th, verify.Env{}))[verify.CheckGap]
	if !r.Passed {
		t.Errorf("gap at the limit failed: %v", r)
	}
}

func TestEvaluateIsolation(t *testing.T) {
	inside := worker("llc0", 0, 10, 1)
	inside.AllowedCPUs = "0-1"
	inside.CPUsUsed = []int{0, 1}
	outside := worker("llc1", 1, 10, 1)
	outside.AllowedCPUs = "2-3"
	outside.CPUsUsed = []int{1, 2, 3, 5}
	free := worker("any", 0, 10, 1)
	free.CPUsUsed = []int{0, 1, 2, 3}
	unreadable := worker("bad", 0, 10, 1)
	unreadable.AllowedCPUs = "3-1"

	tests := []struct {
		name     string
		reports  []wire.WorkerReport
		pass     bool
		contains string
	}{
		{"inside", []wire.WorkerReport{inside, free}, true, "1 workers stayed within their cpusets"},
		{"outside", []wire.WorkerReport{inside, outside}, false, "llc1[1] (pid 101) ran on CPUs [1 5] outside its cpuset 2-3"},
		{"no cpuset", []wire.WorkerReport{free}, false, "give the cgroups a cpuset"},
		{"unreadable cpuset", []wire.WorkerReport{unreadable}, false, `bad[0] (pid 100): cpuset "3-1" unreadable`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := verify.Thresholds{NotStarved: verify.Off, Isolation: verify.On}
			rs := verify.Evaluate(tt.reports, th, verify.Env{})
			if got := strings.Join(names(rs), ","); got != "workers,isolation" {
				t.Fatalf("checks = %s, want workers,isolation", got)
			}
			r := rs[1]
			if r.Passed != tt.pass {
				t.Errorf("passed = %v, want %v: %s", r.Passed, tt.pass, r.Message)
			}
			if !strings.Contains(r.Message, tt.contains) {
				t.Errorf("message %q lacks %q", r.Message, tt.contains)
			}
		})
	}
}

func TestEvaluateWorkersCheck(t *testing.T) {
	off := verify.Thresholds{NotStarved: verify.Off}

	rs := verify.Evaluate(nil, off, verify.Env{})
	if len(rs) != 1 || rs[0].Name != verify.CheckWorkers || rs[0].Passed {
		t.Fatalf("Evaluate(no reports) = %v, want one failed workers check", rs)
	}
	if !strings.Contains(rs[0].Message, "no worker reported") {
		t.Errorf("message = %q, want it to say no worker reported", rs[0].Message)
	}

	broken := worker("cg0", 1, 0, 0)
	broken.Error = "cannot join cgroup"
	rs = verify.Evaluate([]wire.WorkerReport{worker("cg0", 0, 10, 1), broken}, off, verify.Env{})
	if rs[0].Passed {
		t.Fatalf("workers check passed with a worker error: %v", rs[0])
	}
	if want := "1 of 2 workers failed: cg0[1] (pid 101): cannot join cgroup"; rs[0].Message != want {
		t.Errorf("message = %q, want %q", rs[0].Message, want)
	}
}

func TestEvaluateNotStarvedOff(t *testing.T) {
	// Everything the worker-side checks look at is bad, yet with
	// NotStarved off only the workers check runs.
	bad := worker("cg0", 0, 0, 99999)
	bad.WorkUnits = 0
	reports := []wire.WorkerReport{bad, worker("cg0", 1, 90, 1)}
	th := verify.Merge(verify.Defaults(verify.Env{}), verify.Thresholds{NotStarved: verify.Off})
	rs := verify.Evaluate(reports, th, verify.Env{})
	if got := strings.Join(names(rs), ","); got != "workers" {
		t.Fatalf("checks = %s, want only workers", got)
	}
	if !rs[0].Passed {
		t.Errorf("workers check failed: %v", rs[0])
	}

	// The same reports with the defaults fail starvation, spread and gap.
	rs = verify.Evaluate(reports, verify.Defaults(verify.Env{}), verify.Env{})
	var failed []string
	for _, r := range verify.Failed(rs) {
		failed = append(failed, r.Name)
	}
	if got := strings.Join(failed, ","); got != "starvation,spread,gap" {
		t.Errorf("failed checks with defaults = %s, want starvation,spread,gap", got)
	}
}

func TestEvaluateRelaxed(t *testing.T) {
	reports := []wire.WorkerReport{worker("cg0", 0, 10, 2500), worker("cg0", 1, 40, 100)}
	emu := verify.Env{Emulated: true}
	tests := []struct {
		name          string
		th            verify.Thresholds
		env           verify.Env
		spreadRelaxed string
		gapRelaxed    string
		spreadPass    bool
		gapPass       bool
	}{
		{
			name: "kvm defaults", th: verify.Defaults(verify.Env{}), env: verify.Env{},
			spreadPass: false, gapPass: false,
		},
		{
			name: "emulated defaults", th: verify.Defaults(emu), env: emu,
			spreadRelaxed: "emulated VM (TCG)", gapRelaxed: "emulated VM (TCG)",
			spreadPass: true, gapPass: true,
		},
		{
			name: "emulated with test's own gap", env: emu,
			th:            verify.Merge(verify.Defaults(emu), verify.Thresholds{MaxGapMs: 5000}),
			spreadRelaxed: "emulated VM (TCG)", gapRelaxed: "",
			spreadPass: true, gapPass: true,
		},
		{
			// The relaxed values themselves, set by hand, but not under
			// emulation: nothing was relaxed.
			name: "relaxed numbers without emulation", env: verify.Env{},
			th:         verify.Thresholds{NotStarved: verify.On, MaxGapMs: 3000, MaxSpreadPct: 35},
			spreadPass: true, gapPass: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := byName(t, verify.Evaluate(reports, tt.th, tt.env))
			sp, gp := m[verify.CheckSpread], m[verify.CheckGap]
			if sp.Name == "" || gp.Name == "" {
				t.Fatalf("spread or gap check missing: %v", m)
			}
			if sp.Relaxed != tt.spreadRelaxed || gp.Relaxed != tt.gapRelaxed {
				t.Errorf("relaxed spread=%q gap=%q, want %q and %q", sp.Relaxed, gp.Relaxed, tt.spreadRelaxed, tt.gapRelaxed)
			}
			if sp.Passed != tt.spreadPass || gp.Passed != tt.gapPass {
				t.Errorf("passed spread=%v gap=%v, want %v and %v (%s | %s)",
					sp.Passed, gp.Passed, tt.spreadPass, tt.gapPass, sp.Message, gp.Message)
			}
			for _, r := range []verify.CheckResult{m[verify.CheckWorkers], m[verify.CheckStarvation]} {
				if r.Relaxed != "" {
					t.Errorf("%s marked relaxed: %q", r.Name, r.Relaxed)
				}
			}
		})
	}
}

func TestCheckResultString(t *testing.T) {
	tests := []struct {
		r    verify.CheckResult
		want string
	}{
		{verify.CheckResult{Name: "gap", Passed: true, Message: "ok"}, "PASS gap: ok"},
		{verify.CheckResult{Name: "spread", Passed: false, Message: "too wide"}, "FAIL spread: too wide"},
		{
			verify.CheckResult{Name: "gap", Passed: false, Message: "slow", Relaxed: "emulated VM (TCG)"},
			"FAIL gap: slow [limit relaxed: emulated VM (TCG)]",
		},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestFailed(t *testing.T) {
	rs := []verify.CheckResult{
		{Name: "a", Passed: true}, {Name: "b"}, {Name: "c", Passed: true}, {Name: "d"},
	}
	if got := strings.Join(names(verify.Failed(rs)), ","); got != "b,d" {
		t.Errorf("Failed() = %s, want b,d", got)
	}
	if got := verify.Failed(rs[:1]); got != nil {
		t.Errorf("Failed(all passed) = %v, want nil", got)
	}
}

func TestCheckResultJSON(t *testing.T) {
	b, err := json.Marshal(verify.CheckResult{Name: "gap", Passed: true, Message: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"gap","passed":true,"message":"m"}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}

func TestSpreadLeavesOutWorkersStoppedEarly(t *testing.T) {
	stopped := worker("cg", 1, 90, 10)
	stopped.StoppedEarly = true
	th := verify.Defaults(verify.Env{})
	for _, c := range verify.Evaluate([]wire.WorkerReport{worker("cg", 0, 10, 10), stopped, worker("cg", 2, 12, 10)}, th, verify.Env{}) {
		if c.Name == verify.CheckSpread && (!c.Passed || !strings.Contains(c.Message, "2 workers")) {
			t.Errorf("spread = %v, want a pass over the 2 workers that ran to the end", c)
		}
	}
	for _, c := range verify.Evaluate([]wire.WorkerReport{worker("cg", 0, 10, 10), worker("cg", 1, 90, 10)}, th, verify.Env{}) {
		if c.Name == verify.CheckSpread && c.Passed {
			t.Errorf("spread = %v, want a failure when both ran to the end", c)
		}
	}
}

// TestGapLimitScalesWithOversubscription: under emulation the relaxed
// gap limit grows with the workers per CPU beyond OversubscribedPerCPU,
// and says so; a test's own limit, or a real CPU, is never scaled.
func TestGapLimitScalesWithOversubscription(t *testing.T) {
	many := func(n int, gapMs float64) []wire.WorkerReport {
		var rs []wire.WorkerReport
		for i := 0; i < n; i++ {
			rs = append(rs, worker("a", i, 10, 100))
		}
		rs[n-1].MaxGapNs = uint64(gapMs * 1e6)
		return rs
	}
	emu := verify.Env{Emulated: true, CPUs: 4}
	tests := []struct {
		name    string
		env     verify.Env
		th      verify.Thresholds
		reports []wire.WorkerReport
		pass    bool
		relaxed string
	}{
		{"8 per CPU is not scaled", emu, verify.Defaults(emu), many(32, 3500), false, "emulated VM (TCG)"},
		{"16 per CPU doubles the limit", emu, verify.Defaults(emu), many(64, 3500), true, "emulated VM (TCG), 64 workers on 4 CPUs: x2"},
		{"doubled limit still fails a longer gap", emu, verify.Defaults(emu), many(64, 6500), false, "emulated VM (TCG), 64 workers on 4 CPUs: x2"},
		{"17 per CPU rounds up", emu, verify.Defaults(emu), many(68, 8500), true, "emulated VM (TCG), 68 workers on 4 CPUs: x3"},
		{"the test's own limit is not scaled", emu, verify.Merge(verify.Defaults(emu), verify.Thresholds{MaxGapMs: 3001}), many(64, 3500), false, ""},
		{"a real CPU is not scaled", verify.Env{CPUs: 4}, verify.Defaults(verify.Env{}), many(64, 2500), false, ""},
		{"unknown CPU count is not scaled", verify.Env{Emulated: true}, verify.Defaults(emu), many(64, 3500), false, "emulated VM (TCG)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := byName(t, verify.Evaluate(tt.reports, tt.th, tt.env))[verify.CheckGap]
			if r.Name == "" {
				t.Fatal("no gap check")
			}
			if r.Passed != tt.pass || r.Relaxed != tt.relaxed {
				t.Errorf("passed %v relaxed %q, want %v and %q: %s", r.Passed, r.Relaxed, tt.pass, tt.relaxed, r.Message)
			}
		})
	}
}
