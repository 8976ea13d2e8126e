package ktstr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/guest/scenario"
	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/verify"
)

// Host-side environment knobs.
const (
	// EnvOutputDir keeps every run's console.log, qmp.log and
	// result.json below it (Bazel's TEST_UNDECLARED_OUTPUTS_DIR is used
	// when this is unset).
	EnvOutputDir = "KTSTR_OUTPUT_DIR"
	// EnvConsole=1 streams the guest console into the test log.
	EnvConsole = "KTSTR_CONSOLE"
	// EnvInitramfs is a prebuilt base initramfs holding init, this test
	// binary and the scheduler binaries (the Bazel rule builds it in its
	// own action); unset, Run packs one.
	EnvInitramfs = "KTSTR_INITRAMFS"
	// EnvKernelRunfile and EnvInitramfsRunfile are the same as
	// KTSTR_KERNEL and KTSTR_INITRAMFS as runfiles paths
	// ("repo/pkg/file"), which the Bazel rule sets.
	EnvKernelRunfile    = "KTSTR_KERNEL_RLOCATION"
	EnvInitramfsRunfile = "KTSTR_INITRAMFS_RLOCATION"
)

// bootMargin is what the host timeout keeps beyond the guest's bound on
// the test binary: boot, init and power-off.
const bootMargin = 20 * time.Second

// timeouts derives the run's budget from the duration: the host timeout
// as under KVM (the runner scales it for TCG), and the guest's bound on
// the test binary, which ends well inside it so that a hung test is
// reported by init with its output rather than by the host timing out.
func timeouts(spec Spec) (host, guest time.Duration) {
	d := time.Duration(spec.DurationS) * time.Second
	host = 60*time.Second + 3*d
	if spec.TimeoutS > 0 {
		host = time.Duration(spec.TimeoutS) * time.Second
	}
	guest = max(host-bootMargin, host/2)
	return host, guest
}

// runPattern is a -test.run pattern that selects exactly this (sub)test.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

func outputDir(t *testing.T) string {
	for _, env := range []string{EnvOutputDir, "TEST_UNDECLARED_OUTPUTS_DIR"} {
		if d := os.Getenv(env); d != "" {
			return filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "__"))
		}
	}
	return filepath.Join(t.TempDir(), "vm")
}

// runHost boots the VM for spec and reports the verdict on t. A failed
// run that a second run can explain is repeated once with a verbose
// kernel log when auto_repro is on.
func runHost(t *testing.T, spec Spec, p Profile) *Result {
	t.Helper()
	if spec.Scenario != "" && spec.body == nil {
		topo := spec.Topology()
		env := scenario.Env{Topo: scenario.TopoOf(topo), Duration: time.Duration(spec.DurationS) * time.Second, WorkersPerCgroup: spec.WorkersPerCgroup}
		if _, skip := spec.steps(env); skip != "" {
			t.Skipf("ktstr: scenario %s on %s: %s", spec.Scenario, topo, skip)
		}
	}
	res := &Result{Test: t.Name(), Spec: spec, Scheduler: spec.Scheduler.name(), Profile: p.Name(), OutputDir: outputDir(t)}
	start := time.Now()
	res.setErr(hostRun(t, spec, p, res, nil))
	res.ElapsedS = time.Since(start).Seconds()
	if err := writeResult(res); err != nil {
		t.Errorf("ktstr: %v", err)
	}
	if res.Err != nil && spec.AutoRepro == On {
		if explainable(res.Err) {
			autoRepro(t, spec, p, res)
		} else {
			t.Logf("ktstr: auto_repro: not rerun: this failure comes back the same on every run")
		}
	}
	report(t, spec, res)
	return res
}

// autoRepro runs a failed test once more with the kernel log at full
// verbosity and says whether the failure came back; its outputs are kept
// beside the first run's, under repro/.
func autoRepro(t *testing.T, spec Spec, p Profile, first *Result) {
	t.Helper()
	rep := &Result{Test: first.Test, Spec: spec, Scheduler: first.Scheduler, Profile: first.Profile, OutputDir: filepath.Join(first.OutputDir, "repro")}
	rep.setErr(hostRun(t, spec, p, rep, []string{"loglevel=7", "ignore_loglevel"}))
	writeResult(rep)
	if rep.Err == nil {
		t.Logf("ktstr: auto_repro: the failure did not reproduce in a second run (outputs: %s)", rep.OutputDir)
		return
	}
	t.Logf("ktstr: auto_repro: reproduced with a verbose kernel log (outputs: %s)", rep.OutputDir)
}

