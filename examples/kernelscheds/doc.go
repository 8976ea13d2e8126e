// Package kernelscheds tests schedulers the project does not own: the
// kernel's own example sched_ext schedulers (tools/sched_ext of Debian's
// linux-source package, built with clang, the tree's libbpf and the
// kernel's BTF by "ktstr kernel scheds", which TestMain runs when they are
// missing). They are C programs linked against libelf and libz, given to
// the harness by Path with no watchdog argument: init gets their shared
// libraries from DT_NEEDED, and the host monitor sets their watchdog.
//
// Under go test the binaries come from the kernel cache (Path); under
// Bazel from the host kernel's repository, which exposes them as
// @ktstr_kernel//:scx_simple and so on (the Bazel field).
package kernelscheds
