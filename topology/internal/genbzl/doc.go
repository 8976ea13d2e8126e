// Command genbzl writes rules/private/presets.bzl from the Go preset
// table (see topology.Starlark).
package main
