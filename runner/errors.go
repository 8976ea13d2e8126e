package runner

import (
	"errors"
	"fmt"
	"strings"
)

// ErrQEMUNotFound is returned (wrapped) when no QEMU binary can be found.
var ErrQEMUNotFound = errors.New("QEMU not found")

// FailureKind classifies a failed boot.
type FailureKind string

// Failure kinds.
const (
	FailSetup     FailureKind = "setup"       // bad input: missing kernel, initramfs, QEMU
	FailAccel     FailureKind = "accel"       // the accelerator asked for cannot run a guest here
	FailQEMU      FailureKind = "qemu-exit"   // QEMU exited on its own before the guest finished
	FailStopped   FailureKind = "vm-stopped"  // QEMU stopped the VM (internal error, pause): no progress possible
	FailPanic     FailureKind = "guest-panic" // the guest kernel panicked or reset
	FailTimeout   FailureKind = "timeout"     // nothing conclusive before the deadline
	FailNoResult  FailureKind = "no-result"   // the guest powered off without a final message
	FailCancelled FailureKind = "cancelled"   // the caller's context ended the run
	// FailPerfMode: performance mode was asked for and this host cannot
	// give it (a *perfmode.UnavailableError underneath).
	FailPerfMode FailureKind = "performance-mode"
)

// GuestCaused reports whether a failure of this kind came from what ran
// in the guest (a panic, a hang, a missing result), so that a second run
// with a louder kernel log can explain it. Bad input, an accelerator that
// cannot run a guest, QEMU exiting or stopping the VM, and a cancelled
// run come back the same whatever the guest does.
func (k FailureKind) GuestCaused() bool {
	switch k {
	case FailPanic, FailTimeout, FailNoResult:
		return true
	}
	return false
}

// BootError is a failed VM run with the console tail.
type BootError struct {
	Kind        FailureKind
	Detail      string
	ConsoleTail string
	Err         error
}

func (e *BootError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "VM %s: %s", e.Kind, e.Detail)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if t := strings.TrimRight(e.ConsoleTail, "\n"); t != "" {
		fmt.Fprintf(&b, "\n--- console tail ---\n%s\n--- end of console ---", t)
	}
	return b.String()
}

func (e *BootError) Unwrap() error { return e.Err }
