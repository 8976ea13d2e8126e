package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/internal/gauntlet"
	"github.com/ktstr-go/ktstr/internal/testdecl"
	"github.com/ktstr-go/ktstr/runner"
	"github.com/ktstr-go/ktstr/topology"
)

// VerifierLimit is the kernel's bound on the instructions the verifier
// processes for one program (BPF_COMPLEXITY_LIMIT_INSNS).
const VerifierLimit = 1_000_000

// verifierWarnPct is how close to VerifierLimit a program may come
// before the table warns.
const verifierWarnPct = 80

const verifierSynopsis = "--scheduler NAME|PATH [--package DIR] [--binary PATH] [--against PATH] [--args ARGS] [--topology T] [--kernel PATH] [--json]"

// verifierRun is one scheduler binary loaded with one flag profile.
type verifierRun struct {
	Profile  string              `json:"profile"`
	Args     []string            `json:"args"`
	Binary   string              `json:"binary"`
	Programs []wire.ProgramStats `json:"programs"`
	Error    string              `json:"error,omitempty"`
}

// verifierReport is what "ktstr verifier --json" prints: the runs of the
// binary (A) and, with --against, of the other one (B).
type verifierReport struct {
	Scheduler string        `json:"scheduler"`
	Topology  string        `json:"topology"`
	Kernel    string        `json:"kernel,omitempty"`
	Limit     int           `json:"limit"`
	A         []verifierRun `json:"a"`
	B         []verifierRun `json:"b,omitempty"`
}

// verifierTarget is the scheduler to load: its binary and profiles.
type verifierTarget struct {
	name     string
	binary   string
	profiles [][]string
	flagArgs map[string][]string
	extra    []string
	topo     topology.Topology
}

// verifier loads a scheduler in a VM once per flag profile and reports,
// per BPF program, how many instructions the kernel's verifier
// processed (bpf_prog_info.verified_insns).
func (a *app) verifier(args []string) int {
	fs := a.newFlags("ktstr verifier", verifierSynopsis+"\n\nLoads the scheduler in a VM once per flag profile and prints, per BPF program, the instructions the kernel's verifier processed, warning at "+fmt.Sprint(verifierWarnPct)+"% of the 1M limit. NAME is a scheduler declared by the ktstr tests of --package (its Name or Go variable); PATH a binary, loaded with --args only. --against compares a second binary, profile by profile.")
	schedFlag := fs.String("scheduler", "", "the scheduler: a name declared in --package's tests, or a binary's path")
	pkg := fs.String("package", "./...", "where the scheduler is declared: a folder of the module, or folder/... ")
	binary := fs.String("binary", "", "the scheduler's binary (default: built from its GoPackage, or its Path)")
	against := fs.String("against", "", "a second binary of the same scheduler, to compare with (A/B)")
	extra := fs.String("args", "", "extra scheduler arguments for every profile (split at spaces)")
	topo := fs.String("topology", "", "the VM's topology (default: the scheduler's, else 1s2c1t)")
	kpath := fs.String("kernel", "", "the kernel (default: resolved as tests do)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *schedFlag == "" {
		return a.usageErr(fs, fmt.Errorf("--scheduler is required: a scheduler declared by the module's ktstr tests (such as ktstr) or a binary's path"))
	}
	tgt, err := a.verifierTarget(*schedFlag, *pkg, *binary)
	if err != nil {
		return a.fail(err)
	}
	tgt.extra = strings.Fields(*extra)
	if *topo != "" {
		if tgt.topo, err = parseTopology(*topo); err != nil {
			return a.usageErr(fs, err)
		}
	}
	if *against != "" {
		if _, err := os.Stat(*against); err != nil {
			return a.fail(fmt.Errorf("--against: %w", err))
		}
	}
	rep := verifierReport{Scheduler: tgt.name, Topology: tgt.topo.String(), Limit: VerifierLimit}
	failed := false
	for _, bin := range []string{tgt.binary, *against} {
		if bin == "" {
			continue
		}
		var runs []verifierRun
		for _, p := range tgt.profiles {
			r := verifierRun{Profile: gauntlet.ProfileName(p), Binary: bin, Args: tgt.argsOf(p)}
			fmt.Fprintf(a.stderr, "ktstr verifier: loading %s (%s) with profile %s in a %s VM...\n", tgt.name, filepath.Base(bin), r.Profile, tgt.topo)
			progs, kern, err := a.loadScheduler(tgt, bin, r.Args, *kpath)
			if kern != "" {
				rep.Kernel = kern
			}
			r.Programs = progs
			if err != nil {
				r.Error = err.Error()
				failed = true
				fmt.Fprintf(a.stderr, "ktstr verifier: profile %s: %v\n", r.Profile, err)
			}
			runs = append(runs, r)
		}
		if bin == tgt.binary {
			rep.A = runs
		} else {
			rep.B = runs
		}
	}
	if *asJSON {
		if code := a.writeJSON(rep); code != 0 {
			return code
		}
	} else {
		printVerifier(a, rep)
	}
	if failed {
		return 1
	}
	return 0
}

