package runner

// The probe's recognition of a booting guest, shown with a real kernel
// under TCG (where a guest always boots): a VM test, tagged manual in
// Bazel like vm_test.go.

import (
	"context"
	"testing"

	"github.com/ktstr-go/ktstr/kernel"
)

func TestProbeRecognisesABootingGuest(t *testing.T) {
	k, err := kernel.Resolve(kernel.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	qemu, err := FindQEMU("")
	if err != nil {
		t.Fatal(err)
	}
	ok, why := probeBoot(context.Background(), AccelTCG, qemu, k.Path)
	if !ok {
		t.Fatalf("a kernel booting under TCG was not recognised: %s", why)
	}
}

func TestProbeOfAMissingKernelSaysWhy(t *testing.T) {
	qemu, err := FindQEMU("")
	if err != nil {
		t.Fatal(err)
	}
	ok, why := probeBoot(context.Background(), AccelTCG, qemu, t.TempDir()+"/no-such-vmlinux")
	if ok || why == "" {
		t.Fatalf("probe of a missing kernel: ok=%v, %q; want a failure with QEMU's reason", ok, why)
	}
	t.Logf("reason: %s", why)
}
