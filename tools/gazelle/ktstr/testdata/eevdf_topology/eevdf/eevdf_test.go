package eevdf

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestSteady: a two-socket topology with a mixed scenario.
func TestSteady(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Sockets: 2, Cores: 4, Threads: 2,
		MemoryMB:  4096,
		DurationS: 3,
		Verify:    ktstr.Verify{MaxGapMs: 100},
		Cgroups: []ktstr.CgroupDef{
			{Name: "spin", Workers: 2, Work: ktstr.CpuSpin},
			{Name: "bursty", Workers: 2, Work: ktstr.Bursty, BurstMs: 2, SleepMs: 2},
			{Name: "default", Workers: 1},
			{Name: "bursty2", Work: ktstr.Bursty},
		},
	})
}

// TestConstrained: gauntlet constraints, and the default scenario.
func TestConstrained(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		MinSockets:  2,
		MinLLCs:     2,
		MinCPUs:     8,
		RequiresSMT: true,
	})
}

// TestDefaults: nothing set at all.
func TestDefaults(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{})
}

// TestYield: a scheduler of nil and &ktstr.EEVDF are EEVDF.
func TestYield(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler: &ktstr.EEVDF,
		Cores:     (1 + 1) * 2,
		Cgroups:   []ktstr.CgroupDef{{Name: "yield", Work: "YieldHeavy"}},
	})
}

// TestPlain is an ordinary test: no target.
func TestPlain(t *testing.T) {
	if 1+1 != 2 {
		t.Fatal("arithmetic")
	}
}

// Testlower is not a test function (lower-case after Test).
func Testlower(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{})
}

// helper is not a test function.
func helper(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{})
}

// TestIsolated asks for performance mode: its targets run alone and are
// never cached.
func TestIsolated(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Cores: 1, PerformanceMode: true})
}
