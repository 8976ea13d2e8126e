package ktstr

import (
	"fmt"
	"log"
	"path"
	"strings"

	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/label"
	"github.com/bazelbuild/bazel-gazelle/language"
	"github.com/bazelbuild/bazel-gazelle/rule"
	bzl "github.com/bazelbuild/buildtools/build"
)

// schedImport is what Resolve needs of a rule: the Go package of its
// scheduler, to be resolved to the label of a go_binary.
type schedImport struct {
	goPackage string
	// where names the declaration, for messages.
	where string
}

// GenerateRules generates a ktstr_go_test rule for each ktstr test function
// of the directory, and empty rules for the existing ones whose function
// is gone.
func (l *ktstrLang) GenerateRules(args language.GenerateArgs) language.GenerateResult {
	var res language.GenerateResult
	cfg := getConfig(args.Config)
	if !cfg.enabled {
		return res
	}
	l.recordBinaries(args)

	existing := existingRules(args.Config, args.File)
	hasGo := false
	for _, f := range args.RegularFiles {
		hasGo = hasGo || strings.HasSuffix(f, ".go")
	}
	if !hasGo && len(existing) == 0 {
		return res
	}

	tests, warnings, complete := analyzeDir(args.Dir, args.Rel, dirImportPath(args, cfg), args.RegularFiles)
	for _, w := range warnings {
		log.Print(w)
	}

	generated := map[string]bool{}
	for _, t := range tests {
		r, imp := l.testRule(args, cfg, t)
		generated[t.name] = true
		res.Gen = append(res.Gen, r)
		if imp != nil {
			res.Imports = append(res.Imports, imp)
			if rel, ok := cfg.relOfImport(imp.goPackage); ok {
				res.RelsToIndex = append(res.RelsToIndex, rel)
			}
		} else {
			res.Imports = append(res.Imports, nil)
		}
	}
	// A rule is identified by its test attribute (the macro's default is
	// its name): one whose test is not generated is stale. Unless a file
	// could not be parsed: its tests are unknown.
	if !complete {
		return res
	}
	for _, r := range existing {
		test := r.AttrString("test")
		if test == "" {
			test = r.Name()
		}
		if !generated[test] {
			res.Empty = append(res.Empty, rule.NewRule(ruleKind, r.Name()))
		}
	}
	return res
}

// testRule builds the rule of one test.
func (l *ktstrLang) testRule(args language.GenerateArgs, cfg *ktstrConfig, t *testDecl) (*rule.Rule, *schedImport) {
	r := rule.NewRule(ruleKind, t.name)
	r.SetAttr("go_test", ":"+goTestName(args, cfg, t))
	r.SetAttr("test", t.name)
	if cfg.kernel != "" {
		r.SetAttr("kernel", cfg.kernel)
	}
	for _, f := range specIntFields {
		if v, ok := t.ints[f.attr]; ok {
			r.SetAttr(f.attr, int(v))
		}
	}
	if t.requiresSMT {
		r.SetAttr("requires_smt", true)
	}
	if len(t.requiredFlags) > 0 {
		r.SetAttr("required_flags", exactList(t.requiredFlags))
	}
	if len(t.excludedFlags) > 0 {
		r.SetAttr("excluded_flags", exactList(t.excludedFlags))
	}
	if t.workTypes != nil {
		r.SetAttr("work_types", exactList(t.workTypes))
	}
	s := t.sched
	if s == nil {
		return r, nil
	}
	if s.name != "" {
		r.SetAttr("scheduler_name", s.name)
	}
	if len(s.flags) > 0 {
		r.SetAttr("scheduler_flags", exactList(s.flags))
	}
	if len(s.requires) > 0 {
		r.SetAttr("scheduler_requires", exactDict(s.requires))
	}
	for _, f := range schedIntFields {
		if v, ok := s.ints[f.attr]; ok {
			r.SetAttr(f.attr, int(v))
		}
	}
	// A binary packed under another name than the scheduler's would not
	// be found: no name, no binary. A host Path was reported by the
	// analysis.
	if s.goPackage == "" || s.path != "" || s.name == "" {
		return r, nil
	}
	return r, &schedImport{goPackage: s.goPackage, where: fmt.Sprintf("%s:%d: %s", t.file.rel, t.line, t.name)}
}

