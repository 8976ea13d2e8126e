package testdecl

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
)

func TestConstValue(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "c.go", "package p\nconst k = 3\nconst s = \"x\"\n", 0)
	if err != nil {
		t.Fatal(err)
	}
	a := &pkgAnalysis{consts: map[string]map[string]valueDecl{}, vars: map[string]map[string]valueDecl{}}
	gf := &goFile{pkg: "p", ast: f, imports: map[string]string{}}
	a.files = []*goFile{gf}
	a.index()

	ints := []struct {
		expr string
		want int64
		ok   bool
	}{
		{"2", 2, true},
		{"100_000", 100000, true},
		{"0x10", 16, true},
		{"2 * 1024", 2048, true},
		{"(1 + 1) * 2", 4, true},
		{"-(1 + 1)", -2, true},
		{"1 << 3", 8, true},
		{"7 / 2", 3, true},
		{"7 % 4", 3, true},
		{"2.0 * 2", 4, true},
		{"k * 2", 6, true},
		{"1.5", 0, false},
		{"1 / 0", 0, false},
		{"1 << 2000", 0, false},
		{"n", 0, false},
		{"f()", 0, false},
		{"\"2\"", 0, false},
		{"1 << 63", 0, false},
	}
	for _, c := range ints {
		e, err := parser.ParseExpr(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := a.intConst(gf, e)
		if ok != c.ok || got != c.want {
			t.Errorf("intConst(%s) = %d, %v; want %d, %v", c.expr, got, ok, c.want, c.ok)
		}
	}

	for expr, want := range map[string]string{`"a" + "b"`: "ab", "s": "x", "`raw`": "raw"} {
		e, _ := parser.ParseExpr(expr)
		if got, ok := a.stringConst(gf, e); !ok || got != want {
			t.Errorf("stringConst(%s) = %q, %v; want %q", expr, got, ok, want)
		}
	}
	for expr, want := range map[string]bool{"true": true, "!true": false, "true && !false": true, "1 < 2": true} {
		e, _ := parser.ParseExpr(expr)
		if got, ok := a.boolConst(gf, e); !ok || got != want {
			t.Errorf("boolConst(%s) = %v, %v; want %v", expr, got, ok, want)
		}
	}
}

func TestIsTestFunc(t *testing.T) {
	src := `package p
import (
	"testing"
	tt "testing"
)
func Test(t *testing.T) {}
func TestA(t *testing.T) {}
func Test_a(t *testing.T) {}
func TestRenamed(t *tt.T) {}
func Testa(t *testing.T) {}
func TestB(t *testing.B) {}
func TestTwo(t *testing.T, x int) {}
func TestRet(t *testing.T) error { return nil }
func (x) TestMethod(t *testing.T) {}
func helper(t *testing.T) {}
`
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, "p_test.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	a := &pkgAnalysis{fset: fset, consts: map[string]map[string]valueDecl{}, vars: map[string]map[string]valueDecl{}}
	f := &goFile{pkg: "p", ast: af, test: true, imports: map[string]string{}}
	a.files = []*goFile{f}
	a.index()
	want := map[string]bool{"Test": true, "TestA": true, "Test_a": true, "TestRenamed": true}
	for _, d := range af.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		if got := isTestFunc(f, fd); got != want[fd.Name.Name] {
			t.Errorf("isTestFunc(%s) = %v", fd.Name.Name, got)
		}
	}
}
