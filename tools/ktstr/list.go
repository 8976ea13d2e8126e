package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/ktstr-go/ktstr/guest/scenario"
	"github.com/ktstr-go/ktstr/guest/workload"
	"github.com/ktstr-go/ktstr/topology"
)

// listing is what "ktstr list --json" prints.
type listing struct {
	Scenarios []listScenario `json:"scenarios"`
	WorkTypes []listWorkType `json:"work_types"`
	Presets   []listPreset   `json:"presets"`
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
	fs := a.newFlags("ktstr list", "[--json]")
	asJSON := fs.Bool("json", false, "print the listing as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	l := buildListing()
	if *asJSON {
		return a.writeJSON(l)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
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
