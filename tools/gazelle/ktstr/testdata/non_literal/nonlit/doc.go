// Package nonlit has specs with computed fields.
package nonlit

import "github.com/ktstr-go/ktstr"

// cores is a constant of the package: it is read.
const cores = 2 * 2

// gigabytes is a variable: it is not.
var gigabytes = 4

// Sched has a computed name and flags.
var Sched = ktstr.Scheduler{
	Name:      schedName(),
	GoPackage: "github.com/ktstr-go/ktstr/nonlit/scx_nonlit",
	Flags:     flags,
	Sockets:   1 << 1,
}

var flags = []ktstr.Flag{{Name: "a"}}

func schedName() string { return "nonlit" }
