package examples

import (
	"fmt"
	"os"
	"strings"
	"time"

	"testing"

	"github.com/ktstr-go/ktstr"
	"github.com/ktstr-go/ktstr/guest/scenario"
	"github.com/ktstr-go/ktstr/topology"
)

// Each op of the scenario language, run from a test body on 2s2c1t (4
// CPUs, LLCs 0-1 and 2-3; usable 0-2), with its effect checked inside
// the guest: where the workers may run and do run, which cgroup holds
// them, which directories exist.

// opsSpec is the VM every op test runs in. The bodies move workers
// around for a fraction of a second: their fairness spread says nothing,
// so its check is off (the others stay on).
var opsSpec = ktstr.Spec{Sockets: 2, Cores: 2, Threads: 1, DurationS: 2, WorkersPerCgroup: 2, Verify: ktstr.Verify{MaxSpreadPct: 100}}

// check collects failures of a test body.
type check []string

func (c *check) errorf(format string, a ...any) { *c = append(*c, fmt.Sprintf(format, a...)) }

func (c check) verdict(pass string) ktstr.Verdict {
	if len(c) > 0 {
		return ktstr.Fail("%s", strings.Join(c, "; "))
	}
	return ktstr.Pass(pass)
}

// runOn checks that every worker of cg runs only on want, and is allowed
// only want.
func runOn(ctx *ktstr.Ctx, c *check, cg string, want topology.CPUSet) {
	pids, err := ctx.Workers(cg)
	if err != nil || len(pids) == 0 {
		c.errorf("%s: workers %v, %v", cg, pids, err)
		return
	}
	for _, p := range pids {
		if a, err := ctx.Allowed(p); err != nil || !a.Equal(want) {
			c.errorf("%s: pid %d allowed %v (%v), want %v", cg, p, a, err, want)
		}
	}
	// A worker moves at its next scheduling point: let them settle, then
	// watch where they run.
	time.Sleep(150 * time.Millisecond)
	if used, err := ctx.CPUsUsed(pids, 300*time.Millisecond); err != nil || !used.IsSubsetOf(want) {
		c.errorf("%s: ran on %v (%v), want within %v", cg, used, err, want)
	}
}

// TestOpCpusets: set_cpuset confines a cgroup's running workers to the
// computed set, swap_cpusets exchanges two cgroups' sets, clear_cpuset
// frees them again.
func TestOpCpusets(t *testing.T) {
	res := ktstr.RunWith(t, opsSpec, func(ctx *ktstr.Ctx) ktstr.Verdict {
		var c check
		if err := ctx.Setup(ktstr.CgroupDef{Name: "a"}, ktstr.CgroupDef{Name: "b"}); err != nil {
			return ktstr.Fail("setup: %v", err)
		}
		if err := ctx.Apply(scenario.SetCpuset("a", scenario.LLC(0)), scenario.SetCpuset("b", scenario.Exact("2"))); err != nil {
			return ktstr.Fail("set_cpuset: %v", err)
		}
		runOn(ctx, &c, "a", topology.MustParseCPUList("0-1"))
		runOn(ctx, &c, "b", topology.MustParseCPUList("2"))
		if err := ctx.Apply(scenario.SwapCpusets("a", "b")); err != nil {
			return ktstr.Fail("swap_cpusets: %v", err)
		}
		runOn(ctx, &c, "a", topology.MustParseCPUList("2"))
		runOn(ctx, &c, "b", topology.MustParseCPUList("0-1"))
		if err := ctx.Apply(scenario.ClearCpuset("a")); err != nil {
			return ktstr.Fail("clear_cpuset: %v", err)
		}
		pids, _ := ctx.Workers("a")
		for _, p := range pids {
			if a, err := ctx.Allowed(p); err != nil || !a.Equal(ctx.Topo.All) {
				c.errorf("after clear_cpuset: pid %d allowed %v (%v), want every CPU %v", p, a, err, ctx.Topo.All)
			}
		}
		return c.verdict("set, swapped and cleared cpusets held inside the guest")
	})
	wantTimeline(t, res, "set_cpuset", "swap_cpusets", "clear_cpuset")
	// The swap moved a's workers onto CPU 2: their migration events say
	// when, from where and to where.
	for _, w := range res.Workers {
		if w.Cgroup != "a" {
			continue
		}
		moved := false
		for _, m := range w.MigrationEvents {
			moved = moved || (m.To == 2 && m.From != 2 && m.AtNs > 0)
		}
		if !moved {
			t.Errorf("%s: no migration onto CPU 2 in %+v", w.Name(), w.MigrationEvents)
		}
	}
}

