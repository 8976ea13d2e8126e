package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	bzl "github.com/bazelbuild/buildtools/build"

	"github.com/ktstr-go/ktstr/internal/gauntlet"
	"github.com/ktstr-go/ktstr/internal/testdecl"
	"github.com/ktstr-go/ktstr/topology"
)

// BudgetSuitePath is the committed Bazel test_suite of the module's budget
// selection, BudgetSuiteBudget its budget; `ktstr gauntlet --budget 10m
// --write-suite examples/budget/BUILD.bazel` writes it, and a test fails
// when it is stale.
const (
	BudgetSuitePath   = "examples/budget/BUILD.bazel"
	BudgetSuiteBudget = 10 * time.Minute
	budgetSuiteName   = "ktstr_budget"
)

// gauntletTest is one test found in the sources, with its variants.
type gauntletTest struct {
	decl     *testdecl.Test
	variants []gauntlet.Variant
}

// gauntletSelection is what "ktstr gauntlet --json" prints.
type gauntletSelection struct {
	Tests    int            `json:"tests"`
	Variants int            `json:"variants"`
	Features []string       `json:"features"`
	BudgetS  int            `json:"budget_s,omitempty"`
	Chosen   []gauntletPick `json:"chosen"`
	Missed   []string       `json:"not_covered,omitempty"`
	Total    int            `json:"estimated_s"`
	Warnings []string       `json:"warnings,omitempty"`
	// Left lists the tests left out because Bazel has no gauntlet for
	// them (no ktstr_go_test rule, or gauntlet = False).
	Left []string `json:"left_out,omitempty"`
	// Isolated lists the performance-mode tests a budget leaves out:
	// their variants need a host to themselves, which a budget run on
	// shared runners does not give (they would skip).
	Isolated []string        `json:"performance_mode_left_out,omitempty"`
	tests    []*gauntletTest // for the text output
}

type gauntletPick struct {
	v        gauntlet.Variant
	Label    string   `json:"label"`
	GoName   string   `json:"go_name"`
	Seconds  int      `json:"estimated_s"`
	Features []string `json:"features"`
	New      []string `json:"new_features,omitempty"`
}

func (a *app) gauntlet(args []string) int {
	fs := a.newFlags("ktstr gauntlet", "[--budget DURATION] [--json] [--write-suite FILE] [--run [--out DIR] [--match RE]] [DIR | DIR/... ]...")
	budget := fs.Duration("budget", 0, "pick, greedily, the variants that cover the most configuration features per estimated second within this time (0: list every variant)")
	asJSON := fs.Bool("json", false, "print the selection as JSON")
	suite := fs.String("write-suite", "", "write the selection as a Bazel test_suite named "+budgetSuiteName+" into this BUILD file (needs --budget)")
	runIt := fs.Bool("run", false, "run the selected variants with go test, one VM at a time, and print each verdict, the throughput (variants per hour) and the peak memory per VM")
	outDir := fs.String("out", "", "with --run: keep every variant's outputs (result.json, console.log, test log) here (default: a temporary folder, kept)")
	match := fs.String("match", "", "with --run: only the variants whose label matches this regular expression")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *suite != "" && *budget <= 0 {
		fmt.Fprintln(a.stderr, "ktstr gauntlet: --write-suite needs --budget, for instance --budget 10m")
		return 2
	}
	if *budget < 0 {
		fmt.Fprintf(a.stderr, "ktstr gauntlet: --budget %v: must be positive\n", *budget)
		return 2
	}
	root, err := moduleRoot()
	if err != nil {
		return a.fail(err)
	}
	patterns := fs.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	sel, err := selectGauntlet(root, patterns, *budget)
	if err != nil {
		return a.fail(err)
	}
	for _, w := range sel.Warnings {
		fmt.Fprintf(a.stderr, "ktstr gauntlet: %s\n", w)
	}
	if *suite != "" {
		if err := os.WriteFile(*suite, budgetSuite(sel, *budget), 0o644); err != nil {
			return a.fail(fmt.Errorf("writing the suite: %w", err))
		}
	}
	if *runIt {
		return a.runGauntlet(root, sel, *outDir, *match)
	}
	if *asJSON {
		return a.writeJSON(sel)
	}
	printGauntlet(a, sel, *budget)
	return 0
}

// moduleRoot is the folder of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or above it: run ktstr gauntlet inside the Go module whose tests it should read", dir)
		}
	}
}

// modulePath reads the module line of root/go.mod.
func modulePath(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", fmt.Errorf("%s/go.mod has no module line", root)
}

// gauntletDirs resolves the patterns (a folder, or folder/... for it and
// every folder below) to folders relative to root, sorted.
func gauntletDirs(root string, patterns []string) ([]string, error) {
	seen := map[string]bool{}
	for _, p := range patterns {
		recursive := p == "..." || strings.HasSuffix(p, "/...")
		base := strings.TrimSuffix(strings.TrimSuffix(p, "..."), "/")
		if base == "" {
			base = "."
		}
		abs := base
		if !filepath.IsAbs(abs) {
			wd, err := os.Getwd()
			if err != nil {
				return nil, err
			}
			abs = filepath.Join(wd, base)
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, fmt.Errorf("%s is outside the module at %s", p, root)
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("%s: not a folder", p)
		}
		if !recursive {
			seen[filepath.ToSlash(rel)] = true
			continue
		}
		err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			name := d.Name()
			if path != abs && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || strings.HasPrefix(name, "bazel-")) {
				return filepath.SkipDir
			}
			r, _ := filepath.Rel(root, path)
			seen[filepath.ToSlash(r)] = true
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var out []string
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out, nil
}

