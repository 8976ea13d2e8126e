//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package kernel

import "context"

// lockDir is a no-op where flock is unavailable.
func lockDir(ctx context.Context, dir string, waiting func()) (func(), error) {
	return func() {}, nil
}