// verifierTarget finds the scheduler named s: a declared one, or a
// binary at path s.
func (a *app) verifierTarget(s, pkg, binary string) (verifierTarget, error) {
	t := verifierTarget{name: filepath.Base(s), profiles: [][]string{nil}, topo: topology.Topology{Sockets: 1, Cores: 2, Threads: 1}}
	if strings.Contains(s, "/") {
		if binary != "" {
			return t, fmt.Errorf("--binary is for a declared scheduler; --scheduler %s is a binary already", s)
		}
		_, err := os.Stat(s)
		t.binary = s
		return t, err
	}
	d, err := findSchedDecl(s, pkg)
	if err != nil {
		return t, err
	}
	t.name, t.flagArgs = d.Name, d.FlagArgs
	if d.Builtin {
		return t, fmt.Errorf("scheduler %s is built into the kernel: it loads no BPF programs of its own to verify", d.Name)
	}
	for _, f := range d.Flags {
		if d.FlagArgs[f] == nil {
			return t, fmt.Errorf("scheduler %s: the arguments of flag %q are not a constant []string literal: ktstr verifier cannot build its profiles", d.Name, f)
		}
	}
	if t.profiles, err = gauntlet.Profiles(d.Name, d.Flags, d.Requires, nil, nil); err != nil {
		return t, err
	}
	if s, c, th := d.Ints["scheduler_sockets"], d.Ints["scheduler_cores"], d.Ints["scheduler_threads"]; s > 0 && c > 0 && th > 0 {
		t.topo = topology.Topology{Sockets: int(s), Cores: int(c), Threads: int(th)}
	}
	switch {
	case binary != "":
		t.binary = binary
	case d.GoPackage != "":
		fmt.Fprintf(a.stderr, "ktstr verifier: building %s\n", d.GoPackage)
		if t.binary, err = runner.BuildGoBinary(d.GoPackage); err != nil {
			return t, err
		}
	case d.Path != "":
		return t, fmt.Errorf("scheduler %s runs a host binary (Scheduler.Path, not a constant this tool reads): give it with --binary PATH", d.Name)
	default:
		return t, fmt.Errorf("scheduler %s has a Bazel binary only (%s): build it and give --binary PATH", d.Name, d.Bazel)
	}
	if _, err := os.Stat(t.binary); err != nil {
		return t, fmt.Errorf("scheduler %s: %w", d.Name, err)
	}
	return t, nil
}

// findSchedDecl finds the scheduler declaration named name (its Name or
// its Go variable) among the ktstr tests of the folders of pattern.
func findSchedDecl(name, pattern string) (*testdecl.Sched, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	pkgs, err := readPackages(root, []string{pattern})
	if err != nil {
		return nil, err
	}
	var known []string
	for _, pkg := range pkgs {
		tests := pkg.tests
		for _, t := range tests {
			if s := t.Sched; s != nil {
				if s.Name == name || s.Ref == name || strings.HasSuffix(s.Ref, "."+name) {
					return s, nil
				}
				if !slices.Contains(known, s.Name) {
					known = append(known, s.Name)
				}
			}
		}
	}
	slices.Sort(known)
	return nil, fmt.Errorf("no scheduler %q in the ktstr tests of %s (schedulers found: %s); give a binary's path instead", name, pattern, strings.Join(known, ", "))
}

// argsOf is the scheduler's command line for profile p.
func (t verifierTarget) argsOf(p []string) []string {
	var args []string
	for _, f := range p {
		args = append(args, t.flagArgs[f]...)
	}
	return append(args, t.extra...)
}

