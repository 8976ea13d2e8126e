package topology

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxCPUs is the most logical CPUs a ktstr guest may have; the "max-cpu"
// presets sit exactly at it. [Topology.Validate] rejects larger topologies.
const MaxCPUs = 252

// DefaultMemoryMB is the guest memory, in MiB, used when
// [Topology.MemoryMB] is 0.
const DefaultMemoryMB = 2048

// Topology is a synthetic guest CPU topology. Each socket is one LLC domain
// and one NUMA node. The zero value is not valid; see [Topology.Validate].
type Topology struct {
	Sockets  int // number of sockets, LLCs and NUMA nodes
	Cores    int // cores per socket
	Threads  int // hardware threads per core; 2 means SMT
	MemoryMB int // guest memory in MiB; 0 means DefaultMemoryMB
}

// CPUs returns the number of logical CPUs, Sockets*Cores*Threads.
func (t Topology) CPUs() int { return t.Sockets * t.Cores * t.Threads }

// LLCs returns the number of last-level cache domains, one per socket.
func (t Topology) LLCs() int { return t.Sockets }

// NUMANodes returns the number of NUMA nodes, one per socket.
func (t Topology) NUMANodes() int { return t.Sockets }

// HasSMT reports whether cores have more than one hardware thread.
func (t Topology) HasSMT() bool { return t.Threads > 1 }

// EffectiveMemoryMB returns the guest memory in MiB: MemoryMB, or
// [DefaultMemoryMB] when MemoryMB is 0.
func (t Topology) EffectiveMemoryMB() int {
	if t.MemoryMB == 0 {
		return DefaultMemoryMB
	}
	return t.MemoryMB
}

// String returns the topology in the form "{sockets}s{cores}c{threads}t",
// such as "2s2c2t". MemoryMB is not included. [Parse] reads it back.
func (t Topology) String() string {
	return fmt.Sprintf("%ds%dc%dt", t.Sockets, t.Cores, t.Threads)
}

// Validate reports the first problem that keeps t from being booted:
// sockets, cores or threads below 1, a negative MemoryMB, more than
// [MaxCPUs] CPUs, or a MemoryMB too small to give each NUMA node at least
// one MiB. The error names the topology, the field and what it must be,
// for example "topology 0s2c1t: sockets must be >= 1 (got 0)".
func (t Topology) Validate() error {
	switch {
	case t.Sockets < 1:
		return t.errorf("sockets must be >= 1 (got %d)", t.Sockets)
	case t.Cores < 1:
		return t.errorf("cores (per socket) must be >= 1 (got %d)", t.Cores)
	case t.Threads < 1:
		return t.errorf("threads (per core) must be >= 1 (got %d)", t.Threads)
	case t.MemoryMB < 0:
		return t.errorf("MemoryMB must be >= 0 (got %d); use 0 for the default of %d", t.MemoryMB, DefaultMemoryMB)
	}
	// Bound the factors first so that the product cannot overflow, even
	// with a 32-bit int.
	const maxFactor = 1 << 10
	if t.Sockets > maxFactor || t.Cores > maxFactor || t.Threads > maxFactor {
		return t.errorf("more than %d CPUs, the limit (MaxCPUs); use fewer sockets, cores or threads", MaxCPUs)
	}
	if n := t.CPUs(); n > MaxCPUs {
		return t.errorf("%d CPUs exceeds the limit of %d (MaxCPUs); use fewer sockets, cores or threads", n, MaxCPUs)
	}
	if t.MemoryMB != 0 && t.MemoryMB < t.Sockets {
		return t.errorf("MemoryMB must be 0 (the default) or >= %d, one MiB per NUMA node (got %d)", t.Sockets, t.MemoryMB)
	}
	return nil
}

func (t Topology) errorf(format string, args ...any) error {
	return fmt.Errorf("topology %s: %s", t, fmt.Sprintf(format, args...))
}

// Parse parses a topology written as "{sockets}s{cores}c{threads}t", such
// as "2s4c1t", ignoring case and surrounding white space. The result has
// MemoryMB 0 and has passed [Topology.Validate].
func Parse(s string) (Topology, error) {
	rest := strings.ToLower(strings.TrimSpace(s))
	var fields [3]int
	for i, unit := range []byte{'s', 'c', 't'} {
		end := strings.IndexByte(rest, unit)
		if end < 0 {
			return Topology{}, parseError(s)
		}
		n, ok := parseCount(rest[:end])
		if !ok {
			return Topology{}, parseError(s)
		}
		fields[i] = n
		rest = rest[end+1:]
	}
	if rest != "" {
		return Topology{}, parseError(s)
	}
	t := Topology{Sockets: fields[0], Cores: fields[1], Threads: fields[2]}
	if err := t.Validate(); err != nil {
		return Topology{}, fmt.Errorf("parsing %q: %w", s, err)
	}
	return t, nil
}

