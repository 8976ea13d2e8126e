// Package testdecl reads ktstr test declarations out of Go source, without
// building it: for each test function that calls ktstr.Run with a constant
// ktstr.Spec (directly, or through a package-level variable), the
// topology, constraints, flag choices, work types and scheduler it
// declares, as far as they are constant.
//
// The gazelle extension (tools/gazelle/ktstr) writes Bazel targets from
// it, and `ktstr gauntlet` selects gauntlet variants from it, so that
// both see the same tests. It imports nothing but the standard library.
package testdecl
