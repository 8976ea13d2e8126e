package scenario

import (
	"fmt"
	"strings"
	"time"

	"github.com/ktstr-go/ktstr/guest/workload"
	"github.com/ktstr-go/ktstr/topology"
)

// Settle is how long canned scenarios let a first step run before they
// change it.
const Settle = 500 * time.Millisecond

// Env is what a canned scenario is built for: the guest's topology, the
// test's duration and workers per cgroup.
type Env struct {
	Topo             Topo
	Duration         time.Duration
	WorkersPerCgroup int
}

// Canned is a ready-made scenario, used by name (Spec.Scenario).
type Canned struct {
	Name    string
	Summary string
	// WorkTypes are the work types it runs.
	WorkTypes []workload.WorkType
	// MaxSpreadPct, when set, is the spread limit the scenario needs (a
	// layer of the merge chain between the scheduler's and the test's).
	MaxSpreadPct float64
	// Build returns the steps for env, or why the topology cannot run it
	// (the test is then skipped, with that reason).
	Build func(env Env) (steps []Step, skip string)
}

// def is a cgroup of w default workers.
func def(name string) CgroupDef { return CgroupDef{Name: name} }

func cpusetDef(name string, c CpusetSpec) CgroupDef { return CgroupDef{Name: name, CpusetSpec: &c} }

