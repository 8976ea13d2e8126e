package monitor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktstr-go/ktstr/internal/ksyms"
)

// GuestMem is guest-physical memory the monitor reads and (for the
// watchdog override) writes.
type GuestMem interface {
	PhysMem
	WriteAt(p []byte, gpa uint64) error
}

// DefaultInterval is how often the monitor samples.
const DefaultInterval = 100 * time.Millisecond

// Config is what a [Sampler] needs.
type Config struct {
	Mem    GuestMem
	Layout *Layout
	// Symbols are kernel symbol addresses (see [AllSymbols]); Source says
	// where they came from, for the report.
	Symbols ksyms.Table
	Source  string
	// CPUs is the number of guest CPUs.
	CPUs int
	// Interval between samples; 0 is DefaultInterval.
	Interval time.Duration
	// HZ is the guest's tick rate (CONFIG_HZ) when known; 0 estimates it
	// from jiffies against the runqueue clocks.
	HZ int
	// PhysBase is the kernel's phys_base (0 for a kernel booted at its
	// link address, as with nokaslr).
	PhysBase uint64
	// WatchdogTimeout, when set, overrides the watchdog timeout of every
	// sched_ext scheduler that attaches with a longer one.
	WatchdogTimeout time.Duration
	// QEMUPID and VCPUThreads (host thread id per vCPU) let samples say
	// whether each vCPU ran.
	QEMUPID     int
	VCPUThreads []int
	// OnThread, when set, runs on the sampling thread as it starts (the
	// runner's performance mode pins it and raises its priority).
	OnThread func()
}

// Sampler samples a guest until Stop.
type Sampler struct {
	cfg     Config
	tr      *Translator
	percpu  []uint64
	rqVA    uint64
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	rep     Report
	hz      int
	hzGuess bool
	wd      watchdogState
	// started is set by Start: a sampling goroutine runs.
	started  bool
	stopOnce sync.Once
}

// ErrSymbolsMismatch means the symbol addresses do not fit the guest's
// memory (a stale cache, or a kernel booted with KASLR).
var ErrSymbolsMismatch = errors.New("kernel symbols do not match the guest's memory")

// Start checks that the symbols fit the guest (linux_banner must read
// "Linux version"), reads the per-CPU offsets and starts sampling.
func Start(cfg Config) (*Sampler, error) {
	s, err := newSampler(cfg)
	if err != nil {
		return nil, err
	}
	s.started = true
	go s.loop()
	return s, nil
}

// newSampler is Start without the sampling goroutine.
func newSampler(cfg Config) (*Sampler, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Layout == nil {
		return nil, errors.New("monitor: no kernel layout")
	}
	if miss := cfg.Symbols.Missing(CoreSymbols); len(miss) > 0 {
		return nil, fmt.Errorf("monitor: kernel symbols missing: %s", strings.Join(miss, ", "))
	}
	sym := cfg.Symbols
	banner := make([]byte, 14)
	text := &Translator{mem: cfg.Mem, PhysBase: cfg.PhysBase}
	if err := text.Read(banner, sym["linux_banner"]); err != nil || !bytes.HasPrefix(banner, []byte("Linux version")) {
		return nil, fmt.Errorf("monitor: %w: linux_banner at %#x reads %q (%v)", ErrSymbolsMismatch, sym["linux_banner"], banner, err)
	}
	tr, err := NewTranslator(cfg.Mem, cfg.PhysBase, sym["page_offset_base"], sym["init_top_pgt"])
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	s := &Sampler{cfg: cfg, tr: tr, stop: make(chan struct{}), done: make(chan struct{}), hz: cfg.HZ}
	s.rep.IntervalMs = float64(cfg.Interval) / float64(time.Millisecond)
	s.rep.SymbolSource = cfg.Source
	n, err := tr.U32(sym["nr_cpu_ids"])
	if err != nil {
		return nil, fmt.Errorf("monitor: nr_cpu_ids: %w", err)
	}
	cpus := min(int(n), cfg.CPUs)
	if cpus <= 0 {
		cpus = int(n)
	}
	for i := range cpus {
		off, err := tr.U64(sym["__per_cpu_offset"] + uint64(i)*8)
		if err != nil {
			return nil, fmt.Errorf("monitor: __per_cpu_offset[%d]: %w", i, err)
		}
		s.percpu = append(s.percpu, off)
	}
	s.rqVA = cfg.Layout.RunqueuesOffset
	if v, ok := sym["runqueues"]; ok && v != 0 {
		s.rqVA = v
	}
	if s.rqVA == 0 {
		return nil, errors.New("monitor: no address for runqueues (neither BTF nor kallsyms has it)")
	}
	if !cfg.Layout.HasScx {
		s.rep.Unavailable = append(s.rep.Unavailable, "sched_ext runqueue fields (the kernel has no sched_ext)")
	}
	if miss := sym.Missing(ScxSymbols); len(miss) > 0 || !cfg.Layout.HasSched {
		s.rep.Unavailable = append(s.rep.Unavailable, fmt.Sprintf("sched_ext event counters and watchdog override (kernel lacks struct scx_sched with pcpu/watchdog_timeout, or symbols %v)", miss))
	}
	if cfg.WatchdogTimeout > 0 {
		s.wd.rep = &WatchdogReport{RequestedS: cfg.WatchdogTimeout.Seconds()}
	}
	return s, nil
}

