// Command genbzl writes rules/private/presets.bzl, and with -docs the
// preset table of docs/reference.md, from the Go preset table (see
// topology.Starlark and topology.Markdown).
package main
