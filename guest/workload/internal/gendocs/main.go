package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ktstr-go/ktstr/guest/workload"
)

func main() {
	docs := flag.String("docs", workload.DocsPath, "the Markdown document whose work-type table to rewrite")
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
	if doc, err = workload.ReplaceDocs(doc); err != nil {
		return err
	}
	return os.WriteFile(path, doc, 0o644)
}
