package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ktstr-go/ktstr/guest/cgroup"
	"github.com/ktstr-go/ktstr/guest/scenario"
	"github.com/ktstr-go/ktstr/guest/sysinfo"
	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/verify"
)

// bareParentPrefix names the cgroup parent of a "ktstr run":
// ktstr-<pid> below the cgroup2 mount. "ktstr cleanup" looks for it.
const bareParentPrefix = "ktstr-"

const runSynopsis = "--scenario NAME [--duration D] [--workers N] [--json]"

// bareRun is what "ktstr run --json" prints.
type bareRun struct {
	Scenario  string               `json:"scenario"`
	Scheduler wire.SchedExtSample  `json:"sched_ext"`
	Cgroup    string               `json:"cgroup"`
	CPUs      int                  `json:"cpus"`
	Duration  string               `json:"duration"`
	Workers   []wire.WorkerReport  `json:"workers"`
	Checks    []verify.CheckResult `json:"checks"`
	Timeline  []wire.Event         `json:"timeline,omitempty"`
	Error     string               `json:"error,omitempty"`
}

// runBare runs a canned scenario on this machine, under whatever
// scheduler runs it now (a sched_ext one when it is enabled, else the
// kernel's own), in cgroups below ktstr-<pid>, and judges the workers
// with the default checks.
func (a *app) runBare(args []string) int {
	fs := a.newFlags("ktstr run", runSynopsis+"\n\nRuns a canned scenario (ktstr list shows them) on this machine, not in a VM, under the scheduler running now; its cgroups live below "+cgroup.Mount+"/"+bareParentPrefix+"<pid>, removed at the end (ktstr cleanup removes those of a run that was killed). Needs root and cgroup v2 with the cpu and cpuset controllers.")
	name := fs.String("scenario", "", "the canned scenario to run")
	dur := fs.Duration("duration", 5*time.Second, "how long the scenario runs")
	workers := fs.Int("workers", 2, "workers per cgroup, where the scenario does not say")
	asJSON := fs.Bool("json", false, "print the run as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *name == "" {
		return a.usageErr(fs, errors.New("--scenario is required (ktstr list shows the canned scenarios)"))
	}
	canned, err := scenario.Lookup(*name)
	if err != nil {
		return a.usageErr(fs, err)
	}
	if *dur <= 0 || *workers <= 0 {
		return a.usageErr(fs, errors.New("--duration and --workers must be positive"))
	}
	if err := bareHostReady(); err != nil {
		return a.fail(err)
	}
	view, err := sysinfo.Read("/")
	if err != nil {
		return a.fail(fmt.Errorf("reading this machine's topology: %w", err))
	}
	topo, err := scenario.TopoFromView(view)
	if err != nil {
		return a.fail(err)
	}
	root := filepath.Join(cgroup.Mount, fmt.Sprintf("%s%d", bareParentPrefix, os.Getpid()))
	eng := &scenario.Engine{Mgr: cgroup.Manager{Root: root}, Topo: topo, Duration: *dur, WorkersPerCgroup: *workers}
	rep := bareRun{Scenario: canned.Name, Cgroup: root, CPUs: view.CPUs, Duration: dur.String(), Scheduler: schedExtNow()}
	steps, skip := canned.Build(scenario.Env{Topo: topo, Duration: *dur, WorkersPerCgroup: *workers})
	if skip != "" {
		return a.fail(fmt.Errorf("scenario %s cannot run on this machine's topology: %s", canned.Name, skip))
	}
	if err := eng.Mgr.Setup(); err != nil {
		return a.fail(fmt.Errorf("cgroups: %w", err))
	}
	// An interrupt kills the workers (the engine then returns) and the
	// cgroups are removed as at the end of any run.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-a.ctx.Done():
			killCgroup(root)
		case <-stop:
		}
	}()
	if !*asJSON {
		fmt.Fprintf(a.stderr, "ktstr run: %s for %v on %d CPUs under %s, in %s\n", canned.Name, *dur, view.CPUs, describeSched(rep.Scheduler), root)
	}
	ws, runErr := eng.Run(steps)
	rep.Timeline = eng.Timeline()
	eng.Close()
	if err := removeCgroupTree(root); err != nil {
		fmt.Fprintf(a.stderr, "ktstr run: %v (ktstr cleanup removes it)\n", err)
	}
	rep.Workers = ws
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	if a.ctx.Err() != nil {
		rep.Error = "interrupted"
	}
	env := verify.Env{CPUs: view.CPUs}
	th := verify.Defaults(env)
	if canned.MaxSpreadPct > 0 {
		th = verify.Merge(th, verify.Thresholds{MaxSpreadPct: canned.MaxSpreadPct})
	}
	if len(ws) > 0 {
		rep.Checks = verify.Evaluate(ws, th, env)
	}
	if *asJSON {
		a.writeJSON(rep)
	} else {
		printBare(a, rep)
	}
	if rep.Error != "" || len(verify.Failed(rep.Checks)) > 0 {
		return 1
	}
	return 0
}

