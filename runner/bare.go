package runner

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// BareBoot boots cfg's kernel and first initramfs the way QEMU alone
// would, with the accelerator [Boot] would choose: no pause, no QMP, no
// result channel, no monitor, QEMU ending when the guest powers off. It
// returns the time from QEMU's start to its exit: the floor that a
// harness run of the same kernel and topology is measured against (the
// initramfs's init should power off at once). A guest that panics or
// outlives cfg.Timeout (scaled under TCG) is an error with the console's
// end.
func BareBoot(ctx context.Context, cfg Config) (time.Duration, error) {
	qemuBin, err := FindQEMU(cfg.QEMU)
	if err != nil {
		return 0, err
	}
	if cfg.Kernel == "" || len(cfg.Initramfs) == 0 {
		return 0, fmt.Errorf("bare boot: a kernel and an initramfs are needed")
	}
	if err := cfg.Topology.Validate(); err != nil {
		return 0, fmt.Errorf("bare boot: %w", err)
	}
	mode, err := resolveTCGMode(cfg.TCG)
	if err != nil {
		return 0, err
	}
	prober := cfg.Prober
	if prober == nil {
		prober = defaultProber
	}
	choice, err := prober.Choose(ctx, cfg.Accel, qemuBin, cfg.Kernel)
	if err != nil {
		return 0, fmt.Errorf("bare boot: choosing the accelerator: %w", err)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	if choice.Accel != AccelKVM {
		timeout *= DefaultTCGScale
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := QEMUArgs(cfg, Plan{Accel: choice.Accel, TCG: mode, Initrd: cfg.Initramfs[0], Bare: true})
	con := newConsole(consoleTailLines, nil, cfg.Console)
	cmd := exec.CommandContext(ctx, qemuBin, args...)
	cmd.Stdout, cmd.Stderr = con, con
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	switch {
	case ctx.Err() != nil:
		return took, fmt.Errorf("bare boot: no power-off within %v:\n%s", timeout, con.tail())
	case err != nil:
		return took, fmt.Errorf("bare boot: QEMU: %w:\n%s", err, con.tail())
	case con.panicked() || strings.Contains(con.tail(), "Kernel panic"):
		return took, fmt.Errorf("bare boot: the guest panicked:\n%s", con.tail())
	}
	return took, nil
}
