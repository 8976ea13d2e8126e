//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package kernel

import (
	"context"
	"testing"
)

func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A second lock must wait; cancel it once it says so.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waited := false
	_, err = lockDir(ctx, dir, func() { waited = true; cancel() })
	if err == nil || !waited {
		t.Errorf("second lockDir = %v (waited %v), want it to wait and then fail", err, waited)
	}
	unlock()
	unlock2, err := lockDir(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("lockDir after unlock: %v", err)
	}
	unlock2()
}
