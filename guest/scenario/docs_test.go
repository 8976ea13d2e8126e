package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/internal/docblock"
)

// TestDocsCurrent fails when the scenario table of docs/reference.md no
// longer matches the catalogue.
func TestDocsCurrent(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", DocsPath))
	if err != nil {
		t.Fatal(err)
	}
	if err := docblock.Check(DocsPath, doc, DocsBegin, DocsEnd, Markdown(), 14, "go generate ./guest/scenario"); err != nil {
		t.Error(err)
	}
}

// TestCannedBuild: every scenario builds valid steps, or says why not,
// on every preset small enough to matter.
func TestCannedBuild(t *testing.T) {
	if n := len(Scenarios()); n != 14 {
		t.Fatalf("%d canned scenarios, want 14", n)
	}
	for _, topoName := range []string{"1s1c1t", "1s2c1t", "2s2c1t", "3s3c1t", "2s2c2t"} {
		tp := topo(topoName)
		for _, c := range Scenarios() {
			steps, skip := c.Build(Env{Topo: tp, Duration: 2e9, WorkersPerCgroup: 2})
			if skip != "" {
				if steps != nil {
					t.Errorf("%s on %s: skipped (%s) with steps", c.Name, topoName, skip)
				}
				continue
			}
			if err := Validate(steps); err != nil {
				t.Errorf("%s on %s: %v", c.Name, topoName, err)
			}
			if err := CheckTopology(steps, tp); err != nil {
				t.Errorf("%s on %s: %v", c.Name, topoName, err)
			}
		}
	}
	if _, err := Lookup("steady_llc"); err != nil {
		t.Error(err)
	}
	if _, err := Lookup("stedy"); err == nil || !strings.Contains(err.Error(), "known: steady, steady_llc") {
		t.Errorf("Lookup(stedy) = %v, want an error listing the known ones", err)
	}
}
