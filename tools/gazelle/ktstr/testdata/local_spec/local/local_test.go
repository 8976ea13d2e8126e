package local

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestShortVar: spec := ktstr.Spec{...}, then used twice.
func TestShortVar(t *testing.T) {
	spec := ktstr.Spec{
		Sockets: 2, Cores: 2, Threads: 2,
		DurationS: 1,
		Cgroups:   []ktstr.CgroupDef{{Name: "probe", Workers: 1}},
	}
	res := ktstr.Run(t, spec)
	if !res.Passed() {
		return
	}
	if spec.Topology().CPUs() != 8 {
		t.Error("8 CPUs")
	}
}

// TestVarDecl: var spec = ..., reassigned before the run: the last
// assignment counts.
func TestVarDecl(t *testing.T) {
	var spec = ktstr.Spec{Sockets: 4}
	spec = ktstr.Spec{Sockets: 1, Cores: 8}
	ktstr.Run(t, spec)
}

// TestZeroVar: var spec ktstr.Spec is the empty spec.
func TestZeroVar(t *testing.T) {
	var spec ktstr.Spec
	ktstr.Run(t, spec)
}

// TestModified: a field assigned after the literal is not seen.
func TestModified(t *testing.T) {
	spec := ktstr.Spec{Cores: 2}
	spec.Cores = 4
	ktstr.Run(t, spec)
}

// TestPackageVar: a package-level spec.
func TestPackageVar(t *testing.T) {
	ktstr.Run(t, sharedSpec)
}

var sharedSpec = ktstr.Spec{MemoryMB: 1024, MinCPUs: 2}

// TestSubtest: the run is in a subtest.
func TestSubtest(t *testing.T) {
	spec := ktstr.Spec{Threads: 2, RequiresSMT: true}
	t.Run("smt", func(t *testing.T) {
		ktstr.Run(t, spec)
	})
}
