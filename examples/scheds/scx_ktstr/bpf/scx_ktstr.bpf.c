// SPDX-License-Identifier: GPL-2.0
/*
 * scx_ktstr - an example sched_ext scheduler for ktstr's own tests.
 *
 * Normal operation is a plain FIFO scheduler:
 *
 *  - select_cpu asks the kernel's default idle picker for a CPU and, when
 *    that CPU is idle, inserts the waking task straight into its local DSQ;
 *  - enqueue appends every other task to a shared DSQ (or, with llc_mode,
 *    to the DSQ of the LLC of the task's CPU) and kicks an idle CPU;
 *  - dispatch moves the first task of that DSQ to the local DSQ; with
 *    borrow an idle CPU whose LLC DSQ is empty may take work from the other
 *    LLCs, with steal a CPU whose LLC DSQ is empty takes from the busiest
 *    other LLC.
 *
 * Fault modes, for negative tests (rodata "fault"):
 *
 *  1 stall:       tasks go to a DSQ that is never consumed; the kernel's
 *                 watchdog ejects the scheduler (runnable task stall).
 *  2 degrade:     every CPU runs SCX tasks only within a run window of
 *                 KTSTR_DEGRADE_RUN_NS per KTSTR_DEGRADE_PERIOD_NS (5%
 *                 of the time); per-CPU BPF timers end the window and kick
 *                 the CPU when it may run again.
 *  3 scattershot: every enqueue inserts the task into the local DSQ of a
 *                 random allowed CPU (never the one it is on) with a 1 ms
 *                 slice, which the CPU's timer enforces.
 *  4 pile:        every enqueue inserts the task into the local DSQ of the
 *                 first CPU it may use: tasks pile up on one CPU while the
 *                 others idle. Every task still runs (no stall, no
 *                 starvation); the local DSQ depth and the runqueue
 *                 imbalance show it.
 *  5 fallback:    select_cpu returns a CPU the task may not use, when there
 *                 is one, so the kernel falls back to a CPU of its own
 *                 choice on every such wakeup (SCX_EV_SELECT_CPU_FALLBACK).
 *  6 keeplast:    the ops do not set SCX_OPS_ENQ_LAST (user space clears
 *                 it): a CPU with a single task whose slice ends keeps
 *                 running it without asking the scheduler
 *                 (SCX_EV_DISPATCH_KEEP_LAST); the tick ends every slice, so
 *                 that this happens once a tick.
 *
 * Writing 1 to key 0 of the ktstr_ctl map makes the next dispatch or tick
 * call scx_bpf_error("host-triggered crash via ktstr_ctl").
 *
 * Compiled with -DKTSTR_FAIL_VERIFY, dispatch dereferences a map value
 * without a NULL check so that the verifier rejects the object.
 */
#include "vmlinux.h"
#include "ktstr_bpf.h"

char _license[] SEC("license") = "GPL";

#define KTSTR_MAX_CPUS 256
#define KTSTR_MAX_LLCS 256

/* User DSQ ids (no SCX_DSQ_FLAG_BUILTIN bit). */
#define KTSTR_SHARED_DSQ 0x100ULL
#define KTSTR_STALL_DSQ 0x101ULL
#define KTSTR_LLC_DSQ_BASE 0x1000ULL
#define KTSTR_LLC_DSQ(llc) (KTSTR_LLC_DSQ_BASE + (llc))

enum ktstr_fault {
	KTSTR_FAULT_NONE = 0,
	KTSTR_FAULT_STALL = 1,
	KTSTR_FAULT_DEGRADE = 2,
	KTSTR_FAULT_SCATTERSHOT = 3,
	KTSTR_FAULT_PILE = 4,
	KTSTR_FAULT_FALLBACK = 5,
	KTSTR_FAULT_KEEPLAST = 6,
};

#define KTSTR_DEGRADE_RUN_NS (2ULL * 1000 * 1000)     /* 2 ms ... */
#define KTSTR_DEGRADE_PERIOD_NS (40ULL * 1000 * 1000) /* ... per 40 ms */
#define KTSTR_SCATTER_SLICE_NS (1000ULL * 1000)	      /* 1 ms */
#define KTSTR_SCATTER_TRIES 4

