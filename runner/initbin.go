package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// EnvInit names a prebuilt, static ktstr-init; unset, [InitBinary]
// builds one.
const EnvInit = "KTSTR_INIT"

// InitPackage is the import path of the guest init.
const InitPackage = "github.com/ktstr-go/ktstr/guest/cmd/ktstr-init"

// goBuilds memoises BuildGoBinary within this process: every VM of one
// test binary runs the same init and schedulers.
var goBuilds struct {
	mu   sync.Mutex
	done map[string]string
}

// InitBinary returns a static ktstr-init: $KTSTR_INIT, or one built by
// [BuildGoBinary].
func InitBinary() (string, error) {
	if p := os.Getenv(EnvInit); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvInit, p, err)
		}
		return p, nil
	}
	return BuildGoBinary(InitPackage)
}

// BuildGoBinary builds a Go main package static (CGO_ENABLED=0) with the
// go command into the user cache and returns the binary's path. The go
// command runs in the current directory, so the package must be in the
// build list of the module there (true for ktstr's packages in any module
// that uses ktstr). A package is built once per process.
func BuildGoBinary(pkg string) (string, error) {
	goBuilds.mu.Lock()
	defer goBuilds.mu.Unlock()
	if p, ok := goBuilds.done[pkg]; ok {
		return p, nil
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		var lerr error
		if goBin, lerr = exec.LookPath("go"); lerr != nil {
			return "", fmt.Errorf("the go command is needed to build %s: put it on PATH, or give a prebuilt binary (%s for ktstr-init)", pkg, EnvInit)
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256([]byte(pkg))
	dir := filepath.Join(cache, "ktstr", "bin", hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build cache dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "build.*.tmp")
	if err != nil {
		return "", fmt.Errorf("build cache dir: %w", err)
	}
	tmp.Close()
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", tmp.Name(), pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("building %s: %w\n%s", pkg, err, strings.TrimSpace(string(out)))
	}
	// Concurrent test processes may race here; rename is atomic and they
	// build the same source.
	final := filepath.Join(dir, path.Base(pkg))
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", fmt.Errorf("installing %s: %w", final, err)
	}
	if goBuilds.done == nil {
		goBuilds.done = map[string]string{}
	}
	goBuilds.done[pkg] = final
	return final, nil
}
