package workload

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	block := strings.SplitN(strings.SplitN(string(doc), DocsBegin, 2)[1], DocsEnd, 2)[0]
	if n := strings.Count(block, "\n| `"); n != 12 {
		t.Errorf("%s lists %d work types, want 12", DocsPath, n)
	}
}
