package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrKVMUnusable is returned (wrapped) when KVM was asked for but cannot
// run a guest on this host.
var ErrKVMUnusable = errors.New("KVM cannot run a guest on this host")

// KVMVerdict is what a probe boot found out about KVM on this host, for
// one QEMU binary and one kernel.
type KVMVerdict struct {
	// Usable is true when a guest kernel booted under KVM.
	Usable bool `json:"usable"`
	// Reason says why KVM is not usable, in QEMU's or the kernel's words.
	Reason string `json:"reason,omitempty"`
	QEMU   string `json:"qemu"`
	Kernel string `json:"kernel"`
	// BootID is the host's boot id: a verdict holds until the host reboots.
	BootID   string    `json:"boot_id"`
	ProbedAt time.Time `json:"probed_at"`
	// ProbeS is how long the probe boot took.
	ProbeS float64 `json:"probe_s"`
	// Cached is true when the verdict was read from the cache.
	Cached bool `json:"-"`
}

// AccelChoice is the accelerator a run uses, and why.
type AccelChoice struct {
	Accel Accel
	// Why is one line on how the choice was made: the probe's verdict when
	// auto mode did not pick KVM, or the setting that forced it.
	Why string
	// Verdict is the probe's verdict the choice rests on (nil when none
	// was needed: TCG asked for, or no usable /dev/kvm).
	Verdict *KVMVerdict
}

// KVMProber decides whether KVM can really run a guest, by booting one.
// Opening /dev/kvm proves little: a nested or paravirtual KVM may open
// and create VMs yet fail to run a stock kernel. The verdict is cached in
// CacheDir per host boot, QEMU binary and kernel, so the probe (about a
// second where KVM works, up to [probeStall] where it hangs) runs once.
type KVMProber struct {
	// CacheDir holds the verdicts; "" uses [DefaultAccelCacheDir], and a
	// cache that cannot be written only costs a probe per process.
	CacheDir string
	// Reprobe ignores cached verdicts (and replaces them).
	Reprobe bool

	mu   sync.Mutex
	memo map[string]KVMVerdict
	// probe and device stand in for the probe boot and the /dev/kvm
	// check in unit tests; nil means the real ones.
	probe  func(ctx context.Context, qemu, kernel string) KVMVerdict
	device func() error
}

// defaultProber serves [Boot] and [ChooseAccel]: within one process a
// verdict is probed once, whatever the number of VMs.
var defaultProber = &KVMProber{}

// DefaultAccelCacheDir is $KTSTR_CACHE_DIR/accel, else
// <user cache dir>/ktstr/accel; "" when neither can be found.
func DefaultAccelCacheDir() string {
	if d := os.Getenv("KTSTR_CACHE_DIR"); d != "" {
		return filepath.Join(d, "accel")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "ktstr", "accel")
	}
	return ""
}

// ChooseAccel resolves the accelerator for a run of kernel with qemu:
// the requested one, else $KTSTR_ACCEL, else auto. Auto picks KVM only
// when a probe boot showed that it runs a guest here, and TCG otherwise;
// KVM asked for explicitly on a host where the probe fails is an error
// wrapping [ErrKVMUnusable] with the reason.
func ChooseAccel(ctx context.Context, requested Accel, qemu, kernel string) (AccelChoice, error) {
	return defaultProber.Choose(ctx, requested, qemu, kernel)
}

