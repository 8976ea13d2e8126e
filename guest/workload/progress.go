package workload

import (
	"sort"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
)

// The measurement of a work loop, apart from the loop: progress points
// come with their time, and the CPU comes from an injected reader, so
// that gap, migration and latency bookkeeping is unit-tested.

// cpuProbeEvery is how many progress points pass between two CPU probes
// when no gap hints at a migration.
const cpuProbeEvery = 64

// gapProbeNs: a pause longer than this may have moved the worker, so the
// CPU is probed right after it.
const gapProbeNs = 50_000

var sink uint64

// progress tracks a work loop: work units, gaps between progress points,
// the CPUs seen and the migrations between them, wake latencies. Wall
// time and the first gap count from the common start time, so a worker
// that starts late shows it.
type progress struct {
	rep   wire.WorkerReport
	start time.Time
	last  time.Time
	cpus  map[int]bool
	n     uint64
	x     uint64
	lat   samples
	cpu   int        // the CPU seen last
	cpuOf func() int // reads the current CPU
}

// maxMigrationEvents bounds the migrations a report lists one by one
// (Migrations counts them all).
const maxMigrationEvents = 256

// newProgressAt starts the bookkeeping at start (or now, if start is
// later), reading CPUs with cpuOf.
func newProgressAt(start, now time.Time, cpuOf func() int) *progress {
	if now.Before(start) {
		start = now
	}
	cpu := cpuOf()
	return &progress{start: start, last: start, cpus: map[int]bool{cpu: true}, cpu: cpu, cpuOf: cpuOf, x: uint64(start.UnixNano()) | 1}
}

// mark records a progress point at now. The CPU is probed after a pause
// long enough to have moved the worker, and every cpuProbeEvery points.
func (p *progress) mark(now time.Time) {
	gap := uint64(now.Sub(p.last))
	p.last = now
	if gap > gapProbeNs || p.n%cpuProbeEvery == 0 {
		cpu := p.cpuOf()
		p.cpus[cpu] = true
		if cpu != p.cpu {
			if len(p.rep.MigrationEvents) < maxMigrationEvents {
				p.rep.MigrationEvents = append(p.rep.MigrationEvents, wire.Migration{AtNs: uint64(now.Sub(p.start)), From: p.cpu, To: cpu})
			}
			p.cpu = cpu
		}
		if gap > p.rep.MaxGapNs {
			p.rep.MaxGapNs, p.rep.MaxGapCPU, p.rep.MaxGapAtNs = gap, cpu, uint64(now.Sub(p.start))
		}
	}
}

// finishAt closes the bookkeeping at now.
func (p *progress) finishAt(now time.Time) wire.WorkerReport {
	p.rep.WallNs = uint64(now.Sub(p.start))
	p.rep.CPUsUsed = p.rep.CPUsUsed[:0]
	for c := range p.cpus {
		p.rep.CPUsUsed = append(p.rep.CPUsUsed, c)
	}
	sort.Ints(p.rep.CPUsUsed)
	p.lat.fill(&p.rep)
	return p.rep
}
