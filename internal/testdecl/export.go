package testdecl

import (
	"fmt"
	"maps"
	"slices"
)

// Test is one ktstr test function's declaration.
type Test struct {
	// Name is the test function's name.
	Name string
	// File is the file's slash path from the repository root, and Line
	// the line of the function.
	File string
	Line int
	// Ints holds the integer attributes that are set (non-zero), by
	// their Bazel attribute name (sockets, cores, threads, memory_mb,
	// min_sockets, min_llcs, min_cpus, duration_s).
	Ints        map[string]int64
	RequiresSMT bool
	// PerformanceMode is the spec's PerformanceMode.
	PerformanceMode bool
	// RequiredFlags and ExcludedFlags are nil when unset or unknown.
	RequiredFlags, ExcludedFlags []string
	// WorkTypes is sorted and unique; nil when unknown.
	WorkTypes []string
	// Sched is the scheduler; nil for EEVDF (or unknown).
	Sched *Sched
}

// Sched is a scheduler declaration.
type Sched struct {
	// Ref is how tests name it ("KtstrSched"), for messages.
	Ref       string
	Name      string
	GoPackage string
	Path      string
	// Bazel is the binary's label (the Bazel field).
	Bazel   string
	Builtin bool
	// Flags are the flag names in declaration order; Requires holds the
	// non-empty requirements. Both are nil when unknown.
	Flags    []string
	Requires map[string][]string
	// FlagArgs are each flag's command-line arguments, when they are
	// constant.
	FlagArgs map[string][]string
	// Ints holds scheduler_sockets, scheduler_cores and
	// scheduler_threads when set.
	Ints map[string]int64
}

// Pos is "file:line" of the test function.
func (t *Test) Pos() string { return fmt.Sprintf("%s:%d", t.File, t.Line) }

// SpecIntAttrs and SchedIntAttrs are the attribute names of Test.Ints and
// Sched.Ints, in the order the Bazel rule lists them.
func SpecIntAttrs() []string  { return attrs(specIntFields) }
func SchedIntAttrs() []string { return attrs(schedIntFields) }

func attrs(fs []struct{ field, attr string }) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.attr)
	}
	return out
}

// AnalyzeDir parses the .go files (base names) of directory dir, rel from
// the repository root, with import path importPath ("" if unknown). It
// returns the ktstr tests they declare, sorted by name; the warnings
// (file:line: message) met on the way; and whether every file could be
// parsed (else tests may be missing).
func AnalyzeDir(dir, rel, importPath string, files []string) ([]*Test, []string, bool) {
	decls, warnings, ok := analyzeDir(dir, rel, importPath, files)
	out := make([]*Test, 0, len(decls))
	for _, d := range decls {
		out = append(out, d.export())
	}
	return out, warnings, ok
}

func (d *testDecl) export() *Test {
	t := &Test{
		Name: d.name, Line: d.line, Ints: maps.Clone(d.ints), RequiresSMT: d.requiresSMT,
		PerformanceMode: d.performanceMode,
		RequiredFlags:   slices.Clone(d.requiredFlags), ExcludedFlags: slices.Clone(d.excludedFlags),
		WorkTypes: slices.Clone(d.workTypes),
	}
	if d.file != nil {
		t.File = d.file.rel
	}
	if s := d.sched; s != nil {
		t.Sched = &Sched{
			Ref: s.ref, Name: s.name, GoPackage: s.goPackage, Path: s.path, Bazel: s.bazel, Builtin: s.builtin,
			Flags: slices.Clone(s.flags), Requires: maps.Clone(s.requires), FlagArgs: maps.Clone(s.flagArgs), Ints: maps.Clone(s.ints),
		}
	}
	return t
}
