package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/topology"
)

const kernelBuildSynopsis = "(--source DIR | --debian [--series 7.2]) [--base tinyconfig|defconfig|oldconfig] [--force] [--clean] [--jobs N] [--no-boot] [--json]"

// kernelBuildReport is what "ktstr kernel build --json" prints.
type kernelBuildReport struct {
	Entry   kernel.Entry `json:"entry"`
	Cached  bool         `json:"cached"`
	Stored  bool         `json:"stored"`
	Dirty   string       `json:"dirty,omitempty"`
	OutDir  string       `json:"out_dir"`
	BuildS  float64      `json:"build_s,omitempty"`
	Boots   []bootTime   `json:"boots,omitempty"`
	BootErr string       `json:"boot_error,omitempty"`
}

// bootTime is one kernel's boot, measured on a bare VM: the guest's own
// uptime when init started, and the host's wall time from QEMU's start
// to its exit.
type bootTime struct {
	Kernel  string  `json:"kernel"`
	Path    string  `json:"path"`
	ToInitS float64 `json:"to_init_s"`
	TotalS  float64 `json:"total_s"`
	// Rounds is how many boots the medians are of.
	Rounds int `json:"rounds"`
}

// kernelBuild builds a kernel from a tree (or Debian's source package)
// with the ktstr fragment, caches it, and boots it beside the newest
// fetched kernel to compare their boot times.
func (a *app) kernelBuild(args []string) int {
	fs := a.newFlags("ktstr kernel build", kernelBuildSynopsis+"\n\nConfigures a kernel tree (the base, then the ktstr kconfig fragment, then olddefconfig), builds vmlinux and bzImage out of tree, and stores the kernel in the cache under <release>-ktstr-<hash of source and config>: the same tree and config are built once. A git tree with uncommitted changes is built but not cached. --debian builds Debian's linux-source package from the machine's apt mirror. Then both this kernel and the newest other cached kernel boot a bare VM, and their boot times are printed side by side.")
	source := fs.String("source", "", "the kernel source tree")
	debian := fs.Bool("debian", false, "build Debian's linux-source-SERIES package (downloaded through the machine's apt mirror)")
	series := fs.String("series", "", "with --debian: the kernel series (default: that of the newest cached kernel)")
	base := fs.String("base", "tinyconfig", "the configuration the fragment is merged into: tinyconfig, defconfig, or oldconfig (the tree's .config)")
	force := fs.Bool("force", false, "build even when the cache has this source and config")
	clean := fs.Bool("clean", false, "empty the build folder first")
	jobs := fs.Int("jobs", 0, "make's -j (default: the number of CPUs)")
	noBoot := fs.Bool("no-boot", false, "do not boot the kernels to compare their boot times")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if (*source == "") == !*debian {
		return a.usageErr(fs, errors.New("give one of --source DIR and --debian"))
	}
	cache, err := kernel.DefaultCache()
	if err != nil {
		return a.fail(err)
	}
	opts := kernel.BuildOptions{Source: *source, Base: *base, Force: *force, Clean: *clean, Jobs: *jobs, Progress: a.stderr}
	if *debian {
		s := *series
		if s == "" {
			e, err := cache.Newest()
			if err != nil {
				return a.fail(fmt.Errorf("--debian without --series takes the series of the newest cached kernel, and there is none: %w (give --series 7.2, or ktstr kernel fetch first)", err))
			}
			if s, err = kernel.Series(e.Version); err != nil {
				return a.fail(err)
			}
		}
		dir, id, err := cache.DebianSource(a.ctx, kernel.SourceOptions{Series: s, Progress: a.stderr})
		if err != nil {
			return a.fail(err)
		}
		opts.Source, opts.SourceID = dir, id
	}
	res, err := cache.Build(a.ctx, opts)
	if err != nil {
		return a.fail(err)
	}
	rep := kernelBuildReport{Entry: res.Entry, Cached: res.Cached, Stored: res.Stored, Dirty: res.Dirty, OutDir: res.OutDir, BuildS: res.Elapsed.Seconds()}
	if !*noBoot {
		rep.Boots, err = a.compareBoots(cache, res.Entry)
		if err != nil {
			rep.BootErr = err.Error()
		}
	}
	if *asJSON {
		a.writeJSON(rep)
	} else {
		printEntry(a.stdout, res.Entry)
		if res.Dirty != "" {
			fmt.Fprintf(a.stdout, "not cached:\t%s (the kernel stays in %s)\n", res.Dirty, res.OutDir)
		}
		if len(rep.Boots) > 0 {
			fmt.Fprintf(a.stdout, "\nboot times (bare VM, 1s2c1t, same QEMU and accelerator; medians of %d alternating boots):\n", rep.Boots[0].Rounds)
			for _, b := range rep.Boots {
				fmt.Fprintf(a.stdout, "  %-48s kernel to init %6.2fs   QEMU start to exit %6.2fs\n", b.Kernel, b.ToInitS, b.TotalS)
			}
		}
	}
	if rep.BootErr != "" {
		return a.fail(fmt.Errorf("booting the kernels: %s", rep.BootErr))
	}
	return 0
}

