package runner

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/runner/monitor"
	"github.com/ktstr-go/ktstr/runner/perfmode"
	"github.com/ktstr-go/ktstr/topology"
)

// DefaultTCGScale multiplies timeouts under TCG.
const DefaultTCGScale = 4

// Config describes one VM run.
type Config struct {
	// QEMU is the QEMU binary; "" finds one (see [FindQEMU]).
	QEMU string
	// Kernel is the kernel image (an uncompressed vmlinux boots fastest).
	Kernel string
	// Initramfs are archives concatenated into the guest's initramfs, in
	// order (a base archive, then a small request archive).
	Initramfs []string
	// Topology is the guest's CPU topology and memory.
	Topology topology.Topology
	// KernelArgs are appended to [DefaultKernelArgs]; later ones win.
	KernelArgs []string
	// Accel and TCG choose the accelerator; zero values auto-detect
	// (see [ChooseAccel]).
	Accel Accel
	TCG   TCGMode
	// Prober decides whether KVM runs a guest here; nil uses one prober
	// per process, caching in [DefaultAccelCacheDir].
	Prober *KVMProber `json:"-"`
	// Timeout is the wall-clock budget of the run as it would be under
	// KVM; under TCG it is multiplied by TCGScale.
	Timeout time.Duration
	// TCGScale defaults to DefaultTCGScale.
	TCGScale float64
	// PerformanceMode isolates the VM from the host (runner/perfmode):
	// vCPU threads pinned LLC by LLC and SCHED_FIFO, QEMU's other threads
	// and the monitor on a CPU of their own, guest memory bound to the
	// vCPUs' host NUMA nodes and backed by pre-allocated hugepages. A
	// host that cannot give it fails the boot (FailPerfMode) before QEMU
	// starts; what could not apply is in Outcome.Performance.
	PerformanceMode bool
	// PerfHost replaces the host performance mode reads (nil: this
	// machine, perfmode.Current); for tests.
	PerfHost *perfmode.Host `json:"-"`
	// OutDir receives console.log, qmp.log and qemu-cmd.txt; "" keeps
	// nothing on disk.
	OutDir string
	// Console, when set, receives the guest console as it arrives.
	Console io.Writer `json:"-"`
	// Stdin, when set, is the console's input (an interactive shell):
	// QEMU reads it, with ^C passed to the guest, and stays in the
	// caller's process group so that it may read a terminal.
	Stdin *os.File `json:"-"`
	// OnStart, when set, is told QEMU's pid as soon as it runs.
	OnStart func(pid int) `json:"-"`
	// Monitor, when set, samples the guest kernel from the host.
	Monitor *MonitorConfig `json:"-"`
	// OnMessage, when set, sees every result-channel message as it
	// arrives (after it is recorded).
	OnMessage func(wire.Message) `json:"-"`
}

// VCPU is one vCPU as QMP's query-cpus-fast reports it.
type VCPU struct {
	Index    int `json:"cpu-index"`
	ThreadID int `json:"thread-id"`
	Props    struct {
		Socket int `json:"socket-id"`
		Core   int `json:"core-id"`
		Thread int `json:"thread-id"`
		Node   int `json:"node-id"`
	} `json:"props"`
}

// Outcome is what a run produced. It is returned, partly filled, with
// a *BootError too.
type Outcome struct {
	// Accel says how the VM ran: "kvm" or "tcg (mode)".
	Accel string
	// AccelWhy says how the accelerator was chosen; under TCG in auto
	// mode, why KVM was not used.
	AccelWhy string
	// Emulated is true under TCG.
	Emulated    bool
	QEMUVersion string
	// QEMUPID is the QEMU process id (gone by the time Boot returns).
	QEMUPID  int
	Command  []string
	VCPUs    []VCPU
	Messages []wire.Message
	Hello    *wire.Hello
	Result   *wire.TestResult
	// Done is the guest's final message; nil when it never came.
	Done           *wire.Message
	ShutdownReason string
	ConsoleTail    string
	// Monitor is the host-side monitor's report (Config.Monitor).
	Monitor *monitor.Report
	// Notes are remarks about how the run went (what was not applied).
	Notes []string
	// Performance is what performance mode did (Config.PerformanceMode).
	Performance *perfmode.Report
	// Timeout is the effective (scaled) timeout.
	Timeout time.Duration
	Elapsed time.Duration
	// Timing is when the run's fixed points happened.
	Timing Timing
	// QEMUMaxRSSKB is the QEMU process's peak resident memory (guest RAM
	// it touched, shared or not, and QEMU's own), from its rusage; 0 when
	// unknown.
	QEMUMaxRSSKB int64
}

// consoleTailLines is how much console a failure carries.
const consoleTailLines = 60

// Boot runs one VM to completion: [Start], then [VM.Wait]. QEMU never
// outlives it. On failure the error is a *BootError, and the Outcome
// holds what was learnt until then.
func Boot(ctx context.Context, cfg Config) (*Outcome, error) {
	out := &Outcome{}
	vm, err := start(ctx, cfg, out)
	if err != nil {
		return out, err
	}
	return vm.Wait(ctx)
}

// vcpuThreads is the host thread id of each vCPU (0 where QMP reported
// none), at least n long.
func (out *Outcome) vcpuThreads(n int) []int {
	tids := make([]int, n)
	for _, v := range out.VCPUs {
		if v.Index < 0 {
			continue
		}
		for len(tids) <= v.Index {
			tids = append(tids, 0)
		}
		tids[v.Index] = v.ThreadID
	}
	return tids
}

// record keeps a result-channel message in the outcome.
func (out *Outcome) record(m *wire.Message) {
	out.Messages = append(out.Messages, *m)
	switch m.Kind {
	case wire.KindHello:
		out.Hello = m.Hello
	case wire.KindResult:
		out.Result = m.Result
	case wire.KindDone:
		out.Done = m
	}
}
