package monitor

import (
	"encoding/binary"
	"fmt"
)

// PhysMem reads guest-physical memory (runner/guestmem.Memory does).
type PhysMem interface {
	ReadAt(p []byte, gpa uint64) error
}

// x86-64 kernel address space constants.
const (
	startKernelMap = 0xffffffff80000000 // __START_KERNEL_map
	// kernelTextSize bounds the kernel image mapping (KERNEL_IMAGE_SIZE
	// is 1 GiB with KASLR).
	kernelTextSize = 1 << 30
	pageOffset5Lvl = 0xff11000000000000
	directMap4Size = 64 << 40 // 64 TiB
	directMap5Size = 32 << 50 // 32 PiB
	pteAddrMask    = 0x000ffffffffff000
	ptePresent     = 1
	ptePageSize    = 1 << 7
	pageSize       = 4096
)

// Translator turns kernel virtual addresses into guest-physical ones.
type Translator struct {
	mem PhysMem
	// PhysBase is the kernel's phys_base: where the image sits relative
	// to its link address.
	PhysBase uint64
	// PageOffset is page_offset_base, the start of the direct map.
	PageOffset uint64
	// PGD is the guest-physical address of init_top_pgt.
	PGD uint64
	// Levels is 4 or 5 (la57).
	Levels int
}

// NewTranslator learns the direct map and page-table root of a running
// kernel: physBase locates the kernel image, pageOffsetBaseVA and
// initTopPgtVA are the addresses of the symbols page_offset_base and
// init_top_pgt.
func NewTranslator(mem PhysMem, physBase, pageOffsetBaseVA, initTopPgtVA uint64) (*Translator, error) {
	t := &Translator{mem: mem, PhysBase: physBase}
	pob, err := t.U64(pageOffsetBaseVA)
	if err != nil {
		return nil, fmt.Errorf("reading page_offset_base: %w", err)
	}
	if pob>>47 != 0x1ffff && pob>>56 != 0xff {
		return nil, fmt.Errorf("page_offset_base reads %#x, which is no kernel address (is the kernel image where the monitor thinks it is?)", pob)
	}
	t.PageOffset = pob
	t.Levels = 4
	if pob == pageOffset5Lvl || pob < 0xff80000000000000 {
		t.Levels = 5
	}
	pgd, err := t.PA(initTopPgtVA)
	if err != nil {
		return nil, fmt.Errorf("init_top_pgt: %w", err)
	}
	t.PGD = pgd
	return t, nil
}

// PA translates a kernel virtual address.
func (t *Translator) PA(va uint64) (uint64, error) {
	if va >= startKernelMap && va < startKernelMap+kernelTextSize {
		return va - startKernelMap + t.PhysBase, nil
	}
	if t.PageOffset != 0 {
		size := uint64(directMap4Size)
		if t.Levels == 5 {
			size = directMap5Size
		}
		if va >= t.PageOffset && va < t.PageOffset+size {
			return va - t.PageOffset, nil
		}
	}
	if t.PGD == 0 {
		return 0, fmt.Errorf("kernel address %#x is outside the image and direct map, and no page table is known", va)
	}
	return t.walk(va)
}

// walk translates va through the kernel page tables.
func (t *Translator) walk(va uint64) (uint64, error) {
	table := t.PGD
	shifts := []uint{39, 30, 21, 12}
	if t.Levels == 5 {
		shifts = []uint{48, 39, 30, 21, 12}
	}
	for i, sh := range shifts {
		idx := (va >> sh) & 0x1ff
		var b [8]byte
		if err := t.mem.ReadAt(b[:], table+idx*8); err != nil {
			return 0, fmt.Errorf("page walk of %#x: %w", va, err)
		}
		e := binary.LittleEndian.Uint64(b[:])
		if e&ptePresent == 0 {
			return 0, fmt.Errorf("kernel address %#x is not mapped (level %d)", va, len(shifts)-i)
		}
		last := i == len(shifts)-1
		if !last && e&ptePageSize != 0 && (sh == 30 || sh == 21) {
			mask := uint64(1)<<sh - 1
			return (e & pteAddrMask &^ mask) | (va & mask), nil
		}
		if last {
			return (e & pteAddrMask) | (va & (pageSize - 1)), nil
		}
		table = e & pteAddrMask
	}
	return 0, fmt.Errorf("page walk of %#x fell through", va)
}

// Read copies len(p) bytes at kernel address va; a range crossing a page
// is read page by page.
func (t *Translator) Read(p []byte, va uint64) error {
	for len(p) > 0 {
		n := min(uint64(len(p)), pageSize-(va&(pageSize-1)))
		pa, err := t.PA(va)
		if err != nil {
			return err
		}
		if err := t.mem.ReadAt(p[:n], pa); err != nil {
			return fmt.Errorf("reading kernel address %#x: %w", va, err)
		}
		p, va = p[n:], va+n
	}
	return nil
}

// U64 reads a little-endian uint64 at va.
func (t *Translator) U64(va uint64) (uint64, error) {
	var b [8]byte
	if err := t.Read(b[:], va); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// U32 reads a little-endian uint32 at va.
func (t *Translator) U32(va uint64) (uint32, error) {
	var b [4]byte
	if err := t.Read(b[:], va); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}
