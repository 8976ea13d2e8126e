package off

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

func TestOff(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Sockets: 2})
}
