package nonlit

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestComputed: the non-constant fields keep their defaults.
func TestComputed(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Sockets:       2,
		Cores:         cores,
		MemoryMB:      gigabytes * 1024,
		DurationS:     duration(),
		RequiredFlags: requiredFlags(),
		RequiresSMT:   smt,
		Cgroups: []ktstr.CgroupDef{
			{Name: "a", Work: work},
		},
	})
}

// TestComputedSched: a scheduler whose fields are partly computed.
func TestComputedSched(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Scheduler: &Sched, Cgroups: cgroups})
}

// TestHelperSpec: the spec comes from a function.
func TestHelperSpec(t *testing.T) {
	ktstr.Run(t, makeSpec(2))
}

// TestTwice: two runs; the first one counts.
func TestTwice(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Cores: 2})
	ktstr.Run(t, ktstr.Spec{Cores: 4})
}

var (
	smt     = true
	work    = ktstr.Bursty
	cgroups = []ktstr.CgroupDef{{Name: "x"}}
)

func duration() int { return 3 }

func requiredFlags() []string { return nil }

func makeSpec(sockets int) ktstr.Spec { return ktstr.Spec{Sockets: sockets} }
