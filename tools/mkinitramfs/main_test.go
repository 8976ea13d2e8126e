package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

func TestPacksInitTestAndSchedulers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	out := filepath.Join(dir, "out.cpio")
	var stderr bytes.Buffer
	code := run([]string{"-init", write("init", "INIT"), "-test", write("t", "TEST"), "-sched", "ktstr=" + write("s", "SCHED"), "-o", out}, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(f))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range recs {
		if r.ReaderAt != nil && r.FileSize > 0 {
			b := make([]byte, r.FileSize)
			r.ReadAt(b, 0)
			got[r.Name] = string(b)
		}
	}
	for name, want := range map[string]string{"init": "INIT", "ktstr/bin/test": "TEST", "ktstr/sched/ktstr": "SCHED"} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q (archive: %v)", name, got[name], want, got)
		}
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"-init", "a", "-o", "x"},
		{"-init", "a", "-test", "b", "-o", "x", "-sched", "noequals"},
	} {
		var stderr bytes.Buffer
		if code := run(args, &stderr); code != 2 || !strings.Contains(stderr.String(), "mkinitramfs") {
			t.Errorf("run(%q) = %d, %q; want exit 2 with a message", args, code, stderr.String())
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"-init", "/nonexistent", "-test", "/nonexistent", "-o", filepath.Join(t.TempDir(), "o")}, &stderr); code != 1 || !strings.Contains(stderr.String(), "/nonexistent") {
		t.Errorf("missing input: exit %d, %q", code, stderr.String())
	}
}