// bareHostReady says why this machine cannot run a scenario, if it
// cannot: not root, or no cgroup v2 at the mount.
func bareHostReady() error {
	if os.Geteuid() != 0 {
		return errors.New("ktstr run needs root: it creates cgroups, moves tasks and sets cpusets (run it with sudo)")
	}
	if _, err := os.Stat(filepath.Join(cgroup.Mount, "cgroup.controllers")); err != nil {
		return fmt.Errorf("ktstr run needs cgroup v2 mounted at %s (this machine has no %s/cgroup.controllers: a cgroup v1 or hybrid layout); boot with systemd.unified_cgroup_hierarchy=1, or run it in a VM: ktstr shell -i $(which ktstr) --exec 'ktstr run --scenario ...'", cgroup.Mount, cgroup.Mount)
	}
	return nil
}

func schedExtNow() wire.SchedExtSample {
	s := wire.SchedExtSample{State: readFirstLine("/sys/kernel/sched_ext/state"), Ops: readFirstLine("/sys/kernel/sched_ext/root/ops")}
	if s.State == "" {
		s.State = "absent"
	}
	return s
}

func describeSched(s wire.SchedExtSample) string {
	if s.State == "enabled" {
		return "sched_ext scheduler " + s.Ops
	}
	return "the kernel's own scheduler (sched_ext " + s.State + ")"
}

func readFirstLine(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return firstLine(strings.TrimSpace(string(b)))
}

func printBare(a *app, r bareRun) {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "CGROUP\tWORKER\tWORK UNITS\tMAX GAP\tOFF-CPU\tMIGRATIONS\n")
	for _, w := range r.Workers {
		off := 0.0
		if w.WallNs > 0 {
			off = 100 * float64(w.OffCPUNs) / float64(w.WallNs)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1fms\t%.0f%%\t%d\n", w.Cgroup, w.Index, w.WorkUnits, float64(w.MaxGapNs)/1e6, off, w.Migrations)
	}
	tw.Flush()
	fmt.Fprintf(a.stdout, "\nscenario %s, %s, %d CPUs, under %s\n", r.Scenario, r.Duration, r.CPUs, describeSched(r.Scheduler))
	for _, c := range r.Checks {
		fmt.Fprintf(a.stdout, "%s\n", c)
	}
	if r.Error != "" {
		fmt.Fprintf(a.stdout, "error: %s\n", r.Error)
	}
}

// removeCgroupTree kills what is left below dir and removes it, deepest
// first.
func removeCgroupTree(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	killCgroup(dir)
	var dirs []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	var last error
	for i := len(dirs) - 1; i >= 0; i-- {
		for try := 0; ; try++ {
			err := os.Remove(dirs[i])
			if err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			if try == 100 {
				last = fmt.Errorf("removing cgroup %s: %w", dirs[i], err)
				break
			}
			time.Sleep(10 * time.Millisecond) // killed tasks leave asynchronously
		}
	}
	return last
}

// killCgroup kills every task in cgroup dir and below (cgroup.kill, Linux
// 5.14 and later); a folder that is no cgroup is left as it is.
func killCgroup(dir string) {
	f, err := os.OpenFile(filepath.Join(dir, "cgroup.kill"), os.O_WRONLY, 0)
	if err != nil {
		return
	}
	f.WriteString("1")
	f.Close()
}
