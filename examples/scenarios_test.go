package examples

import (
	"testing"

	"github.com/ktstr-go/ktstr"
	"github.com/ktstr-go/ktstr/guest/scenario"
)

// Every canned scenario, in a VM of its own, on 2s2c1t (4 CPUs, 2 LLCs:
// enough for all of them), under EEVDF and under scx_ktstr; and three of
// them under a fault mode of scx_ktstr, each caught for its reason.

func TestScenariosEEVDF(t *testing.T) {
	for _, sc := range scenario.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			res := ktstr.Run(t, ktstr.Spec{Scenario: sc.Name, Sockets: 2, Cores: 2, Threads: 1})
			scenarioRan(t, res)
		})
	}
}

func TestScenariosKtstr(t *testing.T) {
	for _, sc := range scenario.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			res := ktstr.Run(t, ktstr.Spec{Scenario: sc.Name, Scheduler: &KtstrSched, Sockets: 2, Cores: 2, Threads: 1})
			scenarioRan(t, res)
		})
	}
}

// scenarioRan checks that the scenario's steps all ran.
func scenarioRan(t *testing.T, res *ktstr.Result) {
	t.Helper()
	steps := 0
	for _, e := range res.Timeline {
		if e.Error != "" {
			t.Errorf("timeline: %v", e)
		}
		if e.Kind == "step" {
			steps++
		}
	}
	if steps == 0 || len(res.Workers) == 0 {
		t.Errorf("%d steps and %d workers in the result, want some of each", steps, len(res.Workers))
	}
}

// TestScenarioStallCaught: a scheduler that stops dispatching while the
// cpusets are being resized is ejected by the kernel's watchdog.
func TestScenarioStallCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scenario: "cpuset_resize", Scheduler: &KtstrSched, Sockets: 2, Cores: 2, Threads: 1,
		ExtraSchedArgs: []string{"--fault=stall"},
		ExpectErr:      true,
		ExpectErrMatch: `(?s)scheduler ktstr died: .*stall`,
	})
}

// TestScenarioScattershotCaught: a scheduler that throws tasks onto
// random CPUs while affinities change makes migrations explode.
func TestScenarioScattershotCaught(t *testing.T) {
	res := ktstr.Run(t, ktstr.Spec{
		Scenario: "affinity_change", Scheduler: &KtstrSched, Sockets: 2, Cores: 2, Threads: 1,
		ExtraSchedArgs: []string{"--fault=scattershot"},
		Verify:         ktstr.Verify{MaxMigrationRatio: 0.0002},
		ExpectErr:      true,
		ExpectErrMatch: `FAIL migration_ratio: migration ratio above 0.0002`,
	})
	// The failure comes with what the scenario had just done.
	changes := 0
	for _, e := range res.Timeline {
		if e.Kind == "set_affinity" {
			changes++
		}
	}
	if changes != 8 {
		t.Errorf("%d set_affinity events in the failed run's timeline, want 8 (4 steps x 2 cgroups)", changes)
	}
}

// TestScenarioDegradeCaught: a scheduler that lets tasks run only 5% of
// the time starves the bursty and I/O workers of mixed_workloads of
// wake-ups: their iteration rate collapses.
func TestScenarioDegradeCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scenario: "mixed_workloads", Scheduler: &KtstrSched, Sockets: 2, Cores: 2, Threads: 1,
		ExtraSchedArgs: []string{"--fault=degrade"},
		Verify:         ktstr.Verify{MinIterationRate: 3},
		ExpectErr:      true,
		ExpectErrMatch: `FAIL iteration_rate: iterations per second below 3.0`,
	})
}