/* ---- options, set by user space before load ----------------------------- */

const volatile __u32 nr_cpus = 1;		  /* CPUs described by cpu_llc */
const volatile __u32 nr_llcs = 1;		  /* LLC ids are 0..nr_llcs-1 */
const volatile __u32 cpu_llc[KTSTR_MAX_CPUS];	  /* cpu -> LLC id */
const volatile __u32 llc_mode;			  /* one DSQ per LLC */
const volatile __u32 borrow;			  /* idle CPUs take other LLCs' work */
const volatile __u32 steal;			  /* take from the busiest other LLC */
const volatile __u64 slice_ns = 5000ULL * 1000;	  /* time slice */
const volatile __u32 timeout_ms;		  /* watchdog, as set in ops (0: kernel default) */
const volatile __u32 fault;			  /* enum ktstr_fault */

/* ---- state read by user space ------------------------------------------- */

/* Filled in by ktstr_exit; kind is written last. */
struct ktstr_exit_info {
	__s32 kind;
	__s32 pad;
	__s64 exit_code;
	char reason[128];
	char msg[1024];
};

struct ktstr_exit_info exit_info;

struct ktstr_cpu_stats {
	__u64 enqueues;	     /* ops.enqueue calls */
	__u64 dispatches;    /* tasks moved from a DSQ to the local DSQ */
	__u64 local_inserts; /* tasks inserted straight into a local DSQ */
	__u64 borrows;	     /* moves from another LLC's DSQ (borrow) */
	__u64 steals;	     /* moves from the busiest other LLC (steal) */
	__u64 scatters;	     /* scattershot inserts to a random CPU */
	__u64 gated;	     /* degrade: dispatches refused by the gate */
	__u64 piled;	     /* pile: inserts into the first allowed CPU */
	__u64 forbidden;     /* fallback: forbidden CPUs select_cpu chose */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ktstr_cpu_stats);
} ktstr_stats SEC(".maps");

/* Key 0: write 1 to make the scheduler fail (see check_ctl). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ktstr_ctl SEC(".maps");

/*
 * Per-CPU timers: degrade ends run windows and reopens gates with them,
 * scattershot ends its short slices (the tick alone, at HZ=250, would let
 * a task run 4 ms).
 */
enum {
	KTSTR_TIMER_IDLE = 0,
	KTSTR_TIMER_RUN_END = 1,   /* degrade: the run window ends */
	KTSTR_TIMER_GATE_OPEN = 2, /* degrade: the gate opens again */
	KTSTR_TIMER_SLICE_END = 3, /* scattershot: the short slice ends */
};

struct ktstr_cpu_timer {
	struct bpf_timer timer;
	__u32 phase;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KTSTR_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct ktstr_cpu_timer);
} ktstr_timers SEC(".maps");

/* degrade: when each CPU may dispatch again, and when its run window ends. */
__u64 gate_open_at[KTSTR_MAX_CPUS];
__u64 run_end_at[KTSTR_MAX_CPUS];

/* ---- small helpers --------------------------------------------------------- */

static __always_inline struct ktstr_cpu_stats *stats(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&ktstr_stats, &key);
}

#define STAT_INC(field)                                  \
	do {                                             \
		struct ktstr_cpu_stats *s_ = stats();    \
		if (s_)                                  \
			s_->field++;                     \
	} while (0)

static __always_inline __u32 cpu_slot(__s32 cpu)
{
	return (__u32)cpu & (KTSTR_MAX_CPUS - 1);
}

static __always_inline __u32 llc_of(__s32 cpu)
{
	if (cpu < 0 || cpu >= KTSTR_MAX_CPUS)
		return 0;
	return cpu_llc[cpu_slot(cpu)];
}

static __always_inline void insert(struct task_struct *p, __u64 dsq_id,
				   __u64 slice, __u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_insert___v2))
		scx_bpf_dsq_insert___v2(p, dsq_id, slice, enq_flags);
	else if (bpf_ksym_exists(scx_bpf_dispatch))
		scx_bpf_dispatch(p, dsq_id, slice, enq_flags);
}

