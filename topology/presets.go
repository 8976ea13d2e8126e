package topology

import (
	"fmt"
	"strings"
)

// Preset is a named topology from the gauntlet table returned by [Presets].
type Preset struct {
	Name     string
	Topology Topology
}

// presetTable is the gauntlet's topology table for x86_64: name, sockets,
// cores per socket, threads per core. Keep it a flat list of literals; a
// generator copies it into Starlark.
var presetTable = []struct {
	name                    string
	sockets, cores, threads int
}{
	{"tiny-1llc", 1, 4, 1},
	{"tiny-2llc", 2, 2, 1},
	{"odd-3llc", 3, 3, 1},
	{"odd-5llc", 5, 3, 1},
	{"odd-7llc", 7, 2, 1},
	{"smt-2llc", 2, 2, 2},
	{"smt-3llc", 3, 2, 2},
	{"medium-4llc", 4, 4, 2},
	{"medium-8llc", 8, 4, 2},
	{"large-4llc", 4, 16, 2},
	{"large-8llc", 8, 8, 2},
	{"near-max-llc", 15, 8, 2},
	{"max-cpu", 14, 9, 2},
	{"medium-4llc-nosmt", 4, 8, 1},
	{"medium-8llc-nosmt", 8, 8, 1},
	{"large-4llc-nosmt", 4, 32, 1},
	{"large-8llc-nosmt", 8, 16, 1},
	{"near-max-llc-nosmt", 15, 16, 1},
	{"max-cpu-nosmt", 14, 18, 1},
}

// Presets returns the gauntlet's named topologies in their fixed order, in
// a new slice the caller may modify. Their MemoryMB is 0; see
// [GauntletMemoryMB].
func Presets() []Preset {
	ps := make([]Preset, len(presetTable))
	for i, row := range presetTable {
		ps[i] = Preset{
			Name:     row.name,
			Topology: Topology{Sockets: row.sockets, Cores: row.cores, Threads: row.threads},
		}
	}
	return ps
}

// PresetNames returns the names of [Presets], in the same order.
func PresetNames() []string {
	names := make([]string, len(presetTable))
	for i, row := range presetTable {
		names[i] = row.name
	}
	return names
}

// PresetByName returns the preset with the given name, which must match
// exactly. The error for an unknown name lists the valid ones.
func PresetByName(name string) (Preset, error) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, nil
		}
	}
	return Preset{}, fmt.Errorf("topology: unknown preset %q; valid presets are %s", name, strings.Join(PresetNames(), ", "))
}
