package examples

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestMissingSchedulerBinary: a scheduler whose binary does not exist is
// reported as such, before any VM boots.
func TestMissingSchedulerBinary(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler:      &MissingSched,
		ExpectErr:      true,
		ExpectErrMatch: `scheduler binary /nonexistent/scx_missing of scheduler scx_missing not found`,
	})
}

// TestStallCaught: the scheduler stops dispatching; the kernel's sched_ext
// watchdog must eject it, and the test must fail saying so.
func TestStallCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		ExtraSchedArgs: []string{"--fault=stall"},
		DurationS:      2,
		ExpectErr:      true,
		ExpectErrMatch: `(?s)scheduler ktstr died: .*stall`,
	})
}

// TestHostCrashCaught: the host writes 1 into the scheduler's ktstr_ctl
// map while the workers run; the scheduler calls scx_bpf_error and the
// test must fail with that exit message.
func TestHostCrashCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		BpfMapWrite:    &ktstr.BpfMapWrite{Map: "ktstr_ctl", Key: 0, Value: 1, AfterMs: 500},
		DurationS:      3,
		ExpectErr:      true,
		ExpectErrMatch: `(?s)scheduler ktstr died: .*host-triggered crash`,
	})
}

// TestDegradeCaught: the scheduler lets tasks run only a sliver of the
// time; nothing stalls, but the iteration rate of TestBurstyKtstr drops
// far below its limit.
func TestDegradeCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		ExtraSchedArgs: []string{"--fault=degrade"},
		DurationS:      2,
		Verify:         ktstr.Verify{MinIterationRate: 50},
		Cgroups: []ktstr.CgroupDef{
			{Name: "bursty", Workers: 2, Work: ktstr.Bursty, BurstMs: 2, SleepMs: 2},
		},
		ExpectErr:      true,
		ExpectErrMatch: `FAIL iteration_rate: iterations per second below 50.0`,
	})
}

// TestScattershotCaught: the scheduler throws every task onto a random
// CPU; the migration ratio of TestSpinnersStayPutKtstr explodes.
func TestScattershotCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		ExtraSchedArgs: []string{"--fault=scattershot"},
		DurationS:      2,
		Verify:         ktstr.Verify{MaxMigrationRatio: 0.0002},
		Cgroups:        []ktstr.CgroupDef{{Name: "spin", Workers: 2}},
		ExpectErr:      true,
		ExpectErrMatch: `FAIL migration_ratio: migration ratio above 0.0002`,
	})
}

// TestFailVerifyCaught: the BPF verifier rejects the scheduler; the test
// fails with the verifier's log, before any worker runs.
func TestFailVerifyCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		ExtraSchedArgs: []string{"--fault=fail-verify"},
		ExpectErr:      true,
		ExpectErrMatch: `(?s)scheduler ktstr did not start.*verifier rejected`,
	})
}
