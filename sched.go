package ktstr

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ktstr-go/ktstr/internal/gauntlet"
)

// Scheduler declares a scheduler under test. It is plain data: declare it
// as a package-level variable of constants, so tools can read it.
//
// How to get it: all of Path, GoPackage and Builtin empty means the
// kernel's default scheduler (EEVDF); Path is a binary on the host;
// GoPackage is a Go main package the harness builds static; Builtin runs
// commands in the guest to switch a kernel-builtin scheduler on and off.
type Scheduler struct {
	Name string
	// Ops is the name sched_ext reports in /sys/kernel/sched_ext/root/ops
	// while the scheduler runs ("" means Name).
	Ops       string
	Path      string
	GoPackage string
	Builtin   *Builtin
	// Bazel is the scheduler's binary as a Bazel label, which the
	// ktstr_go_test rule packs into the initramfs with its shared
	// libraries: any binary target or file, such as a cc_binary or the
	// kernel repository's "@ktstr_kernel//:scx_simple". Under go test,
	// Path (or GoPackage) is used; the gazelle extension turns Bazel into
	// the target's scheduler_binary.
	Bazel string

	// Flags are the scheduler's optional features; profiles are made of
	// them (see [Scheduler.Profiles]).
	Flags []Flag
	// SchedArgs are passed on every start, before the profile's flags.
	SchedArgs []string
	// WatchdogArg is a format with one %d, the sched_ext watchdog timeout
	// in milliseconds, for schedulers that take it as an argument
	// ("--timeout-ms=%d"); "" leaves the scheduler's own default.
	WatchdogArg string
	// Sysctls are applied in the guest before the scheduler starts.
	Sysctls []Sysctl
	// KernelArgs are added to the guest kernel's command line.
	KernelArgs []string
	// CgroupParent is a cgroup (relative to the cgroup2 root) init
	// creates and passes to the scheduler as --cgroup-parent.
	CgroupParent string
	// Verify holds the scheduler's overrides: the middle layer of the
	// merge chain, between the defaults and the test.
	Verify Verify
	// Default topology, inherited per dimension by tests that leave it
	// unset.
	Sockets, Cores, Threads int
}

// Flag is one optional feature of a scheduler.
type Flag struct {
	Name string
	// Args are the command-line arguments that turn it on.
	Args []string
	// Requires names flags that must be on with this one.
	Requires []string
}

// Sysctl is one /proc/sys setting ("kernel.sched_rt_runtime_us").
type Sysctl struct{ Key, Value string }

// Builtin switches a kernel-builtin scheduler: each command is an argv
// run in the guest.
type Builtin struct {
	Enable  [][]string
	Disable [][]string
}

// EEVDF is the kernel's default scheduler, the baseline.
var EEVDF = Scheduler{Name: "eevdf"}

// IsEEVDF reports whether s runs no scheduler of its own.
func (s *Scheduler) IsEEVDF() bool {
	return s == nil || (s.Path == "" && s.GoPackage == "" && s.Builtin == nil && s.Bazel == "")
}

func (s *Scheduler) name() string {
	if s == nil {
		return EEVDF.Name
	}
	return s.Name
}

// flag returns the named flag.
func (s *Scheduler) flag(name string) (Flag, bool) {
	if s == nil {
		return Flag{}, false
	}
	for _, f := range s.Flags {
		if f.Name == name {
			return f, true
		}
	}
	return Flag{}, false
}

func (s *Scheduler) flagNames() []string {
	if s == nil {
		return nil
	}
	names := make([]string, len(s.Flags))
	for i, f := range s.Flags {
		names[i] = f.Name
	}
	return names
}

