// Package prebuilt tests the host monitor on a scheduler the harness did
// not build: scx_ktstr compiled beforehand into a plain binary and named
// by Scheduler.Path, without a watchdog argument, as a scheduler written
// by someone else would be. Its tests run under go test (TestMain builds
// the binary on the host); Bazel's rule does not pack host binaries yet,
// so the package has no Bazel targets.
package prebuilt
