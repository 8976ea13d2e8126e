package examples

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestSteadyKtstr runs eight spinners under the example sched_ext
// scheduler, once per flag profile without borrow: default, llc and
// llc+steal. Each cgroup has an LLC of its own: the llc profile keeps a
// task in the LLC queue it was first put in (only steal moves it), so
// without the cpusets its fairness would depend on how the first
// placement split the tasks across LLCs. The scheduler check confirms
// that sched_ext was enabled with the ktstr ops while the workers ran.
func TestSteadyKtstr(t *testing.T) {
	ktstr.RunProfiles(t, ktstr.Spec{
		Scheduler:     &KtstrSched,
		ExcludedFlags: []string{"borrow"},
		DurationS:     2,
		Cgroups: []ktstr.CgroupDef{
			{Name: "cg_a", Workers: 4, Work: ktstr.CpuSpin, Cpuset: "0-1"},
			{Name: "cg_b", Workers: 4, Work: ktstr.CpuSpin, Cpuset: "2-3"},
		},
	})
}

// TestSteadyEEVDF is the same scenario under EEVDF, the baseline: eight
// spinners on four CPUs, two per CPU, so even per-CPU fairness is fair
// overall. (With six spinners on four CPUs EEVDF leaves some alone on a
// CPU for seconds, and the spread check rightly fails.)
//
// Its spread limit is 50%: under TCG, EEVDF's balance of the eight has
// come out at 38-46% in 4 of 30 runs (one worker alone on a CPU for a
// while), against 2-27% otherwise.
func TestSteadyEEVDF(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Sockets: 2, Cores: 2, Threads: 1,
		DurationS: 2,
		Verify:    ktstr.Verify{MaxSpreadPct: 50},
		Cgroups: []ktstr.CgroupDef{
			{Name: "cg_a", Workers: 4, Work: ktstr.CpuSpin},
			{Name: "cg_b", Workers: 4, Work: ktstr.CpuSpin},
		},
	})
}

// TestBurstyKtstr: bursty workers under the example scheduler keep their
// pace; TestDegradeCaught uses the same limit.
func TestBurstyKtstr(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler: &KtstrSched,
		DurationS: 2,
		Verify:    ktstr.Verify{MinIterationRate: 50},
		Cgroups: []ktstr.CgroupDef{
			{Name: "bursty", Workers: 2, Work: ktstr.Bursty, BurstMs: 2, SleepMs: 2},
		},
	})
}

// TestSpinnersStayPutKtstr: two spinners on four CPUs have no reason to move;
// TestScattershotCaught uses the same limit.
func TestSpinnersStayPutKtstr(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler: &KtstrSched,
		DurationS: 2,
		Verify:    ktstr.Verify{MaxMigrationRatio: 0.0002},
		Cgroups:   []ktstr.CgroupDef{{Name: "spin", Workers: 2}},
	})
}

// TestGauntletLLC needs two LLCs, SMT and the llc flag, and never borrows:
// its gauntlet is the 8 SMT presets with at least two LLCs, times the
// profiles llc and llc+steal (see `bazel query 'attr(tags,
// "ktstr-gauntlet", //examples/...)'`). Under go test it runs the llc
// profile on its own topology.
func TestGauntletLLC(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler: &KtstrSched,
		Sockets:   2, Cores: 2, Threads: 2,
		MinLLCs:       2,
		RequiresSMT:   true,
		RequiredFlags: []string{"llc"},
		ExcludedFlags: []string{"borrow"},
		DurationS:     2,
	})
}