static __always_inline _Bool move_to_local(__u64 dsq_id)
{
	if (bpf_ksym_exists(scx_bpf_dsq_move_to_local___v2))
		return scx_bpf_dsq_move_to_local___v2(dsq_id, 0);
	if (bpf_ksym_exists(scx_bpf_consume))
		return scx_bpf_consume(dsq_id);
	return 0;
}

/* The host's crash switch: ktstr_ctl[0] == 1 fails the scheduler. */
static __always_inline void check_ctl(void)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ktstr_ctl, &key);

	if (v && *v == 1)
		scx_bpf_error("host-triggered crash via ktstr_ctl");
}

/* Kick one idle CPU of @p's allowed CPUs so that it comes to dispatch. */
static __always_inline void kick_idle_for(struct task_struct *p, __u32 llc)
{
	__s32 cpu;
	__u32 i;

	if (llc_mode && !borrow && !steal) {
		/* Only a CPU of the task's LLC can take it. */
		for (i = 0; i < KTSTR_MAX_CPUS && i < nr_cpus; i++) {
			if (cpu_llc[i] != llc ||
			    !bpf_cpumask_test_cpu(i, p->cpus_ptr))
				continue;
			if (scx_bpf_test_and_clear_cpu_idle(i)) {
				scx_bpf_kick_cpu(i, SCX_KICK_IDLE);
				return;
			}
		}
		return;
	}
	cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
	if (cpu >= 0)
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
}

/* ---- per-CPU timers (degrade, scattershot) and degrade --------------------- */

static int cpu_timer_fn(void *map, int *key, struct ktstr_cpu_timer *t)
{
	__u32 cpu = (__u32)*key;
	__u64 now, open;

	if (cpu >= KTSTR_MAX_CPUS)
		return 0;

	if (t->phase == KTSTR_TIMER_RUN_END) {
		/* End the run window: take the CPU away from its task. */
		scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
		now = bpf_ktime_get_ns();
		open = gate_open_at[cpu_slot(cpu)];
		t->phase = KTSTR_TIMER_GATE_OPEN;
		bpf_timer_start(&t->timer, open > now + 1000 ? open - now : 1000, 0);
		return 0;
	}
	if (t->phase == KTSTR_TIMER_GATE_OPEN) {
		/* The gate is open again: let an idle CPU dispatch. */
		t->phase = KTSTR_TIMER_IDLE;
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
		return 0;
	}
	if (t->phase == KTSTR_TIMER_SLICE_END) {
		/* Whatever runs there goes back through enqueue. */
		t->phase = KTSTR_TIMER_IDLE;
		scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
	}
	return 0;
}

/* May @slot's CPU run SCX tasks at @now: is its gate open or its window? */
static __always_inline _Bool degrade_may_run(__u32 slot, __u64 now)
{
	return now >= gate_open_at[slot] || now < run_end_at[slot];
}

/*
 * A CPU whose gate is open starts a run window of KTSTR_DEGRADE_RUN_NS and
 * closes its gate for KTSTR_DEGRADE_PERIOD_NS; within the window it may
 * dispatch as it likes, after it nothing. The window's timer takes the CPU
 * away from its task at the end of the window and kicks the CPU when the
 * gate opens again.
 */
static __always_inline void degrade_dispatch(__s32 cpu)
{
	struct ktstr_cpu_timer *t;
	__u32 slot = cpu_slot(cpu);
	__u64 now = bpf_ktime_get_ns();

	if (now >= gate_open_at[slot]) {
		/* Open a window only when there is something to run. */
		if (scx_bpf_dsq_nr_queued(KTSTR_SHARED_DSQ) <= 0)
			return;
		gate_open_at[slot] = now + KTSTR_DEGRADE_PERIOD_NS;
		run_end_at[slot] = now + KTSTR_DEGRADE_RUN_NS;
		t = bpf_map_lookup_elem(&ktstr_timers, &slot);
		if (t) {
			t->phase = KTSTR_TIMER_RUN_END;
			bpf_timer_start(&t->timer, KTSTR_DEGRADE_RUN_NS, 0);
		}
	} else if (now >= run_end_at[slot]) {
		STAT_INC(gated);
		return;
	}
	if (move_to_local(KTSTR_SHARED_DSQ))
		STAT_INC(dispatches);
}

