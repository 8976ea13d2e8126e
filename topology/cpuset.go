package topology

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxCPUID is the largest CPU id a [CPUSet] holds. It is far above any
// Linux NR_CPUS and only guards [ParseCPUList] against input such as
// "0-999999999" that would otherwise allocate without bound.
const MaxCPUID = 1<<16 - 1

// CPUSet is an immutable set of logical CPU ids, kept sorted ascending
// without duplicates. The zero value is the empty set. Build one with
// [NewCPUSet], [ParseCPUList] or the [Topology] helpers; sets are values and
// no method modifies its receiver.
//
// CPUSet prints in the kernel's cpulist format (see [CPUSet.String]) and
// implements [encoding.TextMarshaler] and [encoding.TextUnmarshaler] with
// that format, so it appears as "0-3,5" in JSON.
type CPUSet struct {
	cpus []int // sorted ascending, no duplicates, nil when empty
}

// NewCPUSet returns the set of the given CPU ids, in any order and with
// any repetitions. It panics if an id is negative or above [MaxCPUID].
func NewCPUSet(cpus ...int) CPUSet {
	for _, c := range cpus {
		if c < 0 || c > MaxCPUID {
			panic(fmt.Sprintf("topology.NewCPUSet: cpu id %d out of range [0, %d]", c, MaxCPUID))
		}
	}
	s := slices.Clone(cpus)
	slices.Sort(s)
	return fromSorted(slices.Clip(slices.Compact(s)))
}

// fromSorted wraps an already sorted, duplicate-free slice, which it takes
// ownership of.
func fromSorted(s []int) CPUSet {
	if len(s) == 0 {
		return CPUSet{}
	}
	return CPUSet{cpus: s}
}

// cpuRange returns the set [lo, hi).
func cpuRange(lo, hi int) CPUSet {
	if hi <= lo {
		return CPUSet{}
	}
	s := make([]int, 0, hi-lo)
	for c := lo; c < hi; c++ {
		s = append(s, c)
	}
	return CPUSet{cpus: s}
}

// ParseCPUList parses the kernel's cpulist format as used by cpuset.cpus
// and /sys/devices/system/cpu/*: comma-separated decimal CPU ids and
// inclusive ranges, such as "0-3,5,7-8". Leading and trailing white space
// (including the newline sysfs files end with) is ignored, as is white
// space around each element; the empty string is the empty set. Elements
// may overlap or repeat. It is an error for an element to be empty, to be
// anything but digits, to be a descending range ("3-1") or a half-open one
// ("1-", "-1"), or to name a CPU above [MaxCPUID]. The stride form
// "0-7:2/4" is not supported.
func ParseCPUList(s string) (CPUSet, error) {
	list := strings.TrimSpace(s)
	if list == "" {
		return CPUSet{}, nil
	}
	type span struct{ lo, hi int } // inclusive
	var spans []span
	for elem := range strings.SplitSeq(list, ",") {
		elem = strings.TrimSpace(elem)
		fail := func(why string) (CPUSet, error) {
			return CPUSet{}, fmt.Errorf("topology: invalid cpulist %q: element %q %s; want comma-separated CPU ids and ranges such as \"0-3,5,7-8\"", s, elem, why)
		}
		if elem == "" {
			return fail("is empty")
		}
		loText, hiText, isRange := strings.Cut(elem, "-")
		lo, err := parseCPUID(loText)
		if err != nil {
			return fail(err.Error())
		}
		hi := lo
		if isRange {
			if hi, err = parseCPUID(hiText); err != nil {
				return fail(err.Error())
			}
			if hi < lo {
				return fail("is a descending range")
			}
		}
		spans = append(spans, span{lo, hi})
	}

	// Merge overlapping and touching spans before expanding them, so the
	// result never holds more than MaxCPUID+1 ids however the input repeats.
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	merged := spans[:1]
	for _, sp := range spans[1:] {
		last := &merged[len(merged)-1]
		if sp.lo <= last.hi+1 {
			last.hi = max(last.hi, sp.hi)
		} else {
			merged = append(merged, sp)
		}
	}
	n := 0
	for _, sp := range merged {
		n += sp.hi - sp.lo + 1
	}
	cpus := make([]int, 0, n)
	for _, sp := range merged {
		for c := sp.lo; c <= sp.hi; c++ {
			cpus = append(cpus, c)
		}
	}
	return fromSorted(cpus), nil
}

