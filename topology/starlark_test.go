package topology

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/internal/docblock"
)

// TestStarlarkPresetsCurrent fails when rules/private/presets.bzl no
// longer matches the Go table.
func TestStarlarkPresetsCurrent(t *testing.T) {
	path := filepath.Join("..", StarlarkPresetsPath)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with: go generate ./topology)", err)
	}
	if !bytes.Equal(got, Starlark()) {
		t.Fatalf("%s is stale: run `go generate ./topology` and commit the result", StarlarkPresetsPath)
	}
}

func TestStarlarkHasEveryPreset(t *testing.T) {
	s := string(Starlark())
	for _, p := range Presets() {
		want := `struct(name = "` + p.Name + `", sockets = `
		if !strings.Contains(s, want) {
			t.Errorf("Starlark output lacks %s", p.Name)
		}
	}
	if n := strings.Count(s, "struct(name"); n != 19 {
		t.Errorf("Starlark output has %d presets, want 19", n)
	}
}

// TestDocsPresetsCurrent fails when the preset table of docs/reference.md
// no longer matches the Go table.
func TestDocsPresetsCurrent(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", DocsPresetsPath))
	if err != nil {
		t.Fatal(err)
	}
	if err := docblock.Check(DocsPresetsPath, doc, DocsPresetsBegin, DocsPresetsEnd, Markdown(), 19, "go generate ./topology"); err != nil {
		t.Error(err)
	}
}
