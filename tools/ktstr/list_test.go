package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestListJSON(t *testing.T) {
	code, stdout, stderr := runArgs("list", "--json")
	if code != 0 {
		t.Fatalf("exit = %d, stderr %q", code, stderr)
	}
	var l listing
	if err := json.Unmarshal([]byte(stdout), &l); err != nil {
		t.Fatalf("list --json: %v\n%s", err, stdout)
	}
	if len(l.Scenarios) != 14 || len(l.WorkTypes) != 12 || len(l.Presets) != 19 {
		t.Errorf("%d scenarios, %d work types, %d presets; want 14, 12, 19", len(l.Scenarios), len(l.WorkTypes), len(l.Presets))
	}
	byName := map[string]listWorkType{}
	for _, w := range l.WorkTypes {
		byName[w.Name] = w
	}
	if w := byName["FutexFanOut"]; w.GroupSize != 5 || !w.Blocking || w.Defaults.FanOut != 4 {
		t.Errorf("FutexFanOut = %+v, want a blocking type in groups of 5 with fan_out 4", w)
	}
	if l.Scenarios[0].Name != "steady" || len(l.Scenarios[11].WorkTypes) != 3 {
		t.Errorf("scenarios %+v: want steady first and mixed_workloads with 3 work types", l.Scenarios)
	}
	code, stdout, _ = runArgs("list")
	if code != 0 || !strings.Contains(stdout, "nested_task_move") || !strings.Contains(stdout, "CachePipe") || !strings.Contains(stdout, "odd-3llc") {
		t.Errorf("list = %d:\n%s", code, stdout)
	}
}
