package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/runner"
)

// schedFlags collects repeated -sched name=path flags.
type schedFlags []string

func (s *schedFlags) String() string     { return strings.Join(*s, ",") }
func (s *schedFlags) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("mkinitramfs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	initBin := fs.String("init", "", "static ktstr-init binary (required)")
	testBin := fs.String("test", "", "test binary (required)")
	out := fs.String("o", "", "output archive (required)")
	var scheds schedFlags
	fs.Var(&scheds, "sched", "scheduler binary as name=path (repeatable); it lands at "+wire.SchedDir+"/name")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *initBin == "" || *testBin == "" || *out == "" {
		fmt.Fprintln(stderr, "mkinitramfs: -init, -test and -o are required")
		fs.Usage()
		return 2
	}
	files := []runner.File{
		{Path: "/init", Source: *initBin, Mode: 0o755},
		{Path: wire.TestBinaryPath, Source: *testBin, Mode: 0o755, WithLibs: true},
	}
	for _, s := range scheds {
		name, path, ok := strings.Cut(s, "=")
		if !ok || name == "" || path == "" || strings.Contains(name, "/") {
			fmt.Fprintf(stderr, "mkinitramfs: -sched %q: want name=path\n", s)
			return 2
		}
		files = append(files, runner.File{Path: wire.SchedDir + "/" + name, Source: path, Mode: 0o755, WithLibs: true})
	}
	if err := runner.WriteInitramfs(*out, files, true); err != nil {
		fmt.Fprintf(stderr, "mkinitramfs: %v\n", err)
		return 1
	}
	return 0
}
