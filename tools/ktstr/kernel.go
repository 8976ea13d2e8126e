package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ktstr-go/ktstr/kernel"
)

// kernelCommands is the dispatch table of "ktstr kernel".
func kernelCommands() []command {
	return []command{
		{name: "fetch", args: "[--force] [--mirror URI] [--suite sid] [--json]", summary: "download a sched_ext kernel from Debian into the cache", run: (*app).kernelFetch},
		{name: "list", args: "[--json]", summary: "list cached kernels, newest first", run: (*app).kernelList},
		{name: "build", args: kernelBuildSynopsis, summary: "build a kernel from a tree or Debian's source package with the ktstr fragment, cache it, and compare its boot time", run: (*app).kernelBuild},
		{name: "clean", args: "[--keep N] [--force]", summary: "remove cached kernels except the N newest (asks before removing all)", run: (*app).kernelClean},
		{name: "resolve", args: "[--kernel PATH] [--sched-ext]", summary: "show which kernel ktstr would boot, and why", run: (*app).kernelResolve},
		{name: "mirror", args: "[--apt-etc DIR]", summary: "print the Debian mirror the machine's apt sources name (what kernel fetch and the offline Bazel use)", run: (*app).kernelMirror},
		{name: "scheds", args: "[--version V] [--force] [--json]", summary: "build the kernel's own example sched_ext schedulers (tools/sched_ext) against a cached kernel", run: (*app).kernelScheds},
	}
}

func (a *app) kernel(args []string) int {
	return a.dispatch("ktstr kernel", kernelCommands(), args)
}

func (a *app) kernelFetch(args []string) int {
	fs := a.newFlags("ktstr kernel fetch", "[--force] [--mirror URI] [--suite sid] [--flavour cloud-amd64] [--json]")
	force := fs.Bool("force", false, "download even if the kernel is already cached")
	mirror := fs.String("mirror", "", "Debian mirror URI (default: read from the machine's apt sources)")
	suite := fs.String("suite", "sid", "Debian suite; only sid kernels enable sched_ext")
	flavour := fs.String("flavour", "cloud-amd64", "Debian kernel flavour")
	asJSON := fs.Bool("json", false, "print the cache entry as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	cache, err := kernel.DefaultCache()
	if err != nil {
		return a.fail(err)
	}
	e, err := kernel.Fetch(a.ctx, kernel.FetchOptions{
		Cache:    cache,
		Mirror:   *mirror,
		Suite:    *suite,
		Flavour:  *flavour,
		Progress: a.stderr,
		Force:    *force,
	})
	if err != nil {
		return a.fail(err)
	}
	if *asJSON {
		return a.writeJSON(e)
	}
	printEntry(a.stdout, e)
	return 0
}

func printEntry(w io.Writer, e kernel.Entry) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "version:\t%s\n", e.Version)
	fmt.Fprintf(tw, "source:\t%s\n", e.Source)
	fmt.Fprintf(tw, "sched_ext:\t%s\n", yesNo(e.SchedExt))
	fmt.Fprintf(tw, "boot image:\t%s\n", e.BootImage())
	fmt.Fprintf(tw, "config:\t%s\n", orUnknown(e.ConfigPath()))
	if e.FragmentSHA256 != "" {
		whose := "this ktstr's ktstr.kconfig"
		if e.OlderFragment() {
			whose = kernel.OlderFragmentNote
		}
		fmt.Fprintf(tw, "fragment:\tsha256 %.12s (%s)\n", e.FragmentSHA256, whose)
	}
	fmt.Fprintf(tw, "fetched:\t%s\n", e.FetchedAt.Local().Format(time.RFC3339))
	tw.Flush()
}

