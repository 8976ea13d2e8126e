package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ktstr-go/ktstr/internal/gauntlet"
)

func main() {
	out := flag.String("o", "", "the .bzl file to write")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "genvectors: -o FILE is required")
		os.Exit(2)
	}
	if err := os.WriteFile(*out, gauntlet.StarlarkVectors(), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "genvectors: %v\n", err)
		os.Exit(1)
	}
}
