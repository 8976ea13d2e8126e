package kernel

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// resolveTree is a temporary directory tree with one kernel per source.
type resolveTree struct {
	root      string
	explicit  string
	env       string
	cache     Cache
	wellKnown string
	bootDir   string
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newResolveTree(t *testing.T) resolveTree {
	t.Helper()
	root := t.TempDir()
	tr := resolveTree{
		root:      root,
		explicit:  filepath.Join(root, "explicit", "vmlinux-1.0"),
		env:       filepath.Join(root, "env", "vmlinuz-2.0"),
		cache:     Cache{Dir: filepath.Join(root, "cache", "kernels")},
		wellKnown: filepath.Join(root, "wk", "vmlinuz-4.0"),
		bootDir:   filepath.Join(root, "boot"),
	}
	writeFile(t, tr.explicit, "\x7fELF explicit")
	writeFile(t, tr.env, "env kernel")
	writeFile(t, tr.wellKnown, "well-known kernel")
	if err := os.MkdirAll(tr.bootDir, 0o755); err != nil {
		t.Fatal(err)
	}
	storeTestKernel(t, tr.cache, "3.0", time.Now(), schedExtConfig, true)
	return tr
}

func (tr resolveTree) opts(env map[string]string) ResolveOptions {
	c := tr.cache
	return ResolveOptions{
		Getenv:    func(k string) string { return env[k] },
		Cache:     &c,
		WellKnown: []string{filepath.Join(tr.root, "wk", "vmlinuz-*")},
		bootDir:   tr.bootDir,
	}
}

func TestResolveOrder(t *testing.T) {
	tr := newResolveTree(t)
	env := map[string]string{EnvKernel: tr.env}

	// Explicit wins over everything.
	o := tr.opts(env)
	o.Explicit = tr.explicit
	k, err := Resolve(o)
	if err != nil || k.Path != tr.explicit || k.Origin != OriginExplicit || k.Version != "1.0" {
		t.Fatalf("explicit: Resolve = %+v, %v", k, err)
	}

	// Then KTSTR_KERNEL.
	k, err = Resolve(tr.opts(env))
	if err != nil || k.Path != tr.env || k.Origin != OriginEnv || k.Version != "2.0" {
		t.Fatalf("env: Resolve = %+v, %v", k, err)
	}

	// Then the newest cache entry.
	k, err = Resolve(tr.opts(nil))
	want := filepath.Join(tr.cache.Dir, "3.0", "vmlinux")
	if err != nil || k.Path != want || k.Origin != OriginCache || k.Version != "3.0" ||
		k.ConfigPath != filepath.Join(tr.cache.Dir, "3.0", "config") {
		t.Fatalf("cache: Resolve = %+v, %v; want %s", k, err, want)
	}

	// Then well-known locations.
	if _, err := tr.cache.Clean(0); err != nil {
		t.Fatal(err)
	}
	k, err = Resolve(tr.opts(nil))
	if err != nil || k.Path != tr.wellKnown || k.Origin != OriginWellKnown || k.Version != "4.0" {
		t.Fatalf("well-known: Resolve = %+v, %v", k, err)
	}
}

func TestResolveMissingExplicitIsError(t *testing.T) {
	tr := newResolveTree(t)
	o := tr.opts(map[string]string{EnvKernel: tr.env})
	o.Explicit = filepath.Join(tr.root, "no", "such", "vmlinux")
	k, err := Resolve(o)
	if err == nil {
		t.Fatalf("Resolve(missing explicit) = %+v, want error (no fall-through to %s)", k, tr.env)
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), o.Explicit) {
		t.Errorf("error %q should wrap fs.ErrNotExist and name the path", err)
	}
	var nf *NotFoundError
	if errors.As(err, &nf) {
		t.Error("missing explicit path reported as NotFoundError")
	}

	// The same for KTSTR_KERNEL.
	missing := filepath.Join(tr.root, "gone")
	if _, err := Resolve(tr.opts(map[string]string{EnvKernel: missing})); err == nil ||
		!strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), EnvKernel) {
		t.Errorf("Resolve(missing KTSTR_KERNEL) = %v, want error naming %s and %s", err, missing, EnvKernel)
	}
}

func TestResolveNotFound(t *testing.T) {
	root := t.TempDir()
	c := Cache{Dir: filepath.Join(root, "cache")}
	wk := []string{filepath.Join(root, "boot", "vmlinuz-x"), filepath.Join(root, "modules", "*", "vmlinuz")}
	_, err := Resolve(ResolveOptions{
		Getenv:    func(string) string { return "" },
		Cache:     &c,
		WellKnown: wk,
		bootDir:   root,
	})
	if !errors.Is(err, ErrNoKernel) {
		t.Fatalf("Resolve(nothing) = %v, want ErrNoKernel", err)
	}
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("Resolve(nothing) = %T, want *NotFoundError", err)
	}
	if len(nf.Tried) != 5 {
		t.Errorf("Tried = %+v, want 5 attempts", nf.Tried)
	}
	msg := err.Error()
	for _, want := range []string{"--kernel", EnvKernel, c.Dir, wk[0] + ": does not exist", wk[1] + ": no match"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if !strings.HasSuffix(msg, `run "go run github.com/ktstr-go/ktstr/tools/ktstr kernel fetch" or set KTSTR_KERNEL=/path/to/vmlinux`) {
		t.Errorf("error does not end with the fix:\n%s", msg)
	}
}

