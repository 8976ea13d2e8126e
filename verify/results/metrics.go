package results

import (
	"sort"
	"strings"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/runner/monitor"
	"github.com/ktstr-go/ktstr/verify"
)

// SchemaVersion is the version of result.json's schema (docs/results.md).
// It changes when a field changes meaning or goes away; new fields do not
// change it.
const SchemaVersion = 1

// Better says which way a metric improves.
type Better string

// Directions.
const (
	Higher Better = "higher"
	Lower  Better = "lower"
)

// Spec describes a metric: which way is better, and the default limits
// of a regression: a change for the worse counts only when it exceeds
// both Rel (relative to the baseline's value) and Abs (in the metric's
// unit).
type Spec struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit"`
	Better Better  `json:"better"`
	Rel    float64 `json:"rel"`
	Abs    float64 `json:"abs"`
	Doc    string  `json:"doc"`
}

// specs are the metrics every result has (when it has workers, a
// monitor); per-cgroup and per-event metrics follow the patterns below.
var specs = []Spec{
	{"work_units", "units", Higher, 0.25, 0, "work units of all workers"},
	{"work_rate", "units/CPU-s", Higher, 0.25, 0, "work units per CPU-second, mean over workers"},
	{"min_work_units", "units", Higher, 0.5, 0, "work units of the worker that did least"},
	{"iterations", "iterations", Higher, 0.25, 0, "work-loop iterations of all workers"},
	{"max_gap_ms", "ms", Lower, 1.0, 250, "longest scheduling gap of any worker"},
	// Off-CPU spreads of short TCG runs swing by more than 10 points
	// between healthy runs (2.0 then 15.4 in two runs of
	// examples' TestCompareSubject); the spread check itself allows 35
	// under TCG.
	{"spread_pct", "%", Lower, 1.0, 20, "largest off-CPU spread within a cgroup"},
	{"off_cpu_pct", "%", Lower, 0.5, 10, "off-CPU time over wall time, mean over workers"},
	{"run_delay_ms", "ms", Lower, 1.0, 50, "run-queue delay per worker, mean"},
	{"migrations", "migrations", Lower, 1.0, 50, "CPU migrations of all workers"},
	// Wake latencies under TCG swing by several times between runs (34.8
	// ms then 188 ms, 5.4 times, in two healthy runs of TestCompareSubject).
	{"wake_p99_us", "µs", Lower, 10.0, 50000, "worst p99 wake latency of a worker"},
	{"checks_failed", "checks", Lower, 0, 0, "checks that failed"},
	{"bpf_verified_insns", "insns", Lower, 0.5, 1000, "instructions the kernel's verifier processed, summed over the scheduler's BPF programs (sched.programs lists them)"},
	{"monitor/max_imbalance", "ratio", Lower, 1.0, 2, "runqueue imbalance (max/min load, as the imbalance check counts it) held for the sustained-samples window (5), at its highest, while the workers ran"},
	{"monitor/max_local_dsq", "tasks", Lower, 1.0, 8, "local DSQ depth held for the sustained-samples window (5), at its deepest, while the workers ran"},
	// Scattered stalled samples come and go between healthy TCG runs (9
	// in one, 0 in the next); a stalled scheduler gives a hundred or
	// more. The stall check, not this metric, judges one run.
	{"monitor/stalled_cpu_samples", "samples", Lower, 1.0, 20, "CPU samples whose runqueue clock stood still with runnable tasks"},
	{"monitor/mean_nr_running", "tasks", Lower, 1.0, 2, "nr_running per CPU, mean while the workers ran"},
}

// cgroupSpec and eventSpec are the patterns for "cgroup/<name>/work_units"
// and "monitor/<event>_per_s".
var (
	cgroupSpec = Spec{Unit: "units", Better: Higher, Rel: 0.25, Doc: "work units of a cgroup's workers"}
	eventSpec  = Spec{Unit: "/s", Better: Lower, Rel: 1.0, Abs: 50, Doc: "a sched_ext event counter's rate while the workers ran"}
)

// SpecOf returns the spec of a metric name.
func SpecOf(name string) Spec {
	for _, s := range specs {
		if s.Name == name {
			return s
		}
	}
	switch {
	case strings.HasPrefix(name, "cgroup/") && strings.HasSuffix(name, "/work_units"):
		s := cgroupSpec
		s.Name = name
		return s
	case strings.HasPrefix(name, "monitor/") && strings.HasSuffix(name, "_per_s"):
		s := eventSpec
		s.Name = name
		return s
	}
	return Spec{Name: name, Better: Lower, Rel: 1.0, Doc: "unknown metric"}
}

