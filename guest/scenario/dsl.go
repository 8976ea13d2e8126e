package scenario

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/guest/workload"
	"github.com/ktstr-go/ktstr/topology"
)

// CpusetKind says how a [CpusetSpec] picks its CPUs.
type CpusetKind string

// Cpuset kinds.
const (
	CpusetLLC      CpusetKind = "llc"      // every CPU of one LLC
	CpusetRange    CpusetKind = "range"    // a fraction of the usable CPUs
	CpusetDisjoint CpusetKind = "disjoint" // part i of n equal parts of the usable CPUs
	CpusetOverlap  CpusetKind = "overlap"  // part i of n, widened into its neighbours
	CpusetExact    CpusetKind = "exact"    // a cpulist, as given
)

// CpusetSpec chooses a cgroup's CPUs from the guest's real topology, so
// that one test follows every gauntlet preset. Build it with [LLC],
// [Range], [Disjoint], [Overlap] or [Exact].
type CpusetSpec struct {
	Kind CpusetKind `json:"kind"`
	// Index is the LLC (llc) or the part (disjoint, overlap); Of the
	// number of parts.
	Index int `json:"index,omitempty"`
	Of    int `json:"of,omitempty"`
	// From and To are fractions of the usable CPUs (range); Frac the
	// share of a part an overlap reaches into each neighbour.
	From float64 `json:"from,omitempty"`
	To   float64 `json:"to,omitempty"`
	Frac float64 `json:"frac,omitempty"`
	// CPUs is the cpulist of an exact spec.
	CPUs string `json:"cpus,omitempty"`
}

// LLC is every CPU of LLC i.
func LLC(i int) CpusetSpec { return CpusetSpec{Kind: CpusetLLC, Index: i} }

// Range is the usable CPUs from fraction from to fraction to (end
// exclusive; at least one CPU): Range(0, 0.5) is the first half.
func Range(from, to float64) CpusetSpec { return CpusetSpec{Kind: CpusetRange, From: from, To: to} }

// Disjoint is part i of the usable CPUs cut into of equal parts (the last
// part takes the remainder).
func Disjoint(i, of int) CpusetSpec { return CpusetSpec{Kind: CpusetDisjoint, Index: i, Of: of} }

// Overlap is part i of of, reaching frac of a part into each neighbour.
func Overlap(i, of int, frac float64) CpusetSpec {
	return CpusetSpec{Kind: CpusetOverlap, Index: i, Of: of, Frac: frac}
}

// Exact is the cpulist cpus, as given.
func Exact(cpus string) CpusetSpec { return CpusetSpec{Kind: CpusetExact, CPUs: cpus} }

func (c CpusetSpec) String() string {
	switch c.Kind {
	case CpusetLLC:
		return fmt.Sprintf("llc(%d)", c.Index)
	case CpusetRange:
		return fmt.Sprintf("range(%g, %g)", c.From, c.To)
	case CpusetDisjoint:
		return fmt.Sprintf("disjoint(%d of %d)", c.Index, c.Of)
	case CpusetOverlap:
		return fmt.Sprintf("overlap(%d of %d, %g)", c.Index, c.Of, c.Frac)
	case CpusetExact:
		return "exact(" + c.CPUs + ")"
	}
	return "cpuset(" + string(c.Kind) + ")"
}

// Topo is what the DSL resolves against: the guest's CPUs and LLCs.
type Topo struct {
	All  topology.CPUSet
	LLCs []topology.CPUSet
}

// TopoOf is the topology t would give the guest.
func TopoOf(t topology.Topology) Topo {
	tp := Topo{All: t.AllCPUs()}
	for i := range t.LLCs() {
		tp.LLCs = append(tp.LLCs, t.LLCCPUs(i))
	}
	return tp
}

// Usable are the CPUs fractional specs divide: all of them, except the
// last one when there are more than 2, which is left to the root cgroup
// (init, the scheduler, the harness).
func (t Topo) Usable() []int {
	all := t.All.Slice()
	if len(all) > 2 {
		return all[:len(all)-1]
	}
	return all
}

