package examples

import (
	"slices"
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestTopology boots 2 sockets x 2 cores x 2 threads and checks that the
// guest kernel sees exactly that: 8 CPUs, one LLC and one NUMA node per
// socket, and SMT sibling pairs. The expectations come from the topology
// the run used (the spec's, or a gauntlet preset's), so changing the three
// numbers changes both the VM and what the test expects of it.
func TestTopology(t *testing.T) {
	spec := ktstr.Spec{
		Sockets: 2, Cores: 2, Threads: 2,
		DurationS: 1,
		Cgroups:   []ktstr.CgroupDef{{Name: "probe", Workers: 1}},
	}
	res := ktstr.Run(t, spec)
	if !res.Passed() {
		return // Run has already failed the test, with the reason
	}
	topo := res.Spec.Topology()
	g := res.Guest
	t.Logf("guest view: %d CPUs, LLCs %v, NUMA nodes %v, SMT siblings %v, packages %v, %d MiB",
		g.CPUs, g.LLCs, g.NUMANodes, g.SMTSiblings, g.Packages, g.MemoryMB)

	var llcs, smt []string
	for s := range topo.LLCs() {
		llcs = append(llcs, topo.LLCCPUs(s).String())
	}
	for cpu := 0; cpu < topo.CPUs(); cpu += topo.Threads {
		smt = append(smt, topo.Siblings(cpu).String())
	}
	if g.CPUs != topo.CPUs() {
		t.Errorf("guest sees %d CPUs, want %d (%s)", g.CPUs, topo.CPUs(), topo)
	}
	if !slices.Equal(g.LLCs, llcs) {
		t.Errorf("guest LLCs %v, want %v", g.LLCs, llcs)
	}
	if !slices.Equal(g.NUMANodes, llcs) {
		t.Errorf("guest NUMA nodes %v, want one per socket: %v", g.NUMANodes, llcs)
	}
	if !slices.Equal(g.Packages, llcs) {
		t.Errorf("guest packages %v, want %v", g.Packages, llcs)
	}
	if !slices.Equal(g.SMTSiblings, smt) {
		t.Errorf("guest SMT siblings %v, want %v", g.SMTSiblings, smt)
	}
}
