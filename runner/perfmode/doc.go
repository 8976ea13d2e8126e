// Package perfmode plans performance mode: what the runner does so that
// a test's timings measure the scheduler under test rather than the host
// it shares.
//
// A [Host] is what the machine offers ([Current] reads it from sysfs and
// procfs, [ReadHost] from a saved tree): its usable CPUs, last-level
// cache groups, NUMA nodes with their free 2 MB hugepages, its load, its
// clock source and whether this process may use SCHED_FIFO. [NewPlan]
// checks a guest topology against it, as the reference harness does: a
// vCPU per host CPU and one more host CPU for QEMU's own threads, a host
// LLC group per guest LLC; a host that cannot give that is an
// [*UnavailableError] (the test skips, or fails when skipping is not
// allowed), never a silent run without isolation. Otherwise the [Plan]
// maps each guest LLC onto a host LLC group and each vCPU onto a host CPU
// of it, binds each guest NUMA node's memory to the host node of those
// CPUs, backs it with pre-allocated hugepages when enough are free, and
// leaves the remaining CPUs to QEMU's service threads and the monitor.
//
// What the plan could not give (no hugepages, no NUMA information, no
// right to SCHED_FIFO) and what the runner could not apply once QEMU ran
// (per-vCPU threads under single-threaded TCG) are [Part]s with the
// reason, reported once with the test; warnings (a loaded host, an
// unstable TSC) do not stop the run. [ParseNumaMaps] reads
// /proc/PID/numa_maps, which is how the runner proves the binding and
// the page size it asked for.
package perfmode
