package verify

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/runner/monitor"
)

// PhaseSummary is the monitor's samples over one phase of a test: a step
// of the scenario, or the spans before and after the workers ran.
type PhaseSummary struct {
	Name string `json:"name"`
	// FromMs and ToMs are relative to the test's start, like the
	// timeline's events.
	FromMs  float64 `json:"from_ms"`
	ToMs    float64 `json:"to_ms"`
	Samples int     `json:"samples"`
	// MeanNrRunning is nr_running averaged over CPUs and samples.
	MeanNrRunning float64 `json:"mean_nr_running"`
	MaxImbalance  float64 `json:"max_imbalance_ratio"`
	MaxLocalDSQ   uint32  `json:"max_local_dsq_depth"`
	// StalledCPUSamples counts CPU samples whose runqueue clock stood
	// still with runnable tasks.
	StalledCPUSamples int `json:"stalled_cpu_samples"`
	// EventRates are sched_ext event counters per second of guest time.
	EventRates map[string]float64 `json:"event_rates,omitempty"`
}

// span is a named interval of guest uptime.
type span struct {
	name     string
	from, to float64
}

// Phases cuts a test into spans: before the first step, each step of the
// timeline (or, for a test body, the workers-ready to stop phase), and
// after. startUptimeMs places the test's relative times on guest uptime.
func phaseSpans(rep *wire.TestReport, endUptimeMs float64) []span {
	base := rep.StartUptimeMs
	var cuts []span
	for _, e := range rep.Timeline {
		if e.Kind == "step" {
			name := fmt.Sprintf("step %d", e.Step)
			switch {
			case strings.HasPrefix(e.Detail, name):
				name = e.Detail
			case e.Detail != "":
				name += ": " + e.Detail
			}
			cuts = append(cuts, span{name: name, from: base + e.AtMs})
		}
	}
	at := map[string]float64{}
	for _, p := range rep.Phases {
		if _, ok := at[p.Name]; !ok {
			at[p.Name] = base + p.AtMs
		}
	}
	if len(cuts) == 0 {
		if r, ok := at["workers-ready"]; ok {
			cuts = append(cuts, span{name: "workers", from: r})
		}
	}
	end := endUptimeMs
	if s, ok := at["stop"]; ok {
		end = s
	}
	var out []span
	if len(cuts) > 0 {
		out = append(out, span{name: "before", from: 0, to: cuts[0].from})
	}
	for i, c := range cuts {
		c.to = end
		if i+1 < len(cuts) {
			c.to = cuts[i+1].from
		}
		out = append(out, c)
	}
	out = append(out, span{name: "after", from: end, to: endUptimeMs})
	if len(cuts) == 0 {
		out = []span{{name: "run", from: 0, to: endUptimeMs}}
	}
	// The monitor may have stopped before the test ended (or began: a
	// test that a dying scheduler held up): such a span is empty, not
	// reversed.
	for i := range out {
		out[i].to = max(out[i].to, out[i].from)
	}
	return out
}

// TestWindow is the span of guest uptime the monitor checks judge: from
// the workers' start to their stop when the report says, else the whole
// test.
func TestWindow(rep *wire.TestReport) Window {
	if rep == nil || rep.StartUptimeMs == 0 {
		return Window{}
	}
	w := Window{FromMs: rep.StartUptimeMs, BaseMs: rep.StartUptimeMs}
	for _, p := range rep.Phases {
		switch p.Name {
		case "workers-ready":
			if w.FromMs == rep.StartUptimeMs {
				w.FromMs = rep.StartUptimeMs + p.AtMs
			}
		case "stop":
			if w.ToMs == 0 {
				w.ToMs = rep.StartUptimeMs + p.AtMs
			}
		}
	}
	return w
}

// DeathWindow is the span the monitor checks judge when the scheduler
// under test died: every sample from the moment the monitor first saw
// it attached until it saw it gone (or the end), whether or not the
// test had begun. A scheduler that strands every task strands the test
// binary too, so its test may begin only after the kernel's watchdog has
// ejected the scheduler: the window of the test alone would then hold
// none of the stall. Times stay relative to the test's start when it
// is known, else to the attach.
func DeathWindow(rep *wire.TestReport, r *monitor.Report) Window {
	w := TestWindow(rep)
	if r == nil {
		return w
	}
	on, off := r.AttachSpan()
	if on == 0 {
		return w
	}
	if w.BaseMs == 0 {
		w.BaseMs = on
	}
	w.FromMs, w.ToMs = on, off
	return w
}

// SummarizePhases summarises the monitor's samples per phase of the test.
func SummarizePhases(r *monitor.Report, rep *wire.TestReport) []PhaseSummary {
	if r == nil || len(r.Samples) == 0 {
		return nil
	}
	end := r.Samples[len(r.Samples)-1].GuestMs
	base := 0.0
	var spans []span
	if rep != nil && rep.StartUptimeMs > 0 {
		base = rep.StartUptimeMs
		spans = phaseSpans(rep, end)
	} else {
		spans = []span{{name: "run", from: 0, to: end}}
	}
	var out []PhaseSummary
	for _, sp := range spans {
		ps := PhaseSummary{Name: sp.name, FromMs: sp.from - base, ToMs: sp.to - base}
		var prev *monitor.Sample
		var sum float64
		var n int
		first := map[string]int64{}
		last := map[string]int64{}
		var t0, t1 float64
		for i := range r.Samples {
			s := &r.Samples[i]
			if s.GuestMs < sp.from || s.GuestMs >= sp.to && !(sp.to == end && s.GuestMs == end) {
				prev = s
				continue
			}
			ps.Samples++
			ps.MaxImbalance = max(ps.MaxImbalance, s.ImbalanceRatio())
			d, _ := s.MaxLocalDSQ()
			ps.MaxLocalDSQ = max(ps.MaxLocalDSQ, d)
			for c, cs := range s.CPUs {
				sum += float64(cs.NrRunning)
				n++
				if prev != nil && c < len(prev.CPUs) {
					if Stalled(prev.CPUs[c], cs) {
						ps.StalledCPUSamples++
					}
				}
			}
			if s.Scx {
				for k, v := range s.Events {
					if _, ok := first[k]; !ok {
						first[k] = v
						t0 = s.GuestMs
					}
					last[k] = v
					t1 = s.GuestMs
				}
			}
			prev = s
		}
		if n > 0 {
			ps.MeanNrRunning = sum / float64(n)
		}
		if t1 > t0 {
			ps.EventRates = map[string]float64{}
			for k, v := range last {
				if d := v - first[k]; d > 0 {
					ps.EventRates[k] = float64(d) / ((t1 - t0) / 1000)
				}
			}
		}
		out = append(out, ps)
	}
	return out
}

// FormatPhases prints phase summaries one a line, for failure reports.
func FormatPhases(ps []PhaseSummary) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %8.1fms..%8.1fms %-28s %3d samples, nr_running %.1f, imbalance<=%.1f, local DSQ<=%d, stalled CPU samples %d",
			p.FromMs, p.ToMs, trim(p.Name, 28), p.Samples, p.MeanNrRunning, p.MaxImbalance, p.MaxLocalDSQ, p.StalledCPUSamples)
		keys := make([]string, 0, len(p.EventRates))
		for k := range p.EventRates {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, ", %s %.0f/s", k, p.EventRates[k])
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
