package workload

import (
	"bytes"
	"fmt"
)

//go:generate go run ./internal/gendocs -docs ../../docs/reference.md

// The work-type table of docs/reference.md lies between these markers.
const (
	DocsPath  = "docs/reference.md"
	DocsBegin = "<!-- worktypes:begin (go generate ./guest/workload) -->"
	DocsEnd   = "<!-- worktypes:end -->"
)

// ReplaceDocs returns doc with the work-type table block replaced by
// [Markdown]; an error when the markers are missing.
func ReplaceDocs(doc []byte) ([]byte, error) {
	i := bytes.Index(doc, []byte(DocsBegin))
	j := bytes.Index(doc, []byte(DocsEnd))
	if i < 0 || j < i {
		return nil, fmt.Errorf("%s: no %q ... %q block for the work-type table", DocsPath, DocsBegin, DocsEnd)
	}
	var b bytes.Buffer
	b.Write(doc[:i+len(DocsBegin)])
	b.WriteString("\n")
	b.Write(Markdown())
	b.Write(doc[j:])
	return b.Bytes(), nil
}
