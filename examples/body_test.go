package examples

import (
	"testing"

	"github.com/ktstr-go/ktstr"
	"github.com/ktstr-go/ktstr/guest/scenario"
)

// TestBodyLLCSwap is a test with a body: two cgroups, each on one LLC of
// whatever topology the VM has (a gauntlet preset included), whose
// cpusets are then swapped by a step. Inside the guest it checks that the
// workers run where the cpusets say, before and after.
func TestBodyLLCSwap(t *testing.T) {
	res := ktstr.RunWith(t, ktstr.Spec{
		Sockets: 2, Cores: 2, Threads: 1,
		MinLLCs:   2,
		DurationS: 2,
	}, func(ctx *ktstr.Ctx) ktstr.Verdict {
		var c check
		llc0, llc1 := scenario.LLC(0), scenario.LLC(1)
		if err := ctx.Setup(ktstr.CgroupDef{Name: "a", CpusetSpec: &llc0}, ktstr.CgroupDef{Name: "b", CpusetSpec: &llc1}); err != nil {
			return ktstr.Fail("setup: %v", err)
		}
		l0, l1 := ctx.Topo.LLCs[0], ctx.Topo.LLCs[1]
		runOn(ctx, &c, "a", l0)
		runOn(ctx, &c, "b", l1)
		if err := ctx.Run(ktstr.Step{Ops: []ktstr.Op{scenario.SwapCpusets("a", "b")}, Hold: scenario.Frac(0.25)}); err != nil {
			return ktstr.Fail("swap step: %v", err)
		}
		runOn(ctx, &c, "a", l1)
		runOn(ctx, &c, "b", l0)
		v := c.verdict("a on " + l0.String() + " then " + l1.String() + ", b the other way round")
		v.Stats = map[string]float64{"llcs": float64(len(ctx.Topo.LLCs)), "cpus": float64(ctx.Topo.All.Len())}
		return v
	})
	if res.Verdict == nil {
		t.Fatal("no verdict from the body")
	}
	t.Logf("guest: %d CPUs, LLCs %v; body: %v", res.Guest.CPUs, res.Guest.LLCs, res.Verdict.Details)
}
