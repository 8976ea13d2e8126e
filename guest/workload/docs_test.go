package workload

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ktstr-go/ktstr/internal/docblock"
)

// TestDocsCurrent fails when the work-type table of docs/reference.md no
// longer matches the code.
func TestDocsCurrent(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", DocsPath))
	if err != nil {
		t.Fatal(err)
	}
	if err := docblock.Check(DocsPath, doc, DocsBegin, DocsEnd, Markdown(), 12, "go generate ./guest/workload"); err != nil {
		t.Error(err)
	}
}
