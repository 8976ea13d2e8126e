package runner

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

// readArchive parses a newc archive and returns its records in order.
func readArchive(t *testing.T, b []byte) []cpio.Record {
	t.Helper()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("reading archive back: %v", err)
	}
	return recs
}

// index maps record names to their position in recs.
func index(recs []cpio.Record) map[string]int {
	m := map[string]int{}
	for i, r := range recs {
		m[r.Name] = i
	}
	return m
}

func content(t *testing.T, r cpio.Record) string {
	t.Helper()
	if r.ReaderAt == nil {
		return ""
	}
	b, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
	if err != nil {
		t.Fatalf("reading %s: %v", r.Name, err)
	}
	return string(b)
}

func build(t *testing.T, files []File, withBase bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := BuildInitramfs(&buf, files, withBase); err != nil {
		t.Fatalf("BuildInitramfs: %v", err)
	}
	return buf.Bytes()
}

func TestBuildInitramfsContents(t *testing.T) {
	dir := t.TempDir()
	initSrc := filepath.Join(dir, "ktstr-init")
	if err := os.WriteFile(initSrc, []byte("#!init binary\x00\x01"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := []File{
		{Path: "/init", Source: initSrc, Mode: 0o755},
		{Path: "/ktstr/request.json", Data: []byte(`{"test":"TestX"}`)},
		{Path: "/etc/deep/dir/conf", Data: []byte("k=v\n"), Mode: 0o600},
		{Path: "relative/name", Data: []byte("r")},
		{Path: "/sbin/init", Link: "/init"},
	}
	b := build(t, files, true)
	recs := readArchive(t, b)
	idx := index(recs)

	type want struct {
		mode uint64
		data string
	}
	for name, w := range map[string]want{
		"init":               {cpio.S_IFREG | 0o755, "#!init binary\x00\x01"},
		"ktstr/request.json": {cpio.S_IFREG | 0o644, `{"test":"TestX"}`},
		"etc/deep/dir/conf":  {cpio.S_IFREG | 0o600, "k=v\n"},
		"relative/name":      {cpio.S_IFREG | 0o644, "r"},
		"dev":                {cpio.S_IFDIR | 0o755, ""},
		"proc":               {cpio.S_IFDIR | 0o555, ""},
		"sys":                {cpio.S_IFDIR | 0o555, ""},
		"tmp":                {cpio.S_IFDIR | 0o1777, ""},
		"ktstr":              {cpio.S_IFDIR | 0o755, ""},
		"etc":                {cpio.S_IFDIR | 0o777, ""},
		"etc/deep":           {cpio.S_IFDIR | 0o777, ""},
		"etc/deep/dir":       {cpio.S_IFDIR | 0o777, ""},
		"relative":           {cpio.S_IFDIR | 0o777, ""},
		"dev/console":        {cpio.S_IFCHR | 0o600, ""},
		"sbin/init":          {cpio.S_IFLNK | 0o777, "/init"},
	} {
		i, ok := idx[name]
		if !ok {
			t.Errorf("archive lacks %q; it has %v", name, names(recs))
			continue
		}
		r := recs[i]
		if r.Mode != w.mode {
			t.Errorf("%s: mode %#o, want %#o", name, r.Mode, w.mode)
		}
		if got := content(t, r); got != w.data {
			t.Errorf("%s: content %q, want %q", name, got, w.data)
		}
		if r.MTime != 0 || r.UID != 0 || r.GID != 0 {
			t.Errorf("%s: not reproducible: mtime %d uid %d gid %d", name, r.MTime, r.UID, r.GID)
		}
	}

	devConsole := recs[idx["dev/console"]]
	if devConsole.Rmajor != 5 || devConsole.Rminor != 1 {
		t.Errorf("dev/console is %d,%d, want 5,1", devConsole.Rmajor, devConsole.Rminor)
	}

	// Every parent directory comes before what it contains.
	for i, r := range recs {
		for d := filepath.Dir(r.Name); d != "." && d != "/"; d = filepath.Dir(d) {
			j, ok := idx[d]
			if !ok {
				t.Errorf("%s: parent %s missing", r.Name, d)
			} else if j > i {
				t.Errorf("%s (record %d) comes before its parent %s (record %d)", r.Name, i, d, j)
			}
		}
	}
	if !bytes.Contains(b, []byte(cpio.Trailer)) {
		t.Error("archive has no trailer")
	}

	// The archive is reproducible byte for byte.
	if again := build(t, files, true); !bytes.Equal(again, b) {
		t.Error("two builds of the same files differ")
	}
}

func names(recs []cpio.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Name)
	}
	return out
}

func TestBuildInitramfsWithoutBase(t *testing.T) {
	recs := readArchive(t, build(t, []File{{Path: "/ktstr/request.json", Data: []byte("{}")}}, false))
	idx := index(recs)
	for _, absent := range []string{"dev", "dev/console", "proc", "sys", "tmp"} {
		if _, ok := idx[absent]; ok {
			t.Errorf("archive without base has %q", absent)
		}
	}
	i, ok := idx["ktstr/request.json"]
	if !ok {
		t.Fatalf("archive lacks the request: %v", names(recs))
	}
	if got := content(t, recs[i]); got != "{}" {
		t.Errorf("request content %q, want {}", got)
	}
	if j, ok := idx["ktstr"]; !ok || recs[j].Mode&cpio.S_IFMT != cpio.S_IFDIR {
		t.Errorf("archive lacks the ktstr directory: %v", names(recs))
	}
}

