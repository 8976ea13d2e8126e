// Package removed lost some tests.
package removed
