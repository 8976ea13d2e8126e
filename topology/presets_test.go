package topology

import (
	"slices"
	"strings"
	"testing"
)

func TestPresetTable(t *testing.T) {
	want := []struct {
		name       string
		topo       string
		cpus, llcs int
	}{
		{"tiny-1llc", "1s4c1t", 4, 1},
		{"tiny-2llc", "2s2c1t", 4, 2},
		{"odd-3llc", "3s3c1t", 9, 3},
		{"odd-5llc", "5s3c1t", 15, 5},
		{"odd-7llc", "7s2c1t", 14, 7},
		{"smt-2llc", "2s2c2t", 8, 2},
		{"smt-3llc", "3s2c2t", 12, 3},
		{"medium-4llc", "4s4c2t", 32, 4},
		{"medium-8llc", "8s4c2t", 64, 8},
		{"large-4llc", "4s16c2t", 128, 4},
		{"large-8llc", "8s8c2t", 128, 8},
		{"near-max-llc", "15s8c2t", 240, 15},
		{"max-cpu", "14s9c2t", 252, 14},
		{"medium-4llc-nosmt", "4s8c1t", 32, 4},
		{"medium-8llc-nosmt", "8s8c1t", 64, 8},
		{"large-4llc-nosmt", "4s32c1t", 128, 4},
		{"large-8llc-nosmt", "8s16c1t", 128, 8},
		{"near-max-llc-nosmt", "15s16c1t", 240, 15},
		{"max-cpu-nosmt", "14s18c1t", 252, 14},
	}
	ps := Presets()
	if len(ps) != len(want) {
		t.Fatalf("Presets() has %d entries, want %d", len(ps), len(want))
	}
	for i, w := range want {
		p := ps[i]
		if p.Name != w.name {
			t.Errorf("Presets()[%d].Name = %q, want %q", i, p.Name, w.name)
		}
		if got := p.Topology.String(); got != w.topo {
			t.Errorf("%s: topology %s, want %s", w.name, got, w.topo)
		}
		if got := p.Topology.CPUs(); got != w.cpus {
			t.Errorf("%s: CPUs() = %d, want %d", w.name, got, w.cpus)
		}
		if got := p.Topology.LLCs(); got != w.llcs {
			t.Errorf("%s: LLCs() = %d, want %d", w.name, got, w.llcs)
		}
		if got := p.Topology.NUMANodes(); got != w.llcs {
			t.Errorf("%s: NUMANodes() = %d, want %d", w.name, got, w.llcs)
		}
		if p.Topology.MemoryMB != 0 {
			t.Errorf("%s: MemoryMB = %d, want 0", w.name, p.Topology.MemoryMB)
		}
		if err := p.Topology.Validate(); err != nil {
			t.Errorf("%s: %v", w.name, err)
		}
		if wantSMT := strings.HasSuffix(w.topo, "2t"); p.Topology.HasSMT() != wantSMT {
			t.Errorf("%s: HasSMT() = %v, want %v", w.name, p.Topology.HasSMT(), wantSMT)
		}
	}
	if names := PresetNames(); len(names) != len(want) || names[0] != "tiny-1llc" || names[len(names)-1] != "max-cpu-nosmt" {
		t.Errorf("PresetNames() = %v", names)
	}
}

func TestPresetsIsFreshCopy(t *testing.T) {
	ps := Presets()
	ps[0].Name = "changed"
	ps[0].Topology.Sockets = 99
	if again := Presets(); again[0].Name != "tiny-1llc" || again[0].Topology.Sockets != 1 {
		t.Errorf("modifying Presets() result changed the table: %+v", again[0])
	}
}

func TestPresetNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Presets() {
		if seen[p.Name] {
			t.Errorf("duplicate preset name %q", p.Name)
		}
		seen[p.Name] = true
	}
}

func TestPresetByName(t *testing.T) {
	for _, want := range Presets() {
		got, err := PresetByName(want.Name)
		if err != nil {
			t.Fatalf("PresetByName(%q): %v", want.Name, err)
		}
		if got != want {
			t.Errorf("PresetByName(%q) = %+v, want %+v", want.Name, got, want)
		}
	}
	for _, bad := range []string{"", "nope", "MAX-CPU", " max-cpu"} {
		_, err := PresetByName(bad)
		if err == nil {
			t.Errorf("PresetByName(%q) succeeded", bad)
			continue
		}
		for _, w := range []string{`"` + bad + `"`, "tiny-1llc", "smt-2llc", "max-cpu-nosmt"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("PresetByName(%q) error %q does not contain %q", bad, err, w)
			}
		}
	}
}

func presetNames(ps []Preset) []string {
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return names
}