func (a *app) kernelList(args []string) int {
	fs := a.newFlags("ktstr kernel list", "[--json]")
	asJSON := fs.Bool("json", false, "print the entries as a JSON array")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	cache, err := kernel.DefaultCache()
	if err != nil {
		return a.fail(err)
	}
	entries, err := cache.List()
	if err != nil {
		return a.fail(err)
	}
	if *asJSON {
		if entries == nil {
			entries = []kernel.Entry{}
		}
		return a.writeJSON(entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(a.stderr, "no kernels cached in %s; fetch one with \"ktstr kernel fetch\"\n", cache.Dir)
		return 0
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSCHED_EXT\tFETCHED\tPATH")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Version, yesNo(e.SchedExt), e.FetchedAt.Local().Format("2006-01-02 15:04"), e.BootImage())
	}
	tw.Flush()
	for _, e := range entries {
		if e.OlderFragment() {
			fmt.Fprintf(a.stderr, "note: %s was %s\n", e.Version, kernel.OlderFragmentNote)
		}
	}
	return 0
}

func (a *app) kernelClean(args []string) int {
	fs := a.newFlags("ktstr kernel clean", "[--keep N] [--force]")
	keep := fs.Int("keep", 0, "number of newest kernels to keep")
	force := fs.Bool("force", false, "remove every kernel without asking (with --keep 0)")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *keep < 0 {
		fmt.Fprintf(a.stderr, "ktstr kernel clean: --keep must be >= 0, got %d\n", *keep)
		return 2
	}
	cache, err := kernel.DefaultCache()
	if err != nil {
		return a.fail(err)
	}
	if *keep == 0 && !*force {
		entries, _ := cache.List()
		if len(entries) > 0 {
			ok, err := a.confirm(fmt.Sprintf("remove all %d cached kernels from %s?", len(entries), cache.Dir))
			if err != nil {
				fmt.Fprintf(a.stderr, "ktstr kernel clean: refusing to remove every cached kernel without asking (%v): give --force, or --keep N\n", err)
				return 2
			}
			if !ok {
				fmt.Fprintf(a.stdout, "nothing removed\n")
				return 0
			}
		}
	}
	removed, err := cache.Clean(*keep)
	for _, e := range removed {
		fmt.Fprintf(a.stdout, "removed %s (%s)\n", e.Version, e.Dir)
	}
	if err != nil {
		return a.fail(err)
	}
	fmt.Fprintf(a.stdout, "removed %d kernel(s) from %s\n", len(removed), cache.Dir)
	return 0
}

func (a *app) kernelMirror(args []string) int {
	fs := a.newFlags("ktstr kernel mirror", "[--apt-etc DIR]")
	etc := fs.String("apt-etc", "/etc/apt", "apt's configuration folder, holding sources.list and sources.list.d")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	m, err := kernel.SystemMirror(*etc)
	if err != nil {
		return a.fail(err)
	}
	fmt.Fprintln(a.stdout, m)
	return 0
}

func (a *app) kernelResolve(args []string) int {
	fs := a.newFlags("ktstr kernel resolve", "[--kernel PATH] [--sched-ext]")
	path := fs.String("kernel", "", "kernel image or directory to use (overrides $KTSTR_KERNEL)")
	schedExt := fs.Bool("sched-ext", false, "require a kernel with sched_ext (CONFIG_SCHED_CLASS_EXT=y)")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	k, err := kernel.Resolve(kernel.ResolveOptions{
		Explicit:     *path,
		WellKnown:    a.wellKnown,
		NeedSchedExt: *schedExt,
	})
	if err != nil {
		return a.fail(err)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "path:\t%s\n", k.Path)
	fmt.Fprintf(tw, "origin:\t%s\n", k.Origin)
	fmt.Fprintf(tw, "version:\t%s\n", orUnknown(k.Version))
	fmt.Fprintf(tw, "config:\t%s\n", orUnknown(k.ConfigPath))
	if k.Note != "" {
		fmt.Fprintf(tw, "note:\t%s\n", k.Note)
	}
	tw.Flush()
	return 0
}

func (a *app) writeJSON(v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return a.fail(fmt.Errorf("encoding JSON: %w", err))
	}
	fmt.Fprintf(a.stdout, "%s\n", b)
	return 0
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// kernelScheds builds (or shows) the example schedulers of the kernel's
// own tools/sched_ext against a cached kernel.
func (a *app) kernelScheds(args []string) int {
	fs := a.newFlags("ktstr kernel scheds", "[--version V] [--force] [--mirror URI] [--json]")
	version := fs.String("version", "", "cached kernel to build against (default: the newest)")
	force := fs.Bool("force", false, "build again even when the schedulers are built")
	mirror := fs.String("mirror", "", "Debian mirror URI (default: read from the machine's apt sources)")
	asJSON := fs.Bool("json", false, "print the build as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	cache, err := kernel.DefaultCache()
	if err != nil {
		return a.fail(err)
	}
	var e kernel.Entry
	if *version != "" {
		e, err = cache.Lookup(*version)
	} else {
		e, err = cache.Newest()
	}
	if err != nil {
		return a.fail(fmt.Errorf("%w (fetch one: go run ./tools/ktstr kernel fetch)", err))
	}
	b, err := kernel.BuildSchedExt(a.ctx, kernel.SchedExtOptions{Entry: e, Mirror: *mirror, Progress: a.stderr, Force: *force})
	if err != nil {
		return a.fail(err)
	}
	if *asJSON {
		return a.writeJSON(b)
	}
	fmt.Fprintf(a.stdout, "kernel:     %s\nsource:     %s\ndir:        %s\nschedulers: %v\n", b.Kernel, b.Source, b.Dir, b.Schedulers)
	return 0
}
