package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/runner/perfmode"
	"github.com/ktstr-go/ktstr/topology"
)

// PlanPerformance plans performance mode for cfg's topology on this host
// (cfg.PerfHost, else the machine): a host that cannot give the topology
// what performance mode promises is a *BootError of kind FailPerfMode
// wrapping a *perfmode.UnavailableError. [Start] calls it; a caller may
// too, to learn that before it prepares a run.
func PlanPerformance(cfg Config) (*perfmode.Plan, error) {
	h := cfg.PerfHost
	if h == nil {
		cur, err := perfmode.Current()
		if err != nil {
			return nil, &BootError{Kind: FailPerfMode, Detail: "reading the host for performance mode", Err: err}
		}
		h = &cur
	}
	p, err := perfmode.NewPlan(*h, cfg.Topology, cfg.Topology.NodeMemoryMB())
	if err != nil {
		return nil, &BootError{Kind: FailPerfMode, Detail: "the host cannot give this VM performance mode", Err: err}
	}
	return p, nil
}

// perfApply applies the parts of performance mode that need QEMU's
// threads, once QEMU runs paused: each vCPU thread pinned to its host
// CPU and made SCHED_FIFO, QEMU's other threads kept on the service
// CPUs; and it reads back, from QEMU's numa_maps, how the guest's memory
// really is backed. The report says what applied and why not.
func (vm *VM) perfApply(p *perfmode.Plan) *perfmode.Report {
	rep := &perfmode.Report{Warnings: p.Warnings, VCPUCPUs: p.VCPUCPUs, ServiceCPUs: p.Service.String()}
	pid := vm.out.QEMUPID
	tids := vm.out.vcpuThreads(vm.cfg.Topology.CPUs())
	rep.Parts = append(rep.Parts, memoryParts(p, pid, vm.mem != nil)...)

	own, why := perfmode.ThreadsPinnable(tids)
	pinned := false
	switch {
	case !own:
		rep.Parts = append(rep.Parts,
			perfmode.Part{Name: perfmode.PartPinning, Detail: why},
			perfmode.Part{Name: perfmode.PartFIFO, Detail: "it needs vCPUs pinned to host CPUs of their own: " + why})
	default:
		var errs []string
		for i, tid := range tids {
			if err := setAffinity(tid, topology.NewCPUSet(p.VCPUCPUs[i])); err != nil {
				errs = append(errs, fmt.Sprintf("vCPU %d (thread %d): %v", i, tid, err))
			}
		}
		if len(errs) > 0 {
			rep.Parts = append(rep.Parts, perfmode.Part{Name: perfmode.PartPinning, Detail: strings.Join(errs, "; ")})
		} else {
			pinned = true
			rep.Parts = append(rep.Parts, perfmode.Part{Name: perfmode.PartPinning, Applied: true,
				Detail: fmt.Sprintf("vCPU i on host CPU %v (guest LLCs on host LLC groups %s)", p.VCPUCPUs, perfmode.JoinSets(p.HostLLCs))})
		}
		rep.Parts = append(rep.Parts, fifoPart(p, tids, pinned))
	}
	rep.Parts = append(rep.Parts, servicePart(p, pid, tids))
	return rep
}

// memoryParts report hugepages and NUMA binding as QEMU's numa_maps shows
// them: what was asked for is not proof that it happened.
func memoryParts(p *perfmode.Plan, pid int, shared bool) []perfmode.Part {
	huge := perfmode.Part{Name: perfmode.PartHugepages, Detail: p.HugepagesWhy}
	bind := perfmode.Part{Name: perfmode.PartNUMABind, Detail: p.BindWhy}
	if !shared {
		huge.Detail, bind.Detail = "the guest's memory could not be set up as shared memfds", "the guest's memory could not be set up as shared memfds"
		return []perfmode.Part{huge, bind}
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "numa_maps"))
	var maps []perfmode.Mapping
	if err == nil {
		maps, err = perfmode.ParseNumaMaps(string(b))
	}
	var hugeSeen, bindSeen []string
	hugeOK, bindOK := p.Hugepages, p.MemNodes != nil
	for k := range p.Topology.NUMANodes() {
		id := topology.NodeMemoryID(k)
		ms := perfmode.Find(maps, "ktstr-guest-"+id)
		if err != nil || len(ms) == 0 {
			why := fmt.Sprintf("QEMU's numa_maps shows no mapping of %s", id)
			if err != nil {
				why = fmt.Sprintf("reading QEMU's numa_maps: %v", err)
			}
			if hugeOK {
				hugeOK, huge.Detail = false, "asked for, but "+why
			}
			if bindOK {
				bindOK, bind.Detail = false, "asked for, but "+why
			}
			continue
		}
		m := ms[0]
		if p.Hugepages {
			if !m.Huge || m.PageKB != perfmode.HugepageKB {
				hugeOK, huge.Detail = false, fmt.Sprintf("asked for, but QEMU maps %s with %d kB pages", id, m.PageKB)
			} else {
				hugeSeen = append(hugeSeen, fmt.Sprintf("%s: %d of %d pages of %d kB resident (pre-allocated)", id, m.Total(), p.NodeMemoryMB[k]*1024/perfmode.HugepageKB, m.PageKB))
			}
		}
		if p.MemNodes != nil {
			want := fmt.Sprintf("bind:%d", p.MemNodes[k])
			if m.Policy != want {
				bindOK, bind.Detail = false, fmt.Sprintf("asked for %s, but QEMU's numa_maps shows %s for %s", want, m.Policy, id)
			} else {
				bindSeen = append(bindSeen, fmt.Sprintf("%s to host node %d (numa_maps: %s, pages on %s)", id, p.MemNodes[k], m.Policy, nodeCounts(m.Pages)))
			}
		}
	}
	if hugeOK {
		huge.Applied, huge.Detail = true, strings.Join(hugeSeen, "; ")
	}
	if bindOK {
		bind.Applied, bind.Detail = true, strings.Join(bindSeen, "; ")
	}
	return []perfmode.Part{huge, bind}
}

