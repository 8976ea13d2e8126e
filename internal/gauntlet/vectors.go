package gauntlet

//go:generate go run ./genvectors -o ../../rules/private/vectors.bzl

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// StarlarkVectorsPath is the generated Starlark copy of [Vectors],
// relative to the repository root.
const StarlarkVectorsPath = "rules/private/vectors.bzl"

// Vectors are cases the Go model and the loading phase's Starlark must
// both get right: TestVectors runs them here, and the Starlark test
// //rules/tests:rules_test runs them through rules/private/vectors.bzl.
type VectorSet struct {
	Profiles []ProfileVector `json:"profiles"`
	Variants []VariantVector `json:"variants"`
	Budgets  []BudgetVector  `json:"budgets"`
	// Validations: the attribute checks of ValidateAttrs and of the
	// macro's validate_test.
	Validations []ValidationVector `json:"validations"`
}

// ValidationVector: a test's attributes (0: unset), and an error message
// expected, or "" for valid attributes.
type ValidationVector struct {
	Name    string `json:"name"`
	Attrs   Attrs  `json:"attrs"`
	WantErr string `json:"want_err"`
}

// ProfileVector: the profiles of a flag set, or an error.
type ProfileVector struct {
	Name     string              `json:"name"`
	Flags    []string            `json:"flags"`
	Requires map[string][]string `json:"requires"`
	Required []string            `json:"required"`
	Excluded []string            `json:"excluded"`
	// Want are the profile names in order; WantErr, when set, is a part
	// of the error message both sides give.
	Want    []string `json:"want"`
	WantErr string   `json:"want_err"`
	// WantCount, when set, is the number of profiles (Want too long to
	// list).
	WantCount int `json:"want_count"`
}

// VariantVector: the gauntlet of a test under constraints.
type VariantVector struct {
	Name        string              `json:"name"`
	Flags       []string            `json:"flags"`
	Requires    map[string][]string `json:"requires"`
	Required    []string            `json:"required"`
	Excluded    []string            `json:"excluded"`
	MinSockets  int                 `json:"min_sockets"`
	MinLLCs     int                 `json:"min_llcs"`
	MinCPUs     int                 `json:"min_cpus"`
	RequiresSMT bool                `json:"requires_smt"`
	// WantCount variants, the first and last target names (test "T").
	WantCount int    `json:"want_count"`
	WantFirst string `json:"want_first"`
	WantLast  string `json:"want_last"`
}

// BudgetVector: the budget selection of one test's gauntlet (test "T").
type BudgetVector struct {
	Name      string              `json:"name"`
	Scheduler string              `json:"scheduler"`
	Flags     []string            `json:"flags"`
	Requires  map[string][]string `json:"requires"`
	MinLLCs   int                 `json:"min_llcs"`
	WorkTypes []string            `json:"work_types"`
	DurationS int                 `json:"duration_s"`
	BudgetS   int                 `json:"budget_s"`
	// Want are the chosen target names, in the order chosen.
	Want []string `json:"want"`
}

var (
	exFlags    = []string{"llc", "borrow", "steal"}
	exRequires = map[string][]string{"steal": {"llc"}}
	many       = []string{"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13"}
)

