// Package ktstr is a stand-in of the ktstr package.
package ktstr

import "testing"

// Spec is a stand-in.
type Spec struct{ Sockets, Cores int }

// Run is a stand-in.
func Run(t *testing.T, spec Spec) {}
