package sysinfo

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/topology"
)

// Read builds the guest's view from sysfs and procfs below root.
func Read(root string) (wire.GuestView, error) {
	var v wire.GuestView
	cpuDir := filepath.Join(root, "sys/devices/system/cpu")
	online, err := readList(filepath.Join(cpuDir, "online"))
	if err != nil {
		return v, fmt.Errorf("reading online CPUs: %w", err)
	}
	v.CPUs = online.Len()
	llcs, smt, pkgs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, cpu := range online.Slice() {
		base := filepath.Join(cpuDir, "cpu"+strconv.Itoa(cpu))
		if l, err := llcOf(base); err == nil && l != "" {
			llcs[l] = true
		}
		if s, err := readList(filepath.Join(base, "topology/thread_siblings_list")); err == nil {
			smt[s.String()] = true
		}
		if p, err := readList(filepath.Join(base, "topology/package_cpus_list")); err == nil {
			pkgs[p.String()] = true
		} else if p, err := readList(filepath.Join(base, "topology/core_siblings_list")); err == nil {
			pkgs[p.String()] = true
		}
	}
	v.LLCs, v.SMTSiblings, v.Packages = sortedLists(llcs), sortedLists(smt), sortedLists(pkgs)

	nodes, _ := filepath.Glob(filepath.Join(root, "sys/devices/system/node/node[0-9]*"))
	sort.Slice(nodes, func(i, j int) bool { return nodeID(nodes[i]) < nodeID(nodes[j]) })
	for _, n := range nodes {
		l, err := readList(filepath.Join(n, "cpulist"))
		if err != nil {
			return v, fmt.Errorf("reading NUMA node %s: %w", filepath.Base(n), err)
		}
		v.NUMANodes = append(v.NUMANodes, l.String())
	}
	if mem, err := memTotalMB(filepath.Join(root, "proc/meminfo")); err == nil {
		v.MemoryMB = mem
	}
	return v, nil
}

// llcOf returns the shared_cpu_list of the highest-level unified or data
// cache of a CPU.
func llcOf(cpuBase string) (string, error) {
	idx, _ := filepath.Glob(filepath.Join(cpuBase, "cache/index[0-9]*"))
	best, bestLevel := "", -1
	for _, i := range idx {
		typ := readString(filepath.Join(i, "type"))
		if typ == "Instruction" {
			continue
		}
		level, err := strconv.Atoi(readString(filepath.Join(i, "level")))
		if err != nil || level <= bestLevel {
			continue
		}
		l, err := readList(filepath.Join(i, "shared_cpu_list"))
		if err != nil {
			return "", err
		}
		best, bestLevel = l.String(), level
	}
	return best, nil
}

func nodeID(path string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(path), "node"))
	return n
}

func sortedLists(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := topology.ParseCPUList(out[i])
		b, _ := topology.ParseCPUList(out[j])
		if a.Len() == 0 || b.Len() == 0 {
			return out[i] < out[j]
		}
		return a.Slice()[0] < b.Slice()[0]
	})
	return out
}

func readString(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func readList(path string) (topology.CPUSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return topology.CPUSet{}, err
	}
	return topology.ParseCPUList(string(b))
}

func memTotalMB(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, err := strconv.Atoi(f[0])
				return kb / 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no MemTotal in %s", path)
}
