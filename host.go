package ktstr

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
// run is repeated once with a verbose kernel log when auto_repro is on.
func runHost(t *testing.T, spec Spec, p Profile) *Result {
	t.Helper()
	res := &Result{Test: t.Name(), Spec: spec, Scheduler: spec.Scheduler.name(), Profile: p.Name(), OutputDir: outputDir(t)}
	start := time.Now()
	failure, vmRan := hostRun(t, spec, p, res, nil, res.OutputDir)
	res.ElapsedS = time.Since(start).Seconds()
	res.Failure = failure
	if err := writeResult(res); err != nil {
		t.Errorf("ktstr: %v", err)
	}
	if failure != "" && vmRan && spec.AutoRepro == On {
		autoRepro(t, spec, p, res)
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
	failure, _ := hostRun(t, spec, p, rep, []string{"loglevel=7", "ignore_loglevel"}, rep.OutputDir)
	rep.Failure = failure
	writeResult(rep)
	if failure == "" {
		t.Logf("ktstr: auto_repro: the failure did not reproduce in a second run (outputs: %s)", rep.OutputDir)
		return
	}
	t.Logf("ktstr: auto_repro: reproduced with a verbose kernel log (outputs: %s)", rep.OutputDir)
}

// hostRun does one VM run and fills res. It returns why the run failed
// ("" when it passed) and whether a VM ran at all.
func hostRun(t *testing.T, spec Spec, p Profile, res *Result, extraKernelArgs []string, outDir string) (string, bool) {
	t.Helper()
	sched := spec.Scheduler
	kernelPath, err := runfile(EnvKernelRunfile)
	if err != nil {
		return err.Error(), false
	}
	k, err := kernel.Resolve(kernel.ResolveOptions{Explicit: kernelPath, NeedSchedExt: !sched.IsEEVDF()})
	if err != nil {
		return fmt.Sprintf("no kernel: %v", err), false
	}
	res.Kernel = k.Path
	var schedReq *wire.SchedRequest
	if !sched.IsEEVDF() {
		if schedReq, err = schedRequest(spec, p); err != nil {
			return err.Error(), false
		}
	}
	work := t.TempDir()
	base := os.Getenv(EnvInitramfs)
	if rf, err := runfile(EnvInitramfsRunfile); err != nil {
		return err.Error(), false
	} else if rf != "" {
		base = rf
	}
	if base != "" {
		if _, err := os.Stat(base); err != nil {
			return fmt.Sprintf("%s: %v", EnvInitramfs, err), false
		}
		// A prebuilt initramfs holds built schedulers only; a host binary
		// must still exist, and is reported the same way when it does not.
		if sched != nil && sched.Path != "" {
			if _, err := schedulerBinary(sched); err != nil {
				return err.Error(), false
			}
		}
	} else {
		base = filepath.Join(work, "base.cpio")
		if msg := packBase(base, sched, schedReq); msg != "" {
			return msg, false
		}
	}
	hostTimeout, guestTimeout := timeouts(spec)
	specJSON, _ := json.Marshal(spec)
	reqJSON, err := json.Marshal(wire.Request{
		Test:      t.Name(),
		Args:      []string{"-test.run", runPattern(t.Name()), "-test.v", "-test.timeout", (guestTimeout + 30*time.Second).String()},
		Timeout:   wire.Duration(guestTimeout),
		Spec:      specJSON,
		Scheduler: schedReq,
	})
	if err != nil {
		return fmt.Sprintf("encoding request: %v", err), false
	}
	reqArchive := filepath.Join(work, "request.cpio")
	if err := runner.WriteInitramfs(reqArchive, []runner.File{{Path: wire.RequestPath, Data: reqJSON}}, false); err != nil {
		return err.Error(), false
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
		OutDir:     outDir,
		PinVCPUs:   spec.PerformanceMode,
	}
	if os.Getenv(EnvConsole) == "1" {
		cfg.Console = testWriter{t}
	}
	out, err := runner.Boot(context.Background(), cfg)
	res.Accel, res.Emulated = out.Accel, out.Emulated
	if out.Emulated {
		t.Logf("ktstr: %s on %s (%d CPUs), scheduler %s, profile %s: QEMU under TCG, timeouts scaled to %v",
			t.Name(), spec.Topology(), spec.Topology().CPUs(), res.Scheduler, res.Profile, out.Timeout)
	}
	for _, n := range out.Notes {
		t.Logf("ktstr: %s", n)
	}
	if out.Hello != nil {
		res.Guest = out.Hello.View
	}
	if err != nil {
		return err.Error(), true
	}
	if out.Done != nil && len(out.Done.Errors) > 0 {
		return "guest init reported errors: " + strings.Join(out.Done.Errors, "; "), true
	}
	r := out.Result
	if r == nil {
		return "guest sent no test result", true
	}
	res.Sched = r.Sched
	if f := schedFailure(spec, r.Sched); f != "" {
		return f, true
	}
	switch {
	case r.TimedOut:
		return fmt.Sprintf("the test timed out in the guest after %v\n--- guest output tail ---\n%s", time.Duration(r.Duration), r.OutputTail), true
	case r.Report == nil:
		return fmt.Sprintf("the test wrote no report in the guest (exit code %d)\n--- guest output tail ---\n%s", r.ExitCode, r.OutputTail), true
	case r.ExitCode != 0:
		return fmt.Sprintf("the test failed in the guest (exit code %d)\n--- guest output tail ---\n%s", r.ExitCode, r.OutputTail), true
	case len(r.Report.Errors) > 0:
		return "scenario failed in the guest: " + strings.Join(r.Report.Errors, "; "), true
	}
	res.Workers = r.Report.Workers
	res.SchedExt = r.Report.SchedExt
	env := verify.Env{Emulated: out.Emulated}
	res.Checks = verify.Evaluate(res.Workers, spec.Thresholds(env), env)
	if schedReq != nil {
		res.Checks = append(res.Checks, checkInCharge(schedReq, res.SchedExt))
	}
	if failed := verify.Failed(res.Checks); len(failed) > 0 {
		var parts []string
		for _, c := range failed {
			parts = append(parts, c.String())
		}
		return "checks failed: " + strings.Join(parts, "; "), true
	}
	return "", true
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
// scheduler's binary. It returns why it could not ("" on success).
func packBase(path string, sched *Scheduler, schedReq *wire.SchedRequest) string {
	initBin, err := runner.InitBinary()
	if err != nil {
		return fmt.Sprintf("ktstr-init: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Sprintf("finding the test binary: %v", err)
	}
	files := []runner.File{
		{Path: "/init", Source: initBin, Mode: 0o755},
		{Path: wire.TestBinaryPath, Source: self, Mode: 0o755, WithLibs: true},
	}
	if schedReq != nil && sched.Builtin == nil {
		bin, err := schedulerBinary(sched)
		if err != nil {
			return err.Error()
		}
		files = append(files, runner.File{Path: schedReq.Path, Source: bin, Mode: 0o755, WithLibs: true})
	}
	if err := runner.WriteInitramfs(path, files, true); err != nil {
		return err.Error()
	}
	return ""
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

// schedFailure explains a scheduler that did not start or died.
func schedFailure(spec Spec, r *wire.SchedReport) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	switch {
	case r.StartErr != "":
		fmt.Fprintf(&b, "scheduler %s did not start: %s", r.Name, r.StartErr)
	case r.Died:
		fmt.Fprintf(&b, "scheduler %s died: %s", r.Name, r.DeathCause)
	default:
		return ""
	}
	if t := strings.TrimSpace(r.OutputTail); t != "" {
		fmt.Fprintf(&b, "\n--- scheduler output ---\n%s", t)
	}
	if d := strings.TrimSpace(r.Dump); d != "" {
		fmt.Fprintf(&b, "\n--- kernel log (sched_ext exit dump) ---\n%s", d)
	}
	return b.String()
}

// schedRequest is what init needs to run the scheduler of spec with p.
func schedRequest(spec Spec, p Profile) (*wire.SchedRequest, error) {
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
	return req, nil
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
