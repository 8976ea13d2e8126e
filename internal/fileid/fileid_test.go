package fileid

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestOf(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("one"), 0o644)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(f, link); err != nil {
		t.Fatal(err)
	}
	a, err := Of(f)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := Of(link); b != a {
		t.Errorf("a symlink has identity %q, its target %q", b, a)
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(f, later, later)
	if b, _ := Of(f); b == a {
		t.Error("a touched file kept its identity")
	}
	if _, err := Of(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file has an identity")
	}
}
