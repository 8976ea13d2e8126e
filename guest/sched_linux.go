package guest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/guest/cgroup"
	"github.com/ktstr-go/ktstr/guest/wire"
)

const (
	schedExtState = "/sys/kernel/sched_ext/state"
	schedExtOps   = "/sys/kernel/sched_ext/root/ops"
	// livenessEvery is how often the scheduler is checked while the test
	// runs.
	livenessEvery = 100 * time.Millisecond
	// schedOutputBytes bounds the scheduler output kept for the report.
	schedOutputBytes = 16 << 10
)

// scheduler is the live scheduler under test.
type scheduler struct {
	req    *wire.SchedRequest
	logf   func(string, ...any)
	cmd    *exec.Cmd
	out    *tail
	exited chan struct{}

	mu  sync.Mutex
	rep wire.SchedReport
	// died is closed when the scheduler is found dead while it should run.
	died     chan struct{}
	diedOnce sync.Once
	stopping bool
	// stopped is closed by stop: map writes not yet due are not done.
	stopped chan struct{}
	writes  sync.WaitGroup
	// tracer is the probes of an auto_repro run (nil without).
	tracer *tracer
}

// startScheduler applies the scheduler's sysctls and cgroup parent,
// starts it and waits until sched_ext is enabled with its ops. On failure
// the report says why, with the scheduler's output and the kernel's.
func startScheduler(req *wire.SchedRequest, console io.Writer, logf func(string, ...any)) *scheduler {
	s := &scheduler{req: req, logf: logf, out: &tail{n: schedOutputBytes}, exited: make(chan struct{}), died: make(chan struct{}), stopped: make(chan struct{})}
	s.rep = wire.SchedReport{Name: req.Name, ExitCode: -1}
	if req.Probes != nil {
		s.tracer = startProbes(req.Probes, logf)
	}
	start := time.Now()
	if err := s.start(console); err != nil {
		s.rep.Dump = kernelDump()
		if s.wasEnabled(s.rep.Dump) {
			// The scheduler took over and died before init could look:
			// a scheduler that stalls everything, init included, does so.
			s.rep.Enabled, s.rep.Died = true, true
			s.rep.DeathCause = "the scheduler was enabled and then ejected before the test could start: " + err.Error()
		} else {
			s.rep.StartErr = err.Error()
		}
		s.rep.OutputTail = s.out.String()
		s.stop()
		return s
	}
	s.rep.Enabled = true
	s.rep.StartDur = wire.Duration(time.Since(start))
	progs, err := programStats()
	s.rep.Programs = progs
	if err != nil {
		s.rep.ProgramsErr = err.Error()
	}
	logf("scheduler %s enabled (ops %s) after %v", req.Name, s.rep.Ops, time.Since(start).Round(time.Millisecond))
	for _, w := range req.MapWrites {
		s.writes.Add(1)
		go s.mapWrite(w)
	}
	go s.watch()
	return s
}

