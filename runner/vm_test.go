package runner_test

// VM tests of the runner: real QEMU, the real kernel, the real ktstr-init,
// and a stand-in test binary (testdata/guestprog) that succeeds, hangs,
// crashes the guest kernel or fails on request. Each failure mode must
// come back as the right *BootError with the console tail, within its
// timeout, and leave no QEMU process behind.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/topology"
)

var fixture struct {
	once sync.Once
	dir  string
	base string
	kern string
	err  error
}

// vmFixture returns a kernel and a base initramfs holding ktstr-init and
// guestprog as the test binary.
func vmFixture(t *testing.T) (kernelPath, base string) {
	t.Helper()
	fixture.once.Do(func() {
		fixture.err = func() error {
			k, err := kernel.Resolve(kernel.ResolveOptions{})
			if err != nil {
				return err
			}
			fixture.kern = k.Path
			initBin, err := runner.InitBinary()
			if err != nil {
				return err
			}
			if fixture.dir, err = os.MkdirTemp("", "ktstr-runner-test-"); err != nil {
				return err
			}
			prog := filepath.Join(fixture.dir, "guestprog")
			cmd := exec.Command("go", "build", "-o", prog, "./testdata/guestprog")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("building guestprog: %v\n%s", err, out)
			}
			fixture.base = filepath.Join(fixture.dir, "base.cpio")
			return runner.WriteInitramfs(fixture.base, []runner.File{
				{Path: "/init", Source: initBin, Mode: 0o755},
				{Path: wire.TestBinaryPath, Source: prog, Mode: 0o755},
			}, true)
		}()
	})
	if fixture.err != nil {
		t.Fatalf("VM fixture: %v", fixture.err)
	}
	return fixture.kern, fixture.base
}

func TestMain(m *testing.M) {
	if os.Getenv("RUNNER_TEST_SIGTERM_CHILD") == "1" {
		sigtermChild()
		return
	}
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// request writes a request archive that runs guestprog in mode.
func request(t *testing.T, mode string, guestTimeout time.Duration) string {
	t.Helper()
	b, err := json.Marshal(wire.Request{Test: "guestprog", Args: []string{mode}, Timeout: wire.Duration(guestTimeout)})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "request.cpio")
	if err := runner.WriteInitramfs(p, []runner.File{{Path: wire.RequestPath, Data: b}}, false); err != nil {
		t.Fatal(err)
	}
	return p
}

func config(t *testing.T, mode string, guestTimeout time.Duration) runner.Config {
	k, base := vmFixture(t)
	return runner.Config{
		Kernel:    k,
		Initramfs: []string{base, request(t, mode, guestTimeout)},
		Topology:  topology.Topology{Sockets: 1, Cores: 2, Threads: 1, MemoryMB: 512},
		Timeout:   90 * time.Second,
		OutDir:    t.TempDir(),
	}
}

// assertGone fails when the QEMU of a run still exists.
func assertGone(t *testing.T, out *runner.Outcome) {
	t.Helper()
	if out == nil || out.QEMUPID == 0 {
		return
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(out.QEMUPID)); err == nil {
		t.Errorf("QEMU (pid %d) is still running after Boot returned", out.QEMUPID)
	}
}

func bootErr(t *testing.T, out *runner.Outcome, err error, want runner.FailureKind) *runner.BootError {
	t.Helper()
	var be *runner.BootError
	if !errors.As(err, &be) {
		t.Fatalf("want a *BootError of kind %s, got %v%s", want, err, guestSaid(out))
	}
	if be.Kind != want {
		t.Fatalf("want failure kind %s, got %s: %v", want, be.Kind, err)
	}
	return be
}

