// Package hostrun is the host side of one ktstr test run, apart from the
// testing glue of the root package: resolve the kernel, pack the
// initramfs, write the guest's request, boot the VM (package runner), and
// turn what went wrong into typed errors (SetupError, SchedulerError,
// MapWriteError, GuestError, ChecksError, or the runner's BootError), of
// which Explainable tells those a second run can say more about. The
// root package aliases the error types for users.
package hostrun
