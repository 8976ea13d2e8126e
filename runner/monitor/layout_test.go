package monitor

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// testVmlinux is a real kernel from the local cache, when there is one.
func testVmlinux(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KTSTR_KERNEL"); p != "" && filepath.Base(p) == "vmlinux" {
		return p
	}
	home, _ := os.UserHomeDir()
	m, _ := filepath.Glob(filepath.Join(home, ".cache", "ktstr", "kernels", "*", "vmlinux"))
	if len(m) == 0 {
		t.Skip("no cached vmlinux (run: go run ./tools/ktstr kernel fetch)")
	}
	return m[0]
}

func TestLayoutOfARealKernel(t *testing.T) {
	l, err := LoadLayout(testVmlinux(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *l)
	if !l.HasScx || !l.HasSched || !l.HasEvents || !l.HasRunnableList {
		t.Errorf("a sched_ext kernel must give every part: %+v", *l)
	}
	if _, ok := l.Events["SCX_EV_SELECT_CPU_FALLBACK"]; !ok {
		t.Errorf("no SCX_EV_SELECT_CPU_FALLBACK in %v", l.EventNames)
	}
	if l.RunqueuesOffset == 0 || l.RqClock == 0 || l.DelayedWorkExpires == 0 {
		t.Errorf("offsets missing: %+v", *l)
	}
}

// TestLayoutDiskCache: a layout resolved once is read back from the disk
// cache by a later process (here: with the in-process cache cleared),
// and a changed kernel file is resolved afresh.
func TestLayoutDiskCache(t *testing.T) {
	src := testVmlinux(t)
	kdir, cache := t.TempDir(), t.TempDir()
	vmlinux := filepath.Join(kdir, "vmlinux")
	copyFile(t, src, vmlinux)
	forget := func() {
		layoutCache.Range(func(k, _ any) bool { layoutCache.Delete(k); return true })
	}
	forget()
	fresh, err := LoadLayoutCached(vmlinux, cache)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "*.json"))
	if len(files) != 1 {
		t.Fatalf("want one cached layout, got %v", files)
	}
	// Mark the cached copy, so that reading it can be told from parsing.
	var marked Layout
	b, _ := os.ReadFile(files[0])
	if err := json.Unmarshal(b, &marked); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&marked, fresh) {
		t.Fatalf("cached layout differs from the resolved one:\n%+v\n%+v", marked, *fresh)
	}
	marked.RqClock = 12345
	b, _ = json.Marshal(marked)
	os.WriteFile(files[0], b, 0o644)
	forget()
	got, err := LoadLayoutCached(vmlinux, cache)
	if err != nil || got.RqClock != 12345 {
		t.Fatalf("second load did not read the disk cache: RqClock %d, err %v", got.RqClock, err)
	}
	// A changed kernel file has another key.
	forget()
	later := time.Now().Add(time.Hour)
	os.Chtimes(vmlinux, later, later)
	got, err = LoadLayoutCached(vmlinux, cache)
	if err != nil || got.RqClock != fresh.RqClock {
		t.Fatalf("a changed kernel file reused the old layout: RqClock %d, err %v", got.RqClock, err)
	}
	// An unreadable entry is passed over.
	forget()
	files, _ = filepath.Glob(filepath.Join(cache, "*.json"))
	for _, f := range files {
		os.WriteFile(f, []byte("{not json"), 0o644)
	}
	if got, err = LoadLayoutCached(vmlinux, cache); err != nil || got.RqClock != fresh.RqClock {
		t.Fatalf("a corrupt cache entry was not passed over: %+v, %v", got, err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
