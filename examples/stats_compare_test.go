package examples

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr"
)

// TestStatsCompareCatchesDegrade runs TestCompareSubject in
// VMs, twice normally and once under scx_ktstr's degrade fault, and
// compares the result files: the two normal runs must compare clean, the
// degraded one must be flagged against a normal one, and a baseline saved
// from a normal run must pass the other and fail the degraded one.
func TestStatsCompareCatchesDegrade(t *testing.T) {
	if ktstr.InGuest() {
		t.Skip("host-side test")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "examples.test")
	if out, err := exec.Command("go", "test", "-c", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building the examples: %v\n%s", err, out)
	}
	cli := filepath.Join(dir, "ktstr")
	if out, err := exec.Command("go", "build", "-o", cli, "../tools/ktstr").CombinedOutput(); err != nil {
		t.Fatalf("building the ktstr command: %v\n%s", err, out)
	}
	vmRun := func(name, fault string, mustPass bool) string {
		out := filepath.Join(dir, name)
		cmd := exec.Command(bin, "-test.run", "^TestCompareSubject$", "-test.v")

		cmd.Env = append(os.Environ(), "KTSTR_OUTPUT_DIR="+out, "KTSTR_EXAMPLE_FAULT="+fault)
		o, err := cmd.CombinedOutput()
		if mustPass && err != nil {
			t.Fatalf("TestCompareSubject (%s): %v\n%s", name, err, o)
		}
		if _, err := os.Stat(filepath.Join(out, "TestCompareSubject", "result.json")); err != nil {
			t.Fatalf("TestCompareSubject (%s) wrote no result.json: %v\n%s", name, err, o)
		}
		return out
	}
	normal1 := vmRun("normal1", "none", true)
	normal2 := vmRun("normal2", "none", true)
	degraded := vmRun("degraded", "degrade", false)

	ktstrCmd := func(args ...string) (int, string) {
		var out bytes.Buffer
		cmd := exec.Command(cli, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, out.String()
		case errors.As(err, &ee):
			return ee.ExitCode(), out.String()
		}
		t.Fatalf("running ktstr %v: %v", args, err)
		return -1, ""
	}
	if code, out := ktstrCmd("stats", "compare", normal1, normal2); code != 0 {
		t.Errorf("two normal runs: exit %d, want 0:\n%s", code, out)
	} else {
		t.Logf("two normal runs:\n%s", out)
	}
	code, out := ktstrCmd("stats", "compare", normal1, degraded)
	if code != 1 || !strings.Contains(out, "!! work_units") {
		t.Errorf("normal vs degraded: exit %d, want 1 with work_units flagged:\n%s", code, out)
	} else {
		t.Logf("normal vs degraded:\n%s", out)
	}
	bl := filepath.Join(dir, "baseline.json")
	if code, out := ktstrCmd("stats", "baseline", "save", "--file", bl, normal1); code != 0 {
		t.Fatalf("baseline save: exit %d:\n%s", code, out)
	}
	if code, out := ktstrCmd("stats", "baseline", "check", "--file", bl, normal2); code != 0 {
		t.Errorf("baseline check of a normal run: exit %d:\n%s", code, out)
	}
	if code, out := ktstrCmd("stats", "baseline", "check", "--file", bl, degraded); code != 1 {
		t.Errorf("baseline check of the degraded run: exit %d, want 1:\n%s", code, out)
	}
}
