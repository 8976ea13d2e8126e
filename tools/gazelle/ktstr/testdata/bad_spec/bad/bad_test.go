package bad

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestBad declares what no topology can give: gazelle says so with its
// file:line, and loading fails on the same attributes.
func TestBad(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Sockets: 1, Cores: -1, MinLLCs: 16})
}
