package ktstr

import (
	"fmt"
	"os"
	"testing"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/guest/workload"
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

// applyTopologyOverride applies $KTSTR_TOPOLOGY to spec.
func applyTopologyOverride(spec Spec) (Spec, error) {
	v := os.Getenv(EnvTopology)
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
	Test      string `json:"test"`
	Spec      Spec   `json:"spec"`
	Scheduler string `json:"scheduler"`
	Profile   string `json:"profile"`
	// Accel is "kvm" or "tcg (mode)"; Emulated is true under TCG.
	Accel    string `json:"accel"`
	Emulated bool   `json:"emulated"`
	Kernel   string `json:"kernel"`
	// Guest is the guest's own view of its topology.
	Guest   wire.GuestView        `json:"guest"`
	Workers []verify.WorkerReport `json:"workers"`
	Checks  []verify.CheckResult  `json:"checks"`
	// SchedExt is the sched_ext state sampled while the workers ran.
	SchedExt wire.SchedExtSample `json:"sched_ext"`
	// Sched is what init saw of the scheduler (nil for EEVDF).
	Sched *wire.SchedReport `json:"sched,omitempty"`
	// Failure is why the run failed ("" when it passed).
	Failure string `json:"failure,omitempty"`
	// OutputDir holds console.log, qmp.log and result.json.
	OutputDir string  `json:"output_dir"`
	ElapsedS  float64 `json:"elapsed_s"`
}

// Passed reports whether the run and every check passed.
func (r *Result) Passed() bool { return r.Failure == "" }

// Run runs spec in a VM and reports each check as a subtest of t. With a
// scheduler it uses the flag profile named by $KTSTR_PROFILE, else the
// smallest valid one. On the host it returns the result (of the last
// replica); inside the guest it runs the scenario, records it for the
// host and ends the test there (t.SkipNow), so code after Run only ever
// runs on the host.
func Run(t *testing.T, spec Spec) *Result {
	t.Helper()
	ps := mustProfiles(t, spec)
	p := ps[0]
	if name := os.Getenv(EnvProfile); name != "" {
		var err error
		if p, err = spec.Scheduler.ProfileByName(name, spec.RequiredFlags, spec.ExcludedFlags); err != nil {
			t.Fatalf("ktstr: %s: %s=%s: %v", t.Name(), EnvProfile, name, err)
		}
	}
	spec, err := applyTopologyOverride(spec)
	if err != nil {
		t.Fatalf("ktstr: %s: %v", t.Name(), err)
	}
	return runReplicas(t, spec.Resolved(), p)
}

// RunProfiles runs spec once per valid flag profile, each as a subtest
// named after the profile ("llc+steal"), and returns the results by
// profile name.
func RunProfiles(t *testing.T, spec Spec) map[string]*Result {
	t.Helper()
	out := map[string]*Result{}
	for _, p := range mustProfiles(t, spec) {
		t.Run(p.Name(), func(t *testing.T) {
			out[p.Name()] = runReplicas(t, spec.Resolved(), p)
		})
	}
	return out
}

func mustProfiles(t *testing.T, spec Spec) []Profile {
	t.Helper()
	if err := spec.Validate(t.Name()); err != nil {
		t.Fatal(err)
	}
	ps, err := spec.Profiles()
	if err != nil {
		t.Fatalf("ktstr: test %s: %v", t.Name(), err)
	}
	return ps
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
	return last
}

func runOne(t *testing.T, spec Spec, p Profile) *Result {
	t.Helper()
	if InGuest() {
		runGuest(t, spec)
		return nil // not reached: runGuest ends the test
	}
	return runHost(t, spec, p)
}
