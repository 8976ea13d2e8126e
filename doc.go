// Package ktstr is the test author's API of ktstr-go: scheduler tests that
// run inside a QEMU VM with a synthetic CPU topology.
//
// A ktstr test is an ordinary Go test:
//
//	func TestSteady(t *testing.T) {
//		ktstr.Run(t, ktstr.Spec{
//			Sockets: 1, Cores: 2, Threads: 1,
//			DurationS: 2,
//			Cgroups: []ktstr.CgroupDef{
//				{Name: "a", Workers: 2, Work: ktstr.CpuSpin},
//				{Name: "b", Workers: 2, Work: ktstr.CpuSpin},
//			},
//		})
//	}
//
// On the host, [Run] validates the spec, resolves a kernel (see package
// kernel), packs the test binary with the ktstr init into an initramfs,
// boots QEMU with the topology (package runner) and re-runs this very test
// inside the guest. Inside the guest, [Run] creates the cgroups, starts
// the workers, lets them run for the duration and writes what they
// measured; the host then applies the checks of package verify and
// reports every check as a subtest ("TestSteady/check/gap"), so
// `go test -run`, `-v` and subtests work as usual.
//
// The Spec is plain data written as a composite literal of constants in
// the test function. Keep it that way: tools (the gazelle extension that
// generates Bazel targets) read the attributes from the Go source without
// running it. Unset fields take the defaults of docs/reference.md; verification
// thresholds merge defaults, then the scheduler's, then the test's.
package ktstr
