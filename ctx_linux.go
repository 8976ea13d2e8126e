package ktstr

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ktstr-go/ktstr/guest/scenario"
	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/topology"
	"github.com/ktstr-go/ktstr/verify"
)

// Ctx is what a test body sees inside the VM (see [RunWith]): the guest's
// topology, the test's settings, and the scenario engine that owns the
// test's cgroups and workers. Workers still running when the body returns
// are stopped and their reports judged by the checks, like a spec's.
type Ctx struct {
	// Topo is the guest's CPUs and LLCs as its kernel reports them;
	// View adds NUMA nodes, SMT siblings and packages.
	Topo scenario.Topo
	View wire.GuestView
	// Duration and WorkersPerCgroup are the test's.
	Duration         time.Duration
	WorkersPerCgroup int
	// Thresholds are the merged verification settings of the run.
	Thresholds verify.Thresholds
	// SchedPID is the pid of the scheduler under test (0 for EEVDF or a
	// builtin scheduler).
	SchedPID int

	eng *scenario.Engine
}

// Usable are the CPUs fractional cpusets divide (all but the last one
// when there are more than 2).
func (c *Ctx) Usable() topology.CPUSet { return topology.NewCPUSet(c.Topo.Usable()...) }

// Run runs steps of the scenario language (see package scenario).
func (c *Ctx) Run(steps ...Step) error { return c.eng.RunSteps(steps) }

// Setup creates cgroups with their cpusets and starts their workers.
func (c *Ctx) Setup(defs ...CgroupDef) error { return c.eng.Setup(defs...) }

// Apply runs ops (add or remove a cgroup, set a cpuset, spawn, move
// tasks, ...).
func (c *Ctx) Apply(ops ...Op) error { return c.eng.Apply(ops...) }

// Workers are the pids of a cgroup's live workers.
func (c *Ctx) Workers(cgroup string) ([]int, error) { return c.eng.Workers(cgroup) }

// Collect stops every live worker and returns all reports so far
// (workers stopped earlier included); they are judged by the checks too.
func (c *Ctx) Collect() []wire.WorkerReport { return c.eng.Collect() }

// Timeline is what the scenario did so far.
func (c *Ctx) Timeline() []wire.Event { return c.eng.Timeline() }

// CPUOf is the CPU a process last ran on (/proc/PID/stat).
func (c *Ctx) CPUOf(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1, fmt.Errorf("reading /proc/%d/stat: %w", pid, err)
	}
	// Fields after the command name (which may hold spaces) start after
	// the last ')'; the CPU is field 39, the 37th after it.
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	f := strings.Fields(rest)
	if len(f) < 37 {
		return -1, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	return strconv.Atoi(f[36])
}

// Allowed is the CPU affinity of a process (Cpus_allowed_list).
func (c *Ctx) Allowed(pid int) (topology.CPUSet, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return topology.CPUSet{}, fmt.Errorf("reading /proc/%d/status: %w", pid, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return topology.ParseCPUList(strings.TrimSpace(v))
		}
	}
	return topology.CPUSet{}, fmt.Errorf("/proc/%d/status has no Cpus_allowed_list", pid)
}

// CPUsUsed watches pids for d and returns every CPU they were seen on.
func (c *Ctx) CPUsUsed(pids []int, d time.Duration) (topology.CPUSet, error) {
	seen := topology.CPUSet{}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for _, p := range pids {
			cpu, err := c.CPUOf(p)
			if err != nil {
				return seen, err
			}
			seen = seen.Union(topology.NewCPUSet(cpu))
		}
		time.Sleep(5 * time.Millisecond)
	}
	return seen, nil
}

// CgroupDir is the directory of one of the test's cgroups.
func (c *Ctx) CgroupDir(name string) string { return c.eng.Mgr.Dir(name) }

// CgroupOf is the cgroup2 path of a process ("/ktstr/cg_0").
func (c *Ctx) CgroupOf(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", fmt.Errorf("reading /proc/%d/cgroup: %w", pid, err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if rest, ok := strings.CutPrefix(l, "0::"); ok {
			return rest, nil
		}
	}
	return "", fmt.Errorf("/proc/%d/cgroup: no cgroup2 entry", pid)
}

// Snapshot is what the kernel says of a running worker, read from /proc
// without disturbing it.
type Snapshot struct {
	PID int
	// CPU is the CPU it last ran on; Allowed its affinity.
	CPU     int
	Allowed topology.CPUSet
	// RuntimeNs, RunDelayNs and Timeslices are its work thread's
	// schedstat; Migrations its se.nr_migrations.
	RuntimeNs, RunDelayNs, Timeslices uint64
	Migrations                        uint64
}

// Snapshot reads a worker's scheduler counters as they are now.
func (c *Ctx) Snapshot(pid int) (Snapshot, error) {
	s := Snapshot{PID: pid}
	var err error
	if s.CPU, err = c.CPUOf(pid); err != nil {
		return s, err
	}
	if s.Allowed, err = c.Allowed(pid); err != nil {
		return s, err
	}
	// The work runs on the main thread, whose id is the pid.
	task := fmt.Sprintf("/proc/%d/task/%d/", pid, pid)
	b, err := os.ReadFile(task + "schedstat")
	if err != nil {
		return s, fmt.Errorf("reading %sschedstat: %w", task, err)
	}
	if f := strings.Fields(string(b)); len(f) >= 3 {
		s.RuntimeNs, _ = strconv.ParseUint(f[0], 10, 64)
		s.RunDelayNs, _ = strconv.ParseUint(f[1], 10, 64)
		s.Timeslices, _ = strconv.ParseUint(f[2], 10, 64)
	}
	if b, err := os.ReadFile(task + "sched"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "se.nr_migrations" {
				s.Migrations, _ = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			}
		}
	}
	return s, nil
}
