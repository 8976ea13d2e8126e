package guestmem

import (
	"bufio"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Region maps a range of guest-physical addresses to a node backend.
type Region struct {
	// GPA is the first guest-physical address; Size its length in bytes.
	GPA, Size uint64
	// Backend is the memory-backend id ("ktstr-mem0"); Offset is where in
	// that backend the region starts.
	Backend string
	Offset  uint64
}

// Layout is the guest's RAM as regions sorted by GPA.
type Layout []Region

// Find returns the region holding gpa.
func (l Layout) Find(gpa uint64) (Region, bool) {
	i := sort.Search(len(l), func(i int) bool { return l[i].GPA+l[i].Size > gpa })
	if i < len(l) && gpa >= l[i].GPA {
		return l[i], true
	}
	return Region{}, false
}

// mtreeLine is one line of "info mtree": a range, a kind and a name, and
// for an alias the target region and its range.
type mtreeLine struct {
	depth            int
	start, end       uint64
	name             string
	alias            string
	aliasStart       uint64
	isAlias          bool
	containerSection string
}

// ParseMtree reads QEMU's "info mtree" (HMP) and returns where the
// guest's RAM is: the aliases ram-below-4g and ram-above-4g (or, for
// machines without the split, the RAM region mapped in the system
// address space) resolved through the RAM container to the backends
// named in backends. Every backend must be found.
func ParseMtree(text string, backends []string) (Layout, error) {
	var lines []mtreeLine
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		raw := sc.Text()
		if strings.HasPrefix(raw, "address-space:") || strings.HasPrefix(raw, "memory-region:") {
			section = strings.TrimSpace(raw)
			continue
		}
		l, ok := parseMtreeLine(raw)
		if !ok {
			continue
		}
		l.containerSection = section
		lines = append(lines, l)
	}
	// Where each backend sits in its container, from the container's own
	// "memory-region: <container>" section (or nested under it).
	type place struct {
		container string
		off       uint64
		size      uint64
	}
	want := map[string]bool{}
	for _, b := range backends {
		want[b] = true
	}
	placed := map[string]place{}
	for i, l := range lines {
		if !want[l.name] || l.isAlias {
			continue
		}
		if _, dup := placed[l.name]; dup {
			continue
		}
		// The parent is the nearest earlier line with a smaller depth.
		parent := ""
		for j := i - 1; j >= 0; j-- {
			if lines[j].depth < l.depth {
				parent = lines[j].name
				break
			}
		}
		if parent == "" {
			continue
		}
		placed[l.name] = place{container: parent, off: l.start, size: l.end - l.start + 1}
	}
	for _, b := range backends {
		if _, ok := placed[b]; !ok {
			return nil, fmt.Errorf("info mtree: memory backend %s not found in any RAM container", b)
		}
	}
	// The aliases that map the container into the system address space.
	var out Layout
	seen := map[uint64]bool{}
	for _, l := range lines {
		if !l.isAlias || !strings.HasPrefix(l.name, "ram-") || !strings.HasPrefix(l.containerSection, "address-space: memory") {
			continue
		}
		if seen[l.start] {
			continue
		}
		seen[l.start] = true
		size := l.end - l.start + 1
		// Split the alias over the backends of its container.
		for _, b := range backends {
			p := placed[b]
			if p.container != l.alias {
				continue
			}
			lo, hi := max(l.aliasStart, p.off), min(l.aliasStart+size, p.off+p.size)
			if lo >= hi {
				continue
			}
			out = append(out, Region{GPA: l.start + (lo - l.aliasStart), Size: hi - lo, Backend: b, Offset: lo - p.off})
		}
	}
	if len(out) == 0 {
		// No split aliases: the container (or a backend) mapped directly.
		for _, l := range lines {
			if l.isAlias || !strings.HasPrefix(l.containerSection, "address-space: memory") {
				continue
			}
			if _, ok := placed[l.name]; ok && l.depth > 0 {
				out = append(out, Region{GPA: l.start, Size: l.end - l.start + 1, Backend: l.name})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("info mtree: no RAM mapping into the system address space (looked for ram-below-4g/ram-above-4g)")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GPA < out[j].GPA })
	return out, nil
}

// parseMtreeLine parses
//
//	"    0000000000000000-00000000bfffffff (prio 0, i/o): alias ram-below-4g @pc.ram 0000000000000000-00000000bfffffff"
//	"    0000000000000000-000000007fffffff (prio 0, ram): m0"
func parseMtreeLine(raw string) (mtreeLine, bool) {
	trimmed := strings.TrimLeft(raw, " ")
	l := mtreeLine{depth: len(raw) - len(trimmed)}
	rng, rest, ok := strings.Cut(trimmed, " ")
	if !ok {
		return l, false
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return l, false
	}
	var err error
	if l.start, err = strconv.ParseUint(a, 16, 64); err != nil {
		return l, false
	}
	if l.end, err = strconv.ParseUint(b, 16, 64); err != nil {
		return l, false
	}
	_, desc, ok := strings.Cut(rest, "): ")
	if !ok {
		return l, false
	}
	fields := strings.Fields(desc)
	if len(fields) == 0 {
		return l, false
	}
	if fields[0] == "alias" && len(fields) >= 4 && strings.HasPrefix(fields[2], "@") {
		l.isAlias = true
		l.name = fields[1]
		l.alias = strings.TrimPrefix(fields[2], "@")
		as, _, _ := strings.Cut(fields[3], "-")
		if l.aliasStart, err = strconv.ParseUint(as, 16, 64); err != nil {
			return l, false
		}
		return l, true
	}
	l.name = fields[0]
	return l, true
}
