package ktstr

import (
	"context"
	"encoding/json"
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
	"github.com/ktstr-go/ktstr/internal/hostrun"
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
		if hostrun.Explainable(res.Err) {
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
// failed (see internal/hostrun for its types). The orchestration is
// hostrun's; this is the testing glue: the spec turned into a Job, the
// log lines, the result and the checks.
func hostRun(t *testing.T, spec Spec, p Profile, res *Result, extraKernelArgs []string) error {
	t.Helper()
	sched := spec.Scheduler
	job := hostrun.Job{NeedSchedExt: !sched.IsEEVDF(), WorkDir: t.TempDir()}
	var err error
	if job.KernelExplicit, err = hostrun.Runfile(EnvKernelRunfile); err != nil {
		return &SetupError{Err: err}
	}
	var schedReq *wire.SchedRequest
	if !sched.IsEEVDF() {
		schedReq = schedRequest(spec, p)
		res.SchedArgs = schedReq.Args
	}
	job.Base = os.Getenv(EnvInitramfs)
	if rf, err := hostrun.Runfile(EnvInitramfsRunfile); err != nil {
		return &SetupError{Err: err}
	} else if rf != "" {
		job.Base = rf
	}
	if job.Base != "" && sched != nil && sched.Path != "" {
		// A prebuilt initramfs holds built schedulers only; a host binary
		// must still exist, and is reported the same way when it does not.
		if _, err := schedulerBinary(sched); err != nil {
			return &SetupError{Err: err}
		}
	}
	job.Pack = func(dst string) error { return packBase(dst, sched, schedReq) }
	hostTimeout, guestTimeout := timeouts(spec)
	specJSON, _ := json.Marshal(spec)
	job.Request = wire.Request{
		Test:      t.Name(),
		Args:      []string{"-test.run", runPattern(t.Name()), "-test.v", "-test.timeout", (guestTimeout + 30*time.Second).String()},
		Env:       gauntletEnv(),
		Timeout:   wire.Duration(guestTimeout),
		Spec:      specJSON,
		Scheduler: schedReq,
	}
	job.RequestEnv = func(k kernel.Kernel) []string {
		return []string{wire.EnvThresholds + "=" + guestThresholds(spec, k.Path, hostrun.DebugOptions(k))}
	}
	var kargs []string
	if sched != nil {
		kargs = append(kargs, sched.KernelArgs...)
	}
	job.Config = runner.Config{
		Topology:   spec.Topology(),
		KernelArgs: append(append(kargs, spec.KernelArgs...), extraKernelArgs...),
		Timeout:    hostTimeout,
		OutDir:     res.OutputDir,
		PinVCPUs:   spec.PerformanceMode,
	}
	if os.Getenv(EnvConsole) == "1" {
		job.Config.Console = testWriter{t}
	}

	out, runErr := hostrun.Run(context.Background(), job)
	res.Kernel = out.Kernel.Path
	if b := out.Boot; b != nil {
		res.Accel, res.Emulated, res.AccelWhy = b.Accel, b.Emulated, b.AccelWhy
		if b.Emulated {
			why := "see the first VM test of this binary for why KVM was not used"
			accelNote.Do(func() { why = b.AccelWhy })
			t.Logf("ktstr: %s on %s (%d CPUs), scheduler %s, profile %s: QEMU under TCG (%s), timeouts scaled to %v",
				t.Name(), spec.Topology(), spec.Topology().CPUs(), res.Scheduler, res.Profile, why, b.Timeout)
		}
		for _, n := range b.Notes {
			t.Logf("ktstr: %s", n)
		}
		if b.Hello != nil {
			res.Guest = b.Hello.View
		}
	}
	if r := out.Result; r != nil {
		res.Sched = r.Sched
		if r.Report != nil {
			// Kept also when the test did not finish: what had just happened.
			res.Phases, res.Timeline = r.Report.Phases, r.Report.Timeline
		}
	}
	if runErr != nil {
		return runErr
	}
	r := out.Result
	res.Workers = r.Report.Workers
	res.SchedExt = r.Report.SchedExt
	env := verify.Env{Emulated: out.Boot.Emulated, DebugKernel: out.DebugKernel}
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
		t.Logf("ktstr: what the scenario did last:\n%s", hostrun.TimelineTail(res.Timeline, timelineTailEvents))
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
