package ktstr

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/topology"
	"github.com/ktstr-go/ktstr/verify"
)

// specExample is the guide's example: flags llc, borrow, steal (requires llc).
var specExample = Scheduler{
	Name: "example",
	Path: "/bin/true",
	Flags: []Flag{
		{Name: "llc", Args: []string{"--llc"}},
		{Name: "borrow", Args: []string{"--borrow"}},
		{Name: "steal", Args: []string{"--steal"}, Requires: []string{"llc"}},
	},
}

func profileNames(ps []Profile) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name())
	}
	return out
}

func TestProfilesSpecExample(t *testing.T) {
	ps, err := specExample.Profiles([]string{"llc"}, []string{"borrow"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := profileNames(ps), []string{"llc", "llc+steal"}; !reflect.DeepEqual(got, want) {
		t.Errorf("profiles = %v, want %v", got, want)
	}
}

func TestProfilesAll(t *testing.T) {
	ps, err := specExample.Profiles(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// steal without llc is dropped: 8 subsets minus {steal}, {borrow,steal}.
	want := []string{"default", "borrow", "llc", "borrow+llc", "llc+steal", "borrow+llc+steal"}
	if got := profileNames(ps); !reflect.DeepEqual(got, want) {
		t.Errorf("profiles = %v, want %v", got, want)
	}
}

func TestProfilesErrors(t *testing.T) {
	for _, tt := range []struct {
		name               string
		required, excluded []string
		want               string
	}{
		{"unknown required", []string{"nope"}, nil, `required_flags: unknown flag "nope"`},
		{"unknown excluded", nil, []string{"nah"}, `excluded_flags: unknown flag "nah"`},
		{"both", []string{"llc"}, []string{"llc"}, `flag "llc" is both required and excluded`},
		{"requirement excluded", []string{"steal"}, []string{"llc"}, "no flag profile satisfies"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := specExample.Profiles(tt.required, tt.excluded)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestProfileArgs(t *testing.T) {
	sc := specExample
	sc.SchedArgs = []string{"-v"}
	sc.WatchdogArg = "--timeout-ms=%d"
	sc.CgroupParent = "ktstr.slice"
	got := sc.Args(Profile{Flags: []string{"llc", "steal"}}, 4, []string{"--extra"})
	want := []string{"-v", "--llc", "--steal", "--timeout-ms=4000", "--cgroup-parent", "/ktstr.slice", "--extra"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Args = %q, want %q", got, want)
	}
	if (Profile{}).Name() != "default" {
		t.Errorf("empty profile name = %q", Profile{}.Name())
	}
}

func TestSchedulerValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    Scheduler
		want string
	}{
		{"unknown requires", Scheduler{Name: "s", Flags: []Flag{{Name: "a", Requires: []string{"b"}}}}, `flags.a.requires: unknown flag "b"`},
		{"self requires", Scheduler{Name: "s", Flags: []Flag{{Name: "a", Requires: []string{"a"}}}}, "cannot require itself"},
		{"duplicate flag", Scheduler{Name: "s", Flags: []Flag{{Name: "a"}, {Name: "a"}}}, `duplicate flag "a"`},
		{"flag with plus", Scheduler{Name: "s", Flags: []Flag{{Name: "a+b"}}}, "flags[0].name"},
		{"no name", Scheduler{}, "name"},
		{"two binaries", Scheduler{Name: "s", Path: "/x", GoPackage: "y"}, "only one of"},
		{"watchdog arg", Scheduler{Name: "s", WatchdogArg: "--t"}, "watchdog_arg"},
		{"bazel label", Scheduler{Name: "s", Path: "/x", Bazel: "scx_simple"}, "bazel"},
		{"bazel for a builtin", Scheduler{Name: "s", Bazel: "//x", Builtin: &Builtin{Enable: [][]string{{"true"}}}}, "bazel"},
		{"negative cores", Scheduler{Name: "s", Cores: -1}, "cores"},
		{"bad verify", Scheduler{Name: "s", Verify: Verify{MaxSpreadPct: 200}}, "max_spread_pct"},
		{"absolute cgroup parent", Scheduler{Name: "s", CgroupParent: "/a"}, "cgroup_parent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if err := specExample.Validate(); err != nil {
		t.Errorf("valid scheduler: %v", err)
	}
}

func TestTopologyInheritancePerDimension(t *testing.T) {
	sc := &Scheduler{Name: "s", Path: "/bin/true", Sockets: 2, Cores: 4, Threads: 2}
	for _, tt := range []struct {
		name string
		spec Spec
		want topology.Topology
	}{
		{"all from scheduler", Spec{Scheduler: sc}, topology.Topology{Sockets: 2, Cores: 4, Threads: 2, MemoryMB: 2048}},
		{"cores from test", Spec{Scheduler: sc, Cores: 8}, topology.Topology{Sockets: 2, Cores: 8, Threads: 2, MemoryMB: 2048}},
		{"sockets and threads from test", Spec{Scheduler: sc, Sockets: 1, Threads: 1}, topology.Topology{Sockets: 1, Cores: 4, Threads: 1, MemoryMB: 2048}},
		{"scheduler without topology", Spec{Scheduler: &Scheduler{Name: "n", Cores: 3}}, topology.Topology{Sockets: 1, Cores: 3, Threads: 1, MemoryMB: 2048}},
		{"no scheduler", Spec{Threads: 2}, topology.Topology{Sockets: 1, Cores: 2, Threads: 2, MemoryMB: 2048}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.spec.Topology(); got != tt.want {
				t.Errorf("Topology() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMergeChain(t *testing.T) {
	sc := &Scheduler{Name: "s", Path: "/bin/true", Verify: Verify{MaxGapMs: 5000, MaxImbalanceRatio: 6, FailOnStall: Off}}
	spec := Spec{Scheduler: sc, Verify: Verify{MaxGapMs: 700, NotStarved: Off}}
	got := spec.Thresholds(verify.Env{})
	if got.MaxGapMs != 700 {
		t.Errorf("max_gap_ms = %v: the test's value must win over the scheduler's", got.MaxGapMs)
	}
	if got.MaxImbalanceRatio != 6 || got.FailOnStall != Off {
		t.Errorf("scheduler layer lost: imbalance %v fail_on_stall %v", got.MaxImbalanceRatio, got.FailOnStall)
	}
	if got.NotStarved != Off {
		t.Errorf("not_starved = %v, want off from the test", got.NotStarved)
	}
	if got.MaxSpreadPct != verify.DefaultMaxSpreadPct || got.MaxLocalDSQDepth != verify.DefaultMaxLocalDSQDepth {
		t.Errorf("defaults lost: spread %v dsq depth %v", got.MaxSpreadPct, got.MaxLocalDSQDepth)
	}
	// EEVDF gets no default imbalance limit (it balances cgroup weight,
	// not task counts); a test's own limit stands.
	if eevdf := (Spec{}).Thresholds(verify.Env{}); eevdf.MaxImbalanceRatio != 0 {
		t.Errorf("EEVDF default imbalance limit %v, want none", eevdf.MaxImbalanceRatio)
	}
	if own := (Spec{Verify: Verify{MaxImbalanceRatio: 3}}).Thresholds(verify.Env{}); own.MaxImbalanceRatio != 3 {
		t.Errorf("EEVDF with its own limit: %v, want 3", own.MaxImbalanceRatio)
	}
	if scx := (Spec{Scheduler: &Scheduler{Name: "s", Path: "/bin/true"}}).Thresholds(verify.Env{}); scx.MaxImbalanceRatio != verify.DefaultMaxImbalanceRatio {
		t.Errorf("sched_ext default imbalance limit %v, want %v", scx.MaxImbalanceRatio, verify.DefaultMaxImbalanceRatio)
	}
	if relaxed := (Spec{}).Thresholds(verify.Env{Emulated: true}); relaxed.MaxGapMs != verify.RelaxedMaxGapMs {
		t.Errorf("emulated default gap = %v, want relaxed %v", relaxed.MaxGapMs, verify.RelaxedMaxGapMs)
	}
}

func TestSpecValidateSchedulerAttributes(t *testing.T) {
	sc := &specExample
	for _, tt := range []struct {
		name string
		spec Spec
		want string
	}{
		{"unknown required flag", Spec{Scheduler: sc, RequiredFlags: []string{"turbo"}}, `unknown flag "turbo"`},
		{"required and excluded", Spec{Scheduler: sc, RequiredFlags: []string{"llc"}, ExcludedFlags: []string{"llc"}}, "both required and excluded"},
		{"flags without scheduler", Spec{RequiredFlags: []string{"llc"}}, "need a scheduler"},
		{"map write on eevdf", Spec{BpfMapWrite: &BpfMapWrite{Map: "m"}}, "bpf_map_write"},
		{"map write without map", Spec{Scheduler: sc, BpfMapWrite: &BpfMapWrite{}}, "bpf_map_write.map"},
		{"negative watchdog", Spec{WatchdogTimeoutS: -1}, "watchdog_timeout_s"},
		{"negative replicas", Spec{Replicas: -2}, "replicas"},
		{"bursty with a negative burst", Spec{Cgroups: []CgroupDef{{Name: "b", Work: Bursty, BurstMs: -1}}}, "burst_ms must be >= 0"},
		{"bad scheduler", Spec{Scheduler: &Scheduler{Name: "x", Flags: []Flag{{Name: "a", Requires: []string{"zz"}}}}}, "scheduler"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate("TestX")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "TestX") {
				t.Errorf("Validate = %v, want it to name TestX and contain %q", err, tt.want)
			}
		})
	}
	ok := Spec{Scheduler: sc, RequiredFlags: []string{"llc"}, BpfMapWrite: &BpfMapWrite{Map: "ktstr_ctl", Value: 1},
		Cgroups: []CgroupDef{{Name: "b", Work: Bursty, BurstMs: 1, SleepMs: 1}}}
	if err := ok.Validate("TestOK"); err != nil {
		t.Errorf("valid spec: %v", err)
	}
}
