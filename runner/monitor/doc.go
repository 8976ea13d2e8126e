// Package monitor samples a running guest kernel's scheduler state from
// the host, through the guest's shared RAM (see runner/guestmem), with no
// instrumentation in the guest and no help from the scheduler under test.
//
// What to read comes from the kernel itself: struct layouts from its BTF
// ([LoadLayout], with cilium/ebpf's btf package), symbol addresses from
// the guest's /proc/kallsyms (read once by init before the test starts,
// and cached per kernel) or a System.map kept beside the kernel. Kernel
// virtual addresses are translated to guest-physical ones through the
// kernel text mapping, the direct map and, for anything else (vmalloc'd
// per-CPU chunks), a walk of the kernel's page tables ([Translator]).
//
// Every interval (100 ms by default) a [Sampler] reads, per CPU, the
// runqueue's nr_running and clock, sched_ext's nr_running and local DSQ
// depth, and the event counters of the running sched_ext scheduler
// (select-cpu fallback, dispatch keep-last and the others the kernel
// keeps). It can also override the scheduler's watchdog timeout in guest
// memory ([Sampler] with a WatchdogTimeout). The samples are judged by
// verify's monitor checks.
package monitor
