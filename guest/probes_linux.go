package guest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf/btf"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/internal/probes"
)

// tracefs is where init mounts tracefs.
const tracefs = "/sys/kernel/tracing"

// defaultProbeEvents is how many of the last events a report keeps.
const defaultProbeEvents = 64

// tracer is the probes of one scheduler run.
type tracer struct {
	req    *wire.ProbeRequest
	rep    wire.ProbeReport
	freeze sync.Once
	logf   func(string, ...any)
}

// startProbes attaches the probes of req as fprobe events of tracefs
// and turns tracing on. What cannot be attached is said in the report,
// and the rest still runs.
func startProbes(req *wire.ProbeRequest, logf func(string, ...any)) *tracer {
	t := &tracer{req: req, logf: logf, rep: wire.ProbeReport{Probes: []wire.ProbeDef{}, Events: []wire.ProbeEvent{}}}
	start := time.Now()
	avail, err := os.ReadFile(filepath.Join(tracefs, "available_filter_functions"))
	if err != nil {
		t.rep.Errors = append(t.rep.Errors, fmt.Sprintf("tracefs: %v (a kernel without ftrace, or tracefs not mounted)", err))
		return t
	}
	traceable := map[string]bool{}
	for _, l := range strings.Split(string(avail), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			traceable[f[0]] = true
		}
	}
	spec, btfErr := btf.LoadKernelSpec()
	if btfErr != nil {
		t.rep.Errors = append(t.rep.Errors, fmt.Sprintf("kernel BTF: %v: probes record no arguments", btfErr))
	}
	cbs := probes.Callbacks()
	for _, fn := range req.CrashPath {
		known := false
		for _, c := range cbs {
			known = known || c.Func == fn
		}
		if !known {
			cbs = append(cbs, probes.Callback{Func: fn, Name: "crash path " + fn})
		}
	}
	for _, c := range cbs {
		if !traceable[c.Func] {
			t.rep.Errors = append(t.rep.Errors, fmt.Sprintf("%s (%s): not traceable on this kernel (not in available_filter_functions)", c.Func, c.Name))
			continue
		}
		d := wire.ProbeDef{Name: probes.EventName(c.Func), Func: c.Func, Callback: c.Name}
		if spec != nil {
			d.Fetch = probes.FetchArgs(funcParams(spec, c.Func))
		}
		err := addEvent(probes.Definition(d))
		if err != nil && d.Fetch != "" {
			// The kernel may refuse an argument (no BTF for it): the
			// call itself is still worth seeing.
			d.Fetch = ""
			err = addEvent(probes.Definition(d))
		}
		if err != nil {
			t.rep.Errors = append(t.rep.Errors, fmt.Sprintf("%s: %v", c.Func, err))
			continue
		}
		t.rep.Probes = append(t.rep.Probes, d)
	}
	os.WriteFile(filepath.Join(tracefs, "trace"), nil, 0) // clear the buffer
	if err := os.WriteFile(filepath.Join(tracefs, "events", probes.Group, "enable"), []byte("1"), 0); err != nil && len(t.rep.Probes) > 0 {
		t.rep.Errors = append(t.rep.Errors, fmt.Sprintf("enabling the probes: %v", err))
	}
	os.WriteFile(filepath.Join(tracefs, "tracing_on"), []byte("1"), 0)
	logf("probes: %d attached, %d not, in %v", len(t.rep.Probes), len(t.rep.Errors), time.Since(start).Round(time.Millisecond))
	return t
}

// addEvent appends a definition to dynamic_events; the error carries the
// kernel's explanation from error_log.
func addEvent(def string) error {
	f, err := os.OpenFile(filepath.Join(tracefs, "dynamic_events"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(def + "\n")
	f.Close()
	if err != nil {
		if log, _ := os.ReadFile(filepath.Join(tracefs, "error_log")); len(log) > 0 {
			lines := strings.Split(strings.TrimSpace(string(log)), "\n")
			for i := len(lines) - 1; i >= 0; i-- {
				if strings.Contains(lines[i], "error:") {
					return fmt.Errorf("%w (%s)", err, strings.TrimSpace(lines[i]))
				}
			}
		}
		return err
	}
	return nil
}

// funcParams are fn's parameters as the kernel's BTF describes them.
func funcParams(spec *btf.Spec, fn string) []probes.Param {
	var f *btf.Func
	if err := spec.TypeByName(fn, &f); err != nil {
		return nil
	}
	proto, ok := f.Type.(*btf.FuncProto)
	if !ok {
		return nil
	}
	var out []probes.Param
	for _, p := range proto.Params {
		kind := "other"
		switch t := btf.UnderlyingType(p.Type).(type) {
		case *btf.Int, *btf.Enum:
			kind = "int"
		case *btf.Pointer:
			if s, ok := btf.UnderlyingType(t.Target).(*btf.Struct); ok {
				switch s.Name {
				case "task_struct":
					kind = "task"
				case "rq":
					kind = "rq"
				}
			}
		}
		out = append(out, probes.Param{Name: p.Name, Kind: kind})
	}
	return out
}

// stopTracing freezes the trace: what follows (the scheduler's own
// teardown) is not recorded. Safe to call more than once.
func (t *tracer) stopTracing() {
	t.freeze.Do(func() {
		os.WriteFile(filepath.Join(tracefs, "tracing_on"), []byte("0"), 0)
	})
}

// report reads the frozen trace into the report.
func (t *tracer) report() *wire.ProbeReport {
	t.stopTracing()
	keep := t.req.Events
	if keep <= 0 {
		keep = defaultProbeEvents
	}
	b, err := os.ReadFile(filepath.Join(tracefs, "trace"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.rep.Errors = append(t.rep.Errors, fmt.Sprintf("reading the trace: %v", err))
	}
	t.rep.Events, t.rep.Total = probes.ParseTrace(string(b), t.rep.Probes, keep)
	if t.rep.Events == nil {
		t.rep.Events = []wire.ProbeEvent{}
	}
	rep := t.rep
	return &rep
}