func TestBootRunsTheTest(t *testing.T) {
	out, err := runner.Boot(context.Background(), config(t, "ok", time.Minute))
	assertGone(t, out)
	if err != nil {
		t.Fatal(err)
	}
	if out.Hello == nil || out.Hello.View.CPUs != 2 {
		t.Errorf("hello: %+v, want a guest view of 2 CPUs", out.Hello)
	}
	if out.Result == nil || out.Result.ExitCode != 0 || out.Result.Report == nil {
		t.Fatalf("result: %+v, want exit 0 with a report", out.Result)
	}
	if out.ShutdownReason != "guest-shutdown" {
		t.Errorf("shutdown reason %q, want guest-shutdown", out.ShutdownReason)
	}
	if len(out.VCPUs) != 2 {
		t.Errorf("QMP reported %d vCPUs, want 2", len(out.VCPUs))
	}
	t.Logf("accel %s, QEMU %s, %v", out.Accel, out.QEMUVersion, out.Elapsed)
}

func TestFailingTestBinaryIsReported(t *testing.T) {
	out, err := runner.Boot(context.Background(), config(t, "exit3", time.Minute))
	assertGone(t, out)
	if err != nil {
		t.Fatal(err)
	}
	if out.Result == nil || out.Result.ExitCode != 3 || out.Result.Report != nil {
		t.Fatalf("result %+v: want exit code 3 and no report", out.Result)
	}
	if !strings.Contains(out.Result.OutputTail, "guestprog: exit3") {
		t.Errorf("output tail %q lacks the test's output", out.Result.OutputTail)
	}
}

func TestKernelPanicAtBoot(t *testing.T) {
	cfg := config(t, "ok", time.Minute)
	cfg.KernelArgs = []string{"rdinit=/does-not-exist"}
	start := time.Now()
	out, err := runner.Boot(context.Background(), cfg)
	assertGone(t, out)
	be := bootErr(t, out, err, runner.FailPanic)
	if !strings.Contains(be.ConsoleTail, "Kernel panic") {
		t.Errorf("console tail lacks the panic:\n%s", be.ConsoleTail)
	}
	if !strings.Contains(err.Error(), "--- console tail ---") {
		t.Errorf("error does not carry the console tail: %v", err)
	}
	t.Logf("panic reported after %v", time.Since(start))
}

func TestKernelPanicDuringTest(t *testing.T) {
	out, err := runner.Boot(context.Background(), config(t, "crash", time.Minute))
	assertGone(t, out)
	be := bootErr(t, out, err, runner.FailPanic)
	if !strings.Contains(be.ConsoleTail, "sysrq") {
		t.Errorf("console tail lacks the sysrq crash:\n%s", be.ConsoleTail)
	}
	if out.Hello == nil {
		t.Errorf("the guest's hello was lost")
	}
}

func TestHungGuestTimesOut(t *testing.T) {
	cfg := config(t, "hang", 10*time.Minute)
	cfg.Timeout = 20 * time.Second
	cfg.TCGScale = 1
	start := time.Now()
	out, err := runner.Boot(context.Background(), cfg)
	elapsed := time.Since(start)
	assertGone(t, out)
	be := bootErr(t, out, err, runner.FailTimeout)
	if elapsed > cfg.Timeout+15*time.Second {
		t.Errorf("timeout of %v took %v", cfg.Timeout, elapsed)
	}
	if !strings.Contains(be.ConsoleTail, "guestprog: hang") {
		t.Errorf("console tail lacks the hanging test's output:\n%s", be.ConsoleTail)
	}
}

func TestGuestTimeoutKillsTheTest(t *testing.T) {
	out, err := runner.Boot(context.Background(), config(t, "hang", 3*time.Second))
	assertGone(t, out)
	if err != nil {
		t.Fatal(err)
	}
	if out.Result == nil || !out.Result.TimedOut {
		t.Fatalf("result %+v: want TimedOut", out.Result)
	}
}

func TestMissingKernel(t *testing.T) {
	_, base := vmFixture(t)
	out, err := runner.Boot(context.Background(), runner.Config{
		Kernel: "/nonexistent/vmlinux", Initramfs: []string{base},
		Topology: topology.Topology{Sockets: 1, Cores: 1, Threads: 1},
	})
	assertGone(t, out)
	be := bootErr(t, out, err, runner.FailSetup)
	if !strings.Contains(be.Error(), "/nonexistent/vmlinux") {
		t.Errorf("error does not name the kernel: %v", be)
	}
}

