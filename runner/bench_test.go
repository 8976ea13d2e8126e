package runner_test

import (
	"context"
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
