package runner

import (
	"fmt"
	"os"
	"os/exec"
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

// initBuild memoises the init build of this process: every VM of one test
// binary runs the same init.
var initBuild struct {
	mu   sync.Mutex
	path string
}

// InitBinary returns a static ktstr-init: $KTSTR_INIT, or one built with
// the go command (CGO_ENABLED=0) into the user cache. The go command must
// run in a module that requires github.com/ktstr-go/ktstr, which is true
// of any test that uses it. The build is done once per process.
func InitBinary() (string, error) {
	if p := os.Getenv(EnvInit); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvInit, p, err)
		}
		return p, nil
	}
	initBuild.mu.Lock()
	defer initBuild.mu.Unlock()
	if initBuild.path != "" {
		return initBuild.path, nil
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		var lerr error
		if goBin, lerr = exec.LookPath("go"); lerr != nil {
			return "", fmt.Errorf("the go command is needed to build ktstr-init; set %s to a prebuilt static ktstr-init instead", EnvInit)
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "ktstr", "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("init cache dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "ktstr-init.*.tmp")
	if err != nil {
		return "", fmt.Errorf("init cache dir: %w", err)
	}
	tmp.Close()
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", tmp.Name(), InitPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("building %s: %w\n%s", InitPackage, err, strings.TrimSpace(string(out)))
	}
	final := filepath.Join(dir, "ktstr-init")
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", fmt.Errorf("installing ktstr-init: %w", err)
	}
	initBuild.path = final
	return final, nil
}