// Validate checks c on its own (no topology needed).
func (c CpusetSpec) Validate() error {
	switch c.Kind {
	case CpusetLLC:
		if c.Index < 0 {
			return fmt.Errorf("%v: LLC index must be >= 0", c)
		}
	case CpusetRange:
		if c.From < 0 || c.To > 1 || c.From >= c.To {
			return fmt.Errorf("%v: want 0 <= from < to <= 1", c)
		}
	case CpusetDisjoint, CpusetOverlap:
		if c.Of < 1 || c.Index < 0 || c.Index >= c.Of {
			return fmt.Errorf("%v: want 0 <= index < of", c)
		}
		if c.Kind == CpusetOverlap && (c.Frac < 0 || c.Frac > 1) {
			return fmt.Errorf("%v: frac must be in [0, 1]", c)
		}
	case CpusetExact:
		if _, err := topology.ParseCPUList(c.CPUs); err != nil || c.CPUs == "" {
			return fmt.Errorf("%v: %q is not a cpulist", c, c.CPUs)
		}
	default:
		return fmt.Errorf("unknown cpuset kind %q (known: llc, range, disjoint, overlap, exact)", c.Kind)
	}
	return nil
}

// Resolve turns c into CPUs of t. It fails when the topology cannot give
// what c asks (an LLC it does not have, fewer usable CPUs than parts,
// CPUs outside it), naming both.
func (c CpusetSpec) Resolve(t Topo) (topology.CPUSet, error) {
	if err := c.Validate(); err != nil {
		return topology.CPUSet{}, err
	}
	u := t.Usable()
	n := len(u)
	switch c.Kind {
	case CpusetLLC:
		if c.Index >= len(t.LLCs) {
			return topology.CPUSet{}, fmt.Errorf("%v: the guest has %d LLCs", c, len(t.LLCs))
		}
		return t.LLCs[c.Index], nil
	case CpusetRange:
		// At least one CPU: a fraction too small for the CPUs there are
		// still gets one, rather than no cpuset (which means all).
		lo := min(int(float64(n)*c.From), n-1)
		hi := min(max(int(float64(n)*c.To), lo+1), n)
		return topology.NewCPUSet(u[lo:hi]...), nil
	case CpusetDisjoint, CpusetOverlap:
		if n < c.Of {
			return topology.CPUSet{}, fmt.Errorf("%v: needs at least %d usable CPUs, the guest has %d", c, c.Of, n)
		}
		chunk := n / c.Of
		lo, hi := c.Index*chunk, (c.Index+1)*chunk
		if c.Index == c.Of-1 {
			hi = n
		}
		if c.Kind == CpusetOverlap {
			ov := int(float64(chunk) * c.Frac)
			lo, hi = max(lo-ov, 0), min(hi+ov, n)
			if c.Index == c.Of-1 {
				hi = n
			}
		}
		return topology.NewCPUSet(u[lo:hi]...), nil
	}
	set, _ := topology.ParseCPUList(c.CPUs)
	if !set.IsSubsetOf(t.All) {
		return topology.CPUSet{}, fmt.Errorf("%v: CPUs outside the guest's %s", c, t.All)
	}
	return set, nil
}

// AffinityMode says how a worker's CPU affinity is chosen.
type AffinityMode string

// Affinity modes.
const (
	AffinityInherit  AffinityMode = ""          // none: the cgroup's cpuset rules
	AffinityRandom   AffinityMode = "random"    // a random half of the pool, per worker
	AffinityLLC      AffinityMode = "llc"       // the pool's CPUs in the LLC it overlaps most
	AffinityCross    AffinityMode = "cross"     // every CPU, across cgroups' cpusets
	AffinitySingle   AffinityMode = "single"    // the pool's lowest CPU, for every worker
	AffinityExactSet AffinityMode = "exact-set" // a cpulist, within the pool
)

// Affinity chooses the CPUs a worker may run on, from its pool: its
// cgroup's cpuset, or every CPU. The zero value inherits.
type Affinity struct {
	Mode AffinityMode `json:"mode,omitempty"`
	CPUs string       `json:"cpus,omitempty"`
}

