package examples

import (
	"os"
	"testing"

	"github.com/ktstr-go/ktstr"
)

// EnvExampleFault sets the fault mode of TestCompareSubject.
const EnvExampleFault = "KTSTR_EXAMPLE_FAULT"

// TestCompareSubject runs bursty workers and spinners under scx_ktstr
// with the fault mode named by $KTSTR_EXAMPLE_FAULT (none when unset). It
// is the subject of the end-to-end test of "ktstr stats compare"
// (tools/ktstr), which runs it normally twice and once degraded, and
// compares the result files. Normally it passes like TestBurstyKtstr.
func TestCompareSubject(t *testing.T) {
	fault := os.Getenv(EnvExampleFault)
	if fault == "" {
		fault = "none"
	}
	ktstr.Run(t, ktstr.Spec{
		Scheduler:      &KtstrSched,
		ExtraSchedArgs: []string{"--fault=" + fault},
		DurationS:      2,
		Cgroups: []ktstr.CgroupDef{
			{Name: "bursty", Workers: 2, Work: ktstr.Bursty, BurstMs: 2, SleepMs: 2},
			{Name: "spin", Workers: 2, Work: ktstr.CpuSpin},
		},
	})
}
