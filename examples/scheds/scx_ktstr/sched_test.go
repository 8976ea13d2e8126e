package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]int{
		"":            nil,
		"0":           {0},
		"0-3\n":       {0, 1, 2, 3},
		"0-1,4,6-7":   {0, 1, 4, 6, 7},
		"2,3":         {2, 3},
		"10-11,12-12": {10, 11, 12},
	} {
		got, err := parseCPUList(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"a", "3-1", "1-", "-1", "1,,2"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) succeeded", bad)
		}
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadLLCTopology(t *testing.T) {
	root := t.TempDir()
	cpu := filepath.Join(root, "devices", "system", "cpu")
	writeFile(t, filepath.Join(cpu, "possible"), "0-5\n")
	// CPUs 0-3 show an L3 each pair shares; 4 only a package; 5 nothing.
	for c, l3 := range []string{"2-3", "2-3", "0-1", "0-1"} {
		writeFile(t, filepath.Join(cpu, "cpu"+string(rune('0'+c)), "cache", "index3", "shared_cpu_list"), l3+"\n")
	}
	writeFile(t, filepath.Join(cpu, "cpu4", "topology", "physical_package_id"), "7\n")
	topo, err := readLLCTopology(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint32{0, 0, 1, 1, 2, 0}; !reflect.DeepEqual(topo.CPULLC, want) || topo.NrLLCs != 3 {
		t.Errorf("got %v with %d LLCs, want %v with 3", topo.CPULLC, topo.NrLLCs, want)
	}

	writeFile(t, filepath.Join(cpu, "possible"), "0-256\n")
	if _, err := readLLCTopology(root); err == nil || !strings.Contains(err.Error(), "256") {
		t.Errorf("257 CPUs: err %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := config{SliceUS: 5000, Fault: "none"}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    config
		want string
	}{
		{config{Steal: true, SliceUS: 1, Fault: "none"}, "--steal requires --llc"},
		{config{SliceUS: 0, Fault: "none"}, "--slice-us"},
		{config{SliceUS: 1, Fault: "sometimes"}, "--fault"},
		{config{SliceUS: 1, Fault: "none", TimeoutMS: 30001}, "--timeout-ms"},
	} {
		if err := tc.c.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.c, err, tc.want)
		}
	}
	for _, f := range []string{"none", "stall", "degrade", "scattershot", "fail-verify"} {
		c := config{LLC: true, Steal: true, SliceUS: 1, Fault: f}
		if err := c.validate(); err != nil {
			t.Errorf("fault %s: %v", f, err)
		}
	}
}

func TestExitLine(t *testing.T) {
	var ei ktstrKtstrExitInfo
	ei.Kind = 1026
	for i, c := range "runnable task stall" {
		ei.Reason[i] = int8(c)
	}
	for i, c := range `a "b"` {
		ei.Msg[i] = int8(c)
	}
	want := `scx_ktstr: exit kind=1026 (ERROR_STALL) reason="runnable task stall" msg="a \"b\""`
	if got := exitLine(&ei); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if exitKindName(12345) != "UNKNOWN" || exitKindName(64) != "UNREG" {
		t.Error("exitKindName")
	}
}

func TestTailLines(t *testing.T) {
	if got := tailLines("a\nb\nc\n", 2); got != "b\nc" {
		t.Errorf("got %q", got)
	}
	if got := tailLines("a", 5); got != "a" {
		t.Errorf("got %q", got)
	}
}