// Affinity kinds.
var (
	Inherit      = Affinity{}
	RandomSubset = Affinity{Mode: AffinityRandom}
	LLCAligned   = Affinity{Mode: AffinityLLC}
	CrossCgroup  = Affinity{Mode: AffinityCross}
	SingleCPU    = Affinity{Mode: AffinitySingle}
)

// ExactAffinity is the cpulist cpus, within the pool.
func ExactAffinity(cpus string) Affinity { return Affinity{Mode: AffinityExactSet, CPUs: cpus} }

func (a Affinity) String() string {
	switch a.Mode {
	case AffinityInherit:
		return "inherit"
	case AffinityExactSet:
		return "exact(" + a.CPUs + ")"
	}
	return string(a.Mode)
}

// Validate checks a on its own.
func (a Affinity) Validate() error {
	switch a.Mode {
	case AffinityInherit, AffinityRandom, AffinityLLC, AffinityCross, AffinitySingle:
		return nil
	case AffinityExactSet:
		if _, err := topology.ParseCPUList(a.CPUs); err != nil || a.CPUs == "" {
			return fmt.Errorf("affinity %v: %q is not a cpulist", a, a.CPUs)
		}
		return nil
	}
	return fmt.Errorf("unknown affinity mode %q (known: inherit, random, llc, cross, single, exact-set)", a.Mode)
}

// Resolve gives the CPUs for one worker (empty: leave it alone). pool is
// the cgroup's cpuset (empty: every CPU); pick draws a random subset
// (injected, so that tests are deterministic).
func (a Affinity) Resolve(t Topo, pool topology.CPUSet, pick func(from []int, n int) []int) (topology.CPUSet, error) {
	if err := a.Validate(); err != nil {
		return topology.CPUSet{}, err
	}
	if pool.Len() == 0 {
		pool = t.All
	}
	switch a.Mode {
	case AffinityRandom:
		cpus := pool.Slice()
		return topology.NewCPUSet(pick(cpus, max(len(cpus)/2, 1))...), nil
	case AffinityLLC:
		best, bestN := topology.CPUSet{}, 0
		for _, l := range t.LLCs {
			in := l.Intersect(pool)
			if in.Len() > bestN {
				best, bestN = in, in.Len()
			}
		}
		return best, nil
	case AffinityCross:
		return t.All, nil
	case AffinitySingle:
		if s := pool.Slice(); len(s) > 0 {
			return topology.NewCPUSet(s[0]), nil
		}
	case AffinityExactSet:
		set, _ := topology.ParseCPUList(a.CPUs)
		return set.Intersect(pool), nil
	}
	return topology.CPUSet{}, nil
}

// HoldSpec says how long a step lasts before the next one.
type HoldSpec struct {
	// Frac is a share of the test's duration; Fixed a time; Loop, with
	// Fixed 0, repeats the step's ops every Loop until the duration ends.
	Frac  float64       `json:"frac,omitempty"`
	Fixed time.Duration `json:"fixed,omitempty"`
	Loop  time.Duration `json:"loop,omitempty"`
}

// Frac holds for f of the test's duration.
func Frac(f float64) HoldSpec { return HoldSpec{Frac: f} }

// Fixed holds for d.
func Fixed(d time.Duration) HoldSpec { return HoldSpec{Fixed: d} }

// Loop repeats the step's ops every interval until the test's duration
// has passed since the scenario started.
func Loop(interval time.Duration) HoldSpec { return HoldSpec{Loop: interval} }

// Full holds for the whole duration.
var Full = Frac(1)

// Validate checks h: exactly one of its forms, positive.
func (h HoldSpec) Validate() error {
	n := 0
	for _, set := range []bool{h.Frac != 0, h.Fixed != 0, h.Loop != 0} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return errors.New("hold: give exactly one of Frac, Fixed and Loop")
	case h.Frac < 0 || h.Fixed < 0 || h.Loop < 0:
		return errors.New("hold: must be positive")
	}
	return nil
}

