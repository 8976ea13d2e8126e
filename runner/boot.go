package runner

import (
	"bufio"
	"context"
	"encoding/json"
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
	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/guest/wire"
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
	// Accel and TCG choose the accelerator; zero values auto-detect.
	Accel Accel
	TCG   TCGMode
	// Timeout is the wall-clock budget of the run as it would be under
	// KVM; under TCG it is multiplied by TCGScale.
	Timeout time.Duration
	// TCGScale defaults to DefaultTCGScale.
	TCGScale float64
	// PinVCPUs pins vCPU i's thread to host CPU i (modulo the host's
	// CPUs) under KVM, for performance mode. Under TCG it is a no-op,
	// said so in the outcome's notes.
	PinVCPUs bool
	// OutDir receives console.log, qmp.log and qemu-cmd.txt; "" keeps
	// nothing on disk.
	OutDir string
	// Console, when set, receives the guest console as it arrives.
	Console io.Writer `json:"-"`
	// OnStart, when set, is told QEMU's pid as soon as it runs.
	OnStart func(pid int) `json:"-"`
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
	// Notes are remarks about how the run went (what was not applied).
	Notes []string
	// Timeout is the effective (scaled) timeout.
	Timeout time.Duration
	Elapsed time.Duration
}

// consoleTailLines is how much console a failure carries.
const consoleTailLines = 60

