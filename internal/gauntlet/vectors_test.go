package gauntlet

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/topology"
)

func names(vs []Variant) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Target())
	}
	return out
}

// TestVectors runs the shared vectors against the Go model; the Starlark
// test //rules/tests:rules_test runs the same ones against profiles.bzl
// and gauntlet.bzl.
func TestVectors(t *testing.T) {
	for _, c := range Vectors.Profiles {
		t.Run("profiles/"+c.Name, func(t *testing.T) {
			ps, err := Profiles("s", c.Flags, c.Requires, c.Required, c.Excluded)
			if c.WantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.WantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.WantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, ProfileName(p))
			}
			if c.WantCount > 0 && len(got) != c.WantCount {
				t.Errorf("%d profiles, want %d", len(got), c.WantCount)
			}
			if c.Want != nil && !slices.Equal(got, c.Want) {
				t.Errorf("profiles %q, want %q", got, c.Want)
			}
		})
	}
	for _, c := range Vectors.Variants {
		t.Run("variants/"+c.Name, func(t *testing.T) {
			vs, err := Variants(&Test{Name: "T", Scheduler: "s", Flags: c.Flags, Requires: c.Requires, RequiredFlags: c.Required, ExcludedFlags: c.Excluded,
				Constraints: topology.Constraints{MinSockets: c.MinSockets, MinLLCs: c.MinLLCs, MinCPUs: c.MinCPUs, RequiresSMT: c.RequiresSMT}})
			if err != nil {
				t.Fatal(err)
			}
			n := names(vs)
			if len(n) != c.WantCount || n[0] != c.WantFirst || n[len(n)-1] != c.WantLast {
				t.Errorf("%d variants, %s .. %s; want %d, %s .. %s", len(n), n[0], n[len(n)-1], c.WantCount, c.WantFirst, c.WantLast)
			}
		})
	}
	for _, c := range Vectors.Budgets {
		t.Run("budget/"+c.Name, func(t *testing.T) {
			vs, err := Variants(&Test{Name: "T", Scheduler: c.Scheduler, Flags: c.Flags, Requires: c.Requires,
				Constraints: topology.Constraints{MinLLCs: c.MinLLCs}, WorkTypes: c.WorkTypes, DurationS: c.DurationS})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range Select(vs, c.BudgetS) {
				got = append(got, p.Variant.Target())
			}
			if !slices.Equal(got, c.Want) {
				t.Errorf("chose %q, want %q", got, c.Want)
			}
		})
	}
}

func TestValidationVectors(t *testing.T) {
	for _, c := range Vectors.Validations {
		t.Run(c.Name, func(t *testing.T) {
			errs := ValidateAttrs(c.Attrs)
			if c.WantErr == "" {
				if len(errs) > 0 {
					t.Errorf("errors %q, want none", errs)
				}
				return
			}
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, c.WantErr) }) {
				t.Errorf("errors %q, want one containing %q", errs, c.WantErr)
			}
		})
	}
}

// TestStarlarkVectorsCurrent fails when rules/private/vectors.bzl no
// longer matches Vectors.
func TestStarlarkVectorsCurrent(t *testing.T) {
	got, err := os.ReadFile(filepath.Join("..", "..", StarlarkVectorsPath))
	if err != nil {
		t.Fatalf("%v (generate it with: go generate ./internal/gauntlet)", err)
	}
	if !bytes.Equal(got, StarlarkVectors()) {
		t.Fatalf("%s is stale: run `go generate ./internal/gauntlet` and commit the result", StarlarkVectorsPath)
	}
}
