// Package other declares a scheduler elsewhere.
package other

import "github.com/ktstr-go/ktstr"

// Sched is a scheduler of another package.
var Sched = ktstr.Scheduler{Name: "other", GoPackage: "github.com/ktstr-go/ktstr/sched/scx_demo"}
