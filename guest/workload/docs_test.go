package workload

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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
	want, err := ReplaceDocs(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, want) {
		t.Fatalf("the work-type table of %s is stale: run `go generate ./guest/workload` and commit the result", DocsPath)
	}
	block := docblock.Block(doc, DocsBegin, DocsEnd)
	if n := strings.Count(block, "\n| `"); n != 12 {
		t.Errorf("%s lists %d work types, want 12", DocsPath, n)
	}
}
