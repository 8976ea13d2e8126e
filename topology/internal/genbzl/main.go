package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ktstr-go/ktstr/topology"
)

func main() {
	out := flag.String("o", topology.StarlarkPresetsPath, "output file")
	flag.Parse()
	if err := os.WriteFile(*out, topology.Starlark(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genbzl:", err)
		os.Exit(1)
	}
}
