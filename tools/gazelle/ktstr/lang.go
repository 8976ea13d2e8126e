package ktstr

import (
	"sync"

	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/label"
	"github.com/bazelbuild/bazel-gazelle/language"
	"github.com/bazelbuild/bazel-gazelle/resolve"
	"github.com/bazelbuild/bazel-gazelle/rule"
)

const (
	languageName = "ktstr"
	ruleKind     = "ktstr_go_test"
	schedKind    = "ktstr_scheduler"
	// moduleName is the Bazel module that provides rulesBzl.
	moduleName = "ktstr"
	rulesBzl   = "//rules:defs.bzl"
)

// Attributes of ktstr_go_test that the extension generates (and may
// therefore replace or delete). Everything else (tags, size, timeout,
// gauntlet, budget_s, ...) belongs to the user.
// The scheduler_* attributes are no longer generated (the test names a
// ktstr_scheduler instead); listed, they are removed from older files.
var generatedAttrs = []string{
	"go_test", "test", "kernel",
	"sockets", "cores", "threads", "memory_mb",
	"min_sockets", "min_llcs", "min_cpus", "requires_smt", "performance_mode",
	"required_flags", "excluded_flags", "duration_s", "work_types",
	"scheduler", "profiles",
	"scheduler_name", "scheduler_flags", "scheduler_requires",
	"scheduler_sockets", "scheduler_cores", "scheduler_threads",
}

// Attributes of ktstr_scheduler that the extension generates; binary is
// set when imports are resolved.
var generatedSchedAttrs = []string{"scheduler_name", "flags", "requires", "profiles", "sockets", "cores", "threads"}

// ktstrLang is the ktstr extension. One instance serves a gazelle run.
type ktstrLang struct {
	// flagPrefix is the Go extension's -go_prefix flag.
	flagPrefix string
	// load is the default .bzl of ktstr_go_test, set by ApparentLoads.
	load string

	mu sync.Mutex
	// binaries maps the go_library of a command to its go_binary, for the
	// packages visited in this run.
	binaries map[label.Label]label.Label
}

var (
	_ language.Language            = (*ktstrLang)(nil)
	_ language.ModuleAwareLanguage = (*ktstrLang)(nil)
)

// NewLanguage returns the ktstr extension, for gazelle_binary.
func NewLanguage() language.Language {
	return &ktstrLang{binaries: map[label.Label]label.Label{}}
}

// Name is "ktstr".
func (*ktstrLang) Name() string { return languageName }

// Kinds describes ktstr_go_test to gazelle's merger. Rules match by name,
// else by their test attribute (so a renamed target keeps its name).
// Generated attributes are mergeable: a rerun replaces them from the Go
// source (or deletes them) unless marked "# keep"; scheduler_binary is set
// when imports are resolved. go_test and test make a rule non-empty: a
// rule whose test function is gone loses them and is deleted.
func (*ktstrLang) Kinds() map[string]rule.KindInfo {
	mergeable := map[string]bool{}
	for _, a := range generatedAttrs {
		mergeable[a] = true
	}
	schedMergeable := map[string]bool{}
	for _, a := range generatedSchedAttrs {
		schedMergeable[a] = true
	}
	return map[string]rule.KindInfo{
		ruleKind: {
			MatchAttrs:      []string{"test"},
			NonEmptyAttrs:   map[string]bool{"go_test": true, "test": true},
			SubstituteAttrs: map[string]bool{"go_test": true},
			MergeableAttrs:  mergeable,
			// No longer set (the ktstr_scheduler has the binary): a
			// resolve attribute, so that older files lose it.
			ResolveAttrs: map[string]bool{"scheduler_binary": true},
		},
		schedKind: {
			NonEmptyAttrs:  map[string]bool{"scheduler_name": true},
			MergeableAttrs: schedMergeable,
			ResolveAttrs:   map[string]bool{"binary": true},
		},
	}
}

// defaultLoad is the .bzl ktstr_go_test is loaded from without a
// ktstr_rules_bzl directive.
func (l *ktstrLang) defaultLoad() string {
	if l.load == "" {
		return "@" + moduleName + rulesBzl
	}
	return l.load
}

// Loads is for gazelle versions without ApparentLoads.
func (l *ktstrLang) Loads() []rule.LoadInfo {
	return []rule.LoadInfo{{Name: l.defaultLoad(), Symbols: []string{ruleKind, schedKind}}}
}

// ApparentLoads loads ktstr_go_test from the ktstr module under the name
// the MODULE.bazel gives it (repo_name), "@ktstr" by default.
func (l *ktstrLang) ApparentLoads(moduleToApparentName func(string) string) []rule.LoadInfo {
	repo := moduleName
	if moduleToApparentName != nil {
		if r := moduleToApparentName(moduleName); r != "" {
			repo = r
		}
	}
	l.load = "@" + repo + rulesBzl
	return l.Loads()
}

// Fix has nothing to fix.
func (*ktstrLang) Fix(c *config.Config, f *rule.File) {}

// Imports returns nil: ktstr_go_test rules are not importable.
func (*ktstrLang) Imports(c *config.Config, r *rule.Rule, f *rule.File) []resolve.ImportSpec {
	return nil
}

// Embeds returns nil.
func (*ktstrLang) Embeds(r *rule.Rule, from label.Label) []label.Label { return nil }
