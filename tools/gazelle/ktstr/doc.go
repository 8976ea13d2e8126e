// Package ktstr is a gazelle language extension that generates a
// ktstr_go_test rule for each ktstr test of a Go package, so that the Go
// source stays the one place a test is declared.
//
// A ktstr test is a top-level func TestXxx(t *testing.T) of a _test.go file
// whose body calls ktstr.Run(t, spec) or ktstr.RunProfiles(t, spec) (the
// package github.com/ktstr-go/ktstr, under any local name), where spec is a
// ktstr.Spec composite literal, or a variable assigned one earlier in the
// function (or at package level). The files are parsed, not type-checked:
// the extension reads the fields that are constants (literals, operators,
// and the package's own constants) and warns, naming file:line and the
// field, about the others, which keep the macro's defaults:
//
//   - Sockets, Cores, Threads, MemoryMB, MinSockets, MinLLCs, MinCPUs,
//     RequiresSMT, DurationS: sockets, cores, threads, memory_mb,
//     min_sockets, min_llcs, min_cpus, requires_smt, duration_s (when not
//     zero);
//   - RequiredFlags, ExcludedFlags ([]string literals): required_flags,
//     excluded_flags;
//   - the Work of each element of Cgroups (ktstr.Bursty, ...; default
//     CpuSpin): work_types, sorted and unique;
//   - Scheduler, &Var or &pkg.Var of the directory's package (an external
//     test's package under test), or an inline &ktstr.Scheduler{...}: the
//     var must be a package-level ktstr.Scheduler literal of the
//     directory. It becomes a ktstr_scheduler rule of the package, one
//     per scheduler, named <Name>_scheduler and placed above the tests
//     (they read it while loading): Name, Flags (names in declaration
//     order, and their Requires) and Sockets/Cores/Threads become
//     scheduler_name, flags, requires and sockets/cores/threads; its
//     profiles (every valid subset of the flags) are computed here, by
//     internal/gauntlet, the Go model; its GoPackage becomes binary, the
//     go_binary of that package (found through gazelle's rule index and
//     resolve directives, else the prefix), and its Bazel field (a
//     label) becomes binary as it is. A host Path cannot be packaged by
//     Bazel: the ktstr_scheduler gets no binary, with a warning. A
//     scheduler of another package is not supported (warning, no
//     scheduler); &ktstr.EEVDF is no scheduler. The test gets scheduler =
//     ":<Name>_scheduler", its effective topology (its own, else the
//     scheduler's), and, when it narrows the flags (RequiredFlags,
//     ExcludedFlags), its own profiles; a flag error is reported with
//     file:line, and loading then fails naming the target.
//
// Each ktstr_go_test is named after its test function and also has go_test (the
// go_test the Go extension generates for the file, so the Go extension
// must run first) and test.
//
// Merging: the generated attributes (and kernel) are mergeable, so a rerun
// replaces or deletes them from the Go source, unless an attribute is
// marked "# keep"; all other attributes (tags, size, timeout, gauntlet,
// budget_s, ...) belong to the user. A rule whose test function is gone is
// deleted (unless marked "# keep"). Rules match by name, then by their
// test attribute, so a renamed target keeps its name.
//
// Directives:
//
//	# gazelle:ktstr enabled|disabled
//	    generate (and delete) ktstr_go_test rules in this directory and
//	    below (default enabled); disabled leaves existing rules alone.
//	# gazelle:ktstr_rules_bzl <label>
//	    the .bzl to load ktstr_go_test from (default
//	    @ktstr//rules:defs.bzl, with the apparent name MODULE.bazel gives
//	    the ktstr module). It works as a map_kind of the kind onto itself.
//	# gazelle:ktstr_kernel <label>
//	    the kernel attribute of every generated rule (default: unset, the
//	    macro's default).
//
// The extension also reads the Go extension's prefix and
// go_naming_convention directives (and -go_prefix flag), as a fallback for
// the labels it cannot find among the Go rules.
package ktstr
