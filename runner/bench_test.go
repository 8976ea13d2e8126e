package runner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/topology"
)

// overheadTopologies are the topologies BenchmarkOverhead measures: a
// 2-CPU and an 8-CPU guest ($KTSTR_BENCH_TOPOLOGIES, comma-separated,
// replaces them).
var overheadTopologies = []string{"1s2c1t", "2s4c1t"}

// BenchmarkOverhead measures, per topology and in one run, what the
// harness costs beyond a bare boot: a bare boot of the kernel to
// power-off (QEMU alone, an init that powers off at once; runner.BareBoot)
// against the simplest ktstr test end to end (TestSteady of the examples
// on that topology, its test binary started and ended as go test would:
// host set-up, boot, the guest's set-up, 2 s of workers, the report,
// power-off, the verdict). It prints where the test's time went, phase by
// phase (result.json's breakdown, the mean of the runs), and
//
//	overhead ratio R (TOPOLOGY)
//
// where R is (end to end - the scenario's declared duration) / bare boot.
// One untimed run first fills what a second go test finds ready (the
// test binary's initramfs in the cache, the accelerator verdict, the
// page cache).
//
//	go test ./runner -run '^$' -bench Overhead -benchtime 3x
func BenchmarkOverhead(b *testing.B) {
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
	topos := overheadTopologies
	if v := os.Getenv("KTSTR_BENCH_TOPOLOGIES"); v != "" {
		topos = strings.Split(v, ",")
	}
	const test, declared = "TestSteady", 2.0 // TestSteady's DurationS
	type result struct {
		ElapsedS  float64 `json:"elapsed_s"`
		Accel     string  `json:"accel"`
		Breakdown []struct {
			Name string  `json:"name"`
			Ms   float64 `json:"ms"`
		} `json:"breakdown"`
	}
	runTest := func(topo, out string) (time.Duration, result) {
		cmd := exec.Command(filepath.Join(dir, "examples.test"), "-test.run", "^"+test+"$")
		cmd.Dir = "../examples"
		cmd.Env = append(os.Environ(), "KTSTR_TOPOLOGY="+topo, "KTSTR_OUTPUT_DIR="+out)
		start := time.Now()
		o, err := cmd.CombinedOutput()
		took := time.Since(start)
		if err != nil {
			b.Fatalf("%s on %s: %v\n%s", test, topo, err, o)
		}
		var r result
		data, err := os.ReadFile(filepath.Join(out, test, "result.json"))
		if err == nil {
			err = json.Unmarshal(data, &r)
		}
		if err != nil || len(r.Breakdown) == 0 {
			b.Fatalf("%s on %s: no breakdown in result.json (%v)", test, topo, err)
		}
		return took, r
	}
	// Go runs each sub-benchmark with b.N = 1 before the -benchtime
	// count: the figures of the last run of each topology are kept.
	summary := map[string]string{}
	warm := map[string]bool{}
	for _, ts := range topos {
		topo, err := topology.Parse(ts)
		if err != nil {
			b.Fatal(err)
		}
		topo.MemoryMB = topology.GauntletMemoryMB(topo, 0) // as KTSTR_TOPOLOGY gives the test
		b.Run(ts, func(b *testing.B) {
			if !warm[ts] {
				runTest(ts, filepath.Join(dir, ts+"-warm"))
				warm[ts] = true
			}
			var bareTotal, testTotal time.Duration
			var outside float64
			var names []string
			phases := map[string]float64{}
			accel := ""
			b.ResetTimer()
			for i := range b.N {
				d, err := runner.BareBoot(context.Background(), runner.Config{Kernel: k.Path, Initramfs: []string{bare}, Topology: topo})
				if err != nil {
					b.Fatal(err)
				}
				bareTotal += d
				d, r := runTest(ts, filepath.Join(dir, fmt.Sprintf("%s-%d", ts, i)))
				testTotal += d
				outside += d.Seconds() - r.ElapsedS
				accel = r.Accel
				for _, p := range r.Breakdown {
					if _, ok := phases[p.Name]; !ok {
						names = append(names, p.Name)
					}
					phases[p.Name] += p.Ms
				}
			}
			b.StopTimer()
			n := float64(b.N)
			bareS, testS := bareTotal.Seconds()/n, testTotal.Seconds()/n
			ratio := (testS - declared) / bareS
			b.ReportMetric(bareS, "bare-boot-s")
			b.ReportMetric(testS, "ktstr-test-s")
			b.ReportMetric(ratio, "overhead-ratio")
			fmt.Printf("%s, kernel %s, %s: bare boot to power-off %.2fs; %s end to end %.2fs, of which %.1fs declared scenario (n=%d)\n",
				ts, k.Path, accel, bareS, test, testS, declared, b.N)
			fmt.Printf("  %-44s %8.3fs\n", "test binary, outside the test (start, exit)", outside/n)
			for _, name := range names {
				fmt.Printf("  %-44s %8.3fs\n", name, phases[name]/1000/n)
			}
			line := fmt.Sprintf("overhead ratio %.2f (%s)", ratio, ts)
			fmt.Println(line)
			summary[ts] = line
		})
	}
	for _, ts := range topos {
		fmt.Println(summary[ts])
	}
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