// Work is one set of workers of a cgroup.
type Work struct {
	// Workers is how many (0: the test's workers per cgroup).
	Workers int               `json:"workers,omitempty"`
	Type    workload.WorkType `json:"type,omitempty"`
	workload.Params
	Policy   workload.Policy `json:"policy,omitempty"`
	Priority int             `json:"priority,omitempty"`
	Affinity Affinity        `json:"affinity,omitempty"`
}

// CgroupDef declares a cgroup: its name (nested names like "a/b" make a
// hierarchy), its cpuset, and its workers: the first set written flat
// (Workers, Work, the parameters, Policy, Affinity), more in More.
type CgroupDef struct {
	Name string
	// Workers is the number of workers; 0 means the test's
	// WorkersPerCgroup.
	Workers int
	// Work is what the workers do; "" means CpuSpin.
	Work workload.WorkType
	// Cpuset is the cgroup's cpuset.cpus as a cpulist ("" = all CPUs);
	// CpusetSpec, instead, computes it from the guest's topology.
	Cpuset     string
	CpusetSpec *CpusetSpec
	// Affinity pins every worker to a cpulist (within the cpuset);
	// AffinityKind, instead, chooses each worker's CPUs (see [Affinity]).
	Affinity     string
	AffinityKind Affinity
	// The work parameters; zero means the default (docs/reference.md,
	// "Work types"): BurstMs, SleepMs (Bursty: 50, 100); BurstIters
	// (PipeIo, CachePipe: 1024); SpinIters (FutexPingPong, FutexFanOut:
	// 1024); SizeKB, Stride (CachePressure, CacheYield: 32, 64; CachePipe:
	// SizeKB); FanOut (FutexFanOut: 4); Phases (Sequence, required).
	BurstMs, SleepMs      int
	BurstIters, SpinIters int
	SizeKB, Stride        int
	FanOut                int
	Phases                []workload.Phase
	// Policy is the workers' scheduling policy ("" is normal); Priority
	// their real-time priority, 1 to 99, for fifo and rr.
	Policy   workload.Policy
	Priority int
	// More are further sets of workers in the same cgroup.
	More []Work
}

// Params are the work parameters of the first set of workers.
func (c CgroupDef) Params() workload.Params {
	return workload.Params{
		BurstMs: c.BurstMs, SleepMs: c.SleepMs, BurstIters: c.BurstIters, SpinIters: c.SpinIters,
		SizeKB: c.SizeKB, Stride: c.Stride, FanOut: c.FanOut, Phases: c.Phases,
	}
}

// SetParams sets the work parameters of the first set of workers.
func (c *CgroupDef) SetParams(p workload.Params) {
	c.BurstMs, c.SleepMs, c.BurstIters, c.SpinIters = p.BurstMs, p.SleepMs, p.BurstIters, p.SpinIters
	c.SizeKB, c.Stride, c.FanOut, c.Phases = p.SizeKB, p.Stride, p.FanOut, p.Phases
}

// cpuset is the def's cpuset as a spec (nil: none).
func (c CgroupDef) cpuset() *CpusetSpec {
	if c.CpusetSpec != nil {
		return c.CpusetSpec
	}
	if c.Cpuset != "" {
		s := Exact(c.Cpuset)
		return &s
	}
	return nil
}

// Works are the def's sets of workers: the flat one, then More.
func (c CgroupDef) Works() []Work {
	aff := c.AffinityKind
	if c.Affinity != "" {
		aff = ExactAffinity(c.Affinity)
	}
	first := Work{Workers: c.Workers, Type: c.Work, Params: c.Params(), Policy: c.Policy, Priority: c.Priority, Affinity: aff}
	return append([]Work{first}, c.More...)
}

// OpKind names an [Op].
type OpKind string

