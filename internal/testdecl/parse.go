package testdecl

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/scanner"
	"go/token"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Import paths the analysis knows.
const (
	ktstrImportPath    = "github.com/ktstr-go/ktstr"
	workloadImportPath = "github.com/ktstr-go/ktstr/guest/workload"
)

// Work types (ktstr.CpuSpin, ...): their values are their names. The
// extension does not import the guest's workload package; a test checks
// that this list is workload.WorkTypes().
var knownWorkTypes = []string{"CpuSpin", "YieldHeavy", "Mixed", "IoSync", "Bursty", "PipeIo", "FutexPingPong", "CachePressure", "CacheYield", "CachePipe", "FutexFanOut", "Sequence"}

const defaultWorkType = "CpuSpin"

// specIntFields are the integer fields of ktstr.Spec the rules carry, in
// the order of the attributes.
var specIntFields = []struct{ field, attr string }{
	{"Sockets", "sockets"},
	{"Cores", "cores"},
	{"Threads", "threads"},
	{"MemoryMB", "memory_mb"},
	{"MinSockets", "min_sockets"},
	{"MinLLCs", "min_llcs"},
	{"MinCPUs", "min_cpus"},
	{"DurationS", "duration_s"},
}

// schedIntFields are the integer fields of ktstr.Scheduler the rules carry.
var schedIntFields = []struct{ field, attr string }{
	{"Sockets", "scheduler_sockets"},
	{"Cores", "scheduler_cores"},
	{"Threads", "scheduler_threads"},
}

// testDecl is what a test function declares, as far as it is constant.
type testDecl struct {
	name string
	file *goFile
	line int
	// ints holds the integer attributes that are set (non-zero), by
	// attribute name.
	ints        map[string]int64
	requiresSMT bool
	// performanceMode is the spec's PerformanceMode.
	performanceMode bool
	// requiredFlags and excludedFlags are nil when unset (or unknown).
	requiredFlags, excludedFlags []string
	// workTypes is sorted and unique; nil when unknown.
	workTypes []string
	// sched is the scheduler (nil: EEVDF, or unknown).
	sched *schedDecl
}

// schedDecl is a scheduler declaration, as far as it is constant.
type schedDecl struct {
	// ref is how tests name it ("KtstrSched"), for messages.
	ref       string
	name      string
	goPackage string
	path      string
	// bazel is the Bazel field: the binary's label.
	bazel   string
	builtin bool
	// flags are the flag names in declaration order and requires the
	// non-empty requirements; both are nil when unknown.
	flags    []string
	requires map[string][]string
	// flagArgs are each flag's command-line arguments (nil when unknown).
	flagArgs map[string][]string
	ints     map[string]int64
}

// goFile is one parsed Go file of the directory.
type goFile struct {
	name string // base name
	rel  string // slash path from the repository root, for messages
	test bool
	ast  *ast.File
	pkg  string
	// imports maps local names to import paths; dots lists the paths
	// imported with ".".
	imports map[string]string
	dots    []string
}

// pkgAnalysis analyzes the Go files of one directory.
type pkgAnalysis struct {
	fset *token.FileSet
	// importPath is the directory's import path ("" if unknown): an
	// external test package names the package under test by it.
	importPath string
	// libPkg is the package name of the directory's non-test package.
	libPkg string
	files  []*goFile
	// vars and consts are the package-level declarations, by package name
	// and identifier.
	vars   map[string]map[string]valueDecl
	consts map[string]map[string]valueDecl
	// scheds caches the analyzed scheduler variables, so that their
	// warnings are reported once.
	scheds map[string]*schedDecl

	warnings []string
	failed   bool // a file could not be parsed
}

// valueDecl is a package-level var or const with an explicit value.
type valueDecl struct {
	file  *goFile
	value ast.Expr // nil: the zero value
}