// existingRules are the ktstr_go_test rules of f (under their mapped kind,
// if gazelle:map_kind renames it).
func existingRules(c *config.Config, f *rule.File) []*rule.Rule {
	if f == nil {
		return nil
	}
	kind := ruleKind
	if m, ok := c.KindMap[ruleKind]; ok {
		kind = m.KindName
	}
	var out []*rule.Rule
	for _, r := range f.Rules {
		if r.Kind() == kind || r.Kind() == ruleKind {
			out = append(out, r)
		}
	}
	return out
}

// goTestName is the name of the go_test whose srcs hold t's file: among
// the rules the Go extension generated for the directory, else in the
// existing build file, else the Go extension's naming convention.
func goTestName(args language.GenerateArgs, cfg *ktstrConfig, t *testDecl) string {
	find := func(rules []*rule.Rule) string {
		var tests []*rule.Rule
		for _, r := range rules {
			if r.Kind() != "go_test" {
				continue
			}
			if exprHasString(r.Attr("srcs"), t.file.name) {
				return r.Name()
			}
			tests = append(tests, r)
		}
		if len(tests) == 1 {
			return tests[0].Name()
		}
		return ""
	}
	if n := find(args.OtherGen); n != "" {
		return n
	}
	if args.File != nil {
		if n := find(args.File.Rules); n != "" {
			return n
		}
	}
	name := "go_default_test"
	if cfg.namingConvention != "go_default_library" {
		base := path.Base(args.Rel)
		if imp := dirImportPath(args, cfg); imp != "" {
			base = path.Base(imp)
		}
		if base == "." || base == "" {
			base = "lib"
		}
		name = strings.ReplaceAll(base, ".", "_") + "_test"
	}
	log.Printf("%s: %s: no go_test with this file; assuming go_test %q", t.file.rel, t.name, name)
	return name
}

// dirImportPath is the import path of the directory's Go package: that of
// its go_library, else by the prefix.
func dirImportPath(args language.GenerateArgs, cfg *ktstrConfig) string {
	rules := args.OtherGen
	if args.File != nil {
		rules = append(rules[:len(rules):len(rules)], args.File.Rules...)
	}
	for _, r := range rules {
		if r.Kind() == "go_library" {
			if imp := r.AttrString("importpath"); imp != "" {
				return imp
			}
		}
	}
	return cfg.importPath(args.Rel)
}

// exprHasString reports whether a string literal s appears in e (a list,
// or a concatenation of lists and selects).
func exprHasString(e bzl.Expr, s string) bool {
	found := false
	if e == nil {
		return false
	}
	bzl.Walk(e, func(x bzl.Expr, _ []bzl.Expr) {
		if str, ok := x.(*bzl.StringExpr); ok && str.Value == s {
			found = true
		}
	})
	return found
}

// recordBinaries remembers the go_binary rules of the directory (generated
// or existing), by the library they embed.
// An existing rule comes first: a generated rule merges into it and takes
// its name.
func (l *ktstrLang) recordBinaries(args language.GenerateArgs) {
	var rules []*rule.Rule
	if args.File != nil {
		rules = append(rules, args.File.Rules...)
	}
	rules = append(rules, args.OtherGen...)
	repo := args.Config.RepoName
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range rules {
		if r.Kind() != "go_binary" {
			continue
		}
		bin := label.New(repo, args.Rel, r.Name())
		for _, e := range r.AttrStrings("embed") {
			lib, err := label.Parse(e)
			if err != nil {
				continue
			}
			lib = absLabel(lib, repo, args.Rel)
			if _, ok := l.binaries[lib]; !ok {
				l.binaries[lib] = bin
			}
		}
	}
}

// absLabel makes l absolute, in the form of gazelle's rule index (the
// main repository named repo).
func absLabel(l label.Label, repo, pkg string) label.Label {
	l = l.Abs(repo, pkg)
	if l.Repo == "" || l.Repo == "@" {
		l.Repo = repo
	}
	l.Relative, l.Canonical = false, false
	return l
}
