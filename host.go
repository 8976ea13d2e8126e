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
	"github.com/ktstr-go/ktstr/internal/hostrun"
	"github.com/ktstr-go/ktstr/internal/probes"
	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/runner/monitor"
	"github.com/ktstr-go/ktstr/runner/perfmode"
	"github.com/ktstr-go/ktstr/topology"
	"github.com/ktstr-go/ktstr/verify"
	"github.com/ktstr-go/ktstr/verify/results"
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
	// EnvMonitor=off runs without the host-side monitor (its checks are
	// then skipped, saying so): for measuring what the monitor costs.
	EnvMonitor = "KTSTR_MONITOR"
	// EnvNoPerfMode=1 runs tests that ask for performance mode without
	// it (saying so once per test).
	EnvNoPerfMode = "KTSTR_NO_PERF_MODE"
	// EnvNoSkipMode=1 fails, instead of skipping, a test that asks for
	// performance mode on a host that cannot give it: for runs that must
	// measure (a dedicated KVM pool, say).
	EnvNoSkipMode = "KTSTR_NO_SKIP_MODE"
)

// performanceGate settles performance mode before anything is built (see
// perfGate) and acts on it on t.
func performanceGate(t *testing.T, spec Spec) Spec {
	t.Helper()
	spec, note, skip, fatal := perfGate(spec, os.Getenv, func(topo topology.Topology) error {
		_, err := runner.PlanPerformance(runner.Config{Topology: topo})
		if ue := new(perfmode.UnavailableError); errors.As(err, &ue) {
			return ue // the reason, without the runner's wrapping
		}
		return err
	})
	switch {
	case fatal != "":
		t.Fatal(fatal)
	case skip != "":
		t.Skip(skip)
	case note != "":
		t.Log(note)
	}
	return spec
}

// perfGate decides what becomes of a spec that asks for performance
// mode: off with KTSTR_NO_PERF_MODE=1 (a note says so); where the host
// cannot give it (check's error), a skip that says why, or a failure
// under KTSTR_NO_SKIP_MODE=1; never a run without the isolation the test
// asked for.
func perfGate(spec Spec, getenv func(string) string, check func(topology.Topology) error) (out Spec, note, skip, fatal string) {
	if !spec.PerformanceMode {
		return spec, "", "", ""
	}
	if getenv(EnvNoPerfMode) == "1" {
		spec.PerformanceMode = false
		return spec, fmt.Sprintf("ktstr: performance mode off (%s=1): the run is not isolated from the host", EnvNoPerfMode), "", ""
	}
	if err := check(spec.Topology()); err != nil {
		if getenv(EnvNoSkipMode) == "1" {
			return spec, "", "", fmt.Sprintf("ktstr: %v (%s=1: a test that cannot have performance mode fails)", err, EnvNoSkipMode)
		}
		return spec, "", fmt.Sprintf("ktstr: SKIP: %v (set %s=1 to fail instead, %s=1 to run without performance mode)", err, EnvNoSkipMode, EnvNoPerfMode), ""
	}
	return spec, "", "", ""
}

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
	spec = performanceGate(t, spec)
	res := &Result{Test: t.Name(), Spec: spec, Scheduler: spec.Scheduler.name(), Profile: p.Name(), OutputDir: outputDir(t)}
	start := time.Now()
	res.setErr(hostRun(t, spec, p, res, runOptions{}))
	end := time.Now()
	res.ElapsedS = end.Sub(start).Seconds()
	res.figures(start, end)
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
	opts := runOptions{KernelArgs: []string{"loglevel=7", "ignore_loglevel"}}
	if !spec.Scheduler.IsEEVDF() {
		// A sched_ext scheduler is traced: the kernel functions that
		// run its callbacks, the kfuncs it calls, and the first run's
		// crash path.
		opts.Probes = &wire.ProbeRequest{}
		if first.Sched != nil {
			opts.Probes.CrashPath = probes.CrashPath(first.Sched.Dump, 8)
		}
	}
	start := time.Now()
	rep.setErr(hostRun(t, spec, p, rep, opts))
	end := time.Now()
	rep.ElapsedS = end.Sub(start).Seconds()
	rep.figures(start, end)
	writeResult(rep)
	first.Repro = rep
	if rep.Err == nil {
		t.Logf("ktstr: auto_repro: the failure did not reproduce in a second run (outputs: %s)", rep.OutputDir)
	} else {
		t.Logf("ktstr: auto_repro: reproduced with a verbose kernel log (outputs: %s)", rep.OutputDir)
	}
	if rep.Sched != nil && rep.Sched.Probes != nil {
		t.Logf("ktstr: auto_repro: %s", describeProbes(rep.Sched.Probes, rep.Sched.Died))
	}
}

