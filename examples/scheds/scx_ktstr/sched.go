package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// Limits of the BPF side (KTSTR_MAX_CPUS, KTSTR_MAX_LLCS).
const (
	maxCPUs = 256
	maxLLCs = 256
)

// maxTimeoutMS is the longest watchdog timeout sched_ext accepts.
const maxTimeoutMS = 30000

// Fault modes; the numbers are enum ktstr_fault of the BPF program.
const (
	faultNone        = 0
	faultStall       = 1
	faultDegrade     = 2
	faultScattershot = 3
	faultPile        = 4
	faultFallback    = 5
	faultKeepLast    = 6
)

// faultFailVerify loads the object the verifier rejects; it is not a
// mode of the BPF program.
const faultFailVerify = "fail-verify"

var faultModes = map[string]uint32{
	"none":          faultNone,
	"stall":         faultStall,
	"degrade":       faultDegrade,
	"scattershot":   faultScattershot,
	"pile":          faultPile,
	"fallback":      faultFallback,
	"keeplast":      faultKeepLast,
	faultFailVerify: faultNone,
}

// Names of the objects in the BPF program.
const (
	opsMapName   = "ktstr_ops"
	opsName      = "ktstr"
	ctlMapName   = "ktstr_ctl"
	statsMapName = "ktstr_stats"
)

// SCX_OPS_ENQ_LAST, the only ops flag the program sets (the keeplast
// fault clears it).
const scxOpsEnqLast = 2

// opsFlags are the struct_ops flags for c.
func (c config) opsFlags() uint64 {
	if c.Fault == "keeplast" {
		return 0
	}
	return scxOpsEnqLast
}

// faultNames lists the --fault values, for messages.
const faultNames = "none, stall, degrade, scattershot, pile, fallback, keeplast or fail-verify"

// config is the command line.
type config struct {
	LLC, Borrow, Steal bool
	SliceUS            uint64
	TimeoutMS          uint
	Fault              string
	CgroupParent       string
	StatsInterval      time.Duration
}

// validate checks the flags against each other.
func (c config) validate() error {
	if c.Steal && !c.LLC {
		return errors.New("--steal requires --llc")
	}
	if c.SliceUS == 0 {
		return errors.New("--slice-us must be positive")
	}
	if c.TimeoutMS > maxTimeoutMS {
		return fmt.Errorf("--timeout-ms %d is above the kernel's maximum of %d", c.TimeoutMS, maxTimeoutMS)
	}
	if _, ok := faultModes[c.Fault]; !ok {
		return fmt.Errorf("--fault %q: want %s", c.Fault, faultNames)
	}
	if c.StatsInterval < 0 {
		return errors.New("--stats-interval must not be negative")
	}
	return nil
}

// flagsString describes the ops flags and options for the "enabled" line.
func (c config) flagsString() string {
	var parts []string
	if c.opsFlags()&scxOpsEnqLast != 0 {
		parts = append(parts, "ENQ_LAST")
	}
	if c.LLC {
		parts = append(parts, "LLC")
	}
	if c.Borrow {
		parts = append(parts, "BORROW")
	}
	if c.Steal {
		parts = append(parts, "STEAL")
	}
	timeout := "default"
	if c.TimeoutMS > 0 {
		timeout = fmt.Sprintf("%dms", c.TimeoutMS)
	}
	return fmt.Sprintf("0x%x %s, fault=%s, slice=%dus, timeout=%s",
		c.opsFlags(), strings.Join(parts, "|"), c.Fault, c.SliceUS, timeout)
}

// configure writes the options and the topology into the program's
// read-only data and the watchdog timeout into its struct_ops map. It must
// run before the collection is loaded.
func configure(spec *ebpf.CollectionSpec, c config, topo llcTopology) error {
	if len(topo.CPULLC) > maxCPUs {
		return fmt.Errorf("%d CPUs: the scheduler supports at most %d", len(topo.CPULLC), maxCPUs)
	}
	if topo.NrLLCs < 1 || topo.NrLLCs > maxLLCs {
		return fmt.Errorf("%d LLCs: the scheduler supports 1 to %d", topo.NrLLCs, maxLLCs)
	}
	var cpuLLC [maxCPUs]uint32
	copy(cpuLLC[:], topo.CPULLC)
	b2u := func(b bool) uint32 {
		if b {
			return 1
		}
		return 0
	}
	sets := []struct {
		name  string
		value any
	}{
		{"nr_cpus", uint32(len(topo.CPULLC))},
		{"nr_llcs", uint32(topo.NrLLCs)},
		{"cpu_llc", cpuLLC},
		{"llc_mode", b2u(c.LLC)},
		{"borrow", b2u(c.Borrow)},
		{"steal", b2u(c.Steal)},
		{"slice_ns", c.SliceUS * 1000},
		{"timeout_ms", uint32(c.TimeoutMS)},
		{"fault", faultModes[c.Fault]},
	}
	for _, s := range sets {
		v, ok := spec.Variables[s.name]
		if !ok {
			return fmt.Errorf("BPF program has no variable %s", s.name)
		}
		if !v.Constant() {
			return fmt.Errorf("BPF variable %s is not const volatile", s.name)
		}
		if err := v.Set(s.value); err != nil {
			return fmt.Errorf("setting %s: %w", s.name, err)
		}
	}
	if err := setOpsField(spec, "timeout_ms", uint32(c.TimeoutMS)); err != nil {
		return err
	}
	return setOpsField(spec, "flags", c.opsFlags())
}

