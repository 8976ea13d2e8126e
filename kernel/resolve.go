package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Origins reported in Kernel.Origin.
const (
	OriginExplicit  = "explicit"
	OriginEnv       = "KTSTR_KERNEL"
	OriginCache     = "cache"
	OriginWellKnown = "well-known"
)

// EnvKernel names the environment variable that points at a kernel image.
const EnvKernel = "KTSTR_KERNEL"

// FetchHint is the advice given when no kernel can be found.
const FetchHint = `run "go run github.com/ktstr-go/ktstr/tools/ktstr kernel fetch" or set KTSTR_KERNEL=/path/to/vmlinux`

// ErrNoKernel is matched (errors.Is) by *NotFoundError, by errors about
// an empty cache, and by a kernel path the user chose that does not exist.
var ErrNoKernel = errors.New("no kernel found")

// Kernel is a resolved kernel image.
type Kernel struct {
	// Path is the absolute path of the image to boot (vmlinux or a bzImage).
	Path string
	// ConfigPath is the kernel's .config, or "" if unknown.
	ConfigPath string
	// Version is the kernel release, or "" if unknown.
	Version string
	// Origin is one of OriginExplicit, OriginEnv, OriginCache,
	// OriginWellKnown.
	Origin string
	// OlderFragment is true for a cached ktstr build from another
	// ktstr.kconfig than this ktstr's (Entry.OlderFragment).
	OlderFragment bool
	// Note explains caveats, e.g. that sched_ext support could not be
	// checked because the config is unknown. Empty when there are none.
	Note string
}

// ResolveOptions controls Resolve.
type ResolveOptions struct {
	// Explicit is a path given on the command line (--kernel). It may be
	// an image or a directory holding vmlinux, vmlinuz or
	// arch/x86/boot/bzImage (a kernel build tree or a cache entry).
	Explicit string
	// Getenv reads KTSTR_KERNEL (and KTSTR_CACHE_DIR when Cache is nil);
	// nil means os.Getenv.
	Getenv func(string) string
	// Cache is searched for the newest entry; nil means DefaultCache.
	Cache *Cache
	// WellKnown lists paths or glob patterns tried last; nil means
	// DefaultWellKnown(). A non-nil empty slice disables them.
	WellKnown []string
	// NeedSchedExt rejects kernels whose config is known and lacks
	// RequiredSchedExt options. Kernels with unknown config are accepted
	// with a Note.
	NeedSchedExt bool

	// bootDir is where /boot/config-<version> is looked for; tests set it.
	bootDir string
}

// Attempt is one place Resolve looked, and why it was not used.
type Attempt struct {
	Where string
	Why   string
}

// NotFoundError is returned by Resolve when no kernel is usable.
type NotFoundError struct {
	Tried []Attempt
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	b.WriteString("no kernel found; tried:\n")
	for _, a := range e.Tried {
		fmt.Fprintf(&b, "  - %s: %s\n", a.Where, a.Why)
	}
	b.WriteString("fix: " + FetchHint)
	return b.String()
}

// Is makes errors.Is(err, ErrNoKernel) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNoKernel }

// missingPathError is a chosen kernel path that does not exist: it reads
// as its cause and also matches ErrNoKernel.
type missingPathError struct{ err error }

func (e *missingPathError) Error() string        { return e.err.Error() }
func (e *missingPathError) Unwrap() error        { return e.err }
func (e *missingPathError) Is(target error) bool { return target == ErrNoKernel }

// DefaultWellKnown returns the places a distribution installs kernels:
// /boot/vmlinuz-$(uname -r), /boot/vmlinuz and /usr/lib/modules/*/vmlinuz.
func DefaultWellKnown() []string {
	var paths []string
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		if r := strings.TrimSpace(string(rel)); r != "" {
			paths = append(paths, "/boot/vmlinuz-"+r)
		}
	}
	return append(paths, "/boot/vmlinuz", "/usr/lib/modules/*/vmlinuz")
}

// Resolve finds the kernel to boot. It tries, in order: opts.Explicit, the
// KTSTR_KERNEL environment variable, the newest cache entry, and the
// well-known locations. An explicit or KTSTR_KERNEL path that is missing,
// unreadable or (with NeedSchedExt) lacks sched_ext is an error at once;
// the other sources are skipped with a reason. When nothing is usable the
// error is a *NotFoundError listing every place tried.
func Resolve(opts ResolveOptions) (Kernel, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if opts.bootDir == "" {
		opts.bootDir = "/boot"
	}
	var tried []Attempt

	if opts.Explicit != "" {
		return resolveUserPath(opts, opts.Explicit, OriginExplicit, "--kernel")
	}
	tried = append(tried, Attempt{"explicit path (--kernel)", "not given"})

	if p := getenv(EnvKernel); p != "" {
		return resolveUserPath(opts, p, OriginEnv, EnvKernel)
	}
	tried = append(tried, Attempt{"$" + EnvKernel, "not set"})

	k, ok, attempts := resolveCache(opts, getenv)
	if ok {
		return k, nil
	}
	tried = append(tried, attempts...)

	wellKnown := opts.WellKnown
	if wellKnown == nil {
		wellKnown = DefaultWellKnown()
	}
	for _, pattern := range wellKnown {
		k, ok, attempts := resolveWellKnown(opts, pattern)
		if ok {
			return k, nil
		}
		tried = append(tried, attempts...)
	}
	return Kernel{}, &NotFoundError{Tried: tried}
}

