package wire

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// PortName is the name of the virtio-serial port that carries results.
const PortName = "ktstr.results"

// RequestPath is where the host puts the request inside the initramfs.
const RequestPath = "/ktstr/request.json"

// TestBinaryPath is where the test binary lives inside the initramfs.
const TestBinaryPath = "/ktstr/bin/test"

// Guest-side environment variables set by init for the test binary.
const (
	// EnvGuest marks a process as running inside a ktstr VM.
	EnvGuest = "KTSTR_GUEST"
	// EnvTest names the (sub)test whose scenario runs in this VM.
	EnvTest = "KTSTR_TEST"
	// EnvResult is the file the test writes its [TestReport] to.
	EnvResult = "KTSTR_RESULT"
	// EnvSchedPID is the pid of the scheduler under test, when init
	// started one.
	EnvSchedPID = "KTSTR_SCHED_PID"
	// EnvThresholds carries the run's merged verification settings
	// (JSON), which the host computes.
	EnvThresholds = "KTSTR_THRESHOLDS"
)

// Request tells init what to run.
type Request struct {
	// Test is the full Go test name (t.Name()) to run in the guest.
	Test string `json:"test"`
	// Args are the test binary's arguments (-test.run etc.).
	Args []string `json:"args"`
	// Env are extra environment entries for the test binary.
	Env []string `json:"env,omitempty"`
	// Timeout bounds the test binary; init kills it and reports when it
	// is exceeded, well before the host's own timeout.
	Timeout Duration `json:"timeout"`
	// Spec is the JSON of the test's spec as the host resolved it
	// (topology, scheduler, profile, thresholds); the guest reads the
	// scenario from it.
	Spec json.RawMessage `json:"spec,omitempty"`
	// Scheduler, when set, is started before the test and watched while
	// it runs; nil runs the test under the kernel's default scheduler.
	Scheduler *SchedRequest `json:"scheduler,omitempty"`
	// KernelSymbols, when set, asks init to send these symbols' addresses
	// from /proc/kallsyms (a KindSymbols message) before anything runs:
	// the host's monitor reads the kernel's memory at them.
	KernelSymbols []string `json:"kernel_symbols,omitempty"`
	// Shell, when set, runs a shell session (ktstr shell, ktstr
	// verifier) in place of a test binary: after the scheduler, if any,
	// is enabled, init runs Shell's command, or an interactive shell on
	// the console, and reports its exit status and output.
	Shell *ShellRequest `json:"shell,omitempty"`
}

// IncludeDir is where "ktstr shell -i" puts the files it includes; it
// is on the shell's PATH.
const IncludeDir = "/include"

// ShellRequest is a shell session in the guest.
type ShellRequest struct {
	// Exec is run with /bin/sh -c (or, without a shell in the guest, as
	// a plain argv split at spaces); "" starts an interactive shell on
	// the console.
	Exec string `json:"exec,omitempty"`
	// Env are extra environment entries (TERM, say).
	Env []string `json:"env,omitempty"`
	// Dmesg asks for the kernel log once the command ends.
	Dmesg bool `json:"dmesg,omitempty"`
}

// ShellResult is what a shell session produced. Stdout and Stderr keep
// at most ShellOutputBytes each (the start is dropped).
type ShellResult struct {
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout,omitempty"`
	Stderr   string `json:"stderr,omitempty"`
	Dmesg    string `json:"dmesg,omitempty"`
	// Truncated is true when output was dropped.
	Truncated bool `json:"truncated,omitempty"`
}

// ShellOutputBytes bounds each of a shell command's outputs.
const ShellOutputBytes = 4 << 20

// SchedDir is where scheduler binaries live inside the initramfs.
const SchedDir = "/ktstr/sched"

