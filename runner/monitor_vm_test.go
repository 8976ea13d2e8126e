package runner_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/internal/ksyms"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/runner/monitor"
)

// monitorConfig is a run of guestprog in mode with the host monitor on;
// symbols nil makes the guest send them.
func monitorConfig(t *testing.T, mode string, symbols ksyms.Table) runner.Config {
	t.Helper()
	cfg := config(t, mode, time.Minute)
	req := wire.Request{Test: "guestprog", Args: []string{mode}, Timeout: wire.Duration(time.Minute)}
	if symbols == nil {
		req.KernelSymbols = monitor.AllSymbols()
	}
	b, _ := json.Marshal(req)
	p := filepath.Join(t.TempDir(), "request.cpio")
	if err := runner.WriteInitramfs(p, []runner.File{{Path: wire.RequestPath, Data: b}}, false); err != nil {
		t.Fatal(err)
	}
	cfg.Initramfs[1] = p
	cfg.Topology.Sockets, cfg.Topology.Cores = 2, 1 // two NUMA nodes: two backends
	cfg.Monitor = &runner.MonitorConfig{Symbols: symbols}
	return cfg
}

// TestMonitorReadsTheGuestKernel boots a guest that keeps both CPUs busy
// for two seconds and checks what the host read from the guest's memory:
// samples of both CPUs whose runqueue clocks advance and whose runqueues
// held the spinning threads. A second boot uses the symbols the first
// one received, as the symbol cache does.
func TestMonitorReadsTheGuestKernel(t *testing.T) {
	var got ksyms.Table
	cfg := monitorConfig(t, "busy", nil)
	cfg.Monitor.OnSymbols = func(s ksyms.Table) { got = s }
	out, err := runner.Boot(context.Background(), cfg)
	assertGone(t, out)
	if err != nil {
		t.Fatal(err)
	}
	checkMonitorReport(t, out)
	if got == nil || len(got.Missing(monitor.CoreSymbols)) > 0 {
		t.Fatalf("symbols from the guest: %v", got)
	}

	cfg = monitorConfig(t, "busy", got)
	out, err = runner.Boot(context.Background(), cfg)
	assertGone(t, out)
	if err != nil {
		t.Fatal(err)
	}
	checkMonitorReport(t, out)
}

func checkMonitorReport(t *testing.T, out *runner.Outcome) {
	t.Helper()
	r := out.Monitor
	if r == nil {
		t.Fatalf("no monitor report (notes %v)", out.Notes)
	}
	if r.Error != "" {
		t.Fatalf("monitor error: %s (notes %v)", r.Error, out.Notes)
	}
	if len(r.Samples) < 10 {
		t.Fatalf("%d samples; want one per 100 ms over a run of seconds", len(r.Samples))
	}
	first, last := r.Samples[0], r.Samples[len(r.Samples)-1]
	if len(first.CPUs) != 2 {
		t.Fatalf("samples cover %d CPUs, want 2", len(first.CPUs))
	}
	busy := 0
	for _, s := range r.Samples {
		for _, c := range s.CPUs {
			if c.NrRunning > 0 {
				busy++
			}
		}
	}
	if busy < 10 {
		t.Errorf("only %d CPU samples had a runnable task while two threads spun", busy)
	}
	for i := range 2 {
		if last.CPUs[i].ClockNs <= first.CPUs[i].ClockNs {
			t.Errorf("cpu %d: rq clock did not advance (%d -> %d)", i, first.CPUs[i].ClockNs, last.CPUs[i].ClockNs)
		}
	}
	if last.GuestMs <= first.GuestMs {
		t.Errorf("guest time did not advance: %v -> %v", first.GuestMs, last.GuestMs)
	}
	t.Logf("%d samples over %.1fs guest time, symbols from %s, monitor CPU %.1f ms over %.1f s", len(r.Samples),
		(last.GuestMs-first.GuestMs)/1000, r.SymbolSource, float64(r.HostCPUNs)/1e6, float64(r.HostWallNs)/1e9)
}