func nodeCounts(m map[int]int) string {
	if len(m) == 0 {
		return "none yet"
	}
	var parts []string
	for n := range 64 {
		if v, ok := m[n]; ok {
			parts = append(parts, fmt.Sprintf("N%d=%d", n, v))
		}
	}
	return strings.Join(parts, " ")
}

// fifoPart makes the vCPU threads SCHED_FIFO at perfmode.VCPUPrio.
func fifoPart(p *perfmode.Plan, tids []int, pinned bool) perfmode.Part {
	part := perfmode.Part{Name: perfmode.PartFIFO}
	switch {
	case !pinned:
		part.Detail = "the vCPUs are not pinned, and a SCHED_FIFO vCPU sharing a host CPU could starve what shares it"
	case !p.RT:
		part.Detail = p.RTWhy
	default:
		var errs []string
		for i, tid := range tids {
			if err := setFIFO(tid, perfmode.VCPUPrio); err != nil {
				errs = append(errs, fmt.Sprintf("vCPU %d (thread %d): %v", i, tid, err))
			}
		}
		if len(errs) > 0 {
			part.Detail = strings.Join(errs, "; ")
		} else {
			part.Applied, part.Detail = true, fmt.Sprintf("every vCPU thread at priority %d; the monitor's sampling thread at %d on the service CPUs", perfmode.VCPUPrio, perfmode.MonitorPrio)
		}
	}
	return part
}

// servicePart keeps QEMU's threads that are not vCPUs (its main loop and
// I/O, QMP, RCU, workers) on the service CPUs; threads QEMU starts later
// inherit the affinity of the thread that starts them.
func servicePart(p *perfmode.Plan, pid int, vcpuTids []int) perfmode.Part {
	part := perfmode.Part{Name: perfmode.PartService}
	vcpu := map[int]bool{}
	for _, t := range vcpuTids {
		vcpu[t] = true
	}
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil {
		part.Detail = fmt.Sprintf("listing QEMU's threads: %v", err)
		return part
	}
	var n int
	var errs []string
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil || vcpu[tid] {
			continue
		}
		if err := setAffinity(tid, p.Service); err != nil {
			errs = append(errs, fmt.Sprintf("thread %d: %v", tid, err))
			continue
		}
		n++
	}
	if len(errs) > 0 {
		part.Detail = strings.Join(errs, "; ")
		return part
	}
	part.Applied = true
	part.Detail = fmt.Sprintf("%d QEMU threads and the monitor on host CPUs %s, apart from the vCPUs", n, p.Service)
	return part
}

// perfMonitorThread is run by the monitor's sampling thread when it
// starts: onto the service CPUs, at perfmode.MonitorPrio when the plan
// may use SCHED_FIFO.
func perfMonitorThread(p *perfmode.Plan) func() {
	return func() {
		tid := unix.Gettid()
		setAffinity(tid, p.Service)
		if p.RT {
			setFIFO(tid, perfmode.MonitorPrio)
		}
	}
}

func setAffinity(tid int, cpus topology.CPUSet) error {
	var set unix.CPUSet
	for _, c := range cpus.Slice() {
		set.Set(c)
	}
	return unix.SchedSetaffinity(tid, &set)
}

func setFIFO(tid, prio int) error {
	return unix.SchedSetAttr(tid, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: uint32(prio)}, 0)
}
