package examples

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestMissingSchedulerBinary: a scheduler whose binary does not exist is
// reported as such, before any VM boots.
func TestMissingSchedulerBinary(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{
		Scheduler:      &MissingSched,
		ExpectErr:      true,
		ExpectErrMatch: `scheduler binary /nonexistent/scx_missing of scheduler scx_missing not found`,
	})
}
