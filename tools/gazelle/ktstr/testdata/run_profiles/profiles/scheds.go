// Package profiles runs tests once per flag profile.
package profiles

import "github.com/ktstr-go/ktstr"

// Sched has two independent flags.
var Sched = ktstr.Scheduler{
	Name:      "prof",
	GoPackage: "github.com/ktstr-go/ktstr/profiles/scx_prof",
	Flags:     []ktstr.Flag{{Name: "x"}, {Name: "y"}},
}