// Ops.
const (
	OpAddCgroup    OpKind = "add_cgroup"
	OpRemoveCgroup OpKind = "remove_cgroup"
	OpSetCpuset    OpKind = "set_cpuset"
	OpClearCpuset  OpKind = "clear_cpuset"
	OpSwapCpusets  OpKind = "swap_cpusets"
	OpSpawn        OpKind = "spawn"
	OpStopCgroup   OpKind = "stop_cgroup"
	OpSetAffinity  OpKind = "set_affinity"
	OpSpawnHost    OpKind = "spawn_host"
	OpMoveAllTasks OpKind = "move_all_tasks"
)

// Op is one stimulus of a step. Build it with the constructors below.
type Op struct {
	Kind   OpKind `json:"kind"`
	Cgroup string `json:"cgroup,omitempty"`
	// Other is the second cgroup of swap_cpusets and the destination of
	// move_all_tasks.
	Other    string      `json:"other,omitempty"`
	Cpuset   *CpusetSpec `json:"cpuset,omitempty"`
	Work     *Work       `json:"work,omitempty"`
	Affinity Affinity    `json:"affinity,omitempty"`
}

// AddCgroup creates an empty cgroup.
func AddCgroup(name string) Op { return Op{Kind: OpAddCgroup, Cgroup: name} }

// RemoveCgroup stops a cgroup's workers (keeping their reports) and
// removes it.
func RemoveCgroup(name string) Op { return Op{Kind: OpRemoveCgroup, Cgroup: name} }

// SetCpuset gives a cgroup the CPUs of spec.
func SetCpuset(name string, spec CpusetSpec) Op {
	return Op{Kind: OpSetCpuset, Cgroup: name, Cpuset: &spec}
}

// ClearCpuset lets a cgroup use every CPU again.
func ClearCpuset(name string) Op { return Op{Kind: OpClearCpuset, Cgroup: name} }

// SwapCpusets exchanges two cgroups' cpusets.
func SwapCpusets(a, b string) Op { return Op{Kind: OpSwapCpusets, Cgroup: a, Other: b} }

// Spawn starts more workers in a cgroup.
func Spawn(name string, w Work) Op { return Op{Kind: OpSpawn, Cgroup: name, Work: &w} }

// StopCgroup stops a cgroup's workers (keeping their reports); the
// cgroup stays.
func StopCgroup(name string) Op { return Op{Kind: OpStopCgroup, Cgroup: name} }

// SetAffinity sets the affinity of every worker of a cgroup.
func SetAffinity(name string, a Affinity) Op {
	return Op{Kind: OpSetAffinity, Cgroup: name, Affinity: a}
}

// SpawnHost starts workers outside the test's cgroups, in the harness's
// own cgroup: contention the scheduler sees but the cgroups do not.
func SpawnHost(w Work) Op { return Op{Kind: OpSpawnHost, Work: &w} }

// MoveAllTasks moves every worker of one cgroup into another.
func MoveAllTasks(from, to string) Op { return Op{Kind: OpMoveAllTasks, Cgroup: from, Other: to} }

// Step is one phase of a scenario: its ops run first, then its cgroups
// are set up, then it holds.
type Step struct {
	Setup []CgroupDef `json:"setup,omitempty"`
	Ops   []Op        `json:"ops,omitempty"`
	Hold  HoldSpec    `json:"hold"`
}

// HostCgroup is the name workers spawned by SpawnHost report under.
const HostCgroup = "host"

// ValidateName checks a cgroup name: path elements without spaces, no
// "." or "..".
func ValidateName(name string) error {
	if name == "" {
		return errors.New("empty cgroup name")
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, " \t\n\x00") {
			return fmt.Errorf("cgroup name %q: want path elements without spaces, '.' or '..'", name)
		}
	}
	return nil
}

