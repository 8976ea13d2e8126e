package renamed_test

import (
	"testing"

	rn "github.com/ktstr-go/ktstr/renamed"

	. "github.com/ktstr-go/ktstr"
)

// TestExternal: an external test names the package's scheduler, and
// imports ktstr with a dot.
func TestExternal(t *testing.T) {
	RunProfiles(t, Spec{Scheduler: &rn.Sched, ExcludedFlags: []string{"g"}, Cgroups: []CgroupDef{{Work: Bursty}}})
}
