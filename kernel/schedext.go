package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"
)

// SchedExtDir is the folder of a cache entry that holds the kernel's own
// example sched_ext schedulers (tools/sched_ext), built against it.
const SchedExtDir = "sched_ext"

// SchedExtOptions controls BuildSchedExt.
type SchedExtOptions struct {
	// Entry is the cached kernel to build against (its vmlinux gives the
	// BTF the schedulers are compiled for).
	Entry Entry
	// Mirror and Suite locate Debian's linux-source package (as in
	// FetchOptions; "" reads the machine's apt sources, and sid).
	Mirror, Suite string
	// WorkDir holds the private apt state (FetchOptions.WorkDir).
	WorkDir string
	// Clang is the clang to build the BPF programs with (default
	// clang-19, then clang).
	Clang string
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
	// Force builds again even when the binaries exist.
	Force bool
}

// SchedExtBuild is what BuildSchedExt left in the cache.
type SchedExtBuild struct {
	Dir    string `json:"dir"`
	Kernel string `json:"kernel"`
	// Source is the Debian source package and version built from.
	Source string `json:"source"`
	// Schedulers are the binaries' names, sorted (scx_simple, ...).
	Schedulers []string  `json:"schedulers"`
	BuiltAt    time.Time `json:"built_at"`
}

// SchedExtTools are the programs BuildSchedExt runs.
var SchedExtTools = []string{"make", "gcc", "tar", "xz", "dpkg-deb", "apt-get", "llvm-strip-19"}

// Series is the kernel series of a release ("7.2.13+deb14-cloud-amd64"
// gives "7.2"): the linux-source package of the same series builds it.
func Series(release string) (string, error) { return sourceSeries(release) }

// sourceSeries is the linux-source package series of a kernel release:
// "7.2.13+deb14-cloud-amd64" gives "7.2".
func sourceSeries(release string) (string, error) {
	m := regexp.MustCompile(`^(\d+)\.(\d+)`).FindStringSubmatch(release)
	if m == nil {
		return "", fmt.Errorf("kernel release %q has no major.minor version", release)
	}
	return m[1] + "." + m[2], nil
}

// LoadSchedExt reads a previous build of e's example schedulers.
func LoadSchedExt(e Entry) (SchedExtBuild, error) {
	var b SchedExtBuild
	data, err := os.ReadFile(filepath.Join(e.Dir, SchedExtDir, "build.json"))
	if err != nil {
		return b, fmt.Errorf("the example sched_ext schedulers of kernel %s are not built (run: go run ./tools/ktstr kernel scheds): %w", e.Version, err)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("kernel %s: sched_ext build record: %w", e.Version, err)
	}
	for _, s := range b.Schedulers {
		if _, err := os.Stat(filepath.Join(b.Dir, s)); err != nil {
			return b, fmt.Errorf("kernel %s: scheduler %s of the last build is gone (rebuild: go run ./tools/ktstr kernel scheds --force): %w", e.Version, s, err)
		}
	}
	return b, nil
}

