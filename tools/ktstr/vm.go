package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ktstr-go/ktstr/guest"
	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/internal/hostrun"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/topology"
)

// asInit runs ktstr as the guest's init when it is PID 1: "ktstr shell"
// and "ktstr verifier" put this very binary into the initramfs as /init,
// so that the CLI needs no Go toolchain nor a separately built init.
func asInit() {
	if guest.IsInit() {
		guest.Main() // powers the machine off; never returns
	}
}

// vmSession is one VM the CLI boots: a shell session, with a scheduler
// started first when sched is set.
type vmSession struct {
	topo topology.Topology
	// kernel is an explicit kernel ("" resolves one as tests do).
	kernel string
	// busybox is the userland; "" boots without one.
	busybox  string
	includes []string
	// sched and schedBin start a scheduler binary before the shell.
	sched    *wire.SchedRequest
	schedBin string
	shell    wire.ShellRequest
	timeout  time.Duration
	// console, when set, sees the guest console; stdin makes the
	// session interactive.
	console   io.Writer
	stdin     *os.File
	outDir    string
	workDir   string
	kernelArg []string
}

// files are the initramfs's files for s.
func (s vmSession) files() ([]runner.File, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the ktstr binary (the guest's init): %w", err)
	}
	files := []runner.File{{Path: "/init", Source: self, Mode: 0o755, WithLibs: true}}
	if s.busybox != "" {
		files = append(files, runner.File{Path: "/bin/busybox", Source: s.busybox, Mode: 0o755, WithLibs: true})
	}
	seen := map[string]string{}
	for _, inc := range s.includes {
		st, err := os.Stat(inc)
		if err != nil {
			return nil, fmt.Errorf("included file: %w", err)
		}
		if st.IsDir() {
			return nil, fmt.Errorf("included file %s is a folder: give its files one -i each", inc)
		}
		dst := filepath.Join(wire.IncludeDir, filepath.Base(inc))
		if prev, ok := seen[dst]; ok {
			return nil, fmt.Errorf("included files %s and %s would both be %s in the guest: rename one", prev, inc, dst)
		}
		seen[dst] = inc
		mode := uint64(st.Mode().Perm())
		files = append(files, runner.File{Path: dst, Source: inc, Mode: mode, WithLibs: mode&0o111 != 0})
	}
	if s.sched != nil && s.schedBin != "" {
		files = append(files, runner.File{Path: s.sched.Path, Source: s.schedBin, Mode: 0o755, WithLibs: true})
	}
	return files, nil
}

// runVM boots the session's VM to its end.
func (a *app) runVM(s vmSession) (hostrun.Outcome, error) {
	files, err := s.files()
	if err != nil {
		return hostrun.Outcome{}, &hostrun.SetupError{Err: err}
	}
	sh := s.shell
	job := hostrun.Job{
		KernelExplicit: s.kernel,
		NeedSchedExt:   s.sched != nil,
		WorkDir:        s.workDir,
		Files:          func() ([]runner.File, error) { return files, nil },
		Request:        wire.Request{Shell: &sh, Scheduler: s.sched, Timeout: wire.Duration(s.timeout)},
		Config: runner.Config{
			Topology:   s.topo,
			KernelArgs: s.kernelArg,
			Timeout:    s.timeout + time.Minute,
			Console:    s.console,
			Stdin:      s.stdin,
			OutDir:     s.outDir,
		},
	}
	return hostrun.Run(a.ctx, job)
}

// findBusybox is the busybox to put into a guest: explicit, else one on
// PATH; "" with a reason when there is none.
func findBusybox(explicit string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("--busybox: %w", err)
		}
		return explicit, nil
	}
	for _, name := range []string{"busybox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox", "/usr/lib/initramfs-tools/bin/busybox"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no busybox found (on PATH, /bin, /usr/bin): install one (Debian: apt-get install busybox-static; tools/dev setup does) or give --busybox PATH")
}

// parseTopology reads a preset name or an NsNcNt string.
func parseTopology(s string) (topology.Topology, error) {
	if p, err := topology.PresetByName(s); err == nil {
		return p.Topology, nil
	}
	t, err := topology.Parse(s)
	if err != nil {
		return t, fmt.Errorf("--topology %q: not a preset (ktstr list shows them) nor a topology like 2s4c2t: %w", s, err)
	}
	return t, nil
}