// analyzeDir parses the .go files (base names) of directory dir, rel from
// the repository root, and returns the ktstr tests they declare, sorted by
// name, the warnings (file:line: message) met on the way, and whether every
// file could be parsed (else tests may be missing from the list).
func analyzeDir(dir, rel, importPath string, files []string) ([]*testDecl, []string, bool) {
	a := &pkgAnalysis{
		fset:       token.NewFileSet(),
		importPath: importPath,
		vars:       map[string]map[string]valueDecl{},
		consts:     map[string]map[string]valueDecl{},
		scheds:     map[string]*schedDecl{},
	}
	// Test files first: without a test that imports ktstr, the other files
	// need not be parsed.
	var tests, others []string
	for _, name := range files {
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		if strings.HasSuffix(name, "_test.go") {
			tests = append(tests, name)
		} else {
			others = append(others, name)
		}
	}
	// The ktstr package's own tests use it unqualified.
	usesKtstr := importPath == ktstrImportPath
	for _, name := range tests {
		if f := a.parse(dir, rel, name); f != nil && importsPath(f.ast, ktstrImportPath) {
			usesKtstr = true
		}
	}
	if !usesKtstr {
		return nil, a.warnings, !a.failed
	}
	for _, name := range others {
		a.parse(dir, rel, name)
	}
	a.index()

	var decls []*testDecl
	seen := map[string]bool{}
	for _, f := range a.files {
		if !f.test {
			continue
		}
		for _, d := range f.ast.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !isTestFunc(f, fd) {
				continue
			}
			t := a.testFunc(f, fd)
			if t == nil {
				continue
			}
			if seen[t.name] {
				a.warnf(f, fd.Pos(), "%s is declared twice in the package; one target is generated", t.name)
				continue
			}
			seen[t.name] = true
			decls = append(decls, t)
		}
	}
	slices.SortFunc(decls, func(x, y *testDecl) int { return strings.Compare(x.name, y.name) })
	return decls, a.warnings, !a.failed
}

func (a *pkgAnalysis) parse(dir, rel, name string) *goFile {
	frel := path.Join(rel, name)
	af, err := parser.ParseFile(a.fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
	if err != nil {
		a.warnings = append(a.warnings, fmt.Sprintf("%s: cannot parse, the directory's ktstr_go_test rules are not deleted: %v", frel, firstError(err)))
		a.failed = true
		return nil
	}
	f := &goFile{
		name:    name,
		rel:     frel,
		test:    strings.HasSuffix(name, "_test.go"),
		ast:     af,
		pkg:     af.Name.Name,
		imports: map[string]string{},
	}
	a.files = append(a.files, f)
	return f
}

// index records the package name of the directory's library, the imports
// of every file and the package-level vars and consts.
func (a *pkgAnalysis) index() {
	// The library's package name: that of a non-test file, else of an
	// internal test, else the external test's without "_test".
	for _, f := range a.files {
		if !f.test {
			a.libPkg = f.pkg
			break
		}
	}
	for _, f := range a.files {
		if a.libPkg == "" && !strings.HasSuffix(f.pkg, "_test") {
			a.libPkg = f.pkg
		}
	}
	if a.libPkg == "" && len(a.files) > 0 {
		a.libPkg = strings.TrimSuffix(a.files[0].pkg, "_test")
	}
	for _, f := range a.files {
		if f.pkg == a.libPkg && a.importPath != "" {
			// The package's own identifiers are unqualified, as if
			// imported with a dot.
			f.dots = append(f.dots, a.importPath)
		}
		for _, imp := range f.ast.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				continue
			}
			switch {
			case imp.Name == nil:
				f.imports[a.defaultName(p)] = p
			case imp.Name.Name == ".":
				f.dots = append(f.dots, p)
			case imp.Name.Name != "_":
				f.imports[imp.Name.Name] = p
			}
		}
		for _, d := range f.ast.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || (gd.Tok != token.VAR && gd.Tok != token.CONST) {
				continue
			}
			table := a.vars
			if gd.Tok == token.CONST {
				table = a.consts
			}
			if table[f.pkg] == nil {
				table[f.pkg] = map[string]valueDecl{}
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					vd := valueDecl{file: f}
					if len(vs.Values) == len(vs.Names) {
						vd.value = vs.Values[i]
					} else if len(vs.Values) > 0 || gd.Tok == token.CONST {
						// A multi-value call, or an implicit (iota) const:
						// not analyzed.
						vd.value = &ast.BadExpr{From: n.Pos(), To: n.End()}
					}
					table[f.pkg][n.Name] = vd
				}
			}
		}
	}
}

