package examples

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestPolicies runs one cgroup per scheduling policy under EEVDF: every
// worker runs under the policy (and priority) it asked for, as the kernel
// reports it, and the fair-class workers still make progress beside a
// real-time one that sleeps half the time.
func TestPolicies(t *testing.T) {
	res := ktstr.Run(t, ktstr.Spec{
		Sockets: 1, Cores: 2, Threads: 1,
		DurationS: 2,
		Cgroups: []ktstr.CgroupDef{
			{Name: "normal", Workers: 1},
			{Name: "batch", Workers: 1, Policy: ktstr.PolicyBatch},
			{Name: "idle", Workers: 1, Policy: ktstr.PolicyIdle},
			{Name: "fifo", Workers: 1, Policy: ktstr.PolicyFIFO, Priority: 10, Work: ktstr.Bursty, BurstMs: 5, SleepMs: 5},
			{Name: "rr", Workers: 1, Policy: ktstr.PolicyRR, Priority: 20, Work: ktstr.Bursty, BurstMs: 5, SleepMs: 5},
		},
		// An idle-policy worker beside normal ones gets a sliver of CPU:
		// its gaps are long by design.
		Verify: ktstr.Verify{MaxGapMs: 60000, MaxSpreadPct: 100},
	})
	want := map[string]struct {
		policy   ktstr.Policy
		priority int
	}{
		"normal": {ktstr.PolicyNormal, 0},
		"batch":  {ktstr.PolicyBatch, 0},
		"idle":   {ktstr.PolicyIdle, 0},
		"fifo":   {ktstr.PolicyFIFO, 10},
		"rr":     {ktstr.PolicyRR, 20},
	}
	if len(res.Workers) != len(want) {
		t.Fatalf("%d worker reports, want %d", len(res.Workers), len(want))
	}
	for _, w := range res.Workers {
		if got := want[w.Cgroup]; w.Policy != string(got.policy) || w.Priority != got.priority {
			t.Errorf("%s ran under %s priority %d, want %s priority %d", w.Name(), w.Policy, w.Priority, got.policy, got.priority)
		}
	}
}
