package examples

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestImpossibleGapIsCaught proves that a check can fail: four spinners
// share two CPUs, so each one waits at least a time slice while another
// runs, and a 1 ms gap limit cannot hold. The test passes only if the run
// fails, and only if it fails on the gap check.
func TestImpossibleGapIsCaught(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Sockets: 1, Cores: 2, Threads: 1,
		DurationS:      2,
		Verify:         ktstr.Verify{MaxGapMs: 1},
		ExpectErr:      true,
		ExpectErrMatch: `FAIL gap: scheduling gap above 1ms`,
	})
}

// TestCpusetIsolation gives each cgroup one LLC of a two-socket machine
// and checks that no worker ran outside its cpuset.
func TestCpusetIsolation(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Sockets: 2, Cores: 2, Threads: 1,
		DurationS: 2,
		Verify:    ktstr.Verify{Isolation: ktstr.On},
		Cgroups: []ktstr.CgroupDef{
			{Name: "llc0", Workers: 2, Cpuset: "0-1"},
			{Name: "llc1", Workers: 2, Cpuset: "2-3"},
		},
	})
}
