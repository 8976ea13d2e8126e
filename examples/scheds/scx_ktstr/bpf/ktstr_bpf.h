/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktstr_bpf.h - the few BPF definitions scx_ktstr needs.
 *
 * No libbpf headers are used: the section and map-definition macros, the
 * helper prototypes (by helper id, see enum bpf_func_id in vmlinux.h) and
 * the sched_ext kfunc declarations live here.
 */
#ifndef KTSTR_BPF_H
#define KTSTR_BPF_H

/* ---- compiler glue ---------------------------------------------------- */

#define SEC(name) __attribute__((section(name), used))
#define __ksym __attribute__((section(".ksyms")))
#define __weak __attribute__((weak))
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define ktstr_barrier() asm volatile("" ::: "memory")
#define ktstr_likely(x) __builtin_expect(!!(x), 1)
#define ktstr_unlikely(x) __builtin_expect(!!(x), 0)

/*
 * BTF-style map definitions: the attribute's value is encoded in the type
 * of a pointer member, which is what loaders read back from BTF.
 */
#define __uint(attr, val) int(*attr)[val]
#define __type(attr, typ) typeof(typ) *attr

/*
 * A weak kfunc or ksym that the running kernel lacks resolves to 0 at load
 * time; calls to it sit in branches the verifier proves dead.
 */
#define bpf_ksym_exists(sym) (!!(sym))

#ifndef NULL
#define NULL ((void *)0)
#endif

/* ---- helpers, by id ----------------------------------------------------- */

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static __u32 (*bpf_get_prandom_u32)(void) = (void *)7;
static __u32 (*bpf_get_smp_processor_id)(void) = (void *)8;
static long (*bpf_probe_read_kernel_str)(void *dst, __u32 size,
					 const void *unsafe_ptr) = (void *)115;
static long (*bpf_timer_init)(struct bpf_timer *timer, void *map,
			      __u64 flags) = (void *)169;
static long (*bpf_timer_set_callback)(struct bpf_timer *timer,
				      void *callback_fn) = (void *)170;
static long (*bpf_timer_start)(struct bpf_timer *timer, __u64 nsecs,
			       __u64 flags) = (void *)171;

#define KTSTR_CLOCK_MONOTONIC 1

/* ---- sched_ext kfuncs ------------------------------------------------------
 *
 * Names are those of the kernel's BTF. Tested on Debian's 7.2.13 kernel
 * (7.2.13+deb14-cloud-amd64).
 *
 * Kfunc names drift between kernels. Every kfunc whose name changed is
 * declared weak under each spelling this object may use, and the callers
 * below pick the first one that bpf_ksym_exists():
 *
 *   insert:        scx_bpf_dsq_insert___v2    (bool return; 7.2 has it)
 *                  scx_bpf_dispatch           (kernels before 6.13)
 *   move to local: scx_bpf_dsq_move_to_local___v2 (takes enq_flags; 7.2)
 *                  scx_bpf_consume            (kernels before 6.13)
 *
 * The intermediate spellings scx_bpf_dsq_insert and
 * scx_bpf_dsq_move_to_local (kernels 6.13 up to the ___v2 rename) are
 * deliberately NOT referenced: cilium/ebpf v0.22.0 resolves a kfunc by
 * exact name with btf.Spec.AnyTypesByName, whose filter loop skips an
 * element after each deletion, so on a kernel that also carries the ___v2
 * and ___v2_impl functions (7.2 does) the plain name comes back as
 * "multiple matching types" and the whole object fails to load, weak or
 * not. Once that is fixed, they can be added here as middle fallbacks.
 * On a kernel that has neither the newest nor the oldest name, ops.init
 * fails with a message naming the missing kfunc.
 *
 * The other kfuncs kept their names from 6.12 to 7.2 (in 7.2 the BPF-facing
 * FUNC hides the implicit aux argument of the *_impl function).
 */
extern _Bool scx_bpf_dsq_insert___v2(struct task_struct *p, __u64 dsq_id,
				     __u64 slice, __u64 enq_flags) __ksym __weak;
extern void scx_bpf_dispatch(struct task_struct *p, __u64 dsq_id, __u64 slice,
			     __u64 enq_flags) __ksym __weak;
extern _Bool scx_bpf_dsq_move_to_local___v2(__u64 dsq_id,
					    __u64 enq_flags) __ksym __weak;
extern _Bool scx_bpf_consume(__u64 dsq_id) __ksym __weak;

extern __s32 scx_bpf_select_cpu_dfl(struct task_struct *p, __s32 prev_cpu,
				    __u64 wake_flags, _Bool *is_idle) __ksym __weak;
extern __s32 scx_bpf_create_dsq(__u64 dsq_id, __s32 node) __ksym;
extern __s32 scx_bpf_dsq_nr_queued(__u64 dsq_id) __ksym;
extern void scx_bpf_kick_cpu(__s32 cpu, __u64 flags) __ksym;
extern __s32 scx_bpf_pick_idle_cpu(const struct cpumask *cpus_allowed,
				   __u64 flags) __ksym;
extern _Bool scx_bpf_test_and_clear_cpu_idle(__s32 cpu) __ksym;
extern __s32 scx_bpf_task_cpu(const struct task_struct *p) __ksym;
extern void scx_bpf_error_bstr(char *fmt, unsigned long long *data,
			       __u32 data__sz) __ksym;
extern _Bool bpf_cpumask_test_cpu(__u32 cpu, const struct cpumask *cpumask) __ksym;

/*
 * scx_bpf_error(fmt, args...): report a scheduler error; the kernel then
 * ejects the scheduler with SCX_EXIT_ERROR_BPF and fmt, formatted, as the
 * exit message. Up to four integer arguments.
 *
 * The format lives in a writable static (.data): the kernel declares the
 * argument as a plain char *, and the verifier checks such memory for both
 * reads and writes, which the frozen .rodata would fail. The argument
 * array always has one spare slot so it is never empty.
 */
#define KTSTR_NARG_(_0, _1, _2, _3, _4, n, ...) n
#define KTSTR_NARG(...) KTSTR_NARG_(_, ##__VA_ARGS__, 4, 3, 2, 1, 0)
#define scx_bpf_error(fmt, ...)                                               \
	do {                                                                  \
		static char ktstr_fmt_[] = fmt;                               \
		unsigned long long ktstr_args_[KTSTR_NARG(__VA_ARGS__) + 1] = \
			{ __VA_ARGS__ };                                      \
		scx_bpf_error_bstr(ktstr_fmt_, ktstr_args_,                   \
				   sizeof(ktstr_args_));                      \
	} while (0)

#endif /* KTSTR_BPF_H */