// reproEvents is how many of the probes' last events a log shows.
const reproEvents = 24

// describeProbes is the probe section of a failure report: the last
// calls into the scheduler with their task, the last call of each
// callback, and what could not be probed.
func describeProbes(r *wire.ProbeReport, died bool) string {
	var b strings.Builder
	when := "before the test ended"
	if died {
		when = "before the scheduler died"
	}
	evs := r.Events
	if len(evs) > reproEvents {
		evs = evs[len(evs)-reproEvents:]
	}
	fmt.Fprintf(&b, "probes (%d attached), the last %d calls %s (of %d traced; result.json has %d):", len(r.Probes), len(evs), when, r.Total, len(r.Events))
	for _, e := range evs {
		b.WriteString("\n    " + e.String())
	}
	if exit, in, found, ok := probes.ExitContext(r.Events); ok {
		where := "outside any callback the probes saw"
		if found {
			where = fmt.Sprintf("in %s", in.Callback)
			if in.Task != "" {
				where += " for task " + in.Task
			}
		}
		fmt.Fprintf(&b, "\n  the end began on cpu%d at %.6fs: %s, %s (running: %s)", exit.CPU, exit.TimeS, exit.Callback, where, exit.Current)
	}
	if st := probes.Stranded(r.Events); len(st) > 0 {
		b.WriteString("\n  handed to the scheduler (ops.enqueue) and never run after:")
		for _, e := range st {
			b.WriteString("\n    " + e.String())
		}
	}
	last, tasks := probes.Summary(r.Events)
	if len(last) > 0 {
		b.WriteString("\n  last call of each:")
		for _, e := range last {
			b.WriteString("\n    " + e.String())
		}
	}
	if len(tasks) > 0 {
		fmt.Fprintf(&b, "\n  tasks in the last calls: %s", strings.Join(tasks, ", "))
	}
	for _, e := range r.Errors {
		b.WriteString("\n  not probed: " + e)
	}
	return b.String()
}

// accelNote says once per test binary why KVM was not used; later VM
// tests of the same binary point back to it.
var accelNote sync.Once

// hostRun does one VM run and fills res; the error says why the run
// failed (see internal/hostrun for its types). The orchestration is
// hostrun's; this is the testing glue: the spec turned into a Job, the
// log lines, the result and the checks.
// runOptions are what a rerun changes: more kernel arguments, probes.
type runOptions struct {
	KernelArgs []string
	Probes     *wire.ProbeRequest
}

