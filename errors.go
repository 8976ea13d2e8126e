package ktstr

import "github.com/ktstr-go/ktstr/internal/hostrun"

// The error of a failed run ([Result.Err]) is one of these types, or a
// *runner.BootError for a VM that failed as a machine (a panic, a hang,
// QEMU stopping it); the typed errors underneath (kernel.ErrNoKernel,
// runner.ErrQEMUNotFound, runner.ErrKVMUnusable) stay reachable with
// errors.Is and errors.As.
type (
	// SetupError is a run that could not start; it matches ErrSetup.
	SetupError = hostrun.SetupError
	// SchedulerError is a scheduler under test that did not start, or
	// that died while the test ran.
	SchedulerError = hostrun.SchedulerError
	// MapWriteError is a BpfMapWrite that was not done.
	MapWriteError = hostrun.MapWriteError
	// GuestError is a test that failed inside the guest before any check
	// could judge it.
	GuestError = hostrun.GuestError
	// ChecksError is a run whose checks failed.
	ChecksError = hostrun.ChecksError
)

// ErrSetup is matched (errors.Is) by every failure that happened before
// the test could run: no kernel, no QEMU, an accelerator that cannot run
// a guest, a missing scheduler binary or runfile, a bad environment
// variable. A setup failure says nothing about the scheduler.
var ErrSetup = hostrun.ErrSetup
