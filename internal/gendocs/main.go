package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ktstr-go/ktstr/guest/scenario"
	"github.com/ktstr-go/ktstr/guest/workload"
)

func main() {
	docs := flag.String("docs", workload.DocsPath, "the Markdown document whose tables to rewrite")
	flag.Parse()
	if err := run(*docs); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, replace := range []func([]byte) ([]byte, error){workload.ReplaceDocs, scenario.ReplaceDocs} {
		if doc, err = replace(doc); err != nil {
			return err
		}
	}
	return os.WriteFile(path, doc, 0o644)
}
