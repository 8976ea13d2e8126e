package broken

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

func TestGood(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Cores: 2})
}
