// Package guestmem shares a QEMU guest's RAM with the host process that
// runs it, so that the host can read guest kernel memory without any
// help from the guest.
//
// The runner creates one memfd per NUMA node ([New]), hands them to QEMU
// as memory-backend-file objects with share=on ([Memory.QEMUArgs] and
// [Memory.Files]), and maps each read-only. Where a guest-physical
// address lives in those backends is QEMU's business (the hole below
// 4 GiB, the order of the node backends in the machine's RAM); [ParseMtree]
// reads it from QEMU's "info mtree" once the machine exists, and
// [Memory.SetLayout] installs it. After that [Memory.ReadAt] reads guest
// physical memory, and [Memory.WriteAt] writes it (for the few host-side
// overrides the monitor makes).
package guestmem