func TestFilter(t *testing.T) {
	tests := []struct {
		c    Constraints
		want []string
	}{
		{Constraints{MinLLCs: 2, RequiresSMT: true}, []string{
			"smt-2llc", "smt-3llc", "medium-4llc", "medium-8llc",
			"large-4llc", "large-8llc", "near-max-llc", "max-cpu",
		}},
		{Constraints{}, PresetNames()},
		{Constraints{MinSockets: 1, MinLLCs: 1, MinCPUs: 1}, PresetNames()},
		{Constraints{MinCPUs: 200}, []string{"near-max-llc", "max-cpu", "near-max-llc-nosmt", "max-cpu-nosmt"}},
		{Constraints{MinSockets: 15}, []string{"near-max-llc", "near-max-llc-nosmt"}},
		{Constraints{MinLLCs: 7, MinCPUs: 15}, []string{
			"medium-8llc", "large-8llc", "near-max-llc", "max-cpu",
			"medium-8llc-nosmt", "large-8llc-nosmt", "near-max-llc-nosmt", "max-cpu-nosmt",
		}},
		{Constraints{MinCPUs: 253}, nil},
	}
	for _, tt := range tests {
		got := presetNames(tt.c.Filter(Presets()))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%+v.Filter = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestConstraintsReason(t *testing.T) {
	tiny := Topology{Sockets: 1, Cores: 4, Threads: 1}
	tests := []struct {
		c    Constraints
		topo Topology
		want []string // substrings; nil means allowed
	}{
		{Constraints{}, tiny, nil},
		{Constraints{MinCPUs: 4}, tiny, nil},
		{Constraints{MinSockets: 2}, tiny, []string{"needs >= 2 sockets", "1s4c1t has 1"}},
		{Constraints{MinLLCs: 3}, tiny, []string{"needs >= 3 LLCs", "1s4c1t has 1"}},
		{Constraints{RequiresSMT: true}, tiny, []string{"needs SMT", "1s4c1t"}},
		{Constraints{MinCPUs: 5}, tiny, []string{"needs >= 5 CPUs", "1s4c1t has 4"}},
		{Constraints{MinLLCs: 2, RequiresSMT: true}, tiny, []string{"LLCs", "SMT", "; "}},
		{Constraints{RequiresSMT: true}, Topology{Sockets: 1, Cores: 1, Threads: 2}, nil},
		{Constraints{}, Topology{}, []string{"sockets", "LLCs", "CPUs"}},
	}
	for _, tt := range tests {
		got := tt.c.Reason(tt.topo)
		if allowed := tt.c.Allows(tt.topo); allowed != (got == "") {
			t.Errorf("%+v on %v: Allows = %v but Reason = %q", tt.c, tt.topo, allowed, got)
		}
		if tt.want == nil {
			if got != "" {
				t.Errorf("%+v.Reason(%v) = %q, want allowed", tt.c, tt.topo, got)
			}
			continue
		}
		if got == "" {
			t.Errorf("%+v.Reason(%v) = \"\", want rejection", tt.c, tt.topo)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%+v.Reason(%v) = %q, want it to contain %q", tt.c, tt.topo, got, w)
			}
		}
	}
}

func TestConstraintsValidate(t *testing.T) {
	tests := []struct {
		c    Constraints
		want string // "" means valid
	}{
		{Constraints{}, ""},
		{Constraints{MinSockets: 2, MinLLCs: 4, MinCPUs: 8, RequiresSMT: true}, ""},
		{Constraints{MinSockets: -1}, "MinSockets must be >= 0 (got -1)"},
		{Constraints{MinLLCs: -2}, "MinLLCs must be >= 0 (got -2)"},
		{Constraints{MinCPUs: -3}, "MinCPUs must be >= 0 (got -3)"},
	}
	for _, tt := range tests {
		err := tt.c.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v.Validate() = %v", tt.c, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v.Validate() = %v, want error containing %q", tt.c, err, tt.want)
		}
	}
}

func TestGauntletMemoryMB(t *testing.T) {
	tests := []struct {
		topo Topology
		req  int
		want int
	}{
		{Topology{1, 1, 1, 0}, 0, 256},
		{Topology{1, 4, 1, 0}, 0, 256},
		{Topology{1, 4, 1, 0}, 300, 300},
		{Topology{2, 2, 2, 0}, 0, 512},
		{Topology{14, 9, 2, 0}, 0, 252 * 64},
		{Topology{14, 9, 2, 0}, 32768, 32768},
		{Topology{3, 3, 1, 0}, 100, 576},
	}
	for _, tt := range tests {
		if got := GauntletMemoryMB(tt.topo, tt.req); got != tt.want {
			t.Errorf("GauntletMemoryMB(%v, %d) = %d, want %d", tt.topo, tt.req, got, tt.want)
		}
	}
}
