package topology

import (
	"fmt"
	"strings"
	"testing"
)

func TestCounts(t *testing.T) {
	tests := []struct {
		topo              Topology
		cpus, llcs, nodes int
		smt               bool
		str               string
	}{
		{Topology{1, 1, 1, 0}, 1, 1, 1, false, "1s1c1t"},
		{Topology{1, 4, 1, 0}, 4, 1, 1, false, "1s4c1t"},
		{Topology{2, 2, 2, 0}, 8, 2, 2, true, "2s2c2t"},
		{Topology{3, 3, 1, 512}, 9, 3, 3, false, "3s3c1t"},
		{Topology{14, 9, 2, 0}, 252, 14, 14, true, "14s9c2t"},
		{Topology{1, 1, 4, 0}, 4, 1, 1, true, "1s1c4t"},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.topo.CPUs(); got != tt.cpus {
				t.Errorf("CPUs() = %d, want %d", got, tt.cpus)
			}
			if got := tt.topo.LLCs(); got != tt.llcs {
				t.Errorf("LLCs() = %d, want %d", got, tt.llcs)
			}
			if got := tt.topo.NUMANodes(); got != tt.nodes {
				t.Errorf("NUMANodes() = %d, want %d", got, tt.nodes)
			}
			if got := tt.topo.HasSMT(); got != tt.smt {
				t.Errorf("HasSMT() = %v, want %v", got, tt.smt)
			}
			if got := tt.topo.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
		})
	}
}

func TestEffectiveMemoryMB(t *testing.T) {
	if got := (Topology{1, 1, 1, 0}).EffectiveMemoryMB(); got != DefaultMemoryMB {
		t.Errorf("MemoryMB 0: got %d, want %d", got, DefaultMemoryMB)
	}
	if got := (Topology{1, 1, 1, 300}).EffectiveMemoryMB(); got != 300 {
		t.Errorf("MemoryMB 300: got %d, want 300", got)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		topo Topology
		want []string // substrings of the error; nil means valid
	}{
		{Topology{1, 1, 1, 0}, nil},
		{Topology{2, 2, 2, 4096}, nil},
		{Topology{14, 9, 2, 0}, nil},
		{Topology{14, 18, 1, 0}, nil},
		{Topology{1, 252, 1, 0}, nil},
		{Topology{4, 1, 1, 4}, nil},
		{Topology{0, 2, 1, 0}, []string{"topology 0s2c1t: sockets must be >= 1 (got 0)"}},
		{Topology{-1, 2, 1, 0}, []string{"sockets must be >= 1 (got -1)"}},
		{Topology{1, 0, 1, 0}, []string{"topology 1s0c1t", "cores", ">= 1", "got 0"}},
		{Topology{1, 1, 0, 0}, []string{"topology 1s1c0t", "threads", ">= 1", "got 0"}},
		{Topology{1, 1, 1, -1}, []string{"MemoryMB must be >= 0 (got -1)", "0 for the default"}},
		{Topology{15, 9, 2, 0}, []string{"topology 15s9c2t", "270 CPUs", "252", "MaxCPUs"}},
		{Topology{1, 253, 1, 0}, []string{"253 CPUs", "252"}},
		{Topology{1 << 40, 1 << 40, 1, 0}, []string{"more than 252 CPUs", "MaxCPUs"}},
		{Topology{1 << 32, 1 << 32, 1 << 32, 0}, []string{"more than 252 CPUs"}},
		{Topology{4, 1, 1, 3}, []string{"MemoryMB", ">= 4", "got 3"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%d", tt.topo, tt.topo.MemoryMB), func(t *testing.T) {
			err := tt.topo.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	good := []struct {
		in   string
		want Topology
	}{
		{"2s4c1t", Topology{Sockets: 2, Cores: 4, Threads: 1}},
		{"2S4C1T", Topology{Sockets: 2, Cores: 4, Threads: 1}},
		{"14s9c2t", Topology{Sockets: 14, Cores: 9, Threads: 2}},
		{"  1s1c1t\n", Topology{Sockets: 1, Cores: 1, Threads: 1}},
		{"01s04c02t", Topology{Sockets: 1, Cores: 4, Threads: 2}},
	}
	for _, tt := range good {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}

	bad := []struct {
		in   string
		want []string
	}{
		{"", []string{`""`, "{sockets}s{cores}c{threads}t"}},
		{"2s4c", []string{`"2s4c"`, "{sockets}s{cores}c{threads}t", "2s4c1t"}},
		{"2x4c1t", []string{`"2x4c1t"`, "{sockets}s{cores}c{threads}t"}},
		{"2s4c1t1", []string{`"2s4c1t1"`}},
		{"2s4c1tx", []string{`"2s4c1tx"`}},
		{"s4c1t", []string{`"s4c1t"`}},
		{"2c4s1t", []string{`"2c4s1t"`}},
		{"-2s4c1t", []string{`"-2s4c1t"`}},
		{"+2s4c1t", []string{`"+2s4c1t"`}},
		{"2 s4c1t", []string{`"2 s4c1t"`}},
		{"99999999999999999999s1c1t", []string{"99999999999999999999s1c1t"}},
		{"0s2c1t", []string{`"0s2c1t"`, "sockets must be >= 1 (got 0)"}},
		{"1s0c1t", []string{"cores", "got 0"}},
		{"1s1c0t", []string{"threads", "got 0"}},
		{"15s9c2t", []string{"270 CPUs", "252"}},
	}
	for _, tt := range bad {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want error", tt.in)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%q) error %q does not contain %q", tt.in, err, w)
			}
		}
	}
}

