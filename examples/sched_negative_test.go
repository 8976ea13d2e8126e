package examples

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr"
	"github.com/ktstr-go/ktstr/internal/probes"
)

// TestMissingSchedulerBinary: a scheduler whose binary does not exist is
// reported as such, before any VM boots.
func TestMissingSchedulerBinary(t *testing.T) {
	res := ktstr.Run(t, ktstr.Spec{
		Scheduler:      &MissingSched,
		ExpectErr:      true,
		ExpectErrMatch: `scheduler binary /nonexistent/scx_missing of scheduler scx_missing not found`,
	})
	// A setup problem, not a failed scheduler.
	var se *ktstr.SchedulerError
	if !errors.Is(res.Err, ktstr.ErrSetup) || errors.As(res.Err, &se) {
		t.Errorf("Result.Err = %#v, want a setup error", res.Err)
	}
}

// wantRepro checks whether auto_repro ran a second VM for res.
func wantRepro(t *testing.T, res *ktstr.Result, want bool) {
	t.Helper()
	_, err := os.Stat(filepath.Join(res.OutputDir, "repro", "result.json"))
	if got := err == nil; got != want {
		t.Errorf("auto_repro ran a second VM: %v, want %v (failure: %v)", got, want, res.Err)
	}
}

// wantProbes: auto_repro's second run traced the scheduler, and its
// last calls name a callback (or a kfunc it called) and a task.
func wantProbes(t *testing.T, res *ktstr.Result, wantCallback string) {
	t.Helper()
	if res.Repro == nil || res.Repro.Sched == nil || res.Repro.Sched.Probes == nil {
		t.Fatalf("auto_repro: no probe report (repro %v)", res.Repro != nil)
	}
	pr := res.Repro.Sched.Probes
	if len(pr.Probes) == 0 {
		t.Fatalf("auto_repro: no probe attached: %q", pr.Errors)
	}
	named := false
	for _, e := range pr.Events {
		if strings.HasPrefix(e.Callback, wantCallback) && e.Task != "" {
			named = true
		}
	}
	if !named {
		t.Errorf("auto_repro: no probe event of %s naming a task among the last %d calls:\n%v", wantCallback, len(pr.Events), pr.Events)
	}
}

// TestStallCaught: the scheduler stops dispatching; the kernel's sched_ext
// watchdog must eject it, and the test must fail saying so.
// A scheduler that died is worth a second run with a louder kernel log
// (auto_repro, on here although expect_err turns it off by default).
func TestStallCaught(t *testing.T) {
	res := ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		ExtraSchedArgs: []string{"--fault=stall"},
		DurationS:      2,
		AutoRepro:      ktstr.On,
		ExpectErr:      true,
		ExpectErrMatch: `(?s)scheduler ktstr died: .*stall`,
	})
	var se *ktstr.SchedulerError
	if !errors.As(res.Err, &se) || !se.Died || errors.Is(res.Err, ktstr.ErrSetup) {
		t.Errorf("Result.Err = %#v, want a *SchedulerError that died", res.Err)
	}
	wantRepro(t, res, true)
	// The tasks it took and never dispatched: enqueued, then nothing.
	wantProbes(t, res, "ops.enqueue")
	if st := probes.Stranded(res.Repro.Sched.Probes.Events); len(st) == 0 {
		t.Errorf("auto_repro: no task enqueued and never run before the stall:\n%v", res.Repro.Sched.Probes.Events)
	}
}

// TestHostCrashCaught: the host writes 1 into the scheduler's ktstr_ctl
// map while the workers run; the scheduler calls scx_bpf_error and the
// test must fail with that exit message.
// auto_repro's probes must show the callback that called scx_bpf_error
// and the task it ran for.
func TestHostCrashCaught(t *testing.T) {
	res := ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		BpfMapWrite:    &ktstr.BpfMapWrite{Map: "ktstr_ctl", Key: 0, Value: 1, AfterMs: 500},
		DurationS:      3,
		AutoRepro:      ktstr.On,
		ExpectErr:      true,
		ExpectErrMatch: `(?s)scheduler ktstr died: .*host-triggered crash`,
	})
	wantRepro(t, res, true)
	wantProbes(t, res, "ops.")
	called := false
	for _, e := range res.Repro.Sched.Probes.Events {
		called = called || e.Callback == "kfunc scx_bpf_error"
	}
	if !called {
		t.Errorf("auto_repro: the scx_bpf_error call is not among the last calls:\n%v", res.Repro.Sched.Probes.Events)
	}
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
// A verifier rejection is the same on every run: auto_repro, on here,
// must not boot a second VM for it.
func TestFailVerifyCaught(t *testing.T) {
	res := ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		ExtraSchedArgs: []string{"--fault=fail-verify"},
		AutoRepro:      ktstr.On,
		ExpectErr:      true,
		ExpectErrMatch: `(?s)scheduler ktstr did not start.*verifier rejected`,
	})
	var se *ktstr.SchedulerError
	if !errors.As(res.Err, &se) || se.Died {
		t.Errorf("Result.Err = %#v, want a *SchedulerError that never started", res.Err)
	}
	wantRepro(t, res, false)
}

// TestMapWriteUnknownMapCaught: a bpf_map_write naming a map the
// scheduler does not have cannot give the test its stimulus, so the run
// fails naming the map, instead of passing without it.
func TestMapWriteUnknownMapCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		BpfMapWrite:    &ktstr.BpfMapWrite{Map: "no_such_map", Key: 0, Value: 1, AfterMs: 200},
		DurationS:      2,
		ExpectErr:      true,
		ExpectErrMatch: `bpf_map_write failed: bpf_map_write no_such_map\[0\]=1 failed: no BPF map named "no_such_map" \(maps: .*ktstr_ctl`,
	})
}

// TestMapWriteBadKeyCaught: key 7 of the one-entry ktstr_ctl array does
// not exist; the kernel refuses the update and the run fails with its
// error.
func TestMapWriteBadKeyCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		BpfMapWrite:    &ktstr.BpfMapWrite{Map: "ktstr_ctl", Key: 7, Value: 1, AfterMs: 200},
		DurationS:      2,
		ExpectErr:      true,
		ExpectErrMatch: `bpf_map_write ktstr_ctl\[7\]=1 failed: updating map ktstr_ctl \(id \d+\): .*argument list too long`,
	})
}

// TestMapWriteTooLateCaught: a write due after the test ends never
// happens; that is a failure too, not a pass without the stimulus.
func TestMapWriteTooLateCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		BpfMapWrite:    &ktstr.BpfMapWrite{Map: "ktstr_ctl", Key: 0, Value: 1, AfterMs: 600000},
		DurationS:      1,
		ExpectErr:      true,
		ExpectErrMatch: `bpf_map_write ktstr_ctl\[0\]=1 failed: not done: the test ended before after_ms=600000`,
	})
}
