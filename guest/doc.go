// Package guest is the inside of a ktstr VM: the PID 1 init that prepares
// the machine, runs one test and reports.
//
// [Main] is the whole of init (guest/cmd/ktstr-init is a two-line main
// around it). It mounts proc, sys, devtmpfs, tmpfs, cgroup2, debugfs,
// tracefs and bpffs, finds the result channel (the virtio-serial port
// named [wire.PortName]), reads the [wire.Request] the host placed in the
// initramfs, reports the guest's view of its CPU topology, prepares the
// cgroup hierarchy, runs the test binary under a timeout, sends what
// happened, and powers the machine off. Init never exits on its own and
// never blocks forever: every path ends in a power-off, and a panic in
// init is reported on the channel before it.
//
// A request with a Shell runs a shell session instead of a test binary
// (ktstr shell, ktstr verifier): busybox's applets are installed when
// the initramfs has one, the command runs with its output captured (or
// an interactive shell on the console), and its exit status is reported.
// Once a scheduler is enabled, init lists the BPF programs loaded with
// the verifier's instruction counts; a scheduler request with Probes
// (auto_repro's second run) attaches fprobe events of tracefs on the
// sched_ext callbacks before the scheduler starts and reports the last
// calls when it dies or the test ends (see internal/probes).
//
// Subpackages hold the parts a test binary uses inside the guest:
// cgroup (the cgroup v2 hierarchy), workload (worker processes),
// sysinfo (topology as sysfs sees it) and wire (the message format).
package guest