// parseCPUID parses one non-negative decimal CPU id no larger than
// MaxCPUID. Unlike strconv.Atoi it rejects signs.
func parseCPUID(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("is missing a CPU id")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		d := s[i]
		if d < '0' || d > '9' {
			return 0, fmt.Errorf("contains %q, which is not a decimal digit", rune(d))
		}
		n = n*10 + int(d-'0')
		if n > MaxCPUID {
			return 0, fmt.Errorf("names a CPU above %d (MaxCPUID)", MaxCPUID)
		}
	}
	return n, nil
}

// MustParseCPUList is like [ParseCPUList] but panics on error. It is meant
// for constants in tests and tables.
func MustParseCPUList(s string) CPUSet {
	set, err := ParseCPUList(s)
	if err != nil {
		panic(err)
	}
	return set
}

// String returns the set in compact cpulist form: ascending, single CPUs
// alone and every run of two or more consecutive CPUs as "first-last", such
// as "0-3,5,7-8". The empty set is "". [ParseCPUList] reads it back.
func (s CPUSet) String() string {
	var b strings.Builder
	for i := 0; i < len(s.cpus); {
		j := i
		for j+1 < len(s.cpus) && s.cpus[j+1] == s.cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(s.cpus[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(s.cpus[j]))
		}
		i = j + 1
	}
	return b.String()
}

// MarshalText implements [encoding.TextMarshaler] using [CPUSet.String].
func (s CPUSet) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] using [ParseCPUList].
func (s *CPUSet) UnmarshalText(text []byte) error {
	set, err := ParseCPUList(string(text))
	if err != nil {
		return err
	}
	*s = set
	return nil
}

// Len returns the number of CPUs in the set.
func (s CPUSet) Len() int { return len(s.cpus) }

// Contains reports whether cpu is in the set.
func (s CPUSet) Contains(cpu int) bool {
	_, found := slices.BinarySearch(s.cpus, cpu)
	return found
}

// Slice returns the CPU ids in ascending order, in a new slice the caller
// may modify. It returns nil for the empty set.
func (s CPUSet) Slice() []int { return slices.Clone(s.cpus) }

// Equal reports whether s and o hold the same CPUs.
func (s CPUSet) Equal(o CPUSet) bool { return slices.Equal(s.cpus, o.cpus) }

// IsSubsetOf reports whether every CPU of s is also in o. The empty set is
// a subset of every set.
func (s CPUSet) IsSubsetOf(o CPUSet) bool {
	j := 0
	for _, c := range s.cpus {
		for j < len(o.cpus) && o.cpus[j] < c {
			j++
		}
		if j == len(o.cpus) || o.cpus[j] != c {
			return false
		}
	}
	return true
}

// Union returns the CPUs in s, in o, or in both.
func (s CPUSet) Union(o CPUSet) CPUSet {
	a, b := s.cpus, o.cpus
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	out = append(out, b[j:]...)
	return fromSorted(out)
}

// Intersect returns the CPUs in both s and o.
func (s CPUSet) Intersect(o CPUSet) CPUSet {
	a, b := s.cpus, o.cpus
	var out []int
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return fromSorted(out)
}

// Difference returns the CPUs in s that are not in o.
func (s CPUSet) Difference(o CPUSet) CPUSet {
	a, b := s.cpus, o.cpus
	var out []int
	j := 0
	for _, c := range a {
		for j < len(b) && b[j] < c {
			j++
		}
		if j < len(b) && b[j] == c {
			continue
		}
		out = append(out, c)
	}
	return fromSorted(out)
}