func TestMissingQEMU(t *testing.T) {
	k, base := vmFixture(t)
	out, err := runner.Boot(context.Background(), runner.Config{
		QEMU: "/nonexistent/qemu-system-x86_64", Kernel: k, Initramfs: []string{base},
		Topology: topology.Topology{Sockets: 1, Cores: 1, Threads: 1},
	})
	bootErr(t, out, err, runner.FailSetup)
	if !errors.Is(err, runner.ErrQEMUNotFound) || !strings.Contains(err.Error(), "/nonexistent/qemu-system-x86_64") {
		t.Errorf("want ErrQEMUNotFound naming the path, got %v", err)
	}
}

// TestSIGTERMLeavesNoQEMU kills a process that is running a VM with
// SIGTERM, as Bazel does at a test timeout, and checks that its QEMU dies
// with it.
func TestSIGTERMLeavesNoQEMU(t *testing.T) {
	cfg := config(t, "hang", 10*time.Minute)
	cfgJSON, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), "RUNNER_TEST_SIGTERM_CHILD=1", "RUNNER_TEST_CONFIG="+string(cfgJSON))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The child prints QEMU's pid once the guest is up.
	var pid int
	if _, err := fmt.Fscanf(stdout, "qemu %d\n", &pid); err != nil {
		t.Fatalf("child did not report its QEMU: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
			return // gone
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("QEMU (pid %d) outlived its SIGTERMed parent by 10s", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sigtermChild boots the VM described by RUNNER_TEST_CONFIG and prints
// QEMU's pid when the guest says hello; the parent then SIGTERMs it.
func sigtermChild() {
	var cfg runner.Config
	if err := json.Unmarshal([]byte(os.Getenv("RUNNER_TEST_CONFIG")), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var once sync.Once
	var pid int
	cfg.OnStart = func(p int) { pid = p }
	cfg.OnMessage = func(m wire.Message) {
		if m.Kind == wire.KindHello {
			once.Do(func() { fmt.Printf("qemu %d\n", pid) })
		}
	}
	runner.Boot(context.Background(), cfg)
	os.Exit(1)
}

// TestKVMChoiceHolds probes KVM on this host for real and checks that
// both ways of asking for an accelerator agree with the verdict: where a
// probe guest boots, KTSTR_ACCEL=kvm runs the test under KVM; where it
// does not, auto mode runs it under TCG and says why, and asking for KVM
// fails at once with the reason.
func TestKVMChoiceHolds(t *testing.T) {
	k, _ := vmFixture(t)
	qemu, err := runner.FindQEMU("")
	if err != nil {
		t.Fatal(err)
	}
	prober := &runner.KVMProber{CacheDir: t.TempDir()}
	v, err := prober.Verdict(context.Background(), qemu, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("KVM probe of %s with %s: usable %v, %q, %.1fs", k, qemu, v.Usable, v.Reason, v.ProbeS)
	if !v.Usable && v.Reason == "" {
		t.Fatalf("the probe failed without saying why: %+v", v)
	}

	auto := config(t, "ok", time.Minute)
	auto.Prober = prober
	t.Setenv(runner.EnvAccel, "")
	out, err := runner.Boot(context.Background(), auto)
	assertGone(t, out)
	if err != nil {
		t.Fatalf("auto mode: %v", err)
	}
	if want := map[bool]string{true: "kvm", false: "tcg"}[v.Usable]; !strings.HasPrefix(out.Accel, want) {
		t.Errorf("auto mode ran under %q, want %s (probe verdict usable=%v)", out.Accel, want, v.Usable)
	}
	if !v.Usable && !strings.Contains(out.AccelWhy, v.Reason) {
		t.Errorf("auto mode's reason %q does not carry the probe's %q", out.AccelWhy, v.Reason)
	}

	kvm := config(t, "ok", time.Minute)
	kvm.Prober, kvm.Accel = prober, runner.AccelKVM
	start := time.Now()
	out, err = runner.Boot(context.Background(), kvm)
	assertGone(t, out)
	if v.Usable {
		if err != nil || out.Accel != "kvm" {
			t.Errorf("KVM asked for on a host where it boots: %q, %v", out.Accel, err)
		}
		return
	}
	be := bootErr(t, out, err, runner.FailAccel)
	if !errors.Is(err, runner.ErrKVMUnusable) || !strings.Contains(be.Error(), v.Reason) {
		t.Errorf("KVM asked for: %v; want ErrKVMUnusable with the probe's reason", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing KVM took %v with the verdict cached", d)
	}
	if len(out.Command) != 0 || out.QEMUPID != 0 {
		t.Errorf("a QEMU was started for a run that cannot use KVM: %q", out.Command)
	}
}

// TestStoppedVMFailsFast stops a running guest through QMP, as QEMU does
// on an accelerator's internal error: the run must fail at once with the
// reason, not wait out its timeout.
func TestStoppedVMFailsFast(t *testing.T) {
	cfg := config(t, "hang", 10*time.Minute)
	cfg.Timeout = 10 * time.Minute
	hello := make(chan struct{})
	var once sync.Once
	cfg.OnMessage = func(m wire.Message) {
		if m.Kind == wire.KindHello {
			once.Do(func() { close(hello) })
		}
	}
	vm, err := runner.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	stopped := make(chan time.Time, 1)
	go func() {
		select {
		case <-hello:
		case <-time.After(5 * time.Minute):
		}
		stopped <- time.Now()
		if _, err := vm.QMP(`{"execute":"stop"}`); err != nil {
			t.Errorf("QMP stop: %v", err)
		}
	}()
	out, err := vm.Wait(context.Background())
	end := time.Now()
	assertGone(t, out)
	be := bootErr(t, out, err, runner.FailStopped)
	if !strings.Contains(be.Detail, "status paused") {
		t.Errorf("the reason does not name QEMU's state: %v", be.Detail)
	}
	if d := end.Sub(<-stopped); d > 5*time.Second {
		t.Errorf("a stopped VM was reported %v after the stop, want within 5s", d)
	}
}

// guestSaid is what a run that did not fail as expected reports of the
// guest: the kernel it booted, the test's exit code and output tail
// (guestprog says there why it could not crash the guest).
func guestSaid(out *runner.Outcome) string {
	if out == nil {
		return ""
	}
	s := fmt.Sprintf("\nkernel %s", fixture.kern)
	if out.Result != nil {
		s += fmt.Sprintf("; guest test exit code %d, output tail:\n%s", out.Result.ExitCode, out.Result.OutputTail)
	}
	return s
}

// TestPvpanicFailsFast: a guest that reports a panic through the pvpanic
// device is paused by QEMU (GUEST_PANICKED); the run fails at once as a
// panic.
func TestPvpanicFailsFast(t *testing.T) {
	cfg := config(t, "pvpanic", 10*time.Minute)
	cfg.Timeout = 10 * time.Minute
	var helloAt time.Time
	var mu sync.Mutex
	cfg.OnMessage = func(m wire.Message) {
		if m.Kind == wire.KindHello {
			mu.Lock()
			helloAt = time.Now()
			mu.Unlock()
		}
	}
	out, err := runner.Boot(context.Background(), cfg)
	end := time.Now()
	assertGone(t, out)
	be := bootErr(t, out, err, runner.FailPanic)
	if !strings.Contains(be.Detail, "panicked") {
		t.Errorf("reason %q does not say the guest panicked", be.Detail)
	}
	mu.Lock()
	defer mu.Unlock()
	if helloAt.IsZero() || end.Sub(helloAt) > 20*time.Second {
		t.Errorf("panic reported %v after the guest came up (hello at %v)", end.Sub(helloAt), helloAt)
	}
}