// defaultName is the package name of an import without an explicit name:
// the known ones, else the last element of the path.
func (a *pkgAnalysis) defaultName(p string) string {
	switch p {
	case ktstrImportPath:
		return "ktstr"
	case a.importPath:
		if a.importPath != "" {
			return a.libPkg
		}
	}
	base := path.Base(p)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" && path.Dir(p) != "." {
		base = path.Base(path.Dir(p))
	}
	base = strings.TrimPrefix(base, "go-")
	return strings.NewReplacer("-", "_", ".", "_").Replace(base)
}

// firstError is the first of a list of syntax errors.
func firstError(err error) error {
	if list, ok := err.(scanner.ErrorList); ok && len(list) > 0 {
		return list[0]
	}
	return err
}

func (a *pkgAnalysis) warnf(f *goFile, pos token.Pos, format string, args ...any) {
	a.warnings = append(a.warnings, fmt.Sprintf("%s:%d: %s", f.rel, a.fset.Position(pos).Line, fmt.Sprintf(format, args...)))
}

// importsPath reports whether f imports path p.
func importsPath(f *ast.File, p string) bool {
	for _, imp := range f.Imports {
		if ip, err := strconv.Unquote(imp.Path.Value); err == nil && ip == p {
			return true
		}
	}
	return false
}

// ref reports whether e names identifier name of the package of import
// path p in f: p's local name, a dot import or, for the file's own package
// (p == ""), the bare identifier.
func (f *goFile) ref(e ast.Expr, p, name string) bool {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		return ok && e.Sel.Name == name && p != "" && f.imports[x.Name] == p
	case *ast.Ident:
		return e.Name == name && slices.Contains(f.dots, p)
	}
	return false
}

func (f *goFile) ktstrRef(e ast.Expr, name string) bool {
	return f.ref(e, ktstrImportPath, name)
}

// isTestFunc reports whether fd is a test function: func TestXxx(t
// *testing.T), Xxx not starting with a lower-case letter.
func isTestFunc(f *goFile, fd *ast.FuncDecl) bool {
	if fd.Recv != nil || fd.Body == nil || fd.Type.TypeParams != nil || !strings.HasPrefix(fd.Name.Name, "Test") {
		return false
	}
	if rest := fd.Name.Name[len("Test"):]; rest != "" {
		if r, _ := utf8.DecodeRuneInString(rest); unicode.IsLower(r) {
			return false
		}
	}
	params := fd.Type.Params.List
	if len(params) != 1 || len(params[0].Names) > 1 || fd.Type.Results != nil {
		return false
	}
	star, ok := params[0].Type.(*ast.StarExpr)
	return ok && f.ref(star.X, "testing", "T")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// testFunc analyzes test function fd: nil if it calls none of ktstr.Run,
// ktstr.RunProfiles and ktstr.RunWith.
func (a *pkgAnalysis) testFunc(f *goFile, fd *ast.FuncDecl) *testDecl {
	var calls []*ast.CallExpr
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok && (f.ktstrRef(c.Fun, "Run") || f.ktstrRef(c.Fun, "RunProfiles") || f.ktstrRef(c.Fun, "RunWith")) {
			calls = append(calls, c)
		}
		return true
	})
	if len(calls) == 0 {
		return nil
	}
	t := &testDecl{name: fd.Name.Name, file: f, line: a.fset.Position(fd.Pos()).Line, ints: map[string]int64{}, workTypes: []string{defaultWorkType}}
	call := calls[0]
	if len(calls) > 1 {
		a.warnf(f, calls[1].Pos(), "%s: more than one ktstr run; the target's attributes come from the first (line %d)", t.name, a.fset.Position(call.Pos()).Line)
	}
	if want := 2 + boolInt(f.ktstrRef(call.Fun, "RunWith")); len(call.Args) != want {
		a.warnf(f, call.Pos(), "%s: ktstr run without (t, spec[, body]) arguments; the target gets default attributes", t.name)
		return t
	}
	lit, litFile := a.specLiteral(f, fd, call, t.name)
	if lit != nil {
		a.spec(litFile, lit, t)
	}
	return t
}

