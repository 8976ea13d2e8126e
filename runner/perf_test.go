package runner

import (
	"errors"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/internal/hugepages"
	"github.com/ktstr-go/ktstr/runner/perfmode"
	"github.com/ktstr-go/ktstr/topology"
)

// fakeHost is a host of one LLC group and NUMA node with cpus CPUs.
func fakeHost(cpus, freeHuge int) *perfmode.Host {
	all := topology.MustParseCPUList("0-" + topology.NewCPUSet(cpus-1).String())
	return &perfmode.Host{CPUs: all, LLCs: []topology.CPUSet{all}, Nodes: []perfmode.Node{{ID: 0, CPUs: all, FreeHugepages: freeHuge}},
		Clocksource: "tsc", ConstantTSC: true, NonstopTSC: true, RT: true}
}

func TestPlanPerformanceRefusesATooSmallHost(t *testing.T) {
	_, err := PlanPerformance(Config{Topology: topology.Topology{Sockets: 1, Cores: 2, Threads: 1}, PerfHost: fakeHost(2, 0)})
	var be *BootError
	if !errors.As(err, &be) || be.Kind != FailPerfMode || !errors.Is(err, perfmode.ErrUnavailable) {
		t.Fatalf("err = %v; want a %s *BootError wrapping perfmode.ErrUnavailable", err, FailPerfMode)
	}
	if !strings.Contains(err.Error(), "one more for QEMU's own threads") {
		t.Errorf("err %q does not say why", err)
	}
}

// The memory backends of performance mode, as QEMU gets them: real
// memfds, pre-allocated hugepages when the plan has them, each node
// bound to its host node.
func TestQEMUArgsPerformanceMemory(t *testing.T) {
	topo := topology.Topology{Sockets: 2, Cores: 1, Threads: 1, MemoryMB: 8}
	h := fakeHost(4, 0)
	h.LLCs = []topology.CPUSet{topology.MustParseCPUList("0-1"), topology.MustParseCPUList("2-3")}
	h.Nodes = []perfmode.Node{{ID: 0, CPUs: h.LLCs[0]}, {ID: 1, CPUs: h.LLCs[1]}}
	p, err := PlanPerformance(Config{Topology: topo, PerfHost: h})
	if err != nil {
		t.Fatal(err)
	}
	if p.Hugepages {
		t.Fatalf("hugepages planned without free ones: %+v", p)
	}
	vm := &VM{}
	backends, err := vm.memorySetup(topo, p)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.mem.Close()
	args := QEMUArgs(Config{Kernel: "/k", Topology: topo}, Plan{Accel: AccelTCG, TCG: TCGSingle, MemBackends: backends})
	joined := strings.Join(args, " ")
	for k, node := range []string{"0", "1"} {
		want := "memory-backend-file,id=ktstr-mem" + node + ",size=4M,mem-path=/proc/self/fd/" + string(rune('3'+k)) + ",share=on,host-nodes=" + node + ",policy=bind"
		if !strings.Contains(joined, want) {
			t.Errorf("args lack %q:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "prealloc") || strings.Contains(joined, "memory-backend-ram") {
		t.Errorf("regular pages are neither pre-allocated nor left to memory-backend-ram:\n%s", joined)
	}

	// With hugepages planned but none to be had, the memfds fall back to
	// regular pages and the plan says why.
	p.Hugepages = true
	vm2 := &VM{}
	free, _ := hugepages.Free()
	if free >= 4 {
		t.Logf("%d hugepages free here: the fallback is not exercised", free)
		p.Hugepages = false
	}
	b2, err := vm2.memorySetup(topo, p)
	if err != nil {
		t.Fatal(err)
	}
	defer vm2.mem.Close()
	if p.Hugepages || !strings.Contains(p.HugepagesWhy, "regular pages") || strings.Contains(b2["ktstr-mem0"], "prealloc") {
		t.Errorf("fallback: hugepages %v (%s), backend %q", p.Hugepages, p.HugepagesWhy, b2["ktstr-mem0"])
	}
}

// vcpuThreads: the thread of each vCPU by index, however QMP orders
// them, 0 for a vCPU it did not report, and as long as asked at least.
func TestVCPUThreads(t *testing.T) {
	out := &Outcome{VCPUs: []VCPU{{Index: 2, ThreadID: 12}, {Index: 0, ThreadID: 10}}}
	if got := out.vcpuThreads(4); len(got) != 4 || got[0] != 10 || got[1] != 0 || got[2] != 12 || got[3] != 0 {
		t.Errorf("vcpuThreads(4) = %v, want [10 0 12 0]", got)
	}
	if got := out.vcpuThreads(0); len(got) != 3 || got[2] != 12 {
		t.Errorf("vcpuThreads(0) = %v, want [10 0 12]", got)
	}
}
