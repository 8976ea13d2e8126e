package scenario

import "github.com/ktstr-go/ktstr/internal/docblock"

//go:generate go run ../../internal/gendocs -docs ../../docs/reference.md

// The scenario table of docs/reference.md lies between these markers.
const (
	DocsPath  = "docs/reference.md"
	DocsBegin = "<!-- scenarios:begin (go generate ./guest/scenario) -->"
	DocsEnd   = "<!-- scenarios:end -->"
)

// ReplaceDocs returns doc with the scenario table block replaced by
// [Markdown].
func ReplaceDocs(doc []byte) ([]byte, error) {
	return docblock.Replace(DocsPath, doc, DocsBegin, DocsEnd, Markdown())
}
