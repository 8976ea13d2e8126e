package plain

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestSpecOnly uses the ktstr package, but runs nothing.
func TestSpecOnly(t *testing.T) {
	if err := (ktstr.Spec{}).Validate(t.Name()); err != nil {
		t.Fatal(err)
	}
}
