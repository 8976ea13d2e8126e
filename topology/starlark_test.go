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
	path := filepath.Join("..", DocsPresetsPath)
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReplaceDocsPresets(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, want) {
		t.Fatalf("the preset table of %s is stale: run `go generate ./topology` and commit the result", DocsPresetsPath)
	}
	block := docblock.Block(doc, DocsPresetsBegin, DocsPresetsEnd)
	if n := strings.Count(block, "\n| `"); n != 19 {
		t.Errorf("%s lists %d presets, want 19", DocsPresetsPath, n)
	}
}
