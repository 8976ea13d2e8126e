package topology

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestQEMUArgs2s2c2t(t *testing.T) {
	topo := Topology{Sockets: 2, Cores: 2, Threads: 2, MemoryMB: 2048}
	want := []string{
		"-smp", "8,sockets=2,cores=2,threads=2",
		"-m", "2048",
		"-object", "memory-backend-ram,id=ktstr-mem0,size=1024M",
		"-numa", "node,nodeid=0,memdev=ktstr-mem0",
		"-numa", "cpu,node-id=0,socket-id=0",
		"-object", "memory-backend-ram,id=ktstr-mem1,size=1024M",
		"-numa", "node,nodeid=1,memdev=ktstr-mem1",
		"-numa", "cpu,node-id=1,socket-id=1",
	}
	if got := topo.QEMUArgs(); !slices.Equal(got, want) {
		t.Errorf("QEMUArgs() =\n%q\nwant\n%q", got, want)
	}
	// MemoryMB 0 means the 2048 MiB default.
	topo.MemoryMB = 0
	if got := topo.QEMUArgs(); !slices.Equal(got, want) {
		t.Errorf("QEMUArgs() with MemoryMB 0 =\n%q\nwant\n%q", got, want)
	}
}

func TestQEMUArgsUnevenMemory(t *testing.T) {
	topo := Topology{Sockets: 3, Cores: 3, Threads: 1, MemoryMB: 1000}
	want := []string{
		"-smp", "9,sockets=3,cores=3,threads=1",
		"-m", "1000",
		"-object", "memory-backend-ram,id=ktstr-mem0,size=333M",
		"-numa", "node,nodeid=0,memdev=ktstr-mem0",
		"-numa", "cpu,node-id=0,socket-id=0",
		"-object", "memory-backend-ram,id=ktstr-mem1,size=333M",
		"-numa", "node,nodeid=1,memdev=ktstr-mem1",
		"-numa", "cpu,node-id=1,socket-id=1",
		"-object", "memory-backend-ram,id=ktstr-mem2,size=334M",
		"-numa", "node,nodeid=2,memdev=ktstr-mem2",
		"-numa", "cpu,node-id=2,socket-id=2",
	}
	if got := topo.QEMUArgs(); !slices.Equal(got, want) {
		t.Errorf("QEMUArgs() =\n%q\nwant\n%q", got, want)
	}
}

func TestQEMUArgsOneSocket(t *testing.T) {
	topo := Topology{Sockets: 1, Cores: 4, Threads: 1, MemoryMB: 512}
	want := []string{
		"-smp", "4,sockets=1,cores=4,threads=1",
		"-m", "512",
		"-object", "memory-backend-ram,id=ktstr-mem0,size=512M",
		"-numa", "node,nodeid=0,memdev=ktstr-mem0",
		"-numa", "cpu,node-id=0,socket-id=0",
	}
	if got := topo.QEMUArgs(); !slices.Equal(got, want) {
		t.Errorf("QEMUArgs() =\n%q\nwant\n%q", got, want)
	}
}

// TestQEMUArgsMemorySums checks, for every preset and a range of memory
// sizes, that the node sizes add up to exactly -m and differ by little.
func TestQEMUArgsMemorySums(t *testing.T) {
	for _, p := range Presets() {
		for _, mem := range []int{0, 15, 256, 1000, 1023, 4096, 16127, GauntletMemoryMB(p.Topology, 0)} {
			topo := p.Topology
			topo.MemoryMB = mem
			if topo.Validate() != nil {
				continue
			}
			args := topo.QEMUArgs()
			if args[2] != "-m" || args[3] != strconv.Itoa(topo.EffectiveMemoryMB()) {
				t.Fatalf("%s/%d: args start %q", p.Name, mem, args[:4])
			}
			sum, nodes, smallest, largest := 0, 0, -1, 0
			for i := 0; i < len(args)-1; i++ {
				if args[i] != "-object" {
					continue
				}
				var k, size int
				if _, err := fmt.Sscanf(args[i+1], "memory-backend-ram,id=ktstr-mem%d,size=%dM", &k, &size); err != nil {
					t.Fatalf("%s/%d: bad -object %q: %v", p.Name, mem, args[i+1], err)
				}
				if k != nodes {
					t.Fatalf("%s/%d: backend %d out of order", p.Name, mem, k)
				}
				nodes++
				sum += size
				if smallest < 0 || size < smallest {
					smallest = size
				}
				largest = max(largest, size)
			}
			if nodes != topo.NUMANodes() {
				t.Errorf("%s/%d: %d memory backends, want %d", p.Name, mem, nodes, topo.NUMANodes())
			}
			if sum != topo.EffectiveMemoryMB() {
				t.Errorf("%s/%d: node sizes sum to %d, want %d", p.Name, mem, sum, topo.EffectiveMemoryMB())
			}
			if smallest < 1 || largest-smallest >= topo.Sockets {
				t.Errorf("%s/%d: node sizes range %d..%d", p.Name, mem, smallest, largest)
			}
			if want := 2 + 2 + 6*topo.Sockets; len(args) != want {
				t.Errorf("%s/%d: %d args, want %d", p.Name, mem, len(args), want)
			}
			if !strings.HasPrefix(args[1], strconv.Itoa(topo.CPUs())+",") {
				t.Errorf("%s/%d: -smp %q", p.Name, mem, args[1])
			}
		}
	}
}

