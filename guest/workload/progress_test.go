package workload

import (
	"reflect"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
)

// fakeCPU is a CPU reader that returns the CPUs it is given, in turn.
type fakeCPU struct{ cpus []int }

func (f *fakeCPU) read() int {
	c := f.cpus[0]
	if len(f.cpus) > 1 {
		f.cpus = f.cpus[1:]
	}
	return c
}

func TestProgressGapsAndMigrations(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }
	// The worker starts on CPU 1, is seen on 1 after a short pause, moves
	// to 3 over the long pause, then to 0.
	cpu := &fakeCPU{cpus: []int{1, 1, 3, 0}}
	p := newProgressAt(t0, t0, cpu.read)
	for _, ms := range []float64{0.01, 0.02, 0.2, 0.21, 40, 40.01, 40.5} {
		p.n++
		p.mark(at(ms))
	}
	rep := p.finishAt(at(100))
	if rep.MaxGapNs != uint64(39790*time.Microsecond) || rep.MaxGapCPU != 3 || rep.MaxGapAtNs != uint64(40*time.Millisecond) {
		t.Errorf("max gap %v on CPU %d at %v, want 39.79ms on CPU 3 at 40ms", time.Duration(rep.MaxGapNs), rep.MaxGapCPU, time.Duration(rep.MaxGapAtNs))
	}
	want := []wire.Migration{{AtNs: uint64(40 * time.Millisecond), From: 1, To: 3}, {AtNs: uint64(40500 * time.Microsecond), From: 3, To: 0}}
	if !reflect.DeepEqual(rep.MigrationEvents, want) {
		t.Errorf("migrations %+v, want %+v", rep.MigrationEvents, want)
	}
	if !reflect.DeepEqual(rep.CPUsUsed, []int{0, 1, 3}) || rep.WallNs != uint64(100*time.Millisecond) {
		t.Errorf("CPUs used %v, wall %v; want [0 1 3], 100ms", rep.CPUsUsed, time.Duration(rep.WallNs))
	}
}

func TestProgressLateStart(t *testing.T) {
	t0 := time.Unix(1000, 0)
	// Released 5 ms after the common start: wall time and the first gap
	// count from the start, so the lateness shows.
	p := newProgressAt(t0, t0.Add(5*time.Millisecond), func() int { return 0 })
	p.mark(t0.Add(5 * time.Millisecond))
	rep := p.finishAt(t0.Add(10 * time.Millisecond))
	if rep.MaxGapNs != uint64(5*time.Millisecond) || rep.WallNs != uint64(10*time.Millisecond) {
		t.Errorf("gap %v, wall %v; want 5ms and 10ms", time.Duration(rep.MaxGapNs), time.Duration(rep.WallNs))
	}
	// A start in the future (a clock ahead of the releaser) counts from now.
	p = newProgressAt(t0.Add(time.Second), t0, func() int { return 0 })
	if !p.start.Equal(t0) {
		t.Errorf("start %v, want now (%v)", p.start, t0)
	}
}

func TestLatencyStats(t *testing.T) {
	var s samples
	for i := 1; i <= 100; i++ {
		s.add(float64(i) * 1e3) // 1..100 µs
	}
	var rep wire.WorkerReport
	s.fill(&rep)
	if rep.WakeSamples != 100 || rep.WakeLatencyP99Ns != 100e3 || rep.WakeLatencyMeanNs != 50.5e3 {
		t.Errorf("%d samples, p99 %d, mean %g; want 100, 100000, 50500", rep.WakeSamples, rep.WakeLatencyP99Ns, rep.WakeLatencyMeanNs)
	}
	if rep.WakeLatencyCV < 0.57 || rep.WakeLatencyCV > 0.58 {
		t.Errorf("CV %g, want about 0.5715 (sd 28.87 over mean 50.5)", rep.WakeLatencyCV)
	}
}
