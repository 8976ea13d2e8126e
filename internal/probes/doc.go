// Package probes holds the pure parts of auto_repro's probes: which
// kernel functions stand for which sched_ext callbacks ([Callbacks]),
// what each probe records given the function's parameters from the
// kernel's BTF ([FetchArgs]), the crash path named by a sched_ext exit
// dump's backtrace ([CrashPath]), and the events read back from tracefs
// ([ParseTrace]).
//
// The guest attaches the probes as fprobe events of tracefs
// (/sys/kernel/tracing/dynamic_events): ftrace-based entry probes whose
// arguments the kernel resolves from its own BTF, so a task argument is
// recorded as its pid and comm on any kernel version without offsets
// compiled in, and nothing of the scheduler under test is changed.
package probes
