package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/topology"
)

func TestBootErrorString(t *testing.T) {
	inner := errors.New("exit status 1")
	tests := []struct {
		name string
		err  *BootError
		want string
	}{
		{
			"detail only",
			&BootError{Kind: FailSetup, Detail: "no kernel image given"},
			"VM setup: no kernel image given",
		},
		{
			"wrapped error",
			&BootError{Kind: FailQEMU, Detail: "QEMU exited before the guest finished", Err: inner},
			"VM qemu-exit: QEMU exited before the guest finished: exit status 1",
		},
		{
			"console tail",
			&BootError{Kind: FailPanic, Detail: "guest reset", ConsoleTail: "Kernel panic - not syncing: x\nend trace\n\n"},
			"VM guest-panic: guest reset\n--- console tail ---\nKernel panic - not syncing: x\nend trace\n--- end of console ---",
		},
		{
			"error and tail",
			&BootError{Kind: FailTimeout, Detail: "no result within 2m0s (kvm)", Err: inner, ConsoleTail: "last line"},
			"VM timeout: no result within 2m0s (kvm): exit status 1\n--- console tail ---\nlast line\n--- end of console ---",
		},
		{
			"blank tail is left out",
			&BootError{Kind: FailNoResult, Detail: "powered off", ConsoleTail: "\n\n"},
			"VM no-result: powered off",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}

	wrapped := &BootError{Kind: FailQEMU, Err: inner}
	if !errors.Is(wrapped, inner) {
		t.Error("errors.Is does not see the wrapped error")
	}
	if (&BootError{Kind: FailSetup}).Unwrap() != nil {
		t.Error("Unwrap of a BootError without Err is not nil")
	}
}

// bootSetupError runs Boot with cfg, which must fail before anything is
// started, and returns its *BootError.
func bootSetupError(t *testing.T, cfg Config) *BootError {
	t.Helper()
	out, err := Boot(context.Background(), cfg)
	if err == nil {
		t.Fatalf("Boot = %+v, nil; want a setup error", out)
	}
	if out == nil {
		t.Error("Boot returned a nil Outcome with its error")
	} else if len(out.Command) != 0 {
		t.Errorf("Boot built a QEMU command line before failing setup: %q", out.Command)
	}
	var be *BootError
	if !errors.As(err, &be) {
		t.Fatalf("Boot error %T %v is not a *BootError", err, err)
	}
	if be.Kind != FailSetup {
		t.Errorf("Kind = %s, want %s (%v)", be.Kind, FailSetup, be)
	}
	return be
}

func TestBootSetupErrors(t *testing.T) {
	dir := t.TempDir()
	// A stand-in QEMU that is never run: every case fails before.
	qemu := filepath.Join(dir, "qemu-system-x86_64")
	if err := os.WriteFile(qemu, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	kernelImg := filepath.Join(dir, "vmlinux")
	if err := os.WriteFile(kernelImg, []byte("not really a kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	initrd := filepath.Join(dir, "initramfs.cpio")
	good := topology.Topology{Sockets: 1, Cores: 2, Threads: 1}

	tests := []struct {
		name    string
		cfg     Config
		env     map[string]string
		want    []string
		wrapped error
	}{
		{
			name: "missing kernel",
			cfg:  Config{QEMU: qemu, Kernel: "/nonexistent/vmlinux-6.12", Initramfs: []string{initrd}, Topology: good},
			want: []string{"kernel image /nonexistent/vmlinux-6.12"},
		},
		{
			name: "no kernel",
			cfg:  Config{QEMU: qemu, Initramfs: []string{initrd}, Topology: good},
			want: []string{"no kernel image given"},
		},
		{
			name: "no initramfs",
			cfg:  Config{QEMU: qemu, Kernel: kernelImg, Topology: good},
			want: []string{"no initramfs given"},
		},
		{
			name: "bad topology",
			cfg:  Config{QEMU: qemu, Kernel: kernelImg, Initramfs: []string{initrd}, Topology: topology.Topology{Sockets: 0, Cores: 2, Threads: 1}},
			want: []string{"sockets must be >= 1"},
		},
		{
			name: "bogus accelerator",
			cfg:  Config{QEMU: qemu, Kernel: kernelImg, Initramfs: []string{initrd}, Topology: good},
			env:  map[string]string{EnvAccel: "bogus"},
			want: []string{`unknown accelerator "bogus"`},
		},
		{
			name: "bogus tcg mode",
			cfg:  Config{QEMU: qemu, Kernel: kernelImg, Initramfs: []string{initrd}, Topology: good, Accel: AccelTCG},
			env:  map[string]string{EnvTCGMode: "bogus"},
			want: []string{`unknown TCG mode "bogus"`},
		},
		{
			name:    "missing qemu",
			cfg:     Config{QEMU: "/nonexistent/qemu", Kernel: kernelImg, Initramfs: []string{initrd}, Topology: good},
			want:    []string{"cannot start a VM", "/nonexistent/qemu"},
			wrapped: ErrQEMUNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvAccel, "")
			t.Setenv(EnvTCGMode, "")
			t.Setenv(EnvQEMU, "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			be := bootSetupError(t, tt.cfg)
			for _, s := range tt.want {
				if !strings.Contains(be.Error(), s) {
					t.Errorf("error %q does not contain %q", be, s)
				}
			}
			if tt.wrapped != nil && !errors.Is(be, tt.wrapped) {
				t.Errorf("error %v does not wrap %v", be, tt.wrapped)
			}
			if be.ConsoleTail != "" {
				t.Errorf("setup error carries a console tail %q", be.ConsoleTail)
			}
		})
	}
}
