package kernel

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

// BuiltSourcePrefix starts the Source of a cache entry that Build made.
const BuiltSourcePrefix = "ktstr kernel build of "

// Bases are the configurations a build can start from before the
// fragment is merged in: the kernel's tinyconfig (the default: the
// fragment makes it a ktstr guest, and it boots fastest), its x86_64
// defconfig, or the tree's own .config.
var Bases = []string{"tinyconfig", "defconfig", "oldconfig"}

// BuildTools are the programs a kernel build runs.
var BuildTools = []string{"make", "gcc", "flex", "bison", "bc", "perl"}

// BuildOptions controls Build.
type BuildOptions struct {
	// Source is the kernel tree; it is never written to (the build is
	// out of tree, in OutDir).
	Source string
	// SourceID names the tree's content when it is known (a Debian
	// source package and version); "" derives it from git, else from the
	// files' names, sizes and times.
	SourceID string
	// Base is one of Bases ("" is tinyconfig).
	Base string
	// Fragment is merged into the base ("" is the embedded Fragment).
	Fragment string
	// OutDir is the build folder; "" is a folder of the cache.
	OutDir string
	// Jobs is make's -j (0: the CPUs).
	Jobs int
	// Force builds even when the cache has this source and config;
	// Clean empties OutDir first.
	Force, Clean bool
	// Progress receives progress lines (nil: none).
	Progress io.Writer
	// Pahole is the pahole to encode BTF with ("": the machine's if it
	// is MinPahole or newer, else sid's; see Cache.pahole).
	Pahole string
}

// BuildResult is what Build did.
type BuildResult struct {
	Entry Entry
	// Cached is true when the entry was already in the cache (nothing
	// was built); Stored when this build was stored.
	Cached, Stored bool
	// Dirty says why a built kernel was not stored (a tree with
	// uncommitted changes); its files stay in OutDir.
	Dirty  string
	OutDir string
	// Elapsed is the build's wall time.
	Elapsed time.Duration
}

// Build configures (base, then the fragment, then olddefconfig) and
// builds a kernel from a source tree and stores it in the cache under
// "<kernelrelease>-ktstr-<hash>", the hash covering the source and the
// final config, so that the same tree and config are built once. A tree
// with uncommitted changes is built but not cached, and the result says
// so.
func (c Cache) Build(ctx context.Context, opts BuildOptions) (BuildResult, error) {
	var res BuildResult
	say := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "ktstr: "+format+"\n", args...)
		}
	}
	if opts.Base == "" {
		opts.Base = "tinyconfig"
	}
	if !slices.Contains(Bases, opts.Base) {
		return res, fmt.Errorf("kernel build: unknown base %q (one of %s)", opts.Base, strings.Join(Bases, ", "))
	}
	if opts.Fragment == "" {
		opts.Fragment = Fragment
	}
	src, err := filepath.Abs(opts.Source)
	if err != nil {
		return res, err
	}
	for _, f := range []string{"Makefile", "Kconfig", "scripts/kconfig/merge_config.sh"} {
		if _, err := os.Stat(filepath.Join(src, f)); err != nil {
			return res, fmt.Errorf("kernel build: %s is not a kernel source tree (no %s)", src, f)
		}
	}
	var missing []string
	for _, t := range BuildTools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return res, fmt.Errorf("kernel build needs %s (Debian: apt-get install build-essential flex bison bc libelf-dev; and pahole 1.26 or newer, else sid's is used)", strings.Join(missing, ", "))
	}
	if opts.Pahole == "" {
		if opts.Pahole, err = c.pahole(ctx, SourceOptions{Progress: opts.Progress}, say); err != nil {
			return res, err
		}
	}
	id, dirty := opts.SourceID, ""
	if id == "" {
		say("identifying the source tree %s ...", src)
		if id, dirty, err = sourceIdentity(ctx, src); err != nil {
			return res, err
		}
	}
	if opts.OutDir == "" {
		sum := sha256.Sum256([]byte(src))
		opts.OutDir = filepath.Join(filepath.Dir(c.Dir), "build", hex.EncodeToString(sum[:6]))
	}
	res.OutDir = opts.OutDir
	if opts.Clean {
		say("cleaning %s", opts.OutDir)
		if err := os.RemoveAll(opts.OutDir); err != nil {
			return res, err
		}
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return res, err
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	mk := func(args ...string) ([]byte, error) {
		a := append([]string{"-C", src, "O=" + opts.OutDir, "PAHOLE=" + opts.Pahole}, args...)
		cmd := exec.CommandContext(ctx, "make", a...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return out, fmt.Errorf("make %s: %w\n%s", strings.Join(args, " "), err, tail(string(out), 30))
		}
		return out, nil
	}
	cfgPath := filepath.Join(opts.OutDir, ".config")
	switch opts.Base {
	case "oldconfig":
		b, err := os.ReadFile(filepath.Join(src, ".config"))
		if err != nil {
			return res, fmt.Errorf("kernel build: --base oldconfig needs the tree's .config: %w", err)
		}
		if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
			return res, err
		}
	default:
		say("configuring: %s, then the ktstr fragment", opts.Base)
		if _, err := mk(opts.Base); err != nil {
			return res, err
		}
	}
	frag := filepath.Join(opts.OutDir, "ktstr.kconfig")
	if err := os.WriteFile(frag, []byte(opts.Fragment), 0o644); err != nil {
		return res, err
	}
	merge := exec.CommandContext(ctx, filepath.Join(src, "scripts/kconfig/merge_config.sh"), "-m", "-O", opts.OutDir, cfgPath, frag)
	merge.Dir = opts.OutDir
	if out, err := merge.CombinedOutput(); err != nil {
		return res, fmt.Errorf("merging the fragment: %w\n%s", err, tail(string(out), 20))
	}
	if _, err := mk("olddefconfig"); err != nil {
		return res, err
	}
	config, err := os.ReadFile(cfgPath)
	if err != nil {
		return res, err
	}
	if err := CheckConfig(config, RequiredSchedExt...); err != nil {
		return res, fmt.Errorf("the configuration of %s lacks what sched_ext needs after olddefconfig (a dependency kconfig could not meet: pahole too old?): %w", src, err)
	}
	rel, err := mk("-s", "kernelrelease")
	if err != nil {
		return res, err
	}
	release := strings.TrimSpace(lastLine(string(rel)))
	sum := sha256.Sum256([]byte(id + "\x00" + string(config)))
	version := fmt.Sprintf("%s-ktstr-%s", release, hex.EncodeToString(sum[:6]))
	if dirty == "" && !opts.Force {
		if e, err := c.Lookup(version); err == nil && e.Verify() == nil {
			say("%s is in the cache (same source and config): %s", version, e.Dir)
			res.Entry, res.Cached = e, true
			return res, nil
		}
	}
	say("building %s with %d jobs in %s (a tinyconfig kernel takes minutes, defconfig much longer)", version, jobs, opts.OutDir)
	start := time.Now()
	if err := runBuild(ctx, src, opts.OutDir, opts.Pahole, jobs, say); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	say("built in %v", res.Elapsed.Round(time.Second))
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(opts.OutDir, name)) }
	bz, err := read("arch/x86/boot/bzImage")
	if err != nil {
		return res, fmt.Errorf("the build left no bzImage: %w", err)
	}
	vmlinux, err := read("vmlinux")
	if err != nil {
		return res, fmt.Errorf("the build left no vmlinux: %w", err)
	}
	sysmap, _ := read("System.map")
	if dirty != "" {
		res.Dirty = dirty
		res.Entry = Entry{Version: version, Source: "build of " + src + " (" + id + ", " + dirty + ")", Dir: opts.OutDir, SchedExt: true}
		say("not cached: %s; the kernel is %s", dirty, filepath.Join(opts.OutDir, "vmlinux"))
		return res, nil
	}
	e, err := c.Store(StoreRequest{Version: version, Source: BuiltSourcePrefix + id + " (" + opts.Base + " + ktstr.kconfig)", Vmlinuz: bz, Vmlinux: vmlinux, Config: config, SystemMap: sysmap, FragmentSHA256: sha256Hex([]byte(opts.Fragment))})
	if err != nil {
		return res, err
	}
	res.Entry, res.Stored = e, true
	say("stored %s in %s", version, e.Dir)
	return res, nil
}

