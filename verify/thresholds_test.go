package verify_test

import (
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/verify"
)

func TestMergeLastSetValueWins(t *testing.T) {
	base := verify.Thresholds{
		NotStarved:       verify.On,
		Isolation:        verify.Off,
		FailOnStall:      verify.On,
		MaxGapMs:         2000,
		MaxSpreadPct:     15,
		MaxLocalDSQDepth: 50,
		SustainedSamples: 5,
	}
	sched := verify.Thresholds{
		Isolation:           verify.On,
		MaxGapMs:            500,
		MaxP99WakeLatencyNs: 1_000_000,
	}
	test := verify.Thresholds{
		NotStarved:       verify.Off,
		Isolation:        verify.Inherit, // must not undo the scheduler's On
		MaxGapMs:         100,
		MaxSpreadPct:     0, // must not undo the default
		MaxLocalDSQDepth: 7,
		MinWorkRate:      1.5,
	}
	got := verify.Merge(base, sched, test)
	want := verify.Thresholds{
		NotStarved:          verify.Off,
		Isolation:           verify.On,
		FailOnStall:         verify.On,
		MaxGapMs:            100,
		MaxSpreadPct:        15,
		MaxLocalDSQDepth:    7,
		SustainedSamples:    5,
		MaxP99WakeLatencyNs: 1_000_000,
		MinWorkRate:         1.5,
	}
	if got != want {
		t.Errorf("Merge =\n%+v\nwant\n%+v", got, want)
	}
}

func TestMergeEveryField(t *testing.T) {
	// Every attribute set in the second layer must win over the first;
	// every attribute left zero in the second must keep the first's value.
	first := verify.Thresholds{
		NotStarved: verify.On, Isolation: verify.On, FailOnStall: verify.On,
		MaxGapMs: 1, MaxSpreadPct: 1, MaxThroughputCV: 1, MinWorkRate: 1,
		MaxImbalanceRatio: 1, MaxLocalDSQDepth: 1, SustainedSamples: 1,
		MaxFallbackRate: 1, MaxKeepLastRate: 1, MaxP99WakeLatencyNs: 1,
		MaxWakeLatencyCV: 1, MinIterationRate: 1, MaxMigrationRatio: 1,
	}
	second := verify.Thresholds{
		NotStarved: verify.Off, Isolation: verify.Off, FailOnStall: verify.Off,
		MaxGapMs: 2, MaxSpreadPct: 2, MaxThroughputCV: 2, MinWorkRate: 2,
		MaxImbalanceRatio: 2, MaxLocalDSQDepth: 2, SustainedSamples: 2,
		MaxFallbackRate: 2, MaxKeepLastRate: 2, MaxP99WakeLatencyNs: 2,
		MaxWakeLatencyCV: 2, MinIterationRate: 2, MaxMigrationRatio: 2,
	}
	if got := verify.Merge(first, second); got != second {
		t.Errorf("Merge(first, second) = %+v, want second %+v", got, second)
	}
	if got := verify.Merge(first, verify.Thresholds{}); got != first {
		t.Errorf("Merge(first, zero) = %+v, want first %+v", got, first)
	}
	if got := verify.Merge(); got != (verify.Thresholds{}) {
		t.Errorf("Merge() = %+v, want the zero value", got)
	}
}

func TestDefaults(t *testing.T) {
	tests := []struct {
		name       string
		env        verify.Env
		gap        float64
		spread     float64
		wantReason string
	}{
		{"kvm", verify.Env{}, 2000, 15, ""},
		{"emulated", verify.Env{Emulated: true}, 3000, 35, "emulated VM (TCG)"},
		{"debug", verify.Env{DebugKernel: []string{"CONFIG_KASAN"}}, 3000, 35, "debug kernel (CONFIG_KASAN)"},
		{"both", verify.Env{Emulated: true, DebugKernel: []string{"CONFIG_PROVE_LOCKING", "CONFIG_KASAN"}}, 3000, 35, "emulated VM (TCG), debug kernel (CONFIG_PROVE_LOCKING, CONFIG_KASAN)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := verify.Defaults(tt.env)
			if d.MaxGapMs != tt.gap || d.MaxSpreadPct != tt.spread {
				t.Errorf("gap/spread = %v/%v, want %v/%v", d.MaxGapMs, d.MaxSpreadPct, tt.gap, tt.spread)
			}
			if d.NotStarved != verify.On || d.Isolation != verify.Off || d.FailOnStall != verify.On {
				t.Errorf("toggles not_starved=%v isolation=%v fail_on_stall=%v, want on/off/on",
					d.NotStarved, d.Isolation, d.FailOnStall)
			}
			if d.MaxImbalanceRatio != 4 || d.MaxLocalDSQDepth != 50 || d.SustainedSamples != 5 ||
				d.MaxFallbackRate != 200 || d.MaxKeepLastRate != 100 {
				t.Errorf("monitor defaults wrong: %+v", d)
			}
			if got := tt.env.Relaxed(); got != tt.wantReason {
				t.Errorf("Relaxed() = %q, want %q", got, tt.wantReason)
			}
			if err := d.Validate(); err != nil {
				t.Errorf("defaults do not validate: %v", err)
			}
		})
	}
}

