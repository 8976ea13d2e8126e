package gauntlet

import "fmt"

// Attrs are a test's declared topology, constraints and duration, after
// inheriting the scheduler's topology; 0 means unset (the default).
type Attrs struct {
	Sockets     int  `json:"sockets"`
	Cores       int  `json:"cores"`
	Threads     int  `json:"threads"`
	MemoryMB    int  `json:"memory_mb"`
	MinSockets  int  `json:"min_sockets"`
	MinLLCs     int  `json:"min_llcs"`
	MinCPUs     int  `json:"min_cpus"`
	RequiresSMT bool `json:"requires_smt"`
	DurationS   int  `json:"duration_s"`
}

// Limits of any preset (topology.Presets): the most sockets (and so
// LLCs) and CPUs a gauntlet topology has.
const (
	MaxPresetSockets = 15
	MaxPresetCPUs    = 252
)

// ValidateAttrs returns what is wrong with a test's attributes, each
// message naming the attribute as the Bazel rule does ("min_llcs = 16 is
// above ..."); nil when nothing is. The loading phase's validate_test
// (rules/private/profiles.bzl) gives the same messages; the shared
// vectors hold both to it.
func ValidateAttrs(a Attrs) []string {
	var errs []string
	for _, f := range []struct {
		attr string
		v    int
	}{
		{"sockets", a.Sockets}, {"cores", a.Cores}, {"threads", a.Threads}, {"memory_mb", a.MemoryMB},
		{"min_sockets", a.MinSockets}, {"min_llcs", a.MinLLCs}, {"min_cpus", a.MinCPUs}, {"duration_s", a.DurationS},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Sprintf("%s = %d: must be >= 0 (0 means default)", f.attr, f.v))
		}
	}
	pos := func(v int) int { return max(v, 0) }
	s, c, t := pos(a.Sockets), pos(a.Cores), pos(a.Threads)
	if s > 0 && c > 0 && t > 0 && s*c*t > MaxPresetCPUs {
		errs = append(errs, fmt.Sprintf("topology %ds%dc%dt has %d CPUs: at most %d", s, c, t, s*c*t, MaxPresetCPUs))
	}
	for _, m := range []struct {
		attr     string
		v, limit int
	}{{"min_sockets", a.MinSockets, MaxPresetSockets}, {"min_llcs", a.MinLLCs, MaxPresetSockets}, {"min_cpus", a.MinCPUs, MaxPresetCPUs}} {
		if m.v > m.limit {
			errs = append(errs, fmt.Sprintf("%s = %d is above the maximum %d of any preset", m.attr, m.v, m.limit))
		}
	}
	if s > 0 {
		for _, m := range []struct {
			attr string
			v    int
		}{{"min_sockets", a.MinSockets}, {"min_llcs", a.MinLLCs}} {
			if m.v > s {
				errs = append(errs, fmt.Sprintf("%s = %d is above the test's own sockets = %d", m.attr, m.v, s))
			}
		}
	}
	if s > 0 && c > 0 && t > 0 && a.MinCPUs > s*c*t {
		errs = append(errs, fmt.Sprintf("min_cpus = %d is above the test's own %d CPUs", a.MinCPUs, s*c*t))
	}
	if a.RequiresSMT && t > 0 && t < 2 {
		errs = append(errs, fmt.Sprintf("requires_smt = True but threads = %d", t))
	}
	return errs
}