// BuildSchedExt builds the kernel's own example sched_ext schedulers
// (tools/sched_ext of Debian's linux-source package of the same series)
// against opts.Entry and keeps them in the entry's sched_ext folder. Only
// the parts of the source tree the build needs are unpacked; the tree's
// own libbpf and bpftool are built with it. The binaries are linked
// dynamically (libelf, libz, libc), which the initramfs packer resolves.
func BuildSchedExt(ctx context.Context, opts SchedExtOptions) (SchedExtBuild, error) {
	e := opts.Entry
	say := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "ktstr: "+format+"\n", args...)
		}
	}
	if !opts.Force {
		if b, err := LoadSchedExt(e); err == nil {
			say("the example schedulers of %s are built: %s", e.Version, b.Dir)
			return b, nil
		}
	}
	vmlinux := filepath.Join(e.Dir, vmlinuxName)
	if _, err := os.Stat(vmlinux); err != nil {
		return SchedExtBuild{}, fmt.Errorf("building sched_ext schedulers for %s: the cache entry has no vmlinux (its BTF is needed): %w", e.Version, err)
	}
	clang := opts.Clang
	if clang == "" {
		for _, c := range []string{"clang-19", "clang"} {
			if _, err := exec.LookPath(c); err == nil {
				clang = c
				break
			}
		}
	}
	var missing []string
	if clang == "" {
		missing = append(missing, "clang-19")
	}
	for _, t := range SchedExtTools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return SchedExtBuild{}, fmt.Errorf("building sched_ext schedulers needs %s (Debian: apt-get install clang-19 llvm-19 libelf-dev zlib1g-dev make gcc xz-utils; tools/dev setup installs them)", strings.Join(missing, ", "))
	}
	series, err := sourceSeries(e.Version)
	if err != nil {
		return SchedExtBuild{}, err
	}
	if opts.Suite == "" {
		opts.Suite = "sid"
	}
	if opts.Mirror == "" {
		if opts.Mirror, err = SystemMirror("/etc/apt"); err != nil {
			return SchedExtBuild{}, fmt.Errorf("building sched_ext schedulers: %w", err)
		}
	}
	if opts.WorkDir == "" {
		opts.WorkDir = filepath.Join(filepath.Dir(filepath.Dir(e.Dir)), "apt")
	}
	if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return SchedExtBuild{}, fmt.Errorf("building sched_ext schedulers: %w", err)
	}
	unlock, err := lockDir(ctx, opts.WorkDir, func() { say("waiting for another user of %s ...", opts.WorkDir) })
	if err != nil {
		return SchedExtBuild{}, err
	}
	defer unlock()
	apt, err := newSideApt(opts.WorkDir, opts.Mirror, opts.Suite, "cloud-amd64")
	if err != nil {
		return SchedExtBuild{}, err
	}
	tmp, err := os.MkdirTemp(opts.WorkDir, "schedext-")
	if err != nil {
		return SchedExtBuild{}, err
	}
	defer os.RemoveAll(tmp)
	deb, version, pkg, err := downloadSourceDeb(ctx, apt, tmp, series, opts.Suite, opts.Mirror, say)
	if err != nil {
		return SchedExtBuild{}, fmt.Errorf("building sched_ext schedulers: %w", err)
	}
	say("unpacking %s %s ...", pkg, version)
	if _, _, err := runCommand(ctx, "", nil, "dpkg-deb", "-x", deb, filepath.Join(tmp, "deb")); err != nil {
		return SchedExtBuild{}, fmt.Errorf("building sched_ext schedulers: %w", err)
	}
	tarball := filepath.Join(tmp, "deb", "usr", "src", pkg+".tar.xz")
	src := filepath.Join(tmp, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return SchedExtBuild{}, err
	}
	top := pkg
	parts := []string{"tools", "include", "kernel/bpf", "scripts", "arch/x86/include", "Makefile"}
	args := []string{"-xf", tarball, "-C", src}
	for _, p := range parts {
		args = append(args, top+"/"+p)
	}
	say("extracting %s from the source ...", strings.Join(parts, ", "))
	if _, _, err := runCommand(ctx, "", nil, "tar", args...); err != nil {
		return SchedExtBuild{}, fmt.Errorf("building sched_ext schedulers: %w", err)
	}
	out := filepath.Join(tmp, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return SchedExtBuild{}, err
	}
	say("building tools/sched_ext with %s against %s (about a minute) ...", clang, vmlinux)
	strip := "llvm-strip-19"
	mk := exec.CommandContext(ctx, "make", "-C", filepath.Join(src, top, "tools", "sched_ext"), "O="+out,
		"CLANG="+clang, "LLVM_STRIP="+strip, "VMLINUX_BTF="+vmlinux, fmt.Sprintf("-j%d", max(2, runtime.NumCPU())))
	log, err := mk.CombinedOutput()
	if err != nil {
		return SchedExtBuild{}, fmt.Errorf("building tools/sched_ext of %s %s: %w\n%s", pkg, version, err, tail(string(log), 40))
	}
	bins, err := filepath.Glob(filepath.Join(out, "build", "bin", "scx_*"))
	if err != nil || len(bins) == 0 {
		return SchedExtBuild{}, fmt.Errorf("building tools/sched_ext: no scx_* binaries in %s\n%s", out, tail(string(log), 20))
	}
	dst := filepath.Join(e.Dir, SchedExtDir)
	staging := dst + ".tmp"
	os.RemoveAll(staging)
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return SchedExtBuild{}, err
	}
	b := SchedExtBuild{Dir: dst, Kernel: e.Version, Source: pkg + " " + version, BuiltAt: time.Now().UTC().Round(time.Second)}
	for _, bin := range bins {
		data, err := os.ReadFile(bin)
		if err != nil {
			return SchedExtBuild{}, err
		}
		name := filepath.Base(bin)
		if err := os.WriteFile(filepath.Join(staging, name), data, 0o755); err != nil {
			return SchedExtBuild{}, err
		}
		b.Schedulers = append(b.Schedulers, name)
	}
	sort.Strings(b.Schedulers)
	rec, _ := json.MarshalIndent(b, "", "  ")
	if err := os.WriteFile(filepath.Join(staging, "build.json"), append(rec, '\n'), 0o644); err != nil {
		return SchedExtBuild{}, err
	}
	if err := replaceDir(staging, dst); err != nil {
		return SchedExtBuild{}, fmt.Errorf("storing the sched_ext schedulers: %w", err)
	}
	say("built %s in %s", strings.Join(b.Schedulers, ", "), dst)
	return b, nil
}