// selectGauntlet reads the ktstr tests of the folders, expands their
// variants and, with a budget, selects among them.
func selectGauntlet(root string, patterns []string, budget time.Duration) (*gauntletSelection, error) {
	pkgs, err := readPackages(root, patterns)
	if err != nil {
		return nil, err
	}
	sel := &gauntletSelection{BudgetS: int(budget / time.Second)}
	bazel := isBazelModule(root)
	var all []gauntlet.Variant
	for _, pkg := range pkgs {
		rel, dir, tests := pkg.rel, pkg.dir, pkg.tests
		sel.Warnings = append(sel.Warnings, pkg.warnings...)
		if bazel {
			// Only what Bazel has targets for: the suite must name
			// existing labels, and the CLI must agree with it.
			rules, err := bazelGauntlets(dir)
			if err != nil {
				return nil, err
			}
			var kept []*testdecl.Test
			for _, t := range tests {
				if rules[t.Name] {
					kept = append(kept, t)
				} else {
					sel.Left = append(sel.Left, t.Pos()+": "+t.Name)
				}
			}
			tests = kept
		}
		for _, t := range tests {
			if budget > 0 && t.PerformanceMode {
				sel.Isolated = append(sel.Isolated, t.Pos()+": "+t.Name)
				continue
			}
			vs, err := gauntlet.Variants(gauntletTestOf(relOrEmpty(rel), t))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.Pos(), err)
			}
			sel.tests = append(sel.tests, &gauntletTest{decl: t, variants: vs})
			all = append(all, vs...)
		}
	}
	if len(sel.tests) == 0 {
		return nil, fmt.Errorf("no ktstr tests (test functions calling ktstr.Run with a ktstr.Spec) in %s", strings.Join(patterns, " "))
	}
	sel.Tests, sel.Variants, sel.Features = len(sel.tests), len(all), gauntlet.Features(all)
	var picks []gauntlet.Pick
	if budget > 0 {
		picks = gauntlet.Select(all, sel.BudgetS)
	} else {
		for _, v := range all {
			picks = append(picks, gauntlet.Pick{Variant: v})
		}
	}
	covered := map[string]bool{}
	for _, p := range picks {
		v := p.Variant
		sel.Chosen = append(sel.Chosen, gauntletPick{v: v, Label: v.Label(), GoName: v.GoName(), Seconds: v.Seconds, Features: v.Features, New: p.New})
		sel.Total += v.Seconds
		for _, f := range v.Features {
			covered[f] = true
		}
	}
	for _, f := range sel.Features {
		if !covered[f] {
			sel.Missed = append(sel.Missed, f)
		}
	}
	return sel, nil
}

// pkgTests are the ktstr tests declared in one package folder.
type pkgTests struct {
	rel, dir string
	tests    []*testdecl.Test
	warnings []string
}

// readPackages reads the ktstr tests of the folders the patterns name
// (a folder, or folder/... for it and those below) in the module at root.
func readPackages(root string, patterns []string) ([]pkgTests, error) {
	mod, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	dirs, err := gauntletDirs(root, patterns)
	if err != nil {
		return nil, err
	}
	var out []pkgTests
	for _, rel := range dirs {
		tests, warnings, err := analyzePackage(root, mod, rel)
		if err != nil {
			return nil, err
		}
		out = append(out, pkgTests{rel: rel, dir: filepath.Join(root, filepath.FromSlash(rel)), tests: tests, warnings: warnings})
	}
	return out, nil
}

// analyzePackage reads the ktstr test declarations of the package in
// folder rel (slash path from root) of module mod.
func analyzePackage(root, mod, rel string) ([]*testdecl.Test, []string, error) {
	dir := filepath.Join(root, filepath.FromSlash(rel))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") {
			files = append(files, e.Name())
		}
	}
	if len(files) == 0 {
		return nil, nil, nil
	}
	imp := mod
	if rel != "." {
		imp = mod + "/" + rel
	}
	tests, warnings, _ := testdecl.AnalyzeDir(dir, relOrEmpty(rel), imp, files)
	return tests, warnings, nil
}

// isBazelModule: the module is a Bazel workspace too, so the gauntlet is
// what its BUILD files declare.
func isBazelModule(root string) bool {
	for _, f := range []string{"MODULE.bazel", "WORKSPACE", "WORKSPACE.bazel"} {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			return true
		}
	}
	return false
}

