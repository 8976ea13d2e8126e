package runner

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/ktstr-go/ktstr/topology"
)

// Accel selects the QEMU accelerator.
type Accel string

// Accelerators.
const (
	AccelAuto Accel = ""    // KVM when a probe guest boots under it, else TCG
	AccelKVM  Accel = "kvm" // fail when KVM cannot run a guest
	AccelTCG  Accel = "tcg" // software emulation
)

// TCGMode selects how TCG runs. Multi-threaded TCG of QEMU 7.2 oopses
// guests in a few percent of boots (a code-patching race); icount and the
// single-threaded mode do not. Single-threaded is the default: under
// icount (where guest time is counted in instructions) runs of two
// cgroups of spinners showed a task starved for seconds in about one run
// of three, which the same scenario never showed single-threaded, and
// single-threaded runs finished sooner.
type TCGMode string

// TCG modes.
const (
	TCGSingle TCGMode = "single" // -accel tcg,thread=single (default)
	TCGIcount TCGMode = "icount" // -icount shift=2,sleep=off
	TCGMulti  TCGMode = "multi"  // multi-threaded TCG: for QEMU >= 10 only
)

// Environment knobs read by [Boot] and [ChooseAccel].
const (
	EnvQEMU    = "KTSTR_QEMU"     // path of qemu-system-x86_64
	EnvAccel   = "KTSTR_ACCEL"    // kvm or tcg; unset: auto
	EnvTCGMode = "KTSTR_TCG_MODE" // icount, single or multi
)

// DefaultKernelArgs make a guest boot fast and keep its clock usable
// under emulation (without tsc=reliable time.Now becomes a slow syscall).
var DefaultKernelArgs = []string{
	"console=ttyS0", "quiet", "loglevel=1", "panic=-1", "tsc=reliable",
	"mitigations=off", "init_on_alloc=0", "cryptomgr.notests",
	"rcupdate.rcu_expedited=1", "nowatchdog", "audit=0", "rdinit=/init",
}

// FindQEMU returns the QEMU binary: explicit, then $KTSTR_QEMU, then
// qemu-system-x86_64 on PATH.
func FindQEMU(explicit string) (string, error) {
	var tried []string
	for _, c := range []struct{ where, path string }{{"explicit path", explicit}, {"$" + EnvQEMU, os.Getenv(EnvQEMU)}} {
		if c.path == "" {
			continue
		}
		if p, err := exec.LookPath(c.path); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("%w: %s %q is not an executable; fix the path or unset it", ErrQEMUNotFound, c.where, c.path)
	}
	p, err := exec.LookPath("qemu-system-x86_64")
	if err == nil {
		return p, nil
	}
	tried = append(tried, "qemu-system-x86_64 on PATH")
	return "", fmt.Errorf("%w (tried %s): install it (Debian: apt-get install qemu-system-x86) or set %s",
		ErrQEMUNotFound, strings.Join(tried, ", "), EnvQEMU)
}

func resolveTCGMode(m TCGMode) (TCGMode, error) {
	if m == "" {
		m = TCGMode(os.Getenv(EnvTCGMode))
	}
	switch m {
	case "":
		return TCGSingle, nil
	case TCGIcount, TCGSingle, TCGMulti:
		return m, nil
	}
	return "", fmt.Errorf("unknown TCG mode %q (%s): want icount, single or multi", m, EnvTCGMode)
}

// machineArgs returns accelerator, machine and CPU model arguments.
func machineArgs(accel Accel, mode TCGMode, topo topology.Topology) []string {
	machine, cpu := "pc", ""
	if topo.NeedsX2APIC() {
		machine, cpu = "q35", "max,x2apic=on"
	}
	var args []string
	switch accel {
	case AccelKVM:
		args = append(args, "-accel", "kvm")
		cpu = "host"
		if topo.NeedsX2APIC() {
			cpu = "host,x2apic=on"
		}
	default:
		switch mode {
		case TCGIcount:
			args = append(args, "-accel", "tcg", "-icount", "shift=2,sleep=off")
		case TCGMulti:
			args = append(args, "-accel", "tcg,thread=multi")
		default:
			args = append(args, "-accel", "tcg,thread=single")
		}
	}
	args = append(args, "-machine", machine)
	if cpu != "" {
		args = append(args, "-cpu", cpu)
	}
	return args
}

// describeAccel is what the outcome says about the accelerator.
func describeAccel(accel Accel, mode TCGMode) string {
	if accel == AccelKVM {
		return "kvm"
	}
	return "tcg (" + string(mode) + ")"
}
