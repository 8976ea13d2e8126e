package ksyms

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Table maps symbol names to addresses.
type Table map[string]uint64

// Parse reads "address type name [module]" lines and keeps the names in
// want (all names when want is empty). The first address of a name wins,
// as in the kernel's own lookups of core symbols; symbols of modules
// ([module] suffix) are skipped.
func Parse(r io.Reader, want []string) (Table, error) {
	keep := map[string]bool{}
	for _, w := range want {
		keep[w] = true
	}
	t := Table{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) < 3 || len(f) > 3 {
			continue
		}
		name := f[2]
		if len(keep) > 0 && !keep[name] {
			continue
		}
		if _, dup := t[name]; dup {
			continue
		}
		addr, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("symbol table line %q: %w", line, err)
		}
		t[name] = addr
		if len(keep) > 0 && len(t) == len(keep) {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading symbol table: %w", err)
	}
	return t, nil
}

// ParseFile is Parse of a file.
func ParseFile(path string, want []string) (Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := Parse(f, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Missing returns the names of want that t lacks, sorted.
func (t Table) Missing(want []string) []string {
	var out []string
	for _, w := range want {
		if _, ok := t[w]; !ok {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}

// Hidden reports whether the table's addresses were zeroed (kptr_restrict
// hides them from readers without CAP_SYSLOG).
func (t Table) Hidden() bool {
	if len(t) == 0 {
		return false
	}
	for _, a := range t {
		if a != 0 {
			return false
		}
	}
	return true
}

// IsStub reports whether a System.map is a placeholder (Debian's kernel
// packages ship one line pointing to the -dbg package).
func IsStub(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return true
	}
	return st.Size() < 4096
}
