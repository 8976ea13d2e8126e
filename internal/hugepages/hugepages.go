package hugepages

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Paths of the kernel's hugepage pool (2 MB pages, the default size).
const (
	nrPath   = "/proc/sys/vm/nr_hugepages"
	freePath = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
)

// Free is how many 2 MB hugepages are free on this machine.
func Free() (int, error) { return readInt(freePath) }

// Ensure makes at least n 2 MB hugepages free, raising the pool when
// fewer are, and returns a function that puts the pool back to its old
// size (a no-op when nothing changed). The kernel may give fewer pages
// than asked (fragmented memory): that is an error, after the pool is
// restored.
func Ensure(n int) (restore func(), err error) {
	restore = func() {}
	free, err := Free()
	if err != nil {
		return restore, fmt.Errorf("reading the free hugepages: %w", err)
	}
	if free >= n {
		return restore, nil
	}
	nr, err := readInt(nrPath)
	if err != nil {
		return restore, fmt.Errorf("reading the hugepage pool: %w", err)
	}
	want := nr + n - free
	if err := os.WriteFile(nrPath, []byte(strconv.Itoa(want)), 0); err != nil {
		return restore, fmt.Errorf("raising the hugepage pool to %d pages (%s): %w", want, nrPath, err)
	}
	restore = func() { os.WriteFile(nrPath, []byte(strconv.Itoa(nr)), 0) }
	if free, err = Free(); err != nil || free < n {
		restore()
		return func() {}, fmt.Errorf("asked the kernel for %d more hugepages, %d are free (memory too fragmented?)", n, free)
	}
	return restore, nil
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
