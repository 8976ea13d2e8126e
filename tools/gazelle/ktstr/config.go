package ktstr

import (
	"flag"
	"log"
	"path"
	"strings"

	"github.com/bazelbuild/bazel-gazelle/config"
	"github.com/bazelbuild/bazel-gazelle/label"
	"github.com/bazelbuild/bazel-gazelle/rule"
)

// Directives of this extension.
const (
	// enableDirective is "# gazelle:ktstr enabled|disabled": whether the
	// extension generates (and deletes) ktstr_go_test rules in a directory
	// and below.
	enableDirective = "ktstr"
	// rulesBzlDirective is "# gazelle:ktstr_rules_bzl <label>": the .bzl
	// file ktstr_go_test is loaded from (empty: the default).
	rulesBzlDirective = "ktstr_rules_bzl"
	// kernelDirective is "# gazelle:ktstr_kernel <label>": the kernel
	// attribute of every generated rule (empty: the macro's default).
	kernelDirective = "ktstr_kernel"
)

// ktstrConfig is the configuration of one directory. Configure copies the
// parent's and applies the directory's directives; it is never modified
// once a subdirectory may share it.
type ktstrConfig struct {
	enabled bool
	// rulesBzl is the .bzl label ktstr_go_test is loaded from; "" is the
	// language's default load.
	rulesBzl string
	// kernel is the kernel attribute of generated rules ("": unset).
	kernel string

	// The Go extension's prefix and naming convention, read from the same
	// directives, for the few things the generated Go rules and the rule
	// index cannot answer.
	prefix, prefixRel string
	namingConvention  string
}

func getConfig(c *config.Config) *ktstrConfig {
	if cfg, ok := c.Exts[languageName].(*ktstrConfig); ok {
		return cfg
	}
	return &ktstrConfig{enabled: true}
}

// RegisterFlags registers no flags: the extension is configured by
// directives only.
func (*ktstrLang) RegisterFlags(fs *flag.FlagSet, cmd string, c *config.Config) {}

// CheckFlags records the Go extension's -go_prefix flag, if it has one, as
// the prefix of the repository root.
func (l *ktstrLang) CheckFlags(fs *flag.FlagSet, c *config.Config) error {
	if f := fs.Lookup("go_prefix"); f != nil {
		l.flagPrefix = f.Value.String()
	}
	return nil
}

// KnownDirectives lists the directives of this extension. It also reads the
// Go extension's "prefix" and "go_naming_convention", which that extension
// declares.
func (*ktstrLang) KnownDirectives() []string {
	return []string{enableDirective, rulesBzlDirective, kernelDirective}
}

// Configure applies the directives of the build file of directory rel.
func (l *ktstrLang) Configure(c *config.Config, rel string, f *rule.File) {
	var cfg ktstrConfig
	if parent, ok := c.Exts[languageName].(*ktstrConfig); ok {
		cfg = *parent
	} else {
		cfg = ktstrConfig{enabled: true, prefix: l.flagPrefix}
	}
	c.Exts[languageName] = &cfg
	if f == nil {
		return
	}
	for _, d := range f.Directives {
		value := strings.TrimSpace(d.Value)
		switch d.Key {
		case enableDirective:
			switch value {
			case "enabled", "true":
				cfg.enabled = true
			case "disabled", "false":
				cfg.enabled = false
			default:
				log.Printf("%s: # gazelle:%s %s: want enabled or disabled", f.Path, d.Key, value)
			}
		case rulesBzlDirective:
			if value != "" && !validLabel(value) {
				log.Printf("%s: # gazelle:%s %s: not a label", f.Path, d.Key, value)
				continue
			}
			cfg.rulesBzl = value
			l.mapLoad(c, cfg.rulesBzl)
		case kernelDirective:
			if value != "" && !validLabel(value) {
				log.Printf("%s: # gazelle:%s %s: not a label", f.Path, d.Key, value)
				continue
			}
			cfg.kernel = value
		case "prefix":
			cfg.prefix, cfg.prefixRel = value, rel
		case "go_naming_convention":
			cfg.namingConvention = value
		}
	}
}

// mapLoad makes gazelle load ktstr_go_test and ktstr_scheduler from bzl in this directory and
// below. Gazelle's loads are global (Loads/ApparentLoads); a per-directory
// load is what "# gazelle:map_kind" does, so the directive is expressed as
// a mapping of the kind onto itself, with the new load. A user's own
// map_kind of ktstr_go_test to another kind takes precedence.
func (l *ktstrLang) mapLoad(c *config.Config, bzl string) {
	for _, kind := range []string{ruleKind, schedKind} {
		if m, ok := c.KindMap[kind]; ok && m.KindName != kind {
			continue
		}
		if bzl == "" || bzl == l.defaultLoad() {
			delete(c.KindMap, kind)
			continue
		}
		if c.KindMap == nil {
			c.KindMap = map[string]config.MappedKind{}
		}
		c.KindMap[kind] = config.MappedKind{FromKind: kind, KindName: kind, KindLoad: bzl}
	}
}

func validLabel(s string) bool {
	_, err := label.Parse(s)
	return err == nil
}

// importPath is the Go import path of directory rel by the prefix
// directives ("" when no prefix is known).
func (cfg *ktstrConfig) importPath(rel string) string {
	if cfg.prefix == "" {
		return ""
	}
	if rel == cfg.prefixRel {
		return cfg.prefix
	}
	if cfg.prefixRel != "" && !strings.HasPrefix(rel, cfg.prefixRel+"/") {
		return ""
	}
	return path.Join(cfg.prefix, strings.TrimPrefix(strings.TrimPrefix(rel, cfg.prefixRel), "/"))
}

// relOfImport is the inverse of importPath: the directory of an import
// path under the prefix.
func (cfg *ktstrConfig) relOfImport(imp string) (string, bool) {
	if cfg.prefix == "" {
		return "", false
	}
	if imp == cfg.prefix {
		return cfg.prefixRel, true
	}
	if !strings.HasPrefix(imp, cfg.prefix+"/") {
		return "", false
	}
	return path.Join(cfg.prefixRel, strings.TrimPrefix(imp, cfg.prefix+"/")), true
}