// SchedRequest tells init how to run the scheduler under test.
type SchedRequest struct {
	Name string `json:"name"`
	// Ops is the name /sys/kernel/sched_ext/root/ops must show.
	Ops string `json:"ops"`
	// Path and Args start a scheduler binary; Enable and Disable are
	// argv lists for a kernel-builtin one.
	Path    string     `json:"path,omitempty"`
	Args    []string   `json:"args,omitempty"`
	Enable  [][]string `json:"enable,omitempty"`
	Disable [][]string `json:"disable,omitempty"`
	// Sysctls are written to /proc/sys before the scheduler starts.
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// CgroupParent is created (below the cgroup2 root) before the start.
	CgroupParent string `json:"cgroup_parent,omitempty"`
	// StartTimeout bounds the wait for sched_ext to be enabled.
	StartTimeout Duration `json:"start_timeout"`
	// MapWrites are done once the scheduler is enabled.
	MapWrites []MapWrite `json:"map_writes,omitempty"`
	// Probes, when set, traces the scheduler from before its start: the
	// kernel functions that run its callbacks and the kfuncs it calls,
	// with their task arguments, plus CrashPath (auto_repro's second
	// run, from the first run's exit backtrace).
	Probes *ProbeRequest `json:"probes,omitempty"`
}

// ProbeRequest asks init for probes on the scheduler.
type ProbeRequest struct {
	// CrashPath are kernel functions of the first run's exit backtrace.
	CrashPath []string `json:"crash_path,omitempty"`
	// Events is how many of the last events to keep (0: 64).
	Events int `json:"events,omitempty"`
}

// ProbeReport is what the probes saw: the probes that were attached,
// those that could not be (and why), and the last events before the
// scheduler died or the test ended, oldest first.
type ProbeReport struct {
	Probes []ProbeDef   `json:"probes"`
	Errors []string     `json:"errors,omitempty"`
	Events []ProbeEvent `json:"events"`
	// Total is how many events the trace held (the buffer keeps the
	// latest when it fills).
	Total int `json:"total"`
}

// ProbeDef is one attached probe: a kernel function, the sched_ext
// callback (or kfunc) it stands for, and what it records.
type ProbeDef struct {
	Name     string `json:"name"`
	Func     string `json:"func"`
	Callback string `json:"callback"`
	Fetch    string `json:"fetch,omitempty"`
}

// ProbeEvent is one probe hit.
type ProbeEvent struct {
	// TimeS is the trace clock (seconds since boot).
	TimeS float64 `json:"time_s"`
	CPU   int     `json:"cpu"`
	// Current is the task running on the CPU ("comm-pid").
	Current  string `json:"current"`
	Probe    string `json:"probe"`
	Callback string `json:"callback"`
	// Task is the task argument ("comm pid"), "" when the function has
	// none; Args the other arguments as the kernel formatted them.
	Task string `json:"task,omitempty"`
	Args string `json:"args,omitempty"`
}

// String is one line of a failure report.
func (e ProbeEvent) String() string {
	s := fmt.Sprintf("%12.6fs cpu%-2d %-18s %-26s", e.TimeS, e.CPU, e.Current, e.Callback)
	if e.Task != "" {
		s += " task " + e.Task
	}
	if e.Args != "" {
		s += " " + e.Args
	}
	return strings.TrimRight(s, " ")
}

// MapWrite sets one entry of a BPF map of the running scheduler, found by
// name, AfterMs milliseconds after the scheduler is enabled.
type MapWrite struct {
	Map     string `json:"map"`
	Key     uint32 `json:"key"`
	Value   uint64 `json:"value"`
	AfterMs int    `json:"after_ms,omitempty"`
}

