package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/kernel"
)

// isolate points the cache at an empty temporary directory and clears
// KTSTR_KERNEL.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("KTSTR_CACHE_DIR", dir)
	t.Setenv("KTSTR_KERNEL", "")
	return dir
}

func runArgs(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestUnknownCommand(t *testing.T) {
	code, _, stderr := runArgs("frobnicate")
	if code != 2 {
		t.Errorf("exit = %d, want 2", code)
	}
	for _, want := range []string{`unknown command "frobnicate"`, "usage: ktstr", "kernel"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	code, _, stderr = runArgs("kernel", "frobnicate")
	if code != 2 {
		t.Errorf("kernel frobnicate: exit = %d, want 2", code)
	}
	for _, want := range []string{"usage: ktstr kernel", "fetch", "list", "clean", "resolve"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("kernel usage lacks %q:\n%s", want, stderr)
		}
	}

	if code, _, _ := runArgs(); code != 2 {
		t.Errorf("no arguments: exit = %d, want 2", code)
	}
	if code, stdout, _ := runArgs("help"); code != 0 || !strings.Contains(stdout, "kernel") {
		t.Errorf("help: exit = %d, stdout %q", code, stdout)
	}
	if code, _, stderr := runArgs("kernel", "list", "--bogus"); code != 2 || !strings.Contains(stderr, "bogus") {
		t.Errorf("bad flag: exit = %d, stderr %q", code, stderr)
	}
	if code, _, _ := runArgs("kernel", "list", "extra"); code != 2 {
		t.Errorf("extra argument: exit = %d, want 2", code)
	}
	if code, _, _ := runArgs("kernel", "list", "-h"); code != 0 {
		t.Errorf("kernel list -h: exit = %d, want 0", code)
	}
}

func TestKernelListJSONEmpty(t *testing.T) {
	isolate(t)
	code, stdout, stderr := runArgs("kernel", "list", "--json")
	if code != 0 {
		t.Fatalf("exit = %d, stderr %q", code, stderr)
	}
	if strings.TrimSpace(stdout) != "[]" {
		t.Errorf("stdout = %q, want []", stdout)
	}
	code, stdout, stderr = runArgs("kernel", "list")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "no kernels cached") {
		t.Errorf("kernel list (empty) = %d, %q, %q", code, stdout, stderr)
	}
}

func TestKernelListAndClean(t *testing.T) {
	dir := isolate(t)
	cache := kernel.Cache{Dir: filepath.Join(dir, "kernels")}
	for i, v := range []string{"6.1", "6.2"} {
		_, err := cache.Store(kernel.StoreRequest{
			Version:   v,
			Source:    "test",
			Vmlinuz:   []byte("kernel " + v),
			Vmlinux:   []byte("\x7fELF " + v),
			Config:    []byte("CONFIG_SCHED_CLASS_EXT=y\nCONFIG_BPF=y\nCONFIG_BPF_SYSCALL=y\nCONFIG_BPF_JIT=y\nCONFIG_DEBUG_INFO_BTF=y\n"),
			FetchedAt: time.Now().Add(time.Duration(i) * time.Minute),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runArgs("kernel", "list", "--json")
	if code != 0 {
		t.Fatalf("exit = %d, stderr %q", code, stderr)
	}
	var entries []kernel.Entry
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil {
		t.Fatalf("decoding %q: %v", stdout, err)
	}
	if len(entries) != 2 || entries[0].Version != "6.2" || !entries[0].SchedExt {
		t.Errorf("entries = %+v", entries)
	}

	code, stdout, _ = runArgs("kernel", "list")
	if code != 0 || !strings.HasPrefix(stdout, "VERSION") || !strings.Contains(stdout, filepath.Join(cache.Dir, "6.2", "vmlinux")) {
		t.Errorf("kernel list = %d:\n%s", code, stdout)
	}

	code, stdout, _ = runArgs("kernel", "resolve", "--sched-ext")
	if code != 0 || !strings.Contains(stdout, "origin:  cache") || !strings.Contains(stdout, filepath.Join(cache.Dir, "6.2", "vmlinux")) {
		t.Errorf("kernel resolve = %d:\n%s", code, stdout)
	}

	code, stdout, _ = runArgs("kernel", "clean", "--keep", "1")
	if code != 0 || !strings.Contains(stdout, "removed 6.1") {
		t.Errorf("kernel clean = %d:\n%s", code, stdout)
	}
	if code, _, _ := runArgs("kernel", "clean", "--keep", "-1"); code != 2 {
		t.Errorf("clean --keep -1: exit = %d, want 2", code)
	}
	if left, err := cache.List(); err != nil || len(left) != 1 || left[0].Version != "6.2" {
		t.Errorf("after clean: %+v, %v", left, err)
	}
}

func TestKernelResolveFailure(t *testing.T) {
	isolate(t)
	var stdout, stderr bytes.Buffer
	a := &app{ctx: context.Background(), stdout: &stdout, stderr: &stderr, wellKnown: []string{"/nonexistent/ktstr-test/vmlinuz"}}
	if code := a.main([]string{"kernel", "resolve"}); code != 1 {
		t.Fatalf("exit = %d, want 1; stdout %q", code, stdout.String())
	}
	msg := stderr.String()
	for _, want := range []string{
		"no kernel found",
		"KTSTR_KERNEL",
		"/nonexistent/ktstr-test/vmlinuz: does not exist",
		`run "go run github.com/ktstr-go/ktstr/tools/ktstr kernel fetch" or set KTSTR_KERNEL=/path/to/vmlinux`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}

	// A missing --kernel path fails at once, through run as well.
	code, _, stderr2 := runArgs("kernel", "resolve", "--kernel", "/nonexistent/vmlinux")
	if code != 1 || !strings.Contains(stderr2, "/nonexistent/vmlinux") {
		t.Errorf("resolve --kernel missing = %d, %q", code, stderr2)
	}
}

func TestKernelResolveExplicit(t *testing.T) {
	dir := isolate(t)
	img := filepath.Join(dir, "vmlinuz-9.9")
	if err := os.WriteFile(img, []byte("kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runArgs("kernel", "resolve", "--kernel", img, "--sched-ext")
	if code != 0 {
		t.Fatalf("exit = %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"path:    " + img, "origin:  explicit", "version: 9.9", "note:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
}
