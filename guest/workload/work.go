package workload

import (
	"errors"
	"fmt"
	"strings"
)

// WorkType names what a worker does in its loop.
type WorkType string

// The work types. A work unit is a small, fixed piece of work (a block of
// arithmetic, a block of cache accesses, a 4 KiB write); an iteration is
// one pass of the type's loop. Blocking types record a wake-latency
// sample each time they block and are woken: how long after the wake-up
// was due (a sleep's end, a partner's write or futex wake) the worker ran.
const (
	// CpuSpin burns CPU in blocks of integer arithmetic and never blocks.
	// An iteration is one block.
	CpuSpin WorkType = "CpuSpin"
	// YieldHeavy does one block, then calls sched_yield.
	YieldHeavy WorkType = "YieldHeavy"
	// Mixed does a longer burst (two blocks), then calls sched_yield.
	Mixed WorkType = "Mixed"
	// IoSync rewrites a 64 KiB file of its own (16 writes of 4 KiB, a
	// unit each), then sleeps 100 µs standing in for I/O completion
	// (the guest's files are on tmpfs, where fsync waits for nothing).
	IoSync WorkType = "IoSync"
	// Bursty spins for BurstMs, then sleeps for SleepMs.
	Bursty WorkType = "Bursty"
	// PipeIo works in pairs: each does BurstIters steps of arithmetic,
	// then sends its partner a token through a pipe and waits for the
	// partner's.
	PipeIo WorkType = "PipeIo"
	// FutexPingPong works in pairs that take turns: one spins SpinIters
	// steps while the other waits on a shared futex, then hands over.
	FutexPingPong WorkType = "FutexPingPong"
	// CachePressure walks a private buffer of SizeKB KiB with Stride,
	// 1024 read-modify-writes per iteration.
	CachePressure WorkType = "CachePressure"
	// CacheYield is CachePressure with a sched_yield after each
	// iteration; the time the yield took is its sample.
	CacheYield WorkType = "CacheYield"
	// CachePipe works in pairs: BurstIters cache accesses (stride 64) in
	// a SizeKB buffer, then a pipe exchange as PipeIo.
	CachePipe WorkType = "CachePipe"
	// FutexFanOut works in groups of 1+FanOut: the first (the messenger)
	// spins SpinIters steps, then wakes the others through a shared
	// futex; the receivers spin and wait for the next wake-up.
	FutexFanOut WorkType = "FutexFanOut"
	// Sequence runs its Phases in order (spin, sleep, yield, io, each for
	// a time), over and over; an iteration is one pass.
	Sequence WorkType = "Sequence"
)

// workTypes describes every work type, in the order of the docs. The
// docs table is generated from it and from the defaults (see Markdown).
var workTypes = []struct {
	w       WorkType
	summary string
}{
	{CpuSpin, "blocks of integer arithmetic; never blocks"},
	{YieldHeavy, "one block, then sched_yield"},
	{Mixed, "two blocks, then sched_yield"},
	{IoSync, "rewrites a 64 KiB file of its own (16 x 4 KiB), then sleeps 100 µs for the I/O (tmpfs has none)"},
	{Bursty, "spins BurstMs, then sleeps SleepMs"},
	{PipeIo, "pairs: BurstIters steps of arithmetic, then a token each way through a pipe"},
	{FutexPingPong, "pairs taking turns on a shared futex: one spins SpinIters steps while the other waits"},
	{CachePressure, "1024 read-modify-writes per iteration over a SizeKB buffer, Stride bytes apart"},
	{CacheYield, "CachePressure, then sched_yield (the yield's time is the sample)"},
	{CachePipe, "pairs: BurstIters cache accesses (stride 64), then a pipe exchange"},
	{FutexFanOut, "groups of 1+FanOut: the messenger spins, then wakes the receivers through a shared futex"},
	{Sequence, "its phases in order, over and over: spin, sleep, yield, io, each for Ms"},
}

// WorkTypes lists every work type, in the order of the docs.
func WorkTypes() []WorkType {
	out := make([]WorkType, len(workTypes))
	for i, t := range workTypes {
		out[i] = t.w
	}
	return out
}

