package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Mount is where init mounts cgroup2.
const Mount = "/sys/fs/cgroup"

// Manager owns the cgroups below Root.
type Manager struct {
	// Root is the directory all scenario cgroups live under.
	Root string
}

// Controllers the scenarios need.
var controllers = []string{"cpu", "cpuset"}

// Setup creates Root and enables the controllers on every level from the
// cgroup2 mount down to it.
func (m Manager) Setup() error {
	rel, err := filepath.Rel(Mount, m.Root)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("cgroup root %s is not below %s", m.Root, Mount)
	}
	if err := os.MkdirAll(m.Root, 0o755); err != nil {
		return fmt.Errorf("creating cgroup root: %w", err)
	}
	dir := Mount
	for _, part := range append([]string{""}, strings.Split(rel, "/")...) {
		dir = filepath.Join(dir, part)
		if err := enable(dir); err != nil {
			return err
		}
	}
	return nil
}

func enable(dir string) error {
	avail, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("reading controllers of %s: %w", dir, err)
	}
	have := strings.Fields(string(avail))
	for _, c := range controllers {
		if !contains(have, c) {
			return fmt.Errorf("cgroup %s lacks the %s controller (available: %s)", dir, c, strings.TrimSpace(string(avail)))
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+"+c), 0); err != nil {
			return fmt.Errorf("enabling %s in %s: %w", c, dir, err)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Dir is the directory of the named cgroup.
func (m Manager) Dir(name string) string { return filepath.Join(m.Root, name) }

// Create makes the named cgroup; cpus, when not empty, becomes its
// cpuset.cpus (a cpulist).
func (m Manager) Create(name, cpus string) (string, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return "", fmt.Errorf("cgroup name %q: must be a single path element", name)
	}
	dir := m.Dir(name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating cgroup %s: %w", name, err)
	}
	if cpus != "" {
		if err := m.SetCPUs(name, cpus); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// SetCPUs writes cpuset.cpus of the named cgroup.
func (m Manager) SetCPUs(name, cpus string) error {
	if err := os.WriteFile(filepath.Join(m.Dir(name), "cpuset.cpus"), []byte(cpus), 0); err != nil {
		return fmt.Errorf("cgroup %s: setting cpuset.cpus to %q: %w", name, cpus, err)
	}
	return nil
}

// EffectiveCPUs reads cpuset.cpus.effective of the named cgroup.
func (m Manager) EffectiveCPUs(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(m.Dir(name), "cpuset.cpus.effective"))
	if err != nil {
		return "", fmt.Errorf("cgroup %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Remove kills every process left in the named cgroup and removes it.
func (m Manager) Remove(name string) error {
	dir := m.Dir(name)
	if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cgroup %s: kill: %w", name, err)
	}
	var err error
	for range 100 {
		if err = os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(10 * time.Millisecond) // killed tasks leave asynchronously
	}
	return fmt.Errorf("removing cgroup %s: %w", name, err)
}

// CreatePath makes a cgroup that may be nested ("a/b"): each missing
// level is created, and the parent of a nested one gets the controllers
// in its subtree_control (so it must hold no process then).
func (m Manager) CreatePath(name string) (string, error) {
	parts := strings.Split(name, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.ContainsRune(p, 0) {
			return "", fmt.Errorf("cgroup name %q: bad path element %q", name, p)
		}
	}
	dir := m.Root
	for i, p := range parts {
		if i > 0 {
			if err := enable(dir); err != nil {
				return "", fmt.Errorf("cgroup %s: %w", name, err)
			}
		}
		dir = filepath.Join(dir, p)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("creating cgroup %s: %w", name, err)
		}
	}
	return dir, nil
}

// ClearCPUs lets the named cgroup use every CPU its parent has.
func (m Manager) ClearCPUs(name string) error {
	if err := os.WriteFile(filepath.Join(m.Dir(name), "cpuset.cpus"), []byte("\n"), 0); err != nil {
		return fmt.Errorf("cgroup %s: clearing cpuset.cpus: %w", name, err)
	}
	return nil
}

// CPUs reads cpuset.cpus of the named cgroup ("" when it has none).
func (m Manager) CPUs(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(m.Dir(name), "cpuset.cpus"))
	if err != nil {
		return "", fmt.Errorf("cgroup %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Move puts process pid into the named cgroup.
func (m Manager) Move(name string, pid int) error {
	if err := os.WriteFile(filepath.Join(m.Dir(name), "cgroup.procs"), []byte(fmt.Sprint(pid)), 0); err != nil {
		return fmt.Errorf("moving pid %d into cgroup %s: %w", pid, name, err)
	}
	return nil
}

// ClearSubtreeControl turns the controllers of the named cgroup's
// children off, so that it may hold processes itself.
func (m Manager) ClearSubtreeControl(name string) error {
	path := filepath.Join(m.Dir(name), "cgroup.subtree_control")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", name, err)
	}
	for _, c := range strings.Fields(string(b)) {
		if err := os.WriteFile(path, []byte("-"+c), 0); err != nil {
			return fmt.Errorf("cgroup %s: disabling %s for its children: %w", name, c, err)
		}
	}
	return nil
}

// Own is the cgroup directory of the calling process.
func Own() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("reading own cgroup: %w", err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if rest, ok := strings.CutPrefix(l, "0::"); ok {
			return filepath.Join(Mount, rest), nil
		}
	}
	return "", fmt.Errorf("no cgroup2 entry in /proc/self/cgroup: %q", b)
}
