package fileid

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Of is path's identity: its absolute real path (symlinks followed, so
// that runfiles links name their target), size, modification time and
// inode, as one string.
func Of(path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return "", err
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	var ino uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = sys.Ino
	}
	return fmt.Sprintf("%s|%d|%d|%d", real, st.Size(), st.ModTime().UnixNano(), ino), nil
}
