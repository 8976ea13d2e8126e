package wire

import "strconv"

// WorkerReport is what one worker process measured over its run. Times are
// nanoseconds; CPU time comes from schedstat (sum_exec_runtime), which is
// meaningful under emulation where the user/system split of rusage is not.
type WorkerReport struct {
	Cgroup string `json:"cgroup"`
	Index  int    `json:"index"`
	PID    int    `json:"pid"`
	Work   string `json:"work"`

	// WorkUnits counts completed units of work (for CpuSpin, blocks of
	// arithmetic); Iterations counts passes of the outer work loop.
	WorkUnits  uint64 `json:"work_units"`
	Iterations uint64 `json:"iterations"`

	WallNs     uint64 `json:"wall_ns"`
	CPUTimeNs  uint64 `json:"cpu_time_ns"`
	OffCPUNs   uint64 `json:"off_cpu_ns"`
	RunDelayNs uint64 `json:"run_delay_ns"`
	Timeslices uint64 `json:"timeslices"`

	VoluntarySwitches   uint64 `json:"voluntary_switches"`
	InvoluntarySwitches uint64 `json:"involuntary_switches"`
	Migrations          uint64 `json:"migrations"`
	CPUsUsed            []int  `json:"cpus_used"`
	// MigrationEvents are the CPU changes the worker saw (when, since its
	// start, from and to), the first 256; Migrations is the kernel's
	// count of them all.
	MigrationEvents []Migration `json:"migration_events,omitempty"`

	// MaxGapNs is the longest stretch between two consecutive progress
	// points of the work loop, MaxGapCPU the CPU the worker resumed on and
	// MaxGapAtNs when (since the worker started) the gap ended.
	MaxGapNs   uint64 `json:"max_gap_ns"`
	MaxGapCPU  int    `json:"max_gap_cpu"`
	MaxGapAtNs uint64 `json:"max_gap_at_ns"`

	// Wake latency of workers that block (Bursty, IoSync, PipeIo, ...):
	// how late they ran after the wake-up was due, over WakeSamples
	// wake-ups (the p99, mean and CV of at most 65536 kept samples).
	WakeSamples       uint64  `json:"wake_samples,omitempty"`
	WakeLatencyP99Ns  uint64  `json:"wake_latency_p99_ns,omitempty"`
	WakeLatencyMeanNs float64 `json:"wake_latency_mean_ns,omitempty"`
	WakeLatencyCV     float64 `json:"wake_latency_cv,omitempty"`

	// StoppedEarly is set for a worker a scenario stopped before the end
	// (stop_cgroup, remove_cgroup): the fairness spread leaves it out.
	StoppedEarly bool `json:"stopped_early,omitempty"`

	// AllowedCPUs is the cpuset the worker was confined to ("" = any).
	AllowedCPUs string `json:"allowed_cpus,omitempty"`
	// Policy and Priority are the scheduling policy and real-time
	// priority the kernel reported for the worker's thread.
	Policy   string `json:"policy,omitempty"`
	Priority int    `json:"priority,omitempty"`

	Error string `json:"error,omitempty"`
}

// Name identifies a worker in messages: "cgroup[index] (pid N)".
func (w WorkerReport) Name() string {
	return w.Cgroup + "[" + strconv.Itoa(w.Index) + "] (pid " + strconv.Itoa(w.PID) + ")"
}

// WorkRate is work units per CPU-second (0 without CPU time).
func (w WorkerReport) WorkRate() float64 {
	if w.CPUTimeNs == 0 {
		return 0
	}
	return float64(w.WorkUnits) / (float64(w.CPUTimeNs) / 1e9)
}

// IterationRate is iterations per wall-clock second.
func (w WorkerReport) IterationRate() float64 {
	if w.WallNs == 0 {
		return 0
	}
	return float64(w.Iterations) / (float64(w.WallNs) / 1e9)
}

// OffCPUPct is the share of wall time the worker was not running.
func (w WorkerReport) OffCPUPct() float64 {
	if w.WallNs == 0 {
		return 0
	}
	return float64(w.OffCPUNs) / float64(w.WallNs) * 100
}

// Migration is one CPU change of a worker, AtNs after it started.
type Migration struct {
	AtNs uint64 `json:"at_ns"`
	From int    `json:"from"`
	To   int    `json:"to"`
}
