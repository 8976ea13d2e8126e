package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/topology"
)

func TestMachineArgs(t *testing.T) {
	small := topology.Topology{Sockets: 1, Cores: 2, Threads: 1}
	big := topology.Topology{Sockets: 14, Cores: 9, Threads: 2}
	if small.NeedsX2APIC() || !big.NeedsX2APIC() {
		t.Fatalf("test topologies: NeedsX2APIC small=%v big=%v, want false/true", small.NeedsX2APIC(), big.NeedsX2APIC())
	}
	tests := []struct {
		name  string
		accel Accel
		mode  TCGMode
		topo  topology.Topology
		want  []string
	}{
		{"kvm", AccelKVM, "", small, []string{"-accel", "kvm", "-machine", "pc", "-cpu", "host"}},
		{"kvm ignores tcg mode", AccelKVM, TCGSingle, small, []string{"-accel", "kvm", "-machine", "pc", "-cpu", "host"}},
		{"kvm x2apic", AccelKVM, "", big, []string{"-accel", "kvm", "-machine", "q35", "-cpu", "host,x2apic=on"}},
		{"tcg icount", AccelTCG, TCGIcount, small, []string{"-accel", "tcg", "-icount", "shift=2,sleep=off", "-machine", "pc"}},
		{"tcg default mode is single", AccelTCG, "", small, []string{"-accel", "tcg,thread=single", "-machine", "pc"}},
		{"tcg single", AccelTCG, TCGSingle, small, []string{"-accel", "tcg,thread=single", "-machine", "pc"}},
		{"tcg multi", AccelTCG, TCGMulti, small, []string{"-accel", "tcg,thread=multi", "-machine", "pc"}},
		{
			"tcg x2apic", AccelTCG, TCGIcount, big,
			[]string{"-accel", "tcg", "-icount", "shift=2,sleep=off", "-machine", "q35", "-cpu", "max,x2apic=on"},
		},
		{
			"tcg single x2apic", AccelTCG, TCGSingle, big,
			[]string{"-accel", "tcg,thread=single", "-machine", "q35", "-cpu", "max,x2apic=on"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := machineArgs(tt.accel, tt.mode, tt.topo); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("machineArgs = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDescribeAccel(t *testing.T) {
	for _, tt := range []struct {
		accel Accel
		mode  TCGMode
		want  string
	}{
		{AccelKVM, TCGIcount, "kvm"},
		{AccelTCG, TCGIcount, "tcg (icount)"},
		{AccelTCG, TCGSingle, "tcg (single)"},
	} {
		if got := describeAccel(tt.accel, tt.mode); got != tt.want {
			t.Errorf("describeAccel(%q, %q) = %q, want %q", tt.accel, tt.mode, got, tt.want)
		}
	}
}

// fakeExecutable writes an executable shell script at dir/name.
func fakeExecutable(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindQEMUExplicit(t *testing.T) {
	t.Setenv(EnvQEMU, "")
	dir := t.TempDir()
	fake := fakeExecutable(t, dir, "my-qemu")
	notExec := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(notExec, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := FindQEMU(fake)
	if err != nil || got != fake {
		t.Errorf("FindQEMU(%s) = %q, %v; want the path itself", fake, got, err)
	}

	for _, bad := range []string{"/nonexistent/qemu", notExec} {
		got, err := FindQEMU(bad)
		if err == nil {
			t.Errorf("FindQEMU(%s) = %q, want an error", bad, got)
			continue
		}
		if !errors.Is(err, ErrQEMUNotFound) {
			t.Errorf("FindQEMU(%s) error %v does not wrap ErrQEMUNotFound", bad, err)
		}
		if !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "explicit path") {
			t.Errorf("FindQEMU(%s) error %q does not name the explicit path", bad, err)
		}
	}
}

func TestFindQEMUEnv(t *testing.T) {
	dir := t.TempDir()
	fake := fakeExecutable(t, dir, "env-qemu")
	other := fakeExecutable(t, dir, "explicit-qemu")
	t.Setenv("PATH", t.TempDir())

	t.Setenv(EnvQEMU, fake)
	if got, err := FindQEMU(""); err != nil || got != fake {
		t.Errorf("FindQEMU(\"\") with $%s = %q, %v; want %s", EnvQEMU, got, err, fake)
	}
	// An explicit path wins over the environment.
	if got, err := FindQEMU(other); err != nil || got != other {
		t.Errorf("FindQEMU(%s) = %q, %v; want the explicit path", other, got, err)
	}

	t.Setenv(EnvQEMU, "/nonexistent/env-qemu")
	_, err := FindQEMU("")
	if err == nil || !errors.Is(err, ErrQEMUNotFound) {
		t.Fatalf("FindQEMU with a bad $%s = %v, want ErrQEMUNotFound", EnvQEMU, err)
	}
	if !strings.Contains(err.Error(), "$"+EnvQEMU) || !strings.Contains(err.Error(), "/nonexistent/env-qemu") {
		t.Errorf("error %q does not name $%s and its value", err, EnvQEMU)
	}
}

func TestFindQEMUPath(t *testing.T) {
	t.Setenv(EnvQEMU, "")
	os.Unsetenv(EnvQEMU) // t.Setenv restores the original value afterwards

	empty := t.TempDir()
	t.Setenv("PATH", empty)
	got, err := FindQEMU("")
	if err == nil {
		t.Fatalf("FindQEMU with an empty PATH = %q, want an error", got)
	}
	if !errors.Is(err, ErrQEMUNotFound) {
		t.Errorf("error %v does not wrap ErrQEMUNotFound", err)
	}
	for _, want := range []string{"apt-get install qemu-system-x86", "qemu-system-x86_64 on PATH", EnvQEMU} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	withQEMU := t.TempDir()
	fake := fakeExecutable(t, withQEMU, "qemu-system-x86_64")
	t.Setenv("PATH", empty+string(os.PathListSeparator)+withQEMU)
	if got, err := FindQEMU(""); err != nil || got != fake {
		t.Errorf("FindQEMU on PATH = %q, %v; want %s", got, err, fake)
	}
}

// fakeProber is a KVMProber whose /dev/kvm check and probe boot are
// stand-ins; probes counts the probe boots.
func fakeProber(t *testing.T, device error, verdict KVMVerdict, probes *int) *KVMProber {
	t.Helper()
	return &KVMProber{
		CacheDir: t.TempDir(),
		device:   func() error { return device },
		probe: func(_ context.Context, qemu, kernel string) KVMVerdict {
			*probes++
			verdict.QEMU, verdict.Kernel = qemu, kernel
			return verdict
		},
	}
}

func TestChooseAccel(t *testing.T) {
	dir := t.TempDir()
	qemu, kernel := fakeExecutable(t, dir, "qemu"), filepath.Join(dir, "vmlinux")
	if err := os.WriteFile(kernel, []byte("kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := KVMVerdict{Reason: "KVM internal error. Suberror: 1"}
	noDevice := errors.New("/dev/kvm cannot be opened read-write: no such file or directory")
	tests := []struct {
		name    string
		req     Accel
		env     string
		device  error
		verdict KVMVerdict
		want    Accel
		// wantWhy and wantErr are substrings of the choice's Why and of
		// the error; wantErr nil means no error.
		wantWhy   string
		wantErr   []string
		wantProbe int
	}{
		{"explicit tcg", AccelTCG, "", nil, broken, AccelTCG, "TCG requested", nil, 0},
		{"explicit tcg beats env", AccelTCG, "kvm", nil, broken, AccelTCG, "TCG", nil, 0},
		{"env tcg", AccelAuto, "tcg", nil, broken, AccelTCG, EnvAccel + "=tcg", nil, 0},
		{"env bogus", AccelAuto, "bogus", nil, broken, "", "", []string{`"bogus"`, EnvAccel, "want kvm or tcg"}, 0},
		{"explicit bogus", Accel("hvf"), "", nil, broken, "", "", []string{`"hvf"`}, 0},
		{"auto, KVM boots", AccelAuto, "", nil, KVMVerdict{Usable: true}, AccelKVM, "probe guest booted", nil, 1},
		{"auto, KVM cannot run a guest", AccelAuto, "", nil, broken, AccelTCG, "KVM not used: KVM internal error", nil, 1},
		{"auto, no /dev/kvm", AccelAuto, "", noDevice, broken, AccelTCG, "KVM not used: /dev/kvm", nil, 0},
		{"explicit kvm that boots", AccelKVM, "", nil, KVMVerdict{Usable: true}, AccelKVM, "", nil, 1},
		{"env kvm that cannot run a guest", AccelAuto, "kvm", nil, broken, "", "", []string{"KVM cannot run a guest", EnvAccel + "=kvm", "KVM internal error", EnvAccel + "=tcg"}, 1},
		{"explicit kvm without /dev/kvm", AccelKVM, "", noDevice, broken, "", "", []string{"/dev/kvm", EnvAccel + "=tcg"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvAccel, tt.env)
			probes := 0
			p := fakeProber(t, tt.device, tt.verdict, &probes)
			got, err := p.Choose(context.Background(), tt.req, qemu, kernel)
			if probes != tt.wantProbe {
				t.Errorf("%d probe boots, want %d", probes, tt.wantProbe)
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Choose(%q) = %+v, want an error", tt.req, got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				if (tt.req == AccelKVM || tt.env == "kvm") && !errors.Is(err, ErrKVMUnusable) {
					t.Errorf("error %v does not wrap ErrKVMUnusable", err)
				}
				return
			}
			if err != nil || got.Accel != tt.want || !strings.Contains(got.Why, tt.wantWhy) {
				t.Errorf("Choose(%q) = %+v, %v; want %q with a reason containing %q", tt.req, got, err, tt.want, tt.wantWhy)
			}
		})
	}
}

func TestKVMVerdictIsCached(t *testing.T) {
	dir := t.TempDir()
	qemu, kernel := fakeExecutable(t, dir, "qemu"), fakeExecutable(t, dir, "vmlinux")
	probes := 0
	p := fakeProber(t, nil, KVMVerdict{Reason: "no progress"}, &probes)
	ctx := context.Background()
	for i := range 3 {
		v, err := p.Verdict(ctx, qemu, kernel)
		if err != nil || v.Usable || v.Reason != "no progress" || v.Cached != (i > 0) {
			t.Fatalf("verdict %d: %+v, %v; want the probe's, cached after the first", i, v, err)
		}
	}
	// A new process (a new prober on the same cache) reads the file.
	p2 := fakeProber(t, nil, KVMVerdict{Usable: true}, &probes)
	p2.CacheDir = p.CacheDir
	if v, err := p2.Verdict(ctx, qemu, kernel); err != nil || v.Usable || !v.Cached || v.BootID == "" {
		t.Errorf("verdict from the cache file: %+v, %v; want the first probe's, with the boot id", v, err)
	}
	if probes != 1 {
		t.Errorf("%d probe boots for one QEMU and kernel, want 1", probes)
	}
	// Another kernel (or a rebuilt one) is probed again.
	if err := os.WriteFile(kernel, []byte("another kernel"), 0o755); err != nil {
		t.Fatal(err)
	}
	if v, _ := p2.Verdict(ctx, qemu, kernel); !v.Usable || v.Cached {
		t.Errorf("changed kernel: %+v, want a fresh probe", v)
	}
	if probes != 2 {
		t.Errorf("%d probe boots after the kernel changed, want 2", probes)
	}
	if _, err := p2.Verdict(ctx, filepath.Join(dir, "missing-qemu"), kernel); err == nil || !strings.Contains(err.Error(), "missing-qemu") {
		t.Errorf("missing QEMU: %v, want an error naming it", err)
	}
}

func TestResolveTCGMode(t *testing.T) {
	tests := []struct {
		req     TCGMode
		env     string
		want    TCGMode
		wantErr bool
	}{
		{"", "", TCGSingle, false},
		{"", "single", TCGSingle, false},
		{"", "multi", TCGMulti, false},
		{"", "icount", TCGIcount, false},
		{TCGSingle, "multi", TCGSingle, false},
		{"", "fast", "", true},
		{"turbo", "", "", true},
	}
	for _, tt := range tests {
		t.Setenv(EnvTCGMode, tt.env)
		got, err := resolveTCGMode(tt.req)
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), EnvTCGMode) {
				t.Errorf("resolveTCGMode(%q) env %q = %q, %v; want an error naming %s", tt.req, tt.env, got, err, EnvTCGMode)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("resolveTCGMode(%q) env %q = %q, %v; want %q", tt.req, tt.env, got, err, tt.want)
		}
	}
}