// specLiteral finds the ktstr.Spec literal passed to call: the argument
// itself, or the last assignment of the variable it names before the call
// in the function, or a package-level var. It returns the file the literal
// is in (its imports apply).
func (a *pkgAnalysis) specLiteral(f *goFile, fd *ast.FuncDecl, call *ast.CallExpr, test string) (*ast.CompositeLit, *goFile) {
	arg := ast.Unparen(call.Args[1])
	if lit, ok := arg.(*ast.CompositeLit); ok && f.ktstrRef(lit.Type, "Spec") {
		return lit, f
	}
	id, ok := arg.(*ast.Ident)
	if !ok {
		a.warnf(f, arg.Pos(), "%s: the spec is not a ktstr.Spec literal or a variable assigned from one; the target gets default attributes", test)
		return nil, nil
	}
	// The last assignment of the variable before the call.
	var rhs ast.Expr
	var typ ast.Expr
	var at token.Pos = token.NoPos
	found := false
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if n == nil || n.Pos() >= call.Pos() {
			return false
		}
		switch s := n.(type) {
		case *ast.AssignStmt:
			for i, l := range s.Lhs {
				if l, ok := l.(*ast.Ident); ok && l.Name == id.Name && s.Pos() > at {
					found, at, typ, rhs = true, s.Pos(), nil, nil
					if len(s.Rhs) == len(s.Lhs) {
						rhs = s.Rhs[i]
					}
				}
			}
		case *ast.ValueSpec:
			for i, n := range s.Names {
				if n.Name == id.Name && s.Pos() > at {
					found, at, typ, rhs = true, s.Pos(), s.Type, nil
					if len(s.Values) == len(s.Names) {
						rhs = s.Values[i]
					}
				}
			}
		}
		return true
	})
	if found {
		// Assignments to the variable's fields between the literal and the
		// call are not seen.
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			s, ok := n.(*ast.AssignStmt)
			if !ok || s.Pos() <= at || s.Pos() >= call.Pos() {
				return true
			}
			for _, l := range s.Lhs {
				if sel, ok := l.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == id.Name {
						a.warnf(f, s.Pos(), "%s: %s.%s is assigned after the spec literal; gazelle reads only the literal", test, id.Name, sel.Sel.Name)
					}
				}
			}
			return true
		})
		if rhs == nil && typ != nil && f.ktstrRef(typ, "Spec") {
			return &ast.CompositeLit{Type: typ}, f // var spec ktstr.Spec
		}
		if lit, ok := ast.Unparen(rhs).(*ast.CompositeLit); ok && rhs != nil && f.ktstrRef(lit.Type, "Spec") {
			return lit, f
		}
		a.warnf(f, at, "%s: %s is not assigned a ktstr.Spec literal; the target gets default attributes", test, id.Name)
		return nil, nil
	}
	if vd, ok := a.vars[f.pkg][id.Name]; ok {
		if lit, ok := ast.Unparen(vd.value).(*ast.CompositeLit); ok && vd.value != nil && vd.file.ktstrRef(lit.Type, "Spec") {
			return lit, vd.file
		}
	}
	a.warnf(f, arg.Pos(), "%s: %s is not a ktstr.Spec literal or a variable assigned from one; the target gets default attributes", test, id.Name)
	return nil, nil
}

