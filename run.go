package ktstr

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/guest/workload"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/runner/monitor"
	"github.com/ktstr-go/ktstr/runner/perfmode"
	"github.com/ktstr-go/ktstr/topology"
	"github.com/ktstr-go/ktstr/verify"
)

func init() {
	// A test binary re-executed as a worker process becomes the worker
	// here, before any test runs.
	workload.MaybeRunWorker()
}

// Gauntlet variables: a gauntlet target runs one test with one topology
// and one flag profile.
const (
	// EnvProfile selects the flag profile of a run; unset, [Run] uses
	// the smallest valid profile.
	EnvProfile = "KTSTR_PROFILE"
	// EnvTopology overrides the spec's topology with a preset name
	// ("tiny-2llc") or a topology ("2s2c1t"); the VM's memory becomes
	// max(CPUs x 64, 256, memory_mb) MB. The spec's constraints must
	// allow it.
	EnvTopology = "KTSTR_TOPOLOGY"
)

// applyTopologyOverride applies a $KTSTR_TOPOLOGY value v to spec.
func applyTopologyOverride(spec Spec, v string) (Spec, error) {
	if v == "" {
		return spec, nil
	}
	var topo topology.Topology
	if p, err := topology.PresetByName(v); err == nil {
		topo = p.Topology
	} else if topo, err = topology.Parse(v); err != nil {
		return spec, fmt.Errorf("%s=%s: neither a preset nor a topology like 2s2c1t: %v", EnvTopology, v, err)
	}
	if why := spec.Constraints().Reason(topo); why != "" {
		return spec, fmt.Errorf("%s=%s (%s) does not meet the test's constraints: %s", EnvTopology, v, topo, why)
	}
	spec.Sockets, spec.Cores, spec.Threads = topo.Sockets, topo.Cores, topo.Threads
	spec.MemoryMB = topology.GauntletMemoryMB(topo, spec.MemoryMB)
	return spec, nil
}

// InGuest reports whether this process runs inside a ktstr VM.
func InGuest() bool { return os.Getenv(wire.EnvGuest) == "1" }

