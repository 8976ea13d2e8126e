package ktstr

import (
	"log"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/label"
	"github.com/bazelbuild/bazel-gazelle/language"
	"github.com/bazelbuild/bazel-gazelle/rule"
	bzl "github.com/bazelbuild/buildtools/build"

	"github.com/ktstr-go/ktstr/internal/gauntlet"
	"github.com/ktstr-go/ktstr/internal/testdecl"
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

	tests, warnings, complete := testdecl.AnalyzeDir(args.Dir, args.Rel, dirImportPath(args, cfg), args.RegularFiles)
	for _, w := range warnings {
		log.Print(w)
	}

	// The package's schedulers first: a test reads its ktstr_scheduler
	// while loading, so the scheduler must come before it in the file.
	scheds := schedulersOf(tests)
	genScheds := map[string]bool{}
	for _, sd := range scheds {
		r, imp := l.schedRule(cfg, sd)
		genScheds[sd.target] = true
		placeBeforeTests(args.Config, args.File, sd.target)
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
	generated := map[string]bool{}
	for _, t := range tests {
		r := l.testRule(args, cfg, t, scheds)
		generated[t.Name] = true
		res.Gen = append(res.Gen, r)
		res.Imports = append(res.Imports, nil)
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
	if args.File != nil {
		for _, r := range args.File.Rules {
			if r.Kind() == schedKind && !genScheds[r.Name()] {
				res.Empty = append(res.Empty, rule.NewRule(schedKind, r.Name()))
			}
		}
	}
	return res
}

// schedUse is one ktstr_scheduler of a package: a scheduler declaration
// and the target name its tests refer to.
type schedUse struct {
	decl   *testdecl.Sched
	target string
	// where names a test using it, for messages.
	where string
}

// schedulersOf are the distinct named schedulers of tests, in the order
// first used. Two declarations with the same name but different facts
// get targets named after their Go variables too.
func schedulersOf(tests []*testdecl.Test) []*schedUse {
	var out []*schedUse
	byTarget := map[string]*schedUse{}
	for _, t := range tests {
		s := t.Sched
		if s == nil || s.Name == "" {
			continue
		}
		name := schedTargetName(s.Name)
		if u, ok := byTarget[name]; ok {
			if sameSched(u.decl, s) {
				continue
			}
			name = schedTargetName(s.Name + "_" + s.Ref)
			if _, ok := byTarget[name]; ok {
				continue
			}
		}
		u := &schedUse{decl: s, target: name, where: t.Pos() + ": " + t.Name}
		byTarget[name] = u
		out = append(out, u)
	}
	return out
}

// schedOf is the ktstr_scheduler target of a test's scheduler.
func schedOf(scheds []*schedUse, s *testdecl.Sched) string {
	for _, u := range scheds {
		if sameSched(u.decl, s) {
			return u.target
		}
	}
	return ""
}

func sameSched(a, b *testdecl.Sched) bool {
	return a.Name == b.Name && a.GoPackage == b.GoPackage && a.Path == b.Path && a.Bazel == b.Bazel &&
		slices.Equal(a.Flags, b.Flags) && maps.EqualFunc(a.Requires, b.Requires, slices.Equal[[]string]) && maps.Equal(a.Ints, b.Ints)
}

// schedTargetName is the target name of scheduler name: "<name>_scheduler",
// with characters a target name should not have replaced by "_".
func schedTargetName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b[i] = '_'
		}
	}
	return string(b) + "_scheduler"
}

// placeBeforeTests makes room for a new ktstr_scheduler in an existing
// file above its first ktstr_go_test: gazelle appends new rules at the
// end, after the tests that read it while loading. The merge then fills
// the placeholder in.
func placeBeforeTests(c *config.Config, f *rule.File, name string) {
	if f == nil {
		return
	}
	for _, r := range f.Rules {
		if r.Name() == name && r.Kind() == schedKind {
			return
		}
	}
	first := -1
	for _, r := range existingRules(c, f) {
		if first < 0 || r.Index() < first {
			first = r.Index()
		}
	}
	if first < 0 {
		return
	}
	r := rule.NewRule(schedKind, name)
	r.InsertAt(f, first)
}

