package guest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/guest/cgroup"
	"github.com/ktstr-go/ktstr/guest/sysinfo"
	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/internal/ksyms"
)

// CgroupRoot is the cgroup every scenario cgroup lives under.
const CgroupRoot = cgroup.Mount + "/ktstr"

// ResultFile is where the test binary writes its report.
const ResultFile = "/tmp/ktstr-result.json"

// outputTailBytes bounds the test output carried in the result.
const outputTailBytes = 16 << 10

// Main is PID 1. It does not return: it powers the machine off.
func Main() {
	initUptime := UptimeMs()
	console := openConsole()
	logf := func(format string, a ...any) { fmt.Fprintf(console, "ktstr-init: "+format+"\n", a...) }
	var ch *channel
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprintf("init panicked: %v\n%s", r, debug.Stack())
			logf("%s", msg)
			if ch != nil {
				ch.send(wire.Message{Kind: wire.KindDone, Errors: []string{msg}})
			}
		}
		powerOff(logf)
	}()

	var errs []string
	fail := func(format string, a ...any) {
		s := fmt.Sprintf(format, a...)
		errs = append(errs, s)
		logf("error: %s", s)
	}
	for _, err := range mountAll() {
		fail("%v", err)
	}
	ch, err := openChannel()
	if err != nil {
		// Nothing can reach the host but the console; say so there.
		logf("FATAL: %v", err)
		return
	}
	defer ch.close()

	hello := collectHello()
	hello.InitUptimeMs = initUptime
	ch.send(wire.Message{Kind: wire.KindHello, Hello: &hello})
	logf("up at %.2fs: kernel %s, %d CPUs, sched_ext %q", hello.UptimeAtInit, hello.Kernel, hello.View.CPUs, hello.SchedExtState)

	req, err := readRequest()
	if err != nil {
		fail("%v", err)
		ch.send(wire.Message{Kind: wire.KindDone, Errors: errs})
		return
	}
	if len(req.KernelSymbols) > 0 {
		ch.send(kernelSymbols(req.KernelSymbols, logf))
	}
	if err := (cgroup.Manager{Root: CgroupRoot}).Setup(); err != nil {
		fail("cgroup setup: %v", err)
	}
	var sched *scheduler
	var abort <-chan struct{}
	if req.Scheduler != nil {
		sched = startScheduler(req.Scheduler, console, logf)
		if sched.rep.StartErr != "" || sched.rep.Died {
			rep := sched.rep
			ch.send(wire.Message{Kind: wire.KindResult, Result: &wire.TestResult{ExitCode: -1, Sched: &rep,
				OutputTail: "the test did not run: the scheduler did not start or died at once"}})
			ch.send(wire.Message{Kind: wire.KindDone, Errors: errs})
			return
		}
		abort = sched.died
	}
	if sched != nil && sched.cmd != nil && sched.cmd.Process != nil {
		req.Env = append(req.Env, fmt.Sprintf("%s=%d", wire.EnvSchedPID, sched.cmd.Process.Pid))
	}
	var res wire.TestResult
	if req.Shell != nil {
		res = runShell(req, console, logf, abort)
	} else {
		res = runTest(req, console, logf, abort)
	}
	if sched != nil {
		rep := sched.stop()
		res.Sched = &rep
	}
	ch.send(wire.Message{Kind: wire.KindResult, Result: &res})
	ch.send(wire.Message{Kind: wire.KindDone, Errors: errs})
}

// kernelSymbols answers the host's request for symbol addresses from
// /proc/kallsyms (init runs as root, so kptr_restrict does not hide them).
func kernelSymbols(names []string, logf func(string, ...any)) wire.Message {
	start := time.Now()
	m := wire.Message{Kind: wire.KindSymbols}
	t, err := ksyms.ParseFile("/proc/kallsyms", names)
	switch {
	case err != nil:
		m.SymbolsErr = err.Error()
	case t.Hidden():
		m.SymbolsErr = "/proc/kallsyms shows zero addresses (kptr_restrict)"
	default:
		m.Symbols = t
	}
	logf("kernel symbols for the host monitor: %d of %d in %v", len(t), len(names), time.Since(start).Round(time.Millisecond))
	return m
}

func openConsole() io.Writer {
	if f, err := os.OpenFile("/dev/console", os.O_WRONLY, 0); err == nil {
		return f
	}
	return os.Stdout
}

type mountPoint struct{ src, dst, fs, data string }

var mounts = []mountPoint{
	{"proc", "/proc", "proc", ""},
	{"sysfs", "/sys", "sysfs", ""},
	{"devtmpfs", "/dev", "devtmpfs", ""},
	{"tmpfs", "/tmp", "tmpfs", "mode=1777"},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", ""},
	{"debugfs", "/sys/kernel/debug", "debugfs", ""},
	{"tracefs", "/sys/kernel/tracing", "tracefs", ""},
	{"bpffs", "/sys/fs/bpf", "bpf", ""},
}

func mountAll() []error {
	var errs []error
	for _, m := range mounts {
		if err := os.MkdirAll(m.dst, 0o755); err != nil {
			errs = append(errs, fmt.Errorf("mkdir %s: %w", m.dst, err))
			continue
		}
		if err := unix.Mount(m.src, m.dst, m.fs, 0, m.data); err != nil && !errors.Is(err, unix.EBUSY) {
			errs = append(errs, fmt.Errorf("mount %s on %s: %w", m.fs, m.dst, err))
		}
	}
	return errs
}

// channel is the result port; writes are serialised and flushed.
type channel struct {
	mu sync.Mutex
	f  *os.File
}

