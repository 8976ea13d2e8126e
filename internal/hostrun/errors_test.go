package hostrun

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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
		if got := Explainable(tt.err); got != tt.want {
			t.Errorf("%s: Explainable = %v, want %v", tt.name, got, tt.want)
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
		if got := SchedFailure(tt.rep); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SchedFailure(%+v) = %#v, want %#v", tt.rep, got, tt.want)
		}
	}
}

func TestKernelDebugOptions(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte("CONFIG_KASAN=y\nCONFIG_SCHED_CLASS_EXT=y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := DebugOptions(kernel.Kernel{ConfigPath: cfg}); !reflect.DeepEqual(got, []string{"CONFIG_KASAN"}) {
		t.Errorf("debug options %q, want CONFIG_KASAN", got)
	}
	if got := DebugOptions(kernel.Kernel{}); got != nil {
		t.Errorf("unknown config: %q, want none", got)
	}
	env := verify.Env{DebugKernel: DebugOptions(kernel.Kernel{ConfigPath: cfg})}
	if th := verify.Defaults(env); th.MaxGapMs != verify.RelaxedMaxGapMs {
		t.Errorf("a debug kernel's gap limit is %v, want the relaxed %d", th.MaxGapMs, verify.RelaxedMaxGapMs)
	}
}

func TestGuestFailure(t *testing.T) {
	rep := &wire.TestReport{}
	for _, tt := range []struct {
		r    wire.TestResult
		want string
	}{
		{wire.TestResult{Report: rep}, ""},
		{wire.TestResult{TimedOut: true, Duration: wire.Duration(3e9), OutputTail: "spinning"}, "the test timed out in the guest after 3s\n--- guest output tail ---\nspinning"},
		{wire.TestResult{ExitCode: 2}, "the test wrote no report in the guest (exit code 2)"},
		{wire.TestResult{ExitCode: 1, Report: rep}, "the test failed in the guest (exit code 1)"},
		{wire.TestResult{Report: &wire.TestReport{Errors: []string{"no cgroup"}}}, "scenario failed in the guest: no cgroup"},
		{wire.TestResult{Report: rep, Sched: &wire.SchedReport{Name: "s", Died: true, DeathCause: "stall"}}, "scheduler s died: stall"},
	} {
		err := GuestFailure(&tt.r)
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("GuestFailure(%+v) = %v, want %q", tt.r, err, tt.want)
		}
	}
}

func TestRunfile(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "_main", "k"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "_main", "k", "vmlinux"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RUNFILES_DIR", "")
	t.Setenv("TEST_SRCDIR", root)
	t.Setenv("KTSTR_KERNEL_RLOCATION", "_main/k/vmlinux")
	if p, err := Runfile("KTSTR_KERNEL_RLOCATION"); err != nil || p != filepath.Join(root, "_main", "k", "vmlinux") {
		t.Errorf("runfile = %q, %v", p, err)
	}
	t.Setenv("KTSTR_KERNEL_RLOCATION", "_main/k/missing")
	if _, err := Runfile("KTSTR_KERNEL_RLOCATION"); err == nil || !strings.Contains(err.Error(), "KTSTR_KERNEL_RLOCATION") {
		t.Errorf("missing runfile: err = %v", err)
	}
	t.Setenv("KTSTR_KERNEL_RLOCATION", "")
	if p, err := Runfile("KTSTR_KERNEL_RLOCATION"); p != "" || err != nil {
		t.Errorf("unset: %q, %v", p, err)
	}
}
