package perfmode

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ktstr-go/ktstr/topology"
)

// Real-time priorities: vCPU threads run SCHED_FIFO at VCPUPrio; the
// monitor's sampling thread at MonitorPrio, on a service CPU, so that it
// can always preempt a vCPU thread.
const (
	VCPUPrio    = 1
	MonitorPrio = 2
)

// ErrUnavailable is matched by every [*UnavailableError].
var ErrUnavailable = errors.New("performance mode unavailable")

// UnavailableError says why this host cannot give a topology performance
// mode: too few CPUs, too few LLC groups, an LLC group too small.
type UnavailableError struct {
	Topology topology.Topology
	Reason   string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("performance mode unavailable for %s (%d vCPUs): %s", e.Topology, e.Topology.CPUs(), e.Reason)
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Part names, as reports and result.json give them.
const (
	PartHugepages = "hugepages"
	PartNUMABind  = "numa_binding"
	PartPinning   = "vcpu_pinning"
	PartFIFO      = "sched_fifo"
	PartService   = "service_threads"
)

// Part is one piece of performance mode, and whether it applied.
type Part struct {
	Name    string `json:"name"`
	Applied bool   `json:"applied"`
	// Detail says what was done, or why it was not.
	Detail string `json:"detail"`
}

func (p Part) String() string {
	state := "applied"
	if !p.Applied {
		state = "not applied"
	}
	return fmt.Sprintf("%s: %s: %s", p.Name, state, p.Detail)
}

// Plan is what performance mode will do for one VM.
type Plan struct {
	Topology topology.Topology
	// VCPUCPUs[i] is the host CPU of vCPU i; HostLLCs[k] the host LLC
	// group guest LLC k was given.
	VCPUCPUs []int
	HostLLCs []topology.CPUSet
	// Service are the host CPUs left to QEMU's other threads and to the
	// monitor.
	Service topology.CPUSet
	// MemNodes[k] is the host node guest node k's memory is bound to;
	// nil when the memory is not bound (BindWhy says why).
	MemNodes []int
	BindWhy  string
	// NodeMemoryMB is each guest node's memory.
	NodeMemoryMB []int
	// Hugepages: guest memory comes from pre-allocated 2 MB hugepages;
	// HugepagesWhy says why not.
	Hugepages    bool
	HugepagesWhy string
	// RT: vCPU threads may run SCHED_FIFO; RTWhy says why not.
	RT    bool
	RTWhy string
	// Warnings do not stop the run: a loaded host, an unstable TSC.
	Warnings []string
}

// NewPlan checks topology t against host h and plans performance mode
// for it; nodeMemoryMB is each guest NUMA node's memory. A host that
// cannot give t what performance mode promises is an *UnavailableError.
func NewPlan(h Host, t topology.Topology, nodeMemoryMB []int) (*Plan, error) {
	unavailable := func(format string, a ...any) error {
		return &UnavailableError{Topology: t, Reason: fmt.Sprintf(format, a...)}
	}
	vcpus := t.CPUs()
	if vcpus+1 > h.CPUs.Len() {
		return nil, unavailable("it needs a host CPU for each of the %d vCPUs and one more for QEMU's own threads and the monitor (%d), and this process may use %d host CPUs (%s)", vcpus, vcpus+1, h.CPUs.Len(), h.CPUs)
	}
	// The host's LLC groups, narrowed to the usable CPUs, largest first.
	var groups []topology.CPUSet
	for _, l := range h.LLCs {
		if g := l.Intersect(h.CPUs); g.Len() > 0 {
			groups = append(groups, g)
		}
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].Len() > groups[j].Len() })
	if len(groups) < t.LLCs() {
		return nil, unavailable("each of its %d LLCs needs a host LLC group of its own, and the usable host CPUs span %d (%s)", t.LLCs(), len(groups), JoinSets(groups))
	}
	per := t.Cores * t.Threads
	p := &Plan{Topology: t, NodeMemoryMB: nodeMemoryMB, VCPUCPUs: make([]int, vcpus)}
	used := topology.CPUSet{}
	for k := range t.LLCs() {
		g := groups[k]
		if g.Len() < per {
			return nil, unavailable("guest LLC %d has %d vCPUs, and the host LLC group it would get (%s) has %d usable CPUs", k, per, g, g.Len())
		}
		// The group's highest CPUs: the lowest ones (CPU 0 above all)
		// are where the host's housekeeping tends to run.
		cpus := g.Slice()
		mine := cpus[len(cpus)-per:]
		for i, cpu := range t.LLCCPUs(k).Slice() {
			p.VCPUCPUs[cpu] = mine[i]
		}
		used = used.Union(topology.NewCPUSet(mine...))
		p.HostLLCs = append(p.HostLLCs, g)
	}
	p.Service = h.CPUs.Difference(used)

	p.planMemory(h)
	p.RT, p.RTWhy = h.RT, h.RTWhy
	if others := h.ProcsRunning - 1; others > 0 && float64(others) > float64(vcpus)/2 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("a loaded host: %d other runnable tasks, more than half the %d vCPUs; timings may be noisy", others, vcpus))
	}
	if w := tscWarning(h); w != "" {
		p.Warnings = append(p.Warnings, w)
	}
	return p, nil
}

