package results

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/runner/monitor"
	"github.com/ktstr-go/ktstr/verify"
)

func file(test string, m map[string]float64) File {
	return File{SchemaVersion: SchemaVersion, Test: test, Topology: "1s2c1t", Metrics: m}
}

func TestCompareFlagsOnlyBeyondBothLimits(t *testing.T) {
	a := []File{file("T", map[string]float64{"work_units": 1000, "max_gap_ms": 100, "checks_failed": 0})}
	for _, tc := range []struct {
		name string
		b    map[string]float64
		reg  []string
	}{
		{"same", map[string]float64{"work_units": 1000, "max_gap_ms": 100, "checks_failed": 0}, nil},
		{"noise", map[string]float64{"work_units": 900, "max_gap_ms": 300, "checks_failed": 0}, nil},
		// max_gap_ms +500%, but only 250 ms more: abs limit 250 is not exceeded... +400 ms is.
		{"worse", map[string]float64{"work_units": 100, "max_gap_ms": 500, "checks_failed": 1}, []string{"checks_failed", "max_gap_ms", "work_units"}},
		{"better", map[string]float64{"work_units": 5000, "max_gap_ms": 10, "checks_failed": 0}, nil},
	} {
		c := Compare(a, []File{file("T", tc.b)}, Options{})
		var got []string
		for _, r := range c.Regressions() {
			got = append(got, r.Metric)
		}
		if strings.Join(got, ",") != strings.Join(tc.reg, ",") {
			t.Errorf("%s: regressions %v, want %v", tc.name, got, tc.reg)
		}
	}
}

func TestCompareOptionsAndPairing(t *testing.T) {
	a := []File{file("T", map[string]float64{"work_units": 1000}), file("T", map[string]float64{"work_units": 1200}), file("Gone", nil)}
	b := []File{file("T", map[string]float64{"work_units": 1000}), file("New", nil)}
	c := Compare(a, b, Options{})
	if len(c.Rows) != 1 || c.Rows[0].A != 1100 || c.RunsA["T @1s2c1t"] != 2 {
		t.Fatalf("replicas must be averaged: %+v", c)
	}
	if len(c.OnlyA) != 1 || len(c.OnlyB) != 1 {
		t.Errorf("only in A %v, only in B %v", c.OnlyA, c.OnlyB)
	}
	// A tighter limit turns the -9% into a regression.
	if reg := Compare(a, b, Options{Rel: 0.05}).Regressions(); len(reg) != 1 {
		t.Errorf("--rel 0.05: %v", reg)
	}
	name, l, err := ParseLimit("work_units=5%,10")
	if err != nil || name != "work_units" || l.Rel != 0.05 || l.Abs != 10 {
		t.Errorf("ParseLimit = %s %+v %v", name, l, err)
	}
	if _, _, err := ParseLimit("nonsense"); err == nil {
		t.Error("a limit without = must be refused")
	}
	var buf bytes.Buffer
	Compare(a, b, Options{Rel: 0.05}).Write(&buf, false)
	if !strings.Contains(buf.String(), "!! work_units") || !strings.Contains(buf.String(), "only in A: Gone") {
		t.Errorf("report:\n%s", buf.String())
	}
}

func TestLoadFilesFoldersAndZips(t *testing.T) {
	dir := t.TempDir()
	write := func(p string, f File) {
		b, _ := json.Marshal(f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "a", "TestX", "result.json"), file("TestX", map[string]float64{"work_units": 1}))
	write(filepath.Join(dir, "a", "TestX", "repro", "result.json"), file("TestX", map[string]float64{"work_units": 99}))
	// A Bazel test.outputs folder: outputs.zip.
	zp := filepath.Join(dir, "b", "test.outputs", "outputs.zip")
	os.MkdirAll(filepath.Dir(zp), 0o755)
	zf, _ := os.Create(zp)
	zw := zip.NewWriter(zf)
	w, _ := zw.Create("TestY/result.json")
	b, _ := json.Marshal(file("TestY", map[string]float64{"work_units": 2}))
	w.Write(b)
	zw.Close()
	zf.Close()

	got, err := Load(filepath.Join(dir, "a"), filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Metrics["work_units"] != 1 || got[1].Test != "TestY" {
		t.Errorf("loaded %+v (the repro/ rerun must be left out)", got)
	}
	old := filepath.Join(dir, "old.json")
	os.WriteFile(old, []byte(`{"test":"T"}`), 0o644)
	if _, err := Load(old); err == nil || !strings.Contains(err.Error(), "schema_version") {
		t.Errorf("a file without schema_version: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("an empty folder must be an error")
	}
}

func TestMetricsOfARun(t *testing.T) {
	workers := []wire.WorkerReport{
		{Cgroup: "a", WorkUnits: 100, CPUTimeNs: 1e9, WallNs: 2e9, OffCPUNs: 1e9, MaxGapNs: 5e6},
		{Cgroup: "a", WorkUnits: 300, CPUTimeNs: 1e9, WallNs: 2e9, OffCPUNs: 0.5e9, MaxGapNs: 9e6},
	}
	r := &monitor.Report{}
	for i := range 5 {
		r.Samples = append(r.Samples, monitor.Sample{GuestMs: float64(1000 + 100*i), Scx: true,
			CPUs:   []monitor.CPUSample{{NrRunning: 3, LocalDSQ: 2, ClockNs: uint64(i)}, {NrRunning: 1, ClockNs: 7}},
			Events: map[string]int64{"select_cpu_fallback": int64(10 * i)}})
	}
	m := Metrics(workers, r, verify.Window{}, []verify.CheckResult{{Passed: false}, {Passed: true}})
	for k, want := range map[string]float64{
		"work_units": 400, "min_work_units": 100, "max_gap_ms": 9, "spread_pct": 25, "checks_failed": 1,
		"cgroup/a/work_units": 400, "monitor/max_imbalance": 3, "monitor/max_local_dsq": 2,
		"monitor/select_cpu_fallback_per_s": 100, "monitor/mean_nr_running": 2,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
}

func TestBaselineRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bl.json")
	runs := []File{file("T", map[string]float64{"work_units": 1})}
	if err := SaveBaseline(p, runs, testTime); err != nil {
		t.Fatal(err)
	}
	bl, err := LoadBaseline(p)
	if err != nil || len(bl.Runs) != 1 || bl.Runs[0].Metrics["work_units"] != 1 {
		t.Fatalf("%+v %v", bl, err)
	}
	if _, err := LoadBaseline(filepath.Join(t.TempDir(), "none.json")); err == nil || !strings.Contains(err.Error(), "baseline save") {
		t.Errorf("a missing baseline must say how to save one: %v", err)
	}
}
