package kernel

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSourceIdentity(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte("all:\n"), 0o644)
	id1, dirty, err := sourceIdentity(context.Background(), dir)
	if err != nil || dirty != "" || !strings.HasPrefix(id1, "tree ") {
		t.Fatalf("sourceIdentity = %q, %q, %v", id1, dirty, err)
	}
	if id, _, _ := sourceIdentity(context.Background(), dir); id != id1 {
		t.Errorf("the same tree gave %q, then %q", id1, id)
	}
	later := time.Now().Add(time.Hour)
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte("all: x\n"), 0o644)
	os.Chtimes(filepath.Join(dir, "Makefile"), later, later)
	if id, _, _ := sourceIdentity(context.Background(), dir); id == id1 {
		t.Errorf("a changed file left the identity at %q", id)
	}

	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: the git half is not tested")
	}
	g := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", g, "-c", "user.email=t@example.com", "-c", "user.name=t"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "-q")
	os.WriteFile(filepath.Join(g, "Makefile"), []byte("all:\n"), 0o644)
	run("add", "Makefile")
	run("commit", "-q", "-m", "x")
	id, dirty, err := sourceIdentity(context.Background(), g)
	if err != nil || dirty != "" || !strings.HasPrefix(id, "git ") {
		t.Fatalf("clean git tree: %q, %q, %v", id, dirty, err)
	}
	os.WriteFile(filepath.Join(g, "Makefile"), []byte("all: y\n"), 0o644)
	if _, dirty, _ := sourceIdentity(context.Background(), g); !strings.Contains(dirty, "uncommitted changes (1 files)") {
		t.Errorf("changed git tree: dirty = %q", dirty)
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	if _, err := c.Build(context.Background(), BuildOptions{Source: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "is not a kernel source tree") {
		t.Errorf("empty folder: %v", err)
	}
	if _, err := c.Build(context.Background(), BuildOptions{Source: t.TempDir(), Base: "allyesconfig"}); err == nil || !strings.Contains(err.Error(), `unknown base "allyesconfig"`) {
		t.Errorf("bad base: %v", err)
	}
}