// spec reads the fields of a ktstr.Spec literal into t.
func (a *pkgAnalysis) spec(f *goFile, lit *ast.CompositeLit, t *testDecl) {
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			a.warnf(f, e.Pos(), "%s: unkeyed ktstr.Spec literal; the target gets default attributes", t.name)
			return
		}
		key, ok := kv.Key.(*ast.Ident)
		if !ok {
			continue
		}
		field := key.Name
		skipped := func(what string) {
			a.warnf(f, kv.Value.Pos(), "%s: ktstr.Spec field %s is not a constant literal; %s", t.name, field, what)
		}
		if i := slices.IndexFunc(specIntFields, func(x struct{ field, attr string }) bool { return x.field == field }); i >= 0 {
			attr := specIntFields[i].attr
			if v, ok := a.intConst(f, kv.Value); ok {
				if v != 0 {
					t.ints[attr] = v
				}
			} else {
				skipped(attr + " is left unset")
			}
			continue
		}
		switch field {
		case "RequiresSMT":
			if v, ok := a.boolConst(f, kv.Value); ok {
				t.requiresSMT = v
			} else {
				skipped("requires_smt is left unset")
			}
		case "PerformanceMode":
			if v, ok := a.boolConst(f, kv.Value); ok {
				t.performanceMode = v
			} else {
				skipped("performance_mode is left unset")
			}
		case "RequiredFlags":
			if v, ok := a.stringList(f, kv.Value); ok {
				t.requiredFlags = v
			} else {
				skipped("required_flags is left unset")
			}
		case "ExcludedFlags":
			if v, ok := a.stringList(f, kv.Value); ok {
				t.excludedFlags = v
			} else {
				skipped("excluded_flags is left unset")
			}
		case "Cgroups":
			t.workTypes = a.workTypes(f, kv.Value, t.name)
		case "Scheduler":
			t.sched = a.schedulerRef(f, kv.Value, t.name)
		}
	}
}

// workTypes reads the work types of a Cgroups literal: sorted, unique;
// nil if one is unknown.
func (a *pkgAnalysis) workTypes(f *goFile, e ast.Expr, test string) []string {
	if id, ok := e.(*ast.Ident); ok && id.Name == "nil" {
		return []string{defaultWorkType}
	}
	lit, ok := ast.Unparen(e).(*ast.CompositeLit)
	if !ok {
		a.warnf(f, e.Pos(), "%s: ktstr.Spec field Cgroups is not a literal; work_types is left unset", test)
		return nil
	}
	if len(lit.Elts) == 0 {
		return []string{defaultWorkType}
	}
	var works []string
	for _, e := range lit.Elts {
		cg, ok := ast.Unparen(e).(*ast.CompositeLit)
		if !ok || (cg.Type != nil && !f.ktstrRef(cg.Type, "CgroupDef")) {
			a.warnf(f, e.Pos(), "%s: a ktstr.Spec.Cgroups element is not a ktstr.CgroupDef literal; work_types is left unset", test)
			return nil
		}
		work := defaultWorkType
		for _, el := range cg.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				a.warnf(f, el.Pos(), "%s: unkeyed ktstr.CgroupDef literal; work_types is left unset", test)
				return nil
			}
			if key, ok := kv.Key.(*ast.Ident); !ok || key.Name != "Work" {
				continue
			}
			w, ok := a.workType(f, kv.Value)
			if !ok {
				a.warnf(f, kv.Value.Pos(), "%s: ktstr.CgroupDef field Work is not a constant literal; work_types is left unset", test)
				return nil
			}
			if w != "" {
				work = w
			}
		}
		works = append(works, work)
	}
	slices.Sort(works)
	return slices.Compact(works)
}

// workType reads a work type: ktstr.Bursty (or workload.Bursty), or a
// string constant.
func (a *pkgAnalysis) workType(f *goFile, e ast.Expr) (string, bool) {
	e = ast.Unparen(e)
	for _, w := range knownWorkTypes {
		if f.ktstrRef(e, w) || f.ref(e, workloadImportPath, w) {
			return w, true
		}
	}
	return a.stringConst(f, e)
}