func TestStringParseRoundTrip(t *testing.T) {
	for _, p := range Presets() {
		got, err := Parse(p.Topology.String())
		if err != nil {
			t.Fatalf("Parse(%q): %v", p.Topology, err)
		}
		if got != p.Topology {
			t.Errorf("Parse(%q) = %+v, want %+v", p.Topology, got, p.Topology)
		}
	}
}

func TestCPUNumbering(t *testing.T) {
	topo := Topology{Sockets: 2, Cores: 3, Threads: 2}
	tests := []struct{ socket, core, thread, cpu int }{
		{0, 0, 0, 0},
		{0, 0, 1, 1},
		{0, 1, 0, 2},
		{0, 2, 1, 5},
		{1, 0, 0, 6},
		{1, 1, 1, 9},
		{1, 2, 1, 11},
	}
	for _, tt := range tests {
		if got := topo.CPUOf(tt.socket, tt.core, tt.thread); got != tt.cpu {
			t.Errorf("CPUOf(%d, %d, %d) = %d, want %d", tt.socket, tt.core, tt.thread, got, tt.cpu)
		}
		s, c, th := topo.Locate(tt.cpu)
		if s != tt.socket || c != tt.core || th != tt.thread {
			t.Errorf("Locate(%d) = %d, %d, %d, want %d, %d, %d", tt.cpu, s, c, th, tt.socket, tt.core, tt.thread)
		}
		if got := topo.LLCOf(tt.cpu); got != tt.socket {
			t.Errorf("LLCOf(%d) = %d, want %d", tt.cpu, got, tt.socket)
		}
		if got := topo.NodeOf(tt.cpu); got != tt.socket {
			t.Errorf("NodeOf(%d) = %d, want %d", tt.cpu, got, tt.socket)
		}
	}
}

// TestNumberingConsistent checks, for every preset, that CPUOf and Locate
// are inverse bijections onto 0..CPUs()-1 and agree with the set helpers.
func TestNumberingConsistent(t *testing.T) {
	for _, p := range Presets() {
		topo := p.Topology
		t.Run(p.Name, func(t *testing.T) {
			next := 0
			for s := range topo.Sockets {
				for c := range topo.Cores {
					for th := range topo.Threads {
						cpu := topo.CPUOf(s, c, th)
						if cpu != next {
							t.Fatalf("CPUOf(%d, %d, %d) = %d, want %d", s, c, th, cpu, next)
						}
						next++
						if gs, gc, gt := topo.Locate(cpu); gs != s || gc != c || gt != th {
							t.Fatalf("Locate(%d) = %d, %d, %d", cpu, gs, gc, gt)
						}
						if !topo.LLCCPUs(s).Contains(cpu) || !topo.NodeCPUs(s).Contains(cpu) {
							t.Fatalf("cpu %d not in LLC/node %d", cpu, s)
						}
						if !topo.Siblings(cpu).Contains(cpu) || topo.Siblings(cpu).Len() != topo.Threads {
							t.Fatalf("Siblings(%d) = %v", cpu, topo.Siblings(cpu))
						}
					}
				}
			}
			if next != topo.CPUs() || topo.AllCPUs().Len() != topo.CPUs() {
				t.Fatalf("numbered %d CPUs, AllCPUs has %d, CPUs() = %d", next, topo.AllCPUs().Len(), topo.CPUs())
			}
			var union CPUSet
			for llc := range topo.LLCs() {
				if got := topo.LLCCPUs(llc).Len(); got != topo.Cores*topo.Threads {
					t.Fatalf("LLCCPUs(%d) has %d CPUs, want %d", llc, got, topo.Cores*topo.Threads)
				}
				if union.Intersect(topo.LLCCPUs(llc)).Len() != 0 {
					t.Fatalf("LLC %d overlaps earlier LLCs", llc)
				}
				union = union.Union(topo.LLCCPUs(llc))
			}
			if !union.Equal(topo.AllCPUs()) {
				t.Fatalf("union of LLCs = %v, want %v", union, topo.AllCPUs())
			}
		})
	}
}

