package guest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/guest/wire"
)

// shellPath is the PATH of a shell session: included files first, then
// the schedulers, then the userland (busybox's applets).
const shellPath = wire.IncludeDir + ":" + wire.SchedDir + ":/ktstr/bin:/bin:/sbin:/usr/bin:/usr/sbin"

// busyboxPaths are where an included busybox may sit.
var busyboxPaths = []string{"/bin/busybox", "/usr/bin/busybox"}

// runShell runs the request's shell session: its command, or an
// interactive shell on the console. A busybox in the initramfs gets its
// applets installed first. The session ends when the command does, when
// the request's timeout passes (commands only), or when abort closes
// (the scheduler died).
func runShell(req wire.Request, console io.Writer, logf func(string, ...any), abort <-chan struct{}) wire.TestResult {
	sh := req.Shell
	installBusybox(logf)
	env := append([]string{"PATH=" + shellPath, "HOME=/tmp", "TMPDIR=/tmp", wire.EnvGuest + "=1"}, req.Env...)
	env = append(env, sh.Env...)
	var cmd *exec.Cmd
	stdout := &tail{n: wire.ShellOutputBytes}
	stderr := &tail{n: wire.ShellOutputBytes}
	if sh.Exec != "" {
		if _, err := os.Stat("/bin/sh"); err == nil {
			cmd = exec.Command("/bin/sh", "-c", sh.Exec)
		} else {
			argv := strings.Fields(sh.Exec)
			cmd = exec.Command(argv[0], argv[1:]...)
		}
		cmd.Stdout, cmd.Stderr = stdout, stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	} else {
		tty, err := os.OpenFile("/dev/ttyS0", os.O_RDWR, 0)
		if err != nil {
			return wire.TestResult{ExitCode: -1, Shell: &wire.ShellResult{ExitCode: -1, Stderr: fmt.Sprintf("opening the console /dev/ttyS0: %v", err)}}
		}
		defer tty.Close()
		shell := "/bin/sh"
		if _, err := os.Stat(shell); err != nil {
			return wire.TestResult{ExitCode: -1, Shell: &wire.ShellResult{ExitCode: -1, Stderr: "no /bin/sh in the guest: an interactive shell needs a busybox (ktstr shell --busybox PATH)"}}
		}
		cmd = exec.Command(shell, "-l")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		// A session of its own with the console as its controlling
		// terminal: job control and ^C work.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		env = append(env, "PS1=ktstr# ")
		fmt.Fprintf(console, "\nktstr shell: %s; \"exit\" powers the VM off\n", shellPath)
	}
	cmd.Dir = "/tmp"
	cmd.Env = env
	// A command that leaves a process behind holding its output (a
	// scheduler started with &) ends when the shell does: what is
	// still queued on the pipes after this long is dropped.
	cmd.WaitDelay = time.Second
	start := time.Now()
	logf("shell: %s", describeShell(sh))
	if err := cmd.Start(); err != nil {
		return wire.TestResult{ExitCode: -1, Shell: &wire.ShellResult{ExitCode: 127, Stderr: fmt.Sprintf("starting %q: %v", sh.Exec, err)}}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timeout <-chan time.Time
	if d := time.Duration(req.Timeout); d > 0 && sh.Exec != "" {
		timeout = time.After(d)
	}
	res := wire.TestResult{}
	select {
	case <-done:
	case <-timeout:
		res.TimedOut = true
		logf("shell command exceeded its timeout of %v: killing it", time.Duration(req.Timeout))
		unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		<-done
	case <-abort:
		logf("the scheduler died: stopping the shell")
		unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		<-done
	}
	res.Duration = wire.Duration(time.Since(start))
	sr := &wire.ShellResult{ExitCode: cmd.ProcessState.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String(), Truncated: stdout.dropped || stderr.dropped}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sr.ExitCode = 128 + int(ws.Signal())
	}
	if sh.Dmesg {
		klog, err := kernelLog()
		sr.Dmesg = klog
		if err != nil {
			sr.Dmesg = fmt.Sprintf("(reading the kernel log: %v)", err)
		}
	}
	res.ExitCode = sr.ExitCode
	res.Shell = sr
	return res
}

func describeShell(sh *wire.ShellRequest) string {
	if sh.Exec == "" {
		return "interactive, on the console"
	}
	return fmt.Sprintf("%q", sh.Exec)
}

// installBusybox links busybox's applets into the guest's bin folders,
// once, when an initramfs carries one.
func installBusybox(logf func(string, ...any)) {
	for _, p := range busyboxPaths {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		for _, d := range []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin"} {
			os.MkdirAll(d, 0o755)
		}
		if out, err := exec.Command(p, "--install", "-s").CombinedOutput(); err != nil {
			logf("busybox --install: %v: %s", err, bytes.TrimSpace(out))
		}
		return
	}
}

// kernelLog is the whole kernel log buffer.
func kernelLog() (string, error) {
	n, err := unix.Klogctl(unix.SYSLOG_ACTION_SIZE_BUFFER, nil)
	if err != nil || n <= 0 {
		n = 1 << 20
	}
	buf := make([]byte, n)
	m, err := unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:m]), nil
}
