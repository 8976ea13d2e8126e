package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"rsc.io/script"
	"rsc.io/script/scripttest"

	"github.com/ktstr-go/ktstr/guest"
	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/runner"
)

// envAsCLI makes this test binary behave as the ktstr command, so that
// the scripts run the real CLI as a separate process (with its own
// working directory, exit status and signals) without a go build.
const envAsCLI = "KTSTR_TEST_AS_CLI"

func TestMain(m *testing.M) {
	// As PID 1 this binary is the guest's init of "ktstr shell" (which
	// puts its own executable into the initramfs); asked to, it is ktstr.
	if guest.IsInit() || os.Getenv(envAsCLI) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// TestScripts runs the CLI scripts of testdata/script: each is a txtar
// archive whose comment is a script (rsc.io/script) and whose files are
// unpacked into its $WORK. The [vm] condition holds where a VM can boot
// (QEMU, a sched_ext kernel and a busybox); scripts that need one skip
// without.
func TestScripts(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	modRoot, _ := filepath.Abs("../..")
	cmds := scripttest.DefaultCmds()
	cmds["ktstr"] = script.Program(self, func(c *exec.Cmd) error { return c.Process.Signal(os.Interrupt) }, 10*time.Second)
	conds := scripttest.DefaultConds()
	var vmOnce sync.Once
	var vmErr error
	conds["vm"] = script.Condition("a VM can boot here (QEMU, a sched_ext kernel, a busybox)", func(*script.State) (bool, error) {
		vmOnce.Do(func() {
			if vmErr = vmReady(); vmErr != nil {
				t.Logf("scripts that need a VM skip: %v", vmErr)
			}
		})
		return vmErr == nil, nil
	})
	conds["root"] = script.BoolCondition("running as root", os.Geteuid() == 0)
	env := append(os.Environ(), envAsCLI+"=1", "MODROOT="+modRoot, "KTSTR_BIN="+self)
	scripttest.Test(t, context.Background(), &script.Engine{Cmds: cmds, Conds: conds}, env, "testdata/script/*.txt")
}

// vmReady says why no VM can boot here, or nil.
func vmReady() error {
	if os.Getenv("TEST_SRCDIR") != "" {
		// The target has no kernel in its runfiles, and the verifier
		// script builds a scheduler with the go command in the module.
		return errors.New("under Bazel the VM scripts are left to go test (tools/dev test runs both)")
	}
	if _, err := runner.FindQEMU(""); err != nil {
		return err
	}
	if _, err := kernel.Resolve(kernel.ResolveOptions{NeedSchedExt: true}); err != nil {
		return err
	}
	_, err := findBusybox("")
	return err
}
