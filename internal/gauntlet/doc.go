// Package gauntlet is the Go side of the gauntlet's model, light enough
// for the gazelle extension: flag profiles (every subset of a scheduler's
// optional flags that meets their requirements), the variants of a test
// (preset x profile, filtered by its constraints, with Bazel target
// names), their estimated cost and covered features, the greedy budget
// selection over any set of variants, and the checks of a test's
// topology, constraint and duration attributes (ValidateAttrs).
//
// The root package (Scheduler.Profiles, Spec.Validate), the gazelle
// extension (the profiles and spec errors it writes and reports), the
// `ktstr gauntlet` command and the generated budget test_suite
// (examples/budget) use it. The loading
// phase's Starlark (rules/private/profiles.bzl, gauntlet.bzl) keeps its
// own copy for hand-written BUILD files; testdata/vectors.json holds
// cases both test suites run (TestVectors here, and the Starlark test
// //rules:vectors_test through the generated rules/private/vectors.bzl).
package gauntlet
