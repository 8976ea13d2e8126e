// Command gendocs rewrites the work-type table of docs/reference.md from
// the workload package (see workload.Markdown).
package main