// schedulerRef reads the Scheduler field of a spec: &Var, &pkg.Var (the
// directory's package), a var holding a pointer, or an inline
// &ktstr.Scheduler{...}. nil means EEVDF, or a scheduler that cannot be
// read (with a warning).
func (a *pkgAnalysis) schedulerRef(f *goFile, e ast.Expr, test string) *schedDecl {
	e = ast.Unparen(e)
	if id, ok := e.(*ast.Ident); ok && id.Name == "nil" {
		return nil
	}
	addr := false
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		addr, e = true, ast.Unparen(u.X)
	}
	if lit, ok := e.(*ast.CompositeLit); ok && addr && f.ktstrRef(lit.Type, "Scheduler") {
		return a.schedLiteral(f, lit, "the inline scheduler of "+test)
	}
	// A variable: &X, &pkg.X (value) or X, pkg.X (pointer).
	var pkg, name string
	switch x := e.(type) {
	case *ast.Ident:
		pkg, name = f.pkg, x.Name
		if _, declared := a.vars[pkg][name]; !declared && slices.Contains(f.dots, ktstrImportPath) {
			if name == "EEVDF" && addr {
				return nil
			}
			a.warnf(f, e.Pos(), "%s: scheduler %s is declared in package %s, not in this directory; unsupported, the target gets no scheduler", test, name, ktstrImportPath)
			return nil
		}
	case *ast.SelectorExpr:
		id, ok := x.X.(*ast.Ident)
		if !ok {
			break
		}
		p := f.imports[id.Name]
		switch {
		case p == ktstrImportPath && x.Sel.Name == "EEVDF" && addr:
			return nil
		case p != "" && p == a.importPath:
			pkg, name = a.libPkg, x.Sel.Name
		case p != "":
			a.warnf(f, e.Pos(), "%s: scheduler %s.%s is declared in package %s, not in this directory; unsupported, the target gets no scheduler", test, id.Name, x.Sel.Name, p)
			return nil
		}
	}
	if name == "" {
		a.warnf(f, e.Pos(), "%s: ktstr.Spec field Scheduler is not &Var, &pkg.Var or &ktstr.Scheduler{...}; the target gets no scheduler", test)
		return nil
	}
	key := pkg + "." + name
	if s, ok := a.scheds[key]; ok {
		return s
	}
	vd, ok := a.vars[pkg][name]
	var s *schedDecl
	switch {
	case !ok:
		a.warnf(f, e.Pos(), "%s: scheduler %s is not a package-level var of this directory; the target gets no scheduler", test, name)
	case vd.value == nil:
		a.warnf(vd.file, vd.file.ast.Package, "scheduler %s has no literal value; tests get no scheduler", name)
	default:
		// &X needs X = ktstr.Scheduler{...}; X needs X = &ktstr.Scheduler{...}.
		v := ast.Unparen(vd.value)
		u, isAddr := v.(*ast.UnaryExpr)
		isAddr = isAddr && u.Op == token.AND
		switch {
		case !addr && isAddr:
			v = ast.Unparen(u.X)
		case addr && isAddr, !addr && !isAddr:
			v = nil
		}
		lit, ok := v.(*ast.CompositeLit)
		if !ok || !vd.file.ktstrRef(lit.Type, "Scheduler") {
			a.warnf(vd.file, vd.value.Pos(), "scheduler %s is not a ktstr.Scheduler literal; tests get no scheduler", name)
			break
		}
		s = a.schedLiteral(vd.file, lit, name)
	}
	a.scheds[key] = s
	return s
}

