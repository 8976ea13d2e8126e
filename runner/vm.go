package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/digitalocean/go-qemu/qmp"

	"github.com/ktstr-go/ktstr/runner/guestmem"
	"github.com/ktstr-go/ktstr/runner/monitor"
	"github.com/ktstr-go/ktstr/runner/perfmode"
)

// VM is a QEMU process started paused, with its QMP monitor connected and
// its events subscribed. [VM.Wait] lets the guest run and waits for the
// end; [VM.Close] ends it early. QEMU dies with the process that started
// it (PR_SET_PDEATHSIG).
type VM struct {
	cfg      Config
	out      *Outcome
	proc     *qemuProc
	mon      *qmp.SocketMonitor
	console  *console
	logs     *runLogs
	ev       chan event
	resLn    net.Listener
	sockDir  string
	started  time.Time
	deadline *time.Timer
	closed   sync.Once

	// The monitor (Config.Monitor): shared guest RAM, the kernel's
	// layout, the running sampler, and why it does not run.
	mem       *guestmem.Memory
	monLayout *monitor.Layout
	sampler   *monitor.Sampler
	monErr    string
	// monUnavailable: the kernel cannot be monitored (not an error).
	monUnavailable bool
	// perf is the performance mode plan (nil when off).
	perf *perfmode.Plan
}

// Start checks cfg, chooses the accelerator (see [ChooseAccel]), starts
// QEMU paused and connects to its QMP monitor. Failures before QEMU runs
// are *BootErrors of kind [FailSetup] or [FailAccel].
func Start(ctx context.Context, cfg Config) (*VM, error) {
	return start(ctx, cfg, &Outcome{})
}

func start(ctx context.Context, cfg Config, out *Outcome) (*VM, error) {
	setupErr := func(format string, a ...any) error {
		return &BootError{Kind: FailSetup, Detail: fmt.Sprintf(format, a...)}
	}
	qemuBin, err := FindQEMU(cfg.QEMU)
	if err != nil {
		return nil, &BootError{Kind: FailSetup, Detail: "cannot start a VM", Err: err}
	}
	if cfg.Kernel == "" {
		return nil, setupErr("no kernel image given")
	}
	if _, err := os.Stat(cfg.Kernel); err != nil {
		return nil, setupErr("kernel image %s: %v", cfg.Kernel, err)
	}
	if len(cfg.Initramfs) == 0 {
		return nil, setupErr("no initramfs given")
	}
	if err := cfg.Topology.Validate(); err != nil {
		return nil, setupErr("%v", err)
	}
	var perf *perfmode.Plan
	if cfg.PerformanceMode {
		if perf, err = PlanPerformance(cfg); err != nil {
			return nil, err
		}
	}
	mode, err := resolveTCGMode(cfg.TCG)
	if err != nil {
		return nil, setupErr("%v", err)
	}
	prober := cfg.Prober
	if prober == nil {
		prober = defaultProber
	}
	choice, err := prober.Choose(ctx, cfg.Accel, qemuBin, cfg.Kernel)
	if err != nil {
		kind := FailSetup // a bad setting
		if errors.Is(err, ErrKVMUnusable) {
			kind = FailAccel
		}
		return nil, &BootError{Kind: kind, Detail: "choosing the accelerator", Err: err}
	}
	out.Accel, out.Emulated, out.AccelWhy = describeAccel(choice.Accel, mode), choice.Accel != AccelKVM, choice.Why
	out.Timeout = cfg.Timeout
	if out.Timeout <= 0 {
		out.Timeout = 2 * time.Minute
	}
	if out.Emulated {
		scale := cfg.TCGScale
		if scale <= 0 {
			scale = DefaultTCGScale
		}
		out.Timeout = time.Duration(float64(out.Timeout) * scale)
	}

	vm := &VM{cfg: cfg, out: out}
	ok := false
	defer func() {
		if !ok {
			vm.Close()
		}
	}()
	// Unix socket paths are limited to 107 bytes, so the sockets live in a
	// short directory of their own, not in a (long) test temp dir.
	if vm.sockDir, err = os.MkdirTemp(shortTempRoot(), "ktstr-"); err != nil {
		return nil, setupErr("socket dir: %v", err)
	}
	plan := Plan{
		Accel: choice.Accel, TCG: mode, Initrd: cfg.Initramfs[0], NoShutdown: true,
		QMPSocket:    filepath.Join(vm.sockDir, "qmp"),
		ResultSocket: filepath.Join(vm.sockDir, "res"),
	}
	if len(cfg.Initramfs) > 1 {
		plan.Initrd = filepath.Join(vm.sockDir, "initramfs.cpio")
		if err := concatFiles(plan.Initrd, cfg.Initramfs); err != nil {
			return nil, setupErr("%v", err)
		}
	}
	if vm.resLn, err = net.Listen("unix", plan.ResultSocket); err != nil {
		return nil, setupErr("result socket: %v", err)
	}
	monitored := cfg.Monitor != nil && vm.monitorPrepare()
	if monitored || perf != nil {
		backends, err := vm.memorySetup(cfg.Topology, perf)
		switch {
		case err != nil && monitored:
			vm.monitorNote(err)
		case err != nil:
			return nil, setupErr("performance mode: guest memory: %v", err)
		}
		plan.MemBackends = backends
	}
	args := QEMUArgs(cfg, plan)
	out.Command = append([]string{qemuBin}, args...)

	vm.logs = &runLogs{}
	if err := vm.logs.open(cfg.OutDir, out.Command); err != nil {
		return nil, setupErr("%v", err)
	}
	vm.console = newConsole(consoleTailLines, vm.logs.console, cfg.Console)
	vm.ev = make(chan event, 64)
	go acceptResults(vm.resLn, vm.ev)

	vm.started = time.Now()
	out.Timing.Start = vm.started
	vm.deadline = time.NewTimer(out.Timeout)
	var extra []*os.File
	if plan.MemBackends != nil {
		extra = vm.mem.Files()
	}
	vm.proc, vm.mon, err = launch(ctx, qemuBin, args, extra, cfg.Stdin, plan.QMPSocket, vm.console, vm.logs, vm.ev, vm.deadline.C)
	if vm.proc != nil {
		out.QEMUPID = vm.proc.PID()
		if cfg.OnStart != nil {
			cfg.OnStart(out.QEMUPID)
		}
	}
	if err != nil {
		out.ConsoleTail = vm.console.tail()
		return nil, &BootError{Kind: FailQEMU, Detail: "QEMU did not come up", Err: err, ConsoleTail: out.ConsoleTail}
	}
	out.QEMUVersion = vm.mon.Version.String()
	if b, err := vm.QMP(`{"execute":"query-cpus-fast"}`); err == nil {
		var r struct {
			Return []VCPU `json:"return"`
		}
		if json.Unmarshal(b, &r) == nil {
			out.VCPUs = r.Return
		}
	}
	if plan.MemBackends != nil && vm.monLayout != nil {
		if err := vm.monitorLayout(); err != nil {
			vm.monitorNote(err)
		}
	}
	if perf != nil {
		vm.perf = perf
		out.Performance = vm.perfApply(perf)
	}
	ok = true
	return vm, nil
}

