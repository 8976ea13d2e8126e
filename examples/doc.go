// Package examples holds example ktstr tests: each test function declares
// a VM (topology, scenario, checks) with ktstr.Run and runs under
// `go test ./examples/...`. They double as the project's end-to-end tests:
// EEVDF steady state, the guest's view of a topology, and negative tests
// that prove a check can fail.
package examples
