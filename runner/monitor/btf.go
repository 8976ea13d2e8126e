package monitor

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"

	"github.com/ktstr-go/ktstr/internal/fileid"
)

// Layout holds the byte offsets the monitor reads, taken from the
// kernel's BTF. A zero Has* flag means the kernel lacks that part; the
// metrics that need it are then not measured (and said so).
type Layout struct {
	// struct rq
	RqNrRunning, RqClock    uint32
	RqScxNrRunning, RqDSQNr uint32
	RqRunnableList          uint32
	HasScx                  bool
	// struct task_struct
	TaskRunnableNode, TaskRunnableAt, TaskPID, TaskComm uint32
	HasRunnableList                                     bool
	// struct scx_sched (7.x: the root scheduler behind scx_root)
	SchedPcpu, SchedWatchdogTimeout uint32
	HasSched                        bool
	// struct scx_sched_pcpu: event_stats; Events are the s64 counters
	// of struct scx_event_stats by name, as offsets within it.
	PcpuEvents uint32
	Events     map[string]uint32
	EventNames []string
	HasEvents  bool
	// struct delayed_work: timer.expires
	DelayedWorkExpires uint32
	// RunqueuesOffset is the per-CPU offset of runqueues, from BTF's
	// .data..percpu section (0 when absent: then kallsyms gives it).
	RunqueuesOffset uint64
}

var layoutCache sync.Map // path|size|mtime -> *Layout

// layoutVersion changes whenever layoutFrom resolves anything
// differently, so that layouts cached on disk by an older ktstr are not
// read (the key also holds Layout's fields and their types).
const layoutVersion = 1

// LoadLayout reads the BTF of the uncompressed kernel image at path
// (vmlinux, ELF with a .BTF section) and resolves the offsets. Results
// are cached per file for the life of the process, and on disk in
// $XDG_CACHE_HOME/ktstr/layouts (see [LoadLayoutCached]).
func LoadLayout(path string) (*Layout, error) {
	dir := ""
	if c, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(c, "ktstr", "layouts")
	}
	return LoadLayoutCached(path, dir)
}

// LoadLayoutCached is LoadLayout with its disk cache in dir ("": none).
// Parsing a kernel's BTF takes a tenth of a second or more and tens of
// MB; a cached layout is one small JSON file, keyed by the kernel file
// (internal/fileid) and by this code's
// layoutVersion and Layout's shape. A cache that cannot be read or
// written is passed over.
func LoadLayoutCached(path, dir string) (*Layout, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("monitor: kernel BTF: %w", err)
	}
	key := fmt.Sprintf("%s|%d|%d", path, st.Size(), st.ModTime().UnixNano())
	if l, ok := layoutCache.Load(key); ok {
		return l.(*Layout), nil
	}
	var file string
	if id, err := fileid.Of(path); dir != "" && err == nil {
		sum := sha256.Sum256([]byte(fmt.Sprintf("v%d|%s|%s", layoutVersion, layoutShape(), id)))
		file = filepath.Join(dir, hex.EncodeToString(sum[:12])+".json")
		if b, err := os.ReadFile(file); err == nil {
			var l Layout
			if json.Unmarshal(b, &l) == nil {
				layoutCache.Store(key, &l)
				return &l, nil
			}
		}
	}
	spec, err := loadBTF(path)
	if err != nil {
		return nil, err
	}
	l, err := layoutFrom(spec)
	if err != nil {
		return nil, fmt.Errorf("monitor: kernel %s: %w", path, err)
	}
	layoutCache.Store(key, l)
	if file != "" {
		storeLayout(file, l)
	}
	return l, nil
}

// layoutShape is Layout's fields and their types.
func layoutShape() string {
	t := reflect.TypeOf(Layout{})
	var b strings.Builder
	for i := range t.NumField() {
		fmt.Fprintf(&b, "%s:%s;", t.Field(i).Name, t.Field(i).Type)
	}
	return b.String()
}

// storeLayout writes l to file atomically (best effort).
func storeLayout(file string, l *Layout) {
	b, err := json.Marshal(l)
	if err != nil || os.MkdirAll(filepath.Dir(file), 0o755) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "layout.*.tmp")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), file) != nil {
		os.Remove(tmp.Name())
	}
}

func loadBTF(path string) (*btf.Spec, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("monitor: kernel %s is not an ELF vmlinux (BTF is read from an uncompressed kernel): %w", path, err)
	}
	defer f.Close()
	sec := f.Section(".BTF")
	if sec == nil {
		return nil, fmt.Errorf("monitor: kernel %s has no .BTF section (build it with CONFIG_DEBUG_INFO_BTF=y)", path)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("monitor: reading .BTF of %s: %w", path, err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("monitor: parsing .BTF of %s: %w", path, err)
	}
	return spec, nil
}

