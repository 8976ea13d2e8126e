package kernel

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// logWriter sends progress lines to t.Log and keeps a copy.
type logWriter struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (w *logWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestFetchReal downloads the Debian sid cloud kernel into a temporary
// cache. It needs apt and the machine's Debian mirror; -short skips it.
func TestFetchReal(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the real kernel download in -short mode")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skipf("kernel fetch needs apt-get: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	root := t.TempDir()
	cache := Cache{Dir: filepath.Join(root, "kernels")}
	progress := &logWriter{t: t}
	e, err := Fetch(ctx, FetchOptions{Cache: cache, Progress: progress})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	t.Logf("entry: %+v", e)

	if !e.SchedExt {
		t.Error("entry SchedExt = false")
	}
	if !strings.HasPrefix(e.Source, "debian sid linux-binary-unsigned-"+e.Version+" ") {
		t.Errorf("Source = %q", e.Source)
	}
	if !strings.HasSuffix(e.Version, "-cloud-amd64") {
		t.Errorf("Version = %q, want a cloud-amd64 release", e.Version)
	}
	cfg, err := os.ReadFile(e.ConfigPath())
	if err != nil {
		t.Fatalf("reading config: %v", err)
	}
	if err := CheckConfig(cfg, RequiredSchedExt...); err != nil {
		t.Errorf("cached config: %v", err)
	}
	if e.BootImage() != filepath.Join(e.Dir, "vmlinux") {
		t.Errorf("BootImage = %s, want vmlinux", e.BootImage())
	}
	f, err := os.Open(e.BootImage())
	if err != nil {
		t.Fatal(err)
	}
	magic := make([]byte, 4)
	_, err = f.Read(magic)
	f.Close()
	if err != nil || string(magic) != "\x7fELF" {
		t.Errorf("vmlinux starts with %q, %v; want ELF magic", magic, err)
	}
	if err := e.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if got, err := cache.Lookup(e.Version); err != nil || got.VmlinuxSHA256 != e.VmlinuxSHA256 {
		t.Errorf("Lookup = %+v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(root, "apt", "sources.list")); err != nil {
		t.Errorf("default WorkDir not under the cache's parent: %v", err)
	}

	// A second fetch finds the verified entry and downloads nothing.
	again := &logWriter{t: t}
	e2, err := Fetch(ctx, FetchOptions{Cache: cache, Progress: again})
	if err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	if e2.Dir != e.Dir || !strings.Contains(again.String(), "already cached") || strings.Contains(again.String(), "downloading") {
		t.Errorf("second Fetch did not reuse the cache entry:\n%s", again.String())
	}
}
