// Package plain has no ktstr tests.
package plain

// Double doubles.
func Double(x int) int { return 2 * x }