// resolveUserPath handles a path the user chose; every failure is final.
func resolveUserPath(opts ResolveOptions, path, origin, label string) (Kernel, error) {
	k, err := kernelFromPath(path, origin, opts.bootDir)
	if errors.Is(err, fs.ErrNotExist) {
		return Kernel{}, fmt.Errorf("kernel from %s: %w", label, &missingPathError{err})
	}
	if err != nil {
		return Kernel{}, fmt.Errorf("kernel from %s: %w", label, err)
	}
	if err := checkSchedExt(&k, opts.NeedSchedExt); err != nil {
		return Kernel{}, fmt.Errorf("kernel %s from %s: %w", k.Path, label, err)
	}
	return k, nil
}

func resolveCache(opts ResolveOptions, getenv func(string) string) (Kernel, bool, []Attempt) {
	var cache Cache
	if opts.Cache != nil {
		cache = *opts.Cache
	} else {
		c, err := defaultCache(getenv)
		if err != nil {
			return Kernel{}, false, []Attempt{{"kernel cache", err.Error()}}
		}
		cache = c
	}
	where := "cache " + cache.Dir
	entries, err := cache.List()
	if err != nil {
		return Kernel{}, false, []Attempt{{where, err.Error()}}
	}
	if len(entries) == 0 {
		return Kernel{}, false, []Attempt{{where, "no kernels cached"}}
	}
	var tried []Attempt
	for _, e := range entries {
		w := fmt.Sprintf("cache entry %s (%s)", e.Version, e.Dir)
		img := e.BootImage()
		if err := readable(img); err != nil {
			tried = append(tried, Attempt{w, err.Error()})
			continue
		}
		k := Kernel{Path: img, ConfigPath: e.ConfigPath(), Version: e.Version, Origin: OriginCache}
		if err := checkSchedExt(&k, opts.NeedSchedExt); err != nil {
			tried = append(tried, Attempt{w, err.Error()})
			continue
		}
		if e.OlderFragment() {
			k.OlderFragment = true
			k.Note = joinNotes(k.Note, OlderFragmentNote)
		}
		return k, true, nil
	}
	return Kernel{}, false, tried
}

func resolveWellKnown(opts ResolveOptions, pattern string) (Kernel, bool, []Attempt) {
	paths := []string{pattern}
	if strings.ContainsAny(pattern, "*?[") {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return Kernel{}, false, []Attempt{{pattern, fmt.Sprintf("bad pattern: %v", err)}}
		}
		if len(matches) == 0 {
			return Kernel{}, false, []Attempt{{pattern, "no match"}}
		}
		// Highest version-looking name first.
		sort.Sort(sort.Reverse(sort.StringSlice(matches)))
		paths = matches
	}
	var tried []Attempt
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			tried = append(tried, Attempt{p, describeStatErr(err)})
			continue
		}
		if !fi.Mode().IsRegular() {
			tried = append(tried, Attempt{p, "not a regular file"})
			continue
		}
		k, err := kernelFromPath(p, OriginWellKnown, opts.bootDir)
		if err != nil {
			tried = append(tried, Attempt{p, err.Error()})
			continue
		}
		if err := checkSchedExt(&k, opts.NeedSchedExt); err != nil {
			tried = append(tried, Attempt{p, err.Error()})
			continue
		}
		return k, true, nil
	}
	return Kernel{}, false, tried
}

func describeStatErr(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}

// checkSchedExt applies NeedSchedExt to k, reading its config if known.
func checkSchedExt(k *Kernel, need bool) error {
	if !need {
		return nil
	}
	if k.ConfigPath == "" {
		k.Note = "kernel config not found; sched_ext support (CONFIG_SCHED_CLASS_EXT=y) not verified"
		return nil
	}
	cfg, err := os.ReadFile(k.ConfigPath)
	if err != nil {
		return fmt.Errorf("reading kernel config: %w", err)
	}
	if err := CheckConfig(cfg, RequiredSchedExt...); err != nil {
		return fmt.Errorf("not usable for sched_ext: config %s: %w", k.ConfigPath, err)
	}
	return nil
}

