// Package sysinfo reads the CPU topology the guest kernel reports in sysfs
// (CPUs, last-level caches, NUMA nodes, SMT siblings, packages) into a
// [wire.GuestView]. It reads below a root directory so that it can be
// tested on a fabricated tree; inside the VM the root is "/".
package sysinfo
