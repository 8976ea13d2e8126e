package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/ktstr-go/ktstr/guest/workload"
)

func main() {
	asInit()
	// "ktstr run" starts its workers as this binary (workload.Start).
	workload.MaybeRunWorker()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args (without the program name) and
// returns the exit status: 0 on success, 1 when the command fails, 2 for
// usage errors.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{ctx: ctx, stdout: stdout, stderr: stderr}
	return a.main(args)
}

// app carries what every command needs.
type app struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	// wellKnown replaces kernel.DefaultWellKnown() in "kernel resolve"
	// when non-nil; tests use it to keep the host's kernels out.
	wellKnown []string
}

// command is one entry of a dispatch table.
type command struct {
	name    string
	args    string // synopsis of the arguments
	summary string
	run     func(a *app, args []string) int
}

// commands is the top-level dispatch table. Later commands (topo, list,
// gauntlet, shell) are added here.
func commands() []command {
	return []command{
		{name: "kernel", args: "<subcommand> [arguments]", summary: "fetch, build, list, clean and resolve test kernels, and build their example schedulers", run: (*app).kernel},
		{name: "list", args: "[--json] [DIR | DIR/...]...", summary: "list the canned scenarios, work types and topology presets, and the ktstr tests of folders", run: (*app).list},
		{name: "stats", args: "<subcommand> [arguments]", summary: "compare result files, keep and check baselines", run: (*app).stats},
		{name: "gauntlet", args: "[--budget DURATION] [--json] [--write-suite FILE] [DIR | DIR/...]...", summary: "list the gauntlet variants of the module's ktstr tests, or pick the ones that cover the most features within a time budget", run: (*app).gauntlet},
		{name: "shell", args: shellSynopsis, summary: "boot a VM with a topology and a busybox shell (or one command, --exec)", run: (*app).shell},
		{name: "verifier", args: verifierSynopsis, summary: "load a scheduler in a VM per flag profile and print the verifier's instruction counts per BPF program (A/B with --against)", run: (*app).verifier},
		{name: "topo", args: "[--json]", summary: "show this machine's CPU topology", run: (*app).topo},
		{name: "run", args: runSynopsis, summary: "run a canned scenario on this machine (not in a VM) under the running scheduler", run: (*app).runBare},
		{name: "cleanup", args: "[--dry-run] [--json]", summary: "remove the cgroups of ktstr runs that were killed", run: (*app).cleanup},
		{name: "completion", args: "bash|zsh|fish", summary: "print a shell completion script", run: (*app).completion},
		{name: "accel", args: "[--kernel PATH] [--qemu PATH] [--reprobe] [--json]", summary: "show whether VMs run under KVM or TCG here, and why", run: (*app).accel},
	}
}

func (a *app) main(args []string) int {
	return a.dispatch("ktstr", commands(), args)
}

// dispatch runs the command named by args[0] from cmds.
func (a *app) dispatch(prog string, cmds []command, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(a.stderr, "%s: missing command\n\n", prog)
		printUsage(a.stderr, prog, cmds)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		printUsage(a.stdout, prog, cmds)
		return 0
	}
	for _, c := range cmds {
		if c.name == args[0] {
			return c.run(a, args[1:])
		}
	}
	fmt.Fprintf(a.stderr, "%s: unknown command %q\n\n", prog, args[0])
	printUsage(a.stderr, prog, cmds)
	return 2
}

func printUsage(w io.Writer, prog string, cmds []command) {
	fmt.Fprintf(w, "usage: %s <command> [arguments]\n\ncommands:\n", prog)
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun \"%s <command> -h\" for the options of a command.\n", prog)
}

// newFlags returns a flag set for the command "prog" that reports to
// stderr.
func (a *app) newFlags(prog, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "usage: %s %s\n", prog, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, which must hold only flags. When it returns
// false the command should exit with the returned status.
func parseFlags(fs *flag.FlagSet, args []string) (bool, int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, 0
		}
		return false, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return false, 2
	}
	return true, 0
}

// fail reports err and returns exit status 1.
func (a *app) fail(err error) int {
	fmt.Fprintf(a.stderr, "ktstr: %v\n", err)
	return 1
}
