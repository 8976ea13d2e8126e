package verify

import (
	"github.com/ktstr-go/ktstr/guest/wire"
	"strings"
	"testing"
)

func TestThroughputCV(t *testing.T) {
	even := []wire.WorkerReport{
		{Cgroup: "a", Index: 0, WorkUnits: 1000, CPUTimeNs: 1e9},
		{Cgroup: "a", Index: 1, WorkUnits: 1000, CPUTimeNs: 1e9},
	}
	if r := checkThroughputCV(even, 0.1); !r.Passed || !strings.Contains(r.Message, "CV 0.000") {
		t.Errorf("even workers: %v", r)
	}
	uneven := []wire.WorkerReport{
		{Cgroup: "a", Index: 0, WorkUnits: 1000, CPUTimeNs: 1e9},
		{Cgroup: "a", Index: 1, WorkUnits: 3000, CPUTimeNs: 1e9},
	}
	// rates 1000 and 3000: mean 2000, stddev 1000, CV 0.5
	if r := checkThroughputCV(uneven, 0.4); r.Passed || !strings.Contains(r.Message, "CV 0.500") {
		t.Errorf("uneven workers: %v", r)
	}
	if r := checkThroughputCV(uneven[:1], 0.4); r.Passed || !strings.Contains(r.Message, "at least 2 workers") {
		t.Errorf("one worker: %v", r)
	}
}

func TestMinRates(t *testing.T) {
	ws := []wire.WorkerReport{
		{Cgroup: "a", Index: 0, PID: 7, WorkUnits: 500, Iterations: 50, CPUTimeNs: 1e9, WallNs: 2e9},
		{Cgroup: "a", Index: 1, PID: 8, WorkUnits: 2000, Iterations: 400, CPUTimeNs: 1e9, WallNs: 2e9},
	}
	th := Thresholds{MinWorkRate: 1000, MinIterationRate: 100}
	res := Evaluate(ws, th, Env{})
	byName := map[string]CheckResult{}
	for _, r := range res {
		byName[r.Name] = r
	}
	if r := byName[CheckWorkRate]; r.Passed || !strings.Contains(r.Message, "a[0] (pid 7) 500.0") || strings.Contains(r.Message, "a[1]") {
		t.Errorf("work rate: %v", r)
	}
	// iteration rates: 25/s and 200/s
	if r := byName[CheckIterRate]; r.Passed || !strings.Contains(r.Message, "a[0] (pid 7) 25.0") || strings.Contains(r.Message, "a[1]") {
		t.Errorf("iteration rate: %v", r)
	}
	th = Thresholds{MinWorkRate: 400, MinIterationRate: 20}
	for _, r := range Evaluate(ws, th, Env{}) {
		if !r.Passed {
			t.Errorf("lower limits: %v", r)
		}
	}
}

func TestWakeLatency(t *testing.T) {
	ws := []wire.WorkerReport{
		{Cgroup: "b", Index: 0, WakeSamples: 100, WakeLatencyP99Ns: 300_000, WakeLatencyCV: 0.5},
		{Cgroup: "b", Index: 1, WakeSamples: 100, WakeLatencyP99Ns: 900_000, WakeLatencyCV: 2.5},
		{Cgroup: "c", Index: 0}, // a spinner: no samples, not judged
	}
	if r := checkWakeP99(ws, 500_000); r.Passed || !strings.Contains(r.Message, "b[1]") || strings.Contains(r.Message, "b[0]") {
		t.Errorf("p99: %v", r)
	}
	if r := checkWakeP99(ws, 1_000_000); !r.Passed || !strings.Contains(r.Message, "900us") {
		t.Errorf("p99 within: %v", r)
	}
	if r := checkWakeCV(ws, 1.0); r.Passed || !strings.Contains(r.Message, "b[1]") {
		t.Errorf("cv: %v", r)
	}
	if r := checkWakeCV(ws[2:], 1.0); r.Passed || !strings.Contains(r.Message, "Bursty") {
		t.Errorf("no sleepers must fail and say why: %v", r)
	}
}

func TestMigrationRatio(t *testing.T) {
	ws := []wire.WorkerReport{
		{Cgroup: "calm", Migrations: 1, Iterations: 1000},
		{Cgroup: "calm", Migrations: 1, Iterations: 1000},
		{Cgroup: "wild", Migrations: 700, Iterations: 1000},
	}
	r := checkMigrationRatio(ws, 0.1)
	if r.Passed || !strings.Contains(r.Message, "wild: 0.7000") || strings.Contains(r.Message, "calm:") {
		t.Errorf("ratio: %v", r)
	}
	if r := checkMigrationRatio(ws[:2], 0.1); !r.Passed || !strings.Contains(r.Message, "calm: 0.0010") {
		t.Errorf("calm only: %v", r)
	}
}
