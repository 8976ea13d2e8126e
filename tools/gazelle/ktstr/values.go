package ktstr

import (
	"slices"

	"github.com/bazelbuild/bazel-gazelle/rule"
	bzl "github.com/bazelbuild/buildtools/build"
)

// exact is an attribute value that replaces the existing one when merged.
// Gazelle's default merge of lists keeps the old order (scheduler_flags
// must follow the declaration order) and does not understand dicts (it
// would drop scheduler_requires).
type exact struct{ expr bzl.Expr }

var (
	_ rule.BzlExprValue = exact{}
	_ rule.Merger       = exact{}
)

func (e exact) BzlExpr() bzl.Expr { return e.expr }

func (e exact) Merge(bzl.Expr) bzl.Expr { return e.expr }

// exactList is a list of strings in the given order.
func exactList(list []string) exact {
	return exact{rule.ExprFromValue(list)}
}

// exactDict is a dict of string lists, sorted by key, one entry a line.
func exactDict(m map[string][]string) exact {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	d := &bzl.DictExpr{ForceMultiLine: true}
	for _, k := range keys {
		v := &bzl.ListExpr{}
		for _, s := range m[k] {
			v.List = append(v.List, &bzl.StringExpr{Value: s})
		}
		d.List = append(d.List, &bzl.KeyValueExpr{Key: &bzl.StringExpr{Value: k}, Value: v})
	}
	return exact{d}
}