// TestOpCgroupLifecycle: add_cgroup makes the directory, spawn puts new
// workers in it, stop_cgroup ends them (their reports kept), and
// remove_cgroup reaps its workers and removes the directory.
func TestOpCgroupLifecycle(t *testing.T) {
	res := ktstr.RunWith(t, opsSpec, func(ctx *ktstr.Ctx) ktstr.Verdict {
		var c check
		if err := ctx.Apply(scenario.AddCgroup("x"), scenario.AddCgroup("y")); err != nil {
			return ktstr.Fail("add_cgroup: %v", err)
		}
		for _, cg := range []string{"x", "y"} {
			if st, err := os.Stat(ctx.CgroupDir(cg)); err != nil || !st.IsDir() {
				c.errorf("after add_cgroup %s: %v", cg, err)
			}
		}
		if err := ctx.Apply(scenario.Spawn("x", ktstr.Work{Workers: 3}), scenario.Spawn("y", ktstr.Work{Workers: 1, Type: ktstr.Bursty})); err != nil {
			return ktstr.Fail("spawn: %v", err)
		}
		xs, _ := ctx.Workers("x")
		ys, _ := ctx.Workers("y")
		if len(xs) != 3 || len(ys) != 1 {
			c.errorf("after spawn: %d workers in x, %d in y, want 3 and 1", len(xs), len(ys))
		}
		for _, p := range xs {
			if cg, err := ctx.CgroupOf(p); err != nil || !strings.HasSuffix(cg, "/x") {
				c.errorf("spawned pid %d is in %q (%v), want .../x", p, cg, err)
			}
		}
		time.Sleep(300 * time.Millisecond)
		if err := ctx.Apply(scenario.StopCgroup("x")); err != nil {
			return ktstr.Fail("stop_cgroup: %v", err)
		}
		if left, _ := ctx.Workers("x"); len(left) != 0 {
			c.errorf("after stop_cgroup: workers %v left", left)
		}
		for _, p := range xs {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", p)); err == nil {
				c.errorf("after stop_cgroup: pid %d still exists", p)
			}
		}
		if err := ctx.Apply(scenario.RemoveCgroup("y")); err != nil {
			return ktstr.Fail("remove_cgroup: %v", err)
		}
		if _, err := os.Stat(ctx.CgroupDir("y")); !os.IsNotExist(err) {
			c.errorf("after remove_cgroup: %s still there (%v)", ctx.CgroupDir("y"), err)
		}
		for _, p := range ys {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", p)); err == nil {
				c.errorf("after remove_cgroup: its worker pid %d still exists", p)
			}
		}
		return c.verdict("added, spawned into, stopped and removed cgroups")
	})
	// The stopped and removed cgroups' workers reported, and ran.
	n := 0
	for _, w := range res.Workers {
		if w.Cgroup == "x" || w.Cgroup == "y" {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d reports from the stopped and removed cgroups, want 4", n)
	}
	wantTimeline(t, res, "add_cgroup", "spawn", "stop_cgroup", "remove_cgroup")
}

// TestOpSetAffinity: set_affinity pins running workers (single CPU: all
// to the pool's lowest CPU; LLC-aligned: to one LLC of the pool).
func TestOpSetAffinity(t *testing.T) {
	res := ktstr.RunWith(t, opsSpec, func(ctx *ktstr.Ctx) ktstr.Verdict {
		var c check
		cs := scenario.Range(0, 1) // usable CPUs 0-2
		if err := ctx.Setup(ktstr.CgroupDef{Name: "p", CpusetSpec: &cs}); err != nil {
			return ktstr.Fail("setup: %v", err)
		}
		if err := ctx.Apply(scenario.SetAffinity("p", scenario.SingleCPU)); err != nil {
			return ktstr.Fail("set_affinity single: %v", err)
		}
		runOn(ctx, &c, "p", topology.MustParseCPUList("0"))
		if err := ctx.Apply(scenario.SetAffinity("p", scenario.LLCAligned)); err != nil {
			return ktstr.Fail("set_affinity llc: %v", err)
		}
		runOn(ctx, &c, "p", topology.MustParseCPUList("0-1"))
		// A loop hold repeats its ops: a fresh random half of the pool for
		// each worker, every 200 ms, until the duration ends.
		pids, _ := ctx.Workers("p")
		before, err := ctx.Snapshot(pids[0])
		if err != nil {
			return ktstr.Fail("snapshot: %v", err)
		}
		if err := ctx.Run(ktstr.Step{Ops: []ktstr.Op{scenario.SetAffinity("p", scenario.RandomSubset)}, Hold: scenario.Loop(200 * time.Millisecond)}); err != nil {
			return ktstr.Fail("loop step: %v", err)
		}
		after, err := ctx.Snapshot(pids[0])
		if err != nil {
			return ktstr.Fail("snapshot: %v", err)
		}
		if after.RuntimeNs <= before.RuntimeNs || after.Allowed.Len() != 1 {
			c.errorf("snapshots before %+v and after %+v: want more runtime, and one CPU (a random half of 3) allowed", before, after)
		}
		return c.verdict("affinities applied to running workers, and again in a loop")
	})
	wantTimeline(t, res, "set_affinity")
	loops := 0
	for _, e := range res.Timeline {
		if e.Kind == "set_affinity" && e.Detail == "random" {
			loops++
		}
	}
	if loops < 3 {
		t.Errorf("%d random set_affinity events from the loop hold, want at least 3", loops)
	}
}