func (s *Sampler) loop() {
	runtime.LockOSThread()
	if s.cfg.OnThread != nil {
		// The hook may change the thread (its CPUs, its priority): it
		// must not go back to the runtime's pool, so it stays locked and
		// ends with this goroutine.
		s.cfg.OnThread()
	} else {
		defer runtime.UnlockOSThread()
	}
	defer close(s.done)
	cpu0 := threadCPU()
	t0 := time.Now()
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	var last time.Time
	take := func() {
		last = time.Now()
		s.mu.Lock()
		defer s.mu.Unlock()
		smp, err := s.sample(t0)
		if err != nil {
			if s.rep.Error == "" {
				s.rep.Error = err.Error()
			}
		} else {
			s.rep.Samples = append(s.rep.Samples, smp)
		}
		s.rep.HostCPUNs = threadCPU() - cpu0
		s.rep.HostWallNs = int64(time.Since(t0))
	}
	for {
		take()
		select {
		case <-s.stop:
			// One last look: the guest's memory stays readable once
			// it has stopped, so the samples reach the run's end (a
			// scheduler ejected just before power-off, say) however
			// the end falls between two ticks.
			if time.Since(last) >= s.cfg.Interval/4 {
				take()
			}
			return
		case <-tick.C:
		}
	}
}

func threadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// sample reads one Sample.
func (s *Sampler) sample(t0 time.Time) (Sample, error) {
	tr, l, sym := s.tr, s.cfg.Layout, s.cfg.Symbols
	smp := Sample{HostMs: float64(time.Since(t0).Microseconds()) / 1000}
	j, err := tr.U64(sym["jiffies_64"])
	if err != nil {
		return smp, fmt.Errorf("jiffies_64: %w", err)
	}
	smp.Jiffies = j
	vcpu, wait := s.vcpuTimes()
	for i, off := range s.percpu {
		rq := s.rqVA + off
		var c CPUSample
		if c.NrRunning, err = tr.U32(rq + uint64(l.RqNrRunning)); err != nil {
			return smp, fmt.Errorf("cpu %d rq: %w", i, err)
		}
		if c.ClockNs, err = tr.U64(rq + uint64(l.RqClock)); err != nil {
			return smp, fmt.Errorf("cpu %d rq clock: %w", i, err)
		}
		if l.HasScx {
			c.ScxNrRunning, _ = tr.U32(rq + uint64(l.RqScxNrRunning))
			c.LocalDSQ, _ = tr.U32(rq + uint64(l.RqDSQNr))
		}
		if i < len(vcpu) {
			c.VCPURunNs, c.VCPUWaitNs = vcpu[i], wait[i]
		}
		smp.CPUs = append(smp.CPUs, c)
	}
	if l.HasSched && sym["scx_root"] != 0 {
		sch, err := tr.U64(sym["scx_root"])
		if err == nil && sch != 0 {
			smp.Scx = true
			if l.HasEvents {
				smp.Events = s.events(sch)
			}
			s.watchdog(sch, smp)
		} else if err == nil {
			s.wd.sch = 0
		}
	}
	if s.hz == 0 || s.hzGuess {
		s.guessHZ(smp)
	}
	return smp, nil
}

