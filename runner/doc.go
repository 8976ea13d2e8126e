// Package runner is the host side of a ktstr run: it packs an initramfs,
// boots QEMU with a topology, talks QMP, captures the console, reads the
// guest's result channel and returns what happened.
//
// [Boot] is one VM run. It starts QEMU paused (-S) so that the QMP event
// stream is subscribed before the guest runs, records the vCPU layout
// (query-cpus-fast), lets the guest run, and waits for one of: the guest's
// final message followed by its power-off, a SHUTDOWN event, QEMU exiting,
// the timeout, or the caller's context. Whatever happens, QEMU is gone
// when Boot returns: it is asked to quit, then killed; it also dies with
// the process that started it (PR_SET_PDEATHSIG), so a test binary killed
// by Bazel's timeout leaves no VM behind.
//
// KVM is used when /dev/kvm can be opened, otherwise TCG in a mode that is
// not flaky with this QEMU (see [TCGMode]); under TCG the timeout is
// scaled and the [Outcome] says that TCG was used. Failures are
// [*BootError]s carrying the tail of the console.
//
// [BuildInitramfs] writes the newc archive with u-root's cpio package,
// adding the shared libraries a dynamically linked binary needs.
package runner