// TestOpSpawnHost: spawn_host starts workers outside the test's cgroups,
// in the harness's own.
func TestOpSpawnHost(t *testing.T) {
	res := ktstr.RunWith(t, opsSpec, func(ctx *ktstr.Ctx) ktstr.Verdict {
		var c check
		if err := ctx.Apply(scenario.SpawnHost(ktstr.Work{Workers: 2})); err != nil {
			return ktstr.Fail("spawn_host: %v", err)
		}
		pids, _ := ctx.Workers(scenario.HostCgroup)
		self, _ := ctx.CgroupOf(os.Getpid())
		if len(pids) != 2 {
			c.errorf("%d host workers, want 2", len(pids))
		}
		for _, p := range pids {
			if cg, err := ctx.CgroupOf(p); err != nil || cg != self || strings.Contains(cg, "/ktstr/") {
				c.errorf("host worker pid %d is in %q (%v), want the harness's %q", p, cg, err, self)
			}
		}
		time.Sleep(300 * time.Millisecond)
		return c.verdict("host contention runs beside the test's cgroups")
	})
	hosts := 0
	for _, w := range res.Workers {
		if w.Cgroup == scenario.HostCgroup && w.WorkUnits > 0 {
			hosts++
		}
	}
	if hosts != 2 {
		t.Errorf("%d host workers reported work, want 2", hosts)
	}
}

// TestOpMoveAllTasks: move_all_tasks moves every worker of a nested
// cgroup into its parent, and back into another one.
func TestOpMoveAllTasks(t *testing.T) {
	res := ktstr.RunWith(t, opsSpec, func(ctx *ktstr.Ctx) ktstr.Verdict {
		var c check
		if err := ctx.Apply(scenario.AddCgroup("a"), scenario.AddCgroup("b/sub")); err != nil {
			return ktstr.Fail("add_cgroup: %v", err)
		}
		if err := ctx.Setup(ktstr.CgroupDef{Name: "a/sub"}); err != nil {
			return ktstr.Fail("setup a/sub: %v", err)
		}
		in := func(cg, want string) {
			pids, _ := ctx.Workers(cg)
			if len(pids) != 2 {
				c.errorf("%s has %d workers, want 2", cg, len(pids))
			}
			for _, p := range pids {
				if got, err := ctx.CgroupOf(p); err != nil || !strings.HasSuffix(got, "/ktstr/"+want) {
					c.errorf("pid %d is in %q (%v), want .../ktstr/%s", p, got, err, want)
				}
				// And it runs there.
				if err := runs(ctx, p); err != nil {
					c.errorf("in %s: %v", want, err)
				}
			}
		}
		in("a/sub", "a/sub")
		if err := ctx.Apply(scenario.MoveAllTasks("a/sub", "b/sub")); err != nil {
			return ktstr.Fail("move_all_tasks: %v", err)
		}
		in("b/sub", "b/sub")
		if err := ctx.Apply(scenario.MoveAllTasks("b/sub", "b")); err != nil {
			return ktstr.Fail("move_all_tasks: %v", err)
		}
		in("b", "b")
		return c.verdict("tasks moved between nested cgroups")
	})
	wantTimeline(t, res, "move_all_tasks")
}

// runs waits, up to 5 s, until a worker has run on a CPU since the call.
func runs(ctx *ktstr.Ctx, pid int) error {
	first, err := ctx.Snapshot(pid)
	if err != nil {
		return err
	}
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		now, err := ctx.Snapshot(pid)
		if err != nil {
			return err
		}
		if now.RuntimeNs > first.RuntimeNs {
			return nil
		}
	}
	return fmt.Errorf("pid %d did not run for 5s", pid)
}

// wantTimeline checks that the result's timeline has each op kind.
func wantTimeline(t *testing.T, res *ktstr.Result, kinds ...string) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range res.Timeline {
		if e.Error != "" {
			t.Errorf("timeline: %v", e)
		}
		seen[e.Kind] = true
	}
	for _, k := range kinds {
		if !seen[k] {
			t.Errorf("the timeline has no %s event: %v", k, res.Timeline)
		}
	}
}
