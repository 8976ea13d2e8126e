package kernel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// FetchOptions controls Fetch.
type FetchOptions struct {
	// Cache receives the kernel; a zero Cache means DefaultCache.
	Cache Cache
	// Mirror is the Debian archive URI; "" reads it from the machine's
	// apt sources (/etc/apt/sources.list and sources.list.d).
	Mirror string
	// Suite defaults to "sid", the only suite whose kernels enable
	// sched_ext.
	Suite string
	// Flavour defaults to "cloud-amd64".
	Flavour string
	// WorkDir holds the private apt configuration and package lists;
	// defaults to <Cache.Dir>/../apt.
	WorkDir string
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
	// Force downloads again even if the version is cached and verifies.
	Force bool
}

// Fetch downloads the newest Debian kernel of opts.Flavour from opts.Suite
// and stores it in the cache: vmlinuz, the extracted vmlinux, and the
// config, which must enable sched_ext (RequiredSchedExt). It uses a private
// apt configuration under opts.WorkDir, so the machine's apt state is not
// touched; it needs apt-get, apt-cache and dpkg-deb. If the version is
// already cached and verifies, Fetch returns that entry without
// downloading unless opts.Force is set.
func Fetch(ctx context.Context, opts FetchOptions) (Entry, error) {
	if err := needAptTools(); err != nil {
		return Entry{}, err
	}
	if opts.Cache.Dir == "" {
		c, err := DefaultCache()
		if err != nil {
			return Entry{}, fmt.Errorf("fetching kernel: %w", err)
		}
		opts.Cache = c
	}
	if opts.Suite == "" {
		opts.Suite = "sid"
	}
	if opts.Flavour == "" {
		opts.Flavour = "cloud-amd64"
	}
	if opts.WorkDir == "" {
		opts.WorkDir = filepath.Join(filepath.Dir(filepath.Clean(opts.Cache.Dir)), "apt")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	say := func(format string, args ...any) {
		fmt.Fprintf(progress, "ktstr: "+format+"\n", args...)
	}
	if opts.Mirror == "" {
		m, err := SystemMirror("/etc/apt")
		if err != nil {
			return Entry{}, fmt.Errorf("fetching kernel: %w", err)
		}
		opts.Mirror = m
	}

	if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return Entry{}, fmt.Errorf("fetching kernel: creating apt work directory: %w", err)
	}
	unlock, err := lockDir(ctx, opts.WorkDir, func() { say("waiting for another fetch using %s ...", opts.WorkDir) })
	if err != nil {
		return Entry{}, fmt.Errorf("fetching kernel: %w", err)
	}
	defer unlock()
	apt, err := newSideApt(opts.WorkDir, opts.Mirror, opts.Suite, opts.Flavour)
	if err != nil {
		return Entry{}, fmt.Errorf("fetching kernel: %w", err)
	}

	say("updating package lists for %s main from %s ...", opts.Suite, opts.Mirror)
	_, updateStderr, err := apt.run(ctx, "", "apt-get", "update")
	if err != nil {
		return Entry{}, fmt.Errorf("fetching kernel: %w", err)
	}
	// apt-get update exits 0 when a mirror is unreachable; its warnings
	// explain a later failure.
	explain := func(err error) error {
		if w := aptWarnings(updateStderr); w != "" {
			return fmt.Errorf("fetching kernel from %s %s: %w\napt-get update reported:\n%s", opts.Mirror, opts.Suite, err, w)
		}
		return fmt.Errorf("fetching kernel from %s %s: %w", opts.Mirror, opts.Suite, err)
	}

	meta := "linux-image-" + opts.Flavour
	say("resolving ABI of %s ...", meta)
	out, _, err := apt.run(ctx, "", "apt-cache", "depends", meta)
	if err != nil {
		return Entry{}, explain(err)
	}
	abi, err := ParseABI(string(out), opts.Flavour)
	if err != nil {
		return Entry{}, explain(err)
	}
	release := abi + "-" + opts.Flavour
	say("kernel ABI %s (release %s)", abi, release)

	if !opts.Force {
		if e, err := opts.Cache.Lookup(release); err == nil {
			verr := e.Verify()
			if verr == nil {
				say("%s already cached in %s", release, e.Dir)
				return e, nil
			}
			say("cached %s is unusable, downloading again: %v", release, verr)
		}
	}

	// sid splits the kernel into linux-binary-unsigned-<release> (image)
	// and linux-base-<release> (config); older suites ship both in
	// linux-image-<release>.
	imagePkg := "linux-binary-unsigned-" + release
	pkgs := []string{imagePkg, "linux-base-" + release}
	if _, _, err := apt.run(ctx, "", "apt-cache", "show", imagePkg); err != nil {
		imagePkg = "linux-image-" + release
		pkgs = []string{imagePkg}
	}
	dl, err := os.MkdirTemp(opts.WorkDir, "download-")
	if err != nil {
		return Entry{}, fmt.Errorf("fetching kernel: %w", err)
	}
	defer os.RemoveAll(dl)

	say("downloading %s ...", strings.Join(pkgs, ", "))
	if _, _, err := apt.run(ctx, dl, "apt-get", append([]string{"download"}, pkgs...)...); err != nil {
		return Entry{}, fmt.Errorf("fetching kernel %s: %w", release, err)
	}
	root := filepath.Join(dl, "root")
	var imageVersion string
	for _, pkg := range pkgs {
		deb, version, err := findDeb(dl, pkg)
		if err != nil {
			return Entry{}, fmt.Errorf("fetching kernel %s: %w", release, err)
		}
		if pkg == imagePkg {
			imageVersion = version
		}
		say("unpacking %s ...", filepath.Base(deb))
		if _, _, err := runCommand(ctx, "", nil, "dpkg-deb", "-x", deb, root); err != nil {
			return Entry{}, fmt.Errorf("fetching kernel %s: %w", release, err)
		}
	}

	config, err := readFirst(root,
		filepath.Join("usr", "lib", "modules", release, "config"),
		filepath.Join("boot", "config-"+release))
	if err != nil {
		return Entry{}, fmt.Errorf("fetching kernel %s: kernel config: %w", release, err)
	}
	// The symbol table, for the host monitor; Debian's is a placeholder
	// (the real one is in the -dbg package), which Store leaves out.
	systemMap, _ := readFirst(root,
		filepath.Join("usr", "lib", "modules", release, "System.map"),
		filepath.Join("boot", "System.map-"+release))
	if !IsRealSystemMap(systemMap) {
		say("%s has no System.map (only a placeholder); the monitor reads symbols from the guest's /proc/kallsyms", release)
	}
	say("checking the config of %s for sched_ext ...", release)
	if err := CheckConfig(config, RequiredSchedExt...); err != nil {
		return Entry{}, fmt.Errorf("kernel %s from debian %s cannot run sched_ext schedulers: %w (only Debian sid kernels enable sched_ext; use --suite sid)", release, opts.Suite, err)
	}
	vmlinuz, err := readFirst(root,
		filepath.Join("usr", "lib", "modules", release, "vmlinuz.unsigned"),
		filepath.Join("usr", "lib", "modules", release, "vmlinuz"),
		filepath.Join("boot", "vmlinuz-"+release))
	if err != nil {
		return Entry{}, fmt.Errorf("fetching kernel %s: kernel image: %w", release, err)
	}

	say("extracting vmlinux from vmlinuz (%d bytes) ...", len(vmlinuz))
	vmlinux, err := ExtractVmlinux(vmlinuz)
	if err != nil {
		say("warning: %v; the cache entry will boot vmlinuz", err)
		vmlinux = nil
	}

	e, err := opts.Cache.Store(StoreRequest{
		Version:   release,
		Source:    fmt.Sprintf("debian %s %s %s", opts.Suite, imagePkg, imageVersion),
		Vmlinuz:   vmlinuz,
		Vmlinux:   vmlinux,
		Config:    config,
		SystemMap: systemMap,
		FetchedAt: time.Now(),
	})
	if err != nil {
		return Entry{}, fmt.Errorf("fetching kernel %s: %w", release, err)
	}
	say("stored %s in %s", release, e.Dir)
	return e, nil
}

