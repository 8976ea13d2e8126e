package ktstr

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/topology"
)

func TestSpecResolvedDefaults(t *testing.T) {
	got := Spec{}.Resolved()
	want := Spec{
		Sockets: 1, Cores: 2, Threads: 1, MemoryMB: 2048,
		DurationS:        2,
		WorkersPerCgroup: 2,
		Replicas:         1,
		AutoRepro:        On,
		Cgroups: []CgroupDef{
			{Name: "cg0", Workers: 2, Work: CpuSpin},
			{Name: "cg1", Workers: 2, Work: CpuSpin},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Spec{}.Resolved() =\n%+v\nwant\n%+v", got, want)
	}
	if got := (Spec{}).Topology(); got != (topology.Topology{Sockets: 1, Cores: 2, Threads: 1, MemoryMB: 2048}) {
		t.Errorf("Spec{}.Topology() = %+v, want 1s2c1t with 2048 MB", got)
	}
}

func TestSpecResolvedKeepsExplicitValues(t *testing.T) {
	spec := Spec{
		Sockets: 2, Cores: 4, Threads: 2, MemoryMB: 4096,
		DurationS:        7,
		WorkersPerCgroup: 3,
		TimeoutS:         99,
		ExpectErr:        true,
		ExpectErrMatch:   "gap",
		Verify:           Verify{MaxGapMs: 10, Isolation: On},
		KernelArgs:       []string{"nosmt"},
		Cgroups: []CgroupDef{
			{Name: "a"},
			{Name: "b", Workers: 5, Work: CpuSpin, Cpuset: "0-3", Affinity: "1"},
		},
	}
	got := spec.Resolved()
	want := spec
	want.Replicas = 1
	want.AutoRepro = Off // expect_err turns auto_repro off
	want.Cgroups = []CgroupDef{
		{Name: "a", Workers: 3, Work: CpuSpin},
		{Name: "b", Workers: 5, Work: CpuSpin, Cpuset: "0-3", Affinity: "1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Resolved() =\n%+v\nwant\n%+v", got, want)
	}

	// The resolved spec owns its cgroups: changing them leaves the
	// original alone.
	got.Cgroups[0].Name = "changed"
	if spec.Cgroups[0].Name != "a" || spec.Cgroups[0].Workers != 0 {
		t.Errorf("Resolved() aliased the caller's cgroups: %+v", spec.Cgroups[0])
	}

	// Resolving twice changes nothing.
	once := spec.Resolved()
	if twice := once.Resolved(); !reflect.DeepEqual(once, twice) {
		t.Errorf("Resolved() is not idempotent:\n%+v\n%+v", once, twice)
	}
}

// The watchdog default applies to every sched_ext scheduler: through its
// command line when it takes the timeout there, else through guest
// memory (the host monitor's override); never to EEVDF.
func TestSpecResolvedWatchdog(t *testing.T) {
	withArg := &Scheduler{Name: "w", Path: "/bin/w", WatchdogArg: "--timeout-ms=%d"}
	without := &Scheduler{Name: "n", Path: "/bin/n"}
	for _, tt := range []struct {
		spec Spec
		want int
	}{
		{Spec{}, 0},
		{Spec{Scheduler: without}, DefaultWatchdogTimeoutS},
		{Spec{Scheduler: without, WatchdogTimeoutS: 2}, 2},
		{Spec{Scheduler: withArg}, DefaultWatchdogTimeoutS},
		{Spec{Scheduler: withArg, WatchdogTimeoutS: 9}, 9},
	} {
		if got := tt.spec.Resolved().WatchdogTimeoutS; got != tt.want {
			t.Errorf("%+v: resolved watchdog_timeout_s = %d, want %d", tt.spec.Scheduler, got, tt.want)
		}
	}
	if got := withArg.Args(Profile{}, Spec{Scheduler: withArg}.Resolved().WatchdogTimeoutS, nil); strings.Join(got, " ") != "--timeout-ms=4000" {
		t.Errorf("scheduler args %q, want the default watchdog timeout in ms", got)
	}
}

func TestSpecResolvedPartialTopology(t *testing.T) {
	got := Spec{Sockets: 2, Threads: 2}.Resolved()
	if got.Sockets != 2 || got.Cores != 2 || got.Threads != 2 || got.MemoryMB != 2048 {
		t.Errorf("Resolved() topology = %ds%dc%dt %d MB, want 2s2c2t 2048 MB", got.Sockets, got.Cores, got.Threads, got.MemoryMB)
	}
}

func TestSpecValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
	}{
		{"zero spec", Spec{}},
		{"threads left to the default", Spec{Sockets: 1, Cores: 2, Threads: 0}},
		{"full spec", Spec{
			Sockets: 2, Cores: 2, Threads: 2, MemoryMB: 1024,
			MinSockets: 2, MinLLCs: 2, MinCPUs: 8, RequiresSMT: true,
			DurationS: 3, WorkersPerCgroup: 1, TimeoutS: 60,
			ExpectErr: true, ExpectErrMatch: `FAIL (gap|spread):`,
			Verify: Verify{MaxGapMs: 100, MaxSpreadPct: 100, Isolation: On, NotStarved: Off},
			Cgroups: []CgroupDef{
				{Name: "llc0", Cpuset: "0-3", Affinity: "0-1"},
				{Name: "llc_1", Workers: 4, Work: CpuSpin, Cpuset: "4-7"},
			},
		}},
		{"expect_err without a match", Spec{ExpectErr: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.spec.Validate("TestX"); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestSpecValidateRejects(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want []string // each must appear in the error
	}{
		{"negative cores", Spec{Cores: -1}, []string{"cores = -1: must be >= 0"}},
		{"negative sockets", Spec{Sockets: -1}, []string{"sockets = -1: must be >= 0", "topology:"}},
		{"negative threads", Spec{Threads: -2}, []string{"threads = -2: must be >= 0"}},
		{"negative memory", Spec{MemoryMB: -1}, []string{"memory_mb = -1: must be >= 0"}},
		{"negative duration", Spec{DurationS: -1}, []string{"duration_s = -1: must be >= 0"}},
		{"negative workers per cgroup", Spec{WorkersPerCgroup: -1}, []string{"workers_per_cgroup: must be >= 0"}},
		{"negative timeout", Spec{TimeoutS: -5}, []string{"timeout_s: must be >= 0"}},
		{"negative min cpus", Spec{MinCPUs: -1}, []string{"min_cpus = -1: must be >= 0", "constraints:"}},
		{"too many cpus", Spec{Sockets: 16, Cores: 16, Threads: 2}, []string{"topology:", "MaxCPUs"}},
		{
			"duplicate cgroup names",
			Spec{Cgroups: []CgroupDef{{Name: "a"}, {Name: "b"}, {Name: "a"}}},
			[]string{`cgroups[2].name: duplicate cgroup name "a"`},
		},
		{
			"cgroup name with a slash",
			Spec{Cgroups: []CgroupDef{{Name: "a/b"}}},
			[]string{`cgroups[0].name: "a/b" must be a non-empty name without '/'`},
		},
		{
			"cgroup name with a space",
			Spec{Cgroups: []CgroupDef{{Name: "ok"}, {Name: "my group"}}},
			[]string{`cgroups[1].name: "my group"`},
		},
		{
			"empty cgroup name",
			Spec{Cgroups: []CgroupDef{{Name: ""}}},
			[]string{`cgroups[0].name: "" must be a non-empty name`},
		},
		{
			"negative cgroup workers",
			Spec{Cgroups: []CgroupDef{{Name: "a", Workers: -1}}},
			[]string{"cgroups[0].workers: must be >= 0, got -1"},
		},
		{
			"cpuset outside the topology",
			Spec{Cgroups: []CgroupDef{{Name: "a", Cpuset: "0-9"}}},
			[]string{"cgroups[0].cpuset: 0-9 names CPUs outside the topology's 0-1"},
		},
		{
			"affinity outside the topology",
			Spec{Sockets: 2, Cgroups: []CgroupDef{{Name: "a"}, {Name: "b", Affinity: "3-4"}}},
			[]string{"cgroups[1].affinity: 3-4 names CPUs outside the topology's 0-3"},
		},
		{
			"bad cpulist",
			Spec{Cgroups: []CgroupDef{{Name: "a", Cpuset: "0-"}}},
			[]string{"cgroups[0].cpuset:", "invalid cpulist"},
		},
		{
			"bad affinity list",
			Spec{Cgroups: []CgroupDef{{Name: "a", Affinity: "x"}}},
			[]string{"cgroups[0].affinity:", "invalid cpulist"},
		},
		{
			"unknown work type",
			Spec{Cgroups: []CgroupDef{{Name: "a", Work: "Sleepy"}}},
			[]string{`cgroups[0].work: unknown work type "Sleepy"`, "CpuSpin"},
		},
		{
			"expect_err_match without expect_err",
			Spec{ExpectErrMatch: "gap"},
			[]string{"expect_err_match: set without expect_err = true"},
		},
		{
			"invalid expect_err_match",
			Spec{ExpectErr: true, ExpectErrMatch: "gap ("},
			[]string{"expect_err_match:", "missing closing )"},
		},
		{
			"negative max gap",
			Spec{Verify: Verify{MaxGapMs: -1}},
			[]string{"verify:", "max_gap_ms = -1"},
		},
		{
			"spread above 100",
			Spec{Verify: Verify{MaxSpreadPct: 101}},
			[]string{"verify:", "max_spread_pct = 101"},
		},
		{
			"real-time policy without a priority",
			Spec{Cgroups: []CgroupDef{{Name: "rt", Policy: PolicyFIFO}}},
			[]string{"cgroups[0].policy: policy fifo needs a priority from 1 to 99, got 0"},
		},
		{
			"priority for a fair policy",
			Spec{Cgroups: []CgroupDef{{Name: "b", Policy: PolicyBatch, Priority: 3}}},
			[]string{"cgroups[0].policy: policy batch takes no priority"},
		},
		{
			"unknown policy",
			Spec{Cgroups: []CgroupDef{{Name: "d", Policy: "deadline"}}},
			[]string{`unknown scheduling policy "deadline"`},
		},
		// Work types that run in groups.
		{
			"PipeIo pairs",
			Spec{Cgroups: []CgroupDef{{Name: "p", Work: PipeIo, Workers: 3}}},
			[]string{"cgroups[0].workers: work type PipeIo runs in groups of 2 workers, so the worker count must be a multiple of 2, got 3"},
		},
		{
			"FutexPingPong pairs",
			Spec{Cgroups: []CgroupDef{{Name: "f", Work: FutexPingPong, Workers: 1}}},
			[]string{"cgroups[0].workers: work type FutexPingPong runs in groups of 2", "got 1"},
		},
		{
			"CachePipe pairs",
			Spec{Cgroups: []CgroupDef{{Name: "c", Work: CachePipe, Workers: 5}}},
			[]string{"cgroups[0].workers: work type CachePipe runs in groups of 2", "got 5"},
		},
		{
			"FutexFanOut groups of 1+fan_out (default 4)",
			Spec{Cgroups: []CgroupDef{{Name: "f", Work: FutexFanOut, Workers: 4}}},
			[]string{"cgroups[0].workers: work type FutexFanOut runs in groups of 5", "multiple of 5, got 4"},
		},
		{
			"FutexFanOut groups of 1+fan_out",
			Spec{Cgroups: []CgroupDef{{Name: "f", Work: FutexFanOut, FanOut: 2, Workers: 4}}},
			[]string{"work type FutexFanOut runs in groups of 3", "got 4"},
		},
		{
			"Sequence without phases",
			Spec{Cgroups: []CgroupDef{{Name: "s", Work: Sequence}}},
			[]string{"cgroups[0].work: work type Sequence needs at least one phase"},
		},
		{
			"Sequence with a bad phase",
			Spec{Cgroups: []CgroupDef{{Name: "s", Work: Sequence, Phases: []Phase{{Kind: "nap", Ms: 5}, {Kind: PhaseSpin}}}}},
			[]string{`phases[0]: unknown phase kind "nap"`, "phases[1]: ms must be > 0, got 0"},
		},
		{
			"phases on another work type",
			Spec{Cgroups: []CgroupDef{{Name: "s", Phases: []Phase{{Kind: PhaseSpin, Ms: 5}}}}},
			[]string{"phases are for work type Sequence, not CpuSpin"},
		},
		{
			"negative work parameter",
			Spec{Cgroups: []CgroupDef{{Name: "c", Work: CachePressure, SizeKB: -1}}},
			[]string{"size_kb must be >= 0"},
		},
		// Nothing accepted without effect.
		{
			"extra_sched_args under EEVDF",
			Spec{ExtraSchedArgs: []string{"--fast"}},
			[]string{"extra_sched_args: the test runs EEVDF, which takes no arguments"},
		},
		{
			"watchdog_timeout_s under EEVDF",
			Spec{WatchdogTimeoutS: 8},
			[]string{"watchdog_timeout_s: the test runs EEVDF, which has no sched_ext watchdog"},
		},
		{
			"extra_sched_args for a builtin scheduler",
			Spec{Scheduler: &Scheduler{Name: "b", Builtin: &Builtin{Enable: [][]string{{"true"}}}}, ExtraSchedArgs: []string{"-x"}},
			[]string{"extra_sched_args: scheduler b is builtin", "Builtin.Enable"},
		},
		{
			"flags of a builtin scheduler",
			Spec{Scheduler: &Scheduler{Name: "b", Builtin: &Builtin{}, Flags: []Flag{{Name: "llc", Args: []string{"--llc"}}}}},
			[]string{"scheduler: ktstr: scheduler b:", "flags: a builtin scheduler takes no command line"},
		},
		{
			"sched_args, watchdog_arg and cgroup_parent of a builtin scheduler",
			Spec{Scheduler: &Scheduler{Name: "b", Builtin: &Builtin{}, SchedArgs: []string{"-v"}, WatchdogArg: "-t=%d", CgroupParent: "p"}},
			[]string{"sched_args: a builtin", "watchdog_arg: a builtin", "cgroup_parent: a builtin"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate("TestX/sub")
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "ktstr: test TestX/sub: invalid spec: ") {
				t.Errorf("error %q does not start by naming the test", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestSpecValidateReportsEveryProblem(t *testing.T) {
	spec := Spec{
		Cores:          -1,
		DurationS:      -2,
		ExpectErrMatch: "x",
		Cgroups:        []CgroupDef{{Name: "a/b", Work: "Nope"}},
	}
	err := spec.Validate("TestMany")
	if err == nil {
		t.Fatal("Validate() = nil, want an error")
	}
	for _, w := range []string{"cores = -1:", "duration_s = -2:", "expect_err_match:", "cgroups[0].name:", "cgroups[0].work:"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}
