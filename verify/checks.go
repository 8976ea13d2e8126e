package verify

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ktstr-go/ktstr/topology"
)

// Check names, as they appear in results and in Bazel's test XML.
const (
	CheckWorkers    = "workers"
	CheckStarvation = "starvation"
	CheckSpread     = "spread"
	CheckGap        = "gap"
	CheckIsolation  = "isolation"
)

// CheckResult is the verdict of one check.
type CheckResult struct {
	Name    string `json:"name"`
	Passed  bool   `json:"passed"`
	Message string `json:"message"`
	// Relaxed says why the limit used was relaxed ("" when it was not).
	Relaxed string `json:"relaxed,omitempty"`
}

func (c CheckResult) String() string {
	verdict := "PASS"
	if !c.Passed {
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
func Evaluate(reports []WorkerReport, th Thresholds, env Env) []CheckResult {
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
			r := checkGap(reports, th.MaxGapMs)
			if th.MaxGapMs == RelaxedMaxGapMs && relaxed != "" {
				r.Relaxed = relaxed
			}
			out = append(out, r)
		}
	}
	if th.Isolation.Enabled() {
		out = append(out, checkIsolation(reports))
	}
	return out
}

// checkWorkers fails when a worker could not run or report at all, so that
// a broken worker never reads as a quiet pass of the other checks.
func checkWorkers(reports []WorkerReport) CheckResult {
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

func checkStarvation(reports []WorkerReport) CheckResult {
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
func byCgroup(reports []WorkerReport) ([]string, map[string][]WorkerReport) {
	groups := map[string][]WorkerReport{}
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

func checkSpread(reports []WorkerReport, limit float64) CheckResult {
	r := CheckResult{Name: CheckSpread, Passed: true}
	names, groups := byCgroup(reports)
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

func checkGap(reports []WorkerReport, limitMs float64) CheckResult {
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

func checkIsolation(reports []WorkerReport) CheckResult {
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
