package workload

import (
	"fmt"
	"strings"
)

// WorkType names what a worker does in its loop.
type WorkType string

// Work types. The other nine of the reference's twelve (Mixed, IoSync,
// PipeIo, the futex, cache and sequence types) are still to come.
const (
	// CpuSpin burns CPU in short blocks of integer arithmetic and never
	// blocks voluntarily. An iteration is one block.
	CpuSpin WorkType = "CpuSpin"
	// YieldHeavy spins one block, then calls sched_yield.
	YieldHeavy WorkType = "YieldHeavy"
	// Bursty spins for BurstMs, then sleeps for SleepMs; an iteration is
	// one burst and sleep, and every wake-up's lateness is a wake
	// latency sample.
	Bursty WorkType = "Bursty"
)

var knownWork = []WorkType{CpuSpin, YieldHeavy, Bursty}

// Validate rejects unknown work types with the list of known ones.
func (w WorkType) Validate() error {
	if w == "" {
		return nil
	}
	for _, k := range knownWork {
		if w == k {
			return nil
		}
	}
	names := make([]string, len(knownWork))
	for i, k := range knownWork {
		names[i] = string(k)
	}
	return fmt.Errorf("unknown work type %q (known: %s)", string(w), strings.Join(names, ", "))
}

// Spec says how to start one worker.
type Spec struct {
	// Cgroup is the cgroup's name, used in reports.
	Cgroup string `json:"cgroup"`
	// CgroupDir is the cgroup's directory; the child starts inside it.
	CgroupDir string `json:"cgroup_dir"`
	// Index numbers the worker within its cgroup.
	Index int `json:"index"`
	// Work is what the worker does; "" means CpuSpin.
	Work WorkType `json:"work"`
	// AllowedCPUs is the cgroup's cpuset ("" = unrestricted), copied into
	// the report for the isolation check.
	AllowedCPUs string `json:"allowed_cpus,omitempty"`
	// Affinity, when set, is a cpulist the worker pins itself to before
	// it reports ready.
	Affinity string `json:"affinity,omitempty"`
	// BurstMs and SleepMs shape Bursty work.
	BurstMs int `json:"burst_ms,omitempty"`
	SleepMs int `json:"sleep_ms,omitempty"`
	// Policy and Priority are the worker's scheduling policy ("" is
	// normal) and its real-time priority (fifo and rr only).
	Policy   Policy `json:"policy,omitempty"`
	Priority int    `json:"priority,omitempty"`
}

// Validate checks the spec's work parameters.
func (s Spec) Validate() error {
	if err := s.Work.Validate(); err != nil {
		return err
	}
	if s.Work == Bursty && (s.BurstMs <= 0 || s.SleepMs <= 0) {
		return fmt.Errorf("work type Bursty needs burst_ms > 0 and sleep_ms > 0 (got %d, %d)", s.BurstMs, s.SleepMs)
	}
	if s.BurstMs < 0 || s.SleepMs < 0 {
		return fmt.Errorf("burst_ms and sleep_ms must be >= 0 (got %d, %d)", s.BurstMs, s.SleepMs)
	}
	return ValidatePolicy(s.Policy, s.Priority)
}
