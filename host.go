package ktstr

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/verify"
)

// Host-side environment knobs.
const (
	// EnvOutputDir keeps every run's console.log, qmp.log and
	// result.json below it (Bazel's TEST_UNDECLARED_OUTPUTS_DIR is used
	// when this is unset).
	EnvOutputDir = "KTSTR_OUTPUT_DIR"
	// EnvConsole=1 streams the guest console into the test log.
	EnvConsole = "KTSTR_CONSOLE"
)

// bootMargin is what the host timeout keeps beyond the guest's bound on
// the test binary: boot, init and power-off.
const bootMargin = 20 * time.Second

// timeouts derives the run's budget from the duration: the host timeout
// as under KVM (the runner scales it for TCG), and the guest's bound on
// the test binary, which ends well inside it so that a hung test is
// reported by init with its output rather than by the host timing out.
func timeouts(spec Spec) (host, guest time.Duration) {
	d := time.Duration(spec.DurationS) * time.Second
	host = 60*time.Second + 3*d
	if spec.TimeoutS > 0 {
		host = time.Duration(spec.TimeoutS) * time.Second
	}
	guest = max(host-bootMargin, host/2)
	return host, guest
}

// runPattern is a -test.run pattern that selects exactly this (sub)test.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

func outputDir(t *testing.T) string {
	for _, env := range []string{EnvOutputDir, "TEST_UNDECLARED_OUTPUTS_DIR"} {
		if d := os.Getenv(env); d != "" {
			return filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "__"))
		}
	}
	return filepath.Join(t.TempDir(), "vm")
}

// runHost boots the VM for spec and reports the verdict on t.
func runHost(t *testing.T, spec Spec) *Result {
	t.Helper()
	res := &Result{Test: t.Name(), Spec: spec, OutputDir: outputDir(t)}
	start := time.Now()
	failure := hostRun(t, spec, res)
	res.ElapsedS = time.Since(start).Seconds()
	if failure != "" {
		res.Failure = failure
	}
	if err := writeResult(res); err != nil {
		t.Errorf("ktstr: %v", err)
	}
	report(t, spec, res)
	return res
}

// hostRun does the run and fills res; it returns why the run failed
// before any check could be made ("" when the checks decide).
func hostRun(t *testing.T, spec Spec, res *Result) string {
	t.Helper()
	k, err := kernel.Resolve(kernel.ResolveOptions{})
	if err != nil {
		return fmt.Sprintf("no kernel: %v", err)
	}
	res.Kernel = k.Path
	initBin, err := runner.InitBinary()
	if err != nil {
		return fmt.Sprintf("ktstr-init: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Sprintf("finding the test binary: %v", err)
	}
	work := t.TempDir()
	base := filepath.Join(work, "base.cpio")
	if err := runner.WriteInitramfs(base, []runner.File{
		{Path: "/init", Source: initBin, Mode: 0o755},
		{Path: wire.TestBinaryPath, Source: self, Mode: 0o755, WithLibs: true},
	}, true); err != nil {
		return err.Error()
	}
	hostTimeout, guestTimeout := timeouts(spec)
	specJSON, _ := json.Marshal(spec)
	reqJSON, err := json.Marshal(wire.Request{
		Test:    t.Name(),
		Args:    []string{"-test.run", runPattern(t.Name()), "-test.v", "-test.timeout", (guestTimeout + 30*time.Second).String()},
		Timeout: wire.Duration(guestTimeout),
		Spec:    specJSON,
	})
	if err != nil {
		return fmt.Sprintf("encoding request: %v", err)
	}
	reqArchive := filepath.Join(work, "request.cpio")
	if err := runner.WriteInitramfs(reqArchive, []runner.File{{Path: wire.RequestPath, Data: reqJSON}}, false); err != nil {
		return err.Error()
	}
	cfg := runner.Config{
		Kernel:     k.Path,
		Initramfs:  []string{base, reqArchive},
		Topology:   spec.Topology(),
		KernelArgs: spec.KernelArgs,
		Timeout:    hostTimeout,
		OutDir:     res.OutputDir,
	}
	if os.Getenv(EnvConsole) == "1" {
		cfg.Console = testWriter{t}
	}
	out, err := runner.Boot(context.Background(), cfg)
	res.Accel, res.Emulated = out.Accel, out.Emulated
	if out.Emulated {
		t.Logf("ktstr: %s on %s (%d CPUs): QEMU under TCG, timeouts scaled to %v", t.Name(), spec.Topology(), spec.Topology().CPUs(), out.Timeout)
	}
	if out.Hello != nil {
		res.Guest = out.Hello.View
	}
	if err != nil {
		return err.Error()
	}
	if out.Done != nil && len(out.Done.Errors) > 0 {
		return "guest init reported errors: " + strings.Join(out.Done.Errors, "; ")
	}
	r := out.Result
	switch {
	case r == nil:
		return "guest sent no test result"
	case r.TimedOut:
		return fmt.Sprintf("the test timed out in the guest after %v\n--- guest output tail ---\n%s", time.Duration(r.Duration), r.OutputTail)
	case r.Report == nil:
		return fmt.Sprintf("the test wrote no report in the guest (exit code %d)\n--- guest output tail ---\n%s", r.ExitCode, r.OutputTail)
	case r.ExitCode != 0:
		return fmt.Sprintf("the test failed in the guest (exit code %d)\n--- guest output tail ---\n%s", r.ExitCode, r.OutputTail)
	case len(r.Report.Errors) > 0:
		return "scenario failed in the guest: " + strings.Join(r.Report.Errors, "; ")
	}
	res.Workers = r.Report.Workers
	res.SchedExt = r.Report.SchedExt
	env := verify.Env{Emulated: out.Emulated}
	th := verify.Merge(verify.Defaults(env), spec.Verify)
	res.Checks = verify.Evaluate(res.Workers, th, env)
	if failed := verify.Failed(res.Checks); len(failed) > 0 {
		var parts []string
		for _, c := range failed {
			parts = append(parts, c.String())
		}
		return "checks failed: " + strings.Join(parts, "; ")
	}
	return ""
}

// report turns the result into the test's verdict: one subtest per check,
// or, for expect_err, one verdict on whether it failed as expected.
func report(t *testing.T, spec Spec, res *Result) {
	t.Helper()
	if spec.ExpectErr {
		switch {
		case res.Failure == "":
			t.Errorf("ktstr: expect_err: the run passed but was expected to fail")
		case spec.ExpectErrMatch != "" && !regexp.MustCompile(spec.ExpectErrMatch).MatchString(res.Failure):
			t.Errorf("ktstr: expect_err: the run failed, but not as expected (want a failure matching %q):\n%s", spec.ExpectErrMatch, res.Failure)
		default:
			t.Logf("ktstr: failed as expected: %s", res.Failure)
		}
		return
	}
	for _, c := range res.Checks {
		t.Run("check/"+c.Name, func(t *testing.T) {
			if !c.Passed {
				t.Error(c.String())
				return
			}
			t.Log(c.String())
		})
	}
	if res.Failure != "" && len(verify.Failed(res.Checks)) == 0 {
		t.Errorf("ktstr: %s: %s", t.Name(), res.Failure)
	}
}

func writeResult(res *Result) error {
	if err := os.MkdirAll(res.OutputDir, 0o755); err != nil {
		return fmt.Errorf("result dir: %w", err)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding result: %w", err)
	}
	return os.WriteFile(filepath.Join(res.OutputDir, "result.json"), b, 0o644)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
