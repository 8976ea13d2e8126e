package mig

import (
	"testing"

	"github.com/ktstr-go/ktstr"
)

func TestOld(t *testing.T) {
	ktstr.Run(t, ktstr.Spec{Scheduler: &Sched, Cores: 4, RequiredFlags: []string{"x"}})
}