// accelNote says once per test binary why KVM was not used; later VM
// tests of the same binary point back to it.
var accelNote sync.Once

// hostRun does one VM run and fills res; the error says why the run
// failed (see errors.go for its types).
func hostRun(t *testing.T, spec Spec, p Profile, res *Result, extraKernelArgs []string) error {
	t.Helper()
	sched := spec.Scheduler
	kernelPath, err := runfile(EnvKernelRunfile)
	if err != nil {
		return &SetupError{Err: err}
	}
	k, err := kernel.Resolve(kernel.ResolveOptions{Explicit: kernelPath, NeedSchedExt: !sched.IsEEVDF()})
	if err != nil {
		return &SetupError{Err: fmt.Errorf("no kernel: %w", err)}
	}
	res.Kernel = k.Path
	debugKernel := kernelDebugOptions(k)
	var schedReq *wire.SchedRequest
	if !sched.IsEEVDF() {
		schedReq = schedRequest(spec, p)
		res.SchedArgs = schedReq.Args
	}
	work := t.TempDir()
	base := os.Getenv(EnvInitramfs)
	if rf, err := runfile(EnvInitramfsRunfile); err != nil {
		return &SetupError{Err: err}
	} else if rf != "" {
		base = rf
	}
	if base != "" {
		if _, err := os.Stat(base); err != nil {
			return setupErrorf("%s: %w", EnvInitramfs, err)
		}
		// A prebuilt initramfs holds built schedulers only; a host binary
		// must still exist, and is reported the same way when it does not.
		if sched != nil && sched.Path != "" {
			if _, err := schedulerBinary(sched); err != nil {
				return &SetupError{Err: err}
			}
		}
	} else {
		base = filepath.Join(work, "base.cpio")
		if err := packBase(base, sched, schedReq); err != nil {
			return &SetupError{Err: err}
		}
	}
	hostTimeout, guestTimeout := timeouts(spec)
	specJSON, _ := json.Marshal(spec)
	guestEnv := append(gauntletEnv(), wire.EnvThresholds+"="+guestThresholds(spec, k.Path, debugKernel))
	reqJSON, err := json.Marshal(wire.Request{
		Test:      t.Name(),
		Args:      []string{"-test.run", runPattern(t.Name()), "-test.v", "-test.timeout", (guestTimeout + 30*time.Second).String()},
		Env:       guestEnv,
		Timeout:   wire.Duration(guestTimeout),
		Spec:      specJSON,
		Scheduler: schedReq,
	})
	if err != nil {
		return setupErrorf("encoding request: %w", err)
	}
	reqArchive := filepath.Join(work, "request.cpio")
	if err := runner.WriteInitramfs(reqArchive, []runner.File{{Path: wire.RequestPath, Data: reqJSON}}, false); err != nil {
		return &SetupError{Err: err}
	}
	var kargs []string
	if sched != nil {
		kargs = append(kargs, sched.KernelArgs...)
	}
	kargs = append(append(kargs, spec.KernelArgs...), extraKernelArgs...)
	cfg := runner.Config{
		Kernel:     k.Path,
		Initramfs:  []string{base, reqArchive},
		Topology:   spec.Topology(),
		KernelArgs: kargs,
		Timeout:    hostTimeout,
		OutDir:     res.OutputDir,
		PinVCPUs:   spec.PerformanceMode,
	}
	if os.Getenv(EnvConsole) == "1" {
		cfg.Console = testWriter{t}
	}
	out, err := runner.Boot(context.Background(), cfg)
	res.Accel, res.Emulated, res.AccelWhy = out.Accel, out.Emulated, out.AccelWhy
	if out.Emulated {
		why := "see the first VM test of this binary for why KVM was not used"
		accelNote.Do(func() { why = out.AccelWhy })
		t.Logf("ktstr: %s on %s (%d CPUs), scheduler %s, profile %s: QEMU under TCG (%s), timeouts scaled to %v",
			t.Name(), spec.Topology(), spec.Topology().CPUs(), res.Scheduler, res.Profile, why, out.Timeout)
	}
	for _, n := range out.Notes {
		t.Logf("ktstr: %s", n)
	}
	if out.Hello != nil {
		res.Guest = out.Hello.View
	}
	if err != nil {
		var be *runner.BootError
		if errors.As(err, &be) && (be.Kind == runner.FailSetup || be.Kind == runner.FailAccel) {
			return &SetupError{Err: err}
		}
		return err
	}
	if out.Done != nil && len(out.Done.Errors) > 0 {
		return &GuestError{Reason: "guest init reported errors: " + strings.Join(out.Done.Errors, "; ")}
	}
	r := out.Result
	if r == nil {
		return &GuestError{Reason: "guest sent no test result"}
	}
	res.Sched = r.Sched
	if r.Report != nil {
		// Kept also when the test did not finish: what had just happened.
		res.Phases, res.Timeline = r.Report.Phases, r.Report.Timeline
	}
	if err := schedFailure(r.Sched); err != nil {
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
	res.Workers = r.Report.Workers
	res.SchedExt = r.Report.SchedExt
	env := verify.Env{Emulated: out.Emulated, DebugKernel: debugKernel}
	res.Checks = verify.Evaluate(res.Workers, spec.Thresholds(env), env)
	if schedReq != nil {
		res.Checks = append(res.Checks, checkInCharge(schedReq, res.SchedExt))
	}
	if v := r.Report.Verdict; v != nil {
		res.Verdict = v
		res.Checks = append(res.Checks, bodyCheck(*v))
	}
	if failed := verify.Failed(res.Checks); len(failed) > 0 {
		return &ChecksError{Failed: failed}
	}
	return nil
}

// guestThresholds are the merged verification settings a test body sees,
// for the accelerator the run will use (the choice is cached: Boot makes
// the same one).
func guestThresholds(spec Spec, kernelPath string, debugKernel []string) string {
	env := verify.Env{Emulated: true, DebugKernel: debugKernel}
	if qemu, err := runner.FindQEMU(""); err == nil {
		if c, err := runner.ChooseAccel(context.Background(), runner.AccelAuto, qemu, kernelPath); err == nil {
			env.Emulated = c.Accel != runner.AccelKVM
		}
	}
	b, _ := json.Marshal(spec.Thresholds(env))
	return string(b)
}

// bodyCheck reports a test body's verdict as a check.
func bodyCheck(v Verdict) verify.CheckResult {
	c := verify.CheckResult{Name: CheckBody, Passed: v.Status != wire.VerdictFail, Skipped: v.Status == wire.VerdictSkip}
	msg := strings.Join(v.Details, "; ")
	if msg == "" {
		msg = "the test body returned " + string(v.Status)
	}
	if len(v.Stats) > 0 {
		names := make([]string, 0, len(v.Stats))
		for n := range v.Stats {
			names = append(names, n)
		}
		sort.Strings(names)
		var parts []string
		for _, n := range names {
			parts = append(parts, fmt.Sprintf("%s=%g", n, v.Stats[n]))
		}
		msg += " (" + strings.Join(parts, ", ") + ")"
	}
	c.Message = msg
	return c
}

// gauntletEnv passes the gauntlet variables to the test binary in the
// guest, so that it selects the same topology and profile as the host.
func gauntletEnv() []string {
	var env []string
	for _, k := range []string{EnvTopology, EnvProfile} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// kernelDebugOptions are the debug options of k's config (none when the
// config is unknown).
func kernelDebugOptions(k kernel.Kernel) []string {
	if k.ConfigPath == "" {
		return nil
	}
	b, err := os.ReadFile(k.ConfigPath)
	if err != nil {
		return nil
	}
	return kernel.DebugOptions(b)
}

// runfile resolves the runfiles path in the environment variable env
// ("" when it is unset).
func runfile(env string) (string, error) {
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

// packBase writes the base initramfs: init, this test binary and the
// scheduler's binary.
func packBase(path string, sched *Scheduler, schedReq *wire.SchedRequest) error {
	initBin, err := runner.InitBinary()
	if err != nil {
		return fmt.Errorf("ktstr-init: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the test binary: %w", err)
	}
	files := []runner.File{
		{Path: "/init", Source: initBin, Mode: 0o755},
		{Path: wire.TestBinaryPath, Source: self, Mode: 0o755, WithLibs: true},
	}
	if schedReq != nil && sched.Builtin == nil {
		bin, err := schedulerBinary(sched)
		if err != nil {
			return err
		}
		files = append(files, runner.File{Path: schedReq.Path, Source: bin, Mode: 0o755, WithLibs: true})
	}
	return runner.WriteInitramfs(path, files, true)
}

// CheckScheduler is the check that the scheduler under test was the one
// in charge while the workers ran.
const CheckScheduler = "scheduler"

func checkInCharge(req *wire.SchedRequest, s wire.SchedExtSample) verify.CheckResult {
	c := verify.CheckResult{Name: CheckScheduler}
	if s.State == "enabled" && (req.Ops == "" || s.Ops == req.Ops) {
		c.Passed = true
		c.Message = fmt.Sprintf("sched_ext enabled with ops %q while the workers ran", s.Ops)
		return c
	}
	c.Message = fmt.Sprintf("the scheduler was not in charge while the workers ran: sched_ext state %q, ops %q (want enabled, %q)", s.State, s.Ops, req.Ops)
	return c
}

// schedFailure explains a scheduler that did not start or died, or a
// map write that was not done (nil when none of these happened).
func schedFailure(r *wire.SchedReport) error {
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

// schedRequest is what init needs to run the scheduler of spec with p.
func schedRequest(spec Spec, p Profile) *wire.SchedRequest {
	sc := spec.Scheduler
	req := &wire.SchedRequest{
		Name:         sc.Name,
		Ops:          sc.Ops,
		Args:         sc.Args(p, spec.WatchdogTimeoutS, spec.ExtraSchedArgs),
		CgroupParent: sc.CgroupParent,
		StartTimeout: wire.Duration(30 * time.Second),
	}
	if req.Ops == "" {
		req.Ops = sc.Name
	}
	if len(sc.Sysctls) > 0 {
		req.Sysctls = map[string]string{}
		for _, s := range sc.Sysctls {
			req.Sysctls[s.Key] = s.Value
		}
	}
	if sc.Builtin != nil {
		req.Enable, req.Disable = sc.Builtin.Enable, sc.Builtin.Disable
	} else {
		req.Path = wire.SchedDir + "/" + sc.Name
	}
	if w := spec.BpfMapWrite; w != nil {
		req.MapWrites = []wire.MapWrite{{Map: w.Map, Key: w.Key, Value: w.Value, AfterMs: w.AfterMs}}
	}
	return req
}

// schedulerBinary finds or builds the scheduler's binary on the host.
func schedulerBinary(sc *Scheduler) (string, error) {
	if sc.GoPackage != "" {
		p, err := runner.BuildGoBinary(sc.GoPackage)
		if err != nil {
			return "", fmt.Errorf("scheduler %s: %w", sc.Name, err)
		}
		return p, nil
	}
	st, err := os.Stat(sc.Path)
	if err != nil {
		return "", fmt.Errorf("scheduler binary %s of scheduler %s not found: %v (build it, or fix Scheduler.Path)", sc.Path, sc.Name, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("scheduler binary %s of scheduler %s is not an executable file", sc.Path, sc.Name)
	}
	return sc.Path, nil
}

// report turns the result into the test's verdict: one subtest per check,
// or, for expect_err, one verdict on whether it failed as expected.
func report(t *testing.T, spec Spec, res *Result) {
	t.Helper()
	if res.Err != nil && len(res.Timeline) > 0 {
		t.Logf("ktstr: what the scenario did last:\n%s", timelineTail(res.Timeline, timelineTailEvents))
	}
	if spec.ExpectErr {
		switch {
		case res.Failure == "":
			t.Errorf("ktstr: expect_err: the run passed but was expected to fail")
		case spec.ExpectErrMatch != "" && !regexp.MustCompile(spec.ExpectErrMatch).MatchString(res.Failure):
			t.Errorf("ktstr: expect_err: the run failed, but not as expected (want a failure matching %q):\n%s", spec.ExpectErrMatch, res.Failure)
		default:
			t.Logf("ktstr: failed as expected: %s", res.Failure)
		}
		return
	}
	for _, c := range res.Checks {
		t.Run("check/"+c.Name, func(t *testing.T) {
			if c.Skipped {
				t.Skip(c.String())
			}
			if !c.Passed {
				t.Error(c.String())
				return
			}
			t.Log(c.String())
		})
	}
	if res.Failure != "" && len(verify.Failed(res.Checks)) == 0 {
		t.Errorf("ktstr: %s: %s", t.Name(), res.Failure)
	}
}

// timelineTailEvents is how much of the timeline a failure shows.
const timelineTailEvents = 20

// timelineTail is the last n events, one a line.
func timelineTail(tl []wire.Event, n int) string {
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

func writeResult(res *Result) error {
	if err := os.MkdirAll(res.OutputDir, 0o755); err != nil {
		return fmt.Errorf("result dir: %w", err)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding result: %w", err)
	}
	return os.WriteFile(filepath.Join(res.OutputDir, "result.json"), b, 0o644)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