// launch starts QEMU, connects to its QMP socket and forwards the QMP
// events that matter to ev. On error the process (if any) is returned
// too, already killed.
func launch(ctx context.Context, bin string, args []string, extra []*os.File, stdin *os.File, qmpSock string, console io.Writer, logs *runLogs, ev chan<- event, deadline <-chan time.Time) (*qemuProc, *qmp.SocketMonitor, error) {
	proc, err := startQEMU(bin, args, extra, stdin, console)
	if err != nil {
		return nil, nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	mon, err := connectQMP(ctx, qmpSock, proc, deadline)
	if err != nil {
		proc.kill()
		return proc, nil, fmt.Errorf("QMP: %w", err)
	}
	events, err := mon.Events(ctx)
	if err != nil {
		mon.Disconnect()
		proc.kill()
		return proc, nil, fmt.Errorf("QMP events: %w", err)
	}
	go func() {
		for e := range events {
			logs.qmpf("event %s %v", e.Event, e.Data)
			if m := qmpEvent(e); m != nil {
				ev <- event{qmp: m}
			}
		}
	}()
	return proc, mon, nil
}

// QMP runs one QMP command (JSON) and returns QEMU's answer. It is safe
// to call while [VM.Wait] runs.
func (vm *VM) QMP(cmd string) ([]byte, error) {
	b, err := vm.mon.Run([]byte(cmd))
	vm.logs.qmpf("-> %s\n<- %s (err %v)", cmd, b, err)
	return b, err
}

// PID is QEMU's process id.
func (vm *VM) PID() int { return vm.proc.PID() }

// Close kills QEMU (if it still runs) and removes the run's sockets.
// It may be called more than once.
func (vm *VM) Close() {
	vm.closed.Do(func() {
		if vm.proc != nil {
			vm.proc.kill()
			vm.out.QEMUMaxRSSKB = vm.proc.maxRSSKB
		}
		if vm.mon != nil {
			vm.mon.Disconnect()
		}
		if vm.deadline != nil {
			vm.deadline.Stop()
		}
		if vm.resLn != nil {
			vm.resLn.Close()
		}
		if vm.logs != nil {
			vm.logs.close()
		}
		if vm.sockDir != "" {
			os.RemoveAll(vm.sockDir)
		}
		if vm.sampler != nil {
			vm.sampler.Stop()
		}
		if vm.mem != nil {
			vm.mem.Close()
		}
	})
}

func connectQMP(ctx context.Context, path string, vm *qemuProc, deadline <-chan time.Time) (*qmp.SocketMonitor, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		if mon, err := qmp.NewSocketMonitor("unix", path, 2*time.Second); err == nil {
			if err := mon.Connect(); err == nil {
				return mon, nil
			} else {
				lastErr = err
				mon.Disconnect()
			}
		} else {
			lastErr = err
		}
		select {
		case <-tick.C:
		case <-vm.exited:
			return nil, fmt.Errorf("QEMU exited: %v", vm.exitErr())
		case <-deadline:
			return nil, fmt.Errorf("timed out: %v", lastErr)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// qemuProc is a running QEMU. It is started from a goroutine locked to its
// OS thread, which stays until QEMU exits, because PR_SET_PDEATHSIG fires
// when the creating thread ends, not the process.
type qemuProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	// exitedAt is when Wait returned, maxRSSKB QEMU's peak resident
	// memory (both set before exited is closed).
	exitedAt time.Time
	maxRSSKB int64
	once     sync.Once
}

// startQEMU starts QEMU in a process group of its own (killed as one),
// or, with stdin, in the caller's, where it may read the terminal.
func startQEMU(bin string, args []string, extra []*os.File, stdin *os.File, console io.Writer) (*qemuProc, error) {
	p := &qemuProc{exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd := exec.Command(bin, args...)
		cmd.Stdout = console
		cmd.Stderr = console
		cmd.ExtraFiles = extra
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: stdin == nil}
		if stdin != nil {
			cmd.Stdin = stdin
		}
		p.cmd = cmd
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		p.exitedAt = time.Now()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			p.maxRSSKB = ru.Maxrss
		}
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

func (p *qemuProc) exitErr() error {
	select {
	case <-p.exited:
		return p.err
	default:
		return nil
	}
}

// wait gives QEMU d to exit on its own, then kills it.
func (p *qemuProc) wait(d time.Duration) {
	select {
	case <-p.exited:
	case <-time.After(d):
		p.kill()
	}
}

// kill ends QEMU and waits until it is gone.
func (p *qemuProc) kill() {
	p.once.Do(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		if p.cmd.SysProcAttr.Setpgid {
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		}
		p.cmd.Process.Kill()
	})
	<-p.exited
}

// PID is QEMU's process id.
func (p *qemuProc) PID() int { return p.cmd.Process.Pid }

func shortTempRoot() string {
	if st, err := os.Stat("/tmp"); err == nil && st.IsDir() {
		return "/tmp"
	}
	return os.TempDir()
}

func concatFiles(dst string, srcs []string) error {
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	defer f.Close()
	for _, s := range srcs {
		in, err := os.Open(s)
		if err != nil {
			return fmt.Errorf("initramfs part: %w", err)
		}
		_, err = io.Copy(f, in)
		in.Close()
		if err != nil {
			return fmt.Errorf("initramfs part %s: %w", s, err)
		}
	}
	return f.Close()
}

// runLogs are the optional files of a run.
type runLogs struct {
	mu      sync.Mutex
	console io.WriteCloser
	qmp     io.WriteCloser
	t0      time.Time
}

func (l *runLogs) open(dir string, command []string) error {
	l.t0 = time.Now()
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	quoted := make([]string, len(command))
	for i, a := range command {
		quoted[i] = strconv.Quote(a)
	}
	if err := os.WriteFile(filepath.Join(dir, "qemu-cmd.txt"), []byte(strings.Join(quoted, " ")+"\n"), 0o644); err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	var err error
	if l.console, err = os.Create(filepath.Join(dir, "console.log")); err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	if l.qmp, err = os.Create(filepath.Join(dir, "qmp.log")); err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	return nil
}

func (l *runLogs) qmpf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.qmp != nil {
		fmt.Fprintf(l.qmp, "[%8.3f] %s\n", time.Since(l.t0).Seconds(), fmt.Sprintf(format, a...))
	}
}

func (l *runLogs) close() {
	for _, c := range []io.WriteCloser{l.console, l.qmp} {
		if c != nil {
			c.Close()
		}
	}
}