func hostRun(t *testing.T, spec Spec, p Profile, res *Result, opts runOptions) error {
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
		schedReq.Probes = opts.Probes
		res.SchedArgs = schedReq.Args
	}
	job.Base = os.Getenv(EnvInitramfs)
	if rf, err := hostrun.Runfile(EnvInitramfsRunfile); err != nil {
		return &SetupError{Err: err}
	} else if rf != "" {
		job.Base = rf
	}
	if job.Base != "" && sched != nil && sched.Path != "" && sched.Bazel == "" {
		// A prebuilt initramfs holds built schedulers only; a host binary
		// must still exist, and is reported the same way when it does not.
		if _, err := schedulerBinary(sched); err != nil {
			return &SetupError{Err: err}
		}
	}
	job.Files = func() ([]runner.File, error) { return baseFiles(sched, schedReq) }
	monitorOff := os.Getenv(EnvMonitor) == "off"
	if !monitorOff {
		job.Monitor = &hostrun.MonitorOptions{WatchdogTimeout: memoryWatchdog(spec)}
	}
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
		Topology:        spec.Topology(),
		KernelArgs:      append(append(kargs, spec.KernelArgs...), opts.KernelArgs...),
		Timeout:         hostTimeout,
		OutDir:          res.OutputDir,
		PerformanceMode: spec.PerformanceMode,
	}
	if os.Getenv(EnvConsole) == "1" {
		job.Config.Console = testWriter{t}
	}

	// Bazel's RemoteWorker (and other REAPI executors) hand the action its
	// platform properties; say so where every test log shows it, passed
	// or not, so that a remote run can be told from a local one.
	if p := os.Getenv("BAZEL_REMOTE_PLATFORM"); p != "" {
		t.Logf("ktstr: remote platform: %s", p)
		fmt.Fprintf(os.Stderr, "ktstr: %s: remote platform: %s\n", t.Name(), p)
	}
	out, runErr := hostrun.Run(context.Background(), job)
	res.boot = out.Boot
	res.Kernel, res.KernelVersion = out.Kernel.Path, out.Kernel.Version
	if out.Kernel.OlderFragment {
		t.Logf("ktstr: kernel %s: %s", out.Kernel.Path, kernel.OlderFragmentNote)
	}
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
		if pr := b.Performance; pr != nil {
			res.Performance = pr
			for _, l := range pr.Lines() {
				t.Logf("ktstr: %s", l)
			}
		}
		if b.Hello != nil {
			res.Guest = b.Hello.View
		}
	}
	if r := out.Result; r != nil {
		res.Sched = r.Sched
		if r.Report != nil {
			// Kept also when the test did not finish: what had just happened.
			res.Phases, res.Timeline, res.StartUptimeMs = r.Report.Phases, r.Report.Timeline, r.Report.StartUptimeMs
		}
	}
	var testRep *wire.TestReport
	if out.Result != nil {
		testRep = out.Result.Report
	}
	if out.Boot != nil && out.Boot.Monitor != nil {
		res.Monitor = out.Boot.Monitor
		res.MonitorPhases = verify.SummarizePhases(res.Monitor, testRep)
		if w := res.Monitor.Watchdog; w != nil {
			t.Logf("ktstr: watchdog override: %s", describeWatchdog(w))
		}
	}
	if runErr != nil {
		// The monitor's view still matters: a stall it saw before the
		// kernel's watchdog ejected the scheduler, say.
		if res.Monitor != nil && errors.As(runErr, new(*SchedulerError)) {
			mc := verify.EvaluateMonitor(res.Monitor, verify.DeathWindow(testRep, res.Monitor), spec.Thresholds(verify.Env{Emulated: out.Boot.Emulated, DebugKernel: out.DebugKernel}), schedReq != nil)
			res.Checks = append(res.Checks, mc...)
		}
		return runErr
	}
	r := out.Result
	res.Workers = r.Report.Workers
	res.SchedExt = r.Report.SchedExt
	env := verify.Env{Emulated: out.Boot.Emulated, DebugKernel: out.DebugKernel, CPUs: spec.Topology().CPUs()}
	res.Checks = verify.Evaluate(res.Workers, spec.Thresholds(env), env)
	if schedReq != nil {
		res.Checks = append(res.Checks, checkInCharge(schedReq, res.SchedExt))
	}
	mon := res.Monitor
	if monitorOff {
		mon = nil // skipped: "the host monitor did not run"
	}
	res.Checks = append(res.Checks, verify.EvaluateMonitor(mon, verify.TestWindow(r.Report), spec.Thresholds(env), schedReq != nil)...)
	if v := r.Report.Verdict; v != nil {
		res.Verdict = v
		res.Checks = append(res.Checks, bodyCheck(*v))
	}
	if failed := verify.Failed(res.Checks); len(failed) > 0 {
		return &ChecksError{Failed: failed}
	}
	return nil
}

