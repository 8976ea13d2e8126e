package ktstr

import "testing"

// TestSelf: the package's own test names Run and Spec unqualified.
func TestSelf(t *testing.T) {
	Run(t, Spec{Sockets: 2})
}

func TestUnit(t *testing.T) {}
