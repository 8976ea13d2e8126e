package probes

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ktstr-go/ktstr/guest/wire"
)

// Group is the tracefs event group of the probes.
const Group = "ktstr"

// Callback is a kernel function that runs a sched_ext callback of the
// BPF scheduler (or a kfunc the scheduler calls, or a step of sched_ext's
// exit path), and what it stands for in a report.
type Callback struct {
	Func string
	Name string
	// Exit marks the error and exit path: the first such event is where
	// the scheduler's end began.
	Exit bool
}

// Callbacks are probed in every repro run: the sched_class methods of
// sched_ext that call the scheduler's ops, the kfuncs a scheduler calls
// with a task (under both the names of their compat variants), and the
// error and exit paths.
func Callbacks() []Callback {
	return []Callback{
		{Func: "select_task_rq_scx", Name: "ops.select_cpu"},
		{Func: "enqueue_task_scx", Name: "ops.enqueue"},
		{Func: "dequeue_task_scx", Name: "ops.dequeue"},
		{Func: "do_pick_task_scx", Name: "ops.dispatch"},
		{Func: "set_next_task_scx", Name: "ops.running"},
		{Func: "put_prev_task_scx", Name: "ops.stopping"},
		{Func: "task_tick_scx", Name: "ops.tick"},
		{Func: "scx_bpf_dsq_insert", Name: "kfunc scx_bpf_dsq_insert"},
		{Func: "scx_bpf_dsq_insert___v2", Name: "kfunc scx_bpf_dsq_insert"},
		{Func: "scx_bpf_dsq_insert_vtime", Name: "kfunc scx_bpf_dsq_insert_vtime"},
		{Func: "scx_bpf_dsq_move_to_local", Name: "kfunc scx_bpf_dsq_move_to_local"},
		{Func: "scx_bpf_dsq_move_to_local___v2", Name: "kfunc scx_bpf_dsq_move_to_local"},
		{Func: "scx_bpf_error_bstr", Name: "kfunc scx_bpf_error", Exit: true},
		{Func: "scx_bpf_exit_bstr", Name: "kfunc scx_bpf_exit", Exit: true},
		{Func: "__scx_exit", Name: "exit", Exit: true},
		{Func: "scx_vexit", Name: "exit", Exit: true},
	}
}

// IsExit reports whether a callback name is of the exit path.
func IsExit(name string) bool {
	for _, c := range Callbacks() {
		if c.Name == name && c.Exit {
			return true
		}
	}
	return false
}

// skipFrames are backtrace frames that say nothing about the crash.
var skipFrames = []string{
	"process_one_work", "worker_thread", "kthread", "ret_from_fork", "ret_from_fork_asm",
	"dump_stack", "dump_stack_lvl", "show_stack", "__schedule", "schedule",
	"asm_sysvec_apic_timer_interrupt", "sysvec_apic_timer_interrupt", "do_syscall_64",
	"entry_SYSCALL_64_after_hwframe", "__x64_sys_bpf", "__sys_bpf",
}

// frameRe matches a backtrace line: "  func+0x12/0x340" (or with a
// module, or bpf_prog_<tag>_<name>).
var frameRe = regexp.MustCompile(`(?m)^\s*(?:\[[^\]]*\]\s*)?(?:\?\s*)?([A-Za-z_][A-Za-z0-9_.]*)\+0x[0-9a-f]+/0x[0-9a-f]+`)

// CrashPath returns the kernel functions of the backtraces in a
// sched_ext exit dump (or kernel log), first seen first, without BPF
// programs (not probeable by ftrace), generic frames and duplicates;
// at most max.
func CrashPath(dump string, max int) []string {
	var out []string
	for _, m := range frameRe.FindAllStringSubmatch(dump, -1) {
		fn := m[1]
		if i := strings.IndexByte(fn, '.'); i > 0 {
			fn = fn[:i] // .isra.0, .part.0, .cold: ftrace knows the base name only sometimes
		}
		if strings.HasPrefix(fn, "bpf_prog_") || slices.Contains(skipFrames, fn) || slices.Contains(out, fn) {
			continue
		}
		out = append(out, fn)
		if len(out) == max {
			break
		}
	}
	return out
}

// Param is a function parameter as the kernel's BTF describes it.
type Param struct {
	Name string
	// Kind is "task" (struct task_struct *), "rq" (struct rq *), "int"
	// (an integer or enum), or "other".
	Kind string
}

// FetchArgs is what a probe of a function with params records: a task's
// pid and comm, a runqueue's CPU, integers as they are; pointers to
// anything else are left out (an address says nothing in a report).
func FetchArgs(params []Param) string {
	var f []string
	for _, p := range params {
		if p.Name == "" {
			continue
		}
		switch p.Kind {
		case "task":
			f = append(f, fmt.Sprintf("%s_pid=%s->pid", p.Name, p.Name), fmt.Sprintf("%s_comm=%s->comm:string", p.Name, p.Name))
		case "rq":
			f = append(f, fmt.Sprintf("%s_cpu=%s->cpu", p.Name, p.Name))
		case "int":
			f = append(f, fmt.Sprintf("%s=%s", p.Name, p.Name))
		}
	}
	return strings.Join(f, " ")
}

// Definition is the dynamic_events line of a probe.
func Definition(d wire.ProbeDef) string {
	return strings.TrimSpace(fmt.Sprintf("f:%s/%s %s %s", Group, d.Name, d.Func, d.Fetch))
}

