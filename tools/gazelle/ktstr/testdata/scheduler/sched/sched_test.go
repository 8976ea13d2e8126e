package sched

import (
	"testing"

	"github.com/ktstr-go/ktstr"
	"github.com/ktstr-go/ktstr/other"
)

// TestDemo: the flag profiles with steal, without borrow.
func TestDemo(t *testing.T) {
	ktstr.RunProfiles(t, ktstr.Spec{
		Scheduler:     &DemoSched,
		RequiredFlags: []string{"steal"},
		ExcludedFlags: []string{"borrow"},
		DurationS:     2,
		Cgroups: []ktstr.CgroupDef{
			{Name: "cg_a", Workers: 4, Work: ktstr.Bursty},
		},
	})
}

// TestDemoTopology overrides the scheduler's topology.
func TestDemoTopology(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Scheduler: &DemoSched, Sockets: 1})
}

// TestHost: a host binary cannot be packaged.
func TestHost(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Scheduler: &HostSched, ExpectErr: true})
}

// TestPtr: a var holding a pointer.
func TestPtr(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Scheduler: PtrSched})
}

// TestInline: a scheduler declared in the spec.
func TestInline(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Scheduler: &ktstr.Scheduler{
		Name:      "inline",
		GoPackage: "github.com/ktstr-go/ktstr/sched/scx_demo",
		Flags:     []ktstr.Flag{{Name: "a"}, {Name: "b", Requires: []string{"a"}}},
	}})
}

// TestOther: a scheduler of another package is not supported.
func TestOther(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Scheduler: &other.Sched, DurationS: 5})
}

// TestElsewhere: the scheduler's package cannot be resolved.
func TestElsewhere(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Scheduler: &ElsewhereSched})
}

// TestVendor: the scheduler's package resolves to another repository.
func TestVendor(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Scheduler: &VendorSched})
}

// TestKernelSched: the Bazel field becomes scheduler_binary.
func TestKernelSched(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Scheduler: &KernelSched})
}
