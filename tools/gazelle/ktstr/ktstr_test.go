package ktstr

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bazel-contrib/bazel-gazelle/v2/cmd/gazelle/update"
	"github.com/bazelbuild/bazel-gazelle/language"
	golang "github.com/bazelbuild/bazel-gazelle/language/go"
)

var updateGolden = flag.Bool("update", false, "rewrite the BUILD.out and warnings.txt files of testdata from the results")

// TestGolden runs gazelle (the Go extension, then this one), in process,
// over a copy of each directory of testdata. In a case, BUILD.in files
// become BUILD.bazel and other X.in files X; each BUILD.out is the expected BUILD.bazel of its
// directory (no BUILD.out: no BUILD.bazel expected), and warnings.txt the
// expected log (none: no log). A second run must change nothing.
func TestGolden(t *testing.T) {
	cases, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) { runCase(t, filepath.Join("testdata", c.Name())) })
	}
}

func runCase(t *testing.T, src string) {
	root := t.TempDir()
	want := map[string]string{} // BUILD.bazel path (slash, relative) -> content
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch d.Name() {
		case "BUILD.out":
			want[filepath.ToSlash(filepath.Join(filepath.Dir(rel), "BUILD.bazel"))] = string(data)
			return nil
		case "warnings.txt":
			return nil
		case "BUILD.in":
			rel = filepath.Join(filepath.Dir(rel), "BUILD.bazel")
		default:
			// Other inputs that must not be live files of this repository
			// (MODULE.bazel.in).
			rel = strings.TrimSuffix(rel, ".in")
		}
		dst := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantLog, _ := os.ReadFile(filepath.Join(src, "warnings.txt"))

	gotLog := strings.ReplaceAll(runGazelle(t, root), root+string(filepath.Separator), "")
	got := buildFiles(t, root)
	if *updateGolden {
		writeGolden(t, src, got, gotLog)
		return
	}
	compare(t, want, got)
	if gotLog != string(wantLog) {
		t.Errorf("log:\n%s\nwant:\n%s", gotLog, wantLog)
	}

	// Idempotence: a second run changes nothing.
	runGazelle(t, root)
	compare(t, got, buildFiles(t, root))
}

// runGazelle runs gazelle update over repository root and returns its log.
func runGazelle(t *testing.T, root string) string {
	t.Helper()
	var buf bytes.Buffer
	out, flags, prefix := log.Writer(), log.Flags(), log.Prefix()
	log.SetOutput(&buf)
	log.SetFlags(0)
	log.SetPrefix("")
	defer func() {
		log.SetOutput(out)
		log.SetFlags(flags)
		log.SetPrefix(prefix)
	}()
	langs := []language.Language{golang.NewLanguage(), NewLanguage()}
	if err := update.Run(context.Background(), langs, root, []string{"-repo_root", root, root}); err != nil {
		t.Fatalf("gazelle: %v\n%s", err, buf.String())
	}
	return buf.String()
}

// buildFiles reads every BUILD.bazel under root.
func buildFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "BUILD.bazel" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func compare(t *testing.T, want, got map[string]string) {
	t.Helper()
	var paths []string
	for p := range want {
		paths = append(paths, p)
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		w, inWant := want[p]
		g, inGot := got[p]
		switch {
		case !inGot:
			t.Errorf("%s: not generated; want:\n%s", p, w)
		case !inWant:
			t.Errorf("%s: generated, but no BUILD.out expects it:\n%s", p, g)
		case strings.TrimSpace(g) != strings.TrimSpace(w):
			t.Errorf("%s:\n%s\nwant:\n%s", p, g, w)
		}
	}
}

// writeGolden rewrites the expectations of a case (go test -update).
func writeGolden(t *testing.T, src string, got map[string]string, log string) {
	t.Helper()
	for p, content := range got {
		out := filepath.Join(src, filepath.Dir(filepath.FromSlash(p)), "BUILD.out")
		if err := os.WriteFile(out, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w := filepath.Join(src, "warnings.txt")
	if log == "" {
		if err := os.Remove(w); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return
	}
	if err := os.WriteFile(w, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
}
