package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/runner"
)

// accelReport is what "ktstr accel --json" prints.
type accelReport struct {
	Accel   string             `json:"accel"`
	Why     string             `json:"why"`
	QEMU    string             `json:"qemu"`
	Kernel  string             `json:"kernel"`
	Verdict *runner.KVMVerdict `json:"kvm_probe,omitempty"`
	Error   string             `json:"error,omitempty"`
}

// accel shows which accelerator a test would use here, and why: the same
// choice as the runner's (runner.ChooseAccel), with the same cache.
func (a *app) accel(args []string) int {
	fs := a.newFlags("ktstr accel", "[--kernel PATH] [--qemu PATH] [--reprobe] [--json]")
	kpath := fs.String("kernel", "", "the kernel to probe with (default: as tests resolve it)")
	qemu := fs.String("qemu", "", "the QEMU binary (default: $KTSTR_QEMU, else qemu-system-x86_64 on PATH)")
	reprobe := fs.Bool("reprobe", false, "ignore the cached verdict and boot a probe guest again")
	asJSON := fs.Bool("json", false, "print the choice as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	bin, err := runner.FindQEMU(*qemu)
	if err != nil {
		return a.fail(err)
	}
	k, err := kernel.Resolve(kernel.ResolveOptions{Explicit: *kpath, WellKnown: a.wellKnown})
	if err != nil {
		return a.fail(err)
	}
	prober := &runner.KVMProber{Reprobe: *reprobe}
	choice, err := prober.Choose(a.ctx, runner.AccelAuto, bin, k.Path)
	rep := accelReport{Accel: string(choice.Accel), Why: choice.Why, QEMU: bin, Kernel: k.Path, Verdict: choice.Verdict}
	if err != nil {
		rep.Error = err.Error()
	}
	if *asJSON {
		if code := a.writeJSON(rep); code != 0 {
			return code
		}
	} else {
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 1, ' ', 0)
		if err == nil {
			fmt.Fprintf(tw, "accelerator:\t%s\n", choice.Accel)
			fmt.Fprintf(tw, "why:\t%s\n", choice.Why)
		}
		fmt.Fprintf(tw, "qemu:\t%s\n", bin)
		fmt.Fprintf(tw, "kernel:\t%s\n", k.Path)
		if v := choice.Verdict; v != nil {
			how := "probed now"
			if v.Cached {
				how = "cached, probed " + v.ProbedAt.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "kvm probe:\t%s, in %.1fs (%s)\n", map[bool]string{true: "a guest booted", false: "no guest booted"}[v.Usable], v.ProbeS, how)
		}
		tw.Flush()
	}
	if err != nil {
		if !*asJSON {
			a.fail(err)
		}
		if errors.Is(err, runner.ErrKVMUnusable) {
			return 1
		}
		return 2
	}
	return 0
}
