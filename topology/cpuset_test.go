package topology

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestNewCPUSet(t *testing.T) {
	tests := []struct {
		in   []int
		want []int
		str  string
	}{
		{nil, nil, ""},
		{[]int{}, nil, ""},
		{[]int{3}, []int{3}, "3"},
		{[]int{3, 1, 2, 0}, []int{0, 1, 2, 3}, "0-3"},
		{[]int{5, 5, 5}, []int{5}, "5"},
		{[]int{8, 7, 5, 0, 3, 2, 1, 7}, []int{0, 1, 2, 3, 5, 7, 8}, "0-3,5,7-8"},
		{[]int{MaxCPUID, 0}, []int{0, MaxCPUID}, "0,65535"},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		s := NewCPUSet(in...)
		if got := s.Slice(); !slices.Equal(got, tt.want) {
			t.Errorf("NewCPUSet(%v).Slice() = %v, want %v", tt.in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("NewCPUSet modified its argument: %v, was %v", in, tt.in)
		}
		if got := s.String(); got != tt.str {
			t.Errorf("NewCPUSet(%v).String() = %q, want %q", tt.in, got, tt.str)
		}
		if s.Len() != len(tt.want) {
			t.Errorf("NewCPUSet(%v).Len() = %d, want %d", tt.in, s.Len(), len(tt.want))
		}
	}
}

func TestNewCPUSetPanics(t *testing.T) {
	for _, bad := range []int{-1, MaxCPUID + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewCPUSet(%d) did not panic", bad)
				}
			}()
			NewCPUSet(0, bad)
		}()
	}
}

func TestZeroValue(t *testing.T) {
	var z CPUSet
	if z.Len() != 0 || z.String() != "" || z.Slice() != nil || z.Contains(0) {
		t.Errorf("zero CPUSet is not empty: %v", z)
	}
	if !z.Equal(NewCPUSet()) || !z.Equal(MustParseCPUList("")) {
		t.Error("zero CPUSet differs from other empty sets")
	}
	// Every way of making an empty set must compare equal with ==-based
	// tools such as reflect.DeepEqual, so empty is always the zero value.
	for _, e := range []CPUSet{
		NewCPUSet(),
		MustParseCPUList(" \n"),
		NewCPUSet(1).Intersect(NewCPUSet(2)),
		NewCPUSet(1).Difference(NewCPUSet(1)),
		z.Union(z),
	} {
		if e.cpus != nil {
			t.Errorf("empty set %v has non-nil slice", e)
		}
	}
}

func TestSliceIsCopy(t *testing.T) {
	s := NewCPUSet(1, 2, 3)
	sl := s.Slice()
	sl[0] = 99
	if got := s.String(); got != "1-3" {
		t.Errorf("modifying Slice() changed the set to %q", got)
	}
}

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{"", nil},
		{"   ", nil},
		{"\n", nil},
		{"0", []int{0}},
		{"0\n", []int{0}},
		{" 0-3,5,7-8\n", []int{0, 1, 2, 3, 5, 7, 8}},
		{"0-3,5,7-8", []int{0, 1, 2, 3, 5, 7, 8}},
		{"3-3", []int{3}},
		{"7-8,0-1", []int{0, 1, 7, 8}},
		{"1,1,1", []int{1}},
		{"0-4,2-6", []int{0, 1, 2, 3, 4, 5, 6}},
		{"0-2,3-5", []int{0, 1, 2, 3, 4, 5}},
		{"5,4,3", []int{3, 4, 5}},
		{"0, 2", []int{0, 2}},
		{"007", []int{7}},
		{"65535", []int{MaxCPUID}},
	}
	for _, tt := range tests {
		got, err := ParseCPUList(tt.in)
		if err != nil {
			t.Errorf("ParseCPUList(%q) error: %v", tt.in, err)
			continue
		}
		if !slices.Equal(got.Slice(), tt.want) {
			t.Errorf("ParseCPUList(%q) = %v, want %v", tt.in, got.Slice(), tt.want)
		}
	}
}

func TestParseCPUListErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // substring of the error besides the input itself
	}{
		{"3-1", "descending"},
		{"a", "not a decimal digit"},
		{"-1", "missing a CPU id"},
		{"1-", "missing a CPU id"},
		{"-", "missing a CPU id"},
		{"1,,2", "empty"},
		{",", "empty"},
		{"0-3,", "empty"},
		{"1-2-3", "not a decimal digit"},
		{"+1", "not a decimal digit"},
		{"0x1", "not a decimal digit"},
		{"1 2", "not a decimal digit"},
		{"0-7:2/4", "not a decimal digit"},
		{"65536", "MaxCPUID"},
		{"0-99999999999999999999", "MaxCPUID"},
	}
	for _, tt := range tests {
		got, err := ParseCPUList(tt.in)
		if err == nil {
			t.Errorf("ParseCPUList(%q) = %v, want error", tt.in, got)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) || !strings.Contains(msg, strings.TrimSpace(tt.in)) || !strings.Contains(msg, "0-3,5,7-8") {
			t.Errorf("ParseCPUList(%q) error %q: want it to name the input, contain %q and show the expected form", tt.in, msg, tt.want)
		}
		if got.Len() != 0 {
			t.Errorf("ParseCPUList(%q) returned non-empty %v with its error", tt.in, got)
		}
	}
}

func TestMustParseCPUListPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParseCPUList(\"3-1\") did not panic")
		}
	}()
	MustParseCPUList("3-1")
}

