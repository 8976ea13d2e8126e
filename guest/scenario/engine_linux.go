package scenario

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/guest/cgroup"
	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/guest/workload"
	"github.com/ktstr-go/ktstr/topology"
)

// StartDelay lets every worker released together see the same start
// time: they begin this long after their release.
const StartDelay = 50 * time.Millisecond

// Engine runs scenarios in the guest: it owns the cgroups below its
// manager's root, the workers it started, and the timeline.
type Engine struct {
	Mgr  cgroup.Manager
	Topo Topo
	// Duration is the test's duration, which Frac holds divide.
	Duration time.Duration
	// WorkersPerCgroup is a Work's default worker count.
	WorkersPerCgroup int
	// OnPhase, when set, hears the fixed points of a run
	// ("workers-ready", "stop", "stopped").
	OnPhase func(name string)
	// OnEvent, when set, sees every timeline event as it happens (the
	// guest keeps the timeline on disk with it, so that it survives a
	// scheduler death that kills the test).
	OnEvent func(timeline []wire.Event)

	mu       sync.Mutex
	start    time.Time
	step     int
	cgroups  map[string]*cgState
	order    []string // cgroups in creation order, for removal
	done     []wire.WorkerReport
	timeline []wire.Event
	rng      *rand.Rand
}

// cgState is what the engine knows of one cgroup.
type cgState struct {
	cpus    topology.CPUSet // current cpuset; empty: none
	workers []*live
}

// live is a running worker and what it may have run on: the union of the
// cpusets it was under (seen), or anything once it ran without one.
type live struct {
	w      *workload.Worker
	seen   topology.CPUSet
	anyCPU bool
}

// Timeline returns the events so far.
func (e *Engine) Timeline() []wire.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.timeline)
}

func (e *Engine) init() {
	if e.cgroups == nil {
		e.cgroups = map[string]*cgState{}
		e.start = time.Now()
		e.rng = rand.New(rand.NewPCG(uint64(e.start.UnixNano()), 1))
	}
}

// event records one timeline entry.
func (e *Engine) event(kind, cg, detail string, err error) {
	ev := wire.Event{AtMs: float64(time.Since(e.start).Microseconds()) / 1000, Kind: kind, Step: e.step, Cgroup: cg, Detail: detail}
	if err != nil {
		ev.Error = err.Error()
	}
	e.timeline = append(e.timeline, ev)
	if e.OnEvent != nil {
		e.OnEvent(slices.Clone(e.timeline))
	}
}

// Run runs steps and returns every worker's report (those stopped along
// the way too). The engine's cgroups stay until [Engine.Close].
func (e *Engine) Run(steps []Step) ([]wire.WorkerReport, error) {
	err := e.RunSteps(steps)
	e.phase("stop")
	reps := e.Collect()
	e.phase("stopped")
	return reps, err
}

// RunSteps runs steps after those already run, leaving the workers
// running. Loop holds end at the test's duration since the engine's
// first use.
func (e *Engine) RunSteps(steps []Step) error {
	if err := Validate(steps); err != nil {
		return err
	}
	e.mu.Lock()
	e.init()
	first := e.step
	if len(e.timeline) > 0 {
		first++
	}
	end := e.start.Add(e.Duration)
	e.mu.Unlock()
	for i, s := range steps {
		if err := e.runStep(first+i, s, end); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) phase(name string) {
	if e.OnPhase != nil {
		e.OnPhase(name)
	}
}

func (e *Engine) runStep(i int, s Step, end time.Time) error {
	e.mu.Lock()
	e.step = i
	e.event("step", "", fmt.Sprintf("step %d: %d ops, %d cgroups, hold %s", i, len(s.Ops), len(s.Setup), s.Hold), nil)
	e.mu.Unlock()
	if err := e.Apply(s.Ops...); err != nil {
		return err
	}
	if err := e.Setup(s.Setup...); err != nil {
		return err
	}
	if i == 0 {
		e.phase("workers-ready")
	}
	switch h := s.Hold; {
	case h.Loop > 0:
		for time.Now().Add(h.Loop).Before(end) {
			time.Sleep(h.Loop)
			if err := e.Apply(s.Ops...); err != nil {
				return err
			}
		}
		time.Sleep(time.Until(end))
	case h.Fixed > 0:
		time.Sleep(h.Fixed)
	default:
		time.Sleep(time.Duration(h.Frac * float64(e.Duration)))
	}
	return nil
}

func (h HoldSpec) String() string {
	switch {
	case h.Loop > 0:
		return "loop every " + h.Loop.String()
	case h.Fixed > 0:
		return h.Fixed.String()
	}
	return fmt.Sprintf("%g of the duration", h.Frac)
}

// Setup creates the defs' cgroups with their cpusets, and starts and
// releases their workers together.
func (e *Engine) Setup(defs ...CgroupDef) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.init()
	var started []*live
	for _, d := range defs {
		if err := e.create(d.Name); err != nil {
			return err
		}
		if c := d.cpuset(); c != nil {
			if err := e.setCpuset(d.Name, *c); err != nil {
				return err
			}
		}
		for _, w := range d.Works() {
			ls, err := e.spawn(d.Name, w)
			if err != nil {
				return err
			}
			started = append(started, ls...)
		}
	}
	return release(started)
}