// events sums the scheduler's per-CPU event counters.
func (s *Sampler) events(sch uint64) map[string]int64 {
	l := s.cfg.Layout
	pcpu, err := s.tr.U64(sch + uint64(l.SchedPcpu))
	if err != nil || pcpu == 0 {
		return nil
	}
	size := uint32(0)
	for _, o := range l.Events {
		size = max(size, o+8)
	}
	buf := make([]byte, size)
	out := map[string]int64{}
	for _, off := range s.percpu {
		if err := s.tr.Read(buf, pcpu+off+uint64(l.PcpuEvents)); err != nil {
			return nil
		}
		for name, o := range l.Events {
			out[eventKey(name)] += int64(binary.LittleEndian.Uint64(buf[o:]))
		}
	}
	return out
}

// eventKey turns SCX_EV_SELECT_CPU_FALLBACK into select_cpu_fallback.
func eventKey(name string) string {
	return strings.ToLower(strings.TrimPrefix(name, "SCX_EV_"))
}

// vcpuTimes reads each vCPU thread's CPU time and run-queue wait from
// schedstat.
func (s *Sampler) vcpuTimes() (run, wait []uint64) {
	if s.cfg.QEMUPID == 0 || len(s.cfg.VCPUThreads) == 0 {
		return nil, nil
	}
	type times struct{ run, wait uint64 }
	seen := map[int]times{}
	run = make([]uint64, len(s.cfg.VCPUThreads))
	wait = make([]uint64, len(s.cfg.VCPUThreads))
	for i, tid := range s.cfg.VCPUThreads {
		v, ok := seen[tid]
		if !ok {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", s.cfg.QEMUPID, tid))
			if err == nil {
				f := strings.Fields(string(b))
				if len(f) > 1 {
					v.run, _ = strconv.ParseUint(f[0], 10, 64)
					v.wait, _ = strconv.ParseUint(f[1], 10, 64)
				}
			}
			seen[tid] = v
		}
		run[i], wait[i] = v.run, v.wait
	}
	return run, wait
}

// initialJiffies is INITIAL_JIFFIES of a 64-bit kernel at hz.
func initialJiffies(hz int) uint64 { return uint64(uint32(-300 * int64(hz))) }

var standardHZ = []int{100, 250, 300, 1000}

// guessHZ picks the standard tick rate under which jiffies agree best
// with the runqueue clocks (sched_clock, nanoseconds since boot).
func (s *Sampler) guessHZ(smp Sample) {
	var clk uint64
	for _, c := range smp.CPUs {
		clk = max(clk, c.ClockNs)
	}
	if clk == 0 {
		return
	}
	up := float64(clk) / 1e9
	best, bestErr := 0, math.Inf(1)
	for _, hz := range standardHZ {
		ij := initialJiffies(hz)
		if smp.Jiffies < ij {
			continue
		}
		e := math.Abs(float64(smp.Jiffies-ij)/float64(hz) - up)
		if e < bestErr {
			best, bestErr = hz, e
		}
	}
	if best != 0 {
		s.hz, s.hzGuess = best, true
	}
}

// HZ is the tick rate in use (given or estimated; 0 before any sample).
func (s *Sampler) HZ() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hz
}

// sampleNow takes one sample outside the loop (tests).
func (s *Sampler) sampleNow() (Sample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sample(time.Now())
}

// Snapshot returns a copy of the report so far.
func (s *Sampler) Snapshot() Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rep
	r.Samples = append([]Sample(nil), s.rep.Samples...)
	s.fill(&r)
	return r
}

func (s *Sampler) fill(r *Report) {
	if s.hz > 0 {
		ij := initialJiffies(s.hz)
		for i := range r.Samples {
			if r.Samples[i].Jiffies >= ij {
				r.Samples[i].GuestMs = float64(r.Samples[i].Jiffies-ij) * 1000 / float64(s.hz)
			}
		}
	}
	if s.wd.rep != nil {
		w := *s.wd.rep
		r.Watchdog = &w
	}
}

// Stop ends sampling and returns the report.
func (s *Sampler) Stop() *Report {
	s.stopOnce.Do(func() { close(s.stop) })
	if s.started {
		<-s.done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rep
	s.fill(&r)
	return &r
}
