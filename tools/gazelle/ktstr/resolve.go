package ktstr

import (
	"log"
	"path"

	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/label"
	"github.com/bazelbuild/bazel-gazelle/repo"
	"github.com/bazelbuild/bazel-gazelle/resolve"
	"github.com/bazelbuild/bazel-gazelle/rule"
)

// Resolve sets a ktstr_scheduler's binary: the go_binary of the
// scheduler's GoPackage.
func (l *ktstrLang) Resolve(c *config.Config, ix *resolve.RuleIndex, rc *repo.RemoteCache, r *rule.Rule, imports interface{}, from label.Label) {
	imp, ok := imports.(*schedImport)
	if !ok || imp == nil {
		return
	}
	bin, ok := l.binaryOf(c, ix, imp.goPackage)
	if !ok {
		log.Printf("%s: cannot resolve the scheduler's GoPackage %q to a Bazel package (add # gazelle:resolve go %s <label of its go_library>); its ktstr_scheduler gets no binary", imp.where, imp.goPackage, imp.goPackage)
		return
	}
	r.SetAttr("binary", bin.Rel(from.Repo, from.Pkg).String())
}

// binaryOf is the label of the go_binary of Go command package imp: the
// package's go_library is found as the Go extension finds it (resolve
// directives, then the rule index), else by the prefix; its binary is the
// go_binary that embeds it, else the one the Go extension would name.
func (l *ktstrLang) binaryOf(c *config.Config, ix *resolve.RuleIndex, imp string) (label.Label, bool) {
	spec := resolve.ImportSpec{Lang: "go", Imp: imp}
	var lib label.Label
	if lbl, ok := resolve.FindRuleWithOverride(c, spec, "go"); ok {
		lib = lbl
	} else if found := ix.FindRulesByImportWithConfig(c, spec, "go"); len(found) > 0 {
		if len(found) > 1 {
			log.Printf("GoPackage %s: %d go_library rules have this importpath; using %s", imp, len(found), found[0].Label)
		}
		lib = found[0].Label
	} else if rel, ok := getConfig(c).relOfImport(imp); ok {
		return label.New(c.RepoName, rel, binaryName(rel, imp)), true
	} else {
		return label.Label{}, false
	}
	lib = absLabel(lib, c.RepoName, "")
	l.mu.Lock()
	bin, ok := l.binaries[lib]
	l.mu.Unlock()
	if ok {
		return bin, true
	}
	return label.New(lib.Repo, lib.Pkg, binaryName(lib.Pkg, imp)), true
}

// binaryName is the Go extension's name for the go_binary of directory rel
// (import path imp): the directory's base name.
func binaryName(rel, imp string) string {
	if rel == "" {
		return path.Base(imp)
	}
	return path.Base(rel)
}