// release lets freshly started workers begin at one common time.
func release(ls []*live) error {
	at := time.Now().Add(StartDelay)
	for _, l := range ls {
		if err := l.w.Go(at); err != nil {
			return err
		}
	}
	return nil
}

// Apply runs ops in order; the first that fails ends it, and its error
// is in the timeline too.
func (e *Engine) Apply(ops ...Op) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.init()
	for _, op := range ops {
		if err := e.apply(op); err != nil {
			return fmt.Errorf("step %d: %s %s: %w", e.step, op.Kind, op.Cgroup, err)
		}
	}
	return nil
}

func (e *Engine) apply(op Op) error {
	var err error
	detail := ""
	switch op.Kind {
	case OpAddCgroup:
		err = e.create(op.Cgroup)
	case OpRemoveCgroup:
		if err = e.stop(op.Cgroup); err == nil {
			err = e.remove(op.Cgroup)
		}
	case OpSetCpuset:
		err = e.setCpuset(op.Cgroup, *op.Cpuset)
		detail = op.Cpuset.String()
		if st := e.cgroups[op.Cgroup]; st != nil {
			detail += " = " + st.cpus.String()
		}
		e.event(string(op.Kind), op.Cgroup, detail, err)
		return err
	case OpClearCpuset:
		err = e.clearCpuset(op.Cgroup)
	case OpSwapCpusets:
		detail = "with " + op.Other
		err = e.swap(op.Cgroup, op.Other)
	case OpSpawn:
		var ls []*live
		if ls, err = e.spawn(op.Cgroup, *op.Work); err == nil {
			err = release(ls)
		}
		detail = fmt.Sprintf("%d %s workers", len(ls), orCpuSpin(op.Work.Type))
	case OpStopCgroup:
		err = e.stop(op.Cgroup)
	case OpSetAffinity:
		detail = op.Affinity.String()
		err = e.setAffinity(op.Cgroup, op.Affinity)
	case OpSpawnHost:
		var ls []*live
		if ls, err = e.spawnHost(*op.Work); err == nil {
			err = release(ls)
		}
		detail = fmt.Sprintf("%d %s workers in the harness's cgroup", len(ls), orCpuSpin(op.Work.Type))
	case OpMoveAllTasks:
		detail = "to " + op.Other
		err = e.move(op.Cgroup, op.Other)
	default:
		err = fmt.Errorf("unknown op %q", op.Kind)
	}
	e.event(string(op.Kind), op.Cgroup, detail, err)
	return err
}

func (e *Engine) state(name string) (*cgState, error) {
	st, ok := e.cgroups[name]
	if !ok {
		return nil, fmt.Errorf("no cgroup %q (cgroups: %s)", name, strings.Join(e.order, ", "))
	}
	return st, nil
}

func (e *Engine) create(name string) error {
	if _, ok := e.cgroups[name]; ok {
		return nil
	}
	if _, err := e.Mgr.CreatePath(name); err != nil {
		return err
	}
	// Parents created on the way are the engine's too.
	parts := strings.Split(name, "/")
	for i := range parts {
		n := strings.Join(parts[:i+1], "/")
		if _, ok := e.cgroups[n]; !ok {
			e.cgroups[n] = &cgState{}
			e.order = append(e.order, n)
		}
	}
	return nil
}

