package removed

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestKept is still here, with fewer attributes.
func TestKept(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Sockets: 2})
}

// TestRenamed's target was renamed by hand.
func TestRenamed(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Cores: 4})
}

// TestNew is new.
func TestNew(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{})
}
