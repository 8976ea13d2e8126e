package scenario

import (
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/topology"
)

func topo(s string) Topo {
	t, err := topology.Parse(s)
	if err != nil {
		panic(err)
	}
	return TopoOf(t)
}

func TestCpusetResolve(t *testing.T) {
	for _, tt := range []struct {
		topo    string
		spec    CpusetSpec
		want    string
		wantErr string
	}{
		// tiny-2llc: 4 CPUs, 2 LLCs; usable 0-2 (CPU 3 left to root).
		{"2s2c1t", LLC(0), "0-1", ""},
		{"2s2c1t", LLC(1), "2-3", ""},
		{"2s2c1t", LLC(2), "", "the guest has 2 LLCs"},
		{"2s2c1t", Range(0, 0.5), "0", ""},
		{"2s2c1t", Range(0.5, 1), "1-2", ""},
		{"2s2c1t", Disjoint(0, 2), "0", ""},
		{"2s2c1t", Disjoint(1, 2), "1-2", ""},
		{"2s2c1t", Disjoint(0, 4), "", "needs at least 4 usable CPUs, the guest has 3"},
		{"2s2c1t", Exact("1,3"), "1,3", ""},
		{"2s2c1t", Exact("7"), "", "outside the guest's 0-3"},
		// odd-3llc: 9 CPUs, LLCs 0-2 3-5 6-8; usable 0-7.
		{"3s3c1t", LLC(2), "6-8", ""},
		{"3s3c1t", Disjoint(0, 2), "0-3", ""},
		{"3s3c1t", Disjoint(1, 2), "4-7", ""},
		{"3s3c1t", Disjoint(2, 3), "4-7", ""},
		{"3s3c1t", Overlap(0, 2, 0.5), "0-5", ""},
		{"3s3c1t", Overlap(1, 2, 0.5), "2-7", ""},
		{"3s3c1t", Range(0.25, 0.75), "2-5", ""},
		// Two CPUs: both usable.
		{"1s2c1t", Disjoint(1, 2), "1", ""},
		// Bad specs.
		{"1s2c1t", Range(0.5, 0.5), "", "want 0 <= from < to <= 1"},
		{"1s2c1t", Disjoint(2, 2), "", "want 0 <= index < of"},
		{"1s2c1t", Exact("x"), "", "not a cpulist"},
	} {
		got, err := tt.spec.Resolve(topo(tt.topo))
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s on %s: %v, %v; want an error with %q", tt.spec, tt.topo, got, err, tt.wantErr)
			}
		case err != nil || got.String() != tt.want:
			t.Errorf("%s on %s = %v, %v; want %s", tt.spec, tt.topo, got, err, tt.want)
		}
	}
}

func TestAffinityResolve(t *testing.T) {
	tp := topo("2s2c1t")
	first := func(from []int, n int) []int { return from[:n] }
	pool := topology.MustParseCPUList("1-3")
	for _, tt := range []struct {
		a    Affinity
		pool topology.CPUSet
		want string
	}{
		{Inherit, pool, ""},
		{RandomSubset, pool, "1"},
		{RandomSubset, topology.CPUSet{}, "0-1"},
		{LLCAligned, pool, "2-3"},
		{CrossCgroup, pool, "0-3"},
		{SingleCPU, pool, "1"},
		{ExactAffinity("0-1"), pool, "1"},
		{ExactAffinity("0"), pool, ""},
	} {
		got, err := tt.a.Resolve(tp, tt.pool, first)
		if err != nil || got.String() != tt.want {
			t.Errorf("%v in %v = %v, %v; want %q", tt.a, tt.pool, got, err, tt.want)
		}
	}
}

func TestValidateSteps(t *testing.T) {
	good := []Step{
		{Setup: []CgroupDef{{Name: "a", CpusetSpec: &CpusetSpec{Kind: CpusetLLC}}, {Name: "a/b"}}, Hold: Frac(0.5)},
		{Ops: []Op{SwapCpusets("a", "c"), SpawnHost(Work{Workers: 1}), MoveAllTasks("a/b", "a")}, Hold: Fixed(1)},
	}
	if err := Validate(good); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
	bad := []Step{
		{Setup: []CgroupDef{{Name: "a/../b"}}, Hold: HoldSpec{}},
		{Ops: []Op{{Kind: "teleport", Cgroup: "a"}, SetCpuset("a", Disjoint(3, 2)), Spawn("a", Work{Type: "PipeIo", Workers: 3}), {Kind: OpSpawn, Cgroup: "a"}}, Hold: Frac(1)},
	}
	err := Validate(bad)
	for _, want := range []string{
		`steps[0].setup[0]: cgroup name "a/../b"`,
		"steps[0]: hold: give exactly one of Frac, Fixed and Loop",
		`steps[1].ops[0] (teleport): unknown op "teleport"`,
		"steps[1].ops[1] (set_cpuset): disjoint(3 of 2): want 0 <= index < of",
		"steps[1].ops[2] (spawn): work type PipeIo runs in groups of 2",
		"steps[1].ops[3] (spawn): no work",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(bad) = %v; want it to contain %q", err, want)
		}
	}
}
