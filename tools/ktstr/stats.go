package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"sort"
	"time"

	"github.com/ktstr-go/ktstr/verify/results"
)

func (a *app) stats(args []string) int {
	return a.dispatch("ktstr stats", []command{
		{name: "compare", args: "[--rel F] [--limit METRIC=REL[,ABS]]... [--changed] A B", summary: "compare two sets of results metric by metric; fail on regressions", run: (*app).statsCompare},
		{name: "show", args: "[--json] RESULTS...", summary: "print the metrics of result files", run: (*app).statsShow},
		{name: "baseline", args: "save|check --file F RESULTS...", summary: "keep a baseline of results, and check later runs against it", run: (*app).statsBaseline},
		{name: "metrics", args: "", summary: "list the metrics and their default regression limits", run: (*app).statsMetrics},
	}, args)
}

// limitFlags collects --limit METRIC=REL[,ABS] values.
type limitFlags map[string]results.Limit

func (l limitFlags) String() string { return "" }
func (l limitFlags) Set(s string) error {
	name, lim, err := results.ParseLimit(s)
	if err != nil {
		return err
	}
	l[name] = lim
	return nil
}

// compareFlags are the options shared by compare and baseline check.
func compareFlags(fs *flag.FlagSet) (*float64, limitFlags, *bool) {
	rel := fs.Float64("rel", 0, "relative regression limit for every metric (0.1 = 10%), replacing the per-metric defaults")
	lim := limitFlags{}
	fs.Var(lim, "limit", "a metric's limits, METRIC=REL[,ABS] (REL as 0.1 or 10%); repeatable")
	changed := fs.Bool("changed", false, "print only the metrics that got worse")
	return rel, lim, changed
}

// parseArgs parses flags that may come before and between positional
// arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, bool, int) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, false, 0
			}
			return nil, false, 2
		}
		if fs.NArg() == 0 {
			return pos, true, 0
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func (a *app) statsCompare(args []string) int {
	fs := a.newFlags("ktstr stats compare", "[--rel F] [--limit METRIC=REL[,ABS]]... [--changed] A B\n\nA and B are result.json files or folders of them (a KTSTR_OUTPUT_DIR, or Bazel's bazel-testlogs, whose outputs.zip files are read). B is judged against A: a metric regresses when it got worse by more than both its relative and its absolute limit. Exit status 1 on a regression.")
	rel, lim, changed := compareFlags(fs)
	pos, ok, code := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		fmt.Fprintf(a.stderr, "ktstr stats compare: want two result sets, A and B (got %d arguments)\n", len(pos))
		fs.Usage()
		return 2
	}
	ra, err := results.Load(pos[0])
	if err != nil {
		fmt.Fprintf(a.stderr, "ktstr stats compare: A: %v\n", err)
		return 1
	}
	rb, err := results.Load(pos[1])
	if err != nil {
		fmt.Fprintf(a.stderr, "ktstr stats compare: B: %v\n", err)
		return 1
	}
	return a.reportComparison(results.Compare(ra, rb, results.Options{Rel: *rel, Limits: lim}), *changed)
}

func (a *app) reportComparison(c results.Comparison, changed bool) int {
	c.Write(a.stdout, changed)
	if len(c.Rows) == 0 {
		fmt.Fprintln(a.stderr, "ktstr stats: no test is in both sets: nothing was compared")
		return 1
	}
	if len(c.Regressions()) > 0 {
		return 1
	}
	return 0
}

func (a *app) statsShow(args []string) int {
	fs := a.newFlags("ktstr stats show", "[--json] RESULTS...")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, ok, code := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		fmt.Fprintln(a.stderr, "ktstr stats show: no result files given")
		return 2
	}
	files, err := results.Load(pos...)
	if err != nil {
		fmt.Fprintf(a.stderr, "ktstr stats show: %v\n", err)
		return 1
	}
	if *asJSON {
		b, _ := json.MarshalIndent(files, "", "  ")
		fmt.Fprintln(a.stdout, string(b))
		return 0
	}
	for _, f := range files {
		status := "passed"
		if f.Failure != "" {
			status = "failed"
		}
		fmt.Fprintf(a.stdout, "%s (%s; %s on %s, %s, profile %s, %s)\n", f.Test, status, f.Scheduler, f.Topology, f.Accel, f.Profile, f.Path)
		names := make([]string, 0, len(f.Metrics))
		for n := range f.Metrics {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(a.stdout, "  %-36s %g %s\n", n, f.Metrics[n], results.SpecOf(n).Unit)
		}
	}
	return 0
}

func (a *app) statsBaseline(args []string) int {
	if len(args) == 0 || (args[0] != "save" && args[0] != "check") {
		fmt.Fprintln(a.stderr, "usage: ktstr stats baseline save|check --file F RESULTS...")
		return 2
	}
	mode := args[0]
	fs := a.newFlags("ktstr stats baseline "+mode, "--file F RESULTS...")
	file := fs.String("file", "ktstr-baseline.json", "the baseline file")
	var rel *float64
	var lim limitFlags
	var changed *bool
	if mode == "check" {
		rel, lim, changed = compareFlags(fs)
	}
	pos, ok, code := parseArgs(fs, args[1:])
	if !ok {
		return code
	}
	if len(pos) == 0 {
		fmt.Fprintf(a.stderr, "ktstr stats baseline %s: no result files given\n", mode)
		return 2
	}
	files, err := results.Load(pos...)
	if err != nil {
		fmt.Fprintf(a.stderr, "ktstr stats baseline %s: %v\n", mode, err)
		return 1
	}
	if mode == "save" {
		if err := results.SaveBaseline(*file, files, time.Now()); err != nil {
			fmt.Fprintf(a.stderr, "ktstr stats baseline save: %v\n", err)
			return 1
		}
		fmt.Fprintf(a.stdout, "saved %d runs to %s\n", len(files), *file)
		return 0
	}
	bl, err := results.LoadBaseline(*file)
	if err != nil {
		fmt.Fprintf(a.stderr, "ktstr stats baseline check: %v\n", err)
		return 1
	}
	fmt.Fprintf(a.stdout, "against the baseline %s (saved %s, %d runs)\n", *file, bl.SavedAt.Format(time.RFC3339), len(bl.Runs))
	return a.reportComparison(results.Compare(bl.Runs, files, results.Options{Rel: *rel, Limits: lim}), *changed)
}

func (a *app) statsMetrics(args []string) int {
	if len(args) > 0 {
		fmt.Fprintln(a.stderr, "usage: ktstr stats metrics")
		return 2
	}
	for _, s := range results.Specs() {
		fmt.Fprintf(a.stdout, "%-30s %-12s %-7s rel %-6s abs %-6g %s\n", s.Name, s.Unit, s.Better, fmt.Sprintf("%g%%", 100*s.Rel), s.Abs, s.Doc)
	}
	return 0
}
