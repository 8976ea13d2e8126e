package guestmem

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/internal/hugepages"
)

// Node is one NUMA node's RAM backend.
type Node struct {
	// ID is the QEMU object id, "ktstr-mem<K>".
	ID string
	// SizeMB is its size in MiB.
	SizeMB int
}

// Options choose how guest RAM is backed.
type Options struct {
	// Hugepages backs every node with 2 MB hugepages (a hugetlb memfd);
	// the pages are reserved when the memory is mapped, so too few free
	// hugepages fail [New] at once.
	Hugepages bool
}

// hugepageSize is the size of the hugepages Options.Hugepages asks for
// (MFD_HUGE_2MB).
const hugepageSize = hugepages.Size

// Memory is a guest's RAM, shared with this process.
type Memory struct {
	nodes []Node
	huge  bool
	files []*os.File
	maps  map[string][]byte
	fdOf  map[string]int

	mu     sync.RWMutex
	layout Layout
	closed bool
}

// ErrNoLayout is returned by reads before [Memory.SetLayout].
var ErrNoLayout = errors.New("guest memory layout not known yet")

// New creates one memfd per node, sized and mapped read-only.
func New(nodes []Node, opt Options) (*Memory, error) {
	m := &Memory{nodes: nodes, huge: opt.Hugepages, maps: map[string][]byte{}, fdOf: map[string]int{}}
	flags := unix.MFD_CLOEXEC
	if opt.Hugepages {
		flags |= unix.MFD_HUGETLB | unix.MFD_HUGE_2MB
	}
	for _, n := range nodes {
		if opt.Hugepages && (int64(n.SizeMB)<<20)%hugepageSize != 0 {
			m.Close()
			return nil, fmt.Errorf("guest memory %s: %d MiB is not a whole number of 2 MB hugepages", n.ID, n.SizeMB)
		}
		fd, err := unix.MemfdCreate("ktstr-guest-"+n.ID, flags)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("guest memory %s: memfd_create: %w", n.ID, err)
		}
		f := os.NewFile(uintptr(fd), n.ID)
		m.files = append(m.files, f)
		size := int64(n.SizeMB) << 20
		if err := f.Truncate(size); err != nil {
			m.Close()
			return nil, fmt.Errorf("guest memory %s: sizing to %d MiB: %w", n.ID, n.SizeMB, err)
		}
		b, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			m.Close()
			if opt.Hugepages && errors.Is(err, unix.ENOMEM) {
				return nil, fmt.Errorf("guest memory %s: reserving %d hugepages of 2 MB: %w (too few free)", n.ID, size/hugepageSize, err)
			}
			return nil, fmt.Errorf("guest memory %s: mmap: %w", n.ID, err)
		}
		m.maps[n.ID] = b
	}
	return m, nil
}

// Files are the memfds, for exec.Cmd.ExtraFiles: the K-th becomes the
// child's fd 3+K+first, where first is the number of ExtraFiles before
// them (see [Memory.QEMUArgs]).
func (m *Memory) Files() []*os.File { return m.files }

// QEMUArgs returns the -object arguments that back each node with its
// memfd, as the child sees it once [Memory.Files] are its ExtraFiles
// starting at child fd firstFD. They replace memory-backend-ram objects of
// the same ids.
func (m *Memory) QEMUArgs(firstFD int) map[string]string {
	out := map[string]string{}
	for i, n := range m.nodes {
		fd := firstFD + i
		m.fdOf[n.ID] = fd
		out[n.ID] = "memory-backend-file,id=" + n.ID + ",size=" + strconv.Itoa(n.SizeMB) + "M,mem-path=/proc/self/fd/" + strconv.Itoa(fd) + ",share=on"
	}
	return out
}

// Backends are the node ids, in order.
func (m *Memory) Backends() []string {
	ids := make([]string, len(m.nodes))
	for i, n := range m.nodes {
		ids[i] = n.ID
	}
	return ids
}

// SetLayout installs where guest-physical addresses live.
func (m *Memory) SetLayout(l Layout) error {
	for _, r := range l {
		b, ok := m.maps[r.Backend]
		if !ok {
			return fmt.Errorf("guest memory layout names backend %s, which this VM does not have", r.Backend)
		}
		if r.Offset+r.Size > uint64(len(b)) {
			return fmt.Errorf("guest memory layout: %s holds %d bytes, a region needs %d", r.Backend, len(b), r.Offset+r.Size)
		}
	}
	m.mu.Lock()
	m.layout = l
	m.mu.Unlock()
	return nil
}

// Layout is the installed layout (nil before SetLayout).
func (m *Memory) Layout() Layout {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.layout
}

// locate finds the backend bytes of n bytes of guest-physical memory at
// gpa, which may not cross the end of a region. The caller holds m.mu.
func (m *Memory) locate(gpa uint64, n int) (Region, uint64, error) {
	if m.closed {
		return Region{}, 0, errors.New("guest memory closed")
	}
	if m.layout == nil {
		return Region{}, 0, ErrNoLayout
	}
	r, ok := m.layout.Find(gpa)
	if !ok {
		return Region{}, 0, fmt.Errorf("guest-physical address %#x is not RAM", gpa)
	}
	off := gpa - r.GPA
	if off+uint64(n) > r.Size {
		return Region{}, 0, fmt.Errorf("guest-physical range %#x+%d crosses the end of RAM region %#x+%#x", gpa, n, r.GPA, r.Size)
	}
	return r, r.Offset + off, nil
}

// ReadAt copies len(p) bytes of guest-physical memory at gpa into p. The
// range may not cross the end of a region.
func (m *Memory) ReadAt(p []byte, gpa uint64) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, off, err := m.locate(gpa, len(p))
	if err != nil {
		return err
	}
	copy(p, m.maps[r.Backend][off:])
	return nil
}

// WriteAt writes p to guest-physical memory at gpa (through the memfd,
// which the guest shares; the read-only mapping stays read-only).
func (m *Memory) WriteAt(p []byte, gpa uint64) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, off, err := m.locate(gpa, len(p))
	if err != nil {
		return err
	}
	for i, n := range m.nodes {
		if n.ID != r.Backend {
			continue
		}
		if m.huge {
			return writeHuge(m.files[i], p, off, gpa)
		}
		if _, err := m.files[i].WriteAt(p, int64(off)); err != nil {
			return fmt.Errorf("writing guest memory at %#x: %w", gpa, err)
		}
		return nil
	}
	return fmt.Errorf("no backend %s", r.Backend)
}

// writeHuge writes p at off of a hugetlb file, which has no write(2):
// through a writable mapping of the hugepages it touches, for the
// moment of the write only.
func writeHuge(f *os.File, p []byte, off uint64, gpa uint64) error {
	start := off &^ (hugepageSize - 1)
	end := (off + uint64(len(p)) + hugepageSize - 1) &^ (hugepageSize - 1)
	b, err := unix.Mmap(int(f.Fd()), int64(start), int(end-start), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("writing guest memory at %#x: mapping its hugepage: %w", gpa, err)
	}
	copy(b[off-start:], p)
	return unix.Munmap(b)
}

// Close unmaps and closes everything. Reads after Close fail.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for _, b := range m.maps {
		unix.Munmap(b)
	}
	m.maps = map[string][]byte{}
	for _, f := range m.files {
		f.Close()
	}
	return nil
}
