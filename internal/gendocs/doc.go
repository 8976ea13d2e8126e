// Command gendocs rewrites the generated tables of docs/reference.md: the
// work types (workload.Markdown) and the canned scenarios
// (scenario.Markdown). The preset table is topology's (go generate
// ./topology).
package main
