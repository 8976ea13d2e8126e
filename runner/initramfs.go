package runner

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
	"github.com/u-root/u-root/pkg/ldd"
	"github.com/u-root/uio/uio"
)

// File is one file to put into an initramfs.
type File struct {
	// Path is the absolute path inside the guest ("/init").
	Path string
	// Source is a host file to copy; Data is used when Source is "".
	Source string
	Data   []byte
	// Link, when set, makes Path a symbolic link to Link (an absolute
	// path in the guest, or one relative to Path's directory).
	Link string
	// Mode is the permission bits (0o755 for binaries).
	Mode uint64
	// WithLibs adds the shared libraries Source needs (its DT_NEEDED
	// closure and interpreter, resolved by the host's dynamic loader) at
	// their host paths.
	WithLibs bool
}

// baseRecords are what every ktstr initramfs has besides its files; init
// needs /dev/console before devtmpfs is mounted.
func baseRecords() []cpio.Record {
	return []cpio.Record{
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.Directory("proc", 0o555),
		cpio.Directory("sys", 0o555),
		cpio.Directory("tmp", 0o1777),
		cpio.Directory("ktstr", 0o755),
	}
}

// BuildInitramfs writes a reproducible newc archive holding files and the
// directories they need. withBase adds /dev/console and the mount points;
// an archive appended to another one (a request) leaves it out.
func BuildInitramfs(w io.Writer, files []File, withBase bool) error {
	var recs []cpio.Record
	if withBase {
		recs = baseRecords()
	}
	seen := map[string]bool{}
	add := func(r cpio.Record) {
		if !seen[r.Name] {
			seen[r.Name] = true
			recs = append(recs, r)
		}
	}
	var libSources []string
	for _, f := range files {
		name := strings.TrimPrefix(f.Path, "/")
		if name == "" {
			return fmt.Errorf("initramfs: file from %q has an empty path", f.Source)
		}
		if seen[name] {
			return fmt.Errorf("initramfs: %s given twice (or clashes with a base entry)", f.Path)
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		if f.Link != "" {
			add(cpio.Symlink(name, f.Link))
			continue
		}
		if f.Source == "" {
			add(cpio.StaticRecord(f.Data, cpio.Info{Name: name, Mode: cpio.S_IFREG | mode}))
			continue
		}
		r, err := fileRecord(f.Source, name, mode)
		if err != nil {
			return fmt.Errorf("initramfs: %s (for %s): %w", f.Source, f.Path, err)
		}
		add(r)
		if f.WithLibs {
			libSources = append(libSources, f.Source)
		}
	}
	if len(libSources) > 0 {
		libs, err := ldd.FList(libSources...)
		if err != nil {
			return fmt.Errorf("initramfs: resolving shared libraries of %v: %w", libSources, err)
		}
		sort.Strings(libs)
		for _, l := range libs {
			r, err := libRecord(l)
			if err != nil {
				return fmt.Errorf("initramfs: library %s: %w", l, err)
			}
			add(r)
		}
	}
	cpio.MakeAllReproducible(recs)
	cw := cpio.Newc.Writer(w)
	if err := cpio.WriteRecordsAndDirs(cw, recs); err != nil {
		return fmt.Errorf("initramfs: writing archive: %w", err)
	}
	if err := cpio.WriteTrailer(cw); err != nil {
		return fmt.Errorf("initramfs: writing trailer: %w", err)
	}
	return nil
}

// fileRecord is a regular-file record named name with the contents of
// src, following symlinks (a Bazel runfile is often one). Every record
// carries its own contents: no hard-link sharing, which would leave a
// second path to the same inode empty.
func fileRecord(src, name string, mode uint64) (cpio.Record, error) {
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return cpio.Record{}, err
	}
	st, err := os.Stat(real)
	if err != nil {
		return cpio.Record{}, err
	}
	if !st.Mode().IsRegular() {
		return cpio.Record{}, fmt.Errorf("not a regular file")
	}
	return cpio.Record{
		ReaderAt: uio.NewLazyFile(real),
		Info:     cpio.Info{Name: name, Mode: cpio.S_IFREG | mode, FileSize: uint64(st.Size()), NLink: 1},
	}, nil
}

// libRecord keeps a library's path as the dynamic loader will look for
// it: a symlink stays a symlink (its target is listed too), a file is
// copied.
func libRecord(path string) (cpio.Record, error) {
	name := strings.TrimPrefix(path, "/")
	st, err := os.Lstat(path)
	if err != nil {
		return cpio.Record{}, err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(path)
		if err != nil {
			return cpio.Record{}, err
		}
		return cpio.Symlink(name, target), nil
	}
	return fileRecord(path, name, uint64(st.Mode().Perm()))
}

// WriteInitramfs is BuildInitramfs into a new file at path.
func WriteInitramfs(path string, files []File, withBase bool) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	if err := BuildInitramfs(f, files, withBase); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("initramfs: closing %s: %w", path, err)
	}
	return nil
}