func TestToggle(t *testing.T) {
	for _, tt := range []struct {
		tg      verify.Toggle
		enabled bool
		str     string
	}{
		{verify.Inherit, false, "inherit"},
		{verify.On, true, "on"},
		{verify.Off, false, "off"},
	} {
		if got := tt.tg.Enabled(); got != tt.enabled {
			t.Errorf("%v.Enabled() = %v, want %v", tt.tg, got, tt.enabled)
		}
		if got := tt.tg.String(); got != tt.str {
			t.Errorf("Toggle(%d).String() = %q, want %q", int(tt.tg), got, tt.str)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		th   verify.Thresholds
		attr string // "" means valid
	}{
		{"zero", verify.Thresholds{}, ""},
		{"spread 100", verify.Thresholds{MaxSpreadPct: 100}, ""},
		{"imbalance 1", verify.Thresholds{MaxImbalanceRatio: 1}, ""},
		{"negative gap", verify.Thresholds{MaxGapMs: -1}, "max_gap_ms"},
		{"negative spread", verify.Thresholds{MaxSpreadPct: -0.5}, "max_spread_pct"},
		{"spread above 100", verify.Thresholds{MaxSpreadPct: 100.5}, "max_spread_pct"},
		{"negative throughput cv", verify.Thresholds{MaxThroughputCV: -1}, "max_throughput_cv"},
		{"negative work rate", verify.Thresholds{MinWorkRate: -1}, "min_work_rate"},
		{"imbalance below 1", verify.Thresholds{MaxImbalanceRatio: 0.5}, "max_imbalance_ratio"},
		{"negative imbalance", verify.Thresholds{MaxImbalanceRatio: -2}, "max_imbalance_ratio"},
		{"negative dsq depth", verify.Thresholds{MaxLocalDSQDepth: -1}, "max_local_dsq_depth"},
		{"negative samples", verify.Thresholds{SustainedSamples: -3}, "sustained_samples"},
		{"negative fallback", verify.Thresholds{MaxFallbackRate: -1}, "max_fallback_rate"},
		{"negative keep last", verify.Thresholds{MaxKeepLastRate: -1}, "max_keep_last_rate"},
		{"negative p99", verify.Thresholds{MaxP99WakeLatencyNs: -1}, "max_p99_wake_latency_ns"},
		{"negative wake cv", verify.Thresholds{MaxWakeLatencyCV: -1}, "max_wake_latency_cv"},
		{"negative iteration rate", verify.Thresholds{MinIterationRate: -1}, "min_iteration_rate"},
		{"negative migration", verify.Thresholds{MaxMigrationRatio: -1}, "max_migration_ratio"},
		{"bad not_starved", verify.Thresholds{NotStarved: verify.Toggle(3)}, "not_starved"},
		{"bad isolation", verify.Thresholds{Isolation: verify.Toggle(-1)}, "isolation"},
		{"bad fail_on_stall", verify.Thresholds{FailOnStall: verify.Toggle(9)}, "fail_on_stall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.th.Validate()
			if tt.attr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %s", tt.attr)
			}
			if !strings.Contains(err.Error(), tt.attr+" = ") {
				t.Errorf("Validate() = %q, does not name %q", err, tt.attr)
			}
		})
	}
}

func TestValidateReportsEveryAttribute(t *testing.T) {
	err := verify.Thresholds{MaxGapMs: -1, MaxSpreadPct: 150}.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want an error")
	}
	for _, want := range []string{"max_gap_ms = -1", "max_spread_pct = 150", "cannot exceed 100"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %q, missing %q", err, want)
		}
	}
}