// schedLiteral reads a ktstr.Scheduler literal; ref names it in messages.
func (a *pkgAnalysis) schedLiteral(f *goFile, lit *ast.CompositeLit, ref string) *schedDecl {
	s := &schedDecl{ref: ref, ints: map[string]int64{}, flags: []string{}, requires: map[string][]string{}, flagArgs: map[string][]string{}}
	var pathPos token.Pos
	defer func() {
		if s != nil && s.path != "" && s.bazel == "" {
			a.warnf(f, pathPos, "%s: ktstr.Scheduler field Path is a host binary, which Bazel cannot package; its ktstr_scheduler gets no binary (give its Bazel label in the Bazel field)", ref)
		}
	}()
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			a.warnf(f, e.Pos(), "%s: unkeyed ktstr.Scheduler literal; tests get no scheduler", ref)
			return nil
		}
		key, ok := kv.Key.(*ast.Ident)
		if !ok {
			continue
		}
		field := key.Name
		skipped := func(what string) {
			a.warnf(f, kv.Value.Pos(), "%s: ktstr.Scheduler field %s is not a constant literal; %s", ref, field, what)
		}
		if i := slices.IndexFunc(schedIntFields, func(x struct{ field, attr string }) bool { return x.field == field }); i >= 0 {
			attr := schedIntFields[i].attr
			if v, ok := a.intConst(f, kv.Value); ok {
				if v != 0 {
					s.ints[attr] = v
				}
			} else {
				skipped(attr + " is left unset")
			}
			continue
		}
		switch field {
		case "Name":
			if v, ok := a.stringConst(f, kv.Value); ok {
				s.name = v
			} else {
				skipped("the target gets no scheduler")
			}
		case "GoPackage":
			if v, ok := a.stringConst(f, kv.Value); ok {
				s.goPackage = v
			} else {
				skipped("its ktstr_scheduler gets no binary")
			}
		case "Path":
			if v, ok := a.stringConst(f, kv.Value); !ok || v != "" {
				s.path = "host"
				pathPos = kv.Value.Pos()
			}
		case "Bazel":
			if v, ok := a.stringConst(f, kv.Value); ok {
				s.bazel = v
			} else {
				skipped("its ktstr_scheduler gets no binary")
			}
		case "Builtin":
			if id, ok := kv.Value.(*ast.Ident); !ok || id.Name != "nil" {
				s.builtin = true
			}
		case "Flags":
			if !a.flags(f, kv.Value, s) {
				skipped("scheduler_flags and scheduler_requires are left unset")
				s.flags, s.requires, s.flagArgs = nil, nil, nil
			}
		}
	}
	return s
}

// flags reads a []ktstr.Flag literal into s; false if it is not constant.
func (a *pkgAnalysis) flags(f *goFile, e ast.Expr, s *schedDecl) bool {
	if id, ok := e.(*ast.Ident); ok && id.Name == "nil" {
		return true
	}
	lit, ok := ast.Unparen(e).(*ast.CompositeLit)
	if !ok {
		return false
	}
	for _, e := range lit.Elts {
		fl, ok := ast.Unparen(e).(*ast.CompositeLit)
		if !ok || (fl.Type != nil && !f.ktstrRef(fl.Type, "Flag")) {
			return false
		}
		var name string
		var requires, args []string
		for _, el := range fl.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				return false
			}
			key, _ := kv.Key.(*ast.Ident)
			switch {
			case key == nil:
				return false
			case key.Name == "Name":
				if name, ok = a.stringConst(f, kv.Value); !ok {
					return false
				}
			case key.Name == "Requires":
				if requires, ok = a.stringList(f, kv.Value); !ok {
					return false
				}
			case key.Name == "Args":
				// Not needed for targets: unknown arguments are left out.
				args, _ = a.stringList(f, kv.Value)
			}
		}
		s.flags = append(s.flags, name)
		s.flagArgs[name] = args
		if len(requires) > 0 {
			s.requires[name] = requires
		}
	}
	return true
}

