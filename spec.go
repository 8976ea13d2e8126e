package ktstr

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ktstr-go/ktstr/guest/workload"
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

// Work types.
const CpuSpin = workload.CpuSpin

// Defaults of the attributes (SPEC.md, "Declaring tests").
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
	// Topology; unset dimensions default to 1 socket, 2 cores, 1 thread.
	Sockets, Cores, Threads int
	MemoryMB                int

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

	// Cgroups is the scenario: every cgroup runs its workers for the
	// duration. Empty means two cgroups of WorkersPerCgroup CpuSpin
	// workers each.
	Cgroups []CgroupDef

	// KernelArgs are extra kernel command-line arguments.
	KernelArgs []string
}

// CgroupDef declares one cgroup of the scenario.
type CgroupDef struct {
	Name string
	// Workers is the number of workers; 0 means WorkersPerCgroup.
	Workers int
	// Work is what the workers do; "" means CpuSpin.
	Work WorkType
	// Cpuset is the cgroup's cpuset.cpus as a cpulist ("" = all CPUs).
	Cpuset string
	// Affinity pins every worker to a cpulist with sched_setaffinity.
	Affinity string
}

// Topology is the spec's topology with defaults applied.
func (s Spec) Topology() topology.Topology {
	return topology.Topology{
		Sockets:  orDefault(s.Sockets, DefaultSockets),
		Cores:    orDefault(s.Cores, DefaultCores),
		Threads:  orDefault(s.Threads, DefaultThreads),
		MemoryMB: orDefault(s.MemoryMB, DefaultMemoryMB),
	}
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
	s.WorkersPerCgroup = orDefault(s.WorkersPerCgroup, DefaultWorkersPerCgroup)
	if len(s.Cgroups) == 0 {
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
		{"sockets", s.Sockets}, {"cores", s.Cores}, {"threads", s.Threads}, {"memory_mb", s.MemoryMB},
		{"min_sockets", s.MinSockets}, {"min_llcs", s.MinLLCs}, {"min_cpus", s.MinCPUs},
		{"duration_s", s.DurationS}, {"workers_per_cgroup", s.WorkersPerCgroup}, {"timeout_s", s.TimeoutS},
	} {
		if f.v < 0 {
			bad(f.attr, "must be >= 0 (0 means default), got %d", f.v)
		}
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
		if err := c.Work.Validate(); err != nil {
			bad(where+".work", "%v", err)
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
