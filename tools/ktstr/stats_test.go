package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/verify/results"
)

func writeResult(t *testing.T, dir, test string, m map[string]float64) string {
	t.Helper()
	p := filepath.Join(dir, test, "result.json")
	os.MkdirAll(filepath.Dir(p), 0o755)
	b, _ := json.Marshal(results.File{SchemaVersion: results.SchemaVersion, Test: test, Topology: "1s2c1t", Metrics: m})
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStatsCompareExitStatus(t *testing.T) {
	dir := t.TempDir()
	a := writeResult(t, filepath.Join(dir, "a"), "TestX", map[string]float64{"work_units": 1000})
	same := writeResult(t, filepath.Join(dir, "same"), "TestX", map[string]float64{"work_units": 950})
	worse := writeResult(t, filepath.Join(dir, "worse"), "TestX", map[string]float64{"work_units": 100})
	if code, out, errOut := runArgs("stats", "compare", a, same); code != 0 || !strings.Contains(out, "no regressions") {
		t.Errorf("same: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runArgs("stats", "compare", filepath.Join(dir, "a"), filepath.Join(dir, "worse")); code != 1 || !strings.Contains(out, "!! work_units") {
		t.Errorf("worse (folders): exit %d\n%s", code, out)
	}
	// A tighter limit flags the 5% drop.
	if code, out, _ := runArgs("stats", "compare", "--limit", "work_units=1%", a, same); code != 1 {
		t.Errorf("--limit: exit %d\n%s", code, out)
	}
	if code, _, errOut := runArgs("stats", "compare", a); code != 2 || !strings.Contains(errOut, "want two result sets") {
		t.Errorf("one argument: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runArgs("stats", "compare", a, filepath.Join(dir, "nope")); code != 1 || !strings.Contains(errOut, "B:") {
		t.Errorf("missing B: exit %d: %s", code, errOut)
	}
	bl := filepath.Join(dir, "bl.json")
	if code, out, errOut := runArgs("stats", "baseline", "save", "--file", bl, a); code != 0 {
		t.Fatalf("save: %d %s%s", code, out, errOut)
	}
	if code, _, _ := runArgs("stats", "baseline", "check", "--file", bl, same); code != 0 {
		t.Errorf("check same: exit %d", code)
	}
	if code, _, _ := runArgs("stats", "baseline", "check", "--file", bl, worse); code != 1 {
		t.Errorf("check worse: exit %d", code)
	}
	if code, out, _ := runArgs("stats", "show", a); code != 0 || !strings.Contains(out, "work_units") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
}