// loadScheduler boots a VM, starts the scheduler with args and returns
// its programs' statistics and the kernel booted.
func (a *app) loadScheduler(t verifierTarget, bin string, args []string, kernelPath string) ([]wire.ProgramStats, string, error) {
	dir, err := os.MkdirTemp("", "ktstr-verifier-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(dir)
	req := &wire.SchedRequest{Name: t.name, Path: wire.SchedDir + "/" + t.name, Args: args, StartTimeout: wire.Duration(60 * time.Second)}
	s := vmSession{topo: t.topo, kernel: kernelPath, sched: req, schedBin: bin, timeout: 2 * time.Minute, workDir: dir}
	s.shell.Exec = "true"
	out, err := a.runVM(s)
	if err != nil {
		return nil, out.Kernel.Path, err
	}
	sr := out.Result.Sched
	if sr == nil {
		return nil, out.Kernel.Path, fmt.Errorf("the guest did not report the scheduler")
	}
	if sr.ProgramsErr != "" {
		return sr.Programs, out.Kernel.Path, fmt.Errorf("reading the BPF programs: %s", sr.ProgramsErr)
	}
	if len(sr.Programs) == 0 {
		return nil, out.Kernel.Path, fmt.Errorf("no BPF programs were loaded once %s was enabled", t.name)
	}
	return sr.Programs, out.Kernel.Path, nil
}

// printVerifier prints one row per profile and program: the verified
// instructions, their share of the limit, and with B the change.
func printVerifier(a *app, rep verifierReport) {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	ab := len(rep.B) > 0
	if ab {
		fmt.Fprintf(tw, "PROFILE\tPROGRAM\tTYPE\tA VERIFIED\tB VERIFIED\tDELTA\t%% OF 1M\t\n")
	} else {
		fmt.Fprintf(tw, "PROFILE\tPROGRAM\tTYPE\tINSNS\tVERIFIED\t%% OF 1M\t\n")
	}
	var warnings []string
	for i, ra := range rep.A {
		var rb *verifierRun
		if ab && i < len(rep.B) {
			rb = &rep.B[i]
		}
		names := programNames(ra.Programs)
		if rb != nil {
			for _, n := range programNames(rb.Programs) {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
		if ra.Error != "" && len(names) == 0 {
			fmt.Fprintf(tw, "%s\t(failed: %s)\t\t\t\t\t\n", ra.Profile, firstLine(ra.Error))
			continue
		}
		for _, n := range names {
			pa, okA := programByName(ra.Programs, n)
			if !ab {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.2f\t\n", ra.Profile, n, pa.Type, pa.Insns, pa.VerifiedInsns, pct(pa.VerifiedInsns))
				if pct(pa.VerifiedInsns) >= verifierWarnPct {
					warnings = append(warnings, fmt.Sprintf("%s (%s): %d verified instructions, %.0f%% of the 1M limit", n, ra.Profile, pa.VerifiedInsns, pct(pa.VerifiedInsns)))
				}
				continue
			}
			pb, okB := programByName(rb.Programs, n)
			va, vb, delta := "-", "-", "-"
			if okA {
				va = fmt.Sprint(pa.VerifiedInsns)
			}
			if okB {
				vb = fmt.Sprint(pb.VerifiedInsns)
			}
			if okA && okB {
				delta = fmt.Sprintf("%+d", int64(pb.VerifiedInsns)-int64(pa.VerifiedInsns))
			}
			typ := pa.Type
			if !okA {
				typ = pb.Type
			}
			top := max(pa.VerifiedInsns, pb.VerifiedInsns)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t\n", ra.Profile, n, typ, va, vb, delta, pct(top))
			if pct(top) >= verifierWarnPct {
				warnings = append(warnings, fmt.Sprintf("%s (%s): %d verified instructions, %.0f%% of the 1M limit", n, ra.Profile, top, pct(top)))
			}
		}
	}
	tw.Flush()
	fmt.Fprintf(a.stdout, "\nscheduler %s, topology %s, kernel %s\n", rep.Scheduler, rep.Topology, rep.Kernel)
	for _, w := range warnings {
		fmt.Fprintf(a.stdout, "WARNING: %s\n", w)
	}
}

func pct(n uint32) float64 { return 100 * float64(n) / VerifierLimit }

func programNames(ps []wire.ProgramStats) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func programByName(ps []wire.ProgramStats, name string) (wire.ProgramStats, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return wire.ProgramStats{}, false
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
