package ktstr

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ktstr-go/ktstr/guest/scenario"
	"github.com/ktstr-go/ktstr/guest/workload"
	"github.com/ktstr-go/ktstr/internal/gauntlet"
	"github.com/ktstr-go/ktstr/topology"
	"github.com/ktstr-go/ktstr/verify"
)

// Verify is the set of verification attributes (see package verify).
type Verify = verify.Thresholds

// Toggle values for boolean attributes that may be left to the merge chain.
const (
	Inherit = verify.Inherit
	On      = verify.On
	Off     = verify.Off
)

// WorkType names what a worker does.
type WorkType = workload.WorkType

// Policy is a worker's scheduling policy.
type Policy = workload.Policy

// Scheduling policies of workers (CgroupDef.Policy); fifo and rr take a
// Priority from 1 to 99.
const (
	PolicyNormal = workload.PolicyNormal
	PolicyBatch  = workload.PolicyBatch
	PolicyIdle   = workload.PolicyIdle
	PolicyFIFO   = workload.PolicyFIFO
	PolicyRR     = workload.PolicyRR
)

// The work types (see the workload package for what each does).
const (
	CpuSpin       = workload.CpuSpin
	YieldHeavy    = workload.YieldHeavy
	Mixed         = workload.Mixed
	IoSync        = workload.IoSync
	Bursty        = workload.Bursty
	PipeIo        = workload.PipeIo
	FutexPingPong = workload.FutexPingPong
	CachePressure = workload.CachePressure
	CacheYield    = workload.CacheYield
	CachePipe     = workload.CachePipe
	FutexFanOut   = workload.FutexFanOut
	Sequence      = workload.Sequence
)

// Phase is one step of a Sequence worker: Kind for Ms milliseconds.
type Phase = workload.Phase

// Sequence phase kinds.
const (
	PhaseSpin  = workload.PhaseSpin
	PhaseSleep = workload.PhaseSleep
	PhaseYield = workload.PhaseYield
	PhaseIo    = workload.PhaseIo
)

// Defaults of the attributes (docs/guide.md, "Attributes").
const (
	DefaultSockets          = 1
	DefaultCores            = 2
	DefaultThreads          = 1
	DefaultMemoryMB         = 2048
	DefaultDurationS        = 2
	DefaultWorkersPerCgroup = 2
	DefaultWatchdogTimeoutS = 4
)

// Spec declares one ktstr test. Zero values mean "default" (or "inherit"
// for verification attributes).
type Spec struct {
	// Topology; each unset dimension is inherited from the scheduler's
	// default topology, else 1 socket, 2 cores, 1 thread.
	Sockets, Cores, Threads int
	MemoryMB                int

	// Scheduler is the scheduler under test (nil: EEVDF).
	Scheduler *Scheduler
	// ExtraSchedArgs are appended to the scheduler's command line (a
	// scheduler binary only: EEVDF and builtin schedulers take none).
	ExtraSchedArgs []string
	// WatchdogTimeoutS is the sched_ext watchdog timeout (default 4),
	// passed through the scheduler's WatchdogArg when it has one, else
	// written into the running scheduler's kernel state by the host
	// monitor (scx_sched.watchdog_timeout), so it works for any sched_ext
	// scheduler.
	WatchdogTimeoutS int
	// RequiredFlags are in every flag profile, ExcludedFlags in none.
	RequiredFlags, ExcludedFlags []string
	// BpfMapWrite, when set, writes a value into a BPF map of the
	// scheduler once it is enabled.
	BpfMapWrite *BpfMapWrite

	// Verify holds the verification attributes of this test, the last
	// layer of the merge chain.
	Verify Verify

	// Topology constraints, used by the gauntlet to pick presets.
	MinSockets, MinLLCs, MinCPUs int
	RequiresSMT                  bool

	// Execution.
	DurationS        int
	WorkersPerCgroup int
	// ExpectErr inverts the verdict: the test passes only when the run
	// fails. ExpectErrMatch, when set, is a regular expression the
	// failure must match, so a negative test fails for the right reason.
	ExpectErr      bool
	ExpectErrMatch string
	// TimeoutS bounds the whole VM run as it would take under KVM; under
	// TCG it is scaled. 0 derives it from the duration.
	TimeoutS int
	// AutoRepro re-runs a failed test once with the kernel log at full
	// verbosity, kept in the outputs (default on; off with ExpectErr).
	AutoRepro Toggle
	// Replicas runs the test this many times (default 1).
	Replicas int
	// PerformanceMode isolates the VM from the host: each guest LLC on a
	// host LLC group of its own, each vCPU thread pinned to a host CPU
	// and SCHED_FIFO, QEMU's other threads and the monitor on a CPU apart,
	// guest memory bound to the vCPUs' host NUMA node and backed by
	// pre-allocated 2 MB hugepages. A host that cannot give it (fewer
	// than vCPUs + 1 usable CPUs, fewer LLC groups than guest LLCs)
	// skips the test, saying why (KTSTR_NO_SKIP_MODE=1: fails it); what
	// could not apply here (hugepages, pinning under single-threaded
	// TCG, SCHED_FIFO without the right) is said once in the test's
	// log and kept in result.json (docs/guide.md).
	PerformanceMode bool

	// Cgroups is the simplest scenario: every cgroup runs its workers for
	// the duration. Empty (and no Steps) means two cgroups of
	// WorkersPerCgroup CpuSpin workers each.
	Cgroups []CgroupDef
	// Steps is a scenario of phases (see package scenario): each step's
	// ops, then its cgroups, then its hold. With Steps, Cgroups must be
	// empty.
	Steps []Step
	// Scenario names a canned scenario ("cpuset_resize"; see
	// docs/reference.md), instead of Cgroups or Steps.
	Scenario string

	// KernelArgs are extra kernel command-line arguments.
	KernelArgs []string

	// body is RunWith's test body: code, not data, so not a field a
	// literal sets.
	body func(*Ctx) Verdict
}

