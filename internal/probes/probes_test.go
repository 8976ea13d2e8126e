package probes

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/guest/wire"
)

func TestCrashPath(t *testing.T) {
	dump := `sched_ext: BPF scheduler "ktstr" disabled (runtime error)
sched_ext: ktstr: host-triggered crash via ktstr_ctl
   scx_bpf_error_bstr+0x7c/0xa0
   bpf_prog_1b2c3d4e5f607182_ktstr_tick+0x3e/0x5a
   bpf__sched_ext_ops_tick+0x4a/0x8a
   task_tick_scx+0x70/0xe0
   sched_tick+0x11a/0x2c0
   update_process_times+0x96/0xb0
   ? scx_bpf_error_bstr+0x7c/0xa0
   process_one_work+0x18e/0x350
   balance_one.isra.0+0x40/0x300
`
	got := CrashPath(dump, 5)
	want := []string{"scx_bpf_error_bstr", "bpf__sched_ext_ops_tick", "task_tick_scx", "sched_tick", "update_process_times"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CrashPath = %q, want %q", got, want)
	}
	if got := CrashPath(dump, 0); len(got) != 6 || got[5] != "balance_one" {
		t.Errorf("CrashPath without a bound = %q, want 6 frames ending in balance_one", got)
	}
	if got := CrashPath("no backtrace here", 4); got != nil {
		t.Errorf("CrashPath of no backtrace = %q", got)
	}
}

func TestFetchArgs(t *testing.T) {
	got := FetchArgs([]Param{{"rq", "rq"}, {"p", "task"}, {"enq_flags", "int"}, {"ctx", "other"}, {"", "int"}})
	want := "rq_cpu=rq->cpu p_pid=p->pid p_comm=p->comm:string enq_flags=enq_flags"
	if got != want {
		t.Errorf("FetchArgs = %q, want %q", got, want)
	}
	d := wire.ProbeDef{Name: "enqueue_task_scx", Func: "enqueue_task_scx", Fetch: got}
	if def := Definition(d); def != "f:ktstr/enqueue_task_scx enqueue_task_scx "+want {
		t.Errorf("Definition = %q", def)
	}
	if def := Definition(wire.ProbeDef{Name: "scx_vexit", Func: "scx_vexit"}); def != "f:ktstr/scx_vexit scx_vexit" {
		t.Errorf("Definition without fetch args = %q", def)
	}
	if n := EventName("balance_one.isra.0"); n != "balance_one_isra_0" {
		t.Errorf("EventName = %q", n)
	}
}

func TestParseTrace(t *testing.T) {
	defs := []wire.ProbeDef{
		{Name: "enqueue_task_scx", Func: "enqueue_task_scx", Callback: "ops.enqueue"},
		{Name: "scx_bpf_error_bstr", Func: "scx_bpf_error_bstr", Callback: "kfunc scx_bpf_error"},
	}
	trace := `# tracer: nop
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
           sleep-117     [000] d..3.     3.711474: enqueue_task_scx: (enqueue_task_scx+0x4/0x340) rq_cpu=0 p_pid=117 p_comm="sleep" core_enq_flags=14
     kworker/0:1-12      [001] d.s6.     3.713615: other_event: (x+0x4/0x40) a=1
          <idle>-0       [001] d.s6.     3.713615: enqueue_task_scx: (enqueue_task_scx+0x4/0x340) rq_cpu=1 p_pid=130 p_comm="cpu spin" core_enq_flags=9
       cpu-spin-130      [001] d.h2.     3.720001: scx_bpf_error_bstr: (scx_bpf_error_bstr+0x4/0xa0) fmt=18446
`
	evs, total := ParseTrace(trace, defs, 2)
	if total != 3 || len(evs) != 2 {
		t.Fatalf("ParseTrace: %d events of %d, want 2 of 3: %+v", len(evs), total, evs)
	}
	e := evs[0]
	if e.CPU != 1 || e.Current != "<idle>-0" || e.Callback != "ops.enqueue" || e.Task != "cpu spin 130" || e.Args != "rq_cpu=1 core_enq_flags=9" || e.TimeS != 3.713615 {
		t.Errorf("event = %+v", e)
	}
	if evs[1].Callback != "kfunc scx_bpf_error" || evs[1].Current != "cpu-spin-130" || evs[1].Task != "" {
		t.Errorf("error event = %+v", evs[1])
	}
	if s := e.String(); !strings.Contains(s, "ops.enqueue") || !strings.Contains(s, "task cpu spin 130") {
		t.Errorf("String = %q", s)
	}
	last, tasks := Summary(evs)
	if len(last) != 2 || last[0].Callback != "ops.enqueue" || !reflect.DeepEqual(tasks, []string{"cpu spin 130"}) {
		t.Errorf("Summary = %+v, %q", last, tasks)
	}
}