// planMemory binds each guest node to the host node of its vCPUs' CPUs,
// and uses hugepages when every host node has enough free.
func (p *Plan) planMemory(h Host) {
	if len(h.Nodes) == 0 {
		p.BindWhy = "the host shows no NUMA nodes (/sys/devices/system/node)"
	} else {
		for k := range p.Topology.NUMANodes() {
			n := h.NodeOf(p.VCPUCPUs[p.Topology.NodeCPUs(k).Slice()[0]])
			if n < 0 {
				p.MemNodes, p.BindWhy = nil, fmt.Sprintf("host CPU %d is in no NUMA node sysfs lists", p.VCPUCPUs[p.Topology.NodeCPUs(k).Slice()[0]])
				break
			}
			p.MemNodes = append(p.MemNodes, n)
		}
	}
	pages := func(mb int) int { return mb * 1024 / HugepageKB }
	for k, mb := range p.NodeMemoryMB {
		if mb*1024%HugepageKB != 0 {
			p.HugepagesWhy = fmt.Sprintf("guest node %d's memory (%d MiB) is not a whole number of %d kB pages", k, mb, HugepageKB)
			return
		}
	}
	need := map[int]int{} // host node (-1: any) -> pages
	for k, mb := range p.NodeMemoryMB {
		n := -1
		if p.MemNodes != nil {
			n = p.MemNodes[k]
		}
		need[n] += pages(mb)
	}
	var short []string
	for _, n := range sortedKeys(need) {
		free, where := 0, ""
		if n < 0 {
			for _, hn := range h.Nodes {
				free += max(hn.FreeHugepages, 0)
			}
			where = "on the host"
		} else {
			free, where = max(h.node(n).FreeHugepages, 0), fmt.Sprintf("on host node %d", n)
		}
		if free < need[n] {
			short = append(short, fmt.Sprintf("%d needed %s, %d free", need[n], where, free))
		}
	}
	if len(short) > 0 {
		total := 0
		for _, v := range need {
			total += v
		}
		p.HugepagesWhy = fmt.Sprintf("not enough free %d kB hugepages (%s); guest memory uses regular pages (reserve them: echo %d > /proc/sys/vm/nr_hugepages, as root)", HugepageKB, strings.Join(short, "; "), total)
		return
	}
	p.Hugepages = true
}

// tscWarning says why the host's TSC may not be stable ("" when it is).
func tscWarning(h Host) string {
	var why []string
	if h.Clocksource != "" && h.Clocksource != "tsc" {
		why = append(why, "the host's clock source is "+h.Clocksource+", not tsc")
	}
	if !h.ConstantTSC || !h.NonstopTSC {
		why = append(why, "the CPU flags lack constant_tsc or nonstop_tsc")
	}
	if len(why) == 0 {
		return ""
	}
	return "an unstable TSC (" + strings.Join(why, "; ") + ", as is common under nested virtualization): timings vary more"
}

// BackendOptions are the options performance mode adds to guest node k's
// memory backend: pre-allocation when it is backed by hugepages, and
// the binding to its host node.
func (p *Plan) BackendOptions(k int) string {
	var b strings.Builder
	if p.Hugepages {
		b.WriteString(",prealloc=on")
	}
	if p.MemNodes != nil {
		fmt.Fprintf(&b, ",host-nodes=%d,policy=bind", p.MemNodes[k])
	}
	return b.String()
}

// ThreadsPinnable says whether each vCPU runs on a host thread of its own
// (tids[i] is vCPU i's thread), which pinning and SCHED_FIFO need:
// under single-threaded TCG every vCPU runs on one thread.
func ThreadsPinnable(tids []int) (bool, string) {
	if len(tids) == 0 {
		return false, "QEMU reported no vCPU threads"
	}
	seen := map[int]bool{}
	for _, t := range tids {
		if t == 0 || seen[t] {
			return false, fmt.Sprintf("the %d vCPUs share QEMU threads (thread ids %v), as under single-threaded TCG: no vCPU has a host thread of its own to pin", len(tids), tids)
		}
		seen[t] = true
	}
	return true, ""
}

// JoinSets lists CPU sets apart by spaces ("none" for none).
func JoinSets(ss []topology.CPUSet) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[int]int) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// Report is what performance mode did for one VM: each part, applied or
// not and why, and the warnings.
type Report struct {
	Parts    []Part   `json:"parts"`
	Warnings []string `json:"warnings,omitempty"`
	// VCPUCPUs[i] is the host CPU vCPU i was to run on; ServiceCPUs
	// where QEMU's other threads and the monitor ran.
	VCPUCPUs    []int  `json:"vcpu_host_cpus,omitempty"`
	ServiceCPUs string `json:"service_host_cpus,omitempty"`
}

// Part returns the named part (false when the report has none).
func (r *Report) Part(name string) (Part, bool) {
	if r == nil {
		return Part{}, false
	}
	for _, p := range r.Parts {
		if p.Name == name {
			return p, true
		}
	}
	return Part{}, false
}

// Lines are the report for a test's log: one line per part, then the
// warnings.
func (r *Report) Lines() []string {
	var out []string
	for _, p := range r.Parts {
		out = append(out, "performance mode: "+p.String())
	}
	for _, w := range r.Warnings {
		out = append(out, "performance mode: warning: "+w)
	}
	return out
}
