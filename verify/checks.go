package verify

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/internal/stats"
	"github.com/ktstr-go/ktstr/topology"
)

// Check names, as they appear in results and in Bazel's test XML.
const (
	CheckWorkers    = "workers"
	CheckStarvation = "starvation"
	CheckSpread     = "spread"
	CheckGap        = "gap"
	CheckIsolation  = "isolation"
	CheckThroughput = "throughput_cv"
	CheckWorkRate   = "work_rate"
	CheckWakeP99    = "wake_latency_p99"
	CheckWakeCV     = "wake_latency_cv"
	CheckIterRate   = "iteration_rate"
	CheckMigration  = "migration_ratio"
)

// CheckResult is the verdict of one check.
type CheckResult struct {
	Name    string `json:"name"`
	Passed  bool   `json:"passed"`
	Message string `json:"message"`
	// Relaxed says why the limit used was relaxed ("" when it was not).
	Relaxed string `json:"relaxed,omitempty"`
	// Skipped is a check that could not judge (Passed is then true).
	Skipped bool `json:"skipped,omitempty"`
	// AtMs is, for a failed monitor check, the guest uptime at which the
	// violation had lasted long enough to count.
	AtMs float64 `json:"at_ms,omitempty"`
}

func (c CheckResult) String() string {
	verdict := "PASS"
	switch {
	case c.Skipped:
		verdict = "SKIP"
	case !c.Passed:
		verdict = "FAIL"
	}
	s := fmt.Sprintf("%s %s: %s", verdict, c.Name, c.Message)
	if c.Relaxed != "" {
		s += " [limit relaxed: " + c.Relaxed + "]"
	}
	return s
}

// Failed returns the checks that did not pass.
func Failed(results []CheckResult) []CheckResult {
	var out []CheckResult
	for _, r := range results {
		if !r.Passed {
			out = append(out, r)
		}
	}
	return out
}

// Evaluate runs every enabled worker-side check over the reports of one
// scenario. th must be the merged thresholds; env says whether the default
// limits were relaxed, so that messages can say so.
func Evaluate(reports []wire.WorkerReport, th Thresholds, env Env) []CheckResult {
	out := []CheckResult{checkWorkers(reports)}
	if len(reports) == 0 {
		return out // the workers check has failed; the others have nothing to judge
	}
	relaxed := env.Relaxed()
	if th.NotStarved.Enabled() {
		out = append(out, checkStarvation(reports))
		if th.MaxSpreadPct > 0 {
			r := checkSpread(reports, th.MaxSpreadPct)
			if th.MaxSpreadPct == RelaxedMaxSpreadPct && relaxed != "" {
				r.Relaxed = relaxed
			}
			out = append(out, r)
		}
		if th.MaxGapMs > 0 {
			limit, why := th.MaxGapMs, ""
			if th.MaxGapMs == RelaxedMaxGapMs && relaxed != "" {
				why = relaxed
				if k := env.GapScale(len(reports)); k > 1 {
					limit *= k
					why += fmt.Sprintf(", %d workers on %d CPUs: x%g", len(reports), env.CPUs, k)
				}
			}
			r := checkGap(reports, limit)
			r.Relaxed = why
			out = append(out, r)
		}
	}
	if th.Isolation.Enabled() {
		out = append(out, checkIsolation(reports))
	}
	if th.MaxThroughputCV > 0 {
		out = append(out, checkThroughputCV(reports, th.MaxThroughputCV))
	}
	if th.MinWorkRate > 0 {
		out = append(out, checkMinRate(reports, CheckWorkRate, "work units per CPU-second", th.MinWorkRate, wire.WorkerReport.WorkRate))
	}
	if th.MaxP99WakeLatencyNs > 0 {
		out = append(out, checkWakeP99(reports, th.MaxP99WakeLatencyNs))
	}
	if th.MaxWakeLatencyCV > 0 {
		out = append(out, checkWakeCV(reports, th.MaxWakeLatencyCV))
	}
	if th.MinIterationRate > 0 {
		out = append(out, checkMinRate(reports, CheckIterRate, "iterations per second", th.MinIterationRate, wire.WorkerReport.IterationRate))
	}
	if th.MaxMigrationRatio > 0 {
		out = append(out, checkMigrationRatio(reports, th.MaxMigrationRatio))
	}
	return out
}

// checkThroughputCV compares work units per CPU-second across workers: a
// high spread means some workers got less effective CPU than others.
func checkThroughputCV(reports []wire.WorkerReport, limit float64) CheckResult {
	r := CheckResult{Name: CheckThroughput, Passed: true}
	var rates []float64
	for _, w := range reports {
		if w.CPUTimeNs > 0 {
			rates = append(rates, w.WorkRate())
		}
	}
	if len(rates) < 2 {
		r.Passed = false
		r.Message = fmt.Sprintf("needs at least 2 workers with CPU time, got %d", len(rates))
		return r
	}
	mean, cv := stats.MeanCV(rates)
	r.Message = fmt.Sprintf("throughput CV %.3f (mean %.0f work units per CPU-second over %d workers), limit %.3f", cv, mean, len(rates), limit)
	r.Passed = cv <= limit
	return r
}