func TestResolveNeedSchedExt(t *testing.T) {
	tr := newResolveTree(t)

	// Explicit kernel whose config (beside it) lacks sched_ext: error.
	writeFile(t, filepath.Join(filepath.Dir(tr.explicit), "config-1.0"), plainConfig)
	o := tr.opts(nil)
	o.Explicit = tr.explicit
	o.NeedSchedExt = true
	if k, err := Resolve(o); err == nil || !strings.Contains(err.Error(), "CONFIG_SCHED_CLASS_EXT") {
		t.Fatalf("Resolve(explicit without sched_ext) = %+v, %v; want error naming CONFIG_SCHED_CLASS_EXT", k, err)
	}
	// Without NeedSchedExt it is fine.
	o.NeedSchedExt = false
	if k, err := Resolve(o); err != nil || k.ConfigPath != filepath.Join(filepath.Dir(tr.explicit), "config-1.0") {
		t.Fatalf("Resolve(explicit) = %+v, %v", k, err)
	}

	// Env kernel with unknown config: accepted with a note.
	o = tr.opts(map[string]string{EnvKernel: tr.env})
	o.NeedSchedExt = true
	k, err := Resolve(o)
	if err != nil || k.Origin != OriginEnv || k.ConfigPath != "" || k.Note == "" {
		t.Fatalf("Resolve(env, unknown config) = %+v, %v; want accepted with a note", k, err)
	}

	// Newest cache entry lacks sched_ext: the older one that has it wins.
	storeTestKernel(t, tr.cache, "3.1", time.Now().Add(time.Hour), plainConfig, true)
	o = tr.opts(nil)
	o.NeedSchedExt = true
	k, err = Resolve(o)
	if err != nil || k.Version != "3.0" || k.Origin != OriginCache {
		t.Fatalf("Resolve(cache, NeedSchedExt) = %+v, %v; want 3.0", k, err)
	}
	o.NeedSchedExt = false
	if k, err := Resolve(o); err != nil || k.Version != "3.1" {
		t.Fatalf("Resolve(cache) = %+v, %v; want newest 3.1", k, err)
	}

	// Well-known kernel whose /boot config lacks sched_ext is skipped.
	if _, err := tr.cache.Clean(0); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(tr.bootDir, "config-4.0"), plainConfig)
	o = tr.opts(nil)
	o.NeedSchedExt = true
	_, err = Resolve(o)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), tr.wellKnown) || !strings.Contains(err.Error(), "lacks CONFIG_SCHED_CLASS_EXT") {
		t.Fatalf("Resolve(well-known without sched_ext) = %v; want NotFoundError explaining why %s was rejected", err, tr.wellKnown)
	}
	writeFile(t, filepath.Join(tr.bootDir, "config-4.0"), schedExtConfig)
	if k, err := Resolve(o); err != nil || k.Path != tr.wellKnown || k.ConfigPath != filepath.Join(tr.bootDir, "config-4.0") {
		t.Fatalf("Resolve(well-known with sched_ext) = %+v, %v", k, err)
	}
}

