package perfmode

import (
	"fmt"
	"strconv"
	"strings"
)

// Mapping is one line of /proc/PID/numa_maps.
type Mapping struct {
	Addr uint64
	// Policy is the memory policy ("default", "bind:0", "interleave:0-1").
	Policy string
	// File is the mapped file ("" for anonymous memory); a memfd shows as
	// "/memfd:NAME (deleted)".
	File string
	Huge bool
	// PageKB is the page size of the mapping.
	PageKB int
	// Pages counts the mapping's resident pages per host node.
	Pages map[int]int
}

// Total is the mapping's resident pages on all nodes.
func (m Mapping) Total() int {
	n := 0
	for _, v := range m.Pages {
		n += v
	}
	return n
}

// ParseNumaMaps parses the text of /proc/PID/numa_maps.
func ParseNumaMaps(text string) ([]Mapping, error) {
	var out []Mapping
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		addr, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("numa_maps line %d: address %q: %w", i+1, f[0], err)
		}
		m := Mapping{Addr: addr, Policy: f[1], Pages: map[int]int{}}
		for _, kv := range f[2:] {
			k, v, _ := strings.Cut(kv, "=")
			switch {
			case k == "file":
				// A file name may hold escaped spaces ("\040"); numa_maps
				// writes the rest of the line as further fields.
				m.File = strings.ReplaceAll(v, `\040`, " ")
			case k == "huge":
				m.Huge = true
			case k == "kernelpagesize_kB":
				m.PageKB, _ = strconv.Atoi(v)
			case len(k) > 1 && k[0] == 'N':
				node, err1 := strconv.Atoi(k[1:])
				n, err2 := strconv.Atoi(v)
				if err1 == nil && err2 == nil {
					m.Pages[node] = n
				}
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// Find returns the mappings of files whose name contains name as a
// whole ("mem1" does not find "mem10"; " (deleted)" may follow).
func Find(ms []Mapping, name string) []Mapping {
	var out []Mapping
	for _, m := range ms {
		i := strings.Index(m.File, name)
		if i >= 0 && (i+len(name) == len(m.File) || m.File[i+len(name)] == ' ') {
			out = append(out, m)
		}
	}
	return out
}
