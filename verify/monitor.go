package verify

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ktstr-go/ktstr/runner/monitor"
)

// Monitor check names.
const (
	CheckImbalance = "imbalance"
	CheckDSQDepth  = "local_dsq_depth"
	CheckStall     = "stall"
	CheckFallback  = "fallback_rate"
	CheckKeepLast  = "keep_last_rate"
)

// Event counter keys the rate checks read (sched_ext's SCX_EV_* names
// in lower case, without the prefix).
const (
	EventFallback = "select_cpu_fallback"
	EventKeepLast = "dispatch_keep_last"
)

// MaxVCPUWaitNs is how long a vCPU's host thread may wait for a host CPU
// between two samples, runnable but not running, before a frozen
// runqueue clock is blamed on the host rather than the scheduler: a vCPU
// the host preempted cannot advance its clock. (A halted vCPU, idle while
// tasks wait, does not wait for the host: that is the stall.)
const MaxVCPUWaitNs = 50_000_000

// Stalled reports whether a CPU stalled between two samples: its runqueue
// clock stood still while it had runnable tasks in both, and the host did
// not hold its vCPU off (a preempted vCPU cannot advance its clock). The
// stall check, the per-phase summaries and the results metrics all count
// stalls with it.
func Stalled(prev, cur monitor.CPUSample) bool {
	preempted := cur.VCPUWaitNs > prev.VCPUWaitNs && cur.VCPUWaitNs-prev.VCPUWaitNs > MaxVCPUWaitNs
	return cur.ClockNs == prev.ClockNs && prev.NrRunning > 0 && cur.NrRunning > 0 && !preempted
}

// Window is a span of guest uptime, in milliseconds, that the monitor
// checks judge (ToMs 0: to the end). BaseMs is the uptime at which the
// test began: messages give times relative to it.
type Window struct{ FromMs, ToMs, BaseMs float64 }

// rel is a guest uptime as seconds into the test.
func (w Window) rel(ms float64) float64 { return (ms - w.BaseMs) / 1000 }

// In selects the samples of r within w.
func (w Window) In(r *monitor.Report) []monitor.Sample {
	var out []monitor.Sample
	for _, s := range r.Samples {
		if s.GuestMs >= w.FromMs && (w.ToMs == 0 || s.GuestMs <= w.ToMs) {
			out = append(out, s)
		}
	}
	return out
}

// sustained follows runs of consecutive violating samples.
type sustained struct {
	n             int // how many samples make a violation
	run, worstRun int
	worst         float64
	worstAtMs     float64
	where         string
	// firstAtMs is when a run first reached n samples.
	firstAtMs float64
}

func (t *sustained) record(bad bool, value, atMs float64, where string) {
	if !bad {
		t.run = 0
		return
	}
	t.run++
	if t.run == t.n && t.firstAtMs == 0 {
		t.firstAtMs = atMs
	}
	if t.run > t.worstRun || (t.run == t.worstRun && value > t.worst) {
		t.worstRun, t.worst, t.worstAtMs, t.where = t.run, value, atMs, where
	}
}