// runBuild runs make for vmlinux and bzImage, saying how far it got
// every 30 seconds.
func runBuild(ctx context.Context, src, out, pahole string, jobs int, say func(string, ...any)) error {
	cmd := exec.CommandContext(ctx, "make", "-C", src, "O="+out, "PAHOLE="+pahole, fmt.Sprintf("-j%d", jobs), "vmlinux", "bzImage")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("make: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); pw.Close() }()
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var last []string
	compiled := 0
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	start := time.Now()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				err := <-done
				if err != nil {
					return fmt.Errorf("make vmlinux bzImage: %w\n%s", err, strings.Join(last, "\n"))
				}
				return nil
			}
			if f := strings.Fields(l); len(f) > 1 && f[0] == "CC" {
				compiled++
			}
			last = append(last, l)
			if len(last) > 30 {
				last = last[1:]
			}
		case <-tick.C:
			say("  ... %v: %d files compiled", time.Since(start).Round(time.Second), compiled)
		}
	}
}

// sourceIdentity names a tree's content: git's HEAD (and whether the
// tree has changes), else a hash of the files' names, sizes and
// modification times.
func sourceIdentity(ctx context.Context, src string) (id, dirty string, err error) {
	if _, err := os.Stat(filepath.Join(src, ".git")); err == nil {
		head, err := exec.CommandContext(ctx, "git", "-C", src, "rev-parse", "HEAD").Output()
		if err != nil {
			return "", "", fmt.Errorf("git rev-parse HEAD in %s: %w", src, err)
		}
		id = "git " + strings.TrimSpace(string(head))
		st, err := exec.CommandContext(ctx, "git", "-C", src, "status", "--porcelain", "--untracked-files=no").Output()
		if err != nil {
			return "", "", fmt.Errorf("git status in %s: %w", src, err)
		}
		if n := len(strings.Split(strings.TrimSpace(string(st)), "\n")); strings.TrimSpace(string(st)) != "" {
			dirty = fmt.Sprintf("the tree has uncommitted changes (%d files)", n)
		}
		return id, dirty, nil
	}
	h := sha256.New()
	var files []string
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || strings.HasPrefix(d.Name(), ".tmp")) {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", "", fmt.Errorf("reading %s: %w", src, err)
	}
	sort.Strings(files)
	for _, p := range files {
		st, err := os.Lstat(p)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(src, p)
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", rel, st.Size(), st.ModTime().UnixNano())
	}
	return fmt.Sprintf("tree %s (%d files)", hex.EncodeToString(h.Sum(nil)[:8]), len(files)), "", nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