// needAptTools checks for the programs Fetch runs.
func needAptTools() error {
	for _, tool := range []string{"apt-get", "apt-cache", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("kernel fetch needs a Debian-based host with apt (apt-get, apt-cache, dpkg-deb): %w; "+
				"alternatively set KTSTR_KERNEL=/path/to/vmlinux (or pass --kernel) to use a kernel you already have", err)
		}
	}
	return nil
}

// sideApt runs apt with a private configuration: its own sources.list,
// package lists and cache, ignoring the machine's sources and pins.
type sideApt struct {
	options []string
}

func newSideApt(workDir, mirror, suite, flavour string) (sideApt, error) {
	lists := filepath.Join(workDir, "lists")
	cache := filepath.Join(workDir, "cache")
	for _, d := range []string{
		filepath.Join(lists, "partial"),
		filepath.Join(cache, "archives", "partial"),
	} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return sideApt{}, fmt.Errorf("preparing apt work directory: %w", err)
		}
	}
	sourceList := filepath.Join(workDir, "sources.list")
	line := fmt.Sprintf("deb %s %s main\n", mirror, suite)
	if err := os.WriteFile(sourceList, []byte(line), 0o644); err != nil {
		return sideApt{}, fmt.Errorf("writing apt sources: %w", err)
	}
	opts := []string{
		"Dir::Etc::SourceList=" + sourceList,
		"Dir::Etc::SourceParts=/dev/null",
		"Dir::Etc::Preferences=/dev/null",
		"Dir::Etc::PreferencesParts=/dev/null",
		"Dir::State::Lists=" + lists,
		"Dir::Cache=" + cache,
		"Acquire::Check-Valid-Until=false",
		"Acquire::Languages=none",
	}
	if arch := flavourArch(flavour); arch != "" {
		opts = append(opts, "APT::Architecture="+arch)
	}
	var args []string
	for _, o := range opts {
		args = append(args, "-o", o)
	}
	return sideApt{options: args}, nil
}

