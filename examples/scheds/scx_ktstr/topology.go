package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// llcTopology maps every possible CPU to a last-level cache.
type llcTopology struct {
	// CPULLC[cpu] is the LLC id of cpu; ids are 0..NrLLCs-1, numbered in
	// the order of their lowest CPU.
	CPULLC []uint32
	NrLLCs int
}

// parseCPUList parses a kernel CPU list such as "0-3,8,10-11".
func parseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// readLLCTopology reads the LLC of every possible CPU from sysfs under
// root ("/sys" normally). The LLC of a CPU is the set of CPUs sharing its
// level-3 cache (cache/index3/shared_cpu_list); where the kernel shows no
// L3, the physical package stands in for it. CPUs showing neither (offline
// ones, say) join LLC 0.
func readLLCTopology(root string) (llcTopology, error) {
	cpuDir := filepath.Join(root, "devices", "system", "cpu")
	b, err := os.ReadFile(filepath.Join(cpuDir, "possible"))
	if err != nil {
		return llcTopology{}, fmt.Errorf("reading the possible CPUs: %w", err)
	}
	cpus, err := parseCPUList(string(b))
	if err != nil {
		return llcTopology{}, err
	}
	if len(cpus) == 0 {
		return llcTopology{}, errors.New("no possible CPUs")
	}
	last := cpus[len(cpus)-1]
	if last >= maxCPUs {
		return llcTopology{}, fmt.Errorf("CPU %d: the scheduler supports CPUs 0 to %d", last, maxCPUs-1)
	}
	topo := llcTopology{CPULLC: make([]uint32, last+1)}
	ids := map[string]uint32{}
	for _, cpu := range cpus {
		key := llcKey(filepath.Join(cpuDir, "cpu"+strconv.Itoa(cpu)))
		if key == "" {
			continue
		}
		id, ok := ids[key]
		if !ok {
			id = uint32(len(ids))
			ids[key] = id
		}
		topo.CPULLC[cpu] = id
	}
	topo.NrLLCs = max(len(ids), 1)
	return topo, nil
}

// llcKey names the LLC of the CPU whose sysfs directory is dir, or "".
func llcKey(dir string) string {
	if b, err := os.ReadFile(filepath.Join(dir, "cache", "index3", "shared_cpu_list")); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return "l3:" + s
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "topology", "physical_package_id")); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return "pkg:" + s
		}
	}
	return ""
}
