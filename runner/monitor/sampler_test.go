package monitor

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/internal/ksyms"
)

func (m fakeMem) WriteAt(p []byte, gpa uint64) error {
	copy(m.page(gpa)[gpa&(pageSize-1):], p)
	return nil
}

func (m fakeMem) put32(pa uint64, v uint32) {
	binary.LittleEndian.PutUint32(m.page(pa)[pa&(pageSize-1):], v)
}

func (m fakeMem) get64(pa uint64) uint64 {
	return binary.LittleEndian.Uint64(m.page(pa)[pa&(pageSize-1):])
}

// fakeKernel lays out a tiny "kernel" in fake guest memory: symbols in
// the image (physical = virtual - __START_KERNEL_map), per-CPU runqueues
// and a scheduler in the direct map.
type fakeKernel struct {
	mem    fakeMem
	syms   ksyms.Table
	layout *Layout
	rq     [2]uint64 // physical address of each CPU's runqueue
	sch    uint64    // physical address of the scx_sched
	hz     int
}

const pob = 0xffff888000000000

func newFakeKernel(t *testing.T) *fakeKernel {
	t.Helper()
	k := &fakeKernel{mem: fakeMem{}, hz: 250}
	sym := func(pa uint64) uint64 { return startKernelMap + pa }
	k.syms = ksyms.Table{
		"linux_banner": sym(0x100000), "page_offset_base": sym(0x101000), "init_top_pgt": sym(0x102000),
		"__per_cpu_offset": sym(0x103000), "jiffies_64": sym(0x104000), "nr_cpu_ids": sym(0x105000),
		"scx_root": sym(0x106000), "scx_watchdog_interval": sym(0x107000), "scx_watchdog_timestamp": sym(0x108000),
		"scx_watchdog_work": sym(0x109000),
	}
	copy(k.mem.page(0x100000), "Linux version 7.2.0-fake")
	k.mem.put64(0x101000, pob)
	k.mem.put32(0x105000, 2)
	k.layout = &Layout{RqNrRunning: 0, RqClock: 8, RqScxNrRunning: 16, RqDSQNr: 20, HasScx: true,
		RqRunnableList: 32, TaskRunnableNode: 64, TaskRunnableAt: 80, TaskPID: 8, TaskComm: 16, HasRunnableList: true,
		SchedPcpu: 0, SchedWatchdogTimeout: 8, HasSched: true, PcpuEvents: 0,
		Events: map[string]uint32{"SCX_EV_SELECT_CPU_FALLBACK": 0, "SCX_EV_DISPATCH_KEEP_LAST": 8}, HasEvents: true,
		DelayedWorkExpires: 48, RunqueuesOffset: 0x1000}
	// Per-CPU areas at 0x200000 and 0x300000 (physical); runqueues at +0x1000.
	for c, base := range []uint64{0x200000, 0x300000} {
		k.mem.put64(0x103000+uint64(c)*8, pob+base)
		k.rq[c] = base + 0x1000
		// An empty runnable list points at itself.
		k.mem.put64(k.rq[c]+32, pob+k.rq[c]+32)
	}
	k.sch = 0x400000
	k.mem.put64(k.sch, 0x2000) // pcpu: per-CPU offset of the event counters
	k.mem.put64(k.sch+8, 30*250)
	k.mem.put64(0x107000, 15*250)
	return k
}

func (k *fakeKernel) setJiffies(j uint64) { k.mem.put64(0x104000, j) }
func (k *fakeKernel) attach()             { k.mem.put64(0x106000, pob+k.sch) }