// Validate checks the definition; the error names the scheduler and the
// bad attribute.
func (s *Scheduler) Validate() error {
	if s == nil {
		return nil
	}
	var errs []error
	bad := func(attr, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", attr, fmt.Sprintf(format, a...)))
	}
	if s.Name == "" || strings.ContainsAny(s.Name, " /+\t\n") {
		bad("name", "%q must be a non-empty word without spaces, '/' or '+'", s.Name)
	}
	n := 0
	for _, set := range []bool{s.Path != "", s.GoPackage != "", s.Builtin != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		bad("binary", "give only one of path, go_package and builtin")
	}
	if s.Builtin != nil {
		// A builtin scheduler is switched on by its Enable commands; there
		// is no command line to put flags or arguments on.
		for _, a := range []struct {
			attr string
			set  bool
		}{{"flags", len(s.Flags) > 0}, {"sched_args", len(s.SchedArgs) > 0}, {"watchdog_arg", s.WatchdogArg != ""}, {"cgroup_parent", s.CgroupParent != ""}} {
			if a.set {
				bad(a.attr, "a builtin scheduler takes no command line: put what %s would do in Builtin.Enable", a.attr)
			}
		}
	}
	seen := map[string]bool{}
	for i, f := range s.Flags {
		if f.Name == "" || strings.ContainsAny(f.Name, " /+\t\n") {
			bad(fmt.Sprintf("flags[%d].name", i), "%q must be a non-empty word without spaces, '/' or '+'", f.Name)
		}
		if seen[f.Name] {
			bad(fmt.Sprintf("flags[%d].name", i), "duplicate flag %q", f.Name)
		}
		seen[f.Name] = true
	}
	for _, f := range s.Flags {
		for _, r := range f.Requires {
			if r == f.Name {
				bad("flags."+f.Name+".requires", "a flag cannot require itself")
			} else if _, ok := s.flag(r); !ok {
				bad("flags."+f.Name+".requires", "unknown flag %q (flags: %s)", r, strings.Join(s.flagNames(), ", "))
			}
		}
	}
	if s.Bazel != "" && !strings.HasPrefix(s.Bazel, "//") && !strings.HasPrefix(s.Bazel, "@") && !strings.HasPrefix(s.Bazel, ":") {
		bad("bazel", "%q is not a Bazel label (//pkg:target, @repo//:target or :target)", s.Bazel)
	}
	if s.Bazel != "" && s.Builtin != nil {
		bad("bazel", "a builtin scheduler has no binary")
	}
	if s.WatchdogArg != "" && strings.Count(s.WatchdogArg, "%d") != 1 {
		bad("watchdog_arg", "%q must contain exactly one %%d (milliseconds)", s.WatchdogArg)
	}
	for i, sc := range s.Sysctls {
		if sc.Key == "" || strings.ContainsAny(sc.Key, "/ ") {
			bad(fmt.Sprintf("sysctls[%d]", i), "key %q must be dotted (kernel.foo), without '/' or spaces", sc.Key)
		}
	}
	if strings.HasPrefix(s.CgroupParent, "/") || strings.Contains(s.CgroupParent, "..") {
		bad("cgroup_parent", "%q must be relative to the cgroup2 root, without '..'", s.CgroupParent)
	}
	for _, d := range []struct {
		attr string
		v    int
	}{{"sockets", s.Sockets}, {"cores", s.Cores}, {"threads", s.Threads}} {
		if d.v < 0 {
			bad(d.attr, "must be >= 0 (0 means not set), got %d", d.v)
		}
	}
	if err := s.Verify.Validate(); err != nil {
		bad("verify", "%v", err)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("ktstr: scheduler %s: %w", s.Name, errors.Join(errs...))
}

// Profile is a set of enabled flags, sorted by name.
type Profile struct {
	Flags []string
}

// Name is "default" for no flags, else the flags joined with "+".
func (p Profile) Name() string {
	if len(p.Flags) == 0 {
		return "default"
	}
	return strings.Join(p.Flags, "+")
}

// Profiles returns the valid flag profiles: every subset of the optional
// flags, with the required flags always in and the excluded ones never,
// dropping sets in which a flag's requirement is missing. They are ordered
// by size, then name.
func (s *Scheduler) Profiles(required, excluded []string) ([]Profile, error) {
	var requires map[string][]string
	if s != nil {
		for _, f := range s.Flags {
			if len(f.Requires) > 0 {
				if requires == nil {
					requires = map[string][]string{}
				}
				requires[f.Name] = f.Requires
			}
		}
	}
	sets, err := gauntlet.Profiles(s.name(), s.flagNames(), requires, required, excluded)
	if err != nil {
		return nil, err
	}
	out := make([]Profile, len(sets))
	for i, set := range sets {
		out[i] = Profile{Flags: set}
	}
	return out, nil
}

// ProfileByName finds a profile among the valid ones.
func (s *Scheduler) ProfileByName(name string, required, excluded []string) (Profile, error) {
	ps, err := s.Profiles(required, excluded)
	if err != nil {
		return Profile{}, err
	}
	var names []string
	for _, p := range ps {
		if p.Name() == name {
			return p, nil
		}
		names = append(names, p.Name())
	}
	return Profile{}, fmt.Errorf("flag profile %q is not valid for scheduler %s here (valid: %s)", name, s.name(), strings.Join(names, ", "))
}

// Args are the scheduler's command line for a profile: sched_args, then
// the profile's flags in declaration order, then the watchdog argument
// and the test's extra arguments.
func (s *Scheduler) Args(p Profile, watchdogS int, extra []string) []string {
	if s == nil {
		return nil
	}
	args := slices.Clone(s.SchedArgs)
	for _, f := range s.Flags {
		if slices.Contains(p.Flags, f.Name) {
			args = append(args, f.Args...)
		}
	}
	if s.WatchdogArg != "" && watchdogS > 0 {
		args = append(args, fmt.Sprintf(s.WatchdogArg, watchdogS*1000))
	}
	if s.CgroupParent != "" {
		args = append(args, "--cgroup-parent", "/"+s.CgroupParent)
	}
	return append(args, extra...)
}