// SchedReport is what init saw of the scheduler.
type SchedReport struct {
	Name string `json:"name"`
	// Enabled is true once sched_ext was enabled with the expected ops.
	Enabled  bool     `json:"enabled"`
	Ops      string   `json:"ops,omitempty"`
	StartErr string   `json:"start_error,omitempty"`
	StartDur Duration `json:"start_duration"`
	// Died is true when the scheduler exited or sched_ext left the
	// enabled state while the test ran.
	Died       bool   `json:"died,omitempty"`
	DeathCause string `json:"death_cause,omitempty"`
	// ExitCode of the scheduler process (-1 while it ran or when killed).
	ExitCode int `json:"exit_code"`
	// OutputTail is the end of the scheduler's stdout and stderr; Dump
	// the sched_ext lines of the kernel log and its debug dump.
	OutputTail string `json:"output_tail,omitempty"`
	Dump       string `json:"dump,omitempty"`
	// MapWrites says what each map write did; MapWriteErrors lists the
	// ones that failed or were never done (the test ended first).
	MapWrites      []string `json:"map_writes,omitempty"`
	MapWriteErrors []string `json:"map_write_errors,omitempty"`
	// Programs are the BPF programs loaded in the guest once the
	// scheduler was enabled, with what the verifier said of each.
	Programs []ProgramStats `json:"programs,omitempty"`
	// ProgramsErr says why Programs could not be read.
	ProgramsErr string `json:"programs_error,omitempty"`
	// Probes is what the probes saw (SchedRequest.Probes).
	Probes *ProbeReport `json:"probe_report,omitempty"`
}

// ProgramStats is one loaded BPF program as the kernel reports it
// (bpf_prog_info).
type ProgramStats struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	// VerifiedInsns is how many instructions the verifier processed
	// (verified_insns, Linux 5.16 and later; the limit is 1,000,000).
	VerifiedInsns uint32 `json:"verified_insns"`
	// Insns is the program's size in instructions after loading (its
	// translated length); 0 when the kernel does not say.
	Insns int `json:"insns,omitempty"`
}

// Kind of a [Message].
type Kind string

// Message kinds, in the order a healthy guest sends them.
const (
	KindHello Kind = "hello" // init is up; carries the guest's view
	KindLog   Kind = "log"   // a line worth showing on the host
	// KindSymbols carries the kernel symbol addresses the host asked for
	// (Request.KernelSymbols), read from /proc/kallsyms before the test.
	KindSymbols Kind = "symbols"
	KindResult  Kind = "result" // the test binary finished
	KindDone    Kind = "done"   // init is about to power off
)

// Message is one line on the result channel.
type Message struct {
	Kind   Kind        `json:"kind"`
	Hello  *Hello      `json:"hello,omitempty"`
	Log    string      `json:"log,omitempty"`
	Result *TestResult `json:"result,omitempty"`
	Errors []string    `json:"errors,omitempty"`
	// Symbols and SymbolsErr answer Request.KernelSymbols.
	Symbols    map[string]uint64 `json:"symbols,omitempty"`
	SymbolsErr string            `json:"symbols_error,omitempty"`
	// UptimeMs is the guest's CLOCK_MONOTONIC (ms since its kernel's
	// clock started) when init sent the message; the host lines guest
	// times up with its own by it (see runner.Timing).
	UptimeMs float64 `json:"uptime_ms,omitempty"`
}

// Hello is what init learned about the guest before running anything.
type Hello struct {
	Kernel       string  `json:"kernel"`
	Cmdline      string  `json:"cmdline"`
	UptimeAtInit float64 `json:"uptime_at_init_s"`
	// InitUptimeMs is the guest's CLOCK_MONOTONIC when init started
	// (before it mounted anything): the kernel's own boot time.
	InitUptimeMs  float64   `json:"init_uptime_ms,omitempty"`
	Clocksource   string    `json:"clocksource"`
	Hypervisor    string    `json:"hypervisor,omitempty"`
	View          GuestView `json:"view"`
	SchedExtState string    `json:"sched_ext_state"`
}

// GuestView is the CPU topology as the guest kernel reports it in sysfs.
type GuestView struct {
	CPUs int `json:"cpus"`
	// LLCs lists the CPU sets that share a last-level cache.
	LLCs []string `json:"llcs"`
	// NUMANodes lists the CPU set of every NUMA node, by node id.
	NUMANodes []string `json:"numa_nodes"`
	// SMTSiblings lists the distinct thread-sibling sets.
	SMTSiblings []string `json:"smt_siblings"`
	// Packages lists the CPU set of every physical package.
	Packages []string `json:"packages"`
	// MemoryMB is MemTotal in MiB.
	MemoryMB int `json:"memory_mb"`
}