func (k *fakeKernel) sampler(t *testing.T, wd time.Duration) *Sampler {
	t.Helper()
	s, err := newSampler(Config{Mem: k.mem, Layout: k.layout, Symbols: k.syms, CPUs: 2, HZ: k.hz, WatchdogTimeout: wd, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func TestSamplerReadsRunqueuesAndEvents(t *testing.T) {
	k := newFakeKernel(t)
	k.setJiffies(initialJiffies(250) + 2500) // 10 s of uptime
	k.mem.put32(k.rq[1], 3)
	k.mem.put64(k.rq[1]+8, 123456)
	k.mem.put32(k.rq[1]+20, 2)
	k.attach()
	k.mem.put64(0x200000+0x2000, 7)  // cpu 0 fallback
	k.mem.put64(0x300000+0x2000, 5)  // cpu 1 fallback
	k.mem.put64(0x300000+0x2008, 11) // cpu 1 keep-last
	s := k.sampler(t, 0)
	smp, err := s.sampleNow()
	if err != nil {
		t.Fatal(err)
	}
	if c := smp.CPUs[1]; c.NrRunning != 3 || c.ClockNs != 123456 || c.LocalDSQ != 2 {
		t.Errorf("cpu 1: %+v", c)
	}
	if !smp.Scx || smp.Events["select_cpu_fallback"] != 12 || smp.Events["dispatch_keep_last"] != 11 {
		t.Errorf("events %+v (scx %v)", smp.Events, smp.Scx)
	}
	s.rep.Samples = []Sample{smp}
	if r := s.Snapshot(); r.Samples[0].GuestMs != 10000 {
		t.Errorf("guest time %v ms, want 10000", r.Samples[0].GuestMs)
	}
}

func TestSamplerRejectsWrongSymbols(t *testing.T) {
	k := newFakeKernel(t)
	k.syms["linux_banner"] = startKernelMap + 0x500000
	if _, err := Start(Config{Mem: k.mem, Layout: k.layout, Symbols: k.syms, CPUs: 2}); err == nil {
		t.Fatal("symbols that do not fit the memory must be refused")
	}
}

// The watchdog override writes the timeout and interval, keeps the tick
// watchdog quiet while the kernel's work still waits on the old interval,
// and lets it fire once a task has been runnable for too long.
func TestWatchdogOverrideBridgesAndFires(t *testing.T) {
	k := newFakeKernel(t)
	j0 := initialJiffies(250) + 1000
	k.setJiffies(j0)
	k.mem.put64(0x109000+48, j0+15*250) // the work is due in 15 s
	k.attach()
	s := k.sampler(t, 2*time.Second)
	step := func(j uint64) {
		k.setJiffies(j)
		if _, err := s.sampleNow(); err != nil {
			t.Fatal(err)
		}
	}
	step(j0)
	if got := k.mem.get64(k.sch + 8); got != 500 {
		t.Fatalf("watchdog timeout %d jiffies, want 500 (2 s at HZ=250)", got)
	}
	if got := k.mem.get64(0x107000); got != 250 {
		t.Errorf("watchdog interval %d, want 250", got)
	}
	if got := k.mem.get64(0x108000); got != j0 {
		t.Errorf("timestamp %d, want it refreshed to %d", got, j0)
	}
	// A task on cpu 1 runnable since j0: after 2 s, seen twice, the
	// monitor gives up the timestamp, so the tick watchdog fires.
	task := uint64(0x500000)
	k.mem.put64(k.rq[1]+32, pob+task+64)     // head -> task's node
	k.mem.put64(task+64, pob+k.rq[1]+32)     // node -> head
	k.mem.put64(task+80, j0)                 // runnable_at
	k.mem.put32(task+8, 42)                  // pid
	copy(k.mem.page(task)[16:], "stuck\x00") // comm
	step(j0 + 100)
	if got := k.mem.get64(0x108000); got != j0+100 {
		t.Errorf("timestamp %d, want %d while no task is stalled", got, j0+100)
	}
	step(j0 + 600)
	if w := s.Snapshot().Watchdog; w.Stalled != "" {
		t.Fatalf("acted on a stalled task seen once: %+v", w)
	}
	step(j0 + 700)
	w := s.Snapshot().Watchdog
	if w == nil || w.Stalled == "" || !w.Bridged {
		t.Fatalf("watchdog report %+v: want a stalled task found while bridging", w)
	}
	if got := k.mem.get64(0x108000); got >= j0+700-500 {
		t.Errorf("timestamp %d: want it old enough (< %d) for the tick watchdog to fire", got, j0+100)
	}
	t.Logf("%+v", *w)
}

func TestWatchdogOverrideLeavesShorterTimeouts(t *testing.T) {
	k := newFakeKernel(t)
	k.setJiffies(initialJiffies(250) + 1000)
	k.mem.put64(k.sch+8, 250) // the scheduler asked for 1 s itself
	k.attach()
	s := k.sampler(t, 2*time.Second)
	if _, err := s.sampleNow(); err != nil {
		t.Fatal(err)
	}
	if got := k.mem.get64(k.sch + 8); got != 250 {
		t.Errorf("timeout rewritten to %d", got)
	}
	if w := s.Snapshot().Watchdog; w == nil || w.Applied || w.Note == "" {
		t.Errorf("report %+v: want not applied, with a note", w)
	}
}

func TestGuessHZ(t *testing.T) {
	for _, hz := range standardHZ {
		s := &Sampler{}
		s.guessHZ(Sample{Jiffies: initialJiffies(hz) + uint64(7*hz), CPUs: []CPUSample{{ClockNs: 7e9}}})
		if s.hz != hz {
			t.Errorf("HZ %d guessed as %d", hz, s.hz)
		}
	}
}

func TestLoadCountsWhatTheSchedulerPlaced(t *testing.T) {
	for _, c := range []struct {
		cpu  CPUSample
		want uint32
	}{
		{CPUSample{NrRunning: 3}, 3},                                   // EEVDF: nr_running
		{CPUSample{NrRunning: 10, ScxNrRunning: 10}, 1},                // a global queue: one runs here
		{CPUSample{NrRunning: 23, ScxNrRunning: 23, LocalDSQ: 22}, 23}, // piled on this CPU
		{CPUSample{NrRunning: 3, ScxNrRunning: 2, LocalDSQ: 1}, 3},     // one fair task, one running, one queued
		{CPUSample{NrRunning: 0}, 0},
	} {
		if got := c.cpu.Load(); got != c.want {
			t.Errorf("%+v: load %d, want %d", c.cpu, got, c.want)
		}
	}
}

// A list entry read mid-update (garbage runnable_at, a pid out of range)
// is no stalled task: the monitor must not eject a healthy scheduler.
func TestWatchdogIgnoresGarbageEntries(t *testing.T) {
	for name, bad := range map[string]func(k *fakeKernel, task uint64){
		"runnable_at in the future": func(k *fakeKernel, task uint64) { k.mem.put64(task+80, initialJiffies(250)+999999) },
		"runnable_at before boot":   func(k *fakeKernel, task uint64) { k.mem.put64(task+80, 12) },
		"pid out of range":          func(k *fakeKernel, task uint64) { k.mem.put32(task+8, 1<<30) },
	} {
		k := newFakeKernel(t)
		j0 := initialJiffies(250) + 1000
		k.setJiffies(j0)
		k.mem.put64(0x109000+48, j0+15*250)
		k.attach()
		task := uint64(0x500000)
		k.mem.put64(k.rq[1]+32, pob+task+64)
		k.mem.put64(task+64, pob+k.rq[1]+32)
		k.mem.put64(task+80, j0-2000)
		k.mem.put32(task+8, 42)
		bad(k, task)
		s := k.sampler(t, 2*time.Second)
		for i := range 3 {
			k.setJiffies(j0 + uint64(i)*25)
			if _, err := s.sampleNow(); err != nil {
				t.Fatal(err)
			}
		}
		if w := s.Snapshot().Watchdog; w.Stalled != "" {
			t.Errorf("%s: the monitor acted on %q", name, w.Stalled)
		}
	}
}