/* Kick an idle CPU that may run now, if there is one. */
static __always_inline void degrade_kick(struct task_struct *p)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 i;

	for (i = 0; i < KTSTR_MAX_CPUS && i < nr_cpus; i++) {
		if (!degrade_may_run(i, now) ||
		    !bpf_cpumask_test_cpu(i, p->cpus_ptr))
			continue;
		if (scx_bpf_test_and_clear_cpu_idle(i)) {
			scx_bpf_kick_cpu(i, SCX_KICK_IDLE);
			return;
		}
	}
}

/* ---- scattershot ---------------------------------------------------------- */

/*
 * Insert @p into the local DSQ of a random allowed CPU other than its
 * current one, so that every scattered enqueue is a migration.
 */
static __always_inline _Bool scatter(struct task_struct *p, __u64 enq_flags)
{
	struct ktstr_cpu_timer *t;
	__u32 i, cpu, cur;

	if (p->nr_cpus_allowed <= 1 || nr_cpus <= 1)
		return 0;
	cur = scx_bpf_task_cpu(p);
	for (i = 0; i < KTSTR_SCATTER_TRIES; i++) {
		cpu = bpf_get_prandom_u32() % (nr_cpus - 1);
		if (cpu >= cur)
			cpu++;
		if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		insert(p, SCX_DSQ_LOCAL_ON | cpu, KTSTR_SCATTER_SLICE_NS,
		       enq_flags);
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
		t = bpf_map_lookup_elem(&ktstr_timers, &cpu);
		if (t) {
			t->phase = KTSTR_TIMER_SLICE_END;
			bpf_timer_start(&t->timer, KTSTR_SCATTER_SLICE_NS, 0);
		}
		STAT_INC(scatters);
		return 1;
	}
	return 0;
}

/* ---- pile and fallback ------------------------------------------------------ */

/* Insert @p into the local DSQ of the first CPU it may use. */
static __always_inline void pile(struct task_struct *p, __u64 enq_flags)
{
	__u32 i;

	for (i = 0; i < KTSTR_MAX_CPUS && i < nr_cpus; i++) {
		if (!bpf_cpumask_test_cpu(i, p->cpus_ptr))
			continue;
		insert(p, SCX_DSQ_LOCAL_ON | i, slice_ns, enq_flags);
		scx_bpf_kick_cpu(i, SCX_KICK_IDLE);
		STAT_INC(piled);
		return;
	}
	insert(p, KTSTR_SHARED_DSQ, slice_ns, enq_flags);
}

/* A CPU @p may not use, or @prev_cpu when it may use them all. */
static __always_inline __s32 forbidden_cpu(struct task_struct *p, __s32 prev_cpu)
{
	__u32 i;

	for (i = 0; i < KTSTR_MAX_CPUS && i < nr_cpus; i++) {
		if (!bpf_cpumask_test_cpu(i, p->cpus_ptr)) {
			STAT_INC(forbidden);
			return i;
		}
	}
	return prev_cpu;
}

/* ---- sched_ext_ops ---------------------------------------------------------- */

SEC("struct_ops/ktstr_select_cpu")
__s32 ktstr_select_cpu(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];
	__s32 prev_cpu = ctx[1];
	__u64 wake_flags = ctx[2];
	_Bool is_idle = 0;
	__s32 cpu;

	if (fault == KTSTR_FAULT_FALLBACK)
		return forbidden_cpu(p, prev_cpu);
	/* Other faults keep every placement decision in enqueue. */
	if (fault != KTSTR_FAULT_NONE && fault != KTSTR_FAULT_KEEPLAST)
		return prev_cpu;
	if (!bpf_ksym_exists(scx_bpf_select_cpu_dfl))
		return prev_cpu;

	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle) {
		insert(p, SCX_DSQ_LOCAL, slice_ns, 0);
		STAT_INC(local_inserts);
	}
	return cpu;
}

