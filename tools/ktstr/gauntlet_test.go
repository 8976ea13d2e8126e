package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBudgetSuiteCurrent fails when examples/budget/BUILD.bazel no longer
// holds the selection `ktstr gauntlet --budget 10m` makes of the module's
// tests: the Bazel suite and the CLI must pick the same variants.
func TestBudgetSuiteCurrent(t *testing.T) {
	if os.Getenv("TEST_SRCDIR") != "" {
		// Under Bazel the test sees its runfiles, not the module's
		// sources; `go test ./tools/ktstr` (in tools/dev test) runs it.
		t.Skip("Bazel's sandbox holds no module sources: go test ./tools/ktstr checks the suite")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	sel, err := selectGauntlet(root, []string{root + "/..."}, BudgetSuiteBudget)
	if err != nil {
		t.Fatal(err)
	}
	want := budgetSuite(sel, BudgetSuiteBudget)
	got, err := os.ReadFile(filepath.Join(root, BudgetSuitePath))
	if err != nil {
		t.Fatalf("%v (write it with: go run ./tools/ktstr gauntlet --budget 10m --write-suite %s)", err, BudgetSuitePath)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run `go run ./tools/ktstr gauntlet --budget 10m --write-suite %s` and commit it", BudgetSuitePath, BudgetSuitePath)
	}
	if len(sel.Missed) > 0 {
		t.Errorf("the 10m budget leaves features uncovered: %v", sel.Missed)
	}
}

// TestGauntletCommand runs the command on a module of its own: the
// selection explains itself, stays within the budget, and a budget too
// small for anything picks nothing.
func TestGauntletCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.26\n")
	write("p/p_test.go", `package p

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

var sched = ktstr.Scheduler{Name: "s", GoPackage: "example.com/m/s", Flags: []ktstr.Flag{{Name: "a"}, {Name: "b", Requires: []string{"a"}}}}

func TestA(t *testing.T) { ktstr.Run(t, ktstr.Spec{Scheduler: &sched, MinLLCs: 2}) }
func TestB(t *testing.T) { ktstr.Run(t, ktstr.Spec{Sockets: 1, Cores: 2, Threads: 1, Work: ktstr.Mixed}) }

// TestC needs a host to itself: a budget leaves it out.
func TestC(t *testing.T) { ktstr.Run(t, ktstr.Spec{Cores: 1, PerformanceMode: true}) }
`)
	t.Chdir(dir)

	var out, errs bytes.Buffer
	if code := run([]string{"gauntlet", "--budget", "40s", "--json"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	var sel gauntletSelection
	if err := json.Unmarshal(out.Bytes(), &sel); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	// TestA: 3 profiles (default, a, a+b) on the 18 presets with >= 2 LLCs;
	// TestB: 1 profile on every preset.
	if sel.Tests != 2 || sel.Variants != 3*18+19 {
		t.Errorf("tests %d variants %d, want 2 and %d", sel.Tests, sel.Variants, 3*18+19)
	}
	if len(sel.Isolated) != 1 || !strings.HasSuffix(sel.Isolated[0], ": TestC") {
		t.Errorf("performance-mode tests left out: %q, want TestC", sel.Isolated)
	}
	if sel.Total > 40 || len(sel.Chosen) == 0 {
		t.Errorf("chosen %d variants for %ds, want some within 40s", len(sel.Chosen), sel.Total)
	}
	for _, p := range sel.Chosen {
		if len(p.New) == 0 {
			t.Errorf("%s was chosen but covers nothing new", p.Label)
		}
		if !strings.HasPrefix(p.Label, "//p:Test") {
			t.Errorf("label %q", p.Label)
		}
	}

	out.Reset()
	if code := run([]string{"gauntlet", "--budget", "40s"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	for _, want := range []string{"2 tests, 73 variants", "budget 40s:", "NEW FEATURES", "sched=s", "profile=a+b", "left out, performance mode (each variant needs a host to itself): p/p_test.go:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if code := run([]string{"gauntlet", "--budget", "1s", "--json"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	sel = gauntletSelection{}
	if err := json.Unmarshal(out.Bytes(), &sel); err != nil {
		t.Fatal(err)
	}
	if len(sel.Chosen) != 0 || len(sel.Missed) != len(sel.Features) {
		t.Errorf("a 1s budget chose %d variants and missed %d of %d features", len(sel.Chosen), len(sel.Missed), len(sel.Features))
	}

	errs.Reset()
	if code := run([]string{"gauntlet", "--write-suite", "x"}, &out, &errs); code != 2 || !strings.Contains(errs.String(), "needs --budget") {
		t.Errorf("--write-suite without --budget: exit %d, %q", code, errs.String())
	}
	errs.Reset()
	if code := run([]string{"gauntlet", "--run", "--match", "("}, &out, &errs); code != 2 || !strings.Contains(errs.String(), `--match "("`) {
		t.Errorf("--run with a bad --match: exit %d, %q", code, errs.String())
	}
	errs.Reset()
	if code := run([]string{"gauntlet", "--run", "--match", "NoSuchTest"}, &out, &errs); code != 1 || !strings.Contains(errs.String(), "no variant to run") {
		t.Errorf("--run matching nothing: exit %d, %q", code, errs.String())
	}
	errs.Reset()
	if code := run([]string{"gauntlet", "nowhere"}, &out, &errs); code != 1 || !strings.Contains(errs.String(), "nowhere: not a folder") {
		t.Errorf("a missing folder: exit %d, %q", code, errs.String())
	}
}