// Validate checks steps on their own: names, specs, holds, works, and
// that every op names its cgroups.
func Validate(steps []Step) error {
	var errs []error
	bad := func(where string, err error) { errs = append(errs, fmt.Errorf("%s: %w", where, err)) }
	checkWork := func(where string, w Work) {
		if err := (workload.Spec{Work: w.Type, Params: w.Params, Policy: w.Policy, Priority: w.Priority}).Validate(); err != nil {
			bad(where, err)
		}
		if w.Workers > 0 {
			if err := workload.ValidateGroups(orCpuSpin(w.Type), w.Params, w.Workers); err != nil {
				bad(where, err)
			}
		}
		if err := w.Affinity.Validate(); err != nil {
			bad(where, err)
		}
	}
	if len(steps) == 0 {
		errs = append(errs, errors.New("no steps"))
	}
	for i, s := range steps {
		at := fmt.Sprintf("steps[%d]", i)
		if err := s.Hold.Validate(); err != nil {
			bad(at, err)
		}
		for j, d := range s.Setup {
			where := fmt.Sprintf("%s.setup[%d]", at, j)
			if err := ValidateName(d.Name); err != nil {
				bad(where, err)
			}
			if c := d.cpuset(); c != nil {
				if err := c.Validate(); err != nil {
					bad(where, err)
				}
			}
			for k, w := range d.Works() {
				checkWork(fmt.Sprintf("%s.works[%d]", where, k), w)
			}
		}
		for j, op := range s.Ops {
			where := fmt.Sprintf("%s.ops[%d] (%s)", at, j, op.Kind)
			needs := map[OpKind]bool{OpSpawnHost: false}
			if need, ok := needs[op.Kind]; !ok || need {
				if err := ValidateName(op.Cgroup); err != nil {
					bad(where, err)
				}
			}
			switch op.Kind {
			case OpAddCgroup, OpRemoveCgroup, OpClearCpuset, OpStopCgroup:
			case OpSwapCpusets, OpMoveAllTasks:
				if err := ValidateName(op.Other); err != nil {
					bad(where, err)
				}
			case OpSetCpuset:
				if op.Cpuset == nil {
					bad(where, errors.New("no cpuset"))
				} else if err := op.Cpuset.Validate(); err != nil {
					bad(where, err)
				}
			case OpSpawn, OpSpawnHost:
				if op.Work == nil {
					bad(where, errors.New("no work"))
				} else {
					checkWork(where, *op.Work)
				}
			case OpSetAffinity:
				if err := op.Affinity.Validate(); err != nil {
					bad(where, err)
				}
			default:
				bad(where, fmt.Errorf("unknown op %q", op.Kind))
			}
		}
	}
	return errors.Join(errs...)
}

func orCpuSpin(w workload.WorkType) workload.WorkType {
	if w == "" {
		return workload.CpuSpin
	}
	return w
}

// TopoFromView is the topology the guest reports (its sysfs view), with
// LLCs ordered by their first CPU.
func TopoFromView(v wire.GuestView) (Topo, error) {
	var t Topo
	all := topology.CPUSet{}
	for _, l := range v.LLCs {
		set, err := topology.ParseCPUList(l)
		if err != nil {
			return t, fmt.Errorf("guest LLC %q: %w", l, err)
		}
		t.LLCs = append(t.LLCs, set)
		all = all.Union(set)
	}
	sort.Slice(t.LLCs, func(i, j int) bool { return t.LLCs[i].Slice()[0] < t.LLCs[j].Slice()[0] })
	if all.Len() != v.CPUs {
		return t, fmt.Errorf("the guest's LLCs %v cover %d CPUs, it has %d", v.LLCs, all.Len(), v.CPUs)
	}
	t.All = all
	return t, nil
}

// CheckTopology resolves every cpuset of steps on t, so that a scenario
// the topology cannot give (an LLC it lacks, too few CPUs for the parts)
// is an error before the VM boots.
func CheckTopology(steps []Step, t Topo) error {
	var errs []error
	for i, s := range steps {
		for j, d := range s.Setup {
			if c := d.cpuset(); c != nil {
				if _, err := c.Resolve(t); err != nil {
					errs = append(errs, fmt.Errorf("steps[%d].setup[%d] (%s): %w", i, j, d.Name, err))
				}
			}
		}
		for j, op := range s.Ops {
			if op.Kind == OpSetCpuset && op.Cpuset != nil {
				if _, err := op.Cpuset.Resolve(t); err != nil {
					errs = append(errs, fmt.Errorf("steps[%d].ops[%d] (set_cpuset %s): %w", i, j, op.Cgroup, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}