// EvaluateMonitor judges the monitor's samples within w against th. A
// violation counts only when it lasts SustainedSamples consecutive
// samples. scx says whether a sched_ext scheduler was under test: the
// local DSQ and event counter checks have nothing to judge under EEVDF
// and are reported as skipped.
func EvaluateMonitor(r *monitor.Report, w Window, th Thresholds, scx bool) []CheckResult {
	names := []string{CheckImbalance, CheckDSQDepth, CheckStall, CheckFallback, CheckKeepLast}
	on := map[string]bool{
		CheckImbalance: th.MaxImbalanceRatio > 0,
		CheckDSQDepth:  th.MaxLocalDSQDepth > 0,
		CheckStall:     th.FailOnStall.Enabled(),
		CheckFallback:  th.MaxFallbackRate > 0,
		CheckKeepLast:  th.MaxKeepLastRate > 0,
	}
	skip := func(name, why string) CheckResult {
		return CheckResult{Name: name, Passed: true, Skipped: true, Message: why}
	}
	var out []CheckResult
	each := func(f func(name string) CheckResult) []CheckResult {
		for _, n := range names {
			if on[n] {
				out = append(out, f(n))
			}
		}
		return out
	}
	switch {
	case r == nil:
		return each(func(n string) CheckResult { return skip(n, "the host monitor did not run") })
	case r.Error != "" && len(r.Samples) == 0:
		// The monitor was set up and failed: a harness problem that must
		// not pass for a clean run.
		return each(func(n string) CheckResult {
			return CheckResult{Name: n, Message: "the host monitor failed: " + r.Error}
		})
	case len(r.Samples) == 0 && len(r.Unavailable) > 0:
		return each(func(n string) CheckResult {
			return skip(n, "this kernel cannot be monitored: "+strings.Join(r.Unavailable, "; "))
		})
	}
	samples := w.In(r)
	if len(samples) < 2 {
		for _, n := range names {
			if on[n] {
				out = append(out, skip(n, fmt.Sprintf("%d monitor samples in the test's window: too few to judge", len(samples))))
			}
		}
		return out
	}
	if !on[CheckImbalance] && !scx {
		out = append(out, skip(CheckImbalance, "EEVDF balances cgroup weight, not task counts: the task-count imbalance check judges sched_ext schedulers (set MaxImbalanceRatio to judge EEVDF)"))
	}
	n := max(th.SustainedSamples, 1)
	span := fmt.Sprintf("%d samples over %.1fs of guest time", len(samples), (samples[len(samples)-1].GuestMs-samples[0].GuestMs)/1000)
	if on[CheckImbalance] {
		t := sustained{n: n}
		peak := 0.0
		for _, s := range samples {
			ratio := s.ImbalanceRatio()
			peak = max(peak, ratio)
			t.record(ratio > th.MaxImbalanceRatio, ratio, s.GuestMs, nrRunning(s))
		}
		out = append(out, verdict(CheckImbalance, t, n,
			fmt.Sprintf("imbalance ratio (max/min runqueue load) reached %.1f, above %.1f for %d consecutive samples ending %.1fs into the test (load per CPU: %s)", t.worst, th.MaxImbalanceRatio, t.worstRun, w.rel(t.worstAtMs), t.where),
			fmt.Sprintf("peak imbalance ratio %.1f (limit %.1f sustained over %d samples; %s)", peak, th.MaxImbalanceRatio, n, span)))
	}
	if on[CheckDSQDepth] {
		if !scx {
			out = append(out, skip(CheckDSQDepth, "no sched_ext scheduler under test: no local DSQs"))
		} else {
			t := sustained{n: n}
			var peak uint32
			for _, s := range samples {
				d, cpu := s.MaxLocalDSQ()
				peak = max(peak, d)
				t.record(int(d) > th.MaxLocalDSQDepth, float64(d), s.GuestMs, fmt.Sprintf("cpu %d", cpu))
			}
			out = append(out, verdict(CheckDSQDepth, t, n,
				fmt.Sprintf("local DSQ depth reached %.0f on %s, above %d for %d consecutive samples ending %.1fs into the test", t.worst, t.where, th.MaxLocalDSQDepth, t.worstRun, w.rel(t.worstAtMs)),
				fmt.Sprintf("deepest local DSQ %d (limit %d sustained over %d samples; %s)", peak, th.MaxLocalDSQDepth, n, span)))
		}
	}
	if on[CheckStall] {
		out = append(out, checkStall(samples, n, span, w))
	}
	for _, c := range []struct {
		name, event string
		limit       float64
	}{{CheckFallback, EventFallback, th.MaxFallbackRate}, {CheckKeepLast, EventKeepLast, th.MaxKeepLastRate}} {
		if !on[c.name] {
			continue
		}
		if !scx {
			out = append(out, skip(c.name, "no sched_ext scheduler under test: no sched_ext event counters"))
			continue
		}
		out = append(out, checkRate(samples, c.name, c.event, c.limit, n, span, w))
	}
	return out
}

func verdict(name string, t sustained, n int, failMsg, passMsg string) CheckResult {
	if t.worstRun >= n {
		return CheckResult{Name: name, Passed: false, Message: failMsg, AtMs: t.firstAtMs}
	}
	return CheckResult{Name: name, Passed: true, Message: passMsg}
}