func TestBuildInitramfsEmptyArchive(t *testing.T) {
	var buf bytes.Buffer
	if err := BuildInitramfs(&buf, nil, false); err != nil {
		t.Fatalf("BuildInitramfs(nothing): %v", err)
	}
	if recs := readArchive(t, buf.Bytes()); len(recs) != 0 {
		t.Errorf("empty archive has records %v", names(recs))
	}
	if !bytes.Contains(buf.Bytes(), []byte(cpio.Trailer)) {
		t.Error("empty archive has no trailer")
	}
}

func TestBuildInitramfsErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-binary")
	tests := []struct {
		name     string
		file     File
		contains []string
		notExist bool
	}{
		{"empty path", File{Path: "", Data: []byte("x")}, []string{"empty path"}, false},
		{"root path", File{Path: "/", Data: []byte("x")}, []string{"empty path"}, false},
		{"missing source", File{Path: "/init", Source: missing}, []string{missing, "/init"}, true},
		{"directory source", File{Path: "/init", Source: dir}, []string{dir, "not a regular file"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := BuildInitramfs(io.Discard, []File{{Path: "/ok", Data: []byte("ok")}, tt.file}, true)
			if err == nil {
				t.Fatal("BuildInitramfs = nil, want an error")
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if tt.notExist && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v does not wrap fs.ErrNotExist", err)
			}
		})
	}
}

func TestWriteInitramfs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "base.cpio")
	files := []File{{Path: "/hello", Data: []byte("world"), Mode: 0o755}}
	if err := WriteInitramfs(path, files, true); err != nil {
		t.Fatalf("WriteInitramfs: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, build(t, files, true)) {
		t.Error("WriteInitramfs wrote something else than BuildInitramfs")
	}
	if err := WriteInitramfs(filepath.Join(t.TempDir(), "no", "dir", "x.cpio"), files, true); err == nil {
		t.Error("WriteInitramfs into a missing directory = nil, want an error")
	}
}

// lddPaths returns the library paths ldd prints for bin ("=> /path").
func lddPaths(t *testing.T, bin string) []string {
	t.Helper()
	ldd, err := exec.LookPath("ldd")
	if err != nil {
		return nil
	}
	out, err := exec.Command(ldd, bin).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", bin, err)
	}
	var paths []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/") {
			paths = append(paths, f[2])
		}
	}
	return paths
}

func TestBuildInitramfsWithLibs(t *testing.T) {
	const bin = "/bin/true"
	f, err := elf.Open(bin)
	if err != nil {
		t.Skipf("no ELF %s on this host: %v", bin, err)
	}
	sec := f.Section(".interp")
	var interp string
	if sec != nil {
		d, err := sec.Data()
		if err != nil {
			t.Fatal(err)
		}
		interp = strings.TrimRight(string(d), "\x00")
	}
	f.Close()
	if interp == "" {
		t.Skipf("%s is statically linked on this host", bin)
	}

	recs := readArchive(t, build(t, []File{{Path: "/bin/probe", Source: bin, Mode: 0o755, WithLibs: true}}, false))
	idx := index(recs)

	want := append([]string{interp}, lddPaths(t, bin)...)
	for _, p := range want {
		name := strings.TrimPrefix(p, "/")
		i, ok := idx[name]
		if !ok {
			t.Errorf("archive lacks %s; it has %v", name, names(recs))
			continue
		}
		st, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		r := recs[i]
		if st.Mode()&fs.ModeSymlink != 0 {
			// A symlink is kept as one, and what it points to is added.
			target, err := os.Readlink(p)
			if err != nil {
				t.Fatal(err)
			}
			if r.Mode&cpio.S_IFMT != cpio.S_IFLNK || content(t, r) != target {
				t.Errorf("%s: mode %#o content %q, want a symlink to %q", name, r.Mode, content(t, r), target)
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(p), target)
			}
			if _, ok := idx[strings.TrimPrefix(target, "/")]; !ok {
				t.Errorf("%s links to %s, which is not in the archive", name, target)
			}
			continue
		}
		if r.Mode&cpio.S_IFMT != cpio.S_IFREG || r.FileSize != uint64(st.Size()) {
			t.Errorf("%s: mode %#o size %d, want a regular file of %d bytes", name, r.Mode, r.FileSize, st.Size())
		}
	}
	libc := false
	for _, r := range recs {
		if strings.HasPrefix(filepath.Base(r.Name), "libc.") && r.Mode&cpio.S_IFMT == cpio.S_IFREG && r.FileSize > 0 {
			libc = true
		}
	}
	if !libc {
		t.Errorf("archive has no libc: %v", names(recs))
	}
	if i, ok := idx["bin/probe"]; !ok || recs[i].Mode != cpio.S_IFREG|0o755 {
		t.Errorf("archive lacks bin/probe as an executable: %v", names(recs))
	}

	// The same binary without WithLibs brings no libraries.
	plain := readArchive(t, build(t, []File{{Path: "/bin/probe", Source: bin, Mode: 0o755}}, false))
	if got := strings.Join(names(plain), " "); got != "bin bin/probe" {
		t.Errorf("archive without WithLibs has %s, want bin bin/probe", got)
	}
}
