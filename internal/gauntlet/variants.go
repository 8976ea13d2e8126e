package gauntlet

import (
	"fmt"
	"strings"

	"github.com/ktstr-go/ktstr/topology"
)

// Test is what the expansion of one test needs.
type Test struct {
	// Pkg is the Bazel package (slash path from the module root) and
	// Name the test function.
	Pkg, Name string
	// Scheduler is the scheduler's name ("eevdf" for the kernel's).
	Scheduler string
	// Flags (declaration order) and Requires are the scheduler's;
	// RequiredFlags and ExcludedFlags the test's.
	Flags                        []string
	Requires                     map[string][]string
	RequiredFlags, ExcludedFlags []string
	Constraints                  topology.Constraints
	// DurationS is the test's duration (0: the default, 2 s).
	DurationS int
	// WorkTypes are the work types the test uses (nil: CpuSpin).
	WorkTypes []string
}

// Variant is one gauntlet target: a test on a preset under a profile.
type Variant struct {
	Test    *Test
	Preset  string
	Profile string
	CPUs    int
	LLCs    int
	SMT     bool
	// Seconds is the estimated cost under KVM ([EstimatedSeconds]).
	Seconds int
	// Features are the configuration features the variant covers.
	Features []string
}

// LabelPart turns a preset or profile name into a part of a target name
// ("llc+steal" -> "llc_steal").
func LabelPart(s string) string {
	return strings.NewReplacer("-", "_", "+", "_").Replace(s)
}

// Target is the variant's Bazel target name.
func (v Variant) Target() string {
	return fmt.Sprintf("%s_gauntlet_%s_%s", v.Test.Name, LabelPart(v.Preset), LabelPart(v.Profile))
}

// Label is the variant's Bazel label.
func (v Variant) Label() string { return "//" + v.Test.Pkg + ":" + v.Target() }

// GoName is the variant's name in Go: gauntlet/{test}/{preset}/{profile}.
func (v Variant) GoName() string {
	return "gauntlet/" + v.Test.Name + "/" + v.Preset + "/" + v.Profile
}

// EstimatedSeconds is a rough cost of one variant under KVM: a boot that
// grows with the CPUs, and the test's duration.
func EstimatedSeconds(cpus, durationS int) int { return 5 + durationS + cpus/8 }

// CPUBucket is the CPU-count feature of a variant.
func CPUBucket(cpus int) string {
	switch {
	case cpus <= 4:
		return "cpus<=4"
	case cpus <= 16:
		return "cpus<=16"
	case cpus <= 64:
		return "cpus<=64"
	}
	return "cpus>64"
}

// Variants expands a test over the presets its constraints allow and the
// profiles of its scheduler, in preset order, then profile order.
func Variants(t *Test) ([]Variant, error) {
	sched := t.Scheduler
	if sched == "" {
		sched = "eevdf"
	}
	profiles, err := Profiles(sched, t.Flags, t.Requires, t.RequiredFlags, t.ExcludedFlags)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	d := t.DurationS
	if d <= 0 {
		d = 2
	}
	works := t.WorkTypes
	if len(works) == 0 {
		works = []string{"CpuSpin"}
	}
	var out []Variant
	for _, p := range t.Constraints.Filter(topology.Presets()) {
		for _, prof := range profiles {
			name := ProfileName(prof)
			v := Variant{
				Test: t, Preset: p.Name, Profile: name,
				CPUs: p.Topology.CPUs(), LLCs: p.Topology.LLCs(), SMT: p.Topology.Threads > 1,
			}
			v.Seconds = EstimatedSeconds(v.CPUs, d)
			smt := "nosmt"
			if v.SMT {
				smt = "smt"
			}
			v.Features = []string{CPUBucket(v.CPUs), fmt.Sprintf("llcs=%d", v.LLCs), smt, "profile=" + name, "sched=" + sched}
			for _, w := range works {
				v.Features = append(v.Features, "work="+w)
			}
			out = append(out, v)
		}
	}
	return out, nil
}