func (s *scheduler) start(console io.Writer) error {
	for k, v := range s.req.Sysctls {
		p := filepath.Join("/proc/sys", strings.ReplaceAll(k, ".", "/"))
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	if s.req.CgroupParent != "" {
		if err := os.MkdirAll(filepath.Join(cgroup.Mount, s.req.CgroupParent), 0o755); err != nil {
			return fmt.Errorf("cgroup parent %s: %w", s.req.CgroupParent, err)
		}
	}
	if s.req.Path != "" {
		s.cmd = exec.Command(s.req.Path, s.req.Args...)
		w := io.MultiWriter(console, s.out)
		s.cmd.Stdout, s.cmd.Stderr = w, w
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		s.logf("starting scheduler %s: %s %s", s.req.Name, s.req.Path, strings.Join(s.req.Args, " "))
		if err := s.cmd.Start(); err != nil {
			close(s.exited)
			return fmt.Errorf("starting %s: %w", s.req.Path, err)
		}
		go func() {
			s.cmd.Wait()
			s.mu.Lock()
			s.rep.ExitCode = s.cmd.ProcessState.ExitCode()
			s.mu.Unlock()
			close(s.exited)
		}()
	} else {
		close(s.exited)
		for _, argv := range s.req.Enable {
			if err := runArgv(argv, s.out); err != nil {
				return fmt.Errorf("enabling builtin scheduler: %w", err)
			}
		}
	}
	timeout := time.Duration(s.req.StartTimeout)
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		state, ops := readTrim(schedExtState), readTrim(schedExtOps)
		if state == "enabled" && (s.req.Ops == "" || ops == s.req.Ops) {
			s.rep.Ops = ops
			return nil
		}
		if s.req.Path != "" {
			select {
			case <-s.exited:
				return fmt.Errorf("scheduler %s exited with status %d before sched_ext was enabled (state %q, ops %q)", s.req.Name, s.cmd.ProcessState.ExitCode(), state, ops)
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sched_ext not enabled with ops %q within %v (state %q, ops %q)", s.req.Ops, timeout, state, ops)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wasEnabled reports whether the kernel log says sched_ext enabled this
// scheduler's ops.
func (s *scheduler) wasEnabled(klog string) bool {
	return s.req.Ops != "" && strings.Contains(klog, fmt.Sprintf("BPF scheduler %q enabled", s.req.Ops))
}

func runArgv(argv []string, out io.Writer) error {
	if len(argv) == 0 {
		return errors.New("empty command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return nil
}

// watch polls the scheduler until it is stopped, and records its death.
func (s *scheduler) watch() {
	t := time.NewTicker(livenessEvery)
	defer t.Stop()
	for range t.C {
		s.mu.Lock()
		stopping := s.stopping
		s.mu.Unlock()
		if stopping {
			return
		}
		cause := ""
		select {
		case <-s.exited:
			if s.req.Path != "" {
				cause = fmt.Sprintf("scheduler process exited with status %d", s.cmd.ProcessState.ExitCode())
			}
		default:
		}
		if cause == "" {
			if state := readTrim(schedExtState); state != "enabled" {
				cause = fmt.Sprintf("sched_ext state became %q", state)
			} else if ops := readTrim(schedExtOps); s.req.Ops != "" && ops != s.req.Ops {
				cause = fmt.Sprintf("sched_ext ops became %q", ops)
			}
		}
		if cause != "" {
			// stop may have begun while this looked: a scheduler
			// that stop ended did not die.
			s.mu.Lock()
			stopping := s.stopping
			s.mu.Unlock()
			if !stopping {
				s.markDead(cause)
			}
			return
		}
	}
}

func (s *scheduler) markDead(cause string) {
	s.diedOnce.Do(func() {
		if s.tracer != nil {
			s.tracer.stopTracing()
		}
		s.logf("scheduler %s died: %s", s.req.Name, cause)
		// Give the process a moment to print its exit message.
		select {
		case <-s.exited:
		case <-time.After(2 * time.Second):
		}
		s.mu.Lock()
		s.rep.Died = true
		s.rep.DeathCause = cause
		s.rep.Dump = kernelDump()
		s.mu.Unlock()
		close(s.died)
	})
}

// mapWrite sets one BPF map entry of the running scheduler. A write that
// fails, or that is not due before the scheduler is stopped, is an error
// of the run: the test did not get the stimulus it asked for.
func (s *scheduler) mapWrite(w wire.MapWrite) {
	defer s.writes.Done()
	what := fmt.Sprintf("bpf_map_write %s[%d]=%d", w.Map, w.Key, w.Value)
	var msg string
	var err error
	select {
	case <-time.After(time.Duration(w.AfterMs) * time.Millisecond):
		msg, err = writeMap(w)
	case <-s.stopped:
		err = fmt.Errorf("not done: the test ended before after_ms=%d", w.AfterMs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		msg = fmt.Sprintf("%s failed: %v", what, err)
		s.rep.MapWriteErrors = append(s.rep.MapWriteErrors, msg)
	}
	s.logf("%s", msg)
	s.rep.MapWrites = append(s.rep.MapWrites, msg)
}

func writeMap(w wire.MapWrite) (string, error) {
	var id ebpf.MapID
	var seen []string
	for {
		next, err := ebpf.MapGetNextID(id)
		if err != nil {
			return "", fmt.Errorf("no BPF map named %q (maps: %s)", w.Map, strings.Join(seen, ", "))
		}
		id = next
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			continue
		}
		info, err := m.Info()
		// The kernel keeps at most 15 bytes of a map's name.
		match := err == nil && (info.Name == w.Map || (len(info.Name) == 15 && strings.HasPrefix(w.Map, info.Name)))
		if !match {
			if err == nil {
				seen = append(seen, info.Name)
			}
			m.Close()
			continue
		}
		defer m.Close()
		var uerr error
		switch m.ValueSize() {
		case 8:
			uerr = m.Update(w.Key, w.Value, ebpf.UpdateAny)
		case 4:
			uerr = m.Update(w.Key, uint32(w.Value), ebpf.UpdateAny)
		default:
			return "", fmt.Errorf("map %s has %d-byte values; bpf_map_write writes 4 or 8", w.Map, m.ValueSize())
		}
		if uerr != nil {
			return "", fmt.Errorf("updating map %s (id %d): %w", w.Map, id, uerr)
		}
		return fmt.Sprintf("bpf_map_write %s[%d]=%d done (map id %d)", w.Map, w.Key, w.Value, id), nil
	}
}

// stop ends the scheduler and returns the final report.
func (s *scheduler) stop() wire.SchedReport {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	var probeRep *wire.ProbeReport
	if s.tracer != nil {
		probeRep = s.tracer.report() // before the scheduler's teardown
	}
	select {
	case <-s.stopped:
	default:
		close(s.stopped)
	}
	s.writes.Wait()
	if s.cmd != nil && s.cmd.Process != nil {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(5 * time.Second):
				unix.Kill(-s.cmd.Process.Pid, unix.SIGKILL)
				<-s.exited
			}
		}
	}
	for _, argv := range s.req.Disable {
		if err := runArgv(argv, s.out); err != nil {
			s.logf("disabling builtin scheduler: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rep.OutputTail = s.out.String()
	s.rep.Probes = probeRep
	return s.rep
}

// dumpLines bounds the kernel log carried in a report.
const dumpLines = 120

// kernelDump returns the tail of the kernel log, where sched_ext prints
// why it disabled a scheduler and its debug dump.
func kernelDump() string {
	klog, err := kernelLog()
	if err != nil {
		return fmt.Sprintf("(reading the kernel log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(klog, "\n"), "\n")
	first := -1
	for i, l := range lines {
		if strings.Contains(l, "sched_ext") {
			first = i
			break
		}
	}
	if first < 0 {
		first = len(lines) - 20
	}
	first = max(first, len(lines)-dumpLines, 0)
	return strings.Join(lines[first:], "\n")
}
