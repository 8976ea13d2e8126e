package runner

import (
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

type accelCase struct {
	name    string
	req     Accel
	env     string
	want    Accel
	wantErr []string // substrings of the error; nil means no error
}

func TestResolveAccel(t *testing.T) {
	tests := []accelCase{
		{"explicit tcg", AccelTCG, "", AccelTCG, nil},
		{"explicit tcg beats env", AccelTCG, "kvm", AccelTCG, nil},
		{"env tcg", AccelAuto, "tcg", AccelTCG, nil},
		{"env bogus", AccelAuto, "bogus", "", []string{`"bogus"`, EnvAccel, "want kvm or tcg"}},
		{"explicit bogus", Accel("hvf"), "", "", []string{`"hvf"`}},
	}
	// KVM works or fails depending on the host; either way the answer
	// must agree with KVMUsable.
	if KVMUsable() {
		tests = append(tests,
			accelCase{"auto with kvm", AccelAuto, "", AccelKVM, nil},
			accelCase{"explicit kvm", AccelKVM, "", AccelKVM, nil})
	} else {
		tests = append(tests,
			accelCase{"auto without kvm", AccelAuto, "", AccelTCG, nil},
			accelCase{"explicit kvm without kvm", AccelKVM, "", "", []string{"/dev/kvm", EnvAccel + "=tcg"}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvAccel, tt.env)
			got, err := resolveAccel(tt.req)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("resolveAccel(%q) = %q, want an error", tt.req, got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("resolveAccel(%q) = %q, %v; want %q", tt.req, got, err, tt.want)
			}
		})
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
