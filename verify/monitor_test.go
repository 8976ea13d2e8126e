package verify

import (
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/runner/monitor"
)

// series builds a report of samples 100 ms apart from per-sample CPU
// states; f fills sample i.
func series(n, cpus int, f func(i int, s *monitor.Sample)) *monitor.Report {
	r := &monitor.Report{IntervalMs: 100}
	for i := range n {
		s := monitor.Sample{GuestMs: 1000 + float64(i)*100, CPUs: make([]monitor.CPUSample, cpus), Scx: true, Events: map[string]int64{}}
		for c := range s.CPUs {
			s.CPUs[c] = monitor.CPUSample{NrRunning: 1, ClockNs: uint64(i+1) * 100e6, VCPURunNs: uint64(i+1) * 50e6}
		}
		f(i, &s)
		r.Samples = append(r.Samples, s)
	}
	return r
}

func byName(rs []CheckResult) map[string]CheckResult {
	m := map[string]CheckResult{}
	for _, r := range rs {
		m[r.Name] = r
	}
	return m
}

var th = Defaults(Env{})

func TestMonitorHealthyRunPasses(t *testing.T) {
	r := series(20, 4, func(i int, s *monitor.Sample) {
		s.Events[EventFallback], s.Events[EventKeepLast] = int64(i), int64(2*i)
	})
	for _, c := range EvaluateMonitor(r, Window{}, th, true) {
		if !c.Passed || c.Skipped {
			t.Errorf("%s", c)
		}
	}
}

func TestMonitorImbalanceMustBeSustained(t *testing.T) {
	// Four samples of 10:1 pass (sustained is 5), five fail.
	for _, tc := range []struct {
		bad  int
		fail bool
	}{{4, false}, {5, true}} {
		r := series(20, 2, func(i int, s *monitor.Sample) {
			if i >= 3 && i < 3+tc.bad {
				s.CPUs[0].NrRunning = 10
			}
		})
		c := byName(EvaluateMonitor(r, Window{}, th, true))[CheckImbalance]
		if c.Passed == tc.fail {
			t.Errorf("%d bad samples: %s", tc.bad, c)
		}
		if tc.fail && (c.AtMs != 1000+7*100 || !strings.Contains(c.Message, "10 1")) {
			t.Errorf("violation at %v, message %q: want it at the fifth bad sample with the per-CPU counts", c.AtMs, c.Message)
		}
	}
}

// TestMonitorImbalanceUnderEEVDF: EEVDF's default thresholds (see
// ktstr.Spec.Thresholds) have no imbalance limit, and the check says it
// was skipped and why; a limit the test sets is judged.
func TestMonitorImbalanceUnderEEVDF(t *testing.T) {
	r := series(20, 2, func(i int, s *monitor.Sample) { s.CPUs[0].NrRunning = 10 })
	off := th
	off.MaxImbalanceRatio = 0
	if c := byName(EvaluateMonitor(r, Window{}, off, false))[CheckImbalance]; !c.Skipped || !strings.Contains(c.Message, "cgroup weight") {
		t.Errorf("EEVDF without a limit: %s, want skipped with the reason", c)
	}
	if c := byName(EvaluateMonitor(r, Window{}, th, false))[CheckImbalance]; c.Passed {
		t.Errorf("EEVDF with a limit of %v: %s, want failed", th.MaxImbalanceRatio, c)
	}
	if _, ok := byName(EvaluateMonitor(r, Window{}, off, true))[CheckImbalance]; ok {
		t.Errorf("sched_ext with the check off: want no imbalance result")
	}
}

func TestMonitorDSQDepthNamesTheCPU(t *testing.T) {
	r := series(10, 3, func(i int, s *monitor.Sample) { s.CPUs[2].LocalDSQ = 60 })
	c := byName(EvaluateMonitor(r, Window{}, th, true))[CheckDSQDepth]
	if c.Passed || !strings.Contains(c.Message, "cpu 2") {
		t.Errorf("%s", c)
	}
	// Not applicable without a sched_ext scheduler.
	c = byName(EvaluateMonitor(r, Window{}, th, false))[CheckDSQDepth]
	if !c.Skipped {
		t.Errorf("EEVDF: %s, want skipped", c)
	}
}

func TestMonitorStall(t *testing.T) {
	frozen := func(idle bool, vcpuRuns bool) *monitor.Report {
		return series(12, 2, func(i int, s *monitor.Sample) {
			if i >= 4 {
				s.CPUs[1].ClockNs = 400e6
				if idle {
					s.CPUs[1].NrRunning = 0
				}
				if !vcpuRuns {
					// The host kept the vCPU waiting: 80 ms per 100 ms sample.
					s.CPUs[1].VCPUWaitNs = uint64(i) * 80e6
				}
			}
		})
	}
	if c := byName(EvaluateMonitor(frozen(false, true), Window{}, th, true))[CheckStall]; c.Passed || !strings.Contains(c.Message, "cpu 1") {
		t.Errorf("frozen clock with runnable tasks: %s", c)
	}
	if c := byName(EvaluateMonitor(frozen(true, true), Window{}, th, true))[CheckStall]; !c.Passed {
		t.Errorf("an idle CPU's clock may stop: %s", c)
	}
	if c := byName(EvaluateMonitor(frozen(false, false), Window{}, th, true))[CheckStall]; !c.Passed {
		t.Errorf("a vCPU the host held off cannot advance its clock: %s", c)
	}
	off := th
	off.FailOnStall = Off
	if _, ok := byName(EvaluateMonitor(frozen(false, true), Window{}, off, true))[CheckStall]; ok {
		t.Errorf("fail_on_stall off must drop the check")
	}
}

