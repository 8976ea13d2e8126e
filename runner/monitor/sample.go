package monitor

// CPUSample is one CPU at one sample.
type CPUSample struct {
	NrRunning    uint32 `json:"nr_running"`
	ScxNrRunning uint32 `json:"scx_nr_running,omitempty"`
	LocalDSQ     uint32 `json:"local_dsq_depth,omitempty"`
	// ClockNs is rq->clock.
	ClockNs uint64 `json:"rq_clock_ns"`
	// VCPURunNs is the CPU time of the host thread running this vCPU
	// (shared by all vCPUs under single-threaded TCG), and VCPUWaitNs the
	// time it waited for a host CPU while runnable, from schedstat.
	VCPURunNs  uint64 `json:"vcpu_run_ns,omitempty"`
	VCPUWaitNs uint64 `json:"vcpu_wait_ns,omitempty"`
}

// Sample is the guest at one instant.
type Sample struct {
	// HostMs is host time since the monitor started.
	HostMs float64 `json:"host_ms"`
	// GuestMs is guest uptime from jiffies.
	GuestMs float64 `json:"guest_ms"`
	// Jiffies is jiffies_64.
	Jiffies uint64      `json:"jiffies"`
	CPUs    []CPUSample `json:"cpus"`
	// Scx is true while a sched_ext scheduler is attached (scx_root set).
	Scx bool `json:"scx,omitempty"`
	// Events are sched_ext's event counters, summed over CPUs, while
	// Scx (kernel names without the SCX_EV_ prefix, lower case).
	Events map[string]int64 `json:"events,omitempty"`
}

// Load is the CPU's runqueue load as the scheduler placed it: its tasks
// of other classes, the tasks in its local DSQ, and the sched_ext task it
// runs. sched_ext counts a task waiting in a shared or custom DSQ in the
// nr_running of the CPU it last ran on, which says nothing about where it
// will run: a fair global-queue scheduler would look imbalanced. Without
// sched_ext it is nr_running.
func (c CPUSample) Load() uint32 {
	if c.ScxNrRunning == 0 || c.ScxNrRunning > c.NrRunning {
		return c.NrRunning
	}
	load := c.NrRunning - c.ScxNrRunning + c.LocalDSQ
	if c.ScxNrRunning > c.LocalDSQ {
		load++ // one of them runs
	}
	return load
}

// ImbalanceRatio is max(load) / max(1, min(load)) over CPUs (see
// [CPUSample.Load]).
func (s Sample) ImbalanceRatio() float64 {
	if len(s.CPUs) == 0 {
		return 1
	}
	lo, hi := s.CPUs[0].Load(), s.CPUs[0].Load()
	for _, c := range s.CPUs[1:] {
		lo, hi = min(lo, c.Load()), max(hi, c.Load())
	}
	return float64(hi) / float64(max(lo, 1))
}

// MaxLocalDSQ is the deepest local DSQ and its CPU.
func (s Sample) MaxLocalDSQ() (depth uint32, cpu int) {
	for i, c := range s.CPUs {
		if c.LocalDSQ > depth {
			depth, cpu = c.LocalDSQ, i
		}
	}
	return depth, cpu
}

// WatchdogReport says what the watchdog override did.
type WatchdogReport struct {
	// RequestedS is the timeout asked for.
	RequestedS float64 `json:"requested_s"`
	// Applied is true once it was written into the running scheduler.
	Applied bool `json:"applied"`
	// OriginalJiffies is the scheduler's own timeout; WrittenJiffies
	// what the monitor wrote; HZ the tick rate used.
	OriginalJiffies uint64 `json:"original_jiffies,omitempty"`
	WrittenJiffies  uint64 `json:"written_jiffies,omitempty"`
	HZ              int    `json:"hz,omitempty"`
	// AtGuestMs is when it was applied.
	AtGuestMs float64 `json:"at_guest_ms,omitempty"`
	// Bridged is true when the kernel's watchdog work was still queued
	// on the scheduler's longer interval, so the monitor kept the tick
	// watchdog quiet and checked runnable tasks itself until the work ran.
	Bridged bool `json:"bridged,omitempty"`
	// Stalled names a task the monitor found runnable for longer than
	// the timeout while bridging; the monitor then let the kernel's tick
	// watchdog fire.
	Stalled string `json:"stalled,omitempty"`
	// Note says why it was not applied, when it was not.
	Note string `json:"note,omitempty"`
}

// Report is everything a monitor run produced.
type Report struct {
	IntervalMs float64  `json:"interval_ms"`
	Samples    []Sample `json:"samples"`
	// Unavailable lists what could not be measured, and why.
	Unavailable []string `json:"unavailable,omitempty"`
	// Error is why the monitor stopped early or never started.
	Error string `json:"error,omitempty"`
	// HostCPUNs is the CPU time the monitor's sampling thread used;
	// HostWallNs how long it ran.
	HostCPUNs  int64 `json:"host_cpu_ns"`
	HostWallNs int64 `json:"host_wall_ns"`
	// SymbolSource says where symbol addresses came from.
	SymbolSource string          `json:"symbol_source,omitempty"`
	Watchdog     *WatchdogReport `json:"watchdog,omitempty"`
}

// AttachSpan is when a sched_ext scheduler was first seen attached, and
// when it was first seen gone again (guest uptime in ms; 0 for never).
func (r *Report) AttachSpan() (on, off float64) {
	for _, s := range r.Samples {
		switch {
		case s.Scx && on == 0:
			on = s.GuestMs
		case !s.Scx && on != 0:
			return on, s.GuestMs
		}
	}
	return on, 0
}
