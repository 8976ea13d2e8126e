package hostrun

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/verify"
)

// The error of a failed run (ktstr's Result.Err) is one of the types
// below, or a *runner.BootError for a VM that failed as a machine (a panic, a hang,
// QEMU stopping it); the typed errors underneath (kernel.ErrNoKernel,
// runner.ErrQEMUNotFound, runner.ErrKVMUnusable) stay reachable with
// errors.Is and errors.As.

// ErrSetup is matched (errors.Is) by every failure that happened before
// the test could run: no kernel, no QEMU, an accelerator that cannot run
// a guest, a missing scheduler binary or runfile, a bad environment
// variable. A setup failure says nothing about the scheduler.
var ErrSetup = errors.New("ktstr: setup failed")

// SetupError is a run that could not start; Err says why.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }

// Unwrap gives both ErrSetup and the cause.
func (e *SetupError) Unwrap() []error { return []error{ErrSetup, e.Err} }

// Setupf is a SetupError with a formatted cause.
func Setupf(format string, a ...any) error {
	return &SetupError{Err: fmt.Errorf(format, a...)}
}

// SchedulerError is a scheduler under test that did not start, or that
// died while the test ran.
type SchedulerError struct {
	Name string
	// Died is true when the scheduler was enabled and died afterwards;
	// false when it never started (a verifier rejection, a missing
	// kfunc, an early exit), which happens the same way every time.
	Died  bool
	Cause string
	// Output is the end of the scheduler's output; Dump the kernel's
	// sched_ext exit dump.
	Output, Dump string
}

func (e *SchedulerError) Error() string {
	var b strings.Builder
	if e.Died {
		fmt.Fprintf(&b, "scheduler %s died: %s", e.Name, e.Cause)
	} else {
		fmt.Fprintf(&b, "scheduler %s did not start: %s", e.Name, e.Cause)
	}
	if t := strings.TrimSpace(e.Output); t != "" {
		fmt.Fprintf(&b, "\n--- scheduler output ---\n%s", t)
	}
	if d := strings.TrimSpace(e.Dump); d != "" {
		fmt.Fprintf(&b, "\n--- kernel log (sched_ext exit dump) ---\n%s", d)
	}
	return b.String()
}

// MapWriteError is a BpfMapWrite that was not done: no such map, a bad
// key or value, or a test that ended before the write was due.
type MapWriteError struct{ Errors []string }

func (e *MapWriteError) Error() string {
	return "bpf_map_write failed: " + strings.Join(e.Errors, "; ")
}

// GuestError is a test that failed inside the guest before any check
// could judge it: its binary failed, timed out or wrote no report, or the
// scenario or init reported errors.
type GuestError struct {
	Reason string
	// OutputTail is the end of the test binary's output in the guest.
	OutputTail string
}

func (e *GuestError) Error() string {
	if e.OutputTail == "" {
		return e.Reason
	}
	return e.Reason + "\n--- guest output tail ---\n" + e.OutputTail
}

// ChecksError is a run whose checks failed.
type ChecksError struct{ Failed []verify.CheckResult }

func (e *ChecksError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, c := range e.Failed {
		parts[i] = c.String()
	}
	return "checks failed: " + strings.Join(parts, "; ")
}

// Explainable reports whether a second run with a verbose kernel log can
// say more about err: a scheduler that died, failed checks, a guest that
// panicked, hung or failed its test. Setup, accelerator, QEMU and
// verifier-rejection failures (a scheduler that never started) and bad
// map writes are deterministic: a rerun would only repeat them.
func Explainable(err error) bool {
	var (
		be *runner.BootError
		se *SchedulerError
		ce *ChecksError
		ge *GuestError
	)
	switch {
	case errors.Is(err, ErrSetup):
		return false
	case errors.As(err, &be):
		return be.Kind.GuestCaused()
	case errors.As(err, &se):
		return se.Died
	case errors.As(err, &ce), errors.As(err, &ge):
		return true
	}
	return false
}
