//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "scx_ktstr: sched_ext schedulers run on Linux only")
	os.Exit(1)
}