// CgroupDef declares one cgroup of the scenario (see scenario.CgroupDef).
type CgroupDef = scenario.CgroupDef

// The scenario language (see package scenario).
type (
	Step       = scenario.Step
	Op         = scenario.Op
	Work       = scenario.Work
	CpusetSpec = scenario.CpusetSpec
	HoldSpec   = scenario.HoldSpec
	Affinity   = scenario.Affinity
)

// steps is the spec's scenario as steps for env: the canned scenario's,
// Steps, or one step holding Cgroups for the whole duration; skip says
// why a canned scenario cannot run on env's topology.
func (s Spec) steps(env scenario.Env) (steps []Step, skip string) {
	if s.Scenario != "" {
		c, err := scenario.Lookup(s.Scenario)
		if err != nil {
			return nil, err.Error() // Validate reports it first
		}
		return c.Build(env)
	}
	if len(s.Steps) > 0 {
		return s.Steps, ""
	}
	return []Step{{Setup: s.Cgroups, Hold: scenario.Full}}, ""
}

// Toggle is an on/off attribute that can be left to a default.
type Toggle = verify.Toggle

// BpfMapWrite sets key Key of the scheduler's BPF map Map to Value,
// AfterMs milliseconds after the scheduler is enabled.
type BpfMapWrite struct {
	Map     string
	Key     uint32
	Value   uint64
	AfterMs int
}

// Topology is the spec's topology: each dimension the test sets, else
// the scheduler's default, else the harness default.
func (s Spec) Topology() topology.Topology {
	var sc Scheduler
	if s.Scheduler != nil {
		sc = *s.Scheduler
	}
	return topology.Topology{
		Sockets:  orDefault(s.Sockets, orDefault(sc.Sockets, DefaultSockets)),
		Cores:    orDefault(s.Cores, orDefault(sc.Cores, DefaultCores)),
		Threads:  orDefault(s.Threads, orDefault(sc.Threads, DefaultThreads)),
		MemoryMB: orDefault(s.MemoryMB, DefaultMemoryMB),
	}
}

// Thresholds merges the verification attributes: defaults for env, then
// the scheduler's, then the test's.
func (s Spec) Thresholds(env verify.Env) verify.Thresholds {
	var sched, canned verify.Thresholds
	if s.Scheduler != nil {
		sched = s.Scheduler.Verify
	}
	if c, err := scenario.Lookup(s.Scenario); s.Scenario != "" && err == nil {
		canned.MaxSpreadPct = c.MaxSpreadPct
	}
	defaults := verify.Defaults(env)
	if s.Scheduler.IsEEVDF() {
		// The kernel's fair class balances cgroup weight, not task
		// counts: with cgroups, a CPU of 5 tasks can carry the load of
		// one of 40. The count-based imbalance check judges sched_ext
		// schedulers, and EEVDF only where a test sets a limit itself.
		defaults.MaxImbalanceRatio = 0
	}
	return verify.Merge(defaults, sched, canned, s.Verify)
}

