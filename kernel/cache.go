package kernel

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// File names inside a cache entry directory.
const (
	vmlinuzName  = "vmlinuz"
	vmlinuxName  = "vmlinux"
	configName   = "config"
	metadataName = "metadata.json"

	// tmpPrefix marks directories Store is still building (or that a
	// crashed Store left behind). List ignores them.
	tmpPrefix = ".tmp-"
	// staleTmpAge is how old a leftover temporary directory must be before
	// Clean removes it, so that Clean does not race a concurrent Store.
	staleTmpAge = time.Hour
)

// Cache is a directory of kernels, one subdirectory per kernel version:
//
//	<Dir>/<version>/vmlinuz        compressed boot image (bzImage)
//	<Dir>/<version>/vmlinux        uncompressed ELF image, when extracted
//	<Dir>/<version>/config         kernel .config, when known
//	<Dir>/<version>/metadata.json  the Entry, with sha256 sums
type Cache struct {
	Dir string
}

// Entry describes one cached kernel; it is stored as metadata.json.
type Entry struct {
	// Version is the kernel release (uname -r), e.g.
	// "7.2.13+deb14-cloud-amd64"; it names the entry's directory.
	Version string `json:"version"`
	// Source says where the kernel came from, e.g.
	// "debian sid linux-binary-unsigned-7.2.13+deb14-cloud-amd64 7.2.13-1".
	Source string `json:"source"`
	// Dir is the entry's directory. It is recomputed whenever an entry is
	// loaded, so a cache directory can be moved.
	Dir string `json:"dir"`
	// VmlinuzSHA256 and VmlinuxSHA256 are hex sha256 sums of the files;
	// VmlinuxSHA256 is empty when no vmlinux was extracted.
	VmlinuzSHA256 string `json:"vmlinuz_sha256"`
	VmlinuxSHA256 string `json:"vmlinux_sha256,omitempty"`
	// SchedExt reports whether the kernel's config has every option in
	// RequiredSchedExt; false when the config is missing or lacks one.
	SchedExt bool `json:"sched_ext"`
	// FragmentSHA256 is the hex sha256 of the kconfig fragment a ktstr
	// kernel build merged (see FragmentSum); empty for fetched kernels
	// and for builds stored before it was recorded.
	FragmentSHA256 string `json:"fragment_sha256,omitempty"`
	// FetchedAt is when the entry was stored.
	FetchedAt time.Time `json:"fetched_at"`
}

// OlderFragment reports whether the entry was built from a kconfig
// fragment other than this ktstr's Fragment: options added to the
// fragment since may be missing from it.
func (e Entry) OlderFragment() bool {
	return e.FragmentSHA256 != "" && e.FragmentSHA256 != FragmentSum()
}

// StoreRequest is the content of a new cache entry.
type StoreRequest struct {
	Version string
	Source  string
	// Vmlinuz is the compressed boot image; required.
	Vmlinuz []byte
	// Vmlinux is the uncompressed ELF image; nil when not extracted.
	Vmlinux []byte
	// Config is the kernel .config; nil when unknown.
	Config []byte
	// SystemMap is the kernel's symbol table (System.map); nil when the
	// package has none, or only a placeholder (see IsRealSystemMap).
	SystemMap []byte
	// FragmentSHA256 is recorded in the entry (Entry.FragmentSHA256).
	FragmentSHA256 string
	// FetchedAt defaults to the current time.
	FetchedAt time.Time
}

// DefaultCache returns the cache ktstr uses unless told otherwise:
// $KTSTR_CACHE_DIR/kernels when KTSTR_CACHE_DIR is set, else
// <user cache dir>/ktstr/kernels (e.g. ~/.cache/ktstr/kernels).
func DefaultCache() (Cache, error) {
	return defaultCache(os.Getenv)
}

