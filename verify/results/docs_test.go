package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docsDir finds docs/ from the package directory (go test) or the
// runfiles (Bazel, which has docs:results.md as data).
func docsDir(t *testing.T) string {
	for _, d := range []string{"../../docs", filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), "docs")} {
		if _, err := os.Stat(filepath.Join(d, "results.md")); err == nil {
			return d
		}
	}
	t.Fatal("docs/results.md not found")
	return ""
}

// The documented example must be a result file of the current schema, and
// every metric the harness knows must be documented.
func TestDocumentedSchema(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(docsDir(t), "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	_, rest, ok := strings.Cut(doc, "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/results.md has no ```json example")
	}
	f, err := Parse([]byte(example), "docs/results.md")
	if err != nil {
		t.Fatal(err)
	}
	if f.SchemaVersion != SchemaVersion || !strings.Contains(doc, "Version: **"+string(rune('0'+SchemaVersion))+"**") {
		t.Errorf("docs/results.md documents schema %d; the code writes %d", f.SchemaVersion, SchemaVersion)
	}
	for _, s := range Specs() {
		if !strings.Contains(doc, "`"+s.Name+"`") {
			t.Errorf("metric %s is not documented in docs/results.md", s.Name)
		}
	}
	if len(f.Metrics) == 0 {
		t.Error("the example has no metrics")
	}
}
