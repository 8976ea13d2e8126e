package examples

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestSteady: two cgroups of two CPU spinners on one socket with two
// cores, under EEVDF. Nobody starves, the cgroups share fairly and no
// worker waits long.
func TestSteady(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Sockets: 1, Cores: 2, Threads: 1,
		DurationS: 2,
		Cgroups: []ktstr.CgroupDef{
			{Name: "cg_a", Workers: 2, Work: ktstr.CpuSpin},
			{Name: "cg_b", Workers: 2, Work: ktstr.CpuSpin},
		},
	})
}
