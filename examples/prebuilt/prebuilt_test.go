package prebuilt

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ktstr-go/ktstr"
	"github.com/ktstr-go/ktstr/runner/monitor"
)

// binary is where TestMain puts the prebuilt scheduler.
var binary = filepath.Join(os.TempDir(), fmt.Sprintf("ktstr-prebuilt-%d", os.Getuid()), "scx_prebuilt")

// Prebuilt is scx_ktstr as a binary on disk: no GoPackage, no WatchdogArg.
var Prebuilt = ktstr.Scheduler{
	Name: "scx_prebuilt",
	Ops:  "ktstr",
	Path: binary,
}

func TestMain(m *testing.M) {
	if !ktstr.InGuest() {
		if err := os.MkdirAll(filepath.Dir(binary), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cmd := exec.Command("go", "build", "-o", binary, "github.com/ktstr-go/ktstr/examples/scheds/scx_ktstr")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building the prebuilt scheduler: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// TestPrebuiltMonitored: the monitor reads the event counters of a
// scheduler it knows nothing about, and its checks pass.
func TestPrebuiltMonitored(t *testing.T) {
	res := ktstr.Run(t, ktstr.Spec{
		Scheduler: &Prebuilt,
		Sockets:   2, Cores: 2, Threads: 1,
		DurationS: 2,
		Cgroups: []ktstr.CgroupDef{
			{Name: "a", Workers: 2, Work: ktstr.CpuSpin},
			{Name: "b", Workers: 2, Work: ktstr.YieldHeavy},
		},
	})
	if ktstr.InGuest() || res == nil {
		return
	}
	if res.Monitor == nil {
		t.Fatal("no monitor report")
	}
	attached, keys := 0, 0
	for _, s := range res.Monitor.Samples {
		if s.Scx {
			attached++
			keys = max(keys, len(s.Events))
		}
	}
	if attached < 10 {
		t.Errorf("the monitor saw the scheduler attached in %d samples; want most of a 2 s run", attached)
	}
	last := lastAttached(res.Monitor)
	for _, k := range []string{"select_cpu_fallback", "dispatch_keep_last", "refill_slice_dfl", "bypass_duration"} {
		if _, ok := last.Events[k]; !ok {
			t.Errorf("event counter %s missing from the samples (have %v)", k, last.Events)
		}
	}
	t.Logf("%d event counters in %d attached samples; last: %v", keys, attached, last.Events)
}

func lastAttached(r *monitor.Report) monitor.Sample {
	for i := len(r.Samples) - 1; i >= 0; i-- {
		if r.Samples[i].Scx {
			return r.Samples[i]
		}
	}
	return monitor.Sample{}
}

// TestWatchdogOverrideEjects: the prebuilt scheduler stalls every task
// and takes no watchdog flag, so the kernel's watchdog would give it its
// default 30 s; watchdog_timeout_s = 2, written into the kernel's memory
// by the monitor, must get it ejected about 2 s after it attached.
func TestWatchdogOverrideEjects(t *testing.T) {
	res := ktstr.Run(t, ktstr.Spec{
		Scheduler:        &Prebuilt,
		ExtraSchedArgs:   []string{"--fault=stall"},
		WatchdogTimeoutS: 2,
		DurationS:        2,
		ExpectErr:        true,
		ExpectErrMatch:   `(?s)scheduler scx_prebuilt died`,
	})
	if ktstr.InGuest() || res == nil {
		return
	}
	var se *ktstr.SchedulerError
	if !errors.As(res.Err, &se) || !se.Died {
		t.Fatalf("Result.Err = %v, want a scheduler that died", res.Err)
	}
	w := res.Monitor.Watchdog
	if w == nil || !w.Applied {
		t.Fatalf("watchdog override not applied: %+v", w)
	}
	on, off := res.Monitor.AttachSpan()
	if on == 0 || off == 0 {
		t.Fatalf("the monitor did not see the scheduler attach and go (attached at %.0f ms, gone at %.0f ms)", on, off)
	}
	lived := (off - on) / 1000
	t.Logf("watchdog override %+v; scheduler attached at %.2fs, ejected by %.2fs guest time: %.2fs; %s", *w, on/1000, off/1000, lived, se.Cause)
	if lived > 3.5 {
		t.Errorf("the scheduler lived %.2fs of guest time after attaching; with watchdog_timeout_s=2 it must go within about 2 s", lived)
	}
}