// checkMinRate fails every worker whose rate is below limit.
func checkMinRate(reports []wire.WorkerReport, name, unit string, limit float64, rate func(wire.WorkerReport) float64) CheckResult {
	r := CheckResult{Name: name, Passed: true}
	var bad []string
	lo := math.Inf(1)
	for _, w := range reports {
		v := rate(w)
		lo = math.Min(lo, v)
		if v < limit {
			bad = append(bad, fmt.Sprintf("%s %.1f", w.Name(), v))
		}
	}
	if len(bad) > 0 {
		r.Passed = false
		r.Message = fmt.Sprintf("%s below %.1f: %s", unit, limit, strings.Join(bad, "; "))
		return r
	}
	r.Message = fmt.Sprintf("lowest %s %.1f, limit %.1f", unit, lo, limit)
	return r
}

func sleepers(reports []wire.WorkerReport) []wire.WorkerReport {
	var out []wire.WorkerReport
	for _, w := range reports {
		if w.WakeSamples > 0 {
			out = append(out, w)
		}
	}
	return out
}

func checkWakeP99(reports []wire.WorkerReport, limitNs int64) CheckResult {
	r := CheckResult{Name: CheckWakeP99, Passed: true}
	ws := sleepers(reports)
	if len(ws) == 0 {
		r.Passed = false
		r.Message = "no worker recorded wake-ups: wake latency needs a blocking work type (Bursty, IoSync, PipeIo, the futex types, ...)"
		return r
	}
	var bad []string
	worst := ws[0]
	for _, w := range ws {
		if w.WakeLatencyP99Ns > worst.WakeLatencyP99Ns {
			worst = w
		}
		if int64(w.WakeLatencyP99Ns) > limitNs {
			bad = append(bad, fmt.Sprintf("%s p99 %.0fus", w.Name(), float64(w.WakeLatencyP99Ns)/1e3))
		}
	}
	if len(bad) > 0 {
		r.Passed = false
		r.Message = fmt.Sprintf("wake latency p99 above %.0fus: %s", float64(limitNs)/1e3, strings.Join(bad, "; "))
		return r
	}
	r.Message = fmt.Sprintf("worst wake latency p99 %.0fus (%s), limit %.0fus", float64(worst.WakeLatencyP99Ns)/1e3, worst.Name(), float64(limitNs)/1e3)
	return r
}

func checkWakeCV(reports []wire.WorkerReport, limit float64) CheckResult {
	r := CheckResult{Name: CheckWakeCV, Passed: true}
	ws := sleepers(reports)
	if len(ws) == 0 {
		r.Passed = false
		r.Message = "no worker recorded wake-ups: wake latency needs a blocking work type (Bursty, IoSync, PipeIo, the futex types, ...)"
		return r
	}
	var bad []string
	hi := 0.0
	for _, w := range ws {
		hi = math.Max(hi, w.WakeLatencyCV)
		if w.WakeLatencyCV > limit {
			bad = append(bad, fmt.Sprintf("%s CV %.2f", w.Name(), w.WakeLatencyCV))
		}
	}
	if len(bad) > 0 {
		r.Passed = false
		r.Message = fmt.Sprintf("wake latency CV above %.2f: %s", limit, strings.Join(bad, "; "))
		return r
	}
	r.Message = fmt.Sprintf("highest wake latency CV %.2f, limit %.2f", hi, limit)
	return r
}

// checkMigrationRatio: migrations per iteration, per cgroup.
func checkMigrationRatio(reports []wire.WorkerReport, limit float64) CheckResult {
	r := CheckResult{Name: CheckMigration, Passed: true}
	names, groups := byCgroup(reports)
	var parts, bad []string
	for _, n := range names {
		var mig, iter uint64
		for _, w := range groups[n] {
			mig += w.Migrations
			iter += w.Iterations
		}
		ratio := 0.0
		if iter > 0 {
			ratio = float64(mig) / float64(iter)
		}
		part := fmt.Sprintf("%s: %.4f (%d migrations / %d iterations)", n, ratio, mig, iter)
		parts = append(parts, part)
		if iter == 0 || ratio > limit {
			bad = append(bad, part)
		}
	}
	if len(bad) > 0 {
		r.Passed = false
		r.Message = fmt.Sprintf("migration ratio above %.4f in %s", limit, strings.Join(bad, "; "))
		return r
	}
	r.Message = fmt.Sprintf("migration ratio within %.4f: %s", limit, strings.Join(parts, "; "))
	return r
}

