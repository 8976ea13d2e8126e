package main

import (
	"fmt"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/ktstr-go/ktstr/guest/sysinfo"
	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/runner/perfmode"
)

// hostTopo is what "ktstr topo --json" prints.
type hostTopo struct {
	wire.GuestView
	// Topology is the closest ktstr topology ({sockets}s{cores}c{threads}t),
	// "" when the machine is not regular (unequal packages, say).
	Topology string `json:"topology,omitempty"`
	// MaxVCPUs is the largest guest that performance mode can pin here
	// (a host CPU per vCPU, one left for QEMU's own threads); MaxLLCs
	// the most guest LLCs it can give a host LLC group each.
	MaxVCPUs int `json:"max_performance_vcpus"`
	MaxLLCs  int `json:"max_performance_llcs"`
	// FreeHugepages is how many 2 MB hugepages are free, for performance
	// mode's guest memory (-1: unknown).
	FreeHugepages int `json:"free_hugepages_2mb"`
}

// topo prints this machine's CPU topology as the kernel reports it:
// packages, last-level caches, NUMA nodes, SMT siblings, memory.
func (a *app) topo(args []string) int {
	fs := a.newFlags("ktstr topo", "[--json]\n\nPrints this machine's CPU topology, as sysfs reports it.")
	asJSON := fs.Bool("json", false, "print the topology as JSON")
	root := fs.String("root", "/", "read sysfs and procfs below this folder (for a saved tree)")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	v, err := sysinfo.Read(*root)
	if err != nil {
		return a.fail(fmt.Errorf("reading the host topology: %w", err))
	}
	h := hostTopo{GuestView: v, Topology: regularTopology(v), MaxVCPUs: max(v.CPUs-1, 0), FreeHugepages: -1}
	if ph, err := perfmode.ReadHost(*root); err == nil {
		h.MaxLLCs = len(ph.LLCs)
		free := 0
		for _, n := range ph.Nodes {
			if n.FreeHugepages < 0 {
				free = -1
				break
			}
			free += n.FreeHugepages
		}
		if len(ph.Nodes) > 0 {
			h.FreeHugepages = free
		}
	}
	if *asJSON {
		return a.writeJSON(h)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "cpus:\t%d (%s)\n", v.CPUs, runtime.GOARCH)
	if h.Topology != "" {
		fmt.Fprintf(tw, "topology:\t%s\n", h.Topology)
	} else {
		fmt.Fprintf(tw, "topology:\tirregular (not one NsNcNt)\n")
	}
	fmt.Fprintf(tw, "packages:\t%d: %s\n", len(v.Packages), strings.Join(v.Packages, " "))
	fmt.Fprintf(tw, "llcs:\t%d: %s\n", len(v.LLCs), strings.Join(v.LLCs, " "))
	fmt.Fprintf(tw, "numa nodes:\t%d: %s\n", len(v.NUMANodes), strings.Join(v.NUMANodes, " "))
	smt := "off"
	if len(v.SMTSiblings) > 0 && len(v.SMTSiblings) < v.CPUs {
		smt = fmt.Sprintf("%d sibling sets: %s", len(v.SMTSiblings), strings.Join(v.SMTSiblings, " "))
	}
	fmt.Fprintf(tw, "smt:\t%s\n", smt)
	fmt.Fprintf(tw, "memory:\t%d MiB\n", v.MemoryMB)
	huge := "unknown"
	if h.FreeHugepages >= 0 {
		huge = fmt.Sprint(h.FreeHugepages)
	}
	fmt.Fprintf(tw, "performance mode:\tup to %d vCPUs pinned (one host CPU kept for QEMU's threads), up to %d guest LLCs (one host LLC group each), %s free 2 MB hugepages\n", h.MaxVCPUs, h.MaxLLCs, huge)
	tw.Flush()
	return 0
}

// regularTopology is v as {sockets}s{cores}c{threads}t when every package
// has the same number of CPUs and every core the same number of threads.
func regularTopology(v wire.GuestView) string {
	if v.CPUs == 0 || len(v.Packages) == 0 {
		return ""
	}
	sockets := len(v.Packages)
	threads := 1
	if len(v.SMTSiblings) > 0 {
		threads = v.CPUs / len(v.SMTSiblings)
	}
	if threads == 0 || v.CPUs%(sockets*threads) != 0 {
		return ""
	}
	return fmt.Sprintf("%ds%dc%dt", sockets, v.CPUs/(sockets*threads), threads)
}