func TestCPUSets(t *testing.T) {
	smt := Topology{Sockets: 2, Cores: 2, Threads: 2}
	odd := Topology{Sockets: 3, Cores: 3, Threads: 1}
	tests := []struct {
		name string
		got  CPUSet
		want string
	}{
		{"2s2c2t all", smt.AllCPUs(), "0-7"},
		{"2s2c2t llc0", smt.LLCCPUs(0), "0-3"},
		{"2s2c2t llc1", smt.LLCCPUs(1), "4-7"},
		{"2s2c2t node1", smt.NodeCPUs(1), "4-7"},
		{"2s2c2t siblings 0", smt.Siblings(0), "0-1"},
		{"2s2c2t siblings 1", smt.Siblings(1), "0-1"},
		{"2s2c2t siblings 5", smt.Siblings(5), "4-5"},
		{"2s2c2t siblings 6", smt.Siblings(6), "6-7"},
		{"2s2c2t usable", smt.UsableCPUs(), "0-6"},
		{"3s3c1t llc2", odd.LLCCPUs(2), "6-8"},
		{"3s3c1t siblings 4", odd.Siblings(4), "4"},
		{"3s3c1t usable", odd.UsableCPUs(), "0-7"},
		{"1s1c1t usable", Topology{1, 1, 1, 0}.UsableCPUs(), "0"},
		{"1s2c1t usable", Topology{1, 2, 1, 0}.UsableCPUs(), "0-1"},
		{"2s1c1t usable", Topology{2, 1, 1, 0}.UsableCPUs(), "0-1"},
		{"1s1c2t usable", Topology{1, 1, 2, 0}.UsableCPUs(), "0-1"},
		{"1s3c1t usable", Topology{1, 3, 1, 0}.UsableCPUs(), "0-1"},
		{"1s4c1t usable", Topology{1, 4, 1, 0}.UsableCPUs(), "0-2"},
		{"2s2c1t usable", Topology{2, 2, 1, 0}.UsableCPUs(), "0-2"},
		{"14s9c2t usable", Topology{14, 9, 2, 0}.UsableCPUs(), "0-250"},
		{"1s4c1t all", Topology{1, 4, 1, 0}.AllCPUs(), "0-3"},
	}
	for _, tt := range tests {
		if got := tt.got.String(); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSplitByLLC(t *testing.T) {
	smt := Topology{Sockets: 2, Cores: 2, Threads: 2} // LLCs 0-3, 4-7
	odd := Topology{Sockets: 3, Cores: 3, Threads: 1} // LLCs 0-2, 3-5, 6-8
	tests := []struct {
		topo Topology
		set  string
		want []string
	}{
		{smt, "0-7", []string{"0-3", "4-7"}},
		{smt, "0-6", []string{"0-3", "4-6"}},
		{smt, "1,6", []string{"1", "6"}},
		{smt, "4-5", []string{"4-5"}},
		{smt, "", nil},
		{smt, "3-4,100", []string{"3", "4"}},
		{odd, "0-7", []string{"0-2", "3-5", "6-7"}},
		{odd, "0,8", []string{"0", "8"}},
		{odd, "2-3,7", []string{"2", "3", "7"}},
		{odd, "6-8", []string{"6-8"}},
	}
	for _, tt := range tests {
		parts := tt.topo.SplitByLLC(MustParseCPUList(tt.set))
		var got []string
		for _, p := range parts {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") || len(got) != len(tt.want) {
			t.Errorf("%v.SplitByLLC(%q) = %q, want %q", tt.topo, tt.set, got, tt.want)
		}
	}
}

func TestOutOfRangePanics(t *testing.T) {
	topo := Topology{Sockets: 2, Cores: 2, Threads: 2}
	tests := []struct {
		name string
		f    func()
	}{
		{"CPUOf socket", func() { topo.CPUOf(2, 0, 0) }},
		{"CPUOf core", func() { topo.CPUOf(0, 2, 0) }},
		{"CPUOf thread", func() { topo.CPUOf(0, 0, 2) }},
		{"CPUOf negative", func() { topo.CPUOf(0, -1, 0) }},
		{"Locate high", func() { topo.Locate(8) }},
		{"Locate negative", func() { topo.Locate(-1) }},
		{"LLCOf", func() { topo.LLCOf(8) }},
		{"NodeOf", func() { topo.NodeOf(-1) }},
		{"LLCCPUs", func() { topo.LLCCPUs(2) }},
		{"NodeCPUs", func() { topo.NodeCPUs(-1) }},
		{"Siblings", func() { topo.Siblings(8) }},
		{"APICID", func() { topo.APICID(8) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("did not panic")
				}
				if msg := fmt.Sprint(r); !strings.Contains(msg, "2s2c2t") {
					t.Errorf("panic %q does not name the topology", msg)
				}
			}()
			tt.f()
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{"2s4c1t", "2S4C1T", " 14s9c2t\n", "0s2c1t", "15s9c2t", "2s4c", "s4c1t", "1s1c1t1", "99999999999999999999s1c1t"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		topo, err := Parse(in)
		if err != nil {
			if topo != (Topology{}) {
				t.Fatalf("Parse(%q) returned %+v with error %v", in, topo, err)
			}
			return
		}
		if err := topo.Validate(); err != nil {
			t.Fatalf("Parse(%q) = %+v, which is invalid: %v", in, topo, err)
		}
		again, err := Parse(topo.String())
		if err != nil || again != topo {
			t.Fatalf("Parse(%q).String() = %q re-parses to %+v, %v", in, topo, again, err)
		}
	})
}
