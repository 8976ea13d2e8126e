package runner

import (
	"math"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
)

func TestTimingGuestZeroIsTheEarliestEstimate(t *testing.T) {
	start := time.Unix(1000, 0)
	tm := Timing{Start: start}
	if _, ok := tm.Guest(5); ok {
		t.Fatal("Guest mapped a time before any message said where the guest clock starts")
	}
	// Sent at guest 1500 ms, arrived at host 2000 ms: zero at <= 500 ms.
	tm.message(&wire.Message{Kind: wire.KindHello, UptimeMs: 1500}, start.Add(2000*time.Millisecond))
	// A slower delivery must not move zero later.
	tm.message(&wire.Message{Kind: wire.KindLog, UptimeMs: 1600}, start.Add(2300*time.Millisecond))
	// A faster one moves it earlier.
	tm.message(&wire.Message{Kind: wire.KindResult, UptimeMs: 4000}, start.Add(4480*time.Millisecond))
	if tm.GuestZero != 480*time.Millisecond {
		t.Fatalf("GuestZero = %v, want 480ms", tm.GuestZero)
	}
	if tm.Hello != 2000*time.Millisecond || tm.Result != 4480*time.Millisecond {
		t.Fatalf("Hello %v, Result %v: want the arrival times", tm.Hello, tm.Result)
	}
	if d, ok := tm.Guest(100); !ok || d != 580*time.Millisecond {
		t.Fatalf("Guest(100) = %v, %v; want 580ms", d, ok)
	}
}

func outcomeFor(t *testing.T, report *wire.TestReport) *Outcome {
	t.Helper()
	start := time.Unix(1000, 0)
	o := &Outcome{Timing: Timing{Start: start}}
	ms := func(v float64) time.Time { return start.Add(time.Duration(v * float64(time.Millisecond))) }
	// The guest clock starts 300 ms after QEMU; deliveries take 0 ms.
	hello := wire.Message{Kind: wire.KindHello, UptimeMs: 1300, Hello: &wire.Hello{InitUptimeMs: 1200}}
	result := wire.Message{Kind: wire.KindResult, UptimeMs: 5000, Result: &wire.TestResult{ExecUptimeMs: 1400, ExitUptimeMs: 4900, Report: report}}
	for _, m := range []wire.Message{hello, result} {
		o.record(&m)
		o.Timing.message(&m, ms(m.UptimeMs+300))
	}
	o.Timing.Shutdown = 5500 * time.Millisecond
	o.Timing.Exit = 5600 * time.Millisecond
	return o
}

func TestBreakdownCoversTheRunPhaseByPhase(t *testing.T) {
	rep := &wire.TestReport{StartUptimeMs: 1600, Phases: []wire.Phase{
		{Name: "workers-ready", AtMs: 100}, {Name: "midpoint", AtMs: 1100},
		{Name: "stop", AtMs: 2100}, {Name: "stopped", AtMs: 2200},
	}}
	got := outcomeFor(t, rep).Breakdown()
	want := []PhaseTime{
		{PhaseToKernel, 300}, {PhaseToInit, 1200}, {PhaseInitSetup, 200},
		{PhaseBinaryStart, 200}, {PhaseWorkers, 100}, {PhaseScenario, 2000},
		{PhaseCollect, 100}, {PhaseTestExit, 1100}, {PhaseReport, 100},
		{PhasePowerOff, 200}, {PhaseQEMUExit, 100},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d phases %v, want %v", len(got), got, want)
	}
	var sum float64
	for i := range want {
		if got[i].Name != want[i].Name || math.Abs(got[i].Ms-want[i].Ms) > 1e-6 {
			t.Errorf("phase %d = %+v, want %+v", i, got[i], want[i])
		}
		sum += got[i].Ms
	}
	if math.Abs(sum-5600) > 1e-6 {
		t.Errorf("phases add up to %v ms, want QEMU's 5600 ms", sum)
	}
}

func TestBreakdownFoldsWhatTheRunDidNotReport(t *testing.T) {
	// No report: the test binary's own points are unknown.
	got := outcomeFor(t, nil).Breakdown()
	names := make([]string, len(got))
	for i, p := range got {
		names[i] = p.Name
	}
	folded := PhaseBinaryStart + " + " + PhaseWorkers + " + " + PhaseScenario + " + " + PhaseCollect + " + " + PhaseTestExit
	want := []string{PhaseToKernel, PhaseToInit, PhaseInitSetup, folded, PhaseReport, PhasePowerOff, PhaseQEMUExit}
	if len(names) != len(want) {
		t.Fatalf("phases %q, want %q", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("phase %d = %q, want %q", i, names[i], want[i])
		}
	}
	if got[3].Ms != 3500 {
		t.Errorf("folded phase %v ms, want 3500 (exec at 1400 to exit at 4900)", got[3].Ms)
	}
	if (&Outcome{}).Breakdown() != nil {
		t.Error("a run that never started has phases")
	}
}