func nrRunning(s monitor.Sample) string {
	parts := make([]string, len(s.CPUs))
	for i, c := range s.CPUs {
		parts[i] = fmt.Sprint(c.Load())
	}
	return strings.Join(parts, " ")
}

// checkStall finds a CPU whose runqueue clock stood still between
// samples while it had runnable tasks and its vCPU ran (an idle CPU's
// clock stops legitimately when its tick does).
func checkStall(samples []monitor.Sample, n int, span string, w Window) CheckResult {
	cpus := len(samples[0].CPUs)
	trackers := make([]sustained, cpus)
	for i := range trackers {
		trackers[i].n = n
	}
	for i := 1; i < len(samples); i++ {
		prev, cur := samples[i-1], samples[i]
		for c := 0; c < cpus && c < len(cur.CPUs) && c < len(prev.CPUs); c++ {
			p, q := prev.CPUs[c], cur.CPUs[c]
			bad := Stalled(p, q)
			trackers[c].record(bad, float64(q.NrRunning), cur.GuestMs, fmt.Sprintf("cpu %d", c))
		}
	}
	worst := -1
	for c := range trackers {
		if trackers[c].worstRun >= n && (worst < 0 || trackers[c].worstRun > trackers[worst].worstRun) {
			worst = c
		}
	}
	if worst >= 0 {
		t := trackers[worst]
		var also []string
		for c := range trackers {
			if c != worst && trackers[c].worstRun >= n {
				also = append(also, fmt.Sprint(c))
			}
		}
		msg := fmt.Sprintf("cpu %d: runqueue clock stood still for %d consecutive samples ending %.1fs into the test with %.0f runnable tasks, its vCPU not held off by the host", worst, t.worstRun, w.rel(t.worstAtMs), t.worst)
		if len(also) > 0 {
			sort.Strings(also)
			msg += " (also cpus " + strings.Join(also, ",") + ")"
		}
		first := t.firstAtMs
		for c := range trackers {
			if trackers[c].worstRun >= n && trackers[c].firstAtMs < first {
				first = trackers[c].firstAtMs
			}
		}
		return CheckResult{Name: CheckStall, Passed: false, Message: msg, AtMs: first}
	}
	return CheckResult{Name: CheckStall, Passed: true, Message: fmt.Sprintf("every CPU with runnable tasks advanced its runqueue clock (%s)", span)}
}

// checkRate judges an event counter's rate per second of guest time
// between consecutive samples of the same scheduler.
func checkRate(samples []monitor.Sample, name, event string, limit float64, n int, span string, w Window) CheckResult {
	t := sustained{n: n}
	peak, total, secs := 0.0, int64(0), 0.0
	seen := false
	for i := 1; i < len(samples); i++ {
		p, q := samples[i-1], samples[i]
		pv, ok1 := p.Events[event]
		qv, ok2 := q.Events[event]
		dt := (q.GuestMs - p.GuestMs) / 1000
		if !p.Scx || !q.Scx || !ok1 || !ok2 || dt <= 0 || qv < pv {
			t.record(false, 0, q.GuestMs, "")
			continue
		}
		seen = true
		rate := float64(qv-pv) / dt
		peak = max(peak, rate)
		total += qv - pv
		secs += dt
		t.record(rate > limit, rate, q.GuestMs, "")
	}
	if !seen {
		return CheckResult{Name: name, Passed: true, Skipped: true, Message: "no samples with the sched_ext event counter " + event + " (scheduler not attached while sampled, or the kernel lacks it)"}
	}
	avg := 0.0
	if secs > 0 {
		avg = float64(total) / secs
	}
	return verdict(name, t, n,
		fmt.Sprintf("%s at %.0f/s, above %.0f/s for %d consecutive samples ending %.1fs into the test (%d events over %.1fs, %.0f/s on average)", event, t.worst, limit, t.worstRun, w.rel(t.worstAtMs), total, secs, avg),
		fmt.Sprintf("%s peaked at %.0f/s, %.0f/s on average (limit %.0f/s sustained over %d samples; %s)", event, peak, avg, limit, n, span))
}