// checkWorkers fails when a worker could not run or report at all, so that
// a broken worker never reads as a quiet pass of the other checks.
func checkWorkers(reports []wire.WorkerReport) CheckResult {
	r := CheckResult{Name: CheckWorkers, Passed: true}
	if len(reports) == 0 {
		r.Passed = false
		r.Message = "no worker reported: the scenario ran no workers"
		return r
	}
	var bad []string
	for _, w := range reports {
		if w.Error != "" {
			bad = append(bad, w.Name()+": "+w.Error)
		}
	}
	if len(bad) > 0 {
		r.Passed = false
		r.Message = fmt.Sprintf("%d of %d workers failed: %s", len(bad), len(reports), strings.Join(bad, "; "))
		return r
	}
	r.Message = fmt.Sprintf("%d workers reported", len(reports))
	return r
}

func checkStarvation(reports []wire.WorkerReport) CheckResult {
	r := CheckResult{Name: CheckStarvation, Passed: true}
	var starved []string
	minUnits := uint64(math.MaxUint64)
	for _, w := range reports {
		if w.WorkUnits == 0 {
			starved = append(starved, w.Name())
		}
		minUnits = min(minUnits, w.WorkUnits)
	}
	if len(starved) > 0 {
		r.Passed = false
		r.Message = fmt.Sprintf("%d of %d workers did no work: %s", len(starved), len(reports), strings.Join(starved, ", "))
		return r
	}
	r.Message = fmt.Sprintf("all %d workers made progress (fewest work units: %d)", len(reports), minUnits)
	return r
}

// byCgroup groups reports by cgroup, in name order.
func byCgroup(reports []wire.WorkerReport) ([]string, map[string][]wire.WorkerReport) {
	groups := map[string][]wire.WorkerReport{}
	for _, w := range reports {
		groups[w.Cgroup] = append(groups[w.Cgroup], w)
	}
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, groups
}

func checkSpread(reports []wire.WorkerReport, limit float64) CheckResult {
	r := CheckResult{Name: CheckSpread, Passed: true}
	// Fairness is judged over the whole run: workers a scenario stopped
	// early ran through different competition, and are left out.
	var full []wire.WorkerReport
	for _, w := range reports {
		if !w.StoppedEarly {
			full = append(full, w)
		}
	}
	names, groups := byCgroup(full)
	var parts, bad []string
	for _, n := range names {
		ws := groups[n]
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, w := range ws {
			p := w.OffCPUPct()
			lo, hi = math.Min(lo, p), math.Max(hi, p)
		}
		spread := hi - lo
		part := fmt.Sprintf("%s: %.1f%% (off-CPU %.1f%%..%.1f%%, %d workers)", n, spread, lo, hi, len(ws))
		parts = append(parts, part)
		if spread > limit {
			bad = append(bad, part)
		}
	}
	if len(bad) > 0 {
		r.Passed = false
		r.Message = fmt.Sprintf("fairness spread above %.1f%% in %s", limit, strings.Join(bad, "; "))
		return r
	}
	r.Message = fmt.Sprintf("spread within %.1f%%: %s", limit, strings.Join(parts, "; "))
	return r
}

func checkGap(reports []wire.WorkerReport, limitMs float64) CheckResult {
	r := CheckResult{Name: CheckGap, Passed: true}
	worst := reports[0]
	var bad []string
	for _, w := range reports {
		if w.MaxGapNs > worst.MaxGapNs {
			worst = w
		}
		if float64(w.MaxGapNs)/1e6 > limitMs {
			bad = append(bad, fmt.Sprintf("%s %.1fms on cpu %d at +%.0fms", w.Name(),
				float64(w.MaxGapNs)/1e6, w.MaxGapCPU, float64(w.MaxGapAtNs)/1e6))
		}
	}
	if len(bad) > 0 {
		r.Passed = false
		r.Message = fmt.Sprintf("scheduling gap above %.0fms: %s", limitMs, strings.Join(bad, "; "))
		return r
	}
	r.Message = fmt.Sprintf("longest gap %.1fms (%s, cpu %d) within %.0fms",
		float64(worst.MaxGapNs)/1e6, worst.Name(), worst.MaxGapCPU, limitMs)
	return r
}

func checkIsolation(reports []wire.WorkerReport) CheckResult {
	r := CheckResult{Name: CheckIsolation, Passed: true}
	var bad []string
	checked := 0
	for _, w := range reports {
		if w.AllowedCPUs == "" {
			continue
		}
		checked++
		allowed, err := topology.ParseCPUList(w.AllowedCPUs)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: cpuset %q unreadable: %v", w.Name(), w.AllowedCPUs, err))
			continue
		}
		var outside []int
		for _, c := range w.CPUsUsed {
			if !allowed.Contains(c) {
				outside = append(outside, c)
			}
		}
		if len(outside) > 0 {
			bad = append(bad, fmt.Sprintf("%s ran on CPUs %v outside its cpuset %s", w.Name(), outside, w.AllowedCPUs))
		}
	}
	switch {
	case len(bad) > 0:
		r.Passed = false
		r.Message = strings.Join(bad, "; ")
	case checked == 0:
		r.Passed = false
		r.Message = "isolation is on but no worker has a cpuset: give the cgroups a cpuset or turn isolation off"
	default:
		r.Message = fmt.Sprintf("%d workers stayed within their cpusets", checked)
	}
	return r
}
