package guestmem

import (
	"testing"
)

// Captured from QEMU 7.2, -machine pc, 4096 MiB over two NUMA nodes.
const mtreePC = `address-space: memory
  0000000000000000-ffffffffffffffff (prio 0, i/o): system
    0000000000000000-00000000bfffffff (prio 0, i/o): alias ram-below-4g @pc.ram 0000000000000000-00000000bfffffff
    00000000000a0000-00000000000bffff (prio 1, i/o): alias smram-region @pci 00000000000a0000-00000000000bffff
    0000000100000000-000000013fffffff (prio 0, i/o): alias ram-above-4g @pc.ram 00000000c0000000-00000000ffffffff

address-space: cpu-memory-0
  0000000000000000-ffffffffffffffff (prio 0, i/o): system
    0000000000000000-00000000bfffffff (prio 0, i/o): alias ram-below-4g @pc.ram 0000000000000000-00000000bfffffff

memory-region: pc.ram
  0000000000000000-00000000ffffffff (prio 0, i/o): pc.ram
    0000000000000000-000000007fffffff (prio 0, ram): ktstr-mem0
    0000000080000000-00000000ffffffff (prio 0, ram): ktstr-mem1
`

func TestParseMtreeSplitsBelowAndAbove4G(t *testing.T) {
	l, err := ParseMtree(mtreePC, []string{"ktstr-mem0", "ktstr-mem1"})
	if err != nil {
		t.Fatal(err)
	}
	want := Layout{
		{GPA: 0, Size: 0x80000000, Backend: "ktstr-mem0", Offset: 0},
		{GPA: 0x80000000, Size: 0x40000000, Backend: "ktstr-mem1", Offset: 0},
		{GPA: 0x100000000, Size: 0x40000000, Backend: "ktstr-mem1", Offset: 0x40000000},
	}
	if len(l) != len(want) {
		t.Fatalf("layout %+v, want %+v", l, want)
	}
	for i := range want {
		if l[i] != want[i] {
			t.Errorf("region %d = %+v, want %+v", i, l[i], want[i])
		}
	}
	if r, ok := l.Find(0x100000010); !ok || r.Backend != "ktstr-mem1" {
		t.Errorf("Find above 4G = %+v %v", r, ok)
	}
	if _, ok := l.Find(0xd0000000); ok {
		t.Errorf("the PCI hole is not RAM")
	}
}

func TestParseMtreeNamesAMissingBackend(t *testing.T) {
	if _, err := ParseMtree(mtreePC, []string{"ktstr-mem0", "ktstr-mem7"}); err == nil {
		t.Fatal("a backend absent from the tree must be an error")
	}
}
