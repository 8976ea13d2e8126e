package runner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/topology"
)

// BenchmarkBootVsTest prints, from one run on one machine, the time of a
// bare boot of the kernel to power-off (an init that powers off at once)
// and the time of the simplest ktstr test end to end (TestSteady of the
// examples: initramfs, boot, 2 s of workers, verdict), and their ratio.
//
//	go test ./runner -run '^$' -bench BootVsTest -benchtime 3x
func BenchmarkBootVsTest(b *testing.B) {
	k, err := kernel.Resolve(kernel.ResolveOptions{})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	build := func(args ...string) {
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
	build("build", "-o", filepath.Join(dir, "poweroff"), "./testdata/poweroff")
	build("test", "-c", "-o", filepath.Join(dir, "examples.test"), "../examples")
	bare := filepath.Join(dir, "bare.cpio")
	if err := runner.WriteInitramfs(bare, []runner.File{{Path: "/init", Source: filepath.Join(dir, "poweroff"), Mode: 0o755}}, true); err != nil {
		b.Fatal(err)
	}
	topo := topology.Topology{Sockets: 1, Cores: 2, Threads: 1}

	var bareTotal, testTotal time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		out, err := runner.Boot(context.Background(), runner.Config{Kernel: k.Path, Initramfs: []string{bare}, Topology: topo, Timeout: time.Minute})
		var be *runner.BootError
		if !errors.As(err, &be) || be.Kind != runner.FailNoResult || out.ShutdownReason != "guest-shutdown" {
			b.Fatalf("bare boot: want a clean power-off without results, got %v", err)
		}
		bareTotal += time.Since(start)

		start = time.Now()
		cmd := exec.Command(filepath.Join(dir, "examples.test"), "-test.run", "^TestSteady$")
		cmd.Dir = "../examples"
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("TestSteady: %v\n%s", err, out)
		}
		testTotal += time.Since(start)
	}
	b.StopTimer()
	bareS := bareTotal.Seconds() / float64(b.N)
	testS := testTotal.Seconds() / float64(b.N)
	b.ReportMetric(bareS, "bare-boot-s")
	b.ReportMetric(testS, "ktstr-test-s")
	b.ReportMetric(testS/bareS, "ratio")
	fmt.Printf("kernel %s, %s: bare boot to power-off %.2fs, TestSteady end to end %.2fs, ratio %.2f (n=%d)\n",
		k.Path, topo, bareS, testS, testS/bareS, b.N)
}

// BenchmarkMonitorOverhead runs TestSteady of the examples with the host
// monitor on and off, in turns within one run, and prints the guest's
// total work units each way, their ratio, and the host CPU time the
// monitor's sampling thread used.
//
//	go test ./runner -run '^$' -bench MonitorOverhead -benchtime 3x
func BenchmarkMonitorOverhead(b *testing.B) {
	dir := b.TempDir()
	cmd := exec.Command("go", "test", "-c", "-o", filepath.Join(dir, "examples.test"), "../examples")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the examples: %v\n%s", err, out)
	}
	type result struct {
		Workers []struct {
			WorkUnits uint64 `json:"work_units"`
		} `json:"workers"`
		Monitor *struct {
			HostCPUNs  int64 `json:"host_cpu_ns"`
			HostWallNs int64 `json:"host_wall_ns"`
			Samples    []any `json:"samples"`
		} `json:"monitor"`
	}
	run := func(i int, monitor bool) result {
		out := filepath.Join(dir, fmt.Sprintf("run%d-%v", i, monitor))
		cmd := exec.Command(filepath.Join(dir, "examples.test"), "-test.run", "^TestSteady$")
		cmd.Dir = "../examples"
		cmd.Env = append(os.Environ(), "KTSTR_OUTPUT_DIR="+out)
		if !monitor {
			cmd.Env = append(cmd.Env, "KTSTR_MONITOR=off")
		}
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("TestSteady (monitor %v): %v\n%s", monitor, err, o)
		}
		data, err := os.ReadFile(filepath.Join(out, "TestSteady", "result.json"))
		if err != nil {
			b.Fatal(err)
		}
		var r result
		if err := json.Unmarshal(data, &r); err != nil {
			b.Fatal(err)
		}
		return r
	}
	var on, off uint64
	var cpuNs, wallNs int64
	var samples int
	b.ResetTimer()
	for i := range b.N {
		// Alternate the order so that drift in the machine's load falls
		// on both sides.
		for _, m := range []bool{i%2 == 0, i%2 != 0} {
			r := run(i, m)
			var units uint64
			for _, w := range r.Workers {
				units += w.WorkUnits
			}
			if m {
				on += units
				if r.Monitor == nil {
					b.Fatal("monitor on, but no monitor report")
				}
				cpuNs += r.Monitor.HostCPUNs
				wallNs += r.Monitor.HostWallNs
				samples += len(r.Monitor.Samples)
			} else {
				off += units
				if r.Monitor != nil {
					b.Fatal("monitor off, but a monitor report")
				}
			}
		}
	}
	b.StopTimer()
	ratio := float64(on) / float64(off)
	b.ReportMetric(ratio, "work-on/off")
	b.ReportMetric(float64(cpuNs)/1e6/float64(b.N), "monitor-cpu-ms/run")
	fmt.Printf("TestSteady, %d runs each way: work units with the monitor %d, without %d, ratio %.3f; monitor thread CPU %.1f ms per run over %.1f s (%.2f%% of one host CPU, %.0f µs per sample)\n",
		b.N, on, off, ratio, float64(cpuNs)/1e6/float64(b.N), float64(wallNs)/1e9/float64(b.N),
		100*float64(cpuNs)/float64(max(wallNs, 1)), float64(cpuNs)/1e3/float64(max(samples, 1)))
}