// Result is what a ktstr run produced, as seen from the host.
type Result struct {
	// SchemaVersion is the version of this file's schema
	// (docs/results.md; verify/results.SchemaVersion).
	SchemaVersion int    `json:"schema_version"`
	Test          string `json:"test"`
	Spec          Spec   `json:"spec"`
	Scheduler     string `json:"scheduler"`
	Profile       string `json:"profile"`
	// Accel is "kvm" or "tcg (mode)"; Emulated is true under TCG;
	// AccelWhy says how it was chosen (why KVM was not used).
	Accel    string `json:"accel"`
	Emulated bool   `json:"emulated"`
	AccelWhy string `json:"accel_why,omitempty"`
	Kernel   string `json:"kernel"`
	// KernelVersion is the kernel's release, when known.
	KernelVersion string `json:"kernel_version,omitempty"`
	// Topology is the VM's topology ("2s2c1t"), CPUs its CPU count.
	Topology string `json:"topology"`
	CPUs     int    `json:"cpus"`
	// Metrics summarise the run in comparable numbers (work, gaps,
	// monitor peaks and rates; docs/results.md lists them), which
	// "ktstr stats compare" compares.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Guest is the guest's own view of its topology.
	Guest   wire.GuestView       `json:"guest"`
	Workers []wire.WorkerReport  `json:"workers"`
	Checks  []verify.CheckResult `json:"checks"`
	// SchedExt is the sched_ext state sampled while the workers ran.
	SchedExt wire.SchedExtSample `json:"sched_ext"`
	// SchedArgs is the scheduler's command line (its profile's flags,
	// the watchdog argument, the test's extra arguments).
	SchedArgs []string `json:"sched_args,omitempty"`
	// Sched is what init saw of the scheduler (nil for EEVDF).
	Sched *wire.SchedReport `json:"sched,omitempty"`
	// Phases are the scenario's fixed points as the guest timed them;
	// Timeline every step transition and op.
	Phases   []wire.Phase `json:"phases,omitempty"`
	Timeline []wire.Event `json:"timeline,omitempty"`
	// Monitor is what the host-side monitor sampled of the guest kernel
	// (runner/monitor); MonitorPhases summarises it per phase of the
	// timeline. StartUptimeMs is the guest uptime at which the timeline's
	// times start, so samples (timed by guest uptime) line up with it.
	Monitor       *monitor.Report       `json:"monitor,omitempty"`
	MonitorPhases []verify.PhaseSummary `json:"monitor_phases,omitempty"`
	StartUptimeMs float64               `json:"start_uptime_ms,omitempty"`
	// Performance is what performance mode did, part by part, when the
	// spec asked for it (docs/guide.md).
	Performance *perfmode.Report `json:"performance_mode,omitempty"`
	// Verdict is the test body's (RunWith), nil without one.
	Verdict *Verdict `json:"verdict,omitempty"`
	// Err is why the run failed (nil when it passed): a *SetupError,
	// *SchedulerError, *MapWriteError, *GuestError, *ChecksError or
	// *runner.BootError, so that errors.Is and errors.As tell a setup
	// problem from a failed scheduler. Failure is its text.
	Err     error  `json:"-"`
	Failure string `json:"failure,omitempty"`
	// Repro is auto_repro's second run of a failed test (nil when there
	// was none); its result.json is under OutputDir/repro.
	Repro *Result `json:"-"`
	// OutputDir holds console.log, qmp.log and result.json.
	OutputDir string  `json:"output_dir"`
	ElapsedS  float64 `json:"elapsed_s"`
	// Breakdown is where ElapsedS went, phase by phase: the host's set-up
	// until QEMU started, the phases of runner.Outcome.Breakdown until
	// QEMU exited, and the host's verdict (docs/results.md).
	Breakdown []runner.PhaseTime `json:"breakdown,omitempty"`
	// QEMUMaxRSSMB is the VM's peak memory on the host: QEMU's peak
	// resident set (the guest RAM it touched and QEMU's own).
	QEMUMaxRSSMB float64 `json:"qemu_max_rss_mb,omitempty"`
	// boot is the VM's outcome, when one ran.
	boot *runner.Outcome
}

// Phase names of Result.Breakdown besides runner's.
const (
	PhaseHostSetup   = "host setup"
	PhaseHostVerdict = "host verdict"
)

// figures fills Breakdown (for a run that started at start and ended at
// end) and QEMUMaxRSSMB from the VM's outcome.
func (r *Result) figures(start, end time.Time) {
	r.Breakdown = nil
	b := r.boot
	if b == nil || b.Timing.Start.IsZero() {
		return
	}
	r.QEMUMaxRSSMB = float64(b.QEMUMaxRSSKB) / 1024
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	r.Breakdown = append(r.Breakdown, runner.PhaseTime{Name: PhaseHostSetup, Ms: ms(b.Timing.Start.Sub(start))})
	r.Breakdown = append(r.Breakdown, b.Breakdown()...)
	if b.Timing.Exit > 0 {
		r.Breakdown = append(r.Breakdown, runner.PhaseTime{Name: PhaseHostVerdict, Ms: ms(end.Sub(b.Timing.Start.Add(b.Timing.Exit)))})
	}
}

// Passed reports whether the run and every check passed.
func (r *Result) Passed() bool { return r.Err == nil }

func (r *Result) setErr(err error) {
	r.Err, r.Failure = err, ""
	if err != nil {
		r.Failure = err.Error()
	}
}

// Run runs spec in a VM and reports each check as a subtest of t. With a
// scheduler it uses the flag profile named by $KTSTR_PROFILE, else the
// smallest valid one; $KTSTR_TOPOLOGY replaces the spec's topology (a
// gauntlet target sets both). On the host it returns the result (of the
// last replica); inside the guest it runs the scenario, records it for
// the host and ends the test there (t.SkipNow), so code after Run only
// ever runs on the host.
func Run(t *testing.T, spec Spec) *Result {
	t.Helper()
	spec, ps := prepare(t, spec)
	return runReplicas(t, spec.Resolved(), ps[0]) // the smallest, or $KTSTR_PROFILE's
}

