package workload

import (
	"sort"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/internal/stats"
)

// maxWakeSamples bounds the memory of wake-latency samples per worker;
// beyond it, samples are kept by reservoir sampling, so the kept ones
// stay a uniform sample of the whole run.
const maxWakeSamples = 1 << 16

// samples collects wake latencies (nanoseconds).
type samples struct {
	xs   []float64
	seen uint64
	rng  uint64
}

func (s *samples) add(ns float64) {
	s.seen++
	if len(s.xs) < maxWakeSamples {
		s.xs = append(s.xs, ns)
		return
	}
	// xorshift: a cheap, deterministic source is enough to choose slots.
	s.rng ^= s.rng<<13 | 1
	s.rng ^= s.rng >> 7
	s.rng ^= s.rng << 17
	if j := s.rng % s.seen; j < maxWakeSamples {
		s.xs[j] = ns
	}
}

// fill writes the count, p99, mean and CV into rep.
func (s *samples) fill(rep *wire.WorkerReport) {
	if len(s.xs) == 0 {
		return
	}
	xs := append([]float64(nil), s.xs...)
	sort.Float64s(xs)
	rep.WakeSamples = s.seen
	rep.WakeLatencyP99Ns = uint64(percentile(xs, 99))
	mean, cv := stats.MeanCV(xs)
	rep.WakeLatencyMeanNs = mean
	if mean > 0 {
		rep.WakeLatencyCV = cv
	}
}

// percentile is the q-th percentile of sorted xs (nearest rank).
func percentile(sorted []float64, q int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted) * q) / 100
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}
