package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/ktstr-go/ktstr/guest/scenario"
	"github.com/ktstr-go/ktstr/guest/workload"
	"github.com/ktstr-go/ktstr/internal/gauntlet"
	"github.com/ktstr-go/ktstr/topology"
)

// listing is what "ktstr list --json" prints.
type listing struct {
	// Tests are the ktstr tests of the packages named on the command
	// line (none without).
	Tests     []listTest     `json:"tests,omitempty"`
	Scenarios []listScenario `json:"scenarios"`
	WorkTypes []listWorkType `json:"work_types"`
	Presets   []listPreset   `json:"presets"`
}

// listTest is one ktstr test as its declaration reads.
type listTest struct {
	Name      string `json:"name"`
	Pos       string `json:"pos"`
	Scheduler string `json:"scheduler"`
	// Profiles are the flag profiles it runs with; Variants its gauntlet
	// targets (presets x profiles).
	Profiles  []string `json:"profiles"`
	Variants  int      `json:"variants"`
	WorkTypes []string `json:"work_types,omitempty"`
}

type listScenario struct {
	Name      string   `json:"name"`
	Summary   string   `json:"summary"`
	WorkTypes []string `json:"work_types"`
}

type listWorkType struct {
	Name     string          `json:"name"`
	Defaults workload.Params `json:"defaults"`
	Blocking bool            `json:"blocking"`
	// GroupSize is how many workers work together (1: none), with the
	// default parameters.
	GroupSize int `json:"group_size"`
}

type listPreset struct {
	Name     string `json:"name"`
	Topology string `json:"topology"`
	CPUs     int    `json:"cpus"`
	LLCs     int    `json:"llcs"`
}

func buildListing() listing {
	var l listing
	for _, c := range scenario.Scenarios() {
		s := listScenario{Name: c.Name, Summary: c.Summary}
		for _, w := range c.WorkTypes {
			s.WorkTypes = append(s.WorkTypes, string(w))
		}
		l.Scenarios = append(l.Scenarios, s)
	}
	for _, w := range workload.WorkTypes() {
		d := workload.Params{}.WithDefaults(w)
		l.WorkTypes = append(l.WorkTypes, listWorkType{Name: string(w), Defaults: d, Blocking: w.Blocking(), GroupSize: workload.GroupSize(w, d)})
	}
	for _, p := range topology.Presets() {
		l.Presets = append(l.Presets, listPreset{Name: p.Name, Topology: p.Topology.String(), CPUs: p.Topology.CPUs(), LLCs: p.Topology.LLCs()})
	}
	return l
}

// list prints the canned scenarios, the work types and the gauntlet's
// topology presets.
func (a *app) list(args []string) int {
	fs := a.newFlags("ktstr list", "[--json] [DIR | DIR/...]...\n\nLists the canned scenarios, work types and topology presets, and, for each folder given, the ktstr tests of its package with their flag profiles and gauntlet variants.")
	asJSON := fs.Bool("json", false, "print the listing as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	l := buildListing()
	if fs.NArg() > 0 {
		tests, err := listTests(fs.Args())
		if err != nil {
			return a.fail(err)
		}
		l.Tests = tests
	}
	if *asJSON {
		return a.writeJSON(l)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	if len(l.Tests) > 0 {
		fmt.Fprintf(tw, "TEST\tSCHEDULER\tPROFILES\tVARIANTS\tWHERE\n")
		for _, t := range l.Tests {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", t.Name, t.Scheduler, strings.Join(t.Profiles, " "), t.Variants, t.Pos)
		}
		fmt.Fprintf(tw, "\n")
	}
	fmt.Fprintf(tw, "SCENARIO\tWORK TYPES\tWHAT IT DOES\n")
	for _, s := range l.Scenarios {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, strings.Join(s.WorkTypes, ","), s.Summary)
	}
	fmt.Fprintf(tw, "\nWORK TYPE\tBLOCKS\tGROUP\n")
	for _, w := range l.WorkTypes {
		fmt.Fprintf(tw, "%s\t%v\t%d\n", w.Name, w.Blocking, w.GroupSize)
	}
	fmt.Fprintf(tw, "\nPRESET\tTOPOLOGY\tCPUS\tLLCS\n")
	for _, p := range l.Presets {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", p.Name, p.Topology, p.CPUs, p.LLCs)
	}
	tw.Flush()
	return 0
}

// listTests reads the ktstr tests of the folders (as ktstr gauntlet does).
func listTests(patterns []string) ([]listTest, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	pkgs, err := readPackages(root, patterns)
	if err != nil {
		return nil, err
	}
	var out []listTest
	for _, pkg := range pkgs {
		rel, tests := pkg.rel, pkg.tests
		for _, t := range tests {
			g := gauntletTestOf(relOrEmpty(rel), t)
			lt := listTest{Name: t.Name, Pos: t.Pos(), Scheduler: g.Scheduler, WorkTypes: t.WorkTypes}
			ps, err := gauntlet.Profiles(g.Scheduler, g.Flags, g.Requires, g.RequiredFlags, g.ExcludedFlags)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.Pos(), err)
			}
			for _, p := range ps {
				lt.Profiles = append(lt.Profiles, gauntlet.ProfileName(p))
			}
			if vs, err := gauntlet.Variants(g); err == nil {
				lt.Variants = len(vs)
			}
			out = append(out, lt)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no ktstr tests (test functions calling ktstr.Run with a ktstr.Spec) in %s", strings.Join(patterns, " "))
	}
	return out, nil
}