// Boot runs one VM to completion. QEMU never outlives it.
func Boot(ctx context.Context, cfg Config) (*Outcome, error) {
	out := &Outcome{}
	setupErr := func(format string, a ...any) (*Outcome, error) {
		return out, &BootError{Kind: FailSetup, Detail: fmt.Sprintf(format, a...)}
	}
	qemuBin, err := FindQEMU(cfg.QEMU)
	if err != nil {
		return out, &BootError{Kind: FailSetup, Detail: "cannot start a VM", Err: err}
	}
	if cfg.Kernel == "" {
		return setupErr("no kernel image given")
	}
	if _, err := os.Stat(cfg.Kernel); err != nil {
		return setupErr("kernel image %s: %v", cfg.Kernel, err)
	}
	if len(cfg.Initramfs) == 0 {
		return setupErr("no initramfs given")
	}
	if err := cfg.Topology.Validate(); err != nil {
		return setupErr("%v", err)
	}
	accel, err := resolveAccel(cfg.Accel)
	if err != nil {
		return setupErr("%v", err)
	}
	mode, err := resolveTCGMode(cfg.TCG)
	if err != nil {
		return setupErr("%v", err)
	}
	out.Accel, out.Emulated = describeAccel(accel, mode), accel != AccelKVM
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

	// Unix socket paths are limited to 107 bytes, so the sockets live in a
	// short directory of their own, not in a (long) test temp dir.
	sockDir, err := os.MkdirTemp(shortTempRoot(), "ktstr-")
	if err != nil {
		return setupErr("socket dir: %v", err)
	}
	defer os.RemoveAll(sockDir)
	initrd := cfg.Initramfs[0]
	if len(cfg.Initramfs) > 1 {
		initrd = filepath.Join(sockDir, "initramfs.cpio")
		if err := concatFiles(initrd, cfg.Initramfs); err != nil {
			return setupErr("%v", err)
		}
	}
	qmpSock := filepath.Join(sockDir, "qmp")
	resSock := filepath.Join(sockDir, "res")
	resLn, err := net.Listen("unix", resSock)
	if err != nil {
		return setupErr("result socket: %v", err)
	}
	defer resLn.Close()

	cmdline := strings.Join(append(append([]string{}, DefaultKernelArgs...), cfg.KernelArgs...), " ")
	args := []string{"-S", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-no-shutdown"}
	args = append(args, machineArgs(accel, mode, cfg.Topology)...)
	args = append(args, cfg.Topology.QEMUArgs()...)
	args = append(args,
		"-kernel", cfg.Kernel, "-initrd", initrd, "-append", cmdline,
		"-serial", "stdio",
		"-qmp", "unix:"+qmpSock+",server=on,wait=off",
		"-chardev", "socket,id=ktstrres,path="+resSock,
		"-device", "virtio-serial-pci,id=ktstrser",
		"-device", "virtserialport,bus=ktstrser.0,chardev=ktstrres,name="+wire.PortName,
	)
	out.Command = append([]string{qemuBin}, args...)

	var logs runLogs
	if err := logs.open(cfg.OutDir, out.Command); err != nil {
		return setupErr("%v", err)
	}
	defer logs.close()
	console := newConsole(consoleTailLines, logs.console, cfg.Console)

	start := time.Now()
	vm, err := startQEMU(qemuBin, args, console)
	if err != nil {
		return out, &BootError{Kind: FailSetup, Detail: "starting " + qemuBin, Err: err}
	}
	defer vm.kill()
	out.QEMUPID = vm.PID()
	if cfg.OnStart != nil {
		cfg.OnStart(out.QEMUPID)
	}

	ev := make(chan event, 64)
	go acceptResults(resLn, ev)

	deadline := time.NewTimer(out.Timeout)
	defer deadline.Stop()
	mon, err := connectQMP(ctx, qmpSock, vm, deadline.C)
	if err != nil {
		vm.kill()
		out.ConsoleTail = console.tail()
		return out, &BootError{Kind: FailQEMU, Detail: "QMP did not come up", Err: err, ConsoleTail: out.ConsoleTail}
	}
	defer mon.Disconnect()
	out.QEMUVersion = mon.Version.String()
	qmpRun := func(cmd string) ([]byte, error) {
		b, err := mon.Run([]byte(cmd))
		logs.qmpf("-> %s\n<- %s (err %v)", cmd, b, err)
		return b, err
	}
	events, err := mon.Events(ctx)
	if err != nil {
		return out, &BootError{Kind: FailQEMU, Detail: "QMP events", Err: err}
	}
	go func() {
		for e := range events {
			logs.qmpf("event %s %v", e.Event, e.Data)
			if e.Event == "SHUTDOWN" {
				reason, _ := e.Data["reason"].(string)
				ev <- event{shutdown: reason}
			}
		}
	}()
	if b, err := qmpRun(`{"execute":"query-cpus-fast"}`); err == nil {
		var r struct {
			Return []VCPU `json:"return"`
		}
		if json.Unmarshal(b, &r) == nil {
			out.VCPUs = r.Return
		}
	}
	if cfg.PinVCPUs {
		out.Notes = append(out.Notes, pinVCPUs(accel, out.VCPUs)...)
	}
	if _, err := qmpRun(`{"execute":"cont"}`); err != nil {
		return out, &BootError{Kind: FailQEMU, Detail: "QMP cont", Err: err}
	}

	fail := func(kind FailureKind, detail string, err error) (*Outcome, error) {
		vm.kill()
		out.Elapsed = time.Since(start)
		out.ConsoleTail = console.tail()
		if kind == FailNoResult && console.panicked() {
			kind = FailPanic
		}
		return out, &BootError{Kind: kind, Detail: detail, Err: err, ConsoleTail: out.ConsoleTail}
	}
	record := func(m *wire.Message) {
		out.record(m)
		if cfg.OnMessage != nil {
			cfg.OnMessage(*m)
		}
	}
	var grace <-chan time.Time // after the final message: wait for power-off
	for {
		select {
		case e := <-ev:
			switch {
			case e.msg != nil:
				record(e.msg)
				if e.msg.Kind == wire.KindDone {
					grace = time.After(30 * time.Second)
				}
			case e.err != nil:
				logs.qmpf("result channel: %v", e.err)
			case e.shutdown != "":
				out.ShutdownReason = e.shutdown
				drainResults(ev, record, 300*time.Millisecond)
				qmpRun(`{"execute":"quit"}`)
				vm.wait(5 * time.Second)
				out.Elapsed = time.Since(start)
				out.ConsoleTail = console.tail()
				switch {
				case e.shutdown != "guest-shutdown":
					return fail(FailPanic, fmt.Sprintf("guest reset or crashed (QEMU SHUTDOWN reason %q)", e.shutdown), nil)
				case out.Done == nil:
					return fail(FailNoResult, "guest powered off without sending its final message", nil)
				}
				return out, nil
			}
		case <-vm.exited:
			drainResults(ev, record, 100*time.Millisecond)
			return fail(FailQEMU, "QEMU exited before the guest finished", vm.exitErr())
		case <-grace:
			return fail(FailTimeout, "guest sent its final message but did not power off within 30s", nil)
		case <-deadline.C:
			return fail(FailTimeout, fmt.Sprintf("no result within %v (%s)", out.Timeout, out.Accel), nil)
		case <-ctx.Done():
			return fail(FailCancelled, "run cancelled", ctx.Err())
		}
	}
}

// pinVCPUs pins every vCPU thread to its own host CPU under KVM.
func pinVCPUs(accel Accel, vcpus []VCPU) []string {
	if accel != AccelKVM {
		return []string{"performance mode: vCPU pinning needs KVM (under TCG the vCPUs share QEMU's threads); not pinned"}
	}
	n := runtime.NumCPU()
	var notes []string
	if len(vcpus) > n {
		notes = append(notes, fmt.Sprintf("performance mode: %d vCPUs on %d host CPUs: vCPUs share host CPUs", len(vcpus), n))
	}
	for _, v := range vcpus {
		var set unix.CPUSet
		set.Set(v.Index % n)
		if err := unix.SchedSetaffinity(v.ThreadID, &set); err != nil {
			notes = append(notes, fmt.Sprintf("performance mode: pinning vCPU %d (thread %d): %v", v.Index, v.ThreadID, err))
		}
	}
	return notes
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

// drainResults records messages still in flight after a shutdown.
func drainResults(ev chan event, record func(*wire.Message), wait time.Duration) {
	t := time.After(wait)
	for {
		select {
		case e := <-ev:
			if e.msg != nil {
				record(e.msg)
			}
		case <-t:
			return
		}
	}
}

type event struct {
	msg      *wire.Message
	err      error
	shutdown string
}

func acceptResults(ln net.Listener, ev chan<- event) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var m wire.Message
		if err := json.Unmarshal(line, &m); err != nil {
			ev <- event{err: fmt.Errorf("bad message %.200q: %w", line, err)}
			continue
		}
		ev <- event{msg: &m}
	}
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
	once   sync.Once
}

func startQEMU(bin string, args []string, console io.Writer) (*qemuProc, error) {
	p := &qemuProc{exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd := exec.Command(bin, args...)
		cmd.Stdout = console
		cmd.Stderr = console
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		p.cmd = cmd
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
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
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
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
