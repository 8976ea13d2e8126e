package examples

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr"
	"github.com/ktstr-go/ktstr/kernel"
)

// TestImpossibleGapIsCaught proves that a check can fail: four spinners
// share two CPUs, so each one waits at least a time slice while another
// runs, and a 1 ms gap limit cannot hold. The test passes only if the run
// fails, and only if it fails on the gap check.
func TestImpossibleGapIsCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Sockets: 1, Cores: 2, Threads: 1,
		DurationS:      2,
		Verify:         ktstr.Verify{MaxGapMs: 1},
		ExpectErr:      true,
		ExpectErrMatch: `FAIL gap: scheduling gap above 1ms`,
	})
}

// TestCpusetIsolation gives each cgroup one LLC of a two-socket machine
// and checks that no worker ran outside its cpuset.
func TestCpusetIsolation(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Sockets: 2, Cores: 2, Threads: 1,
		DurationS: 2,
		Verify:    ktstr.Verify{Isolation: ktstr.On},
		Cgroups: []ktstr.CgroupDef{
			{Name: "llc0", Workers: 2, Cpuset: "0-1"},
			{Name: "llc1", Workers: 2, Cpuset: "2-3"},
		},
	})
}

// TestNoKernelIsASetupError: without a kernel nothing can run; the
// result's error is a setup error that still matches kernel.ErrNoKernel,
// and auto_repro (on here) boots nothing.
func TestNoKernelIsASetupError(t *testing.T) {
	t.Setenv("KTSTR_KERNEL", "/nonexistent/vmlinux")
	t.Setenv(ktstr.EnvKernelRunfile, "") // Bazel's kernel, if any
	res := ktstr.Run(t, ktstr.Spec{
		AutoRepro:      ktstr.On,
		ExpectErr:      true,
		ExpectErrMatch: `no kernel: .*/nonexistent/vmlinux`,
	})
	if !errors.Is(res.Err, ktstr.ErrSetup) || !errors.Is(res.Err, kernel.ErrNoKernel) {
		t.Errorf("Result.Err = %#v, want ErrSetup and kernel.ErrNoKernel", res.Err)
	}
	if _, err := os.Stat(filepath.Join(res.OutputDir, "repro")); err == nil {
		t.Errorf("auto_repro reran a run that had no kernel")
	}
}

// TestPhasesReachTheResult: the scenario's phases, timed in the guest,
// are in the Result and in result.json.
func TestPhasesReachTheResult(t *testing.T) {
	res := ktstr.Run(t, ktstr.Spec{DurationS: 1})
	var names []string
	for _, p := range res.Phases {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "workers-ready,midpoint,stop,stopped" {
		t.Errorf("phases %q, want workers-ready,midpoint,stop,stopped", got)
	}
	b, err := os.ReadFile(filepath.Join(res.OutputDir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk struct {
		Phases []struct {
			Name string  `json:"name"`
			AtMs float64 `json:"at_ms"`
		} `json:"phases"`
	}
	if err := json.Unmarshal(b, &onDisk); err != nil || len(onDisk.Phases) != len(res.Phases) {
		t.Errorf("result.json phases: %+v (%v), want the %d of the Result", onDisk.Phases, err, len(res.Phases))
	}
}
