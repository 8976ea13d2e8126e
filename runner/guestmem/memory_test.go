package guestmem

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/internal/hugepages"
)

// Real memfds, without a VM: what WriteAt writes through the file, ReadAt
// reads back through the read-only mapping, across the hole between two
// regions of a layout.
func TestMemoryReadsWhatWasWritten(t *testing.T) {
	m, err := New([]Node{{ID: "ktstr-mem0", SizeMB: 1}, {ID: "ktstr-mem1", SizeMB: 1}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	args := m.QEMUArgs(3)
	if a := args["ktstr-mem1"]; !strings.Contains(a, "mem-path=/proc/self/fd/4") || !strings.Contains(a, "share=on") || !strings.Contains(a, "size=1M") {
		t.Errorf("QEMU argument %q", a)
	}
	if len(m.Files()) != 2 {
		t.Fatalf("%d files", len(m.Files()))
	}
	if err := m.ReadAt(make([]byte, 4), 0); err != ErrNoLayout {
		t.Errorf("read before the layout: %v", err)
	}
	if err := m.SetLayout(Layout{{GPA: 0x100000, Size: 0x100000, Backend: "ktstr-mem9"}}); err == nil {
		t.Error("a layout naming an unknown backend must be refused")
	}
	if err := m.SetLayout(Layout{
		{GPA: 0, Size: 0x100000, Backend: "ktstr-mem0"},
		{GPA: 0x10000000, Size: 0x80000, Backend: "ktstr-mem1", Offset: 0x80000},
	}); err != nil {
		t.Fatal(err)
	}
	want := []byte("sched_ext")
	if err := m.WriteAt(want, 0x10000010); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if err := m.ReadAt(got, 0x10000010); err != nil || !bytes.Equal(got, want) {
		t.Errorf("read back %q, %v", got, err)
	}
	if err := m.ReadAt(got, 0x200000); err == nil {
		t.Error("the hole is not RAM")
	}
	if err := m.ReadAt(make([]byte, 16), 0xffff8); err == nil {
		t.Error("a read across the end of a region must fail")
	}
	m.Close()
	if err := m.ReadAt(got, 0); err == nil {
		t.Error("reads after Close must fail")
	}
}

// Hugepage-backed memory: hugetlb files have no write(2), so WriteAt goes
// through a mapping of the page; what it wrote reads back. Without free
// hugepages (and no right to reserve them) New must refuse, saying so.
func TestHugepageMemory(t *testing.T) {
	restore, err := hugepages.Ensure(2)
	defer restore()
	if err != nil {
		_, nerr := New([]Node{{ID: "ktstr-mem0", SizeMB: 4}}, Options{Hugepages: true})
		if free, _ := hugepages.Free(); free < 2 && (nerr == nil || !strings.Contains(nerr.Error(), "hugepages")) {
			t.Fatalf("no hugepages to be had (%v), and New = %v; want a refusal naming hugepages", err, nerr)
		}
		t.Logf("no hugepages reserved (%v): New refused with %v", err, nerr)
		return
	}
	if _, err := New([]Node{{ID: "ktstr-mem0", SizeMB: 3}}, Options{Hugepages: true}); err == nil || !strings.Contains(err.Error(), "whole number") {
		t.Errorf("3 MiB of hugepages: %v", err)
	}
	m, err := New([]Node{{ID: "ktstr-mem0", SizeMB: 4}}, Options{Hugepages: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.SetLayout(Layout{{GPA: 0, Size: 4 << 20, Backend: "ktstr-mem0"}}); err != nil {
		t.Fatal(err)
	}
	want := []byte("sched_ext on hugepages")
	gpa := uint64(2<<20 - 8) // across the two pages
	if err := m.WriteAt(want, gpa); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if err := m.ReadAt(got, gpa); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("read %q, want %q", got, want)
	}
}
