// Package results is the comparable side of a ktstr result file: the flat
// metrics a run is summarised in (Metrics, written into result.json under
// "metrics"), reading result files from files, folders and Bazel's
// outputs.zip (Load), comparing two sets of runs metric by metric against
// absolute and relative thresholds (Compare), and keeping a baseline
// (SaveBaseline, CheckBaseline). The schema of result.json is documented
// in docs/results.md; SchemaVersion is its version.
package results