// compareBoots boots built (and the newest fetched kernel, when there is
// one) on a bare VM that powers off at once.
func (a *app) compareBoots(cache kernel.Cache, built kernel.Entry) ([]bootTime, error) {
	kernels := []kernel.Entry{built}
	if entries, err := cache.List(); err == nil {
		// The newest kernel that was fetched, not built: the
		// distribution's, which the fragment is meant to beat.
		for _, e := range entries {
			if e.Version != built.Version && !strings.HasPrefix(e.Source, kernel.BuiltSourcePrefix) {
				kernels = append(kernels, e)
				break
			}
		}
	}
	// Rounds alternate the kernels so that drift in the machine's load
	// falls on both; each figure is the median of its rounds.
	const rounds = 3
	samples := make([][]bootTime, len(kernels))
	for r := 0; r < rounds; r++ {
		for i, e := range kernels {
			b, err := a.bootOnce(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e.Version, err)
			}
			samples[i] = append(samples[i], b)
		}
	}
	var out []bootTime
	for _, s := range samples {
		b := s[0]
		b.ToInitS = median(s, func(x bootTime) float64 { return x.ToInitS })
		b.TotalS = median(s, func(x bootTime) float64 { return x.TotalS })
		b.Rounds = len(s)
		out = append(out, b)
	}
	return out, nil
}

func median(s []bootTime, f func(bootTime) float64) float64 {
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = f(x)
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

// bootOnce boots e on a bare VM whose init powers off at once.
func (a *app) bootOnce(e kernel.Entry) (bootTime, error) {
	path := filepath.Join(e.Dir, "vmlinux")
	if _, err := os.Stat(path); err != nil {
		path = e.BootImage()
	}
	fmt.Fprintf(a.stderr, "ktstr: booting %s ...\n", e.Version)
	dir, err := os.MkdirTemp("", "ktstr-boot-")
	if err != nil {
		return bootTime{}, err
	}
	defer os.RemoveAll(dir)
	s := vmSession{topo: topology.Topology{Sockets: 1, Cores: 2, Threads: 1}, kernel: path, timeout: 2 * time.Minute, workDir: dir}
	s.shell.Exec = "true"
	start := time.Now()
	o, err := a.runVM(s)
	if err != nil {
		return bootTime{}, err
	}
	// The VM's own time, from QEMU's start to its exit: without the
	// accelerator's choice (a KVM probe the first time a kernel is
	// seen) and the initramfs.
	b := bootTime{Kernel: e.Version, Path: path, TotalS: time.Since(start).Seconds()}
	if o.Boot != nil {
		if o.Boot.Elapsed > 0 {
			b.TotalS = o.Boot.Elapsed.Seconds()
		}
		if o.Boot.Hello != nil {
			b.ToInitS = o.Boot.Hello.UptimeAtInit
		}
	}
	return b, nil
}

// confirm asks a yes/no question on the terminal; false (with a reason)
// when stdin is not one.
func (a *app) confirm(question string) (bool, error) {
	if _, err := unix.IoctlGetTermios(int(os.Stdin.Fd()), unix.TCGETS); err != nil {
		return false, errors.New("stdin is not a terminal to ask on")
	}
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	return strings.EqualFold(strings.TrimSpace(line), "y") || strings.EqualFold(strings.TrimSpace(line), "yes"), nil
}
