package runner

import (
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
)

// Timing is when a run's fixed points happened, as durations since QEMU
// started (zero: not reached). The host's own points are read off its
// clock; the guest's are its CLOCK_MONOTONIC readings moved onto the
// host's clock by [Timing.Guest].
type Timing struct {
	// Start is when QEMU was started (the host's wall clock).
	Start time.Time `json:"start"`
	// Cont is when the paused guest was let run (QMP cont).
	Cont time.Duration `json:"cont_ns"`
	// Hello, Result and Done are when init's messages arrived.
	Hello  time.Duration `json:"hello_ns,omitempty"`
	Result time.Duration `json:"result_ns,omitempty"`
	Done   time.Duration `json:"done_ns,omitempty"`
	// Shutdown is QEMU's SHUTDOWN event (the guest powered off), Exit
	// the QEMU process's end.
	Shutdown time.Duration `json:"shutdown_ns,omitempty"`
	Exit     time.Duration `json:"exit_ns,omitempty"`
	// GuestZero is where the guest's clock reads zero on this timeline:
	// the least of every message's arrival minus the guest time it was
	// sent at (delivery only ever adds), so it is late by at most the
	// fastest delivery. The guest's clock starts early in the kernel's
	// boot, a few ms after its entry point.
	GuestZero time.Duration `json:"guest_zero_ns,omitempty"`
	// GuestKnown is true once a message carried a guest time.
	GuestKnown bool `json:"guest_known,omitempty"`
}

// since is at as an offset from the run's start.
func (t *Timing) since(at time.Time) time.Duration { return at.Sub(t.Start) }

// message records a message that arrived at at.
func (t *Timing) message(m *wire.Message, at time.Time) {
	d := t.since(at)
	switch m.Kind {
	case wire.KindHello:
		t.Hello = d
	case wire.KindResult:
		t.Result = d
	case wire.KindDone:
		t.Done = d
	}
	if m.UptimeMs <= 0 {
		return
	}
	zero := d - time.Duration(m.UptimeMs*float64(time.Millisecond))
	if !t.GuestKnown || zero < t.GuestZero {
		t.GuestZero, t.GuestKnown = zero, true
	}
}

// Guest moves a guest CLOCK_MONOTONIC reading (ms) onto the run's
// timeline; ok is false when no message has told where the guest's
// clock starts, or ms is not a reading.
func (t *Timing) Guest(ms float64) (d time.Duration, ok bool) {
	if !t.GuestKnown || ms <= 0 {
		return 0, false
	}
	return t.GuestZero + time.Duration(ms*float64(time.Millisecond)), true
}

// PhaseTime is how long one phase of a run took.
type PhaseTime struct {
	Name string  `json:"name"`
	Ms   float64 `json:"ms"`
}

// Phase names of [Outcome.Breakdown], in order.
const (
	PhaseToKernel    = "QEMU start to kernel"
	PhaseToInit      = "kernel to init"
	PhaseInitSetup   = "init to test binary"
	PhaseBinaryStart = "test binary start"
	PhaseWorkers     = "workers start"
	PhaseScenario    = "scenario"
	PhaseCollect     = "collect"
	PhaseTestExit    = "test binary exit"
	PhaseReport      = "report"
	PhasePowerOff    = "power-off"
	PhaseQEMUExit    = "QEMU exit"
)

// Breakdown splits the run, from QEMU's start to its exit, into phases,
// from the host's clock and the guest's timestamps: QEMU start to the
// kernel (QEMU's set-up, the paused start, the kernel's entry), kernel to
// init, init's set-up until it starts the test binary (mounts, cgroups,
// the scheduler), the test binary's start until its test runs, the
// workers' start, the scenario, collecting the workers, the test
// binary's end (its report written), the report until init sent it (the
// scheduler's stop, reading the report), power-off
// until QEMU's SHUTDOWN event, and QEMU's exit. A point the run did not
// reach (or report) folds its phase into the next one, named "a + b".
func (o *Outcome) Breakdown() []PhaseTime {
	t := &o.Timing
	type point struct {
		phase string
		at    time.Duration
		ok    bool
	}
	guest := func(phase string, ms float64) point {
		d, ok := t.Guest(ms)
		return point{phase, d, ok}
	}
	host := func(phase string, d time.Duration) point { return point{phase, d, d > 0} }
	var (
		initMs, execMs, startMs, exitMs, sentMs float64
		ready, stop, stopped                    float64 = -1, -1, -1
	)
	if o.Hello != nil {
		initMs = o.Hello.InitUptimeMs
	}
	if r := o.Result; r != nil {
		execMs, exitMs = r.ExecUptimeMs, r.ExitUptimeMs
		if rep := r.Report; rep != nil && rep.StartUptimeMs > 0 {
			startMs = rep.StartUptimeMs
			for _, p := range rep.Phases {
				switch p.Name {
				case "workers-ready":
					ready = rep.StartUptimeMs + p.AtMs
				case "stop":
					stop = rep.StartUptimeMs + p.AtMs
				case "stopped":
					stopped = rep.StartUptimeMs + p.AtMs
				}
			}
		}
	}
	for _, m := range o.Messages {
		if m.Kind == wire.KindResult {
			sentMs = m.UptimeMs
		}
	}
	zero := point{PhaseToKernel, t.GuestZero, t.GuestKnown && t.GuestZero > 0}
	points := []point{
		zero,
		guest(PhaseToInit, initMs),
		guest(PhaseInitSetup, execMs),
		guest(PhaseBinaryStart, startMs),
		guest(PhaseWorkers, ready),
		guest(PhaseScenario, stop),
		guest(PhaseCollect, stopped),
		guest(PhaseTestExit, exitMs),
		guest(PhaseReport, sentMs),
		host(PhasePowerOff, t.Shutdown),
		host(PhaseQEMUExit, t.Exit),
	}
	var phases []PhaseTime
	var prev time.Duration
	pending := ""
	for _, p := range points {
		name := p.phase
		if pending != "" {
			name = pending + " + " + name
		}
		if !p.ok || p.at < prev {
			pending = name
			continue
		}
		phases = append(phases, PhaseTime{Name: name, Ms: float64(p.at-prev) / float64(time.Millisecond)})
		prev, pending = p.at, ""
	}
	return phases
}
