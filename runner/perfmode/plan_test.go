package perfmode

import (
	"errors"
	"strings"
	"testing"

	"github.com/ktstr-go/ktstr/topology"
)

func set(s string) topology.CPUSet { return topology.MustParseCPUList(s) }

// host builds a host of llcs LLC groups of n CPUs each, one NUMA node per
// group, with free hugepages per node.
func host(llcs, n, free int) Host {
	h := Host{CPUs: set("0-" + itoa(llcs*n-1)), Clocksource: "tsc", ConstantTSC: true, NonstopTSC: true, RT: true, ProcsRunning: 1}
	for k := range llcs {
		g := set(itoa(k*n) + "-" + itoa(k*n+n-1))
		h.LLCs = append(h.LLCs, g)
		h.Nodes = append(h.Nodes, Node{ID: k, CPUs: g, FreeHugepages: free})
	}
	return h
}

func itoa(i int) string { return topology.NewCPUSet(i).String() }

func topo(s string) topology.Topology {
	t, err := topology.Parse(s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPlanRefusesWhatTheHostCannotGive(t *testing.T) {
	for _, c := range []struct {
		name string
		h    Host
		topo string
		want string
	}{
		{"no CPU left for QEMU", host(1, 2, 0), "1s2c1t", "needs a host CPU for each of the 2 vCPUs and one more"},
		{"vCPUs beyond the host", host(1, 2, 0), "2s2c1t", "(5), and this process may use 2 host CPUs (0-1)"},
		{"too few LLC groups", host(1, 16, 0), "2s2c1t", "each of its 2 LLCs needs a host LLC group of its own, and the usable host CPUs span 1 (0-15)"},
		{"an LLC group too small", host(2, 3, 0), "2s4c1t", "needs a host CPU for each"},
		{"a group too small for its LLC", host(4, 2, 0), "2s3c1t", "guest LLC 0 has 3 vCPUs, and the host LLC group it would get (0-1) has 2 usable CPUs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := NewPlan(c.h, topo(c.topo), []int{512, 512})
			var ue *UnavailableError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnavailable) {
				t.Fatalf("NewPlan = %+v, %v; want an *UnavailableError", p, err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.topo) {
				t.Errorf("error %q\nwant it to name %s and say %q", err, c.topo, c.want)
			}
		})
	}
}

func TestPlanMapsLLCsAndLeavesServiceCPUs(t *testing.T) {
	h := host(2, 4, 1024)
	h.CPUs = set("0-6") // the affinity mask leaves out CPU 7
	p, err := NewPlan(h, topo("2s2c1t"), []int{512, 512})
	if err != nil {
		t.Fatal(err)
	}
	// The largest group (0-3) gets guest LLC 0, the rest of the second
	// (4-6) guest LLC 1; the highest CPUs of each.
	if got := p.VCPUCPUs; !equal(got, []int{2, 3, 5, 6}) {
		t.Errorf("vCPU CPUs %v, want [2 3 5 6]", got)
	}
	if got := p.Service.String(); got != "0-1,4" {
		t.Errorf("service CPUs %s, want 0-1,4", got)
	}
	if !equal(p.MemNodes, []int{0, 1}) || p.BindWhy != "" {
		t.Errorf("memory nodes %v (%s), want [0 1]", p.MemNodes, p.BindWhy)
	}
	if !p.Hugepages || p.BackendOptions(1) != ",prealloc=on,host-nodes=1,policy=bind" {
		t.Errorf("hugepages %v (%s), backend options %q", p.Hugepages, p.HugepagesWhy, p.BackendOptions(1))
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings %v, want none", p.Warnings)
	}
}

func TestPlanSaysWhatItCannotDo(t *testing.T) {
	h := host(1, 4, 100)
	h.ProcsRunning = 4
	h.Clocksource, h.NonstopTSC = "kvm-clock", false
	h.RT, h.RTWhy = false, "no CAP_SYS_NICE"
	p, err := NewPlan(h, topo("1s2c1t"), []int{512})
	if err != nil {
		t.Fatal(err)
	}
	if p.Hugepages || !strings.Contains(p.HugepagesWhy, "256 needed on host node 0, 100 free") || !strings.Contains(p.HugepagesWhy, "echo 256 > /proc/sys/vm/nr_hugepages") {
		t.Errorf("hugepages %v: %s", p.Hugepages, p.HugepagesWhy)
	}
	if got := p.BackendOptions(0); got != ",host-nodes=0,policy=bind" {
		t.Errorf("backend options %q: binding without hugepages", got)
	}
	if p.RT || p.RTWhy != "no CAP_SYS_NICE" {
		t.Errorf("RT %v %q", p.RT, p.RTWhy)
	}
	w := strings.Join(p.Warnings, "\n")
	if !strings.Contains(w, "3 other runnable tasks") || !strings.Contains(w, "kvm-clock") || !strings.Contains(w, "nonstop_tsc") {
		t.Errorf("warnings:\n%s", w)
	}

	h.Nodes = nil
	p, err = NewPlan(h, topo("1s2c1t"), []int{512})
	if err != nil {
		t.Fatal(err)
	}
	if p.MemNodes != nil || !strings.Contains(p.BindWhy, "no NUMA nodes") || p.BackendOptions(0) != "" {
		t.Errorf("no NUMA: %v %q %q", p.MemNodes, p.BindWhy, p.BackendOptions(0))
	}
	if _, err := NewPlan(host(1, 4, 1000), topo("1s2c1t"), []int{513}); err != nil {
		t.Fatal(err)
	} else if p, _ := NewPlan(host(1, 4, 1000), topo("1s2c1t"), []int{513}); p.Hugepages || !strings.Contains(p.HugepagesWhy, "513 MiB") {
		t.Errorf("odd memory: %v %q", p.Hugepages, p.HugepagesWhy)
	}
}

func TestThreadsPinnable(t *testing.T) {
	if ok, why := ThreadsPinnable([]int{101, 102}); !ok {
		t.Errorf("own threads: %s", why)
	}
	if ok, why := ThreadsPinnable([]int{101, 101}); ok || !strings.Contains(why, "single-threaded TCG") {
		t.Errorf("one shared thread: %v %s", ok, why)
	}
	if ok, _ := ThreadsPinnable(nil); ok {
		t.Error("no threads: pinnable")
	}
}

func TestParseNumaMaps(t *testing.T) {
	text := `55d0c0a00000 default file=/usr/bin/qemu-system-x86_64 mapped=10 N0=10 kernelpagesize_kB=4
7f3a00000000 bind:0 file=/memfd:ktstr-guest-ktstr-mem0\040(deleted) huge dirty=256 N0=256 kernelpagesize_kB=2048
7f3b00000000 bind:1 file=/memfd:ktstr-guest-ktstr-mem1\040(deleted) dirty=3 N1=3 kernelpagesize_kB=4
7ffd1000 default stack anon=5 dirty=5 N0=5 kernelpagesize_kB=4
`
	ms, err := ParseNumaMaps(text)
	if err != nil {
		t.Fatal(err)
	}
	got := Find(ms, "ktstr-guest-ktstr-mem0")
	if len(got) != 1 {
		t.Fatalf("mem0: %+v", got)
	}
	m := got[0]
	if m.Policy != "bind:0" || !m.Huge || m.PageKB != 2048 || m.Total() != 256 || m.Pages[0] != 256 || m.File != "/memfd:ktstr-guest-ktstr-mem0 (deleted)" {
		t.Errorf("mem0: %+v", m)
	}
	if len(Find(ms, "ktstr-mem")) != 0 {
		t.Error("a part of a name was found")
	}
	if m1 := Find(ms, "ktstr-guest-ktstr-mem1")[0]; m1.Huge || m1.PageKB != 4 || m1.Pages[1] != 3 {
		t.Errorf("mem1: %+v", m1)
	}
	if _, err := ParseNumaMaps("zz default\n"); err == nil {
		t.Error("a bad address parsed")
	}
}

func TestReadHostFromASavedTree(t *testing.T) {
	h, err := ReadHost("testdata/host2")
	if err != nil {
		t.Fatal(err)
	}
	if h.CPUs.String() != "0-3" || len(h.LLCs) != 2 || h.LLCs[1].String() != "2-3" {
		t.Errorf("CPUs %s, LLCs %v", h.CPUs, h.LLCs)
	}
	if len(h.Nodes) != 2 || h.Nodes[1].FreeHugepages != 7 || h.Nodes[0].FreeHugepages != -1 || h.NodeOf(3) != 1 {
		t.Errorf("nodes %+v", h.Nodes)
	}
	if h.ProcsRunning != 3 || h.Clocksource != "hpet" || !h.ConstantTSC || h.NonstopTSC {
		t.Errorf("load %d, clock %q, tsc %v %v", h.ProcsRunning, h.Clocksource, h.ConstantTSC, h.NonstopTSC)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