func TestParseTraceEndsAtTheExit(t *testing.T) {
	var defs []wire.ProbeDef
	for _, c := range Callbacks() {
		defs = append(defs, wire.ProbeDef{Name: EventName(c.Func), Func: c.Func, Callback: c.Name})
	}
	var b strings.Builder
	line := func(ts float64, cpu int, ev, args string) {
		fmt.Fprintf(&b, "  test-170  [%03d] d..2. %.6f: %s: (%s+0x4/0x100) %s\n", cpu, ts, ev, ev, args)
	}
	line(1.0, 1, "do_pick_task_scx", "rq_cpu=1")
	line(1.0001, 2, "enqueue_task_scx", `p_pid=7 p_comm="worker"`)
	line(1.0002, 1, "scx_bpf_error_bstr", "data__sz=8")
	line(1.0003, 1, "__scx_exit", "kind=1025")
	for i := 0; i < 10; i++ {
		line(2.0+float64(i), 3, "dequeue_task_scx", `p_pid=9 p_comm="teardown"`)
	}
	evs, total := ParseTrace(b.String(), defs, 64)
	if total != 14 || len(evs) != 3+afterExit {
		t.Fatalf("%d events of %d, want %d of 14: %v", len(evs), total, 3+afterExit, evs)
	}
	exit, in, found, ok := ExitContext(evs)
	if !ok || !found || exit.Callback != "kfunc scx_bpf_error" || in.Callback != "ops.dispatch" || in.CPU != 1 {
		t.Errorf("ExitContext = %+v in %+v (%v %v)", exit, in, found, ok)
	}
	if _, _, _, ok := ExitContext(evs[:2]); ok {
		t.Error("ExitContext found an exit in events without one")
	}
}

func TestStranded(t *testing.T) {
	evs := []wire.ProbeEvent{
		{TimeS: 1, Callback: "ops.enqueue", Task: "a 1"},
		{TimeS: 2, Callback: "ops.enqueue", Task: "b 2"},
		{TimeS: 3, Callback: "ops.running", Task: "a 1"},
		{TimeS: 4, Callback: "ops.enqueue", Task: "c 3"},
		{TimeS: 5, Callback: "exit", CPU: 1},
		{TimeS: 6, Callback: "ops.running", Task: "b 2"},
	}
	got := Stranded(evs)
	if len(got) != 2 || got[0].Task != "b 2" || got[1].Task != "c 3" {
		t.Errorf("Stranded = %v, want b then c (a ran; b ran only after the exit)", got)
	}
	// An exit long after the last callback on its CPU came from none.
	evs = []wire.ProbeEvent{{TimeS: 1, CPU: 1, Callback: "ops.dispatch"}, {TimeS: 4, CPU: 1, Callback: "exit"}}
	if _, _, found, ok := ExitContext(evs); !ok || found {
		t.Errorf("ExitContext attributes an exit 3s later to a callback (found %v, ok %v)", found, ok)
	}
}
