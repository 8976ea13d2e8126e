package kernelscheds

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ktstr-go/ktstr"
	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/kernel"
)

// The kernel's example schedulers; TestMain points Path at the build.
// Under Bazel the host kernel's repository provides them (the Bazel field).
var (
	ScxSimple  = ktstr.Scheduler{Name: "scx_simple", Ops: "simple", Path: wire.SchedDir + "/scx_simple", Bazel: "@ktstr_kernel//:scx_simple"}
	ScxCentral = ktstr.Scheduler{Name: "scx_central", Ops: "central", Path: wire.SchedDir + "/scx_central", Bazel: "@ktstr_kernel//:scx_central"}
)

// skipAll is why the tests cannot run here (a kernel of one's own in
// KTSTR_KERNEL, and no cached kernel to build the schedulers against).
var skipAll string

func TestMain(m *testing.M) {
	// In the guest, and under Bazel (whose rule packed the binaries into
	// the initramfs), nothing is looked up on the host.
	if !ktstr.InGuest() && os.Getenv(ktstr.EnvInitramfsRunfile) == "" {
		if err := locate(); err != nil {
			if os.Getenv("KTSTR_KERNEL") == "" {
				fmt.Fprintf(os.Stderr, "kernelscheds: %v\n", err)
				os.Exit(1)
			}
			skipAll = fmt.Sprintf("KTSTR_KERNEL=%s is not a cached kernel, and the kernel's example schedulers are built against a cached one: %v", os.Getenv("KTSTR_KERNEL"), err)
		}
	}
	os.Exit(m.Run())
}

// locate finds (building them when missing) the schedulers of the newest
// cached kernel, which the tests boot.
func locate() error {
	cache, err := kernel.DefaultCache()
	if err != nil {
		return err
	}
	e, err := cache.Newest()
	if err != nil {
		return fmt.Errorf("%w (fetch one: go run ./tools/ktstr kernel fetch)", err)
	}
	b, err := kernel.LoadSchedExt(e)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kernelscheds: %v; building them now\n", err)
		if b, err = kernel.BuildSchedExt(context.Background(), kernel.SchedExtOptions{Entry: e, Progress: os.Stderr}); err != nil {
			return err
		}
	}
	ScxSimple.Path = filepath.Join(b.Dir, "scx_simple")
	ScxCentral.Path = filepath.Join(b.Dir, "scx_central")
	if os.Getenv("KTSTR_KERNEL") == "" {
		// Boot the kernel the schedulers were built against.
		os.Setenv("KTSTR_KERNEL", e.BootImage())
	}
	return nil
}

// TestScxSimple: the kernel's scx_simple (one global queue) runs four
// spinners on two CPUs fairly; every worker and monitor check passes and
// the monitor reads its event counters.
func TestScxSimple(t *testing.T) {
	if skipAll != "" {
		t.Skip(skipAll)
	}
	res := ktstr.Run(t, ktstr.Spec{
		Scheduler: &ScxSimple,
		Sockets:   1, Cores: 2, Threads: 1,
		DurationS: 2,
		Cgroups: []ktstr.CgroupDef{
			{Name: "cg_a", Workers: 2, Work: ktstr.CpuSpin},
			{Name: "cg_b", Workers: 2, Work: ktstr.CpuSpin},
		},
	})
	if res == nil || ktstr.InGuest() {
		return
	}
	if res.Sched == nil || !res.Sched.Enabled {
		t.Errorf("scx_simple was not enabled: %+v", res.Sched)
	}
	if res.Monitor == nil || res.Monitor.Watchdog == nil || !res.Monitor.Watchdog.Applied {
		t.Errorf("the watchdog override (scx_simple takes no watchdog flag) was not applied: %+v", res.Monitor)
	}
}

// TestScxCentral: the kernel's scx_central, where one CPU makes every
// scheduling decision, on four CPUs. Under TCG it can keep the kernel's
// own watchdog kworker waiting for seconds: with the default 4 s timeout
// the kernel then ejects it now and then ("watchdog failed to check in
// for 4.012s" was seen once in a few runs), so the test gives it 10 s
// (its own default is 30 s).
func TestScxCentral(t *testing.T) {
	if skipAll != "" {
		t.Skip(skipAll)
	}
	ktstr.Run(t, ktstr.Spec{
		Scheduler:        &ScxCentral,
		WatchdogTimeoutS: 10,
		Sockets:          1, Cores: 4, Threads: 1,
		DurationS: 2,
		Cgroups: []ktstr.CgroupDef{
			{Name: "cg_a", Workers: 2, Work: ktstr.CpuSpin},
			{Name: "cg_b", Workers: 2, Work: ktstr.YieldHeavy},
		},
	})
}