func TestAPIC(t *testing.T) {
	tests := []struct {
		topo    Topology
		maxID   int
		x2apic  bool
		comment string
	}{
		{Topology{1, 1, 1, 0}, 0, false, "single CPU"},
		{Topology{1, 4, 1, 0}, 3, false, "tiny-1llc"},
		{Topology{2, 2, 2, 0}, 7, false, "smt-2llc: dense"},
		{Topology{3, 3, 1, 0}, 10, false, "odd-3llc: 2 core bits, socket 2 core 2 = 0b1010"},
		{Topology{3, 2, 2, 0}, 11, false, "smt-3llc"},
		{Topology{15, 8, 2, 0}, 239, false, "near-max-llc: 14<<4 | 7<<1 | 1"},
		{Topology{15, 16, 1, 0}, 239, false, "near-max-llc-nosmt: 14<<4 | 15"},
		{Topology{14, 9, 2, 0}, 433, true, "max-cpu: 13<<5 | 8<<1 | 1"},
		{Topology{14, 18, 1, 0}, 433, true, "max-cpu-nosmt: 13<<5 | 17"},
		{Topology{8, 16, 1, 0}, 127, false, "large-8llc-nosmt"},
		{Topology{4, 32, 1, 0}, 127, false, "large-4llc-nosmt"},
		{Topology{1, 1, 4, 0}, 3, false, "4 threads"},
		{Topology{1, 1, 3, 0}, 2, false, "3 threads: 2 thread bits"},
		{Topology{2, 1, 3, 0}, 6, false, "second socket starts at 4"},
	}
	for _, tt := range tests {
		if got := tt.topo.MaxAPICID(); got != tt.maxID {
			t.Errorf("%v (%s): MaxAPICID() = %d, want %d", tt.topo, tt.comment, got, tt.maxID)
		}
		if got := tt.topo.NeedsX2APIC(); got != tt.x2apic {
			t.Errorf("%v (%s): NeedsX2APIC() = %v, want %v", tt.topo, tt.comment, got, tt.x2apic)
		}
	}
}

func TestAPICIDPerCPU(t *testing.T) {
	topo := Topology{Sockets: 2, Cores: 3, Threads: 2} // 1 thread bit, 2 core bits
	want := []int{0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13}
	for cpu, w := range want {
		if got := topo.APICID(cpu); got != w {
			t.Errorf("APICID(%d) = %d, want %d", cpu, got, w)
		}
	}
	for _, p := range Presets() {
		topo := p.Topology
		seen := map[int]bool{}
		prev := -1
		for cpu := range topo.CPUs() {
			id := topo.APICID(cpu)
			if seen[id] || id <= prev {
				t.Fatalf("%s: APICID(%d) = %d repeats or decreases", p.Name, cpu, id)
			}
			seen[id] = true
			prev = id
		}
		if prev != topo.MaxAPICID() {
			t.Errorf("%s: last APIC id %d, MaxAPICID() = %d", p.Name, prev, topo.MaxAPICID())
		}
	}
}

func TestPresetX2APIC(t *testing.T) {
	var need []string
	for _, p := range Presets() {
		if p.Topology.NeedsX2APIC() {
			need = append(need, p.Name)
		}
	}
	if want := []string{"max-cpu", "max-cpu-nosmt"}; !slices.Equal(need, want) {
		t.Errorf("presets needing x2APIC = %q, want %q", need, want)
	}
}
