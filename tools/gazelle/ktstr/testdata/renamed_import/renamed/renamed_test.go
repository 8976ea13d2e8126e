package renamed

import (
	"testing"

	k "github.com/ktstr-go/ktstr"
	"github.com/ktstr-go/ktstr/guest/workload"
)

// TestRenamed: k.Run, k.Spec, k.Bursty and workload.YieldHeavy.
func TestRenamed(t *testing.T) {
	k.Run(t, k.Spec{
		Scheduler: &Sched,
		Cores:     4,
		Cgroups: []k.CgroupDef{
			{Name: "a", Work: k.Bursty},
			{Name: "b", Work: workload.YieldHeavy},
		},
	})
}

// TestNotKtstr: a Run of another package is not a ktstr run.
func TestNotKtstr(t *testing.T) {
	ktstr := struct{ Run func(*testing.T, int) }{func(*testing.T, int) {}}
	ktstr.Run(t, 1)
}