SEC("struct_ops/ktstr_enqueue")
int ktstr_enqueue(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];
	__u64 enq_flags = ctx[1];
	__u32 llc;

	STAT_INC(enqueues);

	switch (fault) {
	case KTSTR_FAULT_STALL:
		/* Nobody ever consumes this DSQ. */
		insert(p, KTSTR_STALL_DSQ, slice_ns, enq_flags);
		return 0;
	case KTSTR_FAULT_DEGRADE:
		insert(p, KTSTR_SHARED_DSQ, KTSTR_DEGRADE_RUN_NS, enq_flags);
		degrade_kick(p);
		return 0;
	case KTSTR_FAULT_SCATTERSHOT:
		if (!scatter(p, enq_flags))
			insert(p, KTSTR_SHARED_DSQ, KTSTR_SCATTER_SLICE_NS,
			       enq_flags);
		return 0;
	case KTSTR_FAULT_PILE:
		pile(p, enq_flags);
		return 0;
	}

	/*
	 * SCX_OPS_ENQ_LAST: @p is the only task left for this CPU; keep it
	 * running rather than let the CPU go idle with work queued.
	 */
	if (enq_flags & SCX_ENQ_LAST) {
		insert(p, SCX_DSQ_LOCAL, slice_ns, enq_flags);
		STAT_INC(local_inserts);
		return 0;
	}

	llc = llc_of(scx_bpf_task_cpu(p));
	if (llc_mode && llc < nr_llcs)
		insert(p, KTSTR_LLC_DSQ(llc), slice_ns, enq_flags);
	else
		insert(p, KTSTR_SHARED_DSQ, slice_ns, enq_flags);
	kick_idle_for(p, llc);
	return 0;
}

/* An idle CPU: nothing runnable is left on it once dispatch returns. */
static __always_inline _Bool going_idle(struct task_struct *prev)
{
	return !prev || !(prev->scx.flags & SCX_TASK_QUEUED);
}

static __always_inline _Bool llc_dispatch(__s32 cpu, struct task_struct *prev)
{
	__u32 own = llc_of(cpu), i, llc, best = 0;
	__s32 n, most = 0;

	if (move_to_local(KTSTR_LLC_DSQ(own))) {
		STAT_INC(dispatches);
		return 1;
	}
	if (steal) {
		for (i = 0; i < KTSTR_MAX_LLCS && i < nr_llcs; i++) {
			if (i == own)
				continue;
			n = scx_bpf_dsq_nr_queued(KTSTR_LLC_DSQ(i));
			if (n > most) {
				most = n;
				best = i;
			}
		}
		if (most > 0 && move_to_local(KTSTR_LLC_DSQ(best))) {
			STAT_INC(steals);
			return 1;
		}
	}
	if (borrow && going_idle(prev)) {
		for (i = 1; i < KTSTR_MAX_LLCS && i < nr_llcs; i++) {
			llc = (own + i) % nr_llcs;
			if (move_to_local(KTSTR_LLC_DSQ(llc))) {
				STAT_INC(borrows);
				return 1;
			}
		}
	}
	return 0;
}

SEC("struct_ops/ktstr_dispatch")
int ktstr_dispatch(unsigned long long *ctx)
{
	__s32 cpu = ctx[0];
	struct task_struct *prev = (void *)ctx[1];

	check_ctl();

#ifdef KTSTR_FAIL_VERIFY
	{
		/*
		 * Deliberately broken: no NULL check on the map value. The key
		 * is not a constant (the verifier knows that a constant key
		 * within an array cannot miss), so the lookup may fail.
		 */
		__u32 key = cpu;
		__u64 *v = bpf_map_lookup_elem(&ktstr_ctl, &key);

		if (*v == 42)
			return 0;
	}
#endif

	switch (fault) {
	case KTSTR_FAULT_STALL:
		return 0;
	case KTSTR_FAULT_DEGRADE:
		degrade_dispatch(cpu);
		return 0;
	}

	if (llc_mode && llc_dispatch(cpu, prev))
		return 0;
	/* The shared DSQ; in llc_mode it holds tasks without a valid LLC. */
	if (move_to_local(KTSTR_SHARED_DSQ))
		STAT_INC(dispatches);
	return 0;
}

