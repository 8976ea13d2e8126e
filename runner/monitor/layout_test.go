package monitor

import (
	"os"
	"path/filepath"
	"testing"
)

// testVmlinux is a real kernel from the local cache, when there is one.
func testVmlinux(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KTSTR_KERNEL"); p != "" && filepath.Base(p) == "vmlinux" {
		return p
	}
	home, _ := os.UserHomeDir()
	m, _ := filepath.Glob(filepath.Join(home, ".cache", "ktstr", "kernels", "*", "vmlinux"))
	if len(m) == 0 {
		t.Skip("no cached vmlinux (run: go run ./tools/ktstr kernel fetch)")
	}
	return m[0]
}

func TestLayoutOfARealKernel(t *testing.T) {
	l, err := LoadLayout(testVmlinux(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *l)
	if !l.HasScx || !l.HasSched || !l.HasEvents || !l.HasRunnableList {
		t.Errorf("a sched_ext kernel must give every part: %+v", *l)
	}
	if _, ok := l.Events["SCX_EV_SELECT_CPU_FALLBACK"]; !ok {
		t.Errorf("no SCX_EV_SELECT_CPU_FALLBACK in %v", l.EventNames)
	}
	if l.RunqueuesOffset == 0 || l.RqClock == 0 || l.DelayedWorkExpires == 0 {
		t.Errorf("offsets missing: %+v", *l)
	}
}
