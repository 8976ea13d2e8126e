package hostrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/runner"
)

// Job is one VM run of a test, as plain inputs: what to boot, with what,
// and how to ask the guest to run the test.
type Job struct {
	// KernelExplicit is a kernel chosen for the run (Bazel's runfile),
	// or "" to resolve one; NeedSchedExt rejects kernels without
	// sched_ext.
	KernelExplicit string
	NeedSchedExt   bool
	// Base is a prebuilt base initramfs (init, the test binary, the
	// schedulers); "" packs Files into one, or takes it from the
	// initramfs cache (runner.DefaultInitramfsCache) when one with the
	// same contents was packed before.
	Base  string
	Files func() ([]runner.File, error)
	// Request is the guest's request, completed once the kernel is known
	// (RequestEnv adds to its environment then).
	Request    wire.Request
	RequestEnv func(k kernel.Kernel) []string
	// Config is the VM, without Kernel and Initramfs, which Run fills in.
	Config runner.Config
	// WorkDir holds the archives Run writes.
	WorkDir string
	// Monitor, when set, runs the host-side monitor.
	Monitor *MonitorOptions
}

// Outcome is what a run produced: the kernel, what the VM did, and what
// the guest reported of the test (nil when it never did).
type Outcome struct {
	Kernel      kernel.Kernel
	DebugKernel []string
	Boot        *runner.Outcome
	Result      *wire.TestResult
}

// Run resolves the kernel, packs the initramfs, boots the VM and turns
// what went wrong into the typed errors of this package: a SetupError
// before anything ran, the runner's *BootError for a VM that failed as a
// machine, a GuestError, SchedulerError or MapWriteError for what the
// guest reported. The Outcome holds what was learnt, also on error.
func Run(ctx context.Context, job Job) (Outcome, error) {
	var out Outcome
	k, err := kernel.Resolve(kernel.ResolveOptions{Explicit: job.KernelExplicit, NeedSchedExt: job.NeedSchedExt})
	if err != nil {
		return out, &SetupError{Err: fmt.Errorf("no kernel: %w", err)}
	}
	out.Kernel, out.DebugKernel = k, DebugOptions(k)
	base := job.Base
	if base != "" {
		if _, err := os.Stat(base); err != nil {
			return out, Setupf("prebuilt initramfs: %w", err)
		}
	} else if base, err = packBase(job); err != nil {
		return out, &SetupError{Err: err}
	}
	req := job.Request
	if job.RequestEnv != nil {
		req.Env = append(append([]string(nil), req.Env...), job.RequestEnv(k)...)
	}
	cfg := job.Config
	if job.Monitor != nil {
		cfg.Monitor, req.KernelSymbols = monitorConfig(job.Monitor, k)
	}
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return out, Setupf("encoding request: %w", err)
	}
	reqArchive := filepath.Join(job.WorkDir, "request.cpio")
	if err := runner.WriteInitramfs(reqArchive, []runner.File{{Path: wire.RequestPath, Data: reqJSON}}, false); err != nil {
		return out, &SetupError{Err: err}
	}
	cfg.Kernel, cfg.Initramfs = k.Path, []string{base, reqArchive}
	boot, err := runner.Boot(ctx, cfg)
	out.Boot = boot
	if err != nil {
		var be *runner.BootError
		if errors.As(err, &be) && (be.Kind == runner.FailSetup || be.Kind == runner.FailAccel) {
			return out, &SetupError{Err: err}
		}
		return out, err
	}
	if boot.Done != nil && len(boot.Done.Errors) > 0 {
		return out, &GuestError{Reason: "guest init reported errors: " + strings.Join(boot.Done.Errors, "; ")}
	}
	r := boot.Result
	if r == nil {
		return out, &GuestError{Reason: "guest sent no test result"}
	}
	out.Result = r
	if req.Shell != nil {
		// A shell session has no report: its exit status is the caller's.
		if r.Shell == nil {
			return out, &GuestError{Reason: "guest sent no shell result", OutputTail: r.OutputTail}
		}
		return out, SchedFailure(r.Sched)
	}
	return out, GuestFailure(r)
}

// packBase packs job.Files, through the initramfs cache when it is on
// and can be written, else into job.WorkDir.
func packBase(job Job) (string, error) {
	files, err := job.Files()
	if err != nil {
		return "", err
	}
	if c := runner.DefaultInitramfsCache(); c.Dir != "" {
		if p, _, err := c.Archive(files, true); err == nil {
			return p, nil
		}
	}
	p := filepath.Join(job.WorkDir, "base.cpio")
	return p, runner.WriteInitramfs(p, files, true)
}

// GuestFailure explains a test result that failed before any check could
// judge it: the scheduler did not start or died, a map write was not
// done, the test binary failed, timed out or wrote no report, or the
// scenario reported errors. nil when the test ran to its report.
func GuestFailure(r *wire.TestResult) error {
	if err := SchedFailure(r.Sched); err != nil {
		return err
	}
	switch {
	case r.TimedOut:
		return &GuestError{Reason: fmt.Sprintf("the test timed out in the guest after %v", time.Duration(r.Duration)), OutputTail: r.OutputTail}
	case r.Report == nil:
		return &GuestError{Reason: fmt.Sprintf("the test wrote no report in the guest (exit code %d)", r.ExitCode), OutputTail: r.OutputTail}
	case r.ExitCode != 0:
		return &GuestError{Reason: fmt.Sprintf("the test failed in the guest (exit code %d)", r.ExitCode), OutputTail: r.OutputTail}
	case len(r.Report.Errors) > 0:
		return &GuestError{Reason: "scenario failed in the guest: " + strings.Join(r.Report.Errors, "; ")}
	}
	return nil
}

// SchedFailure explains a scheduler that did not start or died, or a
// map write that was not done (nil when none of these happened).
func SchedFailure(r *wire.SchedReport) error {
	switch {
	case r == nil:
		return nil
	case r.StartErr != "":
		return &SchedulerError{Name: r.Name, Cause: r.StartErr, Output: r.OutputTail, Dump: r.Dump}
	case r.Died:
		return &SchedulerError{Name: r.Name, Died: true, Cause: r.DeathCause, Output: r.OutputTail, Dump: r.Dump}
	case len(r.MapWriteErrors) > 0:
		return &MapWriteError{Errors: r.MapWriteErrors}
	}
	return nil
}

// DebugOptions are the debug options of k's config (none when the
// config is unknown).
func DebugOptions(k kernel.Kernel) []string {
	if k.ConfigPath == "" {
		return nil
	}
	b, err := os.ReadFile(k.ConfigPath)
	if err != nil {
		return nil
	}
	return kernel.DebugOptions(b)
}

// Runfile resolves the runfiles path in the environment variable env
// ("" when it is unset).
func Runfile(env string) (string, error) {
	v := os.Getenv(env)
	if v == "" {
		return "", nil
	}
	var tried []string
	for _, root := range []string{os.Getenv("RUNFILES_DIR"), os.Getenv("TEST_SRCDIR")} {
		if root == "" {
			continue
		}
		p := filepath.Join(root, v)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("%s=%s: no such runfile (tried %v; RUNFILES_DIR and TEST_SRCDIR must point at the runfiles tree)", env, v, tried)
}

// TimelineTail is the last n events of a timeline, one a line.
func TimelineTail(tl []wire.Event, n int) string {
	var b strings.Builder
	if len(tl) > n {
		fmt.Fprintf(&b, "  (%d earlier events in result.json)\n", len(tl)-n)
		tl = tl[len(tl)-n:]
	}
	for _, e := range tl {
		b.WriteString("  " + e.String() + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
