package workload

import "github.com/ktstr-go/ktstr/internal/docblock"

//go:generate go run ../../internal/gendocs -docs ../../docs/reference.md

// The work-type table of docs/reference.md lies between these markers.
const (
	DocsPath  = "docs/reference.md"
	DocsBegin = "<!-- worktypes:begin (go generate ./guest/workload) -->"
	DocsEnd   = "<!-- worktypes:end -->"
)

// ReplaceDocs returns doc with the work-type table block replaced by
// [Markdown].
func ReplaceDocs(doc []byte) ([]byte, error) {
	return docblock.Replace(DocsPath, doc, DocsBegin, DocsEnd, Markdown())
}