func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s does not exist", path)
		}
		return fmt.Errorf("not readable: %w", err)
	}
	return f.Close()
}

// kernelFromPath describes the image at path (or in the directory path),
// finding its version and config where possible.
func kernelFromPath(path, origin, bootDir string) (Kernel, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Kernel{}, fmt.Errorf("resolving %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return Kernel{}, fmt.Errorf("kernel image: %w", err)
	}
	treeRoot := ""
	if fi.IsDir() {
		img, err := imageInDir(abs)
		if err != nil {
			return Kernel{}, err
		}
		treeRoot = abs
		abs = img
	} else if !fi.Mode().IsRegular() {
		return Kernel{}, fmt.Errorf("kernel image %s is not a regular file", abs)
	}
	if err := readable(abs); err != nil {
		return Kernel{}, fmt.Errorf("kernel image %s: %w", abs, err)
	}
	k := Kernel{Path: abs, Origin: origin}
	k.Version = versionOf(abs)
	k.ConfigPath = findConfig(abs, treeRoot, k.Version, bootDir)
	return k, nil
}

// imageInDir picks the boot image inside a directory: a cache entry, a
// modules directory or a kernel build tree.
func imageInDir(dir string) (string, error) {
	candidates := []string{vmlinuxName, vmlinuzName, filepath.Join("arch", "x86", "boot", "bzImage")}
	for _, c := range candidates {
		p := filepath.Join(dir, c)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("directory %s holds no kernel image (looked for %s)", dir, strings.Join(candidates, ", "))
}

// versionOf guesses the kernel release of an image from its name, its
// directory (…/modules/<release>/vmlinuz, a cache entry) or, for a bzImage,
// its setup header.
func versionOf(path string) string {
	if v := versionFromName(filepath.Base(path)); v != "" {
		return v
	}
	if resolved, err := filepath.EvalSymlinks(path); err == nil && resolved != path {
		if v := versionFromName(filepath.Base(resolved)); v != "" {
			return v
		}
	}
	dir := filepath.Dir(path)
	if filepath.Base(filepath.Dir(dir)) == "modules" {
		return filepath.Base(dir)
	}
	if e, err := loadEntry(dir); err == nil {
		return e.Version
	}
	if v, err := bzImageVersion(path); err == nil {
		return v
	}
	return ""
}

func versionFromName(base string) string {
	for _, prefix := range []string{"vmlinuz-", "vmlinux-", "bzImage-"} {
		if v, ok := strings.CutPrefix(base, prefix); ok && v != "" {
			return v
		}
	}
	return ""
}

// bzImageVersion reads the kernel_version string of an x86 bzImage setup
// header (boot protocol >= 2.00).
func bzImageVersion(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading image header: %w", err)
	}
	defer f.Close()
	hdr := make([]byte, 0x210)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return "", fmt.Errorf("reading image header of %s: %w", path, err)
	}
	if string(hdr[0x202:0x206]) != "HdrS" {
		return "", fmt.Errorf("%s is not a bzImage", path)
	}
	off := int64(binary.LittleEndian.Uint16(hdr[0x20e:])) + 0x200
	buf := make([]byte, 256)
	n, err := f.ReadAt(buf, off)
	if n == 0 {
		return "", fmt.Errorf("reading version string of %s: %w", path, err)
	}
	buf = buf[:n]
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i]
	}
	fields := strings.Fields(string(buf))
	if len(fields) == 0 {
		return "", fmt.Errorf("%s has an empty version string", path)
	}
	return fields[0], nil
}

// findConfig looks for the kernel config that belongs to image.
func findConfig(image, treeRoot, version, bootDir string) string {
	dir := filepath.Dir(image)
	candidates := []string{filepath.Join(dir, configName), filepath.Join(dir, ".config")}
	if treeRoot != "" {
		candidates = append(candidates, filepath.Join(treeRoot, ".config"))
	}
	// <tree>/arch/<arch>/boot/bzImage
	if filepath.Base(dir) == "boot" && filepath.Base(filepath.Dir(filepath.Dir(dir))) == "arch" {
		candidates = append(candidates, filepath.Join(dir, "..", "..", "..", ".config"))
	}
	if version != "" {
		candidates = append(candidates,
			filepath.Join(dir, "config-"+version),
			filepath.Join(bootDir, "config-"+version))
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c
		}
	}
	return ""
}

// OlderFragmentNote is the note on a cached kernel built from another
// ktstr.kconfig than this ktstr's (Entry.OlderFragment).
const OlderFragmentNote = "built from another ktstr.kconfig than this ktstr's: options the fragment gained since may be missing; build it again with \"ktstr kernel build\""

// joinNotes joins two notes with "; ", either of which may be empty.
func joinNotes(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}
