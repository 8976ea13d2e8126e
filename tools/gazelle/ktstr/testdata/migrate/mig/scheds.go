// Package mig holds a BUILD file written by an older extension.
package mig

import "github.com/ktstr-go/ktstr"

// Sched has two independent flags.
var Sched = ktstr.Scheduler{
	Name:      "prof",
	GoPackage: "github.com/ktstr-go/ktstr/mig/scx_prof",
	Flags:     []ktstr.Flag{{Name: "x"}, {Name: "y"}},
}
