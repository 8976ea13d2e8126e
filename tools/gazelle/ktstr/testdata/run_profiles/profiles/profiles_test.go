package profiles

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestEveryProfile runs once per profile and checks every result.
func TestEveryProfile(t *testing.T) {
	results := ktstr.RunProfiles(t, ktstr.Spec{
		Scheduler: &Sched,
		Cores:     4,
		Cgroups: []ktstr.CgroupDef{
			{Name: "a", Work: ktstr.YieldHeavy},
			{Name: "b", Work: ktstr.CpuSpin},
		},
	})
	for name, res := range results {
		if !res.Passed() {
			t.Errorf("profile %s failed", name)
		}
	}
}
