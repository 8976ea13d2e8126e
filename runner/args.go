package runner

import (
	"strings"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/topology"
)

// Plan is what a run decided beyond its [Config]: the accelerator, and
// where the initramfs and the sockets are.
type Plan struct {
	Accel Accel
	TCG   TCGMode
	// Initrd is the (concatenated) initramfs; "" boots without one.
	Initrd string
	// QMPSocket is the QMP unix socket QEMU serves.
	QMPSocket string
	// ResultSocket is the unix socket of the result channel, which the
	// host listens on; "" gives the guest no result channel.
	ResultSocket string
	// NoShutdown keeps QEMU after the guest powers off (-no-shutdown), so
	// that the SHUTDOWN event and the result channel can be read first.
	NoShutdown bool
	// Bare boots as QEMU alone would: the guest runs at once (no -S) and
	// there is no QMP monitor (see [BareBoot]).
	Bare bool
	// MemBackends replace the memory-backend-ram objects of the named
	// node ids (shared guest RAM for the monitor), and add
	// [MonitorKernelArgs] to the command line.
	MemBackends map[string]string
}

// KernelCmdline is the guest's command line: [DefaultKernelArgs], then
// extra (later arguments win).
func KernelCmdline(extra []string) string {
	return strings.Join(append(append([]string{}, DefaultKernelArgs...), extra...), " ")
}

// QEMUArgs builds QEMU's arguments (without the binary) for a run of cfg
// as plan decided. It is pure: everything QEMU is told comes from here.
//
// The guest starts paused (-S) so that the host subscribes to QMP events
// before it runs; a reset ends QEMU (-no-reboot), so a panicking guest
// (panic=-1) cannot boot again; the pvpanic device lets a kernel with its
// driver report a panic as a QMP event.
func QEMUArgs(cfg Config, plan Plan) []string {
	args := []string{"-nodefaults", "-no-user-config", "-nographic", "-no-reboot"}
	if !plan.Bare {
		args = append([]string{"-S"}, args...)
	}
	if plan.NoShutdown {
		args = append(args, "-no-shutdown")
	}
	args = append(args, machineArgs(plan.Accel, plan.TCG, cfg.Topology)...)
	for _, a := range cfg.Topology.QEMUArgs() {
		if strings.HasPrefix(a, "memory-backend-ram,id=") {
			id, _, _ := strings.Cut(strings.TrimPrefix(a, "memory-backend-ram,id="), ",")
			if b, ok := plan.MemBackends[id]; ok {
				a = b
			}
		}
		args = append(args, a)
	}
	kargs := cfg.KernelArgs
	if plan.MemBackends != nil {
		kargs = append(append([]string{}, MonitorKernelArgs...), kargs...)
	}
	args = append(args, "-kernel", cfg.Kernel)
	if plan.Initrd != "" {
		args = append(args, "-initrd", plan.Initrd)
	}
	args = append(args,
		"-append", KernelCmdline(kargs),
	)
	if cfg.Stdin != nil {
		args = append(args, "-chardev", "stdio,id=ktstrcon,signal=off", "-serial", "chardev:ktstrcon")
	} else {
		args = append(args, "-serial", "stdio")
	}
	args = append(args, "-device", "pvpanic")
	if plan.QMPSocket != "" {
		args = append(args, "-qmp", "unix:"+plan.QMPSocket+",server=on,wait=off")
	}
	if plan.ResultSocket != "" {
		args = append(args,
			"-chardev", "socket,id=ktstrres,path="+plan.ResultSocket,
			"-device", "virtio-serial-pci,id=ktstrser",
			"-device", "virtserialport,bus=ktstrser.0,chardev=ktstrres,name="+wire.PortName,
		)
	}
	return args
}

// probeTopology is the guest of a KVM probe: one vCPU, little memory.
var probeTopology = topology.Topology{Sockets: 1, Cores: 1, Threads: 1, MemoryMB: 256}

// probeKernelArgs boot the kernel verbosely (its output is the probe's
// sign of progress) to the panic it reaches without a root file system.
// DefaultKernelArgs' quiet and loglevel are overridden: later ones win.
var probeKernelArgs = []string{"loglevel=7", "rdinit=/ktstr-kvm-probe-has-no-init"}
