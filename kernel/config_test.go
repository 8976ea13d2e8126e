package kernel

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	config := []byte(`#
# Automatically generated file; DO NOT EDIT.
CONFIG_BPF=y
CONFIG_BPF_SYSCALL=y
CONFIG_BPF_JIT=m
# CONFIG_SCHED_CLASS_EXT is not set
CONFIG_NR_CPUS=512
CONFIG_LOCALVERSION="-test"
`)
	if err := CheckConfig(config, "CONFIG_BPF", "BPF_SYSCALL"); err != nil {
		t.Errorf("CheckConfig(present options) = %v, want nil", err)
	}
	if err := CheckConfig(config); err != nil {
		t.Errorf("CheckConfig(no options) = %v, want nil", err)
	}

	err := CheckConfig(config, "CONFIG_SCHED_CLASS_EXT", "CONFIG_BPF_JIT", "CONFIG_DEBUG_INFO_BTF", "CONFIG_BPF", "CONFIG_NR_CPUS")
	var missing *MissingConfigError
	if !errors.As(err, &missing) {
		t.Fatalf("CheckConfig(missing options) = %v, want *MissingConfigError", err)
	}
	want := []string{
		"CONFIG_SCHED_CLASS_EXT=y (is not set)",
		"CONFIG_BPF_JIT=y (is m)",
		"CONFIG_DEBUG_INFO_BTF=y (absent)",
		"CONFIG_NR_CPUS=y (is 512)",
	}
	if strings.Join(missing.Missing, "|") != strings.Join(want, "|") {
		t.Errorf("Missing = %q, want %q", missing.Missing, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestCheckConfigEmpty(t *testing.T) {
	err := CheckConfig(nil, RequiredSchedExt...)
	var missing *MissingConfigError
	if !errors.As(err, &missing) || len(missing.Missing) != len(RequiredSchedExt) {
		t.Fatalf("CheckConfig(empty config) = %v, want all %d options missing", err, len(RequiredSchedExt))
	}
}

func TestRequiredSchedExt(t *testing.T) {
	for _, opt := range []string{"CONFIG_SCHED_CLASS_EXT", "CONFIG_BPF_SYSCALL", "CONFIG_DEBUG_INFO_BTF"} {
		found := false
		for _, r := range RequiredSchedExt {
			found = found || r == opt
		}
		if !found {
			t.Errorf("RequiredSchedExt lacks %s", opt)
		}
	}
}

func TestFragment(t *testing.T) {
	if err := CheckConfig([]byte(Fragment), RequiredSchedExt...); err != nil {
		t.Errorf("Fragment does not satisfy RequiredSchedExt: %v", err)
	}
	wantY := []string{
		"SCHED_CLASS_EXT", "EXT_GROUP_SCHED", "BPF", "BPF_SYSCALL", "BPF_JIT", "DEBUG_INFO_BTF",
		"KPROBES", "FTRACE", "FUNCTION_TRACER", "DEBUG_FS", "SCHEDSTATS", "SCHED_DEBUG",
		"CGROUPS", "CGROUP_SCHED", "FAIR_GROUP_SCHED", "CPUSETS", "CGROUP_BPF",
		"NUMA", "SMP", "SCHED_SMT", "SCHED_MC", "SERIAL_8250", "SERIAL_8250_CONSOLE",
		"VIRTIO_PCI", "VIRTIO_CONSOLE", "BLK_DEV_INITRD", "RD_GZIP", "PVH", "DEVTMPFS", "TMPFS",
		"PVPANIC", "MAGIC_SYSRQ", "X86_IOPL_IOPERM",
	}
	if err := CheckConfig([]byte(Fragment), wantY...); err != nil {
		t.Errorf("Fragment: %v", err)
	}
	for i, line := range strings.Split(Fragment, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(name, "CONFIG_") || value == "" || strings.ContainsAny(name, " \t") {
			t.Errorf("ktstr.kconfig line %d is not CONFIG_X=value: %q", i+1, line)
		}
	}
}

func TestDebugOptions(t *testing.T) {
	cfg := []byte("CONFIG_SCHED_CLASS_EXT=y\nCONFIG_PROVE_LOCKING=y\n# CONFIG_KASAN is not set\nCONFIG_KCSAN=m\nCONFIG_DEBUG_ATOMIC_SLEEP=y\n")
	got := DebugOptions(cfg)
	want := []string{"CONFIG_PROVE_LOCKING", "CONFIG_DEBUG_ATOMIC_SLEEP"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("DebugOptions = %q, want %q", got, want)
	}
	if got := DebugOptions([]byte("CONFIG_SCHED_CLASS_EXT=y\n# CONFIG_PROVE_LOCKING is not set\n")); len(got) != 0 {
		t.Errorf("production config: DebugOptions = %q, want none", got)
	}
}