// run runs an apt tool ("apt-get update", "apt-cache depends X", ...) in dir.
func (a sideApt) run(ctx context.Context, dir, tool string, args ...string) (stdout, stderr []byte, err error) {
	full := append(append([]string{}, a.options...), args...)
	return runCommand(ctx, dir, args, tool, full...)
}

// runCommand runs name with args and returns its standard output and
// standard error. A failure is reported with the command (named by label,
// or all of args) and the end of its standard error.
func runCommand(ctx context.Context, dir string, label []string, name string, args ...string) ([]byte, []byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if label == nil {
		label = args
	}
	shown := strings.Join(append([]string{name}, label...), " ")
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, nil, fmt.Errorf("%s: %w", shown, ctxErr)
		}
		if msg := tail(stderr.String(), 20); msg != "" {
			return nil, nil, fmt.Errorf("%s: %w:\n%s", shown, err, msg)
		}
		return nil, nil, fmt.Errorf("%s: %w", shown, err)
	}
	return stdout.Bytes(), stderr.Bytes(), nil
}

// aptWarnings returns the W: and E: lines of apt's standard error, except
// the harmless notice about downloading unsandboxed as root.
func aptWarnings(stderr []byte) string {
	var lines []string
	for _, l := range strings.Split(string(stderr), "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "W:") && !strings.HasPrefix(l, "E:") {
			continue
		}
		if strings.Contains(l, "unsandboxed") {
			continue
		}
		lines = append(lines, l)
	}
	return tail(strings.Join(lines, "\n"), 10)
}

// tail returns the last n non-empty lines of s.
func tail(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, "\r"))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// findDeb returns the .deb apt-get download saved for pkg and the package
// version from its name (<pkg>_<version>_<arch>.deb, epoch colon escaped).
func findDeb(dir, pkg string) (path, version string, err error) {
	matches, err := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if err != nil {
		return "", "", fmt.Errorf("finding %s.deb: %w", pkg, err)
	}
	if len(matches) != 1 {
		return "", "", fmt.Errorf("apt-get download left %d files for %s in %s, want 1", len(matches), pkg, dir)
	}
	parts := strings.Split(strings.TrimSuffix(filepath.Base(matches[0]), ".deb"), "_")
	if len(parts) >= 2 {
		if v, err := url.PathUnescape(parts[1]); err == nil {
			version = v
		} else {
			version = parts[1]
		}
	}
	return matches[0], version, nil
}

// readFirst reads the first of the paths (relative to root) that exists.
func readFirst(root string, paths ...string) ([]byte, error) {
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reading package contents: %w", err)
		}
	}
	return nil, fmt.Errorf("none of %s in the unpacked packages", strings.Join(paths, ", "))
}
