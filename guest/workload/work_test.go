package workload

import (
	"reflect"
	"testing"

	"github.com/ktstr-go/ktstr/guest/wire"
)

func TestGroups(t *testing.T) {
	for _, tt := range []struct {
		w       WorkType
		p       Params
		n, size int
		ok      bool
	}{
		{CpuSpin, Params{}, 3, 1, true},
		{PipeIo, Params{}, 4, 2, true},
		{PipeIo, Params{}, 3, 2, false},
		{PipeIo, Params{}, 0, 2, false},
		{FutexPingPong, Params{}, 2, 2, true},
		{CachePipe, Params{}, 1, 2, false},
		{FutexFanOut, Params{}, 10, 5, true},
		{FutexFanOut, Params{FanOut: 2}, 6, 3, true},
		{FutexFanOut, Params{FanOut: 2}, 5, 3, false},
	} {
		if got := GroupSize(tt.w, tt.p.WithDefaults(tt.w)); got != tt.size {
			t.Errorf("GroupSize(%s, %+v) = %d, want %d", tt.w, tt.p, got, tt.size)
		}
		if err := ValidateGroups(tt.w, tt.p, tt.n); (err == nil) != tt.ok {
			t.Errorf("ValidateGroups(%s, %+v, %d) = %v, want ok=%v", tt.w, tt.p, tt.n, err, tt.ok)
		}
	}
}

func TestParamDefaults(t *testing.T) {
	for _, tt := range []struct {
		w    WorkType
		in   Params
		want Params
	}{
		{Bursty, Params{}, Params{BurstMs: 50, SleepMs: 100}},
		{Bursty, Params{BurstMs: 5}, Params{BurstMs: 5, SleepMs: 100}},
		{PipeIo, Params{}, Params{BurstIters: 1024}},
		{FutexPingPong, Params{}, Params{SpinIters: 1024}},
		{CachePressure, Params{}, Params{SizeKB: 32, Stride: 64}},
		{CacheYield, Params{Stride: 8}, Params{SizeKB: 32, Stride: 8}},
		{CachePipe, Params{}, Params{SizeKB: 32, BurstIters: 1024}},
		{FutexFanOut, Params{}, Params{FanOut: 4, SpinIters: 1024}},
		{CpuSpin, Params{}, Params{}},
	} {
		if got := tt.in.WithDefaults(tt.w); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %+v.WithDefaults = %+v, want %+v", tt.w, tt.in, got, tt.want)
		}
	}
}

func TestSamplesReservoir(t *testing.T) {
	var s samples
	for i := range 3 * maxWakeSamples {
		s.add(float64(i))
	}
	if len(s.xs) != maxWakeSamples || s.seen != 3*maxWakeSamples {
		t.Fatalf("kept %d of %d, want %d of %d", len(s.xs), s.seen, maxWakeSamples, 3*maxWakeSamples)
	}
	// A uniform sample of 0..3N-1: about a third of it below N.
	low := 0
	for _, x := range s.xs {
		if x < maxWakeSamples {
			low++
		}
	}
	if frac := float64(low) / maxWakeSamples; frac < 0.28 || frac > 0.39 {
		t.Errorf("%.2f of the kept samples come from the first third of the run, want about 0.33", frac)
	}
	var rep wire.WorkerReport
	s.fill(&rep)
	if rep.WakeSamples != 3*maxWakeSamples || rep.WakeLatencyP99Ns < uint64(28*maxWakeSamples/10) {
		t.Errorf("report: %d samples, p99 %d; want every sample counted and a p99 near the top", rep.WakeSamples, rep.WakeLatencyP99Ns)
	}
}