func defaultCache(getenv func(string) string) (Cache, error) {
	if dir := getenv("KTSTR_CACHE_DIR"); dir != "" {
		return Cache{Dir: filepath.Join(dir, "kernels")}, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return Cache{}, fmt.Errorf("locating the kernel cache (set KTSTR_CACHE_DIR to choose one): %w", err)
	}
	return Cache{Dir: filepath.Join(base, "ktstr", "kernels")}, nil
}

// BootImage returns the image to boot: vmlinux when the entry has one (it
// boots faster through PVH and carries BTF), else vmlinuz.
func (e Entry) BootImage() string {
	vmlinux := filepath.Join(e.Dir, vmlinuxName)
	if fi, err := os.Stat(vmlinux); err == nil && fi.Mode().IsRegular() {
		return vmlinux
	}
	return filepath.Join(e.Dir, vmlinuzName)
}

// ConfigPath returns the path of the entry's kernel config, or "" when the
// entry has none.
func (e Entry) ConfigPath() string {
	p := filepath.Join(e.Dir, configName)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p
	}
	return ""
}

// Verify recomputes the sha256 sums of the entry's images and compares them
// with the metadata. The error names the first missing or corrupt file.
func (e Entry) Verify() error {
	if e.VmlinuzSHA256 == "" {
		return fmt.Errorf("cache entry %s: %s records no vmlinuz sha256", e.Dir, metadataName)
	}
	if err := verifyFile(e, vmlinuzName, e.VmlinuzSHA256); err != nil {
		return err
	}
	if e.VmlinuxSHA256 != "" {
		return verifyFile(e, vmlinuxName, e.VmlinuxSHA256)
	}
	p := filepath.Join(e.Dir, vmlinuxName)
	if _, err := os.Lstat(p); err == nil {
		return fmt.Errorf("cache entry %s is corrupt: %s exists but %s records no sha256 for it", e.Dir, p, metadataName)
	}
	return nil
}

