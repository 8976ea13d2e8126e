package ktstr

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/runner/perfmode"
	"github.com/ktstr-go/ktstr/topology"
)

func TestRunPattern(t *testing.T) {
	tests := []struct {
		name string
		want string
		// other names the pattern must not select, element by element
		notMatch []string
	}{
		{"TestA", `^TestA$`, []string{"TestAB", "XTestA"}},
		{"TestA/sub name", `^TestA$/^sub name$`, []string{"TestA/sub name2", "TestAB/sub name"}},
		{"TestA/x.y", `^TestA$/^x\.y$`, []string{"TestA/x_y", "TestA/xzy"}},
		{"TestA/b/c(1)", `^TestA$/^b$/^c\(1\)$`, []string{"TestA/b/c1", "TestA/b/c(1)x"}},
		{"TestA/[a-z]+*", `^TestA$/^\[a-z\]\+\*$`, []string{"TestA/q", "TestA/[a-z]"}},
		{"TestA/a|b", `^TestA$/^a\|b$`, []string{"TestA/a", "TestA/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runPattern(tt.name)
			if got != tt.want {
				t.Fatalf("runPattern(%q) = %q, want %q", tt.name, got, tt.want)
			}
			// Each element of the pattern selects its own element of
			// the name and nothing else.
			parts := strings.Split(got, "/")
			elems := strings.Split(tt.name, "/")
			if len(parts) != len(elems) {
				t.Fatalf("pattern has %d elements, name %d", len(parts), len(elems))
			}
			res := make([]*regexp.Regexp, len(parts))
			for i, p := range parts {
				re, err := regexp.Compile(p)
				if err != nil {
					t.Fatalf("element %q does not compile: %v", p, err)
				}
				if !re.MatchString(elems[i]) {
					t.Errorf("element %q does not match %q", p, elems[i])
				}
				res[i] = re
			}
			for _, other := range tt.notMatch {
				oe := strings.Split(other, "/")
				all := len(oe) == len(res)
				for i := 0; all && i < len(oe); i++ {
					all = res[i].MatchString(oe[i])
				}
				if all {
					t.Errorf("pattern %q also selects %q", got, other)
				}
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name      string
		spec      Spec
		host      time.Duration
		guestTest time.Duration
	}{
		{"zero duration", Spec{}, 60 * time.Second, 40 * time.Second},
		{"default duration", Spec{DurationS: 2}, 66 * time.Second, 46 * time.Second},
		{"long duration", Spec{DurationS: 60}, 240 * time.Second, 220 * time.Second},
		{"explicit timeout", Spec{DurationS: 60, TimeoutS: 500}, 500 * time.Second, 480 * time.Second},
		{"explicit short timeout", Spec{DurationS: 2, TimeoutS: 10}, 10 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, guest := timeouts(tt.spec)
			if host != tt.host || guest != tt.guestTest {
				t.Errorf("timeouts = %v, %v; want %v, %v", host, guest, tt.host, tt.guestTest)
			}
		})
	}

	// Both budgets grow with the duration when no timeout is given.
	prevHost, prevGuest := timeouts(Spec{DurationS: 1})
	for d := 2; d <= 120; d++ {
		host, guest := timeouts(Spec{DurationS: d})
		if host <= prevHost || guest <= prevGuest {
			t.Fatalf("timeouts do not grow from %ds to %ds: host %v -> %v, guest %v -> %v", d-1, d, prevHost, host, prevGuest, guest)
		}
		if run := time.Duration(d) * time.Second; host <= run || guest <= run {
			t.Fatalf("DurationS %d: budgets host %v guest %v do not cover the run itself", d, host, guest)
		}
		if guest >= host {
			t.Fatalf("DurationS %d: the guest bound %v does not end inside the host timeout %v", d, guest, host)
		}
		prevHost, prevGuest = host, guest
	}
}

func TestTopologyOverride(t *testing.T) {
	spec := Spec{MinLLCs: 2, MemoryMB: 4096}
	got, err := applyTopologyOverride(spec, "tiny-2llc")
	if err != nil {
		t.Fatal(err)
	}
	if got.Sockets != 2 || got.Cores != 2 || got.Threads != 1 || got.MemoryMB != 4096 {
		t.Errorf("tiny-2llc override = %ds%dc%dt %d MB, want 2s2c1t 4096 MB", got.Sockets, got.Cores, got.Threads, got.MemoryMB)
	}
	if got, _ := applyTopologyOverride(Spec{}, "medium-8llc"); got.MemoryMB != 64*64 {
		t.Errorf("medium-8llc memory = %d MB, want cpus x 64 = %d", got.MemoryMB, 64*64)
	}
	if _, err := applyTopologyOverride(spec, "tiny-1llc"); err == nil || !strings.Contains(err.Error(), "constraints") {
		t.Errorf("tiny-1llc for min_llcs=2: err = %v, want a constraints error", err)
	}
	if got, err := applyTopologyOverride(Spec{}, "3s1c2t"); err != nil || got.Sockets != 3 || got.Threads != 2 {
		t.Errorf("3s1c2t = %+v, %v", got, err)
	}
	if _, err := applyTopologyOverride(Spec{}, "huge"); err == nil || !strings.Contains(err.Error(), EnvTopology) {
		t.Errorf("bad value: err = %v", err)
	}
}

// TestGauntletSpec: both entry points (Run, RunProfiles) select through
// gauntletSpec; validation runs against the overriding topology, and the
// profile variable narrows the profiles to one.
func TestGauntletSpec(t *testing.T) {
	sched := &Scheduler{Name: "s", Path: "/bin/s", Flags: []Flag{{Name: "llc"}, {Name: "steal", Requires: []string{"llc"}}}}
	env := func(topo, profile string) func(string) string {
		return func(k string) string {
			return map[string]string{EnvTopology: topo, EnvProfile: profile}[k]
		}
	}
	// CPU 8 exists on odd-3llc (9 CPUs), not on the spec's own 1s2c1t.
	wide := Spec{Scheduler: sched, Sockets: 1, Cores: 2, Threads: 1, Cgroups: []CgroupDef{{Name: "a", Cpuset: "6-8"}}}
	if _, _, err := gauntletSpec("TestW", wide, env("", "")); err == nil || !strings.Contains(err.Error(), "outside the topology") {
		t.Errorf("cpuset 6-8 on 2 CPUs: %v, want a validation error", err)
	}
	got, ps, err := gauntletSpec("TestW", wide, env("odd-3llc", "llc"))
	if err != nil {
		t.Fatalf("cpuset 6-8 on odd-3llc: %v", err)
	}
	if topo := got.Topology(); topo.CPUs() != 9 || topo.Sockets != 3 {
		t.Errorf("topology after the override: %v, want 3s3c1t", topo)
	}
	if len(ps) != 1 || ps[0].Name() != "llc" {
		t.Errorf("profiles %v, want only llc", ps)
	}
	// A cpuset valid on the spec's topology but not on the preset's.
	narrow := Spec{Scheduler: sched, Sockets: 2, Cores: 4, Threads: 1, Cgroups: []CgroupDef{{Name: "a", Cpuset: "4-7"}}}
	if _, _, err := gauntletSpec("TestN", narrow, env("tiny-2llc", "")); err == nil || !strings.Contains(err.Error(), "4-7 names CPUs outside the topology's 0-3") {
		t.Errorf("cpuset 4-7 on tiny-2llc: %v, want a validation error", err)
	}
	// A bad declaration stays bad whatever topology replaces it.
	if _, _, err := gauntletSpec("TestBad", Spec{Cores: -1}, env("tiny-2llc", "")); err == nil || !strings.Contains(err.Error(), "cores = -1: must be >= 0") {
		t.Errorf("cores = -1 under an override: %v, want a validation error", err)
	}
	// Without the profile variable: every profile.
	if _, ps, err := gauntletSpec("TestW", Spec{Scheduler: sched}, env("", "")); err != nil || len(ps) != 3 {
		t.Errorf("all profiles: %v, %v; want default, llc, llc+steal", ps, err)
	}
	if _, _, err := gauntletSpec("TestW", Spec{Scheduler: sched}, env("", "steal")); err == nil || !strings.Contains(err.Error(), EnvProfile+"=steal") {
		t.Errorf("invalid profile: %v, want an error naming it", err)
	}
}

// perfGate: a host that cannot give performance mode skips the test with
// the reason, or fails it under KTSTR_NO_SKIP_MODE=1; KTSTR_NO_PERF_MODE=1
// turns the mode off, saying so; a spec without it is left alone.
func TestPerfGate(t *testing.T) {
	tooSmall := func(topology.Topology) error {
		return &perfmode.UnavailableError{Topology: topology.Topology{Sockets: 1, Cores: 4, Threads: 1}, Reason: "it needs 5 host CPUs"}
	}
	fits := func(topology.Topology) error { return nil }
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	perf := Spec{Cores: 4, PerformanceMode: true}
	if _, note, skip, fatal := perfGate(perf, env(), tooSmall); skip == "" || fatal != "" || note != "" || !strings.Contains(skip, "SKIP: performance mode unavailable") || !strings.Contains(skip, "5 host CPUs") {
		t.Errorf("too small: note %q skip %q fatal %q; want a skip with the reason", note, skip, fatal)
	}
	if _, _, skip, fatal := perfGate(perf, env(EnvNoSkipMode, "1"), tooSmall); skip != "" || !strings.Contains(fatal, "5 host CPUs") || !strings.Contains(fatal, EnvNoSkipMode) {
		t.Errorf("no skip mode: skip %q fatal %q; want a failure", skip, fatal)
	}
	if out, note, skip, fatal := perfGate(perf, env(EnvNoPerfMode, "1"), tooSmall); out.PerformanceMode || skip != "" || fatal != "" || !strings.Contains(note, "performance mode off") {
		t.Errorf("no perf mode: %v %q %q %q; want it off, said", out.PerformanceMode, note, skip, fatal)
	}
	if out, note, skip, fatal := perfGate(perf, env(), fits); !out.PerformanceMode || note+skip+fatal != "" {
		t.Errorf("fits: %v %q %q %q; want it on, silently", out.PerformanceMode, note, skip, fatal)
	}
	called := false
	if _, note, skip, fatal := perfGate(Spec{}, env(EnvNoSkipMode, "1"), func(topology.Topology) error { called = true; return nil }); called || note+skip+fatal != "" {
		t.Errorf("no performance mode asked: the host was checked (%v) or something said %q", called, note+skip+fatal)
	}
}
