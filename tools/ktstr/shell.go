package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/internal/hostrun"
	"github.com/ktstr-go/ktstr/runner"
)

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

var _ flag.Value = (*stringsFlag)(nil)

const shellSynopsis = "[--topology T] [--memory MB] [--kernel PATH] [-i FILE]... [--busybox PATH] [--exec CMD [--timeout D]] [--dmesg] [-v]"

// shell boots a VM with the test topology and a busybox userland: an
// interactive shell on the console, or one command (--exec) whose output
// and exit status become ktstr's.
func (a *app) shell(args []string) int {
	fs := a.newFlags("ktstr shell", shellSynopsis+"\n\nBoots a VM with the given topology and a busybox userland. Included files are at "+"/include (on PATH) with the shared libraries they need. With --exec, the command's stdout and stderr are printed and its exit status is ktstr's; without, the console is an interactive shell (\"exit\" powers the VM off).")
	topo := fs.String("topology", "1s2c1t", "the guest's CPU topology: a preset (ktstr list) or {sockets}s{cores}c{threads}t")
	mem := fs.Int("memory", 0, "guest memory in MiB (default: sized from the topology)")
	kpath := fs.String("kernel", "", "the kernel to boot (default: resolved as tests do: $KTSTR_KERNEL, the cache, well-known paths)")
	var includes stringsFlag
	fs.Var(&includes, "i", "a file to include at /include/NAME (repeatable); executables bring their shared libraries")
	busybox := fs.String("busybox", "", "the busybox to use as the guest's userland (default: one on PATH)")
	execCmd := fs.String("exec", "", "run this command with /bin/sh -c instead of an interactive shell")
	timeout := fs.Duration("timeout", 10*time.Minute, "with --exec: how long the command may run")
	dmesg := fs.Bool("dmesg", false, "print the guest kernel's log after the command (on stderr)")
	verbose := fs.Bool("v", false, "show the guest console (kernel and init messages) on stderr")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	t, err := parseTopology(*topo)
	if err != nil {
		return a.usageErr(fs, err)
	}
	t.MemoryMB = *mem
	if err := t.Validate(); err != nil {
		return a.usageErr(fs, err)
	}
	if *timeout <= 0 {
		return a.usageErr(fs, fmt.Errorf("--timeout %v: must be positive", *timeout))
	}
	bb, bbErr := findBusybox(*busybox)
	if bbErr != nil && (*busybox != "" || *execCmd == "") {
		return a.fail(bbErr)
	}
	s := vmSession{topo: t, kernel: *kpath, busybox: bb, includes: includes, timeout: *timeout}
	s.shell.Exec, s.shell.Dmesg = *execCmd, *dmesg
	if term := os.Getenv("TERM"); term != "" {
		s.shell.Env = append(s.shell.Env, "TERM="+term)
	}
	dir, err := os.MkdirTemp("", "ktstr-shell-")
	if err != nil {
		return a.fail(err)
	}
	defer os.RemoveAll(dir)
	s.workDir = dir
	if *verbose {
		s.console = a.stderr
	}
	if *execCmd == "" {
		if bbErr != nil {
			return a.fail(bbErr)
		}
		s.stdin, s.console = os.Stdin, a.stdout
		s.timeout = 24 * time.Hour
		restore := rawTerminalGuard(os.Stdin)
		defer restore()
	} else if bbErr != nil {
		fmt.Fprintf(a.stderr, "ktstr shell: %v; running the command without a shell\n", bbErr)
	}
	fmt.Fprintf(a.stderr, "ktstr shell: booting %s (%d CPUs, %d MiB)...\n", t, t.CPUs(), t.EffectiveMemoryMB())
	start := time.Now()
	out, err := a.runVM(s)
	if b := out.Boot; b != nil && *verbose {
		fmt.Fprintf(a.stderr, "ktstr shell: kernel %s, %s, %.1fs\n", out.Kernel.Path, b.Accel, time.Since(start).Seconds())
	}
	if err != nil {
		return a.failVM(err, out)
	}
	sr := out.Result.Shell
	fmt.Fprint(a.stdout, sr.Stdout)
	fmt.Fprint(a.stderr, sr.Stderr)
	if sr.Truncated {
		fmt.Fprintf(a.stderr, "ktstr shell: the command's output was longer than %d MiB: its start was dropped\n", wire.ShellOutputBytes>>20)
	}
	if *dmesg {
		fmt.Fprintf(a.stderr, "--- guest kernel log ---\n%s", sr.Dmesg)
	}
	if out.Result.TimedOut {
		fmt.Fprintf(a.stderr, "ktstr shell: the command did not end within --timeout %v: killed\n", *timeout)
		return 124
	}
	return sr.ExitCode
}

// failVM reports a VM that failed, with the console's tail for a guest
// that did not get as far as its result.
func (a *app) failVM(err error, out hostrun.Outcome) int {
	a.fail(err)
	var be *runner.BootError
	if !errors.As(err, &be) && out.Boot != nil && out.Boot.ConsoleTail != "" {
		fmt.Fprintf(a.stderr, "--- guest console (tail) ---\n%s\n", out.Boot.ConsoleTail)
	}
	return 1
}

// usageErr reports a bad flag value and returns the usage status.
func (a *app) usageErr(fs *flag.FlagSet, err error) int {
	fmt.Fprintf(a.stderr, "%s: %v\n", fs.Name(), err)
	return 2
}

// rawTerminalGuard saves f's terminal settings (QEMU makes the terminal
// raw) and returns a function that puts them back, also after a QEMU
// that was killed before it could.
func rawTerminalGuard(f *os.File) func() {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return func() {}
	}
	return func() { unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t) }
}
