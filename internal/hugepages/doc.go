// Package hugepages reserves 2 MB hugepages for tests that need them
// (performance mode's hugepage-backed guest memory) and gives them back:
// [Ensure] raises /proc/sys/vm/nr_hugepages until enough are free and
// returns a function that restores the old count. Only root may change
// it; without that right Ensure says so and changes nothing.
package hugepages
