package topology

import (
	"bytes"
	"fmt"
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
