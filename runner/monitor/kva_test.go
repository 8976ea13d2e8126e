package monitor

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// fakeMem is guest-physical memory as a sparse map of pages.
type fakeMem map[uint64][]byte

func (m fakeMem) page(pa uint64) []byte {
	base := pa &^ (pageSize - 1)
	p, ok := m[base]
	if !ok {
		p = make([]byte, pageSize)
		m[base] = p
	}
	return p
}

func (m fakeMem) ReadAt(p []byte, gpa uint64) error {
	if (gpa&(pageSize-1))+uint64(len(p)) > pageSize {
		return fmt.Errorf("cross-page read")
	}
	copy(p, m.page(gpa)[gpa&(pageSize-1):])
	return nil
}

func (m fakeMem) put64(pa, v uint64) {
	binary.LittleEndian.PutUint64(m.page(pa)[pa&(pageSize-1):], v)
}

func TestTranslatorTextDirectMapAndWalk(t *testing.T) {
	mem := fakeMem{}
	const pobVA = startKernelMap + 0x2000000 // page_offset_base lives in the image
	const pgdVA = startKernelMap + 0x3000000
	const pob = 0xffff888000000000
	mem.put64(0x2000000, pob)
	// A vmalloc address mapped through a 4 KiB page: PML4 -> PDPT -> PD -> PT.
	const va = 0xffffc90000123456
	pml4, pdpt, pd, pt, frame := uint64(0x3000000), uint64(0x400000), uint64(0x401000), uint64(0x402000), uint64(0x7777000)
	mem.put64(pml4+((va>>39)&0x1ff)*8, pdpt|ptePresent)
	mem.put64(pdpt+((va>>30)&0x1ff)*8, pd|ptePresent)
	mem.put64(pd+((va>>21)&0x1ff)*8, pt|ptePresent)
	mem.put64(pt+((va>>12)&0x1ff)*8, frame|ptePresent)
	// A 2 MiB page.
	const va2 = 0xffffc90000400010
	mem.put64(pd+((va2>>21)&0x1ff)*8, 0x8000000|ptePresent|ptePageSize)

	tr, err := NewTranslator(mem, 0, pobVA, pgdVA)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Levels != 4 || tr.PGD != pml4 {
		t.Fatalf("translator %+v", tr)
	}
	for _, c := range []struct{ va, pa uint64 }{
		{startKernelMap + 0x1234, 0x1234},
		{pob + 0x5000, 0x5000},
		{va, frame | 0x456},
		{va2, 0x8000010},
	} {
		got, err := tr.PA(c.va)
		if err != nil || got != c.pa {
			t.Errorf("PA(%#x) = %#x, %v; want %#x", c.va, got, err, c.pa)
		}
	}
	if _, err := tr.PA(0xffffc90040000000); err == nil {
		t.Error("an unmapped address must be an error")
	}
}

func TestTranslatorRejectsAWrongImageBase(t *testing.T) {
	mem := fakeMem{}
	if _, err := NewTranslator(mem, 0, startKernelMap+0x2000000, startKernelMap+0x3000000); err == nil {
		t.Fatal("a zero page_offset_base means the image is not where we think")
	}
}
