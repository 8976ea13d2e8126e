// Package renamed imports ktstr under another name.
package renamed

import kt "github.com/ktstr-go/ktstr"

// Sched is declared with the renamed import.
var Sched = kt.Scheduler{
	Name:      "renamed",
	GoPackage: "github.com/ktstr-go/ktstr/renamed/scx_renamed",
	Flags:     []kt.Flag{{Name: "f"}, {Name: "g", Requires: []string{"f"}}},
}