// RunWith is [Run] with a test body: body runs inside the VM, in place of
// the spec's scenario, with a [Ctx] to build its own (cgroups, cpusets,
// workers, steps) and look at the guest. Its [Verdict] is reported as the
// check "body" beside the others, which judge every worker it started.
// Code after RunWith runs on the host, with the Result.
func RunWith(t *testing.T, spec Spec, body func(*Ctx) Verdict) *Result {
	t.Helper()
	if body == nil {
		t.Fatalf("ktstr: %s: RunWith needs a body (use Run without one)", t.Name())
	}
	spec, ps := prepare(t, spec)
	spec.body = body
	return runReplicas(t, spec.Resolved(), ps[0])
}

// RunProfiles runs spec once per valid flag profile, each as a subtest
// named after the profile ("llc+steal"), and returns the results by
// profile name. $KTSTR_PROFILE narrows it to that one profile and
// $KTSTR_TOPOLOGY replaces the topology, as for [Run]. As with Run, code
// after RunProfiles only runs on the host.
func RunProfiles(t *testing.T, spec Spec) map[string]*Result {
	t.Helper()
	spec, ps := prepare(t, spec)
	out := map[string]*Result{}
	for _, p := range ps {
		t.Run(p.Name(), func(t *testing.T) {
			out[p.Name()] = runReplicas(t, spec.Resolved(), p)
		})
	}
	if InGuest() {
		t.SkipNow() // the guest ran its profile's scenario; the rest is the host's
	}
	return out
}

// prepare is [gauntletSpec] for t, failing it on error.
func prepare(t *testing.T, spec Spec) (Spec, []Profile) {
	t.Helper()
	spec, ps, err := gauntletSpec(t.Name(), spec, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return spec, ps
}

// gauntletSpec applies the gauntlet variables ($KTSTR_TOPOLOGY,
// $KTSTR_PROFILE, read with getenv) to spec, then validates it against
// the topology the VM will really have, and returns it with the profiles
// to run: $KTSTR_PROFILE's alone, else every valid one, smallest first.
func gauntletSpec(test string, spec Spec, getenv func(string) string) (Spec, []Profile, error) {
	if getenv(EnvTopology) != "" {
		// The declared topology is about to be replaced; it must still
		// be a valid declaration.
		own := Spec{Sockets: spec.Sockets, Cores: spec.Cores, Threads: spec.Threads, MemoryMB: spec.MemoryMB}
		if err := own.Validate(test); err != nil {
			return spec, nil, err
		}
	}
	spec, err := applyTopologyOverride(spec, getenv(EnvTopology))
	if err != nil {
		return spec, nil, fmt.Errorf("ktstr: %s: %w", test, err)
	}
	if err := spec.Validate(test); err != nil {
		return spec, nil, err
	}
	ps, err := spec.Profiles()
	if err != nil {
		return spec, nil, fmt.Errorf("ktstr: test %s: %w", test, err)
	}
	if name := getenv(EnvProfile); name != "" {
		p, err := spec.Scheduler.ProfileByName(name, spec.RequiredFlags, spec.ExcludedFlags)
		if err != nil {
			return spec, nil, fmt.Errorf("ktstr: %s: %s=%s: %w", test, EnvProfile, name, err)
		}
		ps = []Profile{p}
	}
	return spec, ps, nil
}

func runReplicas(t *testing.T, spec Spec, p Profile) *Result {
	t.Helper()
	if spec.Replicas <= 1 {
		return runOne(t, spec, p)
	}
	var last *Result
	for i := 1; i <= spec.Replicas; i++ {
		t.Run(fmt.Sprintf("replica_%d", i), func(t *testing.T) { last = runOne(t, spec, p) })
	}
	if InGuest() {
		t.SkipNow() // as in runOne: what follows is the host's
	}
	return last
}

func runOne(t *testing.T, spec Spec, p Profile) *Result {
	t.Helper()
	if InGuest() {
		runGuest(t, spec, spec.body)
		return nil // not reached: runGuest ends the test
	}
	return runHost(t, spec, p)
}
