// Package stats holds the small statistics that both the guest (workers
// summarising their samples) and the host (the checks of package verify)
// compute, so that neither side imports the other.
package stats
