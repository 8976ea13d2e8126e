package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// pvpanicPort is the I/O port of QEMU's ISA pvpanic device.
const pvpanicPort = 0x505

// outb writes val to an I/O port (pvpanic_amd64.s).
func outb(port uint16, val uint8)

// pvpanic tells QEMU that the guest panicked, as the kernel's pvpanic
// driver would: QEMU then pauses the guest (with -no-shutdown) and
// sends GUEST_PANICKED.
func pvpanic() error {
	if err := unix.Ioperm(pvpanicPort, 1, 1); err != nil {
		return fmt.Errorf("ioperm(%#x): %w", pvpanicPort, err)
	}
	outb(pvpanicPort, 1) // PVPANIC_PANICKED
	return nil
}
