package topology

import (
	"fmt"
	"strings"
)

// Constraints is what a test needs from a topology to be meaningful. The
// zero value allows every valid topology: a zero MinSockets, MinLLCs or
// MinCPUs means 1.
type Constraints struct {
	MinSockets  int  // at least this many sockets
	MinLLCs     int  // at least this many LLC domains
	MinCPUs     int  // at least this many logical CPUs
	RequiresSMT bool // cores must have at least two hardware threads
}

// Validate reports a negative minimum, naming the field.
func (c Constraints) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"MinSockets", c.MinSockets},
		{"MinLLCs", c.MinLLCs},
		{"MinCPUs", c.MinCPUs},
	} {
		if f.v < 0 {
			return fmt.Errorf("topology constraints: %s must be >= 0 (got %d); 0 means no minimum", f.name, f.v)
		}
	}
	return nil
}

// Allows reports whether a test with these constraints should run on t.
func (c Constraints) Allows(t Topology) bool { return c.Reason(t) == "" }

// Reason explains why c rejects t, naming every unmet constraint, or
// returns "" when c allows t. The runner reports it as the skip reason.
func (c Constraints) Reason(t Topology) string {
	var why []string
	if need := max(c.MinSockets, 1); t.Sockets < need {
		why = append(why, fmt.Sprintf("needs >= %d sockets, %s has %d", need, t, t.Sockets))
	}
	if need := max(c.MinLLCs, 1); t.LLCs() < need {
		why = append(why, fmt.Sprintf("needs >= %d LLCs, %s has %d", need, t, t.LLCs()))
	}
	if c.RequiresSMT && t.Threads < 2 {
		why = append(why, fmt.Sprintf("needs SMT, %s has %d thread(s) per core", t, t.Threads))
	}
	if need := max(c.MinCPUs, 1); t.CPUs() < need {
		why = append(why, fmt.Sprintf("needs >= %d CPUs, %s has %d", need, t, t.CPUs()))
	}
	return strings.Join(why, "; ")
}

// Filter returns the presets c allows, in their original order, in a new
// slice.
func (c Constraints) Filter(ps []Preset) []Preset {
	var out []Preset
	for _, p := range ps {
		if c.Allows(p.Topology) {
			out = append(out, p)
		}
	}
	return out
}