// EventName is a probe's event name for a function (tracefs names are
// C identifiers).
func EventName(fn string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, fn)
}

// traceRe matches a line of tracefs's trace file:
// "   comm-pid   [cpu] flags  time: event: (func+0x4/0x340) args".
var traceRe = regexp.MustCompile(`^\s*(.+)-(\d+)\s+\[(\d+)\]\s+\S+\s+([0-9.]+):\s+(\w+):\s+\([^)]*\)\s*(.*)$`)

// ParseTrace reads the events of the trace file's text whose probe is in
// defs, oldest first, and returns the last keep of them with how many
// there were.
func ParseTrace(text string, defs []wire.ProbeDef, keep int) ([]wire.ProbeEvent, int) {
	byName := map[string]wire.ProbeDef{}
	for _, d := range defs {
		byName[d.Name] = d
	}
	var evs []wire.ProbeEvent
	for _, line := range strings.Split(text, "\n") {
		m := traceRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		d, ok := byName[m[5]]
		if !ok {
			continue
		}
		cpu, _ := strconv.Atoi(m[3])
		ts, _ := strconv.ParseFloat(m[4], 64)
		e := wire.ProbeEvent{TimeS: ts, CPU: cpu, Current: strings.TrimSpace(m[1]) + "-" + m[2], Probe: d.Name, Callback: d.Callback}
		e.Task, e.Args = splitTask(m[6])
		evs = append(evs, e)
	}
	total := len(evs)
	// The scheduler's end began at the first exit-path event: what came
	// before it matters, the teardown after it (sched_ext keeps running
	// tasks in bypass mode until it is disabled) much less.
	end := len(evs)
	for i, e := range evs {
		if IsExit(e.Callback) {
			end = min(i+1+afterExit, len(evs))
			break
		}
	}
	evs = evs[:end]
	if keep > 0 && len(evs) > keep {
		evs = evs[len(evs)-keep:]
	}
	return evs, total
}

// afterExit is how many events after the first exit-path event a report
// keeps.
const afterExit = 4

// callbackSpanS bounds how long before an exit event a callback may
// have been entered and still be the one it came from (one callback and
// its kfuncs take microseconds, even emulated).
const callbackSpanS = 0.02

// Stranded are the tasks the scheduler was handed (ops.enqueue) and never
// ran (no ops.running of theirs after it) before the first exit event:
// the tasks a stall is about. Each is its last enqueue, oldest first.
func Stranded(evs []wire.ProbeEvent) []wire.ProbeEvent {
	last := map[string]int{}
	for i, e := range evs {
		if IsExit(e.Callback) {
			break
		}
		switch {
		case e.Task == "":
		case e.Callback == "ops.enqueue":
			last[e.Task] = i
		case e.Callback == "ops.running":
			delete(last, e.Task)
		}
	}
	var idx []int
	for _, i := range last {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var out []wire.ProbeEvent
	for _, i := range idx {
		out = append(out, evs[i])
	}
	return out
}

// ExitContext finds the first exit-path event and the last scheduler
// callback entered on its CPU before it (the callback that was running
// when the scheduler failed); ok is false without an exit event.
func ExitContext(evs []wire.ProbeEvent) (exit, in wire.ProbeEvent, found, ok bool) {
	for i, e := range evs {
		if !IsExit(e.Callback) {
			continue
		}
		for j := i - 1; j >= 0; j-- {
			if evs[j].CPU != e.CPU {
				continue
			}
			if strings.HasPrefix(evs[j].Callback, "ops.") && e.TimeS-evs[j].TimeS <= callbackSpanS {
				return e, evs[j], true, true
			}
			if !strings.HasPrefix(evs[j].Callback, "kfunc ") {
				break // another callback ran on this CPU since
			}
		}
		return e, wire.ProbeEvent{}, false, true
	}
	return wire.ProbeEvent{}, wire.ProbeEvent{}, false, false
}

// argRe matches one "name=value" of a trace line; a string value is
// quoted.
var argRe = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S+)`)

// splitTask takes the task arguments (NAME_pid, NAME_comm) out of a trace
// line's arguments: "comm pid", and the rest as they were.
func splitTask(args string) (task, rest string) {
	var pid, comm string
	var others []string
	for _, m := range argRe.FindAllStringSubmatch(args, -1) {
		k, v := m[1], strings.Trim(m[2], `"`)
		switch {
		case strings.HasSuffix(k, "_pid") && pid == "":
			pid = v
		case strings.HasSuffix(k, "_comm") && comm == "":
			comm = v
		default:
			others = append(others, k+"="+v)
		}
	}
	if pid != "" || comm != "" {
		task = strings.TrimSpace(comm + " " + pid)
	}
	return task, strings.Join(others, " ")
}

// Summary is a report's view of the events: the last event of each
// callback (what each was doing last) and the tasks of the last events.
func Summary(evs []wire.ProbeEvent) (lastPerCallback []wire.ProbeEvent, tasks []string) {
	seen := map[string]bool{}
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if !seen[e.Callback] {
			seen[e.Callback] = true
			lastPerCallback = append(lastPerCallback, e)
		}
		if e.Task != "" && !slices.Contains(tasks, e.Task) && len(tasks) < 8 {
			tasks = append(tasks, e.Task)
		}
	}
	slices.Reverse(lastPerCallback)
	return lastPerCallback, tasks
}