// opsField locates a member of the struct_ops map's value.
func opsField(spec *ebpf.CollectionSpec, name string) ([]byte, btf.Member, error) {
	ms, ok := spec.Maps[opsMapName]
	if !ok {
		return nil, btf.Member{}, fmt.Errorf("BPF program has no map %s", opsMapName)
	}
	st, ok := ms.Value.(*btf.Struct)
	if !ok || len(ms.Contents) != 1 {
		return nil, btf.Member{}, fmt.Errorf("map %s is not a struct_ops map", opsMapName)
	}
	data, ok := ms.Contents[0].Value.([]byte)
	if !ok {
		return nil, btf.Member{}, fmt.Errorf("map %s: unexpected contents %T", opsMapName, ms.Contents[0].Value)
	}
	for _, m := range st.Members {
		if m.Name == name {
			return data, m, nil
		}
	}
	return nil, btf.Member{}, fmt.Errorf("struct %s has no member %s", st.Name, name)
}

// setOpsField overwrites a u32 or u64 member of the struct_ops value.
func setOpsField[T uint32 | uint64](spec *ebpf.CollectionSpec, name string, v T) error {
	data, m, err := opsField(spec, name)
	if err != nil {
		return err
	}
	size, err := btf.Sizeof(m.Type)
	if err != nil {
		return err
	}
	off := int(m.Offset.Bytes())
	want := int(unsafe.Sizeof(v))
	if size != want || off+want > len(data) {
		return fmt.Errorf("struct_ops member %s: unexpected layout (size %d, want %d, offset %d)", name, size, want, off)
	}
	switch want {
	case 4:
		binary.LittleEndian.PutUint32(data[off:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(data[off:], uint64(v))
	}
	return nil
}

// opsNameOf returns the .name member of the struct_ops value.
func opsNameOf(spec *ebpf.CollectionSpec) (string, error) {
	data, m, err := opsField(spec, "name")
	if err != nil {
		return "", err
	}
	size, err := btf.Sizeof(m.Type)
	if err != nil {
		return "", err
	}
	off := int(m.Offset.Bytes())
	if off+size > len(data) {
		return "", errors.New("struct_ops member name is out of range")
	}
	b := data[off : off+size]
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b), nil
}

// exitKindNames are enum scx_exit_kind of the kernel (see vmlinux.h).
var exitKindNames = map[int32]string{
	0:    "NONE",
	1:    "DONE",
	64:   "UNREG",
	65:   "UNREG_BPF",
	66:   "UNREG_KERN",
	67:   "SYSRQ",
	68:   "PARENT",
	1024: "ERROR",
	1025: "ERROR_BPF",
	1026: "ERROR_STALL",
}

func exitKindName(kind int32) string {
	if n, ok := exitKindNames[kind]; ok {
		return n
	}
	return "UNKNOWN"
}

// cString converts a NUL-terminated C char array.
func cString(a []int8) string {
	b := make([]byte, 0, len(a))
	for _, c := range a {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// exitLine formats what ops.exit recorded.
func exitLine(ei *ktstrKtstrExitInfo) string {
	return fmt.Sprintf("scx_ktstr: exit kind=%d (%s) reason=%q msg=%q",
		ei.Kind, exitKindName(ei.Kind), cString(ei.Reason[:]), cString(ei.Msg[:]))
}

// statsLine formats one CPU's counters (cpu < 0: the sum).
func statsLine(cpu int, s ktstrKtstrCpuStats) string {
	who := "all"
	if cpu >= 0 {
		who = fmt.Sprintf("cpu%d", cpu)
	}
	return fmt.Sprintf("scx_ktstr: stats %s enqueues=%d dispatches=%d local_inserts=%d borrows=%d steals=%d scatters=%d gated=%d piled=%d forbidden=%d",
		who, s.Enqueues, s.Dispatches, s.LocalInserts, s.Borrows, s.Steals, s.Scatters, s.Gated, s.Piled, s.Forbidden)
}

// sumStats adds up per-CPU counters.
func sumStats(per []ktstrKtstrCpuStats) ktstrKtstrCpuStats {
	var t ktstrKtstrCpuStats
	for _, s := range per {
		t.Enqueues += s.Enqueues
		t.Dispatches += s.Dispatches
		t.LocalInserts += s.LocalInserts
		t.Borrows += s.Borrows
		t.Steals += s.Steals
		t.Scatters += s.Scatters
		t.Piled += s.Piled
		t.Forbidden += s.Forbidden
		t.Gated += s.Gated
	}
	return t
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