// TestResult is what init observed of the test binary.
type TestResult struct {
	ExitCode int      `json:"exit_code"`
	TimedOut bool     `json:"timed_out,omitempty"`
	Duration Duration `json:"duration"`
	// OutputTail is the end of the test binary's stdout and stderr.
	OutputTail string `json:"output_tail"`
	// Report is the test's own report; nil when it never wrote one.
	Report *TestReport `json:"report,omitempty"`
	// Sched is what happened to the scheduler under test (nil for EEVDF).
	Sched *SchedReport `json:"sched,omitempty"`
	// Shell is a shell session's result (Request.Shell).
	Shell *ShellResult `json:"shell,omitempty"`
	// ExecUptimeMs and ExitUptimeMs are the guest's CLOCK_MONOTONIC when
	// init started the test binary and when it had exited.
	ExecUptimeMs float64 `json:"exec_uptime_ms,omitempty"`
	ExitUptimeMs float64 `json:"exit_uptime_ms,omitempty"`
}

// TestReport is what the test binary writes in the guest.
type TestReport struct {
	Test    string         `json:"test"`
	Workers []WorkerReport `json:"workers"`
	// StartUptimeMs is the guest's uptime (CLOCK_MONOTONIC) when the
	// test began; Phases and Timeline are relative to it. The host lines
	// its monitor samples (timed by guest uptime) up with them.
	StartUptimeMs float64 `json:"start_uptime_ms,omitempty"`
	// Phases records when the scenario's fixed points happened.
	Phases []Phase `json:"phases,omitempty"`
	// Timeline is every step transition and op, as the guest timed them.
	Timeline []Event `json:"timeline,omitempty"`
	// Verdict is the test body's, when the test has one.
	Verdict *Verdict `json:"verdict,omitempty"`
	// SchedExt is the sched_ext state sampled while the workers ran.
	SchedExt SchedExtSample `json:"sched_ext"`
	Errors   []string       `json:"errors,omitempty"`
}

// Phase is a timestamped scenario event.
type Phase struct {
	Name string  `json:"name"`
	AtMs float64 `json:"at_ms"`
}

// VerdictStatus is a test body's outcome.
type VerdictStatus string

// Verdict statuses.
const (
	VerdictPass VerdictStatus = "pass"
	VerdictFail VerdictStatus = "fail"
	VerdictSkip VerdictStatus = "skip"
)

// Verdict is a test body's judgement: its status, details (why), and
// figures it measured (Stats, by name).
type Verdict struct {
	Status  VerdictStatus      `json:"status"`
	Details []string           `json:"details,omitempty"`
	Stats   map[string]float64 `json:"stats,omitempty"`
}

// Event is one entry of a scenario's timeline: a step starting or an op,
// AtMs after the scenario started.
type Event struct {
	AtMs float64 `json:"at_ms"`
	// Kind is "step" or the op (set_cpuset, spawn, ...).
	Kind   string `json:"kind"`
	Step   int    `json:"step"`
	Cgroup string `json:"cgroup,omitempty"`
	// Detail says what was done ("cpuset 0-1", "2 CpuSpin workers").
	Detail string `json:"detail,omitempty"`
	// Error is why the op failed, when it did.
	Error string `json:"error,omitempty"`
}

func (e Event) String() string {
	s := fmt.Sprintf("%8.1fms step %d %s", e.AtMs, e.Step, e.Kind)
	if e.Cgroup != "" {
		s += " " + e.Cgroup
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Error != "" {
		s += " (failed: " + e.Error + ")"
	}
	return s
}

// SchedExtSample is sysfs' view of sched_ext at one moment.
type SchedExtSample struct {
	State string `json:"state"`
	Ops   string `json:"ops,omitempty"`
}

// Duration marshals as a Go duration string ("1.5s").
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}
