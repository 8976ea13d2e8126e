package workload

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
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
	// signalErr is why Signal failed.
	signalErr error
}

// Start forks a worker directly into spec.CgroupDir and waits until it is
// ready. The worker does no work until [Worker.Go].
func Start(spec Spec) (*Worker, error) {
	if g := GroupSize(spec.Work, spec.Params.WithDefaults(spec.Work)); g > 1 {
		return nil, fmt.Errorf("worker %s[%d]: work type %s runs in groups of %d: start it with StartGroup", spec.Cgroup, spec.Index, spec.Work, g)
	}
	return start(spec, nil)
}

// StartGroup starts the workers of one group of a grouped work type (a
// pair, or a fan-out group), with what they share: a pipe each way for
// the pair types, a shared page for the futex types. specs[i] becomes
// member i.
func StartGroup(specs []Spec) ([]*Worker, error) {
	if len(specs) == 0 {
		return nil, fmt.Errorf("empty worker group")
	}
	first := specs[0]
	if err := ValidateGroups(first.Work, first.Params, len(specs)); err != nil {
		return nil, fmt.Errorf("worker group %s[%d..]: %w", first.Cgroup, first.Index, err)
	}
	if want := GroupSize(first.Work, first.Params.WithDefaults(first.Work)); len(specs) != want {
		return nil, fmt.Errorf("worker group %s[%d..]: %d workers, a group of %s has %d", first.Cgroup, first.Index, len(specs), first.Work, want)
	}
	files, owned, err := groupFiles(first.Work, len(specs))
	if err != nil {
		return nil, fmt.Errorf("worker group %s[%d..]: %w", first.Cgroup, first.Index, err)
	}
	// The children have their copies once started.
	defer func() {
		for _, f := range owned {
			f.Close()
		}
	}()
	var ws []*Worker
	for i, spec := range specs {
		spec.Member = i
		w, err := start(spec, files[i])
		if err != nil {
			for _, w := range ws {
				w.Kill()
			}
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// groupFiles makes what a group shares, as each member's extra files
// (fd 3 on): a pair's pipes (the member's read end, then its write end),
// or one shared page (a memfd) for every member. owned lists the files
// to close once the members are started.
func groupFiles(w WorkType, n int) (members [][]*os.File, owned []*os.File, err error) {
	out := make([][]*os.File, n)
	switch w {
	case PipeIo, CachePipe:
		aToB, bToA := make([]int, 2), make([]int, 2)
		if err := unix.Pipe2(aToB, unix.O_CLOEXEC); err != nil {
			return nil, nil, fmt.Errorf("pipe: %w", err)
		}
		if err := unix.Pipe2(bToA, unix.O_CLOEXEC); err != nil {
			unix.Close(aToB[0])
			unix.Close(aToB[1])
			return nil, nil, fmt.Errorf("pipe: %w", err)
		}
		f := func(fd int, name string) *os.File { return os.NewFile(uintptr(fd), name) }
		out[0] = []*os.File{f(bToA[0], "pipe-in"), f(aToB[1], "pipe-out")}
		out[1] = []*os.File{f(aToB[0], "pipe-in"), f(bToA[1], "pipe-out")}
		owned = append(append(owned, out[0]...), out[1]...)
	case FutexPingPong, FutexFanOut:
		fd, err := unix.MemfdCreate("ktstr-group", unix.MFD_CLOEXEC)
		if err != nil {
			return nil, nil, fmt.Errorf("memfd: %w", err)
		}
		if err := unix.Ftruncate(fd, int64(os.Getpagesize())); err != nil {
			unix.Close(fd)
			return nil, nil, fmt.Errorf("memfd: %w", err)
		}
		page := os.NewFile(uintptr(fd), "shared")
		for i := range out {
			out[i] = []*os.File{page}
		}
		owned = []*os.File{page}
	}
	return out, owned, nil
}

func start(spec Spec, extra []*os.File) (*Worker, error) {
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
	w.cmd.ExtraFiles = extra
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

// Stop signals the worker and returns its report ([Worker.Signal], then
// [Worker.Collect]).
func (w *Worker) Stop() wire.WorkerReport {
	w.Signal()
	return w.Collect()
}

// Signal tells the worker to stop. Stopping several workers, signal them
// all before collecting any: a worker of a group keeps working with its
// partners until it is told.
func (w *Worker) Signal() {
	w.signalErr = w.cmd.Process.Signal(syscall.SIGUSR1)
	if errors.Is(w.signalErr, os.ErrProcessDone) {
		w.signalErr = nil // it ended on its own; its report says why
	}
}

// Collect waits for the signalled worker and returns its report. A worker
// that died or reported nothing yields a report whose Error says why, so
// the verdict never silently loses it.
func (w *Worker) Collect() wire.WorkerReport {
	rep := wire.WorkerReport{Cgroup: w.Spec.Cgroup, Index: w.Spec.Index, PID: w.cmd.Process.Pid}
	if w.signalErr != nil {
		rep.Error = fmt.Sprintf("signalling stop: %v", w.signalErr)
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