// Markdown renders the work types as a table for the docs.
func Markdown() []byte {
	var b strings.Builder
	b.WriteString("| Work type | Parameters (defaults) | What an iteration does | Blocks (wake-latency samples) | Group |\n|---|---|---|---|---|\n")
	for _, t := range workTypes {
		params := t.w.paramDefaults()
		blocks := "no"
		if t.w.Blocking() {
			blocks = "yes"
			switch t.w {
			case FutexFanOut:
				blocks = "yes (receivers)"
			case Sequence:
				blocks = "in sleep, yield and io phases"
			}
		}
		group := "-"
		switch g := GroupSize(t.w, Params{}.WithDefaults(t.w)); {
		case t.w == FutexFanOut:
			group = "1 + FanOut"
		case g > 1:
			group = fmt.Sprintf("pairs (%d)", g)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", t.w, params, t.summary, blocks, group)
	}
	return []byte(b.String())
}

// paramDefaults names the parameters w uses, with their defaults.
func (w WorkType) paramDefaults() string {
	d := Params{}.WithDefaults(w)
	var parts []string
	for _, f := range []struct {
		name string
		v    int
	}{{"BurstMs", d.BurstMs}, {"SleepMs", d.SleepMs}, {"BurstIters", d.BurstIters}, {"SpinIters", d.SpinIters}, {"SizeKB", d.SizeKB}, {"Stride", d.Stride}, {"FanOut", d.FanOut}} {
		if f.v != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", f.name, f.v))
		}
	}
	if w == Sequence {
		parts = append(parts, "Phases (required)")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Defaults of the work parameters: a zero value means the default.
const (
	DefaultBurstMs    = 50
	DefaultSleepMs    = 100
	DefaultBurstIters = 1024
	DefaultSpinIters  = 1024
	DefaultSizeKB     = 32
	DefaultStride     = 64
	DefaultFanOut     = 4
)

// Blocking reports whether a worker of this type blocks and so records
// wake-latency samples (FutexFanOut: its receivers; Sequence: in its
// sleep, yield and io phases).
func (w WorkType) Blocking() bool {
	switch w {
	case IoSync, Bursty, PipeIo, FutexPingPong, CacheYield, CachePipe, FutexFanOut, Sequence:
		return true
	}
	return false
}

// Validate rejects unknown work types with the list of known ones.
func (w WorkType) Validate() error {
	if w == "" {
		return nil
	}
	for _, k := range WorkTypes() {
		if w == k {
			return nil
		}
	}
	names := make([]string, 0, len(WorkTypes()))
	for _, k := range WorkTypes() {
		names = append(names, string(k))
	}
	return fmt.Errorf("unknown work type %q (known: %s)", string(w), strings.Join(names, ", "))
}

// PhaseKind is what a Sequence phase does.
type PhaseKind string

// Sequence phases.
const (
	PhaseSpin  PhaseKind = "spin"  // arithmetic blocks, no blocking
	PhaseSleep PhaseKind = "sleep" // one sleep (one sample)
	PhaseYield PhaseKind = "yield" // a unit and a sched_yield, repeated (a sample per yield)
	PhaseIo    PhaseKind = "io"    // IoSync iterations, repeated (a sample per sleep)
)

// Phase is one step of a Sequence: Kind for Ms milliseconds.
type Phase struct {
	Kind PhaseKind `json:"kind"`
	Ms   int       `json:"ms"`
}

// Params are the parameters of the work types; each applies to the types
// its comment names, and zero means the default.
type Params struct {
	// BurstMs and SleepMs shape Bursty (defaults 50 and 100).
	BurstMs int `json:"burst_ms,omitempty"`
	SleepMs int `json:"sleep_ms,omitempty"`
	// BurstIters is PipeIo's arithmetic and CachePipe's cache accesses
	// between two exchanges (default 1024).
	BurstIters int `json:"burst_iters,omitempty"`
	// SpinIters is FutexPingPong's and FutexFanOut's arithmetic per turn
	// (default 1024).
	SpinIters int `json:"spin_iters,omitempty"`
	// SizeKB and Stride shape the cache types' buffer walk (defaults 32
	// KiB and 64 bytes; CachePipe's stride is always 64).
	SizeKB int `json:"size_kb,omitempty"`
	Stride int `json:"stride,omitempty"`
	// FanOut is how many receivers a FutexFanOut messenger wakes
	// (default 4).
	FanOut int `json:"fan_out,omitempty"`
	// Phases are a Sequence's steps, in order; at least one.
	Phases []Phase `json:"phases,omitempty"`
}

// WithDefaults fills the unset parameters w uses with their defaults.
func (p Params) WithDefaults(w WorkType) Params {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	switch w {
	case Bursty:
		def(&p.BurstMs, DefaultBurstMs)
		def(&p.SleepMs, DefaultSleepMs)
	case PipeIo:
		def(&p.BurstIters, DefaultBurstIters)
	case FutexPingPong:
		def(&p.SpinIters, DefaultSpinIters)
	case CachePressure, CacheYield:
		def(&p.SizeKB, DefaultSizeKB)
		def(&p.Stride, DefaultStride)
	case CachePipe:
		def(&p.SizeKB, DefaultSizeKB)
		def(&p.BurstIters, DefaultBurstIters)
	case FutexFanOut:
		def(&p.FanOut, DefaultFanOut)
		def(&p.SpinIters, DefaultSpinIters)
	}
	return p
}

// Validate checks the parameters for w: none negative, and a Sequence
// with at least one known phase of positive length.
func (p Params) Validate(w WorkType) error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{
		{"burst_ms", p.BurstMs}, {"sleep_ms", p.SleepMs}, {"burst_iters", p.BurstIters}, {"spin_iters", p.SpinIters},
		{"size_kb", p.SizeKB}, {"stride", p.Stride}, {"fan_out", p.FanOut},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s must be >= 0 (0 means the default), got %d", f.name, f.v))
		}
	}
	if w == Sequence {
		if len(p.Phases) == 0 {
			errs = append(errs, errors.New("work type Sequence needs at least one phase (spin, sleep, yield or io)"))
		}
		for i, ph := range p.Phases {
			switch ph.Kind {
			case PhaseSpin, PhaseSleep, PhaseYield, PhaseIo:
			default:
				errs = append(errs, fmt.Errorf("phases[%d]: unknown phase kind %q (known: spin, sleep, yield, io)", i, ph.Kind))
			}
			if ph.Ms <= 0 {
				errs = append(errs, fmt.Errorf("phases[%d]: ms must be > 0, got %d", i, ph.Ms))
			}
		}
	} else if len(p.Phases) > 0 {
		errs = append(errs, fmt.Errorf("phases are for work type Sequence, not %s", w))
	}
	return errors.Join(errs...)
}

