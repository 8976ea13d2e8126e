package kernel

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunCommandCapturesStderr(t *testing.T) {
	ctx := context.Background()
	out, errOut, err := runCommand(ctx, "", nil, "sh", "-c", "echo out; echo oops >&2")
	if err != nil || string(out) != "out\n" || string(errOut) != "oops\n" {
		t.Fatalf("runCommand = %q, %q, %v", out, errOut, err)
	}
	_, _, err = runCommand(ctx, "", []string{"update"}, "sh", "-c", "echo 'E: something broke' >&2; exit 100")
	if err == nil {
		t.Fatal("runCommand(failing) succeeded")
	}
	for _, want := range []string{"sh update", "exit status 100", "E: something broke"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := runCommand(ctx, "", nil, "sleep", "5"); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("runCommand(canceled) = %v, want context canceled", err)
	}
}

func TestAptWarnings(t *testing.T) {
	stderr := "W: Download is performed unsandboxed as root as file '/x' couldn't be accessed by user '_apt'. - pkgAcquire::Run (13: Permission denied)\n" +
		"Ign:1 http://mirror.example/debian sid InRelease\n" +
		"W: Failed to fetch http://mirror.example/debian/dists/sid/InRelease  Could not connect\n" +
		"W: Some index files failed to download.\n"
	got := aptWarnings([]byte(stderr))
	want := "W: Failed to fetch http://mirror.example/debian/dists/sid/InRelease  Could not connect\nW: Some index files failed to download."
	if got != want {
		t.Errorf("aptWarnings = %q, want %q", got, want)
	}
}

func TestTail(t *testing.T) {
	if got := tail("a\n\nb\nc\n", 2); got != "b\nc" {
		t.Errorf("tail = %q", got)
	}
	if got := tail("", 2); got != "" {
		t.Errorf("tail(empty) = %q", got)
	}
}

func TestFindDeb(t *testing.T) {
	dir := t.TempDir()
	pkg := "linux-binary-unsigned-7.2.13+deb14-cloud-amd64"
	name := filepath.Join(dir, pkg+"_1%3a7.2.13-1_amd64.deb")
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	path, version, err := findDeb(dir, pkg)
	if err != nil || path != name || version != "1:7.2.13-1" {
		t.Errorf("findDeb = %q, %q, %v", path, version, err)
	}
	if _, _, err := findDeb(dir, "linux-base-7.2.13+deb14-cloud-amd64"); err == nil {
		t.Error("findDeb(missing) succeeded")
	}
}

func TestNewSideApt(t *testing.T) {
	work := t.TempDir()
	a, err := newSideApt(work, "http://mirror.example/debian", "sid", "cloud-amd64")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(work, "sources.list"))
	if err != nil || string(b) != "deb http://mirror.example/debian sid main\n" {
		t.Errorf("sources.list = %q, %v", b, err)
	}
	opts := strings.Join(a.options, " ")
	for _, want := range []string{
		"-o Dir::Etc::SourceList=" + filepath.Join(work, "sources.list"),
		"-o Dir::Etc::SourceParts=/dev/null",
		"-o Dir::State::Lists=" + filepath.Join(work, "lists"),
		"-o Dir::Cache=" + filepath.Join(work, "cache"),
		"-o Acquire::Check-Valid-Until=false",
		"-o APT::Architecture=amd64",
	} {
		if !strings.Contains(opts, want) {
			t.Errorf("apt options %q lack %q", opts, want)
		}
	}
	for _, d := range []string{"lists/partial", "cache/archives/partial"} {
		if fi, err := os.Stat(filepath.Join(work, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s not created: %v", d, err)
		}
	}
}

func TestFetchWithoutApt(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Fetch(context.Background(), FetchOptions{Cache: Cache{Dir: t.TempDir()}})
	if err == nil {
		t.Fatal("Fetch without apt succeeded")
	}
	for _, want := range []string{"Debian-based host with apt", "KTSTR_KERNEL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
