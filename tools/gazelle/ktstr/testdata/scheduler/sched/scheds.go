// Package sched declares schedulers under test.
package sched

import "github.com/ktstr-go/ktstr"

// DemoSched is built from source. Its flags: llc, borrow, and steal, which
// needs llc; lb needs llc and steal.
var DemoSched = ktstr.Scheduler{
	Name:        "demo",
	GoPackage:   "github.com/ktstr-go/ktstr/sched/scx_demo",
	WatchdogArg: "--timeout-ms=%d",
	Flags: []ktstr.Flag{
		{Name: "llc", Args: []string{"--llc"}},
		{Name: "borrow", Args: []string{"--borrow"}},
		{Name: "steal", Args: []string{"--steal"}, Requires: []string{"llc"}},
		ktstr.Flag{Name: "lb", Requires: []string{"steal", "llc"}},
	},
	Sockets: 2, Cores: 2, Threads: 1,
}

var (
	// HostSched is a binary of the host.
	HostSched = ktstr.Scheduler{
		Name:  "host",
		Path:  "/usr/bin/scx_host",
		Flags: []ktstr.Flag{{Name: "fast"}},
	}
	// PtrSched is a pointer.
	PtrSched = &ktstr.Scheduler{Name: "ptr", GoPackage: "github.com/ktstr-go/ktstr/sched/scx_demo", Cores: 4}
)

// ElsewhereSched is a Go package gazelle knows nothing about.
var ElsewhereSched = ktstr.Scheduler{Name: "elsewhere", GoPackage: "example.com/elsewhere/scx_elsewhere"}

// VendorSched is found through a resolve directive.
var VendorSched = ktstr.Scheduler{Name: "vendor", GoPackage: "example.com/vendor/scx_vendor"}

// KernelSched is a binary built outside Bazel: a host Path for go test,
// and its Bazel label for the rule.
var KernelSched = ktstr.Scheduler{Name: "scx_simple", Ops: "simple", Path: "/opt/scx_simple", Bazel: "@ktstr_kernel//:scx_simple"}
