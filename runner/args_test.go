package runner

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/topology"
)

// argAfter returns the argument that follows flag, or "" when flag is
// absent.
func argAfter(args []string, flag string) string {
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

func TestQEMUArgs(t *testing.T) {
	cfg := Config{
		Kernel:     "/k/vmlinux",
		Topology:   topology.Topology{Sockets: 2, Cores: 2, Threads: 1, MemoryMB: 1024},
		KernelArgs: []string{"loglevel=7", "sched_ext.slice_bypass_us=100"},
	}
	full := Plan{Accel: AccelTCG, TCG: TCGSingle, Initrd: "/s/initramfs.cpio", QMPSocket: "/s/qmp", ResultSocket: "/s/res", NoShutdown: true}
	args := QEMUArgs(cfg, full)
	for _, want := range [][]string{
		{"-S"}, {"-no-reboot"}, {"-no-shutdown"}, {"-nodefaults"},
		{"-accel", "tcg,thread=single"},
		{"-kernel", "/k/vmlinux"}, {"-initrd", "/s/initramfs.cpio"},
		{"-serial", "stdio"}, {"-device", "pvpanic"},
		{"-qmp", "unix:/s/qmp,server=on,wait=off"},
		{"-chardev", "socket,id=ktstrres,path=/s/res"},
		{"-device", "virtserialport,bus=ktstrser.0,chardev=ktstrres,name=" + wire.PortName},
		cfg.Topology.QEMUArgs(),
	} {
		if !containsRun(args, want) {
			t.Errorf("args lack %q:\n%q", want, args)
		}
	}
	cmdline := argAfter(args, "-append")
	if !strings.HasPrefix(cmdline, strings.Join(DefaultKernelArgs, " ")) || !strings.HasSuffix(cmdline, " loglevel=7 sched_ext.slice_bypass_us=100") {
		t.Errorf("-append %q: want the defaults, then the config's arguments (later ones win)", cmdline)
	}

	// A probe: no initramfs, no result channel, QEMU exits on power-off.
	probe := QEMUArgs(Config{Kernel: "/k/vmlinux", Topology: probeTopology, KernelArgs: probeKernelArgs}, Plan{Accel: AccelKVM, QMPSocket: "/p/qmp"})
	for _, absent := range []string{"-initrd", "-no-shutdown", "-chardev", "virtio-serial-pci,id=ktstrser"} {
		if slices.Contains(probe, absent) {
			t.Errorf("probe args have %q: %q", absent, probe)
		}
	}
	if !containsRun(probe, []string{"-accel", "kvm"}) || !containsRun(probe, []string{"-cpu", "host"}) {
		t.Errorf("probe args do not ask for KVM with the host CPU: %q", probe)
	}
	if c := argAfter(probe, "-append"); !strings.HasSuffix(c, "loglevel=7 rdinit=/ktstr-kvm-probe-has-no-init") {
		t.Errorf("probe command line %q: want a verbose boot with no init", c)
	}
}

// An interactive console reads the caller's stdin, with ^C for the guest.
func TestQEMUArgsInteractive(t *testing.T) {
	cfg := Config{Kernel: "/k/vmlinux", Topology: topology.Topology{Sockets: 1, Cores: 2, Threads: 1}, Stdin: os.Stdin}
	args := QEMUArgs(cfg, Plan{Accel: AccelTCG, TCG: TCGSingle, QMPSocket: "/s/qmp"})
	if !containsRun(args, []string{"-chardev", "stdio,id=ktstrcon,signal=off", "-serial", "chardev:ktstrcon"}) {
		t.Errorf("interactive args lack a stdio console without signals: %q", args)
	}
	if containsRun(args, []string{"-serial", "stdio"}) {
		t.Errorf("interactive args also have -serial stdio: %q", args)
	}
}

// containsRun reports whether want appears in args as consecutive items.
func containsRun(args, want []string) bool {
	for i := 0; i+len(want) <= len(args); i++ {
		if slices.Equal(args[i:i+len(want)], want) {
			return true
		}
	}
	return false
}

func TestStopVerdict(t *testing.T) {
	for _, tt := range []struct {
		status  string
		stopped bool
		kind    FailureKind
		detail  string
	}{
		{"running", false, "", ""},
		{"shutdown", false, "", ""},
		{"internal-error", true, FailStopped, "internal error of the accelerator"},
		{"guest-panicked", true, FailPanic, "panicked"},
		{"paused", true, FailStopped, "status paused"},
		{"io-error", true, FailStopped, "I/O error"},
		{"suspended", true, FailStopped, "status suspended"},
	} {
		kind, detail, stopped := stopVerdict(tt.status)
		if stopped != tt.stopped || kind != tt.kind || !strings.Contains(detail, tt.detail) {
			t.Errorf("stopVerdict(%q) = %q, %q, %v; want %q, ...%q..., %v", tt.status, kind, detail, stopped, tt.kind, tt.detail, tt.stopped)
		}
	}
}

func TestQEMUMessage(t *testing.T) {
	for _, tt := range []struct{ tail, want string }{
		{"SeaBIOS\nBooting from ROM..", ""},
		{"Booting\nKVM internal error. Suberror: 1\nemulation failure\nRAX=0", "KVM internal error. Suberror: 1"},
		{"qemu-system-x86_64: -accel kvm: failed to initialize kvm: Permission denied\n", "qemu-system-x86_64: -accel kvm: failed to initialize kvm: Permission denied"},
		{"qemu: could not open kernel file '/x'\n", "qemu: could not open kernel file '/x'"},
	} {
		if got := qemuMessage(tt.tail); got != tt.want {
			t.Errorf("qemuMessage(%q) = %q, want %q", tt.tail, got, tt.want)
		}
	}
}

func TestFailureKindGuestCaused(t *testing.T) {
	for k, want := range map[FailureKind]bool{
		FailPanic: true, FailTimeout: true, FailNoResult: true,
		FailSetup: false, FailAccel: false, FailQEMU: false, FailStopped: false, FailCancelled: false,
	} {
		if k.GuestCaused() != want {
			t.Errorf("%s.GuestCaused() = %v, want %v", k, !want, want)
		}
	}
}

// TestQEMUArgsBare: a bare boot (BareBoot) runs at once and has no QMP
// monitor, but boots the same machine as a harness run.
func TestQEMUArgsBare(t *testing.T) {
	cfg := Config{Kernel: "/k/vmlinux", Topology: topology.Topology{Sockets: 1, Cores: 2, Threads: 1, MemoryMB: 256}}
	bare := QEMUArgs(cfg, Plan{Accel: AccelTCG, TCG: TCGSingle, Initrd: "/b/bare.cpio", Bare: true})
	full := QEMUArgs(cfg, Plan{Accel: AccelTCG, TCG: TCGSingle, Initrd: "/b/bare.cpio", QMPSocket: "/s/qmp"})
	for _, absent := range []string{"-S", "-qmp", "-no-shutdown", "-chardev"} {
		if slices.Contains(bare, absent) {
			t.Errorf("bare args have %q: %q", absent, bare)
		}
	}
	for _, want := range [][]string{{"-accel", "tcg,thread=single"}, {"-machine", "pc"}, {"-initrd", "/b/bare.cpio"}, {"-append", argAfter(full, "-append")}, cfg.Topology.QEMUArgs()} {
		if !containsRun(bare, want) {
			t.Errorf("bare args lack %q, which a harness run has:\n%q", want, bare)
		}
	}
}