// Vectors is the shared set.
var Vectors = VectorSet{
	Profiles: []ProfileVector{
		{Name: "no flags", Want: []string{"default"}},
		{Name: "all subsets meeting requirements", Flags: exFlags, Requires: exRequires,
			Want: []string{"default", "borrow", "llc", "borrow+llc", "llc+steal", "borrow+llc+steal"}},
		{Name: "required and excluded", Flags: exFlags, Requires: exRequires, Required: []string{"llc"}, Excluded: []string{"borrow"},
			Want: []string{"llc", "llc+steal"}},
		{Name: "a required flag pulls nothing in by itself", Flags: exFlags, Requires: exRequires, Required: []string{"steal"},
			Want: []string{"llc+steal", "borrow+llc+steal"}},
		{Name: "requirement excluded", Flags: exFlags, Requires: exRequires, Required: []string{"steal"}, Excluded: []string{"llc"},
			WantErr: "no flag profile satisfies the requirements of required_flags"},
		{Name: "unknown required flag", Flags: exFlags, Requires: exRequires, Required: []string{"turbo"},
			WantErr: `required_flags: unknown flag "turbo"`},
		{Name: "unknown excluded flag", Flags: exFlags, Excluded: []string{"turbo"},
			WantErr: `excluded_flags: unknown flag "turbo"`},
		{Name: "both required and excluded", Flags: exFlags, Required: []string{"llc"}, Excluded: []string{"llc"},
			WantErr: `flag "llc" is both required and excluded`},
		{Name: "12 optional flags are the most", Flags: many[:12], WantCount: 4096},
		{Name: "13 optional flags are too many", Flags: many, WantErr: "13 optional flags make"},
		{Name: "13 flags, one excluded, are fine", Flags: many, Excluded: []string{"f13"}, WantCount: 4096},
	},
	Variants: []VariantVector{
		{Name: "no constraints", WantCount: 19, WantFirst: "T_gauntlet_tiny_1llc_default", WantLast: "T_gauntlet_max_cpu_nosmt_default"},
		{Name: "two LLCs and SMT, with profiles", Flags: exFlags, Requires: exRequires, Required: []string{"llc"}, Excluded: []string{"borrow"},
			MinLLCs: 2, RequiresSMT: true, WantCount: 2 * 8, WantFirst: "T_gauntlet_smt_2llc_llc", WantLast: "T_gauntlet_max_cpu_llc_steal"},
		{Name: "min_cpus 100", MinCPUs: 100, WantCount: 8, WantFirst: "T_gauntlet_large_4llc_default", WantLast: "T_gauntlet_max_cpu_nosmt_default"},
		{Name: "min_sockets 8", MinSockets: 8, WantCount: 8, WantFirst: "T_gauntlet_medium_8llc_default", WantLast: "T_gauntlet_max_cpu_nosmt_default"},
		{Name: "zero minimums mean none", MinSockets: 0, MinLLCs: 0, MinCPUs: 0, WantCount: 19, WantFirst: "T_gauntlet_tiny_1llc_default", WantLast: "T_gauntlet_max_cpu_nosmt_default"},
	},
	Budgets: []BudgetVector{
		{Name: "eevdf, 30 s", Scheduler: "eevdf", BudgetS: 30,
			Want: []string{"T_gauntlet_tiny_1llc_default", "T_gauntlet_smt_2llc_default", "T_gauntlet_medium_4llc_default"}},
		{Name: "a scheduler's profiles, 60 s", Scheduler: "ktstr", Flags: exFlags, Requires: exRequires, MinLLCs: 2, WorkTypes: []string{"CpuSpin", "Mixed"}, DurationS: 3, BudgetS: 60,
			Want: []string{"T_gauntlet_tiny_2llc_borrow", "T_gauntlet_smt_3llc_borrow_llc", "T_gauntlet_medium_4llc_borrow_llc_steal", "T_gauntlet_odd_5llc_default", "T_gauntlet_odd_7llc_llc", "T_gauntlet_tiny_2llc_llc_steal"}},
		{Name: "too small a budget picks nothing", Scheduler: "eevdf", BudgetS: 5},
	},
	Validations: []ValidationVector{
		{Name: "a full topology with a minimum it meets", Attrs: Attrs{Sockets: 2, Cores: 2, Threads: 1, MinLLCs: 2}},
		{Name: "zeros are defaults", Attrs: Attrs{Sockets: 0, Cores: 0, MinLLCs: 0, MinCPUs: 0, DurationS: 0}},
		{Name: "negative cores", Attrs: Attrs{Cores: -1}, WantErr: "cores = -1: must be >= 0 (0 means default)"},
		{Name: "negative memory", Attrs: Attrs{MemoryMB: -5}, WantErr: "memory_mb = -5: must be >= 0 (0 means default)"},
		{Name: "negative minimum", Attrs: Attrs{MinCPUs: -2}, WantErr: "min_cpus = -2: must be >= 0 (0 means default)"},
		{Name: "negative duration", Attrs: Attrs{DurationS: -1}, WantErr: "duration_s = -1: must be >= 0 (0 means default)"},
		{Name: "too many CPUs", Attrs: Attrs{Sockets: 16, Cores: 16, Threads: 1}, WantErr: "topology 16s16c1t has 256 CPUs: at most 252"},
		{Name: "min_llcs above every preset", Attrs: Attrs{MinLLCs: 16}, WantErr: "min_llcs = 16 is above the maximum 15 of any preset"},
		{Name: "min_cpus above every preset", Attrs: Attrs{MinCPUs: 253}, WantErr: "min_cpus = 253 is above the maximum 252 of any preset"},
		{Name: "min_sockets above the test's own", Attrs: Attrs{Sockets: 1, MinSockets: 2}, WantErr: "min_sockets = 2 is above the test's own sockets = 1"},
		{Name: "min_cpus above the test's own", Attrs: Attrs{Sockets: 2, Cores: 2, Threads: 1, MinCPUs: 8}, WantErr: "min_cpus = 8 is above the test's own 4 CPUs"},
		{Name: "SMT required of one thread", Attrs: Attrs{Threads: 1, RequiresSMT: true}, WantErr: "requires_smt = True but threads = 1"},
		{Name: "SMT required, threads unset", Attrs: Attrs{RequiresSMT: true}},
	},
}

// StarlarkVectors renders [Vectors] as a Starlark file (a JSON document
// decoded at load time). Regenerate with `go generate ./internal/gauntlet`;
// a test fails when the file is stale.
func StarlarkVectors() []byte {
	j, err := json.MarshalIndent(Vectors, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("gauntlet: encoding the vectors: %v", err))
	}
	var b bytes.Buffer
	b.WriteString(`"""Cases the Go gauntlet model and this Starlark must both get right.

Generated from internal/gauntlet/vectors.go by ` + "`go generate ./internal/gauntlet`" + `; DO NOT EDIT.
"""

VECTORS = json.decode(r"""
`)
	b.Write(j)
	b.WriteString("\n\"\"\")\n")
	return b.Bytes()
}