// Profiles are the flag profiles this test can run with.
func (s Spec) Profiles() ([]Profile, error) {
	if s.Scheduler == nil {
		if len(s.RequiredFlags)+len(s.ExcludedFlags) > 0 {
			return nil, fmt.Errorf("required_flags/excluded_flags need a scheduler with flags")
		}
		return []Profile{{}}, nil
	}
	return s.Scheduler.Profiles(s.RequiredFlags, s.ExcludedFlags)
}

// attrs are the spec's topology (its own, else its scheduler's),
// constraints and duration, as the Bazel rule declares them.
func (s Spec) attrs() gauntlet.Attrs {
	a := gauntlet.Attrs{
		Sockets: s.Sockets, Cores: s.Cores, Threads: s.Threads, MemoryMB: s.MemoryMB,
		MinSockets: s.MinSockets, MinLLCs: s.MinLLCs, MinCPUs: s.MinCPUs, RequiresSMT: s.RequiresSMT,
		DurationS: s.DurationS,
	}
	if sc := s.Scheduler; sc != nil {
		a.Sockets, a.Cores, a.Threads = orDefault(a.Sockets, sc.Sockets), orDefault(a.Cores, sc.Cores), orDefault(a.Threads, sc.Threads)
	}
	return a
}

// Constraints are the spec's topology constraints.
func (s Spec) Constraints() topology.Constraints {
	return topology.Constraints{MinSockets: s.MinSockets, MinLLCs: s.MinLLCs, MinCPUs: s.MinCPUs, RequiresSMT: s.RequiresSMT}
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Resolved returns the spec with every default filled in: the topology,
// duration, workers and the default scenario.
func (s Spec) Resolved() Spec {
	topo := s.Topology()
	s.Sockets, s.Cores, s.Threads, s.MemoryMB = topo.Sockets, topo.Cores, topo.Threads, topo.MemoryMB
	s.DurationS = orDefault(s.DurationS, DefaultDurationS)
	if !s.Scheduler.IsEEVDF() {
		s.WatchdogTimeoutS = orDefault(s.WatchdogTimeoutS, DefaultWatchdogTimeoutS)
	}
	s.Replicas = orDefault(s.Replicas, 1)
	if s.AutoRepro == Inherit {
		s.AutoRepro = On
		if s.ExpectErr {
			s.AutoRepro = Off
		}
	}
	s.WorkersPerCgroup = orDefault(s.WorkersPerCgroup, DefaultWorkersPerCgroup)
	if len(s.Cgroups) == 0 && len(s.Steps) == 0 && s.Scenario == "" {
		s.Cgroups = []CgroupDef{{Name: "cg0"}, {Name: "cg1"}}
	} else {
		s.Cgroups = append([]CgroupDef(nil), s.Cgroups...)
	}
	for i := range s.Cgroups {
		c := &s.Cgroups[i]
		c.Workers = orDefault(c.Workers, s.WorkersPerCgroup)
		if c.Work == "" {
			c.Work = CpuSpin
		}
		c.SetParams(c.Params().WithDefaults(c.Work))
	}
	return s
}

// Validate checks the spec; the error names the test and every bad
// attribute. Negative values, a bad topology or cpuset, a constraint the
// spec's own topology cannot meet and unknown work types are errors.
func (s Spec) Validate(test string) error {
	var errs []error
	bad := func(attr string, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", attr, fmt.Sprintf(format, a...)))
	}
	for _, f := range []struct {
		attr string
		v    int
	}{
		{"workers_per_cgroup", s.WorkersPerCgroup}, {"timeout_s", s.TimeoutS},
		{"watchdog_timeout_s", s.WatchdogTimeoutS}, {"replicas", s.Replicas},
	} {
		if f.v < 0 {
			bad(f.attr, "must be >= 0 (0 means default), got %d", f.v)
		}
	}
	// The attributes the Bazel rule has too: one set of checks, shared
	// with the loading phase (internal/gauntlet's vectors).
	for _, m := range gauntlet.ValidateAttrs(s.attrs()) {
		errs = append(errs, errors.New(m))
	}
	if err := s.Scheduler.Validate(); err != nil {
		bad("scheduler", "%v", err)
	} else if _, err := s.Profiles(); err != nil {
		bad("flags", "%v", err)
	}
	switch sc := s.Scheduler; {
	case sc.IsEEVDF():
		if len(s.ExtraSchedArgs) > 0 {
			bad("extra_sched_args", "the test runs EEVDF, which takes no arguments: set a scheduler, or drop them")
		}
		if s.WatchdogTimeoutS > 0 {
			bad("watchdog_timeout_s", "the test runs EEVDF, which has no sched_ext watchdog: set a sched_ext scheduler, or drop it")
		}
	case sc.Builtin != nil && len(s.ExtraSchedArgs) > 0:
		bad("extra_sched_args", "scheduler %s is builtin (switched on by commands), so it takes no arguments: put them in its Builtin.Enable commands", sc.Name)
	}
	if w := s.BpfMapWrite; w != nil {
		if s.Scheduler.IsEEVDF() {
			bad("bpf_map_write", "needs a BPF scheduler, but the test runs EEVDF")
		}
		if w.Map == "" {
			bad("bpf_map_write.map", "empty map name")
		}
		if w.AfterMs < 0 {
			bad("bpf_map_write.after_ms", "must be >= 0, got %d", w.AfterMs)
		}
	}
	if s.AutoRepro < Inherit || s.AutoRepro > Off {
		bad("auto_repro", "must be Inherit, On or Off")
	}
	r := s.Resolved()
	topo := r.Topology()
	if err := topo.Validate(); err != nil {
		bad("topology", "%v", err)
	}
	if err := s.Constraints().Validate(); err != nil {
		bad("constraints", "%v", err)
	}
	if err := s.Verify.Validate(); err != nil {
		bad("verify", "%v", err)
	}
	if s.ExpectErrMatch != "" {
		if _, err := regexp.Compile(s.ExpectErrMatch); err != nil {
			bad("expect_err_match", "%v", err)
		}
		if !s.ExpectErr {
			bad("expect_err_match", "set without expect_err = true")
		}
	}
	if s.Scenario != "" {
		if _, err := scenario.Lookup(s.Scenario); err != nil {
			bad("scenario", "%v", err)
		}
		if len(s.Cgroups)+len(s.Steps) > 0 {
			bad("scenario", "give one of Scenario, Steps and Cgroups")
		}
	}
	if len(s.Steps) > 0 {
		if len(s.Cgroups) > 0 {
			bad("cgroups", "give Cgroups or Steps, not both (put the cgroups in the first step's Setup)")
		}
		if err := scenario.Validate(s.Steps); err != nil {
			bad("steps", "%v", err)
		} else if topo.Validate() == nil {
			if err := scenario.CheckTopology(s.Steps, scenario.TopoOf(topo)); err != nil {
				bad("steps", "on %s: %v", topo, err)
			}
		}
	}
	names := map[string]bool{}
	for i, c := range r.Cgroups {
		where := fmt.Sprintf("cgroups[%d]", i)
		if c.Name == "" || strings.ContainsAny(c.Name, "/ \t\n") {
			bad(where+".name", "%q must be a non-empty name without '/' or spaces", c.Name)
		}
		if names[c.Name] {
			bad(where+".name", "duplicate cgroup name %q", c.Name)
		}
		names[c.Name] = true
		if c.Workers < 0 {
			bad(where+".workers", "must be >= 0, got %d", c.Workers)
		}
		if err := (workload.Spec{Work: c.Work, Params: c.Params()}).Validate(); err != nil {
			bad(where+".work", "%v", err)
		} else if err := workload.ValidateGroups(c.Work, c.Params(), c.Workers); err != nil {
			bad(where+".workers", "%v", err)
		}
		if err := workload.ValidatePolicy(c.Policy, c.Priority); err != nil {
			bad(where+".policy", "%v", err)
		}
		for _, l := range []struct{ attr, v string }{{"cpuset", c.Cpuset}, {"affinity", c.Affinity}} {
			if l.v == "" {
				continue
			}
			set, err := topology.ParseCPUList(l.v)
			if err != nil {
				bad(where+"."+l.attr, "%v", err)
				continue
			}
			if topo.Validate() == nil && !set.IsSubsetOf(topo.AllCPUs()) {
				bad(where+"."+l.attr, "%s names CPUs outside the topology's %s", l.v, topo.AllCPUs())
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("ktstr: test %s: invalid spec: %w", test, errors.Join(errs...))
}
