package sysinfo_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/guest/sysinfo"
	"github.com/ktstr-go/ktstr/guest/wire"
)

// fakeCache is one cache/indexN directory of a CPU.
type fakeCache struct {
	level  int
	typ    string
	shared func(cpu int) string
}

// fakeMachine describes a fabricated sysfs/procfs tree.
type fakeMachine struct {
	online   string
	cpus     int
	siblings func(cpu int) string
	pkg      func(cpu int) string
	// pkgFile is the topology file pkg is written to.
	pkgFile  string
	caches   []fakeCache
	nodes    []string // cpulist of node0, node1, ...
	meminfo  string   // "" leaves /proc/meminfo out
	noOnline bool
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (m fakeMachine) build(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	cpuDir := filepath.Join(root, "sys/devices/system/cpu")
	if !m.noOnline {
		writeFile(t, filepath.Join(cpuDir, "online"), m.online+"\n")
	}
	for cpu := range m.cpus {
		base := filepath.Join(cpuDir, "cpu"+strconv.Itoa(cpu))
		if m.siblings != nil {
			writeFile(t, filepath.Join(base, "topology/thread_siblings_list"), m.siblings(cpu)+"\n")
		}
		if m.pkg != nil {
			f := m.pkgFile
			if f == "" {
				f = "package_cpus_list"
			}
			writeFile(t, filepath.Join(base, "topology", f), m.pkg(cpu)+"\n")
		}
		for i, c := range m.caches {
			dir := filepath.Join(base, "cache", "index"+strconv.Itoa(i))
			writeFile(t, filepath.Join(dir, "level"), strconv.Itoa(c.level)+"\n")
			writeFile(t, filepath.Join(dir, "type"), c.typ+"\n")
			writeFile(t, filepath.Join(dir, "shared_cpu_list"), c.shared(cpu)+"\n")
		}
	}
	for i, l := range m.nodes {
		writeFile(t, filepath.Join(root, "sys/devices/system/node", "node"+strconv.Itoa(i), "cpulist"), l+"\n")
	}
	// Files next to the node directories that the glob must not take
	// for nodes.
	writeFile(t, filepath.Join(root, "sys/devices/system/node/online"), "0-1\n")
	if m.meminfo != "" {
		writeFile(t, filepath.Join(root, "proc/meminfo"), m.meminfo)
	}
	return root
}

// Helpers for a 2-socket, 2-core, 2-thread machine: CPU = (socket*2 +
// core)*2 + thread.
func own(cpu int) string     { return strconv.Itoa(cpu) }
func core(cpu int) string    { c := cpu &^ 1; return strconv.Itoa(c) + "-" + strconv.Itoa(c+1) }
func socket(cpu int) string  { s := cpu &^ 3; return strconv.Itoa(s) + "-" + strconv.Itoa(s+3) }
func machine(cpu int) string { return "0-7" }

const meminfo = `MemTotal:        4030464 kB
MemFree:         3900000 kB
MemAvailable:    3950000 kB
`

func twoSocket() fakeMachine {
	return fakeMachine{
		online:   "0-7",
		cpus:     8,
		siblings: core,
		pkg:      socket,
		caches: []fakeCache{
			{1, "Data", core},
			{1, "Instruction", core},
			{2, "Unified", core},
			{3, "Unified", socket},
		},
		nodes:   []string{"0-3", "4-7"},
		meminfo: meminfo,
	}
}

func TestReadTwoSocketSMT(t *testing.T) {
	root := twoSocket().build(t)
	got, err := sysinfo.Read(root)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want := wire.GuestView{
		CPUs:        8,
		LLCs:        []string{"0-3", "4-7"},
		NUMANodes:   []string{"0-3", "4-7"},
		SMTSiblings: []string{"0-1", "2-3", "4-5", "6-7"},
		Packages:    []string{"0-3", "4-7"},
		MemoryMB:    3936, // 4030464 kB / 1024
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read =\n%+v\nwant\n%+v", got, want)
	}
}

func TestReadVariants(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*fakeMachine)
		check  func(t *testing.T, v wire.GuestView)
	}{
		{
			name: "no L3: L2 is the LLC",
			modify: func(m *fakeMachine) {
				m.caches = m.caches[:3]
			},
			check: func(t *testing.T, v wire.GuestView) {
				if want := []string{"0-1", "2-3", "4-5", "6-7"}; !reflect.DeepEqual(v.LLCs, want) {
					t.Errorf("LLCs = %q, want %q", v.LLCs, want)
				}
			},
		},
		{
			// A (fictitious) instruction cache above the data caches is
			// never the LLC.
			name: "instruction cache skipped",
			modify: func(m *fakeMachine) {
				m.caches = []fakeCache{
					{1, "Data", own},
					{3, "Instruction", machine},
					{2, "Unified", socket},
				}
			},
			check: func(t *testing.T, v wire.GuestView) {
				if want := []string{"0-3", "4-7"}; !reflect.DeepEqual(v.LLCs, want) {
					t.Errorf("LLCs = %q, want %q", v.LLCs, want)
				}
			},
		},
		{
			name: "only L1 data",
			modify: func(m *fakeMachine) {
				m.caches = []fakeCache{{1, "Instruction", machine}, {1, "Data", own}}
			},
			check: func(t *testing.T, v wire.GuestView) {
				want := []string{"0", "1", "2", "3", "4", "5", "6", "7"}
				if !reflect.DeepEqual(v.LLCs, want) {
					t.Errorf("LLCs = %q, want %q", v.LLCs, want)
				}
			},
		},
		{
			name: "no caches at all",
			modify: func(m *fakeMachine) {
				m.caches = nil
			},
			check: func(t *testing.T, v wire.GuestView) {
				if len(v.LLCs) != 0 {
					t.Errorf("LLCs = %q, want none", v.LLCs)
				}
				if v.CPUs != 8 {
					t.Errorf("CPUs = %d, want 8", v.CPUs)
				}
			},
		},
		{
			name: "packages from core_siblings_list",
			modify: func(m *fakeMachine) {
				m.pkgFile = "core_siblings_list"
			},
			check: func(t *testing.T, v wire.GuestView) {
				if want := []string{"0-3", "4-7"}; !reflect.DeepEqual(v.Packages, want) {
					t.Errorf("Packages = %q, want %q", v.Packages, want)
				}
			},
		},
		{
			name: "offline CPUs are not read",
			modify: func(m *fakeMachine) {
				m.online = "0-3"
			},
			check: func(t *testing.T, v wire.GuestView) {
				if v.CPUs != 4 {
					t.Errorf("CPUs = %d, want 4", v.CPUs)
				}
				if want := []string{"0-3"}; !reflect.DeepEqual(v.LLCs, want) {
					t.Errorf("LLCs = %q, want %q", v.LLCs, want)
				}
				if want := []string{"0-1", "2-3"}; !reflect.DeepEqual(v.SMTSiblings, want) {
					t.Errorf("SMTSiblings = %q, want %q", v.SMTSiblings, want)
				}
			},
		},
		{
			// Lists sort by their first CPU, not as strings ("10-11"
			// would sort before "2-3").
			name: "numeric order",
			modify: func(m *fakeMachine) {
				m.online = "0-11"
				m.cpus = 12
				m.caches = nil
				m.pkg = func(int) string { return "0-11" }
				m.nodes = []string{"0-11"}
			},
			check: func(t *testing.T, v wire.GuestView) {
				want := []string{"0-1", "2-3", "4-5", "6-7", "8-9", "10-11"}
				if !reflect.DeepEqual(v.SMTSiblings, want) {
					t.Errorf("SMTSiblings = %q, want %q", v.SMTSiblings, want)
				}
			},
		},
		{
			name: "no NUMA and no meminfo",
			modify: func(m *fakeMachine) {
				m.nodes = nil
				m.meminfo = ""
			},
			check: func(t *testing.T, v wire.GuestView) {
				if len(v.NUMANodes) != 0 || v.MemoryMB != 0 {
					t.Errorf("NUMANodes = %q, MemoryMB = %d, want none and 0", v.NUMANodes, v.MemoryMB)
				}
			},
		},
		{
			name: "meminfo without MemTotal",
			modify: func(m *fakeMachine) {
				m.meminfo = "MemFree: 100 kB\n"
			},
			check: func(t *testing.T, v wire.GuestView) {
				if v.MemoryMB != 0 {
					t.Errorf("MemoryMB = %d, want 0", v.MemoryMB)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := twoSocket()
			tt.modify(&m)
			v, err := sysinfo.Read(m.build(t))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			tt.check(t, v)
		})
	}
}

