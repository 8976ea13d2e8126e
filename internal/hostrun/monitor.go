package hostrun

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ktstr-go/ktstr/internal/fileid"
	"github.com/ktstr-go/ktstr/internal/ksyms"
	"github.com/ktstr-go/ktstr/kernel"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/runner/monitor"
)

// MonitorOptions turn on the host-side monitor for a Job.
type MonitorOptions struct {
	// WatchdogTimeout overrides the sched_ext watchdog in guest memory
	// (0: leave the scheduler's own).
	WatchdogTimeout time.Duration
	// CacheDir holds kernel symbol tables learnt from earlier boots; ""
	// uses $KTSTR_CACHE_DIR/symbols (else ~/.cache/ktstr/symbols).
	CacheDir string
}

// monitorConfig completes the monitor's configuration once the kernel is
// known: the tick rate from its config, symbols from a System.map beside
// it or from the cache, else a request for the guest's kallsyms.
func monitorConfig(opts *MonitorOptions, k kernel.Kernel) (*runner.MonitorConfig, []string) {
	mc := &runner.MonitorConfig{WatchdogTimeout: opts.WatchdogTimeout, HZ: configHZ(k.ConfigPath)}
	for _, p := range systemMapPaths(k) {
		if ksyms.IsStub(p) {
			continue
		}
		if t, err := ksyms.ParseFile(p, monitor.AllSymbols()); err == nil && len(t.Missing(monitor.CoreSymbols)) == 0 {
			mc.Symbols, mc.SymbolSource = t, p
			return mc, nil
		}
	}
	dir := opts.CacheDir
	if dir == "" {
		dir = defaultSymbolCache()
	}
	key, err := kernelKey(k.Path)
	if err != nil {
		return mc, monitor.AllSymbols()
	}
	file := filepath.Join(dir, key+".json")
	if b, err := os.ReadFile(file); err == nil {
		var t ksyms.Table
		if json.Unmarshal(b, &t) == nil && len(t.Missing(monitor.CoreSymbols)) == 0 {
			mc.Symbols, mc.SymbolSource = t, "cache "+file
			return mc, nil
		}
	}
	mc.OnSymbols = func(t ksyms.Table) {
		b, _ := json.Marshal(t)
		if os.MkdirAll(dir, 0o755) == nil {
			tmp := file + ".tmp" + strconv.Itoa(os.Getpid())
			if os.WriteFile(tmp, b, 0o644) == nil {
				os.Rename(tmp, file)
			}
		}
	}
	return mc, monitor.AllSymbols()
}

func defaultSymbolCache() string {
	if d := os.Getenv("KTSTR_CACHE_DIR"); d != "" {
		return filepath.Join(d, "symbols")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "ktstr", "symbols")
	}
	return filepath.Join(os.TempDir(), "ktstr-symbols")
}

// systemMapPaths are where a System.map of k may be.
func systemMapPaths(k kernel.Kernel) []string {
	dirs := []string{filepath.Dir(k.Path)}
	if r, err := filepath.EvalSymlinks(k.Path); err == nil && filepath.Dir(r) != dirs[0] {
		dirs = append(dirs, filepath.Dir(r))
	}
	var out []string
	for _, d := range dirs {
		out = append(out, filepath.Join(d, "System.map"))
		if k.Version != "" {
			out = append(out, filepath.Join(d, "System.map-"+k.Version))
		}
	}
	return out
}

// kernelKey names a kernel image's cached symbols by the file's identity
// (internal/fileid), not its contents: hashing a 60 MB vmlinux would cost
// every test binary a tenth of a second, and a kernel rebuilt or fetched
// again gets a new modification time and inode.
func kernelKey(path string) (string, error) {
	id, err := fileid.Of(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16]), nil
}

// configHZ reads CONFIG_HZ from a kernel config (0 when unknown).
func configHZ(path string) int {
	if path == "" {
		return 0
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CONFIG_HZ="); ok {
			hz, _ := strconv.Atoi(v)
			return hz
		}
	}
	return 0
}
