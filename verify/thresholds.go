package verify

import (
	"fmt"
	"math"
	"strings"
)

// Toggle is a boolean attribute that can also be left unset, so that a
// later layer of the merge chain can tell "not said" from "off".
type Toggle int8

const (
	// Inherit leaves the value to an earlier layer.
	Inherit Toggle = iota
	// On enables the check.
	On
	// Off disables the check.
	Off
)

// Enabled reports whether the toggle is On.
func (t Toggle) Enabled() bool { return t == On }

func (t Toggle) String() string {
	switch t {
	case On:
		return "on"
	case Off:
		return "off"
	default:
		return "inherit"
	}
}

// Thresholds holds every verification attribute. A zero number means
// "not set here" and is filled from an earlier layer by [Merge]; after the
// merge a number still zero disables its check.
type Thresholds struct {
	NotStarved Toggle `json:"not_starved"`
	Isolation  Toggle `json:"isolation"`

	MaxGapMs        float64 `json:"max_gap_ms,omitempty"`
	MaxSpreadPct    float64 `json:"max_spread_pct,omitempty"`
	MaxThroughputCV float64 `json:"max_throughput_cv,omitempty"`
	MinWorkRate     float64 `json:"min_work_rate,omitempty"`

	MaxImbalanceRatio float64 `json:"max_imbalance_ratio,omitempty"`
	MaxLocalDSQDepth  int     `json:"max_local_dsq_depth,omitempty"`
	FailOnStall       Toggle  `json:"fail_on_stall"`
	SustainedSamples  int     `json:"sustained_samples,omitempty"`
	MaxFallbackRate   float64 `json:"max_fallback_rate,omitempty"`
	MaxKeepLastRate   float64 `json:"max_keep_last_rate,omitempty"`

	MaxP99WakeLatencyNs int64   `json:"max_p99_wake_latency_ns,omitempty"`
	MaxWakeLatencyCV    float64 `json:"max_wake_latency_cv,omitempty"`
	MinIterationRate    float64 `json:"min_iteration_rate,omitempty"`
	MaxMigrationRatio   float64 `json:"max_migration_ratio,omitempty"`
}

// Default worker and monitor thresholds (docs/guide.md lists them).
const (
	DefaultMaxGapMs          = 2000
	DefaultMaxSpreadPct      = 15
	RelaxedMaxGapMs          = 3000
	RelaxedMaxSpreadPct      = 35
	DefaultMaxImbalanceRatio = 4.0
	DefaultMaxLocalDSQDepth  = 50
	DefaultSustainedSamples  = 5
	DefaultMaxFallbackRate   = 200
	DefaultMaxKeepLastRate   = 100
)

// Env describes where the checks run; it decides the relaxation.
type Env struct {
	// Emulated is true when the VM runs under software emulation (TCG).
	Emulated bool
	// DebugKernel lists the debug options (lockdep, sanitizers, ...) the
	// guest kernel's config turns on; empty for a production kernel or an
	// unknown config (see kernel.DebugOptions).
	DebugKernel []string
	// CPUs is the guest's CPU count. Under emulation it scales the relaxed
	// gap limit of an oversubscribed run (see [Env.GapScale]); 0 when
	// unknown.
	CPUs int
}

// OversubscribedPerCPU is how many workers per CPU the relaxed gap limit
// allows for before it grows.
const OversubscribedPerCPU = 8

// GapScale is the factor the relaxed gap limit is multiplied by for a run
// of workers on e.CPUs CPUs: 1, except under emulation with more than
// [OversubscribedPerCPU] workers per CPU, where it is the number of such
// multiples, rounded up. Under TCG the host runs a vCPU in turns of about
// 100 ms, and the guest charges each turn the vCPU sat out to the task
// that was on it; that task then waits behind every other task of its
// CPU for its vruntime to be caught up with, so the gap a worker sees
// grows with the tasks it shares a CPU with. A real CPU does not do that.
func (e Env) GapScale(workers int) float64 {
	if !e.Emulated || e.CPUs <= 0 || workers <= e.CPUs*OversubscribedPerCPU {
		return 1
	}
	return math.Ceil(float64(workers) / float64(e.CPUs*OversubscribedPerCPU))
}

// Relaxed reports why default limits are relaxed ("" when they are not).
func (e Env) Relaxed() string {
	var why []string
	if e.Emulated {
		why = append(why, "emulated VM (TCG)")
	}
	if len(e.DebugKernel) > 0 {
		why = append(why, "debug kernel ("+strings.Join(e.DebugKernel, ", ")+")")
	}
	return strings.Join(why, ", ")
}

