package workload

import (
	"bufio"
	"bytes"
	"encoding/json"
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

// Worker is a live worker process.
type Worker struct {
	Spec  Spec
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	errs  bytes.Buffer
}

// Start forks a worker directly into spec.CgroupDir and waits until it is
// ready. The worker does no work until [Worker.Go].
func Start(spec Spec) (*Worker, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("worker %s[%d]: %w", spec.Cgroup, spec.Index, err)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("worker %s[%d]: finding own executable: %w", spec.Cgroup, spec.Index, err)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("worker %s[%d]: %w", spec.Cgroup, spec.Index, err)
	}
	fd, err := unix.Open(spec.CgroupDir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("worker %s[%d]: opening cgroup %s: %w", spec.Cgroup, spec.Index, spec.CgroupDir, err)
	}
	defer unix.Close(fd)

	w := &Worker{Spec: spec}
	w.cmd = exec.Command(exe)
	w.cmd.Env = append(os.Environ(), EnvWorker+"="+string(raw), "GOMAXPROCS=1", "GOGC=off")
	w.cmd.Stderr = &w.errs
	w.cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd, Pdeathsig: syscall.SIGKILL}
	if w.stdin, err = w.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("worker %s[%d]: %w", spec.Cgroup, spec.Index, err)
	}
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("worker %s[%d]: %w", spec.Cgroup, spec.Index, err)
	}
	w.out = bufio.NewReader(stdout)
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("worker %s[%d]: starting in cgroup %s: %w", spec.Cgroup, spec.Index, spec.CgroupDir, err)
	}
	line, err := w.out.ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		w.Kill()
		return nil, fmt.Errorf("worker %s[%d]: expected ready, got %q (%v); stderr: %s",
			spec.Cgroup, spec.Index, line, err, strings.TrimSpace(w.errs.String()))
	}
	return w, nil
}

// PID is the worker's process id.
func (w *Worker) PID() int { return w.cmd.Process.Pid }

// Go releases the worker at the given time (phase two).
func (w *Worker) Go(at time.Time) error {
	if _, err := fmt.Fprintf(w.stdin, "go %d\n", at.UnixNano()); err != nil {
		return fmt.Errorf("worker %s[%d]: sending go: %w", w.Spec.Cgroup, w.Spec.Index, err)
	}
	return nil
}

// Stop signals the worker and returns its report. A worker that died or
// reported nothing yields a report whose Error says why, so the verdict
// never silently loses it.
func (w *Worker) Stop() wire.WorkerReport {
	rep := wire.WorkerReport{Cgroup: w.Spec.Cgroup, Index: w.Spec.Index, PID: w.cmd.Process.Pid}
	if err := w.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		rep.Error = fmt.Sprintf("signalling stop: %v", err)
	}
	body, readErr := io.ReadAll(w.out)
	waitErr := w.cmd.Wait()
	w.stdin.Close()
	if err := json.Unmarshal(bytes.TrimSpace(body), &rep); err != nil {
		rep.Error = fmt.Sprintf("no report (%v, read: %v, exit: %v); stderr: %s",
			err, readErr, waitErr, strings.TrimSpace(w.errs.String()))
	} else if waitErr != nil && rep.Error == "" {
		rep.Error = fmt.Sprintf("exit: %v; stderr: %s", waitErr, strings.TrimSpace(w.errs.String()))
	}
	return rep
}

// Kill ends the worker at once, for error paths.
func (w *Worker) Kill() {
	if w.cmd.Process != nil {
		w.cmd.Process.Kill()
		w.cmd.Wait()
	}
}
