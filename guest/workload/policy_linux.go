package workload

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// applyPolicy sets the calling thread's (the work loop's) scheduling
// policy, and returns the policy and priority the kernel then reports.
func applyPolicy(p Policy, priority int) (Policy, int, error) {
	if p == "" {
		p = PolicyNormal
	}
	// The default policy is left alone, as the reference does: a
	// sched_setattr re-queues the task, which a scheduler under test
	// would see as one more event.
	if p != PolicyNormal {
		attr := unix.SchedAttr{Policy: policyNumbers[p], Priority: uint32(priority)}
		if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
			return "", 0, fmt.Errorf("sched_setattr(%s, priority %d): %w", p, priority, err)
		}
	}
	got, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		return "", 0, fmt.Errorf("sched_getattr: %w", err)
	}
	return policyName(got.Policy), int(got.Priority), nil
}