func TestResolveDirectoryAndConfig(t *testing.T) {
	root := t.TempDir()
	empty := Cache{Dir: filepath.Join(root, "cache")}
	base := ResolveOptions{Getenv: func(string) string { return "" }, Cache: &empty, WellKnown: []string{}, bootDir: root}

	// A kernel build tree: vmlinux and .config at the top.
	tree := filepath.Join(root, "linux")
	writeFile(t, filepath.Join(tree, "vmlinux"), "\x7fELF")
	writeFile(t, filepath.Join(tree, ".config"), schedExtConfig)
	o := base
	o.Explicit = tree
	o.NeedSchedExt = true
	k, err := Resolve(o)
	if err != nil || k.Path != filepath.Join(tree, "vmlinux") || k.ConfigPath != filepath.Join(tree, ".config") {
		t.Fatalf("Resolve(build tree) = %+v, %v", k, err)
	}

	// arch/x86/boot/bzImage finds the tree's .config; the version comes
	// from the setup header.
	bz := filepath.Join(tree, "arch", "x86", "boot", "bzImage")
	hdr := make([]byte, 0x400)
	copy(hdr[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(hdr[0x20e:], 0x100) // string at 0x300
	copy(hdr[0x300:], "6.15.0-test (me@host) #1 SMP\x00")
	writeFile(t, bz, string(hdr))
	o.Explicit = bz
	k, err = Resolve(o)
	if err != nil || k.Version != "6.15.0-test" || k.ConfigPath != filepath.Join(tree, ".config") {
		t.Fatalf("Resolve(bzImage) = %+v, %v", k, err)
	}

	// /usr/lib/modules/<release>/vmlinuz with config beside it.
	mod := filepath.Join(root, "usr", "lib", "modules", "7.0.1-cloud-amd64", "vmlinuz")
	writeFile(t, mod, "kernel")
	writeFile(t, filepath.Join(filepath.Dir(mod), "config"), plainConfig)
	o = base
	o.WellKnown = []string{filepath.Join(root, "usr", "lib", "modules", "*", "vmlinuz")}
	k, err = Resolve(o)
	if err != nil || k.Version != "7.0.1-cloud-amd64" || k.ConfigPath != filepath.Join(filepath.Dir(mod), "config") || k.Origin != OriginWellKnown {
		t.Fatalf("Resolve(modules) = %+v, %v", k, err)
	}

	// A symlink /boot/vmlinuz -> vmlinuz-<release> finds config-<release>.
	boot := filepath.Join(root, "bootdir")
	writeFile(t, filepath.Join(boot, "vmlinuz-6.1.0-9-amd64"), "kernel")
	writeFile(t, filepath.Join(root, "config-6.1.0-9-amd64"), schedExtConfig)
	if err := os.Symlink("vmlinuz-6.1.0-9-amd64", filepath.Join(boot, "vmlinuz")); err != nil {
		t.Fatal(err)
	}
	o = base
	o.WellKnown = []string{filepath.Join(boot, "vmlinuz")}
	o.NeedSchedExt = true
	k, err = Resolve(o)
	if err != nil || k.Version != "6.1.0-9-amd64" || k.ConfigPath != filepath.Join(root, "config-6.1.0-9-amd64") {
		t.Fatalf("Resolve(symlink) = %+v, %v", k, err)
	}

	// A directory without an image is an error.
	o = base
	o.Explicit = filepath.Join(root, "usr")
	if _, err := Resolve(o); err == nil || !strings.Contains(err.Error(), "no kernel image") {
		t.Errorf("Resolve(empty dir) = %v, want 'no kernel image'", err)
	}
}

func TestDefaultWellKnown(t *testing.T) {
	wk := DefaultWellKnown()
	joined := strings.Join(wk, " ")
	for _, want := range []string{"/boot/vmlinuz", "/usr/lib/modules/*/vmlinuz"} {
		if !strings.Contains(joined, want) {
			t.Errorf("DefaultWellKnown() = %q, missing %s", wk, want)
		}
	}
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		if want := "/boot/vmlinuz-" + strings.TrimSpace(string(rel)); wk[0] != want {
			t.Errorf("DefaultWellKnown()[0] = %q, want %q", wk[0], want)
		}
	}
}

func TestResolveMissingChosenPathIsNoKernel(t *testing.T) {
	for _, opts := range []ResolveOptions{
		{Explicit: "/nonexistent/vmlinux"},
		{Getenv: func(k string) string { return map[string]string{EnvKernel: "/nonexistent/vmlinux"}[k] }},
	} {
		_, err := Resolve(opts)
		if !errors.Is(err, ErrNoKernel) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "/nonexistent/vmlinux") {
			t.Errorf("Resolve(%+v) = %v; want ErrNoKernel and fs.ErrNotExist, naming the path", opts, err)
		}
	}
}

// A cached ktstr build from another fragment than this ktstr's resolves
// with a note saying to build again; one from this fragment, and a
// fetched kernel (no fragment recorded), without.
func TestResolveOlderFragmentNote(t *testing.T) {
	for _, tc := range []struct {
		name, fragment string
		note           bool
	}{
		{"older build", strings.Repeat("0", 64), true},
		{"current build", FragmentSum(), false},
		{"fetched", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Cache{Dir: filepath.Join(t.TempDir(), "kernels")}
			e, err := c.Store(StoreRequest{Version: "7.0-ktstr-x", Source: "test", Vmlinuz: []byte("vmlinuz"),
				Vmlinux: []byte("\x7fELF vmlinux"), Config: []byte(schedExtConfig), FragmentSHA256: tc.fragment})
			if err != nil {
				t.Fatal(err)
			}
			if e.OlderFragment() != tc.note {
				t.Errorf("OlderFragment() = %v, want %v", e.OlderFragment(), tc.note)
			}
			k, err := Resolve(ResolveOptions{Getenv: func(string) string { return "" }, Cache: &c, WellKnown: []string{}, NeedSchedExt: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(k.Note, "ktstr kernel build"); got != tc.note {
				t.Errorf("note %q: says to build again = %v, want %v", k.Note, got, tc.note)
			}
			// The fragment's sum survives the round trip through metadata.json.
			listed, err := c.List()
			if err != nil || len(listed) != 1 || listed[0].FragmentSHA256 != tc.fragment {
				t.Errorf("List() = %+v, %v: want fragment %q kept", listed, err, tc.fragment)
			}
		})
	}
}
