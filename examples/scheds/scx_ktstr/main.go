//go:build linux

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// Exit statuses.
const (
	exitClean    = 0
	exitSetup    = 1
	exitEjected  = 2
	exitVerifier = 3
)

const (
	sysfsRoot     = "/sys"
	schedExtState = "/sys/kernel/sched_ext/state"
	schedExtOps   = "/sys/kernel/sched_ext/root/ops"

	pollInterval  = 100 * time.Millisecond
	enableTimeout = 60 * time.Second
	// exitInfoWait bounds the wait for ops.exit's record once the
	// scheduler is gone or detached.
	exitInfoWait = 5 * time.Second
	// verifierLogLines is how much of the verifier log a rejection shows.
	verifierLogLines = 40
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var c config
	fs := flag.NewFlagSet("scx_ktstr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&c.LLC, "llc", false, "one dispatch queue per last-level cache")
	fs.BoolVar(&c.Borrow, "borrow", false, "idle CPUs take work from other LLCs' queues")
	fs.BoolVar(&c.Steal, "steal", false, "take work from the busiest other LLC queue (needs --llc)")
	fs.Uint64Var(&c.SliceUS, "slice-us", 5000, "time slice in microseconds")
	fs.UintVar(&c.TimeoutMS, "timeout-ms", 0, "sched_ext watchdog timeout in ms (0: kernel default)")
	fs.StringVar(&c.Fault, "fault", "none", faultNames)
	fs.StringVar(&c.CgroupParent, "cgroup-parent", "", "cgroup parent path (accepted and printed only)")
	fs.DurationVar(&c.StatsInterval, "stats-interval", 0, "print per-CPU counters at this interval (0: never)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitClean
		}
		return exitSetup
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "scx_ktstr: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return exitSetup
	}
	setupErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "scx_ktstr: "+format+"\n", a...)
		return exitSetup
	}
	if err := c.validate(); err != nil {
		return setupErr("%v", err)
	}
	if c.CgroupParent != "" {
		fmt.Fprintf(stdout, "scx_ktstr: cgroup parent %s\n", c.CgroupParent)
	}

	topo, err := readLLCTopology(sysfsRoot)
	if err != nil {
		return setupErr("topology: %v", err)
	}
	load := loadKtstr
	if c.Fault == faultFailVerify {
		load = loadKtstrbad
	}
	spec, err := load()
	if err != nil {
		return setupErr("%v", err)
	}
	if err := configure(spec, c, topo); err != nil {
		return setupErr("%v", err)
	}
	if state, err := readSysfs(schedExtState); err != nil {
		return setupErr("sched_ext is not available: %v", err)
	} else if state != "disabled" {
		ops, _ := readSysfs(schedExtOps)
		return setupErr("sched_ext is %s (ops %q): another scheduler is loaded", state, ops)
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return setupErr("%v", err)
	}

	var objs ktstrObjects
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			fmt.Fprintln(stdout, "scx_ktstr: verifier rejected the program:")
			fmt.Fprintln(stdout, tailLines(fmt.Sprintf("%+v", ve), verifierLogLines))
			return exitVerifier
		}
		return setupErr("loading the BPF program: %v", err)
	}
	defer objs.Close()
	if c.Fault == faultFailVerify {
		return setupErr("the fail-verify object passed the verifier")
	}

	lnk, err := link.AttachStructOps(link.StructOpsOptions{Map: objs.KtstrOps})
	if err != nil {
		fmt.Fprintf(stderr, "scx_ktstr: attaching the scheduler: %v\n", err)
		if ei, ok := exitInfo(&objs); ok {
			fmt.Fprintln(stdout, exitLine(ei))
		}
		return exitSetup
	}
	detach := func() {
		if lnk != nil {
			lnk.Close()
			lnk = nil
		}
	}
	defer detach()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)

	// Wait for the kernel to finish switching tasks over.
	deadline := time.Now().Add(enableTimeout)
	for {
		state, _ := readSysfs(schedExtState)
		ops, _ := readSysfs(schedExtOps)
		if state == "enabled" && ops == opsName {
			break
		}
		if ei, ok := exitInfo(&objs); ok {
			fmt.Fprintln(stdout, exitLine(ei))
			return exitEjected
		}
		if time.Now().After(deadline) {
			return setupErr("sched_ext did not enable within %v (state %q, ops %q)", enableTimeout, state, ops)
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(stdout, "scx_ktstr: detaching: %v received\n", sig)
			detach()
			return finish(&objs, stdout, stderr, exitClean)
		case <-time.After(pollInterval / 2):
		}
	}
	fmt.Fprintf(stdout, "scx_ktstr: enabled (ops=%s, flags=%s, cpus=%d, llcs=%d)\n",
		opsName, c.flagsString(), len(topo.CPULLC), topo.NrLLCs)

	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	var statsC <-chan time.Time
	if c.StatsInterval > 0 {
		t := time.NewTicker(c.StatsInterval)
		defer t.Stop()
		statsC = t.C
	}
	for {
		select {
		case sig := <-sigs:
			fmt.Fprintf(stdout, "scx_ktstr: detaching: %v received\n", sig)
			detach()
			return finish(&objs, stdout, stderr, exitClean)
		case <-statsC:
			printStats(&objs, stdout, stderr, true)
		case <-poll.C:
			// A state that cannot be read says nothing: only a state
			// read as something else, or ops.exit's record, ends it.
			state, err := readSysfs(schedExtState)
			_, gone := exitInfo(&objs)
			if err == nil && state != "enabled" || gone {
				fmt.Fprintf(stdout, "scx_ktstr: detaching: sched_ext state %q, exit recorded %v\n", state, gone)
				detach()
				return finish(&objs, stdout, stderr, exitEjected)
			}
		}
	}
}

// finish waits for ops.exit's record, prints it and the counters, and
// returns code.
func finish(objs *ktstrObjects, stdout, stderr io.Writer, code int) int {
	deadline := time.Now().Add(exitInfoWait)
	for {
		if ei, ok := exitInfo(objs); ok {
			fmt.Fprintln(stdout, exitLine(ei))
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(stdout, "scx_ktstr: exit kind=0 (NONE) reason=%q msg=\"\"\n", "no exit information recorded")
			break
		}
		time.Sleep(pollInterval / 2)
	}
	printStats(objs, stdout, stderr, false)
	return code
}

// exitInfo returns the record of ops.exit once it has been written.
func exitInfo(objs *ktstrObjects) (*ktstrKtstrExitInfo, bool) {
	var ei ktstrKtstrExitInfo
	if err := objs.ExitInfo.Get(&ei); err != nil || ei.Kind == 0 {
		return nil, false
	}
	return &ei, true
}

// printStats prints the counters, per CPU when perCPU is set, and their sum.
func printStats(objs *ktstrObjects, stdout, stderr io.Writer, perCPU bool) {
	var per []ktstrKtstrCpuStats
	if err := objs.KtstrStats.Lookup(uint32(0), &per); err != nil {
		fmt.Fprintf(stderr, "scx_ktstr: reading %s: %v\n", statsMapName, err)
		return
	}
	if perCPU {
		for cpu, s := range per {
			fmt.Fprintln(stdout, statsLine(cpu, s))
		}
	}
	fmt.Fprintln(stdout, statsLine(-1, sumStats(per)))
}

func readSysfs(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}