func (e *Engine) setCpuset(name string, spec CpusetSpec) error {
	st, err := e.state(name)
	if err != nil {
		return err
	}
	set, err := spec.Resolve(e.Topo)
	if err != nil {
		return err
	}
	if err := e.Mgr.SetCPUs(name, set.String()); err != nil {
		return err
	}
	st.cpus = set
	st.note()
	return nil
}

func (e *Engine) clearCpuset(name string) error {
	st, err := e.state(name)
	if err != nil {
		return err
	}
	if err := e.Mgr.ClearCPUs(name); err != nil {
		return err
	}
	st.cpus = topology.CPUSet{}
	st.note()
	return nil
}

func (e *Engine) swap(a, b string) error {
	sa, err := e.state(a)
	if err != nil {
		return err
	}
	sb, err := e.state(b)
	if err != nil {
		return err
	}
	ca, cb := sa.cpus, sb.cpus
	// Widen first, so that neither write is refused for leaving a
	// cgroup's tasks without CPUs.
	for _, x := range []struct {
		name string
		set  topology.CPUSet
	}{{a, cb}, {b, ca}} {
		if x.set.Len() == 0 {
			if err := e.Mgr.ClearCPUs(x.name); err != nil {
				return err
			}
		} else if err := e.Mgr.SetCPUs(x.name, x.set.String()); err != nil {
			return err
		}
	}
	sa.cpus, sb.cpus = cb, ca
	sa.note()
	sb.note()
	return nil
}

// note adds the cgroup's current cpuset to what its workers may have run
// on.
func (st *cgState) note() {
	for _, l := range st.workers {
		l.sees(st.cpus)
	}
}

func (l *live) sees(cpus topology.CPUSet) {
	if cpus.Len() == 0 {
		l.anyCPU = true
		return
	}
	l.seen = l.seen.Union(cpus)
}

func (e *Engine) pick(from []int, n int) []int {
	out := slices.Clone(from)
	e.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	out = out[:n]
	sort.Ints(out)
	return out
}

// spawn starts a Work's workers in a cgroup (not yet released).
func (e *Engine) spawn(name string, w Work) ([]*live, error) {
	st, err := e.state(name)
	if err != nil {
		return nil, err
	}
	ls, err := e.startWork(name, e.Mgr.Dir(name), st.cpus, w, len(st.workers))
	if err != nil {
		return nil, err
	}
	st.workers = append(st.workers, ls...)
	return ls, nil
}

func (e *Engine) spawnHost(w Work) ([]*live, error) {
	dir, err := cgroup.Own()
	if err != nil {
		return nil, err
	}
	st := e.cgroups[HostCgroup]
	if st == nil {
		// Not a cgroup of the engine's: never created or removed by it.
		st = &cgState{}
		e.cgroups[HostCgroup] = st
	}
	ls, err := e.startWork(HostCgroup, dir, topology.CPUSet{}, w, len(st.workers))
	if err != nil {
		return nil, err
	}
	st.workers = append(st.workers, ls...)
	return ls, nil
}

func (e *Engine) startWork(name, dir string, cpus topology.CPUSet, w Work, first int) ([]*live, error) {
	n := w.Workers
	if n == 0 {
		n = max(e.WorkersPerCgroup, 1)
	}
	typ := orCpuSpin(w.Type)
	if err := workload.ValidateGroups(typ, w.Params, n); err != nil {
		return nil, err
	}
	specs := make([]workload.Spec, n)
	for i := range specs {
		aff, err := w.Affinity.Resolve(e.Topo, cpus, e.pick)
		if err != nil {
			return nil, err
		}
		specs[i] = workload.Spec{
			Cgroup: name, CgroupDir: dir, Index: first + i, Work: typ, Params: w.Params,
			Policy: w.Policy, Priority: w.Priority, AllowedCPUs: cpus.String(),
		}
		if aff.Len() > 0 {
			specs[i].Affinity = aff.String()
		}
	}
	g := workload.GroupSize(typ, w.Params.WithDefaults(typ))
	var out []*live
	for i := 0; i < n; i += g {
		var ws []*workload.Worker
		var err error
		if g == 1 {
			var wk *workload.Worker
			if wk, err = workload.Start(specs[i]); err == nil {
				ws = []*workload.Worker{wk}
			}
		} else {
			ws, err = workload.StartGroup(specs[i : i+g])
		}
		if err != nil {
			for _, l := range out {
				l.w.Kill()
			}
			return nil, err
		}
		for _, wk := range ws {
			l := &live{w: wk}
			l.sees(cpus)
			out = append(out, l)
		}
	}
	return out, nil
}

