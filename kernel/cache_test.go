package kernel

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const schedExtConfig = `CONFIG_SMP=y
CONFIG_BPF=y
CONFIG_BPF_SYSCALL=y
CONFIG_BPF_JIT=y
CONFIG_DEBUG_INFO_BTF=y
CONFIG_SCHED_CLASS_EXT=y
`

const plainConfig = `CONFIG_SMP=y
CONFIG_BPF=y
CONFIG_BPF_SYSCALL=y
# CONFIG_SCHED_CLASS_EXT is not set
`

func storeTestKernel(t *testing.T, c Cache, version string, fetched time.Time, config string, withVmlinux bool) Entry {
	t.Helper()
	req := StoreRequest{
		Version:   version,
		Source:    "test " + version,
		Vmlinuz:   []byte("vmlinuz of " + version),
		FetchedAt: fetched,
	}
	if withVmlinux {
		req.Vmlinux = []byte("\x7fELF vmlinux of " + version)
	}
	if config != "" {
		req.Config = []byte(config)
	}
	e, err := c.Store(req)
	if err != nil {
		t.Fatalf("Store(%s): %v", version, err)
	}
	return e
}

func TestDefaultCache(t *testing.T) {
	c, err := defaultCache(func(k string) string {
		if k == "KTSTR_CACHE_DIR" {
			return "/x/cache"
		}
		return ""
	})
	if err != nil || c.Dir != filepath.Join("/x/cache", "kernels") {
		t.Errorf("defaultCache(KTSTR_CACHE_DIR=/x/cache) = %+v, %v", c, err)
	}
	t.Setenv("XDG_CACHE_HOME", "/y/cache")
	c, err = defaultCache(func(string) string { return "" })
	if err != nil || c.Dir != filepath.Join("/y/cache", "ktstr", "kernels") {
		t.Errorf("defaultCache() = %+v, %v; want /y/cache/ktstr/kernels", c, err)
	}
}

