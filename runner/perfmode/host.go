package perfmode

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/guest/sysinfo"
	"github.com/ktstr-go/ktstr/internal/hugepages"
	"github.com/ktstr-go/ktstr/topology"
)

// HugepageKB is the hugepage size performance mode uses.
const HugepageKB = hugepages.SizeKB

// Host is what performance mode needs to know about the machine.
type Host struct {
	// CPUs are the host CPUs this process may run on: online, and in its
	// affinity mask (a container or a Bazel sandbox may hold fewer).
	CPUs topology.CPUSet
	// LLCs are the host's last-level cache groups, as sysfs lists them.
	LLCs []topology.CPUSet
	// Nodes are the host's NUMA nodes (none when sysfs shows none).
	Nodes []Node
	// ProcsRunning is the number of runnable tasks when it was read
	// (/proc/stat), this process's reading thread included.
	ProcsRunning int
	// Clocksource is the kernel's current clock source; ConstantTSC and
	// NonstopTSC are the CPU flags of a TSC that can be trusted.
	Clocksource             string
	ConstantTSC, NonstopTSC bool
	// RT says whether this process may give threads SCHED_FIFO; RTWhy
	// says why not.
	RT    bool
	RTWhy string
}

// Node is a host NUMA node.
type Node struct {
	ID   int
	CPUs topology.CPUSet
	// FreeHugepages is how many 2 MB hugepages are free on it (-1 when
	// unknown).
	FreeHugepages int
}

// NodeOf returns the node holding cpu (-1 when none does).
func (h Host) NodeOf(cpu int) int {
	for _, n := range h.Nodes {
		if n.CPUs.Contains(cpu) {
			return n.ID
		}
	}
	return -1
}

// node returns the node with id (nil when there is none).
func (h Host) node(id int) *Node {
	for i := range h.Nodes {
		if h.Nodes[i].ID == id {
			return &h.Nodes[i]
		}
	}
	return nil
}

// ReadHost reads the host from the sysfs and procfs below root ("/" for
// this machine). It does not look at this process: [Current] adds its
// affinity and its right to real-time scheduling.
func ReadHost(root string) (Host, error) {
	var h Host
	cpuDir := filepath.Join(root, "sys/devices/system/cpu")
	online, err := readList(filepath.Join(cpuDir, "online"))
	if err != nil {
		return h, fmt.Errorf("reading the host's online CPUs: %w", err)
	}
	h.CPUs = online
	v, err := sysinfo.Read(root)
	if err != nil {
		return h, fmt.Errorf("reading the host's topology: %w", err)
	}
	for _, l := range v.LLCs {
		if set, err := topology.ParseCPUList(l); err == nil && set.Len() > 0 {
			h.LLCs = append(h.LLCs, set)
		}
	}
	if len(h.LLCs) == 0 { // no cache information: one group, as far as anyone can tell
		h.LLCs = []topology.CPUSet{online}
	}
	for id, l := range v.NUMANodes {
		cpus, err := topology.ParseCPUList(l)
		if err != nil {
			return h, fmt.Errorf("NUMA node %d's CPUs %q: %w", id, l, err)
		}
		free := -1
		if n, err := hugepages.NodeFree(root, id); err == nil {
			free = n
		}
		h.Nodes = append(h.Nodes, Node{ID: id, CPUs: cpus, FreeHugepages: free})
	}

	if b, err := os.ReadFile(filepath.Join(root, "proc/stat")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "procs_running "); ok {
				h.ProcsRunning, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "sys/devices/system/clocksource/clocksource0/current_clocksource")); err == nil {
		h.Clocksource = strings.TrimSpace(string(b))
	}
	if f, err := os.Open(filepath.Join(root, "proc/cpuinfo")); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "flags"); ok {
				for _, fl := range strings.Fields(strings.TrimLeft(rest, " \t:")) {
					h.ConstantTSC = h.ConstantTSC || fl == "constant_tsc"
					h.NonstopTSC = h.NonstopTSC || fl == "nonstop_tsc"
				}
				break
			}
		}
		f.Close()
	}
	return h, nil
}

// Current reads this machine as this process sees it: [ReadHost] of "/",
// narrowed to the CPUs of its affinity mask, with its right to
// SCHED_FIFO (CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least [MonitorPrio]).
func Current() (Host, error) {
	h, err := ReadHost("/")
	if err != nil {
		return h, err
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err == nil {
		var mine []int
		for _, c := range h.CPUs.Slice() {
			if set.IsSet(c) {
				mine = append(mine, c)
			}
		}
		h.CPUs = topology.NewCPUSet(mine...)
	}
	h.RT, h.RTWhy = mayUseRT()
	return h, nil
}

// mayUseRT reports whether this process may set SCHED_FIFO priorities up
// to MonitorPrio.
func mayUseRT() (bool, string) {
	if capEffective(capSysNice) {
		return true, ""
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_RTPRIO, &rl); err == nil && rl.Cur >= MonitorPrio {
		return true, ""
	}
	return false, fmt.Sprintf("this process has neither CAP_SYS_NICE nor an RLIMIT_RTPRIO of %d or more (run as root, or raise rtprio in /etc/security/limits.conf)", MonitorPrio)
}

const capSysNice = 23

// capEffective reports whether capability bit c is in this process's
// effective set (/proc/self/status CapEff).
func capEffective(c uint) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<c) != 0
		}
	}
	return false
}

func readList(path string) (topology.CPUSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return topology.CPUSet{}, err
	}
	return topology.ParseCPUList(strings.TrimSpace(string(b)))
}