// stop stops a cgroup's workers and keeps their reports.
func (e *Engine) stop(name string) error {
	st, err := e.state(name)
	if err != nil {
		return err
	}
	e.done = append(e.done, early(collect(st.workers))...)
	st.workers = nil
	return nil
}

// early marks reports of workers stopped before the scenario's end.
func early(reps []wire.WorkerReport) []wire.WorkerReport {
	for i := range reps {
		reps[i].StoppedEarly = true
	}
	return reps
}

// collect signals every worker, then collects each, with the CPUs it was
// allowed over its life.
func collect(ls []*live) []wire.WorkerReport {
	for _, l := range ls {
		l.w.Signal()
	}
	var out []wire.WorkerReport
	for _, l := range ls {
		rep := l.w.Collect()
		rep.AllowedCPUs = ""
		if !l.anyCPU {
			rep.AllowedCPUs = l.seen.String()
		}
		out = append(out, rep)
	}
	return out
}

func (e *Engine) remove(name string) error {
	// Children first.
	var errs []error
	for i := len(e.order) - 1; i >= 0; i-- {
		n := e.order[i]
		if n != name && !strings.HasPrefix(n, name+"/") {
			continue
		}
		if st := e.cgroups[n]; st != nil && len(st.workers) > 0 {
			e.done = append(e.done, early(collect(st.workers))...)
		}
		if err := e.Mgr.Remove(n); err != nil {
			errs = append(errs, err)
		}
		delete(e.cgroups, n)
		e.order = slices.Delete(e.order, i, i+1)
	}
	return errors.Join(errs...)
}

func (e *Engine) setAffinity(name string, a Affinity) error {
	st, err := e.state(name)
	if err != nil {
		return err
	}
	for _, l := range st.workers {
		set, err := a.Resolve(e.Topo, st.cpus, e.pick)
		if err != nil {
			return err
		}
		if set.Len() == 0 {
			set = e.Topo.All // inherit: no restriction of its own
		}
		var mask unix.CPUSet
		for _, c := range set.Slice() {
			mask.Set(c)
		}
		// The worker's work runs on its main thread, whose id is its pid.
		if err := unix.SchedSetaffinity(l.w.PID(), &mask); err != nil {
			return fmt.Errorf("sched_setaffinity(%d, %s): %w", l.w.PID(), set, err)
		}
	}
	return nil
}

func (e *Engine) move(from, to string) error {
	sf, err := e.state(from)
	if err != nil {
		return err
	}
	stt, err := e.state(to)
	if err != nil {
		return err
	}
	// A cgroup with controllers on for its children holds no processes.
	if err := e.Mgr.ClearSubtreeControl(to); err != nil {
		return err
	}
	for _, l := range sf.workers {
		if err := e.Mgr.Move(to, l.w.PID()); err != nil {
			return err
		}
		l.sees(stt.cpus)
	}
	stt.workers = append(stt.workers, sf.workers...)
	sf.workers = nil
	return nil
}

// Workers returns the pids of a cgroup's live workers.
func (e *Engine) Workers(name string) ([]int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, err := e.state(name)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, l := range st.workers {
		pids = append(pids, l.w.PID())
	}
	return pids, nil
}

// Collect stops every live worker and returns all reports, those of
// workers stopped earlier first.
func (e *Engine) Collect() []wire.WorkerReport {
	e.mu.Lock()
	defer e.mu.Unlock()
	var all []*live
	for _, n := range append(slices.Clone(e.order), HostCgroup) {
		if st := e.cgroups[n]; st != nil {
			all = append(all, st.workers...)
			st.workers = nil
		}
	}
	e.done = append(e.done, collect(all)...)
	out := e.done
	e.done = nil
	return out
}

// Close kills what is left and removes the engine's cgroups.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range e.cgroups {
		for _, l := range st.workers {
			l.w.Kill()
		}
		st.workers = nil
	}
	for i := len(e.order) - 1; i >= 0; i-- {
		e.Mgr.Remove(e.order[i])
	}
	e.cgroups, e.order = map[string]*cgState{}, nil
}