func TestCPUSetString(t *testing.T) {
	tests := []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{0}, "0"},
		{[]int{0, 1}, "0-1"},
		{[]int{0, 2}, "0,2"},
		{[]int{0, 1, 2}, "0-2"},
		{[]int{0, 1, 2, 3, 5, 7, 8}, "0-3,5,7-8"},
		{[]int{1, 3, 5, 7}, "1,3,5,7"},
		{[]int{10, 11, 12, 20, 30, 31}, "10-12,20,30-31"},
	}
	for _, tt := range tests {
		if got := NewCPUSet(tt.in...).String(); got != tt.want {
			t.Errorf("NewCPUSet(%v).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSetOperations(t *testing.T) {
	tests := []struct {
		a, b                     string
		union, inter, diff, rdif string
		aSubB, bSubA, equal      bool
	}{
		{"", "", "", "", "", "", true, true, true},
		{"", "0-3", "0-3", "", "", "0-3", true, false, false},
		{"0-3", "0-3", "0-3", "0-3", "", "", true, true, true},
		{"0-3", "2-5", "0-5", "2-3", "0-1", "4-5", false, false, false},
		{"0-3", "1-2", "0-3", "1-2", "0,3", "", false, true, false},
		{"0,2,4", "1,3,5", "0-5", "", "0,2,4", "1,3,5", false, false, false},
		{"0-7", "3,5", "0-7", "3,5", "0-2,4,6-7", "", false, true, false},
		{"10-12", "0-1", "0-1,10-12", "", "10-12", "0-1", false, false, false},
	}
	for _, tt := range tests {
		a, b := MustParseCPUList(tt.a), MustParseCPUList(tt.b)
		check := func(op string, got CPUSet, want string) {
			t.Helper()
			if got.String() != want {
				t.Errorf("%q %s %q = %q, want %q", tt.a, op, tt.b, got, want)
			}
		}
		check("Union", a.Union(b), tt.union)
		check("rev Union", b.Union(a), tt.union)
		check("Intersect", a.Intersect(b), tt.inter)
		check("rev Intersect", b.Intersect(a), tt.inter)
		check("Difference", a.Difference(b), tt.diff)
		check("rev Difference", b.Difference(a), tt.rdif)
		if got := a.IsSubsetOf(b); got != tt.aSubB {
			t.Errorf("%q.IsSubsetOf(%q) = %v, want %v", tt.a, tt.b, got, tt.aSubB)
		}
		if got := b.IsSubsetOf(a); got != tt.bSubA {
			t.Errorf("%q.IsSubsetOf(%q) = %v, want %v", tt.b, tt.a, got, tt.bSubA)
		}
		if got := a.Equal(b); got != tt.equal {
			t.Errorf("%q.Equal(%q) = %v, want %v", tt.a, tt.b, got, tt.equal)
		}
		// Operations never modify their operands.
		if a.String() != MustParseCPUList(tt.a).String() || b.String() != MustParseCPUList(tt.b).String() {
			t.Errorf("operations on %q, %q modified an operand", tt.a, tt.b)
		}
	}
}

func TestContains(t *testing.T) {
	s := MustParseCPUList("0-3,5,7-8")
	for cpu := -1; cpu <= 10; cpu++ {
		want := slices.Contains([]int{0, 1, 2, 3, 5, 7, 8}, cpu)
		if got := s.Contains(cpu); got != want {
			t.Errorf("Contains(%d) = %v, want %v", cpu, got, want)
		}
	}
}

func TestCPUSetJSON(t *testing.T) {
	type doc struct {
		CPUs CPUSet `json:"cpus"`
	}
	b, err := json.Marshal(doc{MustParseCPUList("0-3,5")})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"cpus":"0-3,5"}` {
		t.Errorf("Marshal = %s", b)
	}
	var d doc
	if err := json.Unmarshal([]byte(`{"cpus":"7-8,1"}`), &d); err != nil {
		t.Fatal(err)
	}
	if d.CPUs.String() != "1,7-8" {
		t.Errorf("Unmarshal = %v", d.CPUs)
	}
	if err := json.Unmarshal([]byte(`{"cpus":"3-1"}`), &d); err == nil {
		t.Error("Unmarshal of \"3-1\" succeeded")
	}
}

func FuzzParseCPUList(f *testing.F) {
	for _, seed := range []string{
		"", " ", "\n", "0", "0\n", "0-3,5,7-8", "7-8,0-3,5", "1,1,1", "0-4,2-6",
		"0-2,3-5", "3-1", "a", "-1", "1-", "-", ",", "1,,2", "0-3,", "1-2-3",
		"+1", "0x1", "0-7:2/4", "65535", "65536", "0-65535", "0-65535,0-65535",
		"0, 2", " 0 - 3 ", "00000000000000000000001", "99999999999999999999",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		set, err := ParseCPUList(in)
		if err != nil {
			if set.Len() != 0 {
				t.Fatalf("ParseCPUList(%q) returned %v with error %v", in, set, err)
			}
			return
		}
		cpus := set.Slice()
		for i, c := range cpus {
			if c < 0 || c > MaxCPUID {
				t.Fatalf("ParseCPUList(%q) holds out-of-range cpu %d", in, c)
			}
			if i > 0 && cpus[i-1] >= c {
				t.Fatalf("ParseCPUList(%q) not strictly ascending: %v", in, cpus)
			}
		}
		str := set.String()
		again, err := ParseCPUList(str)
		if err != nil {
			t.Fatalf("ParseCPUList(%q).String() = %q, which does not parse: %v", in, str, err)
		}
		if !again.Equal(set) {
			t.Fatalf("round trip of %q via %q changed the set", in, str)
		}
		if again.String() != str {
			t.Fatalf("String not stable: %q then %q", str, again.String())
		}
		if !NewCPUSet(cpus...).Equal(set) {
			t.Fatalf("NewCPUSet(Slice()) differs for %q", in)
		}
		if !set.IsSubsetOf(set) || set.Difference(set).Len() != 0 || !set.Union(set).Equal(set) || !set.Intersect(set).Equal(set) {
			t.Fatalf("set identities fail for %q", in)
		}
	})
}