// stringList reads a []string literal of constants (or nil).
func (a *pkgAnalysis) stringList(f *goFile, e ast.Expr) ([]string, bool) {
	e = ast.Unparen(e)
	if id, ok := e.(*ast.Ident); ok && id.Name == "nil" {
		return nil, true
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, false
	}
	if at, ok := lit.Type.(*ast.ArrayType); !ok || at.Len != nil {
		return nil, false
	} else if id, ok := at.Elt.(*ast.Ident); !ok || id.Name != "string" {
		return nil, false
	}
	out := []string{}
	for _, el := range lit.Elts {
		s, ok := a.stringConst(f, el)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func (a *pkgAnalysis) intConst(f *goFile, e ast.Expr) (int64, bool) {
	v, ok := a.constValue(f, e, 0)
	if !ok {
		return 0, false
	}
	v = constant.ToInt(v)
	if v.Kind() != constant.Int {
		return 0, false
	}
	if i, exact := constant.Int64Val(v); exact {
		return i, true
	}
	return 0, false
}

func (a *pkgAnalysis) boolConst(f *goFile, e ast.Expr) (bool, bool) {
	v, ok := a.constValue(f, e, 0)
	if !ok || v.Kind() != constant.Bool {
		return false, false
	}
	return constant.BoolVal(v), true
}

func (a *pkgAnalysis) stringConst(f *goFile, e ast.Expr) (string, bool) {
	v, ok := a.constValue(f, e, 0)
	if !ok || v.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(v), true
}

// constValue evaluates a constant expression of literals, operators and
// the package's own constants (declared with an explicit value).
func (a *pkgAnalysis) constValue(f *goFile, e ast.Expr, depth int) (constant.Value, bool) {
	if depth > 16 {
		return nil, false
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		v := constant.MakeFromLiteral(e.Value, e.Kind, 0)
		return v, v.Kind() != constant.Unknown
	case *ast.ParenExpr:
		return a.constValue(f, e.X, depth+1)
	case *ast.Ident:
		if vd, ok := a.consts[f.pkg][e.Name]; ok && vd.value != nil {
			return a.constValue(vd.file, vd.value, depth+1)
		}
		switch e.Name {
		case "true":
			return constant.MakeBool(true), true
		case "false":
			return constant.MakeBool(false), true
		}
	case *ast.UnaryExpr:
		x, ok := a.constValue(f, e.X, depth+1)
		if !ok {
			return nil, false
		}
		switch e.Op {
		case token.ADD, token.SUB, token.XOR:
			if x.Kind() == constant.Int || x.Kind() == constant.Float {
				return constant.UnaryOp(e.Op, x, 0), true
			}
		case token.NOT:
			if x.Kind() == constant.Bool {
				return constant.UnaryOp(e.Op, x, 0), true
			}
		}
	case *ast.BinaryExpr:
		x, ok1 := a.constValue(f, e.X, depth+1)
		y, ok2 := a.constValue(f, e.Y, depth+1)
		if !ok1 || !ok2 {
			return nil, false
		}
		return binaryOp(x, e.Op, y)
	}
	return nil, false
}

func binaryOp(x constant.Value, op token.Token, y constant.Value) (constant.Value, bool) {
	numeric := func(v constant.Value) bool { return v.Kind() == constant.Int || v.Kind() == constant.Float }
	switch op {
	case token.SHL, token.SHR:
		s, ok := constant.Uint64Val(constant.ToInt(y))
		if x = constant.ToInt(x); !ok || x.Kind() != constant.Int || s > 1024 {
			return nil, false
		}
		return constant.Shift(x, op, uint(s)), true
	case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
		if x.Kind() != y.Kind() && !(numeric(x) && numeric(y)) {
			return nil, false
		}
		return constant.MakeBool(constant.Compare(x, op, y)), true
	case token.LAND, token.LOR:
		if x.Kind() != constant.Bool || y.Kind() != constant.Bool {
			return nil, false
		}
		return constant.BinaryOp(x, op, y), true
	case token.ADD:
		if x.Kind() == constant.String && y.Kind() == constant.String {
			return constant.BinaryOp(x, op, y), true
		}
	}
	if !numeric(x) || !numeric(y) {
		return nil, false
	}
	switch op {
	case token.QUO, token.REM:
		if constant.Sign(y) == 0 {
			return nil, false
		}
		if x.Kind() == constant.Int && y.Kind() == constant.Int {
			if op == token.QUO {
				op = token.QUO_ASSIGN // integer division
			}
			return constant.BinaryOp(x, op, y), true
		}
		if op == token.REM {
			return nil, false
		}
	case token.ADD, token.SUB, token.MUL:
	case token.AND, token.OR, token.XOR, token.AND_NOT:
		if x.Kind() != constant.Int || y.Kind() != constant.Int {
			return nil, false
		}
	default:
		return nil, false
	}
	return constant.BinaryOp(x, op, y), true
}
