package ktstr

import (
	"os"
	"testing"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/guest/workload"
	"github.com/ktstr-go/ktstr/verify"
)

func init() {
	// A test binary re-executed as a worker process becomes the worker
	// here, before any test runs.
	workload.MaybeRunWorker()
}

// InGuest reports whether this process runs inside a ktstr VM.
func InGuest() bool { return os.Getenv(wire.EnvGuest) == "1" }

// Result is what a ktstr run produced, as seen from the host.
type Result struct {
	Test string `json:"test"`
	Spec Spec   `json:"spec"`
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
	// Failure is why the run failed ("" when it passed).
	Failure string `json:"failure,omitempty"`
	// OutputDir holds console.log, qmp.log and result.json.
	OutputDir string  `json:"output_dir"`
	ElapsedS  float64 `json:"elapsed_s"`
}

// Passed reports whether the run and every check passed.
func (r *Result) Passed() bool { return r.Failure == "" }

// Run runs spec in a VM and reports each check as a subtest of t. On the
// host it returns the result; inside the guest it runs the scenario,
// records it for the host and ends the test there (t.SkipNow), so code
// after Run only ever runs on the host.
func Run(t *testing.T, spec Spec) *Result {
	t.Helper()
	if err := spec.Validate(t.Name()); err != nil {
		t.Fatal(err)
	}
	if InGuest() {
		runGuest(t, spec.Resolved())
		return nil // not reached: runGuest ends the test
	}
	return runHost(t, spec.Resolved())
}
