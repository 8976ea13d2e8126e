package runner

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestInitramfsKeyFollowsContents(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.WriteFile(bin, []byte("one"), 0o755)
	files := func() []File {
		return []File{{Path: "/init", Link: "/ktstr/bin/test"}, {Path: "/ktstr/bin/test", Source: bin, Mode: 0o755}, {Path: "/req", Data: []byte("r")}}
	}
	key := func(fs []File) string {
		k, err := InitramfsKey(fs, true)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key(files())
	if key(files()) != base {
		t.Fatal("the same files gave two keys")
	}
	// Each of these changes what the guest would see: a new key.
	changed := map[string]func([]File) []File{
		"contents": func(fs []File) []File { os.WriteFile(bin, []byte("two"), 0o755); return fs },
		"mode":     func(fs []File) []File { fs[1].Mode = 0o700; return fs },
		"path":     func(fs []File) []File { fs[1].Path = "/ktstr/bin/other"; return fs },
		"link":     func(fs []File) []File { fs[0].Link = "/elsewhere"; return fs },
		"data":     func(fs []File) []File { fs[2].Data = []byte("s"); return fs },
	}
	for name, change := range changed {
		os.WriteFile(bin, []byte("one"), 0o755)
		if key(change(files())) == base {
			t.Errorf("a change of %s kept the key", name)
		}
	}
	os.WriteFile(bin, []byte("one"), 0o755)
	if k, _ := InitramfsKey(files(), false); k == base {
		t.Error("with and without the base records gave one key")
	}
	// Touching a file without changing it keeps the key.
	later := time.Now().Add(time.Hour)
	os.Chtimes(bin, later, later)
	if key(files()) != base {
		t.Error("a touched but unchanged file changed the key")
	}
}

func TestInitramfsCacheReusesAndTrims(t *testing.T) {
	dir := t.TempDir()
	c := InitramfsCache{Dir: filepath.Join(dir, "cache"), Keep: 2}
	bin := filepath.Join(dir, "bin")
	archive := func(content string) (string, bool) {
		t.Helper()
		os.WriteFile(bin, []byte(content), 0o755)
		p, hit, err := c.Archive([]File{{Path: "/bin", Source: bin, Mode: 0o755}}, true)
		if err != nil {
			t.Fatal(err)
		}
		return p, hit
	}
	p1, hit := archive("a")
	if hit {
		t.Fatal("an empty cache had a hit")
	}
	want, err := os.ReadFile(p1)
	if err != nil {
		t.Fatal(err)
	}
	again, hit := archive("a")
	if !hit || again != p1 {
		t.Fatalf("unchanged files: hit %v at %s, want a hit at %s", hit, again, p1)
	}
	if got, _ := os.ReadFile(again); string(got) != string(want) {
		t.Fatal("the cached archive changed")
	}
	p2, hit := archive("b")
	if hit || p2 == p1 {
		t.Fatalf("changed contents reused %s", p2)
	}
	// Make p1 the older one, then a third archive trims it.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p1, old, old)
	p3, _ := archive("c")
	for p, kept := range map[string]bool{p1: false, p2: true, p3: true} {
		if _, err := os.Stat(p); (err == nil) != kept {
			t.Errorf("%s: kept %v, want %v (Keep 2, most recently used)", filepath.Base(p), err == nil, kept)
		}
	}
	if _, _, err := (InitramfsCache{}).Archive(nil, true); err == nil {
		t.Error("a cache without a folder packed an archive")
	}
}

func TestDefaultInitramfsCache(t *testing.T) {
	t.Setenv(EnvInitramfsCache, "off")
	if c := DefaultInitramfsCache(); c.Dir != "" {
		t.Errorf("%s=off gave %q", EnvInitramfsCache, c.Dir)
	}
	t.Setenv(EnvInitramfsCache, "/some/where")
	if c := DefaultInitramfsCache(); c.Dir != "/some/where" {
		t.Errorf("%s=/some/where gave %q", EnvInitramfsCache, c.Dir)
	}
}