// Specs lists the metrics, for documentation: the fixed ones, then the
// patterns of the per-cgroup and per-event ones.
func Specs() []Spec {
	c, e := cgroupSpec, eventSpec
	c.Name, e.Name = "cgroup/<name>/work_units", "monitor/<event>_per_s"
	return append(append([]Spec(nil), specs...), c, e)
}

// Metrics summarises one run. workers and checks may be empty; r (the
// monitor's report) may be nil; w is the span it is judged over.
func Metrics(workers []wire.WorkerReport, r *monitor.Report, w verify.Window, checks []verify.CheckResult) map[string]float64 {
	m := map[string]float64{}
	failed := 0
	for _, c := range checks {
		if !c.Passed {
			failed++
		}
	}
	m["checks_failed"] = float64(failed)
	if len(workers) > 0 {
		var units, iters, migr, rate, offPct, delay, wake float64
		minUnits := float64(workers[0].WorkUnits)
		var maxGap float64
		perCg := map[string]float64{}
		off := map[string][]float64{}
		for _, wr := range workers {
			u := float64(wr.WorkUnits)
			units += u
			minUnits = min(minUnits, u)
			iters += float64(wr.Iterations)
			migr += float64(wr.Migrations)
			rate += wr.WorkRate()
			maxGap = max(maxGap, float64(wr.MaxGapNs)/1e6)
			delay += float64(wr.RunDelayNs) / 1e6
			wake = max(wake, float64(wr.WakeLatencyP99Ns)/1e3)
			perCg[wr.Cgroup] += u
			if wr.WallNs > 0 {
				p := 100 * float64(wr.OffCPUNs) / float64(wr.WallNs)
				offPct += p
				if !wr.StoppedEarly {
					off[wr.Cgroup] = append(off[wr.Cgroup], p)
				}
			}
		}
		n := float64(len(workers))
		m["work_units"], m["min_work_units"], m["iterations"], m["migrations"] = units, minUnits, iters, migr
		m["work_rate"], m["off_cpu_pct"], m["run_delay_ms"] = rate/n, offPct/n, delay/n
		m["max_gap_ms"], m["wake_p99_us"] = maxGap, wake
		spread := 0.0
		for _, ps := range off {
			sort.Float64s(ps)
			if len(ps) > 1 {
				spread = max(spread, ps[len(ps)-1]-ps[0])
			}
		}
		m["spread_pct"] = spread
		for cg, u := range perCg {
			m["cgroup/"+cg+"/work_units"] = u
		}
	}
	if r != nil {
		samples := w.In(r)
		if len(samples) > 0 {
			var nr float64
			var n, stalled int
			imbs := make([]float64, len(samples))
			dsqs := make([]float64, len(samples))
			for i, s := range samples {
				imbs[i] = s.ImbalanceRatio()
				d, _ := s.MaxLocalDSQ()
				dsqs[i] = float64(d)
				for c, cs := range s.CPUs {
					nr += float64(cs.NrRunning)
					n++
					if i > 0 && c < len(samples[i-1].CPUs) {
						if verify.Stalled(samples[i-1].CPUs[c], cs) {
							stalled++
						}
					}
				}
			}
			m["monitor/max_imbalance"] = sustainedPeak(imbs, verify.DefaultSustainedSamples)
			m["monitor/max_local_dsq"] = sustainedPeak(dsqs, verify.DefaultSustainedSamples)
			m["monitor/stalled_cpu_samples"] = float64(stalled)
			if n > 0 {
				m["monitor/mean_nr_running"] = nr / float64(n)
			}
			first, last := -1, -1
			for i, s := range samples {
				if s.Scx && len(s.Events) > 0 {
					if first < 0 {
						first = i
					}
					last = i
				}
			}
			if first >= 0 && last > first {
				dt := (samples[last].GuestMs - samples[first].GuestMs) / 1000
				for k, v := range samples[last].Events {
					if d := v - samples[first].Events[k]; dt > 0 && d >= 0 {
						m["monitor/"+k+"_per_s"] = float64(d) / dt
					}
				}
			}
		}
	}
	return m
}

// sustainedPeak is the highest level held for n consecutive values: the
// largest minimum over any n consecutive values (the plain maximum when
// there are fewer than n).
func sustainedPeak(v []float64, n int) float64 {
	if len(v) == 0 {
		return 0
	}
	if len(v) < n {
		n = len(v)
	}
	best := 0.0
	for i := 0; i+n <= len(v); i++ {
		lo := v[i]
		for _, x := range v[i+1 : i+n] {
			lo = min(lo, x)
		}
		best = max(best, lo)
	}
	return best
}
