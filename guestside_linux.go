package ktstr

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/guest"
	"github.com/ktstr-go/ktstr/guest/cgroup"
	"github.com/ktstr-go/ktstr/guest/scenario"
	"github.com/ktstr-go/ktstr/guest/sysinfo"
	"github.com/ktstr-go/ktstr/guest/wire"
)

func init() {
	// go test packs the test binary as the guest's /init too: as PID 1
	// of a ktstr guest it is init, before any test runs.
	if guest.IsInit() {
		guest.Main() // powers the machine off; never returns
	}
}

// runGuest runs the scenario of spec inside the VM and writes the report
// for init to send. It ends the test with SkipNow: the verdict is the
// host's.
func runGuest(t *testing.T, spec Spec, body func(*Ctx) Verdict) {
	if want := os.Getenv(wire.EnvTest); want != t.Name() {
		t.Skipf("ktstr: this VM runs %s", want)
	}
	rep := wire.TestReport{Test: t.Name(), StartUptimeMs: guest.UptimeMs()}
	var mu sync.Mutex
	start := time.Now()
	phase := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		rep.Phases = append(rep.Phases, wire.Phase{Name: name, AtMs: float64(time.Since(start).Microseconds()) / 1000})
	}
	eng, err := newEngine(spec)
	if err == nil {
		defer eng.Close()
		eng.OnEvent = func(tl []wire.Event) {
			mu.Lock()
			defer mu.Unlock()
			partial := rep
			partial.Timeline = tl
			partial.Errors = append(slices.Clip(partial.Errors), "incomplete: the test did not finish (timeline so far)")
			if b, err := json.Marshal(partial); err == nil {
				os.WriteFile(os.Getenv(wire.EnvResult), b, 0o644)
			}
		}
		dur := time.Duration(spec.DurationS) * time.Second
		eng.OnPhase = func(name string) {
			phase(name)
			if name == "workers-ready" {
				go func() {
					time.Sleep(scenario.StartDelay + dur/2)
					s := sampleSchedExt()
					mu.Lock()
					rep.SchedExt = s
					mu.Unlock()
					phase("midpoint")
				}()
			}
		}
		var workers []wire.WorkerReport
		var verdict *Verdict
		if body != nil {
			eng.OnPhase("workers-ready") // the body starts at once
			v := runBody(newCtx(spec, eng), body)
			verdict = &v
			eng.OnPhase("stop")
			workers = eng.Collect()
			eng.OnPhase("stopped")
		} else {
			steps, skip := spec.steps(scenario.Env{Topo: eng.Topo, Duration: eng.Duration, WorkersPerCgroup: eng.WorkersPerCgroup})
			if skip != "" {
				err = fmt.Errorf("scenario %s cannot run on the guest's topology: %s", spec.Scenario, skip)
			} else {
				workers, err = eng.Run(steps)
			}
		}
		mu.Lock()
		rep.Workers = workers
		rep.Verdict = verdict
		rep.Timeline = eng.Timeline()
		mu.Unlock()
	}
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatalf("ktstr: encoding report: %v", err)
	}
	if err := os.WriteFile(os.Getenv(wire.EnvResult), b, 0o644); err != nil {
		t.Fatalf("ktstr: writing report: %v", err)
	}
	t.Skipf("ktstr: guest side of %s done; the host gives the verdict", t.Name())
}

// runBody runs a test body; a panic in it is a failing verdict.
func runBody(ctx *Ctx, body func(*Ctx) Verdict) (v Verdict) {
	defer func() {
		if r := recover(); r != nil {
			v = Fail("the test body panicked: %v\n%s", r, debug.Stack())
		}
	}()
	v = body(ctx)
	if v.Status == "" {
		v = Fail("the test body returned an empty Verdict: return ktstr.Pass(), ktstr.Fail(...) or ktstr.Skip(...)")
	}
	return v
}

// newCtx is a test body's context.
func newCtx(spec Spec, eng *scenario.Engine) *Ctx {
	c := &Ctx{
		Topo:             eng.Topo,
		Duration:         eng.Duration,
		WorkersPerCgroup: spec.WorkersPerCgroup,
		eng:              eng,
	}
	c.View, _ = sysinfo.Read("/")
	if v := os.Getenv(wire.EnvThresholds); v != "" {
		json.Unmarshal([]byte(v), &c.Thresholds)
	}
	c.SchedPID, _ = strconv.Atoi(os.Getenv(wire.EnvSchedPID))
	return c
}

// newEngine is the scenario engine for spec, on the guest's real
// topology.
func newEngine(spec Spec) (*scenario.Engine, error) {
	view, err := sysinfo.Read("/")
	if err != nil {
		return nil, err
	}
	topo, err := scenario.TopoFromView(view)
	if err != nil {
		return nil, err
	}
	return &scenario.Engine{
		Mgr:              cgroup.Manager{Root: guest.CgroupRoot},
		Topo:             topo,
		Duration:         time.Duration(spec.DurationS) * time.Second,
		WorkersPerCgroup: spec.WorkersPerCgroup,
	}, nil
}

func sampleSchedExt() wire.SchedExtSample {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	s := wire.SchedExtSample{State: read("/sys/kernel/sched_ext/state"), Ops: read("/sys/kernel/sched_ext/root/ops")}
	if s.State == "" {
		s.State = "absent"
	}
	return s
}