func openChannel() (*channel, error) {
	ports, _ := filepath.Glob("/sys/class/virtio-ports/*")
	var seen []string
	for _, p := range ports {
		name := readTrim(filepath.Join(p, "name"))
		seen = append(seen, filepath.Base(p)+"="+name)
		if name != wire.PortName {
			continue
		}
		dev := "/dev/" + filepath.Base(p)
		f, err := os.OpenFile(dev, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("opening result port %s: %w", dev, err)
		}
		return &channel{f: f}, nil
	}
	return nil, fmt.Errorf("no virtio-serial port named %s (ports: %v); is QEMU started with the result channel?", wire.PortName, seen)
}

func (c *channel) send(m wire.Message) {
	m.UptimeMs = UptimeMs()
	b, err := json.Marshal(m)
	if err != nil {
		b, _ = json.Marshal(wire.Message{Kind: m.Kind, Errors: []string{"encoding message: " + err.Error()}})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.f.Write(append(b, '\n'))
	c.f.Sync()
}

func (c *channel) close() { c.f.Close() }

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func collectHello() wire.Hello {
	var u unix.Utsname
	unix.Uname(&u)
	h := wire.Hello{
		Kernel:        unix.ByteSliceToString(u.Release[:]),
		Cmdline:       readTrim("/proc/cmdline"),
		Clocksource:   readTrim("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
		Hypervisor:    readTrim("/sys/hypervisor/type"),
		SchedExtState: readTrim("/sys/kernel/sched_ext/state"),
	}
	if h.SchedExtState == "" {
		h.SchedExtState = "absent"
	}
	fmt.Sscanf(readTrim("/proc/uptime"), "%f", &h.UptimeAtInit)
	if v, err := sysinfo.Read("/"); err == nil {
		h.View = v
	}
	return h
}

func readRequest() (wire.Request, error) {
	var req wire.Request
	b, err := os.ReadFile(wire.RequestPath)
	if err != nil {
		return req, fmt.Errorf("reading request: %w (the initramfs was built without one)", err)
	}
	if err := json.Unmarshal(b, &req); err != nil {
		return req, fmt.Errorf("parsing %s: %w", wire.RequestPath, err)
	}
	return req, nil
}

// tail keeps the last n bytes written to it, and whether it dropped any.
type tail struct {
	mu      sync.Mutex
	n       int
	buf     []byte
	dropped bool
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.n {
		t.buf = t.buf[len(t.buf)-t.n:]
		t.dropped = true
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// runTest runs the test binary, echoing its output to the console, and
// kills its whole process group when the request's timeout passes or
// abort closes (the scheduler under test died: nothing more to learn).
func runTest(req wire.Request, console io.Writer, logf func(string, ...any), abort <-chan struct{}) wire.TestResult {
	var res wire.TestResult
	out := &tail{n: outputTailBytes}
	cmd := exec.Command(wire.TestBinaryPath, req.Args...)
	cmd.Dir = "/tmp"
	cmd.Env = append([]string{
		"PATH=/ktstr/bin:/bin:/usr/bin:/sbin:/usr/sbin",
		"HOME=/tmp", "TMPDIR=/tmp",
		wire.EnvGuest + "=1",
		wire.EnvTest + "=" + req.Test,
		wire.EnvResult + "=" + ResultFile,
	}, req.Env...)
	cmd.Stdout = io.MultiWriter(console, out)
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	res.ExecUptimeMs = UptimeMs()
	logf("running %s %s", wire.TestBinaryPath, strings.Join(req.Args, " "))
	if err := cmd.Start(); err != nil {
		res.ExitCode = -1
		res.OutputTail = fmt.Sprintf("starting the test binary: %v", err)
		return res
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timeout := time.Duration(req.Timeout)
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		res.TimedOut = true
		logf("test exceeded its guest timeout of %v: killing it", timeout)
		unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		err = <-done
	case <-abort:
		logf("the scheduler died: stopping the test")
		unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		err = <-done
	}
	res.Duration = wire.Duration(time.Since(start))
	res.ExitUptimeMs = UptimeMs()
	res.ExitCode = cmd.ProcessState.ExitCode()
	if err != nil && res.ExitCode == 0 {
		res.ExitCode = -1
	}
	res.OutputTail = out.String()
	if b, rerr := os.ReadFile(ResultFile); rerr == nil {
		var rep wire.TestReport
		if jerr := json.Unmarshal(b, &rep); jerr != nil {
			res.OutputTail += fmt.Sprintf("\nktstr-init: unreadable report %s: %v", ResultFile, jerr)
		} else {
			res.Report = &rep
		}
	}
	// Workers are in their own cgroups; make sure none outlives the test.
	unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
	return res
}

// IsInit reports whether this process is PID 1 of a ktstr guest (one
// whose initramfs holds a request), not, say, a container's entry point.
// A binary that ktstr puts into the initramfs as /init (the ktstr
// command, a test binary) calls [Main] then.
func IsInit() bool {
	if os.Getpid() != 1 {
		return false
	}
	_, err := os.Stat(wire.RequestPath)
	return err == nil
}

// UptimeMs is the guest's CLOCK_MONOTONIC in milliseconds: the clock
// of the guest's timestamps on the result channel and in reports.
func UptimeMs() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return float64(ts.Nano()) / 1e6
}

func powerOff(logf func(string, ...any)) {
	unix.Sync()
	if os.Getpid() != 1 {
		logf("not PID 1: exiting instead of powering off")
		os.Exit(0)
	}
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		logf("power off: %v", err)
	}
	// Reboot does not return on success; if it failed, sleep rather than
	// exit (PID 1 exiting panics the kernel, which the host also reports).
	for {
		time.Sleep(time.Hour)
	}
}
