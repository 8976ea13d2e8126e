// Package runner is the host side of a ktstr run: it packs an initramfs,
// boots QEMU with a topology, talks QMP, captures the console, reads the
// guest's result channel and returns what happened.
//
// [Boot] is one VM run, in three pieces: [QEMUArgs] builds QEMU's
// arguments and the kernel command line from a [Config] and a [Plan]
// (pure; unit-tested); [Start] chooses the accelerator, starts QEMU
// paused (-S) and connects to its QMP monitor, so that events are
// subscribed before the guest runs; [VM.Wait] lets the guest run and
// waits for one of: the guest's final message followed by its power-off,
// a SHUTDOWN or GUEST_PANICKED event, a STOP (QEMU stopping the VM on an
// accelerator's internal error, or a pause), QEMU exiting, the timeout,
// or the caller's context. Everything but a guest that runs and never
// finishes is reported at once; the timeout is only for that. Whatever
// happens, QEMU is gone when Boot returns: it is asked to quit, then
// killed; it also dies with the process that started it
// (PR_SET_PDEATHSIG), so a test binary killed by Bazel's timeout leaves
// no VM behind.
//
// The accelerator ([ChooseAccel]): an openable /dev/kvm proves little (a
// nested or paravirtual KVM may create VMs and still fail to run a stock
// kernel), so auto mode uses KVM only when a probe boot of the same kernel
// under the same QEMU reached the end of the kernel's boot. The verdict is
// cached per host boot, QEMU binary and kernel ([KVMProber]); without
// KVM, TCG runs in a mode that is not flaky with this QEMU (see
// [TCGMode]), the timeout is scaled, and the [Outcome] says why KVM was
// not used. KTSTR_ACCEL=kvm where the probe fails is an error at once
// ([ErrKVMUnusable], a [FailAccel] *BootError). Failures are
// [*BootError]s carrying the tail of the console; [FailureKind.GuestCaused]
// tells those a second run can explain from those it cannot.
//
// [BuildInitramfs] writes the newc archive with u-root's cpio package,
// adding the shared libraries a dynamically linked binary needs.
package runner
