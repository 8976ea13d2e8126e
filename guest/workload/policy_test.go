package workload

import (
	"strings"
	"testing"
)

func TestValidatePolicy(t *testing.T) {
	for _, tt := range []struct {
		p        Policy
		priority int
		wantErr  string
	}{
		{"", 0, ""},
		{PolicyNormal, 0, ""},
		{PolicyBatch, 0, ""},
		{PolicyIdle, 0, ""},
		{PolicyFIFO, 1, ""},
		{PolicyRR, 99, ""},
		{PolicyFIFO, 0, "policy fifo needs a priority from 1 to 99, got 0"},
		{PolicyRR, 100, "policy rr needs a priority from 1 to 99, got 100"},
		{PolicyBatch, 5, "policy batch takes no priority"},
		{"deadline", 0, `unknown scheduling policy "deadline" (known: normal, batch, idle, fifo, rr)`},
	} {
		err := ValidatePolicy(tt.p, tt.priority)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ValidatePolicy(%q, %d) = %v, want nil", tt.p, tt.priority, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ValidatePolicy(%q, %d) = %v, want %q", tt.p, tt.priority, err, tt.wantErr)
		}
	}
}

func TestPolicyNames(t *testing.T) {
	for p, n := range policyNumbers {
		if got := policyName(n); got != p {
			t.Errorf("policyName(%d) = %q, want %q", n, got, p)
		}
	}
	if got := policyName(6); got != "policy-6" {
		t.Errorf("policyName(6) = %q, want policy-6 (SCHED_DEADLINE is not one of ours)", got)
	}
}