func TestMonitorRates(t *testing.T) {
	// 50 fallbacks per 100 ms sample: 500/s, above 200/s.
	r := series(12, 2, func(i int, s *monitor.Sample) {
		s.Events[EventFallback] = int64(i) * 50
		s.Events[EventKeepLast] = int64(i) * 5 // 50/s
	})
	cs := byName(EvaluateMonitor(r, Window{}, th, true))
	if c := cs[CheckFallback]; c.Passed || !strings.Contains(c.Message, "500/s") {
		t.Errorf("%s", c)
	}
	if c := cs[CheckKeepLast]; !c.Passed {
		t.Errorf("%s", c)
	}
	// A new scheduler resets its counters: no negative rates.
	r = series(12, 2, func(i int, s *monitor.Sample) { s.Events[EventFallback] = int64(1000 - i) })
	if c := byName(EvaluateMonitor(r, Window{}, th, true))[CheckFallback]; !c.Passed {
		t.Errorf("falling counters: %s", c)
	}
}

func TestMonitorWindowAndMissingReport(t *testing.T) {
	r := series(30, 2, func(i int, s *monitor.Sample) {
		if i < 10 {
			s.CPUs[0].NrRunning = 20 // outside the window: ignored
		}
	})
	w := Window{FromMs: 2000, ToMs: 3500}
	if c := byName(EvaluateMonitor(r, w, th, true))[CheckImbalance]; !c.Passed || !strings.Contains(c.Message, "16 samples") {
		t.Errorf("%s", c)
	}
	for _, c := range EvaluateMonitor(&monitor.Report{Unavailable: []string{"no BTF"}}, Window{}, th, true) {
		if !c.Skipped || !strings.Contains(c.Message, "no BTF") {
			t.Errorf("unavailable: %s", c)
		}
	}
	for _, c := range EvaluateMonitor(&monitor.Report{Error: "symbols do not match"}, Window{}, th, true) {
		if c.Passed || !strings.Contains(c.Message, "failed: symbols") {
			t.Errorf("failed: %s", c)
		}
	}
}

func TestTestWindowAndPhases(t *testing.T) {
	rep := &wire.TestReport{
		StartUptimeMs: 1000,
		Phases:        []wire.Phase{{Name: "workers-ready", AtMs: 100}, {Name: "stop", AtMs: 1100}},
		Timeline:      []wire.Event{{AtMs: 100, Kind: "step", Step: 0}, {AtMs: 600, Kind: "step", Step: 1, Detail: "swap"}},
	}
	if w := TestWindow(rep); w.FromMs != 1100 || w.ToMs != 2100 {
		t.Errorf("window %+v", w)
	}
	r := series(30, 2, func(i int, s *monitor.Sample) {
		if s.GuestMs >= 1600 && s.GuestMs < 2100 {
			s.CPUs[0].LocalDSQ = 7
		}
	})
	ps := SummarizePhases(r, rep)
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "before,step 0,step 1: swap,after" {
		t.Fatalf("phases %v", names)
	}
	if ps[1].MaxLocalDSQ != 0 || ps[2].MaxLocalDSQ != 7 {
		t.Errorf("DSQ depth per phase: %+v", ps)
	}
	if !strings.Contains(FormatPhases(ps), "step 1: swap") {
		t.Errorf("%s", FormatPhases(ps))
	}
}

// A scheduler that strands every task holds up the test binary too: the
// test may begin after the watchdog ejected the scheduler. The monitor
// then judges the span the scheduler was attached, not the test's.
func TestDeathWindowCoversTheAttachedSpan(t *testing.T) {
	r := series(40, 2, func(i int, s *monitor.Sample) {
		s.Scx = i >= 5 && i < 30
		if i >= 8 && i < 30 {
			for c := range s.CPUs {
				s.CPUs[c].ClockNs = 800e6 // frozen with a task queued
			}
		}
	})
	rep := &wire.TestReport{StartUptimeMs: 4050} // after the ejection (sample 30, at 4000 ms)
	if got := byName(EvaluateMonitor(r, TestWindow(rep), th, true))[CheckStall]; !got.Passed {
		t.Fatalf("test window: %+v: the stall lies before it", got)
	}
	w := DeathWindow(rep, r)
	if w.FromMs != 1500 || w.ToMs != 4000 || w.BaseMs != 4050 {
		t.Fatalf("death window %+v, want 1500..4000 based at 4050", w)
	}
	got := byName(EvaluateMonitor(r, w, th, true))[CheckStall]
	if got.Passed || got.AtMs < 1500 || got.AtMs > 2500 {
		t.Fatalf("stall under the death window: %+v, want it to fail soon after 1.5s", got)
	}
	if w := DeathWindow(rep, &monitor.Report{}); w != TestWindow(rep) {
		t.Errorf("no attach seen: %+v, want the test window", w)
	}
	for _, p := range SummarizePhases(r, &wire.TestReport{StartUptimeMs: 9000, Timeline: []wire.Event{{Kind: "step"}}}) {
		if p.ToMs < p.FromMs {
			t.Errorf("phase %q reversed: %.0f..%.0f", p.Name, p.FromMs, p.ToMs)
		}
	}
}