// Choose is [ChooseAccel] with this prober's cache.
func (p *KVMProber) Choose(ctx context.Context, requested Accel, qemu, kernel string) (AccelChoice, error) {
	a, from := requested, "requested"
	if a == AccelAuto {
		a, from = Accel(os.Getenv(EnvAccel)), EnvAccel+"="+os.Getenv(EnvAccel)
	}
	switch a {
	case AccelTCG:
		return AccelChoice{Accel: AccelTCG, Why: "TCG " + from}, nil
	case AccelAuto, AccelKVM:
	default:
		return AccelChoice{}, fmt.Errorf("unknown accelerator %q (%s): want kvm or tcg", a, EnvAccel)
	}
	device := p.device
	if device == nil {
		device = kvmDeviceUsable
	}
	if err := device(); err != nil {
		if a == AccelKVM {
			return AccelChoice{}, fmt.Errorf("%w: %v; use %s=tcg or fix /dev/kvm", ErrKVMUnusable, err, EnvAccel)
		}
		return AccelChoice{Accel: AccelTCG, Why: "KVM not used: " + err.Error()}, nil
	}
	v, err := p.Verdict(ctx, qemu, kernel)
	if err != nil {
		return AccelChoice{}, err
	}
	if v.Usable {
		return AccelChoice{Accel: AccelKVM, Why: "KVM: a probe guest booted", Verdict: &v}, nil
	}
	if a == AccelKVM {
		return AccelChoice{Verdict: &v}, fmt.Errorf("%w (%s): %s; use %s=tcg, or unset it to fall back to TCG", ErrKVMUnusable, from, v.Reason, EnvAccel)
	}
	return AccelChoice{Accel: AccelTCG, Why: "KVM not used: " + v.Reason, Verdict: &v}, nil
}

// kvmDeviceUsable checks that /dev/kvm opens for reading and writing.
func kvmDeviceUsable() error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("/dev/kvm cannot be opened read-write: %w", errors.Unwrap(err))
	}
	return f.Close()
}

// Verdict returns the cached verdict for qemu and kernel, or probes.
func (p *KVMProber) Verdict(ctx context.Context, qemu, kernel string) (KVMVerdict, error) {
	key, err := verdictKey(qemu, kernel)
	if err != nil {
		return KVMVerdict{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if v, ok := p.memo[key]; ok && !p.Reprobe {
		v.Cached = true
		return v, nil
	}
	dir := p.CacheDir
	if dir == "" {
		dir = DefaultAccelCacheDir()
	}
	file := ""
	if dir != "" {
		file = filepath.Join(dir, "kvm-"+key+".json")
		if b, err := os.ReadFile(file); err == nil && !p.Reprobe {
			var v KVMVerdict
			if json.Unmarshal(b, &v) == nil {
				p.remember(key, v)
				v.Cached = true
				return v, nil
			}
		}
	}
	probe := p.probe
	if probe == nil {
		probe = probeKVM
	}
	v := probe(ctx, qemu, kernel)
	if ctx.Err() != nil {
		return KVMVerdict{}, fmt.Errorf("probing KVM: %w", ctx.Err())
	}
	v.BootID = bootID()
	p.remember(key, v)
	if file != "" {
		// A cache that cannot be written costs one probe per process.
		if b, err := json.MarshalIndent(v, "", "  "); err == nil && os.MkdirAll(dir, 0o755) == nil {
			tmp := fmt.Sprintf("%s.%d.tmp", file, os.Getpid())
			if os.WriteFile(tmp, b, 0o644) == nil {
				os.Rename(tmp, file)
			}
		}
	}
	return v, nil
}

func (p *KVMProber) remember(key string, v KVMVerdict) {
	if p.memo == nil {
		p.memo = map[string]KVMVerdict{}
	}
	p.memo[key] = v
}

// verdictKey names a verdict: the host boot, and the identity (real
// path, size, modification time) of the QEMU binary and the kernel. The
// real path makes Bazel's runfiles symlinks, which differ per sandbox,
// name the same kernel.
func verdictKey(qemu, kernel string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "boot %s\n", bootID())
	for _, f := range []string{qemu, kernel} {
		abs, err := filepath.EvalSymlinks(f)
		if err == nil {
			abs, err = filepath.Abs(abs)
		}
		if err != nil {
			return "", fmt.Errorf("KVM probe: %w", err)
		}
		st, err := os.Stat(abs)
		if err != nil {
			return "", fmt.Errorf("KVM probe: %w", err)
		}
		fmt.Fprintf(h, "%s %d %d\n", abs, st.Size(), st.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))[:20], nil
}

func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