// structs collects the named structs (first complete definition of each
// name) in one pass, avoiding name lookups that cilium/ebpf v0.22.0 gets
// wrong for duplicated names.
func structs(spec *btf.Spec, names ...string) (map[string]*btf.Struct, *btf.Datasec) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]*btf.Struct{}
	var percpu *btf.Datasec
	for typ, err := range spec.All() {
		if err != nil {
			break
		}
		switch t := typ.(type) {
		case *btf.Struct:
			if want[t.Name] && out[t.Name] == nil && t.Size > 0 {
				out[t.Name] = t
			}
		case *btf.Datasec:
			if t.Name == ".data..percpu" {
				percpu = t
			}
		}
	}
	return out, percpu
}

// memberOffset resolves a dotted path ("scx.local_dsq.nr") in s, looking
// through anonymous structs and unions, and returns its byte offset.
func memberOffset(s btf.Type, path string) (uint32, error) {
	var off uint32
	cur := s
	for _, name := range strings.Split(path, ".") {
		o, t, ok := findMember(cur, name)
		if !ok {
			return 0, fmt.Errorf("no member %q in %s", name, typeName(cur))
		}
		off += o
		cur = t
	}
	return off, nil
}

func findMember(t btf.Type, name string) (uint32, btf.Type, bool) {
	var members []btf.Member
	switch c := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		members = c.Members
	case *btf.Union:
		members = c.Members
	default:
		return 0, nil, false
	}
	for _, m := range members {
		if m.Name == name {
			return uint32(m.Offset.Bytes()), m.Type, true
		}
	}
	for _, m := range members {
		if m.Name != "" {
			continue
		}
		if o, mt, ok := findMember(m.Type, name); ok {
			return uint32(m.Offset.Bytes()) + o, mt, true
		}
	}
	return 0, nil, false
}

func typeName(t btf.Type) string {
	if t == nil {
		return "?"
	}
	return t.TypeName()
}

func layoutFrom(spec *btf.Spec) (*Layout, error) {
	ss, percpu := structs(spec, "rq", "task_struct", "scx_sched", "scx_sched_pcpu", "scx_event_stats", "delayed_work")
	rq := ss["rq"]
	if rq == nil {
		return nil, errors.New("BTF has no struct rq")
	}
	l := &Layout{Events: map[string]uint32{}}
	var err error
	if l.RqNrRunning, err = memberOffset(rq, "nr_running"); err != nil {
		return nil, fmt.Errorf("struct rq: %w", err)
	}
	if l.RqClock, err = memberOffset(rq, "clock"); err != nil {
		return nil, fmt.Errorf("struct rq: %w", err)
	}
	if percpu != nil {
		for _, v := range percpu.Vars {
			if vv, ok := v.Type.(*btf.Var); ok && vv.Name == "runqueues" {
				l.RunqueuesOffset = uint64(v.Offset)
			}
		}
	}
	// sched_ext parts: absent on kernels without CONFIG_SCHED_CLASS_EXT.
	a, e1 := memberOffset(rq, "scx.nr_running")
	b, e2 := memberOffset(rq, "scx.local_dsq.nr")
	if e1 == nil && e2 == nil {
		l.RqScxNrRunning, l.RqDSQNr, l.HasScx = a, b, true
	}
	if task := ss["task_struct"]; task != nil && l.HasScx {
		rl, e1 := memberOffset(rq, "scx.runnable_list")
		rn, e2 := memberOffset(task, "scx.runnable_node")
		ra, e3 := memberOffset(task, "scx.runnable_at")
		pid, e4 := memberOffset(task, "pid")
		comm, e5 := memberOffset(task, "comm")
		if errors.Join(e1, e2, e3, e4, e5) == nil {
			l.RqRunnableList, l.TaskRunnableNode, l.TaskRunnableAt, l.TaskPID, l.TaskComm = rl, rn, ra, pid, comm
			l.HasRunnableList = true
		}
	}
	if sch := ss["scx_sched"]; sch != nil {
		p, e1 := memberOffset(sch, "pcpu")
		w, e2 := memberOffset(sch, "watchdog_timeout")
		if e1 == nil && e2 == nil {
			l.SchedPcpu, l.SchedWatchdogTimeout, l.HasSched = p, w, true
		}
	}
	if pc, ev := ss["scx_sched_pcpu"], ss["scx_event_stats"]; pc != nil && ev != nil && l.HasSched {
		if o, err := memberOffset(pc, "event_stats"); err == nil {
			l.PcpuEvents = o
			for _, m := range ev.Members {
				l.Events[m.Name] = uint32(m.Offset.Bytes())
				l.EventNames = append(l.EventNames, m.Name)
			}
			l.HasEvents = len(l.Events) > 0
		}
	}
	if dw := ss["delayed_work"]; dw != nil {
		if o, err := memberOffset(dw, "timer.expires"); err == nil {
			l.DelayedWorkExpires = o
		}
	}
	return l, nil
}
