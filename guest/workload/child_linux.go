package workload

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/topology"
)

// EnvWorker carries the worker's JSON [Spec]; its presence makes
// [MaybeRunWorker] turn the process into a worker.
const EnvWorker = "KTSTR_WORKER"

// blockIters is the arithmetic done between two progress points. Small
// enough that a gap of a millisecond is visible even under emulation.
const blockIters = 512

// MaybeRunWorker runs the worker and exits the process when EnvWorker is
// set; otherwise it returns at once.
func MaybeRunWorker() {
	raw, ok := os.LookupEnv(EnvWorker)
	if !ok {
		return
	}
	// The work loop must stay on one thread, the one whose schedstat and
	// migrations describe it.
	runtime.LockOSThread()
	os.Exit(runWorker(raw))
}

func runWorker(raw string) int {
	out := json.NewEncoder(os.Stdout)
	fail := func(format string, a ...any) int {
		out.Encode(wire.WorkerReport{Error: fmt.Sprintf(format, a...)})
		return 1
	}
	var spec Spec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return fail("worker: bad %s: %v", EnvWorker, err)
	}
	if spec.Affinity != "" {
		if err := pinTo(spec.Affinity); err != nil {
			return fail("worker: %v", err)
		}
	}
	policy, priority, err := applyPolicy(spec.Policy, spec.Priority)
	if err != nil {
		return fail("worker: %v", err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGUSR1, syscall.SIGTERM)
	var stopped atomic.Bool
	go func() { <-stop; stopped.Store(true) }()

	// Phase one: ready, then wait for the common start time.
	fmt.Fprintln(os.Stdout, "ready")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		return fail("worker: waiting for go: %v", err)
	}
	startNs, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(line), "go "), 10, 64)
	if err != nil {
		return fail("worker: bad go line %q: %v", line, err)
	}
	startAt := time.Unix(0, startNs)
	if d := time.Until(startAt); d > 0 {
		time.Sleep(d)
	}

	before := readThreadStats()
	rep, err := work(spec, &stopped, startAt)
	if err != nil {
		return fail("worker: %v", err)
	}
	after := readThreadStats()

	rep.Cgroup, rep.Index, rep.PID = spec.Cgroup, spec.Index, os.Getpid()
	rep.Work = string(spec.Work)
	if rep.Work == "" {
		rep.Work = string(CpuSpin)
	}
	rep.AllowedCPUs = spec.AllowedCPUs
	rep.Policy, rep.Priority = string(policy), priority
	rep.CPUTimeNs = after.runtime - before.runtime
	rep.RunDelayNs = after.runDelay - before.runDelay
	rep.Timeslices = after.slices - before.slices
	rep.Migrations = after.migrations - before.migrations
	rep.VoluntarySwitches = after.voluntary - before.voluntary
	rep.InvoluntarySwitches = after.involuntary - before.involuntary
	if rep.WallNs > rep.CPUTimeNs {
		rep.OffCPUNs = rep.WallNs - rep.CPUTimeNs
	}
	if err := out.Encode(rep); err != nil {
		return 1
	}
	return 0
}

func newProgress(start time.Time) *progress { return newProgressAt(start, time.Now(), getcpu) }

// unit does one block of work and records the progress point after it.
func (p *progress) unit() {
	for range blockIters {
		p.x = p.x*6364136223846793005 + 1442695040888963407
	}
	p.rep.WorkUnits++
	p.n++
	p.mark(time.Now())
}

func (p *progress) finish() wire.WorkerReport {
	sink = p.x
	return p.finishAt(time.Now())
}

// work runs spec's work type until stopped is set.
func work(spec Spec, stopped *atomic.Bool, start time.Time) (wire.WorkerReport, error) {
	prm := spec.Params.WithDefaults(spec.Work)
	switch spec.Work {
	case YieldHeavy:
		return spin(stopped, start, true), nil
	case Mixed:
		return mixed(stopped, start), nil
	case IoSync:
		return ioSync(stopped, start)
	case Bursty:
		return bursty(stopped, start, time.Duration(prm.BurstMs)*time.Millisecond, time.Duration(prm.SleepMs)*time.Millisecond), nil
	case PipeIo:
		return pipeIO(stopped, start, prm, false), nil
	case CachePipe:
		return pipeIO(stopped, start, prm, true), nil
	case FutexPingPong:
		return futexPingPong(stopped, start, prm, spec.Member)
	case CachePressure:
		return cachePressure(stopped, start, prm, false), nil
	case CacheYield:
		return cachePressure(stopped, start, prm, true), nil
	case FutexFanOut:
		return futexFanOut(stopped, start, prm, spec.Member)
	case Sequence:
		return sequence(stopped, start, prm)
	}
	return spin(stopped, start, false), nil
}

// spin runs CpuSpin (or YieldHeavy) until stopped is set; an iteration is
// one block of work.
func spin(stopped *atomic.Bool, start time.Time, yield bool) wire.WorkerReport {
	p := newProgress(start)
	for !stopped.Load() {
		p.unit()
		p.rep.Iterations++
		if yield {
			unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
	return p.finish()
}

// bursty spins for burst, then sleeps for sleep; every wake-up's
// lateness is a sample.
func bursty(stopped *atomic.Bool, start time.Time, burst, sleep time.Duration) wire.WorkerReport {
	p := newProgress(start)
	for !stopped.Load() {
		end := time.Now().Add(burst)
		for !stopped.Load() && time.Now().Before(end) {
			p.unit()
		}
		if stopped.Load() {
			break
		}
		p.sleepFor(sleep)
		p.rep.Iterations++
	}
	return p.finish()
}

func getcpu() int {
	var cpu, node uint32
	_, _, errno := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0)
	if errno != 0 {
		return -1
	}
	return int(cpu)
}

func pinTo(list string) error {
	set, err := topology.ParseCPUList(list)
	if err != nil {
		return fmt.Errorf("affinity %q: %w", list, err)
	}
	var mask unix.CPUSet
	for _, c := range set.Slice() {
		mask.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &mask); err != nil {
		return fmt.Errorf("sched_setaffinity(%s): %w", list, err)
	}
	return nil
}

// threadStats are the scheduler's counters of the work thread. Only that
// thread is counted: the Go runtime's helper threads are not the work
// being scheduled, and their time would blur the worker's own.
type threadStats struct {
	runtime, runDelay, slices uint64
	migrations                uint64
	voluntary, involuntary    uint64
}

func readThreadStats() threadStats {
	var s threadStats
	const base = "/proc/thread-self/"
	if b, err := os.ReadFile(base + "schedstat"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			s.runtime, s.runDelay, s.slices = parseU(f[0]), parseU(f[1]), parseU(f[2])
		}
	}
	if b, err := os.ReadFile(base + "sched"); err == nil {
		s.migrations = field(string(b), "se.nr_migrations")
	}
	if b, err := os.ReadFile(base + "status"); err == nil {
		s.voluntary = field(string(b), "voluntary_ctxt_switches")
		s.involuntary = field(string(b), "nonvoluntary_ctxt_switches")
	}
	return s
}

// field finds "key: value" or "key   :   value" in /proc text.
func field(text, key string) uint64 {
	for _, l := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.TrimSpace(k) == key {
			return parseU(strings.TrimSpace(v))
		}
	}
	return 0
}

func parseU(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}