// GroupSize is how many workers of type w work together: 2 for the pair
// types (PipeIo, FutexPingPong, CachePipe), 1+FanOut for FutexFanOut, 1
// for the others. p must have its defaults.
func GroupSize(w WorkType, p Params) int {
	switch w {
	case PipeIo, FutexPingPong, CachePipe:
		return 2
	case FutexFanOut:
		return 1 + p.FanOut
	}
	return 1
}

// ValidateGroups checks that n workers of type w form whole groups.
func ValidateGroups(w WorkType, p Params, n int) error {
	g := GroupSize(w, p.WithDefaults(w))
	if g > 1 && (n == 0 || n%g != 0) {
		return fmt.Errorf("work type %s runs in groups of %d workers, so the worker count must be a multiple of %d, got %d", w, g, g, n)
	}
	return nil
}

// Spec says how to start one worker.
type Spec struct {
	// Cgroup is the cgroup's name, used in reports.
	Cgroup string `json:"cgroup"`
	// CgroupDir is the cgroup's directory; the child starts inside it.
	CgroupDir string `json:"cgroup_dir"`
	// Index numbers the worker within its cgroup.
	Index int `json:"index"`
	// Work is what the worker does; "" means CpuSpin.
	Work WorkType `json:"work"`
	// Params are the work's parameters (zero: the defaults).
	Params
	// Member is the worker's place in its group (0 is a pair's first
	// worker, a fan-out group's messenger); 0 for ungrouped types.
	Member int `json:"member,omitempty"`
	// AllowedCPUs is the cgroup's cpuset ("" = unrestricted), copied into
	// the report for the isolation check.
	AllowedCPUs string `json:"allowed_cpus,omitempty"`
	// Affinity, when set, is a cpulist the worker pins itself to before
	// it reports ready.
	Affinity string `json:"affinity,omitempty"`
	// Policy and Priority are the worker's scheduling policy ("" is
	// normal) and its real-time priority (fifo and rr only).
	Policy   Policy `json:"policy,omitempty"`
	Priority int    `json:"priority,omitempty"`
}

// Validate checks the spec's work parameters and policy.
func (s Spec) Validate() error {
	if err := s.Work.Validate(); err != nil {
		return err
	}
	if err := s.Params.Validate(s.Work); err != nil {
		return err
	}
	return ValidatePolicy(s.Policy, s.Priority)
}