SEC("struct_ops/ktstr_tick")
int ktstr_tick(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];
	__u32 slot;

	check_ctl();

	/*
	 * keeplast: end the slice at every tick (the kernel refills a kept
	 * task's slice with its 20 ms default), so that the CPU comes back to
	 * the scheduler, finds nothing and keeps its task, once a tick.
	 */
	if (fault == KTSTR_FAULT_KEEPLAST)
		p->scx.slice = 0;

	/* degrade: should the run-window timer be late, end the slice here. */
	if (fault == KTSTR_FAULT_DEGRADE) {
		slot = cpu_slot(bpf_get_smp_processor_id());
		if (bpf_ktime_get_ns() >= run_end_at[slot])
			p->scx.slice = 0;
	}
	return 0;
}

SEC("struct_ops.s/ktstr_init")
__s32 ktstr_init(unsigned long long *ctx)
{
	struct ktstr_cpu_timer *t;
	__s32 ret;
	__u32 i;

	if (!bpf_ksym_exists(scx_bpf_dsq_insert___v2) &&
	    !bpf_ksym_exists(scx_bpf_dispatch)) {
		scx_bpf_error("kernel has neither scx_bpf_dsq_insert___v2 nor scx_bpf_dispatch");
		return -95; /* EOPNOTSUPP */
	}
	if (!bpf_ksym_exists(scx_bpf_dsq_move_to_local___v2) &&
	    !bpf_ksym_exists(scx_bpf_consume)) {
		scx_bpf_error("kernel has neither scx_bpf_dsq_move_to_local___v2 nor scx_bpf_consume");
		return -95;
	}

	ret = scx_bpf_create_dsq(KTSTR_SHARED_DSQ, -1);
	if (ret)
		return ret;
	if (fault == KTSTR_FAULT_STALL) {
		ret = scx_bpf_create_dsq(KTSTR_STALL_DSQ, -1);
		if (ret)
			return ret;
	}
	if (llc_mode) {
		for (i = 0; i < KTSTR_MAX_LLCS && i < nr_llcs; i++) {
			ret = scx_bpf_create_dsq(KTSTR_LLC_DSQ(i), -1);
			if (ret)
				return ret;
		}
	}
	if (fault == KTSTR_FAULT_DEGRADE || fault == KTSTR_FAULT_SCATTERSHOT) {
		for (i = 0; i < KTSTR_MAX_CPUS && i < nr_cpus; i++) {
			t = bpf_map_lookup_elem(&ktstr_timers, &i);
			if (!t)
				return -22; /* EINVAL */
			ret = bpf_timer_init(&t->timer, &ktstr_timers,
					     KTSTR_CLOCK_MONOTONIC);
			if (ret)
				return ret;
			ret = bpf_timer_set_callback(&t->timer, cpu_timer_fn);
			if (ret)
				return ret;
		}
	}
	return 0;
}

SEC("struct_ops/ktstr_exit")
int ktstr_exit(unsigned long long *ctx)
{
	struct scx_exit_info *ei = (void *)ctx[0];

	bpf_probe_read_kernel_str(exit_info.reason, sizeof(exit_info.reason),
				  ei->reason);
	bpf_probe_read_kernel_str(exit_info.msg, sizeof(exit_info.msg),
				  ei->msg);
	exit_info.exit_code = ei->exit_code;
	ktstr_barrier();
	exit_info.kind = ei->kind;
	return 0;
}

SEC(".struct_ops.link")
struct sched_ext_ops ktstr_ops = {
	.select_cpu = (void *)ktstr_select_cpu,
	.enqueue = (void *)ktstr_enqueue,
	.dispatch = (void *)ktstr_dispatch,
	.tick = (void *)ktstr_tick,
	.init = (void *)ktstr_init,
	.exit = (void *)ktstr_exit,
	.flags = SCX_OPS_ENQ_LAST,
	/*
	 * timeout_ms is written into this map by user space before load, and
	 * flags cleared for the keeplast fault.
	 */
	.name = "ktstr",
};