// memoryWatchdog is the watchdog timeout the monitor writes into guest
// memory: for a sched_ext scheduler that takes no watchdog argument (a
// binary with one gets it on its command line).
func memoryWatchdog(spec Spec) time.Duration {
	sc := spec.Scheduler
	if sc.IsEEVDF() || sc.WatchdogArg != "" || spec.WatchdogTimeoutS <= 0 {
		return 0
	}
	return time.Duration(spec.WatchdogTimeoutS) * time.Second
}

// describeWatchdog says what the watchdog override did.
func describeWatchdog(w *monitor.WatchdogReport) string {
	if !w.Applied {
		return fmt.Sprintf("%gs requested, not applied: %s", w.RequestedS, w.Note)
	}
	s := fmt.Sprintf("%gs written into the running scheduler (%d jiffies at HZ=%d, was %d)", w.RequestedS, w.WrittenJiffies, w.HZ, w.OriginalJiffies)
	if w.Bridged {
		s += "; the monitor checked runnable tasks itself until the kernel's watchdog work ran at the new interval"
	}
	if w.Stalled != "" {
		s += "; it found " + w.Stalled + " and let the kernel's tick watchdog eject the scheduler"
	}
	return s
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

// baseFiles are the base initramfs's files: init, this test binary and
// the scheduler's binary. The test binary is its own init (it runs
// guest.Main as PID 1: see guestside_linux.go), so no init has to be
// built; $KTSTR_INIT names another one.
func baseFiles(sched *Scheduler, schedReq *wire.SchedRequest) ([]runner.File, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the test binary: %w", err)
	}
	initFile := runner.File{Path: "/init", Link: wire.TestBinaryPath}
	if os.Getenv(runner.EnvInit) != "" {
		initBin, err := runner.InitBinary()
		if err != nil {
			return nil, fmt.Errorf("ktstr-init: %w", err)
		}
		initFile = runner.File{Path: "/init", Source: initBin, Mode: 0o755}
	}
	files := []runner.File{
		initFile,
		{Path: wire.TestBinaryPath, Source: self, Mode: 0o755, WithLibs: true},
	}
	if schedReq != nil && sched.Builtin == nil {
		bin, err := schedulerBinary(sched)
		if err != nil {
			return nil, err
		}
		files = append(files, runner.File{Path: schedReq.Path, Source: bin, Mode: 0o755, WithLibs: true})
	}
	return files, nil
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
	if res.Err != nil && len(res.MonitorPhases) > 0 {
		t.Logf("ktstr: what the host monitor saw, per phase:\n%s", verify.FormatPhases(res.MonitorPhases))
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
	if res.Failure != "" && !errors.As(res.Err, new(*ChecksError)) {
		t.Errorf("ktstr: %s: %s", t.Name(), res.Failure)
	}
}

// timelineTailEvents is how much of the timeline a failure shows.
const timelineTailEvents = 20

func writeResult(res *Result) error {
	res.SchemaVersion = results.SchemaVersion
	topo := res.Spec.Topology()
	res.Topology, res.CPUs = topo.String(), topo.CPUs()
	window := verify.TestWindow(&wire.TestReport{StartUptimeMs: res.StartUptimeMs, Phases: res.Phases})
	res.Metrics = results.Metrics(res.Workers, res.Monitor, window, res.Checks)
	if s := res.Sched; s != nil && len(s.Programs) > 0 {
		var n float64
		for _, p := range s.Programs {
			n += float64(p.VerifiedInsns)
		}
		res.Metrics["bpf_verified_insns"] = n
	}
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
