package ktstr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/verify"
)

func TestExplainable(t *testing.T) {
	boot := func(k runner.FailureKind) error { return &runner.BootError{Kind: k, Detail: "x"} }
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"no kernel", &SetupError{Err: fmt.Errorf("no kernel: %w", kernel.ErrNoKernel)}, false},
		{"KVM unusable", &SetupError{Err: &runner.BootError{Kind: runner.FailAccel, Err: runner.ErrKVMUnusable}}, false},
		{"QEMU exited", boot(runner.FailQEMU), false},
		{"VM stopped", boot(runner.FailStopped), false},
		{"guest panic", boot(runner.FailPanic), true},
		{"guest hang", boot(runner.FailTimeout), true},
		{"no result", boot(runner.FailNoResult), true},
		{"verifier rejection", &SchedulerError{Name: "s", Cause: "verifier rejected"}, false},
		{"scheduler died", &SchedulerError{Name: "s", Died: true, Cause: "stall"}, true},
		{"bad map write", &MapWriteError{Errors: []string{"no map"}}, false},
		{"checks", &ChecksError{Failed: []verify.CheckResult{{Name: "gap"}}}, true},
		{"guest test failed", &GuestError{Reason: "exit code 1"}, true},
		{"something else", errors.New("?"), false},
	} {
		if got := explainable(tt.err); got != tt.want {
			t.Errorf("%s: explainable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSetupErrorMatchesBoth(t *testing.T) {
	err := error(&SetupError{Err: &runner.BootError{Kind: runner.FailAccel, Detail: "choosing", Err: fmt.Errorf("%w: reason", runner.ErrKVMUnusable)}})
	var be *runner.BootError
	if !errors.Is(err, ErrSetup) || !errors.Is(err, runner.ErrKVMUnusable) || !errors.As(err, &be) {
		t.Errorf("%v: want ErrSetup, ErrKVMUnusable and a *BootError through it", err)
	}
	if err.Error() != be.Error() {
		t.Errorf("SetupError reads %q, want its cause's text %q", err, be)
	}
}

func TestSchedFailure(t *testing.T) {
	for _, tt := range []struct {
		rep  *wire.SchedReport
		want error
	}{
		{nil, nil},
		{&wire.SchedReport{Name: "s"}, nil},
		{&wire.SchedReport{Name: "s", StartErr: "verifier", OutputTail: "log"}, &SchedulerError{Name: "s", Cause: "verifier", Output: "log"}},
		{&wire.SchedReport{Name: "s", Died: true, DeathCause: "stall", Dump: "dump"}, &SchedulerError{Name: "s", Died: true, Cause: "stall", Dump: "dump"}},
		{&wire.SchedReport{Name: "s", MapWriteErrors: []string{"m failed"}}, &MapWriteError{Errors: []string{"m failed"}}},
	} {
		if got := schedFailure(tt.rep); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("schedFailure(%+v) = %#v, want %#v", tt.rep, got, tt.want)
		}
	}
}

func TestKernelDebugOptions(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte("CONFIG_KASAN=y\nCONFIG_SCHED_CLASS_EXT=y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := kernelDebugOptions(kernel.Kernel{ConfigPath: cfg}); !reflect.DeepEqual(got, []string{"CONFIG_KASAN"}) {
		t.Errorf("debug options %q, want CONFIG_KASAN", got)
	}
	if got := kernelDebugOptions(kernel.Kernel{}); got != nil {
		t.Errorf("unknown config: %q, want none", got)
	}
	env := verify.Env{DebugKernel: kernelDebugOptions(kernel.Kernel{ConfigPath: cfg})}
	if th := verify.Defaults(env); th.MaxGapMs != verify.RelaxedMaxGapMs {
		t.Errorf("a debug kernel's gap limit is %v, want the relaxed %d", th.MaxGapMs, verify.RelaxedMaxGapMs)
	}
}