func verifyFile(e Entry, name, want string) error {
	p := filepath.Join(e.Dir, name)
	got, err := sha256File(p)
	if err != nil {
		return fmt.Errorf("cache entry %s: %w", e.Dir, err)
	}
	if !strings.EqualFold(got, want) {
		return fmt.Errorf("cache entry %s is corrupt: %s has sha256 %s but %s records %s", e.Dir, p, got, metadataName, want)
	}
	return nil
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hashing: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// validVersion rejects versions that cannot safely name a directory.
func validVersion(v string) error {
	switch {
	case v == "":
		return errors.New("empty kernel version")
	case v == "." || v == ".." || strings.HasPrefix(v, "."):
		return fmt.Errorf("invalid kernel version %q: must not start with a dot", v)
	case strings.ContainsAny(v, `/\`) || strings.ContainsRune(v, 0):
		return fmt.Errorf("invalid kernel version %q: must not contain path separators", v)
	}
	return nil
}

// badEntry is a directory in the cache whose metadata cannot be read.
type badEntry struct {
	dir string
	err error
}

// scan reads every entry; directories without metadata.json (incomplete)
// are skipped, directories with unreadable metadata are returned as bad.
func (c Cache) scan() ([]Entry, []badEntry, error) {
	if c.Dir == "" {
		return nil, nil, errors.New("kernel cache has no directory")
	}
	des, err := os.ReadDir(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading kernel cache: %w", err)
	}
	var entries []Entry
	var bad []badEntry
	for _, de := range des {
		if !de.IsDir() || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		dir := filepath.Join(c.Dir, de.Name())
		e, err := loadEntry(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			bad = append(bad, badEntry{dir: dir, err: err})
			continue
		}
		entries = append(entries, e)
	}
	sortNewestFirst(entries)
	return entries, bad, nil
}

func loadEntry(dir string) (Entry, error) {
	p := filepath.Join(dir, metadataName)
	b, err := os.ReadFile(p)
	if err != nil {
		return Entry{}, fmt.Errorf("reading cache metadata: %w", err)
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return Entry{}, fmt.Errorf("corrupt cache metadata %s: %w", p, err)
	}
	if e.Version != filepath.Base(dir) {
		return Entry{}, fmt.Errorf("corrupt cache metadata %s: version %q does not match directory name", p, e.Version)
	}
	e.Dir = dir
	return e, nil
}

func sortNewestFirst(entries []Entry) {
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if !a.FetchedAt.Equal(b.FetchedAt) {
			return a.FetchedAt.After(b.FetchedAt)
		}
		return a.Version > b.Version
	})
}

// List returns the cached kernels, newest (by FetchedAt) first. A missing
// cache directory is an empty cache. An entry with corrupt metadata is an
// error naming its file; Clean removes such entries.
func (c Cache) List() ([]Entry, error) {
	entries, bad, err := c.scan()
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w (remove %s or run \"ktstr kernel clean\")", bad[0].err, bad[0].dir)
	}
	return entries, nil
}

// Lookup returns the entry for version. A version that is not cached is an
// error matching fs.ErrNotExist.
func (c Cache) Lookup(version string) (Entry, error) {
	if err := validVersion(version); err != nil {
		return Entry{}, fmt.Errorf("looking up kernel in cache %s: %w", c.Dir, err)
	}
	e, err := loadEntry(filepath.Join(c.Dir, version))
	if err != nil {
		return Entry{}, fmt.Errorf("kernel %s in cache %s: %w", version, c.Dir, err)
	}
	return e, nil
}

// Newest returns the most recently fetched entry. An empty cache is an
// error matching ErrNoKernel.
func (c Cache) Newest() (Entry, error) {
	entries, err := c.List()
	if err != nil {
		return Entry{}, err
	}
	if len(entries) == 0 {
		return Entry{}, fmt.Errorf("kernel cache %s is empty: %w", c.Dir, ErrNoKernel)
	}
	return entries[0], nil
}

// Clean keeps the keep newest entries and removes the others, returning the
// removed ones. It also removes entries with corrupt metadata (returned with
// only Dir and Version set) and temporary directories abandoned by an
// interrupted Store.
func (c Cache) Clean(keep int) ([]Entry, error) {
	if keep < 0 {
		return nil, fmt.Errorf("cleaning kernel cache: keep must be >= 0, got %d", keep)
	}
	entries, bad, err := c.scan()
	if err != nil {
		return nil, fmt.Errorf("cleaning kernel cache: %w", err)
	}
	var removed []Entry
	for _, b := range bad {
		if err := os.RemoveAll(b.dir); err != nil {
			return removed, fmt.Errorf("removing corrupt cache entry: %w", err)
		}
		removed = append(removed, Entry{Version: filepath.Base(b.dir), Dir: b.dir})
	}
	if keep < len(entries) {
		for _, e := range entries[keep:] {
			if err := os.RemoveAll(e.Dir); err != nil {
				return removed, fmt.Errorf("removing cached kernel %s: %w", e.Version, err)
			}
			removed = append(removed, e)
		}
	}
	if err := c.removeStaleTemp(time.Now()); err != nil {
		return removed, err
	}
	return removed, nil
}

func (c Cache) removeStaleTemp(now time.Time) error {
	des, err := os.ReadDir(c.Dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("cleaning kernel cache: %w", err)
	}
	for _, de := range des {
		if !strings.HasPrefix(de.Name(), tmpPrefix) {
			continue
		}
		fi, err := de.Info()
		if err != nil || now.Sub(fi.ModTime()) < staleTmpAge {
			continue
		}
		if err := os.RemoveAll(filepath.Join(c.Dir, de.Name())); err != nil {
			return fmt.Errorf("removing abandoned temporary directory: %w", err)
		}
	}
	return nil
}

// Store adds (or replaces) the entry for req.Version. It builds the entry in
// a temporary directory inside the cache and renames it into place, so a
// reader never sees a partial entry.
func (c Cache) Store(req StoreRequest) (Entry, error) {
	if err := validVersion(req.Version); err != nil {
		return Entry{}, fmt.Errorf("storing kernel: %w", err)
	}
	if len(req.Vmlinuz) == 0 {
		return Entry{}, fmt.Errorf("storing kernel %s: empty vmlinuz", req.Version)
	}
	if c.Dir == "" {
		return Entry{}, fmt.Errorf("storing kernel %s: kernel cache has no directory", req.Version)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return Entry{}, fmt.Errorf("storing kernel %s: %w", req.Version, err)
	}
	tmp, err := os.MkdirTemp(c.Dir, tmpPrefix+req.Version+"-")
	if err != nil {
		return Entry{}, fmt.Errorf("storing kernel %s: %w", req.Version, err)
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Entry{}, fmt.Errorf("storing kernel %s: %w", req.Version, err)
	}

	fetched := req.FetchedAt
	if fetched.IsZero() {
		fetched = time.Now()
	}
	final := filepath.Join(c.Dir, req.Version)
	e := Entry{
		Version:        req.Version,
		Source:         req.Source,
		Dir:            final,
		VmlinuzSHA256:  sha256Hex(req.Vmlinuz),
		SchedExt:       len(req.Config) > 0 && CheckConfig(req.Config, RequiredSchedExt...) == nil,
		FragmentSHA256: req.FragmentSHA256,
		FetchedAt:      fetched.UTC().Round(0),
	}
	type file struct {
		name string
		data []byte
	}
	files := []file{{vmlinuzName, req.Vmlinuz}}
	if req.Vmlinux != nil {
		e.VmlinuxSHA256 = sha256Hex(req.Vmlinux)
		files = append(files, file{vmlinuxName, req.Vmlinux})
	}
	if req.Config != nil {
		files = append(files, file{configName, req.Config})
	}
	if IsRealSystemMap(req.SystemMap) {
		files = append(files, file{SystemMapName, req.SystemMap})
	}
	meta, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return Entry{}, fmt.Errorf("storing kernel %s: encoding metadata: %w", req.Version, err)
	}
	// metadata.json last: a directory without it is an incomplete entry.
	files = append(files, file{metadataName, append(meta, '\n')})
	for _, f := range files {
		if err := writeFileSync(filepath.Join(tmp, f.name), f.data); err != nil {
			return Entry{}, fmt.Errorf("storing kernel %s: %w", req.Version, err)
		}
	}
	if err := replaceDir(tmp, final); err != nil {
		return Entry{}, fmt.Errorf("storing kernel %s: %w", req.Version, err)
	}
	return e, nil
}

// SystemMapName is the file of an entry that holds the kernel's symbol
// table, which the host monitor reads symbol addresses from.
const SystemMapName = "System.map"

// IsRealSystemMap tells a symbol table from a placeholder: Debian's
// kernel packages ship a one-line System.map that points to the -dbg
// package.
func IsRealSystemMap(b []byte) bool {
	return bytes.Count(b, []byte("\n")) > 100
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("creating file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	return nil
}

// replaceDir renames src to dst. An existing dst is first moved aside (to a
// temporary name in the same directory) and removed after the rename.
func replaceDir(src, dst string) error {
	err := os.Rename(src, dst)
	if err == nil {
		return nil
	}
	if _, statErr := os.Lstat(dst); statErr != nil {
		return fmt.Errorf("moving entry into place: %w", err)
	}
	old, err := os.MkdirTemp(filepath.Dir(dst), tmpPrefix+"old-")
	if err != nil {
		return fmt.Errorf("replacing existing entry: %w", err)
	}
	aside := filepath.Join(old, filepath.Base(dst))
	if err := os.Rename(dst, aside); err != nil {
		os.Remove(old)
		return fmt.Errorf("moving existing entry aside: %w", err)
	}
	if err := os.Rename(src, dst); err != nil {
		if restoreErr := os.Rename(aside, dst); restoreErr != nil {
			return fmt.Errorf("moving entry into place: %w (and restoring the old entry: %v)", err, restoreErr)
		}
		os.RemoveAll(old)
		return fmt.Errorf("moving entry into place: %w", err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("removing replaced entry: %w", err)
	}
	return nil
}
