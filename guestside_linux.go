package ktstr

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/guest"
	"github.com/ktstr-go/ktstr/guest/cgroup"
	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/guest/workload"
)

// startDelay lets every released worker see the same start time.
const startDelay = 50 * time.Millisecond

// runGuest runs the scenario of spec inside the VM and writes the report
// for init to send. It ends the test with SkipNow: the verdict is the
// host's.
func runGuest(t *testing.T, spec Spec) {
	if want := os.Getenv(wire.EnvTest); want != t.Name() {
		t.Skipf("ktstr: this VM runs %s", want)
	}
	rep := wire.TestReport{Test: t.Name()}
	start := time.Now()
	phase := func(name string) {
		rep.Phases = append(rep.Phases, wire.Phase{Name: name, AtMs: float64(time.Since(start).Microseconds()) / 1000})
	}
	workers, err := runScenario(spec, &rep, phase)
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
	}
	rep.Workers = workers
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatalf("ktstr: encoding report: %v", err)
	}
	if err := os.WriteFile(os.Getenv(wire.EnvResult), b, 0o644); err != nil {
		t.Fatalf("ktstr: writing report: %v", err)
	}
	t.Skipf("ktstr: guest side of %s done; the host gives the verdict", t.Name())
}

func runScenario(spec Spec, rep *wire.TestReport, phase func(string)) ([]wire.WorkerReport, error) {
	mgr := cgroup.Manager{Root: guest.CgroupRoot}
	var live []*workload.Worker
	defer func() {
		for _, w := range live {
			w.Kill()
		}
		for _, c := range spec.Cgroups {
			mgr.Remove(c.Name)
		}
	}()
	for _, c := range spec.Cgroups {
		dir, err := mgr.Create(c.Name, c.Cpuset)
		if err != nil {
			return nil, err
		}
		allowed := ""
		if c.Cpuset != "" {
			if allowed, err = mgr.EffectiveCPUs(c.Name); err != nil {
				return nil, err
			}
		}
		specs := make([]workload.Spec, c.Workers)
		for i := range specs {
			specs[i] = workload.Spec{
				Cgroup: c.Name, CgroupDir: dir, Index: i, Work: c.Work, Params: c.params(),
				AllowedCPUs: allowed, Affinity: c.Affinity,
				Policy: c.Policy, Priority: c.Priority,
			}
		}
		ws, err := startWorkers(specs)
		if err != nil {
			return nil, err
		}
		live = append(live, ws...)
	}
	phase("workers-ready")
	at := time.Now().Add(startDelay)
	for _, w := range live {
		if err := w.Go(at); err != nil {
			return nil, err
		}
	}
	dur := time.Duration(spec.DurationS) * time.Second
	time.Sleep(time.Until(at.Add(dur / 2)))
	rep.SchedExt = sampleSchedExt()
	phase("midpoint")
	time.Sleep(time.Until(at.Add(dur)))
	phase("stop")
	// Every worker is told first: one of a group keeps working with its
	// partners until it is.
	for _, w := range live {
		w.Signal()
	}
	reports := make([]wire.WorkerReport, 0, len(live))
	for _, w := range live {
		reports = append(reports, w.Collect())
	}
	live = nil
	phase("stopped")
	return reports, nil
}

// startWorkers starts one cgroup's workers: one by one, or group by group
// (runs of consecutive indices) for the grouped work types.
func startWorkers(specs []workload.Spec) ([]*workload.Worker, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	g := workload.GroupSize(specs[0].Work, specs[0].Params.WithDefaults(specs[0].Work))
	var out []*workload.Worker
	for i := 0; i < len(specs); i += g {
		var ws []*workload.Worker
		var err error
		if g == 1 {
			var w *workload.Worker
			if w, err = workload.Start(specs[i]); err == nil {
				ws = []*workload.Worker{w}
			}
		} else {
			ws, err = workload.StartGroup(specs[i:min(i+g, len(specs))])
		}
		if err != nil {
			for _, w := range out {
				w.Kill()
			}
			return nil, err
		}
		out = append(out, ws...)
	}
	return out, nil
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