// cannedScenarios is the catalogue, in the order of the docs.
var cannedScenarios = []Canned{
	{
		Name: "steady", Summary: "two cgroups of spinners for the whole duration",
		WorkTypes: []workload.WorkType{workload.CpuSpin},
		Build: func(Env) ([]Step, string) {
			return []Step{{Setup: []CgroupDef{def("cg_0"), def("cg_1")}, Hold: Full}}, ""
		},
	},
	{
		Name: "steady_llc", Summary: "two cgroups of spinners, each on its own LLC",
		WorkTypes: []workload.WorkType{workload.CpuSpin},
		Build: func(e Env) ([]Step, string) {
			if len(e.Topo.LLCs) < 2 {
				return nil, "needs at least 2 LLCs"
			}
			return []Step{{Setup: []CgroupDef{cpusetDef("cg_0", LLC(0)), cpusetDef("cg_1", LLC(1))}, Hold: Full}}, ""
		},
	},
	{
		Name: "oversubscribed", Summary: "two cgroups of 32 Mixed workers each: far more runnable tasks than CPUs",
		WorkTypes: []workload.WorkType{workload.Mixed},
		Build: func(Env) ([]Step, string) {
			cg := func(n string) CgroupDef { return CgroupDef{Name: n, Workers: 32, Work: workload.Mixed} }
			return []Step{{Setup: []CgroupDef{cg("cg_0"), cg("cg_1")}, Hold: Full}}, ""
		},
	},
	{
		Name: "cpuset_apply", Summary: "two cgroups run free, then get disjoint halves of the CPUs",
		WorkTypes: []workload.WorkType{workload.CpuSpin},
		Build: func(e Env) ([]Step, string) {
			if len(e.Topo.Usable()) < 2 {
				return nil, "needs at least 2 usable CPUs"
			}
			return []Step{
				{Setup: []CgroupDef{def("cg_0"), def("cg_1")}, Hold: Fixed(Settle + e.Duration/2)},
				{Ops: []Op{SetCpuset("cg_0", Disjoint(0, 2)), SetCpuset("cg_1", Disjoint(1, 2))}, Hold: Frac(0.5)},
			}, ""
		},
	},
	{
		Name: "cpuset_clear", Summary: "two cgroups on disjoint halves of the CPUs, then free",
		WorkTypes: []workload.WorkType{workload.CpuSpin},
		Build: func(e Env) ([]Step, string) {
			if len(e.Topo.Usable()) < 2 {
				return nil, "needs at least 2 usable CPUs"
			}
			return []Step{
				{Setup: []CgroupDef{cpusetDef("cg_0", Disjoint(0, 2)), cpusetDef("cg_1", Disjoint(1, 2))}, Hold: Fixed(Settle + e.Duration/2)},
				{Ops: []Op{ClearCpuset("cg_0"), ClearCpuset("cg_1")}, Hold: Frac(0.5)},
			}, ""
		},
	},
	{
		Name: "cpuset_resize", Summary: "two cgroups split the CPUs half and half, then a quarter and three quarters, then the reverse",
		WorkTypes: []workload.WorkType{workload.CpuSpin},
		Build: func(e Env) ([]Step, string) {
			if e.Topo.All.Len() < 4 {
				return nil, "needs at least 4 CPUs"
			}
			return []Step{
				{Setup: []CgroupDef{cpusetDef("cg_0", Range(0, 0.5)), cpusetDef("cg_1", Range(0.5, 1))}, Hold: Fixed(Settle + e.Duration/3)},
				{Ops: []Op{SetCpuset("cg_0", Range(0, 0.25)), SetCpuset("cg_1", Range(0.25, 1))}, Hold: Frac(1.0 / 3)},
				{Ops: []Op{SetCpuset("cg_0", Range(0, 0.75)), SetCpuset("cg_1", Range(0.75, 1))}, Hold: Frac(1.0 / 3)},
			}, ""
		},
	},
	{
		Name: "cgroup_add", Summary: "two cgroups run, then one or two more join",
		WorkTypes: []workload.WorkType{workload.CpuSpin},
		Build: func(e Env) ([]Step, string) {
			n := min(max(e.Topo.All.Len()-3, 0), 2)
			if n == 0 {
				return nil, "needs at least 4 CPUs"
			}
			added := []CgroupDef{def("cg_2")}
			if n == 2 {
				added = append(added, def("cg_3"))
			}
			return []Step{
				{Setup: []CgroupDef{def("cg_0"), def("cg_1")}, Hold: Fixed(Settle + e.Duration/2)},
				{Setup: added, Hold: Frac(0.5)},
			}, ""
		},
	},
	{
		Name: "cgroup_remove", Summary: "up to four cgroups run, then the second half is stopped and removed",
		WorkTypes: []workload.WorkType{workload.CpuSpin},
		Build: func(e Env) ([]Step, string) {
			n := min(4, e.Topo.All.Len()-1)
			if n < 2 {
				return nil, "needs at least 3 CPUs"
			}
			var defs []CgroupDef
			var ops []Op
			for i := range n {
				defs = append(defs, def(fmt.Sprintf("cg_%d", i)))
				if i >= n/2 {
					ops = append(ops, StopCgroup(fmt.Sprintf("cg_%d", i)), RemoveCgroup(fmt.Sprintf("cg_%d", i)))
				}
			}
			return []Step{{Setup: defs, Hold: Fixed(Settle + e.Duration/2)}, {Ops: ops, Hold: Frac(0.5)}}, ""
		},
	},
	{
		Name: "affinity_change", Summary: "two cgroups whose workers get a new random half of the CPUs four times",
		WorkTypes: []workload.WorkType{workload.CpuSpin},
		Build: func(e Env) ([]Step, string) {
			steps := []Step{{Setup: []CgroupDef{def("cg_0"), def("cg_1")}, Hold: Fixed(Settle + e.Duration/5)}}
			for range 4 {
				steps = append(steps, Step{Ops: []Op{SetAffinity("cg_0", RandomSubset), SetAffinity("cg_1", RandomSubset)}, Hold: Frac(0.2)})
			}
			return steps, ""
		},
	},
	{
		Name: "affinity_pinned", Summary: "two cgroups whose workers are all pinned to the first two CPUs",
		WorkTypes:    []workload.WorkType{workload.CpuSpin},
		MaxSpreadPct: 75,
		Build: func(e Env) ([]Step, string) {
			all := e.Topo.All.Slice()
			cpus := topology.NewCPUSet(all[:min(2, len(all))]...).String()
			return []Step{
				{Setup: []CgroupDef{def("cg_0"), def("cg_1")}, Hold: Fixed(Settle)},
				{Ops: []Op{SetAffinity("cg_0", ExactAffinity(cpus)), SetAffinity("cg_1", ExactAffinity(cpus))}, Hold: Fixed(e.Duration)},
			}, ""
		},
	},
	{
		Name: "host_contention", Summary: "a spinner per CPU outside the test's cgroups competes with two cgroups",
		WorkTypes: []workload.WorkType{workload.CpuSpin},
		// The host spinners, one per CPU, share CPUs with cgroup
		// entities unevenly placed: their off-CPU times spread wider
		// than one cgroup's (38% under EEVDF and TCG in a CI run).
		MaxSpreadPct: 50,
		Build: func(e Env) ([]Step, string) {
			return []Step{{
				Ops:   []Op{SpawnHost(Work{Workers: e.Topo.All.Len()})},
				Setup: []CgroupDef{def("cg_0"), def("cg_1")},
				Hold:  Fixed(Settle + e.Duration),
			}}, ""
		},
	},
	{
		Name: "mixed_workloads", Summary: "spinners, bursty sleepers and I/O workers side by side",
		WorkTypes: []workload.WorkType{workload.CpuSpin, workload.Bursty, workload.IoSync},
		Build: func(e Env) ([]Step, string) {
			return []Step{{Setup: []CgroupDef{
				{Name: "cg_0", Workers: 8},
				{Name: "cg_1", Work: workload.Bursty, BurstMs: 100, SleepMs: 50},
				{Name: "cg_2", Work: workload.IoSync},
			}, Hold: Fixed(Settle + e.Duration)}}, ""
		},
	},
	{
		Name: "nested_steady", Summary: "spinners in a two- and three-level cgroup hierarchy",
		WorkTypes: []workload.WorkType{workload.CpuSpin},
		Build: func(e Env) ([]Step, string) {
			return []Step{{
				Ops:   []Op{AddCgroup("cg_0"), AddCgroup("cg_1"), AddCgroup("cg_1/sub_a")},
				Setup: []CgroupDef{def("cg_0/sub_a"), def("cg_0/sub_b"), def("cg_1/sub_b"), def("cg_1/sub_a/deep")},
				Hold:  Fixed(2*time.Second + e.Duration),
			}}, ""
		},
	},
	{
		Name: "nested_task_move", Summary: "spinners moved up, across and down a cgroup hierarchy",
		WorkTypes: []workload.WorkType{workload.CpuSpin},
		Build: func(e Env) ([]Step, string) {
			return []Step{
				{Ops: []Op{AddCgroup("cg_0"), AddCgroup("cg_1"), AddCgroup("cg_1/sub")}, Setup: []CgroupDef{def("cg_0/sub")}, Hold: Fixed(2*time.Second + e.Duration/4)},
				{Ops: []Op{MoveAllTasks("cg_0/sub", "cg_0")}, Hold: Frac(0.25)},
				{Ops: []Op{MoveAllTasks("cg_0", "cg_1/sub")}, Hold: Frac(0.25)},
				{Ops: []Op{MoveAllTasks("cg_1/sub", "cg_1")}, Hold: Frac(0.25)},
			}, ""
		},
	},
}

// Scenarios lists the canned scenarios, in the order of the docs.
func Scenarios() []Canned { return append([]Canned(nil), cannedScenarios...) }

// Lookup finds a canned scenario by name.
func Lookup(name string) (Canned, error) {
	var names []string
	for _, c := range cannedScenarios {
		if c.Name == name {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return Canned{}, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(names, ", "))
}

// Markdown renders the catalogue as a table for the docs.
func Markdown() []byte {
	var b strings.Builder
	b.WriteString("| Scenario | What it does | Work types |\n|---|---|---|\n")
	for _, c := range cannedScenarios {
		var ws []string
		for _, w := range c.WorkTypes {
			ws = append(ws, "`"+string(w)+"`")
		}
		summary := c.Summary
		if c.MaxSpreadPct > 0 {
			summary += fmt.Sprintf(" (spread limit %g%%)", c.MaxSpreadPct)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.Name, summary, strings.Join(ws, ", "))
	}
	return []byte(b.String())
}