// schedRule builds the ktstr_scheduler of a scheduler: its name, binary
// (a label now, or a GoPackage for Resolve), flags, requirements, default
// topology, and its profiles, computed here.
func (l *ktstrLang) schedRule(cfg *ktstrConfig, u *schedUse) (*rule.Rule, *schedImport) {
	s := u.decl
	r := rule.NewRule(schedKind, u.target)
	r.SetAttr("scheduler_name", s.Name)
	if len(s.Flags) > 0 {
		r.SetAttr("flags", exactList(s.Flags))
	}
	if len(s.Requires) > 0 {
		r.SetAttr("requires", exactDict(s.Requires))
	}
	if s.Flags != nil {
		if ps, err := gauntlet.Profiles(s.Name, s.Flags, s.Requires, nil, nil); err != nil {
			log.Printf("%s: scheduler %s: %v", u.where, s.Name, err)
		} else if len(s.Flags) > 0 {
			r.SetAttr("profiles", exactList(profileNames(ps)))
		}
	}
	for _, attr := range []string{"sockets", "cores", "threads"} {
		if v, ok := schedInt(s, attr); ok {
			r.SetAttr(attr, int(v))
		}
	}
	// A label in the Bazel field is the binary; a host Path (reported by
	// the analysis) gives none; a GoPackage is resolved to its go_binary.
	switch {
	case s.Bazel != "":
		r.SetAttr("binary", s.Bazel)
	case s.GoPackage != "" && s.Path == "":
		return r, &schedImport{goPackage: s.GoPackage, where: u.where}
	}
	return r, nil
}

func profileNames(ps [][]string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = gauntlet.ProfileName(p)
	}
	return out
}

// testRule builds the rule of one test: its own facts resolved against
// its scheduler's (the effective topology; its profiles, computed here
// when it narrows the scheduler's flags), and a reference to the
// package's ktstr_scheduler of that scheduler.
func (l *ktstrLang) testRule(args language.GenerateArgs, cfg *ktstrConfig, t *testdecl.Test, scheds []*schedUse) *rule.Rule {
	r := rule.NewRule(ruleKind, t.Name)
	r.SetAttr("go_test", ":"+goTestName(args, cfg, t))
	r.SetAttr("test", t.Name)
	if cfg.kernel != "" {
		r.SetAttr("kernel", cfg.kernel)
	}
	s := t.Sched
	for _, attr := range testdecl.SpecIntAttrs() {
		if v, ok := effectiveInt(t, attr); ok {
			r.SetAttr(attr, int(v))
		}
	}
	if t.RequiresSMT {
		r.SetAttr("requires_smt", true)
	}
	if t.PerformanceMode {
		r.SetAttr("performance_mode", true)
	}
	if len(t.RequiredFlags) > 0 {
		r.SetAttr("required_flags", exactList(t.RequiredFlags))
	}
	if len(t.ExcludedFlags) > 0 {
		r.SetAttr("excluded_flags", exactList(t.ExcludedFlags))
	}
	if t.WorkTypes != nil {
		r.SetAttr("work_types", exactList(t.WorkTypes))
	}
	// A bad spec is reported here with its file:line; loading then fails
	// with the same message, naming the target.
	for _, msg := range gauntlet.ValidateAttrs(declAttrs(t)) {
		log.Printf("%s: %s: %s", t.Pos(), t.Name, msg)
	}
	if s == nil || s.Name == "" {
		return r
	}
	r.SetAttr("scheduler", ":"+schedOf(scheds, s))
	if (len(t.RequiredFlags) > 0 || len(t.ExcludedFlags) > 0) && s.Flags != nil {
		ps, err := gauntlet.Profiles(s.Name, s.Flags, s.Requires, t.RequiredFlags, t.ExcludedFlags)
		if err != nil {
			// Loading then fails with the same complaint, naming the target.
			log.Printf("%s: %s: %v", t.Pos(), t.Name, err)
		} else {
			r.SetAttr("profiles", exactList(profileNames(ps)))
		}
	}
	return r
}

// declAttrs are a test's attributes as the Bazel rule gets them.
func declAttrs(t *testdecl.Test) gauntlet.Attrs {
	get := func(attr string) int {
		v, _ := effectiveInt(t, attr)
		return int(v)
	}
	return gauntlet.Attrs{
		Sockets: get("sockets"), Cores: get("cores"), Threads: get("threads"), MemoryMB: get("memory_mb"),
		MinSockets: get("min_sockets"), MinLLCs: get("min_llcs"), MinCPUs: get("min_cpus"),
		RequiresSMT: t.RequiresSMT, DurationS: get("duration_s"),
	}
}

// effectiveInt is an integer attribute of a test: its own, else (for the
// topology) its scheduler's.
func effectiveInt(t *testdecl.Test, attr string) (int64, bool) {
	if v, ok := t.Ints[attr]; ok {
		return v, true
	}
	return schedInt(t.Sched, attr)
}

// schedInt is the scheduler's default for a topology attribute.
func schedInt(s *testdecl.Sched, attr string) (int64, bool) {
	if s == nil {
		return 0, false
	}
	switch attr {
	case "sockets", "cores", "threads":
		v, ok := s.Ints["scheduler_"+attr]
		return v, ok
	}
	return 0, false
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
func goTestName(args language.GenerateArgs, cfg *ktstrConfig, t *testdecl.Test) string {
	find := func(rules []*rule.Rule) string {
		var tests []*rule.Rule
		for _, r := range rules {
			if r.Kind() != "go_test" {
				continue
			}
			if exprHasString(r.Attr("srcs"), path.Base(t.File)) {
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
	log.Printf("%s: %s: no go_test with this file; assuming go_test %q", t.File, t.Name, name)
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
