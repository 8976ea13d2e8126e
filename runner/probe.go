package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// probeStall ends a probe whose guest printed nothing for this long:
	// a booting kernel prints continuously at loglevel 7, so silence
	// means the vCPU makes no progress (a nested KVM that cannot run the
	// guest spins in the hypervisor without an error).
	probeStall = 6 * time.Second
	// probeLimit bounds a probe that keeps printing but never ends.
	probeLimit = 90 * time.Second
)

// probeKVM boots kernel under KVM with qemu, without an initramfs: a
// kernel that runs reaches the panic of a missing root file system in
// about a second, which proves KVM. Anything else (QEMU refusing, QEMU
// stopping the VM on an internal error, a guest that makes no progress)
// says why not.
func probeKVM(ctx context.Context, qemu, kernel string) KVMVerdict {
	start := time.Now()
	v := KVMVerdict{QEMU: qemu, Kernel: kernel, ProbedAt: start}
	v.Usable, v.Reason = probeBoot(ctx, AccelKVM, qemu, kernel)
	v.ProbeS = time.Since(start).Seconds()
	return v
}

// probeBoot is the probe boot under accel (KVM; TCG in tests, to show
// that a guest that boots is recognised). It reports whether the kernel
// finished booting, and if not, why.
func probeBoot(ctx context.Context, accel Accel, qemu, kernel string) (bool, string) {
	name := strings.ToUpper(string(accel))
	dir, err := os.MkdirTemp(shortTempRoot(), "ktstr-probe-")
	if err != nil {
		return false, fmt.Sprintf("probe: %v", err)
	}
	defer os.RemoveAll(dir)
	cfg := Config{Kernel: kernel, Topology: probeTopology, KernelArgs: probeKernelArgs}
	plan := Plan{Accel: accel, QMPSocket: filepath.Join(dir, "qmp")}
	con := newConsole(40)
	logs := &runLogs{}
	ev := make(chan event, 16)
	limit := time.NewTimer(probeLimit)
	defer limit.Stop()
	proc, mon, err := launch(ctx, qemu, QEMUArgs(cfg, plan), nil, nil, plan.QMPSocket, con, logs, ev, limit.C)
	if err != nil {
		return false, withQEMUMessage(fmt.Sprintf("QEMU did not start under %s: %v", name, err), con)
	}
	defer mon.Disconnect()
	defer proc.kill()
	if _, err := mon.Run([]byte(`{"execute":"cont"}`)); err != nil {
		return false, withQEMUMessage(fmt.Sprintf("QMP cont: %v", err), con)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if con.panicked() {
			return true, ""
		}
		select {
		case e := <-ev:
			if e.qmp == nil {
				continue
			}
			switch e.qmp.name {
			case "SHUTDOWN", "GUEST_PANICKED":
				// Give the console a moment: the panic line may still be
				// on its way.
				proc.wait(2 * time.Second)
				if con.panicked() {
					return true, ""
				}
				return false, withQEMUMessage(fmt.Sprintf("the guest ended (%s %s) before the kernel finished booting", e.qmp.name, e.qmp.reason), con)
			case "STOP":
				status := parseStatus(mon.Run([]byte(`{"execute":"query-status"}`)))
				return false, withQEMUMessage(fmt.Sprintf("QEMU stopped the guest under %s (status %s)", name, status), con)
			}
		case <-proc.exited:
			if con.panicked() {
				return true, ""
			}
			return false, withQEMUMessage(fmt.Sprintf("QEMU exited under %s before the kernel finished booting (%v)", name, proc.exitErr()), con)
		case <-tick.C:
			if idle := time.Since(con.lastWrite()); idle > probeStall {
				return false, withQEMUMessage(fmt.Sprintf("the guest made no progress under %s: nothing on its console for %v (last line %q)", name, probeStall, lastLine(con.tail())), con)
			}
		case <-limit.C:
			return false, withQEMUMessage(fmt.Sprintf("the kernel did not finish booting under %s within %v", name, probeLimit), con)
		case <-ctx.Done():
			return false, ctx.Err().Error()
		}
	}
}

// withQEMUMessage adds QEMU's own complaint, when it made one.
func withQEMUMessage(reason string, con *console) string {
	if msg := qemuMessage(con.tail()); msg != "" {
		return reason + "; QEMU said: " + msg
	}
	return reason
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
