package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/ktstr-go/ktstr/guest/cgroup"
)

// leftover is a ktstr-<pid> cgroup whose run is gone.
type leftover struct {
	Path  string `json:"path"`
	PID   int    `json:"pid"`
	Tasks int    `json:"tasks"`
}

// findLeftovers lists the ktstr-<pid> cgroups below mount whose ktstr
// process no longer runs (a live run's cgroups are its own).
func findLeftovers(mount string) ([]leftover, error) {
	ents, err := os.ReadDir(mount)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", mount, err)
	}
	var out []leftover
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), bareParentPrefix)
		if !e.IsDir() || !ok {
			continue
		}
		pid, err := strconv.Atoi(rest)
		if err != nil || pid <= 0 {
			continue
		}
		if processAlive(pid) {
			continue
		}
		l := leftover{Path: filepath.Join(mount, e.Name()), PID: pid}
		filepath.WalkDir(l.Path, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() == "cgroup.procs" {
				if b, err := os.ReadFile(p); err == nil {
					l.Tasks += len(strings.Fields(string(b)))
				}
			}
			return nil
		})
		out = append(out, l)
	}
	return out, nil
}

// processAlive: pid runs (or exists as a zombie), as kill(pid, 0) says.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// cleanup removes the cgroups of ktstr runs that were killed before they
// could remove their own (ktstr run), killing the workers left in them.
func (a *app) cleanup(args []string) int {
	fs := a.newFlags("ktstr cleanup", "[--dry-run] [--json]\n\nRemoves the "+bareParentPrefix+"<pid> cgroups below "+cgroup.Mount+" whose ktstr run is gone, killing the workers left in them.")
	dry := fs.Bool("dry-run", false, "list what would be removed, and remove nothing")
	asJSON := fs.Bool("json", false, "print what was found as JSON")
	mount := fs.String("root", cgroup.Mount, "the cgroup2 mount to look in")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	ls, err := findLeftovers(*mount)
	if err != nil {
		return a.fail(err)
	}
	failed := false
	for _, l := range ls {
		if *dry {
			continue
		}
		if err := removeCgroupTree(l.Path); err != nil {
			failed = true
			fmt.Fprintf(a.stderr, "ktstr cleanup: %v\n", err)
		}
	}
	if *asJSON {
		if ls == nil {
			ls = []leftover{}
		}
		a.writeJSON(ls)
	} else {
		verb := "removed"
		if *dry {
			verb = "would remove"
		}
		for _, l := range ls {
			fmt.Fprintf(a.stdout, "%s %s (ktstr pid %d, gone; %d tasks left)\n", verb, l.Path, l.PID, l.Tasks)
		}
		if len(ls) == 0 {
			fmt.Fprintf(a.stdout, "no leftover ktstr cgroups below %s\n", *mount)
		}
	}
	if failed {
		return 1
	}
	return 0
}
