package workload

import (
	"fmt"
	"strings"
)

// Policy is the scheduling policy a worker runs under.
type Policy string

// Scheduling policies. The real-time ones (fifo, rr) take a priority from
// 1 to 99 and run in the kernel's RT class, beside (not under) a
// sched_ext scheduler; batch and idle are fair-class policies that
// sched_ext schedulers see too.
const (
	PolicyNormal Policy = "normal" // SCHED_NORMAL, the default
	PolicyBatch  Policy = "batch"  // SCHED_BATCH
	PolicyIdle   Policy = "idle"   // SCHED_IDLE
	PolicyFIFO   Policy = "fifo"   // SCHED_FIFO with a priority
	PolicyRR     Policy = "rr"     // SCHED_RR with a priority
)

// Linux policy numbers (include/uapi/linux/sched.h).
var policyNumbers = map[Policy]uint32{PolicyNormal: 0, PolicyFIFO: 1, PolicyRR: 2, PolicyBatch: 3, PolicyIdle: 5}

var knownPolicies = []Policy{PolicyNormal, PolicyBatch, PolicyIdle, PolicyFIFO, PolicyRR}

// RealTime reports whether p takes a priority.
func (p Policy) RealTime() bool { return p == PolicyFIFO || p == PolicyRR }

// ValidatePolicy checks a policy and its priority ("" means normal).
func ValidatePolicy(p Policy, priority int) error {
	if p == "" {
		p = PolicyNormal
	}
	if _, ok := policyNumbers[p]; !ok {
		names := make([]string, len(knownPolicies))
		for i, k := range knownPolicies {
			names[i] = string(k)
		}
		return fmt.Errorf("unknown scheduling policy %q (known: %s)", string(p), strings.Join(names, ", "))
	}
	switch {
	case p.RealTime() && (priority < 1 || priority > 99):
		return fmt.Errorf("policy %s needs a priority from 1 to 99, got %d", p, priority)
	case !p.RealTime() && priority != 0:
		return fmt.Errorf("policy %s takes no priority (only fifo and rr do), got %d", p, priority)
	}
	return nil
}

// policyName is the Policy of a Linux policy number.
func policyName(n uint32) Policy {
	for p, v := range policyNumbers {
		if v == n {
			return p
		}
	}
	return Policy(fmt.Sprintf("policy-%d", n))
}
