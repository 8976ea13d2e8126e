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
	FailQEMU      FailureKind = "qemu-exit"   // QEMU exited on its own before the guest finished
	FailPanic     FailureKind = "guest-panic" // the guest kernel panicked or reset
	FailTimeout   FailureKind = "timeout"     // nothing conclusive before the deadline
	FailNoResult  FailureKind = "no-result"   // the guest powered off without a final message
	FailCancelled FailureKind = "cancelled"   // the caller's context ended the run
)

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
