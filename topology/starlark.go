package topology

import (
	"bytes"
	"fmt"

	"github.com/ktstr-go/ktstr/internal/docblock"
)

// StarlarkPresetsPath is where the generated Starlark copy of the preset
// table lives, relative to the repository root.
const StarlarkPresetsPath = "rules/private/presets.bzl"

// Starlark renders the preset table as a Starlark file for the Bazel
// rules, so that Go and Starlark share one source of truth. Regenerate
// with `go generate ./topology`; a test fails when the file is stale.
func Starlark() []byte {
	var b bytes.Buffer
	b.WriteString(`"""The gauntlet's topology presets.

Generated from topology/presets.go by ` + "`go generate ./topology`" + `; DO NOT EDIT.
Each preset has one LLC and one NUMA node per socket.
"""

PRESETS = [
`)
	for _, p := range presetTable {
		fmt.Fprintf(&b, "    struct(name = %q, sockets = %d, cores = %d, threads = %d),\n", p.name, p.sockets, p.cores, p.threads)
	}
	b.WriteString("]\n")
	return b.Bytes()
}

// DocsPresetsPath is the document holding the Markdown copy of the preset
// table, between [DocsPresetsBegin] and [DocsPresetsEnd].
const (
	DocsPresetsPath  = "docs/reference.md"
	DocsPresetsBegin = "<!-- presets:begin (go generate ./topology) -->"
	DocsPresetsEnd   = "<!-- presets:end -->"
)

// Markdown renders the preset table for the docs.
func Markdown() []byte {
	var b bytes.Buffer
	b.WriteString("| Preset | Topology | CPUs | LLCs | NUMA nodes |\n|---|---|---|---|---|\n")
	for _, p := range Presets() {
		fmt.Fprintf(&b, "| `%s` | %s | %d | %d | %d |\n", p.Name, p.Topology, p.Topology.CPUs(), p.Topology.LLCs(), p.Topology.Sockets)
	}
	return b.Bytes()
}

// ReplaceDocsPresets returns doc with the text between the preset
// markers replaced by [Markdown].
func ReplaceDocsPresets(doc []byte) ([]byte, error) {
	return docblock.Replace(DocsPresetsPath, doc, DocsPresetsBegin, DocsPresetsEnd, Markdown())
}