func TestCacheStoreListNewest(t *testing.T) {
	c := Cache{Dir: filepath.Join(t.TempDir(), "kernels")}

	if entries, err := c.List(); err != nil || len(entries) != 0 {
		t.Fatalf("List(missing dir) = %v, %v; want empty", entries, err)
	}
	if _, err := c.Newest(); !errors.Is(err, ErrNoKernel) {
		t.Fatalf("Newest(empty) = %v, want ErrNoKernel", err)
	}

	base := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	storeTestKernel(t, c, "6.1.0", base, plainConfig, false)
	e3 := storeTestKernel(t, c, "6.3.0", base.Add(2*time.Hour), schedExtConfig, true)
	storeTestKernel(t, c, "6.2.0", base.Add(time.Hour), schedExtConfig, true)

	// Leftovers that List must ignore.
	for _, d := range []string{".tmp-7.0-123", "incomplete"} {
		if err := os.MkdirAll(filepath.Join(c.Dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	entries, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, e := range entries {
		versions = append(versions, e.Version)
	}
	if got := strings.Join(versions, " "); got != "6.3.0 6.2.0 6.1.0" {
		t.Fatalf("List versions = %q, want newest first", got)
	}

	newest, err := c.Newest()
	if err != nil || newest.Version != "6.3.0" {
		t.Fatalf("Newest = %+v, %v", newest, err)
	}
	if !newest.FetchedAt.Equal(e3.FetchedAt) || newest.Dir != filepath.Join(c.Dir, "6.3.0") {
		t.Errorf("Newest = %+v, want %+v", newest, e3)
	}
	if !newest.SchedExt {
		t.Error("6.3.0 SchedExt = false, want true")
	}
	if newest.BootImage() != filepath.Join(newest.Dir, "vmlinux") {
		t.Errorf("BootImage = %s, want vmlinux", newest.BootImage())
	}
	if newest.ConfigPath() != filepath.Join(newest.Dir, "config") {
		t.Errorf("ConfigPath = %s", newest.ConfigPath())
	}
	if err := newest.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}

	old, err := c.Lookup("6.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if old.SchedExt {
		t.Error("6.1.0 SchedExt = true, want false")
	}
	if old.BootImage() != filepath.Join(old.Dir, "vmlinuz") {
		t.Errorf("BootImage without vmlinux = %s, want vmlinuz", old.BootImage())
	}
	if old.VmlinuxSHA256 != "" {
		t.Errorf("VmlinuxSHA256 = %q, want empty", old.VmlinuxSHA256)
	}
	if err := old.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if _, err := c.Lookup("9.9.9"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lookup(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := c.Lookup("../etc"); err == nil {
		t.Error("Lookup(../etc) succeeded")
	}
}

func TestCacheStoreReplaces(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	storeTestKernel(t, c, "6.9", time.Now().Add(-time.Hour), schedExtConfig, true)
	e, err := c.Store(StoreRequest{Version: "6.9", Source: "again", Vmlinuz: []byte("new vmlinuz")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Lookup("6.9")
	if err != nil || got.Source != "again" || got.VmlinuzSHA256 != e.VmlinuzSHA256 {
		t.Fatalf("Lookup after replace = %+v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(got.Dir, "vmlinux")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old vmlinux survived the replacement: %v", err)
	}
	if got.ConfigPath() != "" {
		t.Errorf("ConfigPath = %q, want empty", got.ConfigPath())
	}
	if err := got.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	des, _ := os.ReadDir(c.Dir)
	if len(des) != 1 {
		t.Errorf("cache holds %d directories after replace, want 1", len(des))
	}
}

func TestCacheStoreRejects(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	for _, v := range []string{"", ".", "..", ".hidden", "a/b"} {
		if _, err := c.Store(StoreRequest{Version: v, Vmlinuz: []byte("x")}); err == nil {
			t.Errorf("Store(version %q) succeeded", v)
		}
	}
	if _, err := c.Store(StoreRequest{Version: "6.0"}); err == nil {
		t.Error("Store(no vmlinuz) succeeded")
	}
}

func TestCacheVerifyCorrupt(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	e := storeTestKernel(t, c, "6.5", time.Now(), schedExtConfig, true)

	vmlinux := filepath.Join(e.Dir, "vmlinux")
	if err := os.WriteFile(vmlinux, []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := e.Verify()
	if err == nil || !strings.Contains(err.Error(), vmlinux) || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Verify(tampered vmlinux) = %v, want corrupt error naming %s", err, vmlinux)
	}

	vmlinuz := filepath.Join(e.Dir, "vmlinuz")
	if err := os.Remove(vmlinuz); err != nil {
		t.Fatal(err)
	}
	err = e.Verify()
	if err == nil || !strings.Contains(err.Error(), vmlinuz) {
		t.Errorf("Verify(missing vmlinuz) = %v, want error naming %s", err, vmlinuz)
	}

	// A vmlinux the metadata does not know about.
	e2 := storeTestKernel(t, c, "6.6", time.Now(), "", false)
	stray := filepath.Join(e2.Dir, "vmlinux")
	if err := os.WriteFile(stray, []byte("\x7fELF"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e2.Verify(); err == nil || !strings.Contains(err.Error(), stray) {
		t.Errorf("Verify(unrecorded vmlinux) = %v, want error naming %s", err, stray)
	}
}

func TestCacheCorruptMetadata(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	storeTestKernel(t, c, "6.7", time.Now(), schedExtConfig, true)
	bad := filepath.Join(c.Dir, "6.8")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(bad, "metadata.json")
	if err := os.WriteFile(meta, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(); err == nil || !strings.Contains(err.Error(), meta) {
		t.Errorf("List(corrupt metadata) = %v, want error naming %s", err, meta)
	}
	removed, err := c.Clean(5)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Dir != bad {
		t.Errorf("Clean removed %+v, want only %s", removed, bad)
	}
	if entries, err := c.List(); err != nil || len(entries) != 1 {
		t.Errorf("List after Clean = %v, %v; want 1 entry", entries, err)
	}
}

func TestCacheClean(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	base := time.Now().Add(-10 * time.Hour)
	for i, v := range []string{"6.1", "6.2", "6.3", "6.4"} {
		storeTestKernel(t, c, v, base.Add(time.Duration(i)*time.Hour), schedExtConfig, true)
	}
	staleTmp := filepath.Join(c.Dir, ".tmp-6.5-1")
	freshTmp := filepath.Join(c.Dir, ".tmp-6.5-2")
	for _, d := range []string{staleTmp, freshTmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTmpAge)
	if err := os.Chtimes(staleTmp, old, old); err != nil {
		t.Fatal(err)
	}

	if _, err := c.Clean(-1); err == nil {
		t.Error("Clean(-1) succeeded")
	}
	removed, err := c.Clean(2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range removed {
		got = append(got, e.Version)
		if _, err := os.Stat(e.Dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still exists after Clean", e.Dir)
		}
	}
	if strings.Join(got, " ") != "6.2 6.1" {
		t.Errorf("Clean(2) removed %q, want the two oldest", got)
	}
	entries, _ := c.List()
	if len(entries) != 2 || entries[0].Version != "6.4" || entries[1].Version != "6.3" {
		t.Errorf("List after Clean(2) = %+v", entries)
	}
	if _, err := os.Stat(staleTmp); !errors.Is(err, fs.ErrNotExist) {
		t.Error("Clean left a stale temporary directory")
	}
	if _, err := os.Stat(freshTmp); err != nil {
		t.Error("Clean removed a fresh temporary directory (a Store in progress)")
	}

	if removed, err := c.Clean(0); err != nil || len(removed) != 2 {
		t.Errorf("Clean(0) = %d removed, %v; want 2", len(removed), err)
	}
	if removed, err := (Cache{Dir: filepath.Join(c.Dir, "missing")}).Clean(0); err != nil || len(removed) != 0 {
		t.Errorf("Clean(missing dir) = %v, %v", removed, err)
	}
}

func TestStoreKeepsARealSystemMapOnly(t *testing.T) {
	stub := []byte("ffffffffffffffff B The real System.map is in the linux-image-7.2-dbg package\n")
	real := []byte(strings.Repeat("ffffffff81000000 T _text\n", 200))
	for _, tc := range []struct {
		name string
		m    []byte
		want bool
	}{{"stub", stub, false}, {"real", real, true}, {"none", nil, false}} {
		c := Cache{Dir: t.TempDir()}
		e, err := c.Store(StoreRequest{Version: "7.2.0-test", Vmlinuz: []byte("kernel"), SystemMap: tc.m})
		if err != nil {
			t.Fatal(err)
		}
		_, err = os.Stat(filepath.Join(e.Dir, SystemMapName))
		if got := err == nil; got != tc.want {
			t.Errorf("%s: System.map kept = %v, want %v", tc.name, got, tc.want)
		}
	}
}
