package examples

import (
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr"
	"github.com/ktstr-go/ktstr/internal/hugepages"
	"github.com/ktstr-go/ktstr/runner/perfmode"
	"github.com/ktstr-go/ktstr/topology"
)

// perfMemoryMB is TestPerformanceMode's guest memory: 256 hugepages.
const perfMemoryMB = 512

// TestPerformanceMode runs a one-vCPU guest in performance mode: the
// smallest guest a two-CPU host can isolate (a host CPU for the vCPU, one
// for QEMU's other threads and the monitor). Each part must be applied
// exactly where this host can give it, and say why where it cannot: the
// expectations come from this host itself (hugepages this process could
// reserve, NUMA nodes sysfs shows, SCHED_FIFO tried on a thread of its
// own), and the applied parts are proven from QEMU's numa_maps and the
// threads' settings, not from what was asked.
func TestPerformanceMode(t *testing.T) {
	var reserved error
	if !ktstr.InGuest() {
		restore, err := hugepages.Ensure(perfMemoryMB * 1024 / perfmode.HugepageKB)
		t.Cleanup(restore)
		reserved = err
	}
	res := ktstr.Run(t, ktstr.Spec{
		Sockets: 1, Cores: 1, Threads: 1, MemoryMB: perfMemoryMB,
		PerformanceMode: true,
		DurationS:       2,
		Cgroups: []ktstr.CgroupDef{
			{Name: "a", Workers: 2, Work: ktstr.CpuSpin},
			{Name: "b", Workers: 2, Work: ktstr.YieldHeavy},
		},
	})
	if res == nil {
		return
	}
	host, err := perfmode.Current()
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Performance
	if rep == nil {
		t.Fatalf("no performance mode report in the result (err %v)", res.Err)
	}
	want := map[string]bool{
		perfmode.PartHugepages: reserved == nil,
		perfmode.PartNUMABind:  len(host.Nodes) > 0,
		perfmode.PartPinning:   true, // one vCPU: a thread of its own, even under single-threaded TCG
		perfmode.PartFIFO:      fifoAllowed(),
		perfmode.PartService:   true,
	}
	evidence := map[string]string{
		perfmode.PartHugepages: "pages of 2048 kB resident",
		perfmode.PartNUMABind:  "numa_maps: bind:",
		perfmode.PartPinning:   "vCPU i on host CPU",
		perfmode.PartFIFO:      "priority 1",
		perfmode.PartService:   "QEMU threads and the monitor on host CPUs",
	}
	for name, applied := range want {
		p, ok := rep.Part(name)
		switch {
		case !ok:
			t.Errorf("part %s missing from the report", name)
		case p.Applied != applied:
			t.Errorf("%s; want applied = %v here (hugepage reservation: %v)", p, applied, reserved)
		case applied && !strings.Contains(p.Detail, evidence[name]):
			t.Errorf("%s; want the evidence %q", p, evidence[name])
		case !applied && p.Detail == "":
			t.Errorf("part %s not applied and no reason given", name)
		}
	}
	service, err := topology.ParseCPUList(rep.ServiceCPUs)
	if err != nil || len(rep.VCPUCPUs) != 1 || service.Len() == 0 || service.Contains(rep.VCPUCPUs[0]) {
		t.Errorf("vCPU on host CPU %v, service CPUs %s: want them apart", rep.VCPUCPUs, rep.ServiceCPUs)
	}
}

// fifoAllowed reports whether this process may make a thread SCHED_FIFO,
// tried on a thread of its own, which then ends with its goroutine.
func fifoAllowed() bool {
	ok := make(chan bool)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread goes with the goroutine
		ok <- unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: perfmode.VCPUPrio}, 0) == nil
	}()
	return <-ok
}