// bazelGauntlets are the tests (by test function) of dir's BUILD file
// that have a ktstr_go_test rule whose gauntlet is not turned off.
func bazelGauntlets(dir string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, name := range []string{"BUILD.bazel", "BUILD"} {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		f, err := bzl.ParseBuild(path, data)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		for _, r := range f.Rules("ktstr_go_test") {
			if id, ok := r.Attr("gauntlet").(*bzl.Ident); ok && id.Name == "False" {
				continue
			}
			test := r.AttrString("test")
			if test == "" {
				test = r.Name()
			}
			out[test] = true
		}
		break
	}
	return out, nil
}

func relOrEmpty(rel string) string {
	if rel == "." {
		return ""
	}
	return rel
}

// gauntletTestOf is what the expansion needs of a declaration, resolved
// as the Bazel macro resolves the generated attributes.
func gauntletTestOf(pkg string, t *testdecl.Test) *gauntlet.Test {
	g := &gauntlet.Test{
		Pkg: pkg, Name: t.Name, Scheduler: "eevdf",
		RequiredFlags: t.RequiredFlags, ExcludedFlags: t.ExcludedFlags, WorkTypes: t.WorkTypes,
		DurationS: int(t.Ints["duration_s"]),
		Constraints: topology.Constraints{
			MinSockets: int(t.Ints["min_sockets"]), MinLLCs: int(t.Ints["min_llcs"]),
			MinCPUs: int(t.Ints["min_cpus"]), RequiresSMT: t.RequiresSMT,
		},
	}
	if s := t.Sched; s != nil && s.Name != "" {
		g.Scheduler, g.Flags, g.Requires = s.Name, s.Flags, s.Requires
	}
	return g
}

func printGauntlet(a *app, sel *gauntletSelection, budget time.Duration) {
	fmt.Fprintf(a.stdout, "%d tests, %d variants, %d features\n", sel.Tests, sel.Variants, len(sel.Features))
	if budget > 0 {
		fmt.Fprintf(a.stdout, "budget %v: %d variants, estimated %v under KVM, covering %d of %d features\n",
			budget, len(sel.Chosen), time.Duration(sel.Total)*time.Second, len(sel.Features)-len(sel.Missed), len(sel.Features))
	} else {
		fmt.Fprintf(a.stdout, "every variant, estimated %v under KVM in all\n", time.Duration(sel.Total)*time.Second)
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 8, 2, ' ', 0)
	if budget > 0 {
		fmt.Fprintln(tw, "EST\tVARIANT\tNEW FEATURES")
		for _, p := range sel.Chosen {
			fmt.Fprintf(tw, "%ds\t%s\t%s\n", p.Seconds, p.Label, strings.Join(p.New, " "))
		}
	} else {
		fmt.Fprintln(tw, "EST\tVARIANT\tFEATURES")
		for _, p := range sel.Chosen {
			fmt.Fprintf(tw, "%ds\t%s\t%s\n", p.Seconds, p.Label, strings.Join(p.Features, " "))
		}
	}
	tw.Flush()
	if len(sel.Missed) > 0 {
		fmt.Fprintf(a.stdout, "not covered within the budget: %s\n", strings.Join(sel.Missed, " "))
	}
	if len(sel.Left) > 0 {
		fmt.Fprintf(a.stdout, "left out, no Bazel gauntlet (no ktstr_go_test rule, or gauntlet = False): %s\n", strings.Join(sel.Left, ", "))
	}
	if len(sel.Isolated) > 0 {
		fmt.Fprintf(a.stdout, "left out, performance mode (each variant needs a host to itself): %s\n", strings.Join(sel.Isolated, ", "))
	}
}

// budgetSuite is the BUILD file of the selection: one test_suite, manual
// so that `bazel test //...` does not run it.
func budgetSuite(sel *gauntletSelection, budget time.Duration) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Generated by `go run ./tools/ktstr gauntlet --budget %v --write-suite %s`; do not edit.\n", budget, BudgetSuitePath)
	fmt.Fprintf(&b, "# The module's gauntlet variants that cover the most configuration features per\n")
	fmt.Fprintf(&b, "# estimated second within %v under KVM: %d of %d variants, %d of %d features.\n",
		budget, len(sel.Chosen), sel.Variants, len(sel.Features)-len(sel.Missed), len(sel.Features))
	fmt.Fprintf(&b, "# `ktstr gauntlet --budget %v` explains each pick. Run: bazel test //%s:%s\n\n",
		budget, filepath.ToSlash(filepath.Dir(BudgetSuitePath)), budgetSuiteName)
	fmt.Fprintf(&b, "test_suite(\n    name = %q,\n    tags = [\n        \"ktstr-suite\",\n        \"manual\",\n    ],\n    tests = [\n", budgetSuiteName)
	labels := make([]string, 0, len(sel.Chosen))
	for _, p := range sel.Chosen {
		labels = append(labels, p.Label)
	}
	// As buildifier sorts labels: by package, then name.
	sort.Slice(labels, func(i, j int) bool {
		pi, ni, _ := strings.Cut(labels[i], ":")
		pj, nj, _ := strings.Cut(labels[j], ":")
		if pi != pj {
			return pi < pj
		}
		return ni < nj
	})
	for _, l := range labels {
		fmt.Fprintf(&b, "        %q,\n", l)
	}
	b.WriteString("    ],\n)\n")
	return b.Bytes()
}
