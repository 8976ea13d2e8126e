package kernel

import (
	"bytes"
	_ "embed" // for the kconfig fragment
	"fmt"
	"strings"
)

// Fragment is a kconfig fragment (ktstr.kconfig) that enables everything
// ktstr needs to test schedulers: sched_ext, BPF with BTF, kprobes and
// tracing, debugfs, scheduler statistics, cgroups, NUMA/SMP topology, and the
// devices and boot paths QEMU uses (PVH, 8250 serial, virtio console,
// initramfs). Merge it with scripts/kconfig/merge_config.sh.
//
//go:embed ktstr.kconfig
var Fragment string

// FragmentSum is the hex sha256 of Fragment, recorded in the cache entry
// of a kernel built from it (Entry.FragmentSHA256).
func FragmentSum() string { return sha256Hex([]byte(Fragment)) }

// RequiredSchedExt lists the options a kernel must have built in (=y) to
// run sched_ext BPF schedulers. Treat it as read-only.
var RequiredSchedExt = []string{
	"CONFIG_SCHED_CLASS_EXT",
	"CONFIG_BPF",
	"CONFIG_BPF_SYSCALL",
	"CONFIG_BPF_JIT",
	"CONFIG_DEBUG_INFO_BTF",
}

// MissingConfigError reports the options CheckConfig did not find set to y.
type MissingConfigError struct {
	// Missing holds one item per missing option, e.g.
	// "CONFIG_SCHED_CLASS_EXT (is not set)".
	Missing []string
}

func (e *MissingConfigError) Error() string {
	return "kernel config lacks " + strings.Join(e.Missing, ", ")
}

// CheckConfig reports whether every option in required is built in, i.e.
// appears as a CONFIG_X=y line in config (the text of a kernel .config).
// Names may be given with or without the CONFIG_ prefix. The error, a
// *MissingConfigError, names each missing option and its actual state.
func CheckConfig(config []byte, required ...string) error {
	values := parseConfig(config)
	var missing []string
	for _, name := range required {
		name = strings.TrimSpace(name)
		if !strings.HasPrefix(name, "CONFIG_") {
			name = "CONFIG_" + name
		}
		v, ok := values[name]
		switch {
		case !ok:
			missing = append(missing, name+"=y (absent)")
		case v == "y":
			// present
		case v == "":
			missing = append(missing, name+"=y (is not set)")
		default:
			missing = append(missing, fmt.Sprintf("%s=y (is %s)", name, v))
		}
	}
	if len(missing) > 0 {
		return &MissingConfigError{Missing: missing}
	}
	return nil
}

// parseConfig maps option names to values; "# CONFIG_X is not set" maps
// CONFIG_X to "".
func parseConfig(config []byte) map[string]string {
	values := make(map[string]string)
	for raw := range bytes.Lines(config) {
		line := strings.TrimSpace(string(raw))
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			if name, ok := strings.CutSuffix(rest, " is not set"); ok && strings.HasPrefix(name, "CONFIG_") {
				values[name] = ""
			}
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(name, "CONFIG_") {
			continue
		}
		values[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return values
}

// DebugConfigs are the options that make a debug kernel: lock debugging,
// sanitizers and page-allocation debugging instrument every lock, memory
// access or allocation on the scheduler's paths, so gaps and spread grow
// with them, as they do under emulation.
var DebugConfigs = []string{
	"CONFIG_PROVE_LOCKING",
	"CONFIG_DEBUG_LOCK_ALLOC",
	"CONFIG_LOCK_STAT",
	"CONFIG_KASAN",
	"CONFIG_KCSAN",
	"CONFIG_KMSAN",
	"CONFIG_DEBUG_PAGEALLOC",
	"CONFIG_DEBUG_ATOMIC_SLEEP",
}

// DebugOptions returns the [DebugConfigs] a kernel config sets to y, in
// that order; none for a production kernel.
func DebugOptions(config []byte) []string {
	values := parseConfig(config)
	var on []string
	for _, name := range DebugConfigs {
		if values[name] == "y" {
			on = append(on, name)
		}
	}
	return on
}
