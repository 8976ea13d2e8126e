package wire_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
)

func sampleMessages() []wire.Message {
	return []wire.Message{
		{
			Kind: wire.KindHello,
			Hello: &wire.Hello{
				Kernel:       "6.12.0-ktstr",
				Cmdline:      "console=ttyS0 rdinit=/init",
				UptimeAtInit: 0.42,
				Clocksource:  "tsc",
				Hypervisor:   "KVM",
				View: wire.GuestView{
					CPUs:        8,
					LLCs:        []string{"0-3", "4-7"},
					NUMANodes:   []string{"0-3", "4-7"},
					SMTSiblings: []string{"0-1", "2-3", "4-5", "6-7"},
					Packages:    []string{"0-3", "4-7"},
					MemoryMB:    2000,
				},
				SchedExtState: "disabled",
			},
		},
		{Kind: wire.KindLog, Log: "cgroup cg0 created"},
		{
			Kind: wire.KindResult,
			Result: &wire.TestResult{
				ExitCode:   1,
				TimedOut:   true,
				Duration:   wire.Duration(2500 * time.Millisecond),
				OutputTail: "--- FAIL: TestX\n",
				Report: &wire.TestReport{
					Test: "TestX/sub",
					Workers: []wire.WorkerReport{{
						Cgroup: "cg0", Index: 1, PID: 77, Work: "CpuSpin",
						WorkUnits: 12, Iterations: 3, WallNs: 1e9, CPUTimeNs: 9e8,
						OffCPUNs: 1e8, RunDelayNs: 5e7, Timeslices: 40,
						VoluntarySwitches: 1, InvoluntarySwitches: 39, Migrations: 2,
						CPUsUsed: []int{0, 1}, MaxGapNs: 4e6, MaxGapCPU: 1, MaxGapAtNs: 3e8,
						AllowedCPUs: "0-1", Error: "",
					}},
					Phases:   []wire.Phase{{Name: "workers-ready", AtMs: 1.5}, {Name: "stop", AtMs: 2001.25}},
					SchedExt: wire.SchedExtSample{State: "enabled", Ops: "simple"},
					Errors:   []string{"late worker"},
				},
			},
		},
		{Kind: wire.KindDone, Errors: []string{"umount /sys: busy", "second"}},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		t.Run(string(m.Kind), func(t *testing.T) {
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if bytes.ContainsRune(b, '\n') {
				t.Errorf("encoded message spans lines: %s", b)
			}
			var got wire.Message
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Errorf("round trip =\n%+v\nwant\n%+v", got, m)
			}
		})
	}
}

// TestMessageStream encodes the messages the way the guest does, one JSON
// object per line, and reads them back line by line as the host does.
func TestMessageStream(t *testing.T) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	want := sampleMessages()
	for _, m := range want {
		if err := enc.Encode(m); err != nil {
			t.Fatal(err)
		}
	}
	sc := bufio.NewScanner(&buf)
	var got []wire.Message
	for sc.Scan() {
		var m wire.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, m)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stream =\n%+v\nwant\n%+v", got, want)
	}
}

func TestMessageJSONShape(t *testing.T) {
	tests := []struct {
		m    wire.Message
		want string
	}{
		{wire.Message{Kind: wire.KindLog, Log: "hi"}, `{"kind":"log","log":"hi"}`},
		{wire.Message{Kind: wire.KindDone}, `{"kind":"done"}`},
		{
			wire.Message{Kind: wire.KindResult, Result: &wire.TestResult{Duration: wire.Duration(time.Second)}},
			`{"kind":"result","result":{"exit_code":0,"duration":"1s","output_tail":""}}`,
		},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.m)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("Marshal = %s, want %s", b, tt.want)
		}
	}
}

func TestRequestRoundTrip(t *testing.T) {
	req := wire.Request{
		Test:    "TestA/b",
		Args:    []string{"-test.run", "^TestA$/^b$", "-test.v"},
		Env:     []string{"X=1"},
		Timeout: wire.Duration(90 * time.Second),
		Spec:    json.RawMessage(`{"Sockets":2}`),
		Scheduler: &wire.SchedRequest{
			Name: "ktstr", Ops: "ktstr", Path: wire.SchedDir + "/ktstr", Args: []string{"--llc"},
			MapWrites: []wire.MapWrite{{Map: "ktstr_ctl", Key: 0, Value: 1, AfterMs: 500}},
		},
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"timeout":"1m30s"`) {
		t.Errorf("request JSON %s lacks the timeout as a duration string", b)
	}
	var got wire.Request
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, req) {
		t.Errorf("round trip = %+v, want %+v", got, req)
	}
}

func TestDurationMarshal(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, `"0s"`},
		{1500 * time.Millisecond, `"1.5s"`},
		{2 * time.Minute, `"2m0s"`},
		{250 * time.Microsecond, `"250µs"`},
		{-3 * time.Second, `"-3s"`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(wire.Duration(tt.d))
		if err != nil {
			t.Fatalf("Marshal(%v): %v", tt.d, err)
		}
		if string(b) != tt.want {
			t.Errorf("Marshal(%v) = %s, want %s", tt.d, b, tt.want)
		}
		var back wire.Duration
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if time.Duration(back) != tt.d {
			t.Errorf("Unmarshal(%s) = %v, want %v", b, time.Duration(back), tt.d)
		}
	}
}

func TestDurationUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{`"1h2m3s"`, time.Hour + 2*time.Minute + 3*time.Second, ""},
		{`"100ms"`, 100 * time.Millisecond, ""},
		{`"soon"`, 0, `duration "soon"`},
		{`"10"`, 0, `duration "10"`}, // a unit is required
		{`""`, 0, `duration ""`},
		{`15`, 0, "duration: "},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d wire.Duration
			err := json.Unmarshal([]byte(tt.in), &d)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %v, want an error", tt.in, time.Duration(d))
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Unmarshal(%s) error = %q, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.in, err)
			}
			if time.Duration(d) != tt.want {
				t.Errorf("Unmarshal(%s) = %v, want %v", tt.in, time.Duration(d), tt.want)
			}
		})
	}
}

func TestDurationInStruct(t *testing.T) {
	var r wire.TestResult
	err := json.Unmarshal([]byte(`{"exit_code":0,"duration":"forever"}`), &r)
	if err == nil || !strings.Contains(err.Error(), "forever") {
		t.Errorf("Unmarshal of a bad duration field = %v, want an error naming it", err)
	}
}
