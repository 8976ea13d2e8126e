package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/u-root/u-root/pkg/ldd"
)

// EnvInitramfsCache sets the initramfs cache's folder; "off" turns the
// cache off (every run packs its archive afresh).
const EnvInitramfsCache = "KTSTR_INITRAMFS_CACHE"

// initramfsFormat changes whenever BuildInitramfs writes the same files
// differently, so that archives an older ktstr cached are not reused.
const initramfsFormat = 1

// InitramfsCache keeps initramfs archives by content: an archive's name
// is the hash of everything that goes into it (every file's guest path,
// mode and contents, the shared libraries they load, the archive
// format), so an unchanged test binary finds its archive ready and a
// changed one never finds a stale one. Dir "" turns it off.
type InitramfsCache struct {
	Dir string
	// Keep is how many archives stay (the most recently used); 0 keeps
	// DefaultInitramfsKeep.
	Keep int
}

// DefaultInitramfsKeep is how many archives a cache keeps by default:
// an archive is the size of its test binary (tens of MB).
const DefaultInitramfsKeep = 8

// DefaultInitramfsCache is $KTSTR_INITRAMFS_CACHE, or
// $XDG_CACHE_HOME/ktstr/initramfs (~/.cache/ktstr/initramfs); off when
// $KTSTR_INITRAMFS_CACHE is "off" or there is no user cache folder.
func DefaultInitramfsCache() InitramfsCache {
	switch v := os.Getenv(EnvInitramfsCache); v {
	case "off":
		return InitramfsCache{}
	case "":
		c, err := os.UserCacheDir()
		if err != nil {
			return InitramfsCache{}
		}
		return InitramfsCache{Dir: filepath.Join(c, "ktstr", "initramfs")}
	default:
		return InitramfsCache{Dir: v}
	}
}

// Archive returns the path of an archive of files (see
// [BuildInitramfs]): the cached one with the same key, or one built now
// and cached; hit says which. A cache folder that cannot be written is an
// error: the caller may pack without the cache instead.
func (c InitramfsCache) Archive(files []File, withBase bool) (path string, hit bool, err error) {
	if c.Dir == "" {
		return "", false, fmt.Errorf("initramfs cache: off")
	}
	key, err := InitramfsKey(files, withBase)
	if err != nil {
		return "", false, err
	}
	path = filepath.Join(c.Dir, key+".cpio")
	if _, err := os.Stat(path); err == nil {
		now := time.Now()
		os.Chtimes(path, now, now) // most recently used
		return path, true, nil
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return "", false, fmt.Errorf("initramfs cache: %w", err)
	}
	tmp, err := os.CreateTemp(c.Dir, "build.*.tmp")
	if err != nil {
		return "", false, fmt.Errorf("initramfs cache: %w", err)
	}
	if err := BuildInitramfs(tmp, files, withBase); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", false, err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", false, fmt.Errorf("initramfs cache: %w", err)
	}
	// Processes packing the same key at once write the same bytes; the
	// rename is atomic, so a reader sees one whole archive.
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", false, fmt.Errorf("initramfs cache: %w", err)
	}
	c.trim(path)
	return path, false, nil
}

// trim removes all but the Keep most recently used archives (never
// keep, just written).
func (c InitramfsCache) trim(keep string) {
	n := c.Keep
	if n <= 0 {
		n = DefaultInitramfsKeep
	}
	m, _ := filepath.Glob(filepath.Join(c.Dir, "*.cpio"))
	type entry struct {
		path string
		at   time.Time
	}
	var es []entry
	for _, p := range m {
		if st, err := os.Stat(p); err == nil && p != keep {
			es = append(es, entry{p, st.ModTime()})
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].at.After(es[j].at) })
	for i, e := range es {
		if i+1 >= n { // keep counts too
			os.Remove(e.path)
		}
	}
	// Builds that died half-way leave temp files; old ones go.
	tmps, _ := filepath.Glob(filepath.Join(c.Dir, "build.*.tmp"))
	for _, t := range tmps {
		if st, err := os.Stat(t); err == nil && time.Since(st.ModTime()) > time.Hour {
			os.Remove(t)
		}
	}
}

// InitramfsKey is the content key of an archive of files: a hex SHA-256
// of the archive format, withBase, and for every file its guest path,
// mode, link target or contents, and, for WithLibs, the shared libraries
// it loads (their paths and contents) as the host resolves them now.
func InitramfsKey(files []File, withBase bool) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "ktstr initramfs format %d base %v\n", initramfsFormat, withBase)
	var libSources []string
	for _, f := range files {
		fmt.Fprintf(h, "file %q mode %o link %q libs %v\n", f.Path, f.Mode, f.Link, f.WithLibs)
		switch {
		case f.Link != "":
		case f.Source == "":
			fmt.Fprintf(h, "data %d\n", len(f.Data))
			h.Write(f.Data)
		default:
			if err := hashFile(h, f.Source); err != nil {
				return "", fmt.Errorf("initramfs: %s (for %s): %w", f.Source, f.Path, err)
			}
			if f.WithLibs {
				libSources = append(libSources, f.Source)
			}
		}
	}
	if len(libSources) > 0 {
		libs, err := ldd.FList(libSources...)
		if err != nil {
			return "", fmt.Errorf("initramfs: resolving shared libraries of %v: %w", libSources, err)
		}
		sort.Strings(libs)
		for _, l := range libs {
			st, err := os.Lstat(l)
			if err != nil {
				return "", fmt.Errorf("initramfs: library %s: %w", l, err)
			}
			if st.Mode()&os.ModeSymlink != 0 {
				t, err := os.Readlink(l)
				if err != nil {
					return "", fmt.Errorf("initramfs: library %s: %w", l, err)
				}
				fmt.Fprintf(h, "lib %q -> %q\n", l, t)
				continue
			}
			fmt.Fprintf(h, "lib %q mode %o\n", l, st.Mode().Perm())
			if err := hashFile(h, l); err != nil {
				return "", fmt.Errorf("initramfs: library %s: %w", l, err)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// hashFile adds path's size and contents (following symlinks) to h.
func hashFile(h hash.Hash, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	fmt.Fprintf(h, "size %d\n", st.Size())
	_, err = io.Copy(h, f)
	return err
}
