package examples

import "github.com/ktstr-go/ktstr"

// KtstrSched is the example sched_ext scheduler of examples/scheds/scx_ktstr,
// built from source by the harness. Its flags: llc (one queue per LLC),
// borrow (an idle CPU may take work from another LLC's queue) and steal
// (actively steal from the busiest LLC; needs llc).
var KtstrSched = ktstr.Scheduler{
	Name:        "ktstr",
	GoPackage:   "github.com/ktstr-go/ktstr/examples/scheds/scx_ktstr",
	WatchdogArg: "--timeout-ms=%d",
	Flags: []ktstr.Flag{
		{Name: "llc", Args: []string{"--llc"}},
		{Name: "borrow", Args: []string{"--borrow"}},
		{Name: "steal", Args: []string{"--steal"}, Requires: []string{"llc"}},
	},
	Sockets: 2, Cores: 2, Threads: 1,
}

// MissingSched names a binary that does not exist.
var MissingSched = ktstr.Scheduler{
	Name: "scx_missing",
	Path: "/nonexistent/scx_missing",
}