func parseError(s string) error {
	return fmt.Errorf("topology: cannot parse %q: want {sockets}s{cores}c{threads}t, such as \"2s4c1t\"", s)
}

// parseCount parses a non-empty string of decimal digits, without sign.
func parseCount(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// CPUOf returns the logical CPU id of the given hardware thread:
// (socket*Cores + core)*Threads + thread. It panics if socket, core or
// thread is out of range.
func (t Topology) CPUOf(socket, core, thread int) int {
	if socket < 0 || socket >= t.Sockets || core < 0 || core >= t.Cores || thread < 0 || thread >= t.Threads {
		panic(fmt.Sprintf("topology %s: no socket %d, core %d, thread %d", t, socket, core, thread))
	}
	return (socket*t.Cores+core)*t.Threads + thread
}

// Locate is the inverse of [Topology.CPUOf]: it returns the socket, the
// core within the socket and the thread within the core of a logical CPU.
// It panics if cpu is out of range.
func (t Topology) Locate(cpu int) (socket, core, thread int) {
	t.checkCPU(cpu)
	return cpu / (t.Cores * t.Threads), cpu / t.Threads % t.Cores, cpu % t.Threads
}

// LLCOf returns the LLC (socket) that cpu belongs to. It panics if cpu is
// out of range.
func (t Topology) LLCOf(cpu int) int {
	t.checkCPU(cpu)
	return cpu / (t.Cores * t.Threads)
}

// NodeOf returns the NUMA node that cpu belongs to, which is its socket.
// It panics if cpu is out of range.
func (t Topology) NodeOf(cpu int) int { return t.LLCOf(cpu) }

func (t Topology) checkCPU(cpu int) {
	if cpu < 0 || cpu >= t.CPUs() {
		panic(fmt.Sprintf("topology %s: cpu %d out of range [0, %d)", t, cpu, t.CPUs()))
	}
}

// AllCPUs returns every logical CPU, 0 through CPUs()-1.
func (t Topology) AllCPUs() CPUSet { return cpuRange(0, t.CPUs()) }

// LLCCPUs returns the CPUs that share last-level cache llc, that is the
// CPUs of socket llc. It panics if llc is out of range.
func (t Topology) LLCCPUs(llc int) CPUSet {
	if llc < 0 || llc >= t.LLCs() {
		panic(fmt.Sprintf("topology %s: llc %d out of range [0, %d)", t, llc, t.LLCs()))
	}
	per := t.Cores * t.Threads
	return cpuRange(llc*per, (llc+1)*per)
}

// NodeCPUs returns the CPUs of NUMA node node, which are those of socket
// node and so the same as LLCCPUs(node). It panics if node is out of range.
func (t Topology) NodeCPUs(node int) CPUSet {
	if node < 0 || node >= t.NUMANodes() {
		panic(fmt.Sprintf("topology %s: NUMA node %d out of range [0, %d)", t, node, t.NUMANodes()))
	}
	return t.LLCCPUs(node)
}

// Siblings returns the SMT siblings of cpu, the hardware threads of its
// core, including cpu itself. It panics if cpu is out of range.
func (t Topology) Siblings(cpu int) CPUSet {
	t.checkCPU(cpu)
	first := cpu - cpu%t.Threads
	return cpuRange(first, first+t.Threads)
}

// UsableCPUs returns the CPUs a test may place its workload on. With more
// than two CPUs the last one is left out, reserved for the root cgroup and
// the harness itself; with one or two CPUs every CPU is usable.
func (t Topology) UsableCPUs() CPUSet {
	n := t.CPUs()
	if n > 2 {
		n--
	}
	return cpuRange(0, n)
}

// SplitByLLC returns set intersected with each LLC in turn, in LLC order,
// leaving out LLCs the set has no CPU in. CPUs of set that do not exist in
// t are dropped.
func (t Topology) SplitByLLC(set CPUSet) []CPUSet {
	var parts []CPUSet
	for llc := range t.LLCs() {
		if part := set.Intersect(t.LLCCPUs(llc)); part.Len() > 0 {
			parts = append(parts, part)
		}
	}
	return parts
}
