package testdecl

import (
	"slices"
	"testing"

	"github.com/ktstr-go/ktstr/guest/workload"
)

func TestKnownWorkTypesAreTheWorkloads(t *testing.T) {
	var want []string
	for _, w := range workload.WorkTypes() {
		want = append(want, string(w))
	}
	if !slices.Equal(knownWorkTypes, want) {
		t.Errorf("knownWorkTypes = %q, want workload.WorkTypes() %q", knownWorkTypes, want)
	}
}
