package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ktstr-go/ktstr/topology"
)

func main() {
	out := flag.String("o", topology.StarlarkPresetsPath, "the Starlark preset file to write")
	docs := flag.String("docs", "", "a Markdown document whose preset table block to rewrite")
	flag.Parse()
	if err := run(*out, *docs); err != nil {
		fmt.Fprintln(os.Stderr, "genbzl:", err)
		os.Exit(1)
	}
}

func run(out, docs string) error {
	if err := os.WriteFile(out, topology.Starlark(), 0o644); err != nil {
		return err
	}
	if docs == "" {
		return nil
	}
	doc, err := os.ReadFile(docs)
	if err != nil {
		return err
	}
	doc, err = topology.ReplaceDocsPresets(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(docs, doc, 0o644)
}
