package examples

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestBurstyEEVDF: workers that run 2 ms and sleep 2 ms under EEVDF wake
// up promptly and keep their pace.
func TestBurstyEEVDF(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Sockets: 2, Cores: 2, Threads: 1,
		DurationS: 2,
		Verify: ktstr.Verify{
			MinIterationRate:    50,
			MaxMigrationRatio:   0.3,
			MaxP99WakeLatencyNs: 100_000_000,
		},
		Cgroups: []ktstr.CgroupDef{
			{Name: "bursty", Workers: 2, Work: ktstr.Bursty, BurstMs: 2, SleepMs: 2},
		},
	})
}
