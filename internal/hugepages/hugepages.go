package hugepages

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The hugepage size ktstr uses (x86_64's default): SizeKB, and Size in
// bytes. SysfsDir is the name of its folder below
// /sys/kernel/mm/hugepages and each NUMA node's hugepages folder.
const (
	SizeKB   = 2048
	Size     = SizeKB << 10
	SysfsDir = "hugepages-2048kB"
)

// Paths of the kernel's pool of them.
const (
	nrPath   = "/proc/sys/vm/nr_hugepages"
	freePath = "/sys/kernel/mm/hugepages/" + SysfsDir + "/free_hugepages"
)

// Free is how many 2 MB hugepages are free on this machine.
func Free() (int, error) { return readInt(freePath) }

// NodeFree is how many are free on NUMA node id, as the sysfs below root
// ("/" for this machine) says.
func NodeFree(root string, id int) (int, error) {
	return readInt(filepath.Join(root, "sys/devices/system/node", "node"+strconv.Itoa(id), "hugepages", SysfsDir, "free_hugepages"))
}

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