// Defaults is the first layer of the merge chain. Under emulation or a
// debug kernel the gap and spread limits are the relaxed ones.
func Defaults(env Env) Thresholds {
	t := Thresholds{
		NotStarved:        On,
		Isolation:         Off,
		MaxGapMs:          DefaultMaxGapMs,
		MaxSpreadPct:      DefaultMaxSpreadPct,
		MaxImbalanceRatio: DefaultMaxImbalanceRatio,
		MaxLocalDSQDepth:  DefaultMaxLocalDSQDepth,
		FailOnStall:       On,
		SustainedSamples:  DefaultSustainedSamples,
		MaxFallbackRate:   DefaultMaxFallbackRate,
		MaxKeepLastRate:   DefaultMaxKeepLastRate,
	}
	if env.Relaxed() != "" {
		t.MaxGapMs = RelaxedMaxGapMs
		t.MaxSpreadPct = RelaxedMaxSpreadPct
	}
	return t
}

// Merge applies layers in order; a value set in a later layer wins.
func Merge(layers ...Thresholds) Thresholds {
	var out Thresholds
	for _, l := range layers {
		mergeToggle(&out.NotStarved, l.NotStarved)
		mergeToggle(&out.Isolation, l.Isolation)
		mergeToggle(&out.FailOnStall, l.FailOnStall)
		mergeNum(&out.MaxGapMs, l.MaxGapMs)
		mergeNum(&out.MaxSpreadPct, l.MaxSpreadPct)
		mergeNum(&out.MaxThroughputCV, l.MaxThroughputCV)
		mergeNum(&out.MinWorkRate, l.MinWorkRate)
		mergeNum(&out.MaxImbalanceRatio, l.MaxImbalanceRatio)
		mergeNum(&out.MaxLocalDSQDepth, l.MaxLocalDSQDepth)
		mergeNum(&out.SustainedSamples, l.SustainedSamples)
		mergeNum(&out.MaxFallbackRate, l.MaxFallbackRate)
		mergeNum(&out.MaxKeepLastRate, l.MaxKeepLastRate)
		mergeNum(&out.MaxP99WakeLatencyNs, l.MaxP99WakeLatencyNs)
		mergeNum(&out.MaxWakeLatencyCV, l.MaxWakeLatencyCV)
		mergeNum(&out.MinIterationRate, l.MinIterationRate)
		mergeNum(&out.MaxMigrationRatio, l.MaxMigrationRatio)
	}
	return out
}

func mergeToggle(dst *Toggle, v Toggle) {
	if v != Inherit {
		*dst = v
	}
}

func mergeNum[T int | int64 | float64](dst *T, v T) {
	if v != 0 {
		*dst = v
	}
}

// Validate rejects values no check can mean: negative limits, a spread
// above 100 percent, a toggle out of range. The error names the attribute.
func (t Thresholds) Validate() error {
	var errs []string
	bad := func(attr string, v any, why string) {
		errs = append(errs, fmt.Sprintf("%s = %v: %s", attr, v, why))
	}
	nonNeg := func(attr string, v float64) {
		if v < 0 {
			bad(attr, v, "must be >= 0 (0 means inherit)")
		}
	}
	for _, tg := range []struct {
		attr string
		v    Toggle
	}{{"not_starved", t.NotStarved}, {"isolation", t.Isolation}, {"fail_on_stall", t.FailOnStall}} {
		if tg.v < Inherit || tg.v > Off {
			bad(tg.attr, int(tg.v), "must be Inherit, On or Off")
		}
	}
	nonNeg("max_gap_ms", t.MaxGapMs)
	nonNeg("max_spread_pct", t.MaxSpreadPct)
	if t.MaxSpreadPct > 100 {
		bad("max_spread_pct", t.MaxSpreadPct, "a spread of off-CPU percentages cannot exceed 100")
	}
	nonNeg("max_throughput_cv", t.MaxThroughputCV)
	nonNeg("min_work_rate", t.MinWorkRate)
	nonNeg("max_imbalance_ratio", t.MaxImbalanceRatio)
	if t.MaxImbalanceRatio != 0 && t.MaxImbalanceRatio < 1 {
		bad("max_imbalance_ratio", t.MaxImbalanceRatio, "a max/min ratio is at least 1")
	}
	nonNeg("max_local_dsq_depth", float64(t.MaxLocalDSQDepth))
	nonNeg("sustained_samples", float64(t.SustainedSamples))
	nonNeg("max_fallback_rate", t.MaxFallbackRate)
	nonNeg("max_keep_last_rate", t.MaxKeepLastRate)
	nonNeg("max_p99_wake_latency_ns", float64(t.MaxP99WakeLatencyNs))
	nonNeg("max_wake_latency_cv", t.MaxWakeLatencyCV)
	nonNeg("min_iteration_rate", t.MinIterationRate)
	nonNeg("max_migration_ratio", t.MaxMigrationRatio)
	if len(errs) > 0 {
		return fmt.Errorf("invalid verification attributes: %s", strings.Join(errs, "; "))
	}
	return nil
}
