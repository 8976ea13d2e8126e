package examples

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// The gauntlet variables, as a gauntlet target sets them, must hold for
// both entry points: the VM gets the preset's topology (4 CPUs in two
// LLCs here, not the spec's 1s2c1t), and the scheduler runs with that
// profile's flags only.

const (
	varsPreset  = "tiny-2llc"
	varsProfile = "llc+steal"
)

// varsSpec is the spec both tests run: its own topology is 1s2c1t.
var varsSpec = ktstr.Spec{
	Scheduler: &KtstrSched,
	Sockets:   1, Cores: 2, Threads: 1,
	DurationS: 1,
}

// checkGauntletVars checks a result against varsPreset and varsProfile.
func checkGauntletVars(t *testing.T, res *ktstr.Result) {
	t.Helper()
	if res == nil {
		t.Fatalf("no result for profile %s", varsProfile)
	}
	if res.Guest.CPUs != 4 || len(res.Guest.LLCs) != 2 {
		t.Errorf("the guest saw %d CPUs in LLCs %v, want %s's 4 CPUs in 2 LLCs", res.Guest.CPUs, res.Guest.LLCs, varsPreset)
	}
	if res.Profile != varsProfile {
		t.Errorf("profile %q, want %q", res.Profile, varsProfile)
	}
	args := map[string]bool{}
	for _, a := range res.SchedArgs {
		args[a] = true
	}
	if !args["--llc"] || !args["--steal"] || args["--borrow"] {
		t.Errorf("scheduler args %q, want --llc and --steal without --borrow", res.SchedArgs)
	}
}

func TestGauntletVarsRun(t *testing.T) {
	t.Setenv(ktstr.EnvTopology, varsPreset)
	t.Setenv(ktstr.EnvProfile, varsProfile)
	res := ktstr.Run(t, varsSpec)
	checkGauntletVars(t, res)
}

func TestGauntletVarsRunProfiles(t *testing.T) {
	t.Setenv(ktstr.EnvTopology, varsPreset)
	t.Setenv(ktstr.EnvProfile, varsProfile)
	rs := ktstr.RunProfiles(t, varsSpec)
	if len(rs) != 1 {
		t.Errorf("%d profiles ran (%v), want only %s", len(rs), keys(rs), varsProfile)
	}
	checkGauntletVars(t, rs[varsProfile])
}

func keys(m map[string]*ktstr.Result) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