func TestReadNUMAOrderByID(t *testing.T) {
	// node10 must come after node2, by id rather than by name.
	m := twoSocket()
	m.nodes = nil
	root := m.build(t)
	for id, l := range map[int]string{0: "0-1", 2: "2-3", 10: "4-7"} {
		writeFile(t, filepath.Join(root, "sys/devices/system/node", "node"+strconv.Itoa(id), "cpulist"), l)
	}
	v, err := sysinfo.Read(root)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if want := []string{"0-1", "2-3", "4-7"}; !reflect.DeepEqual(v.NUMANodes, want) {
		t.Errorf("NUMANodes = %q, want %q", v.NUMANodes, want)
	}
}

func TestReadErrors(t *testing.T) {
	t.Run("missing online", func(t *testing.T) {
		m := twoSocket()
		m.noOnline = true
		_, err := sysinfo.Read(m.build(t))
		if err == nil {
			t.Fatal("Read = nil error, want one")
		}
		if !strings.Contains(err.Error(), "online") || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Read error = %v, want a not-exist error about the online CPUs", err)
		}
	})
	t.Run("bad online", func(t *testing.T) {
		m := twoSocket()
		m.online = "7-0"
		if _, err := sysinfo.Read(m.build(t)); err == nil || !strings.Contains(err.Error(), "online") {
			t.Errorf("Read error = %v, want one about the online CPUs", err)
		}
	})
	t.Run("unreadable node cpulist", func(t *testing.T) {
		root := twoSocket().build(t)
		writeFile(t, filepath.Join(root, "sys/devices/system/node/node1/cpulist"), "x-y\n")
		_, err := sysinfo.Read(root)
		if err == nil || !strings.Contains(err.Error(), "node1") {
			t.Errorf("Read error = %v, want one naming node1", err)
		}
	})
	t.Run("empty root", func(t *testing.T) {
		if _, err := sysinfo.Read(t.TempDir()); err == nil {
			t.Error("Read(empty dir) = nil error, want one")
		}
	})
}
