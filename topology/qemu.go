package topology

import (
	"fmt"
	"math/bits"
	"strconv"
)

// MaxXAPICID is the largest APIC id an xAPIC can address; 255 is the
// broadcast id. Guests with larger APIC ids need x2APIC.
const MaxXAPICID = 254

// GauntletMemoryMB returns the guest memory, in MiB, for running a test on
// t in the gauntlet: 64 MiB per CPU, at least 256 MiB, and at least the
// memoryMB the test asked for (0 if it did not ask).
func GauntletMemoryMB(t Topology, memoryMB int) int {
	return max(t.CPUs()*64, 256, memoryMB)
}

// QEMUArgs returns the QEMU command-line arguments that give the guest
// this topology:
//
//	-smp N,sockets=S,cores=C,threads=T
//	-m M
//
// followed, for each socket K, by a RAM backend and a NUMA node holding
// that socket's CPUs:
//
//	-object memory-backend-ram,id=ktstr-memK,size=<size>M
//	-numa node,nodeid=K,memdev=ktstr-memK
//	-numa cpu,node-id=K,socket-id=K
//
// M is [Topology.EffectiveMemoryMB]. It is split evenly across the nodes in
// whole MiB, the last node taking the remainder, so the node sizes add up
// to exactly M as QEMU requires. t should be valid (see
// [Topology.Validate]). The machine type and CPU model are left to the
// caller; see [Topology.NeedsX2APIC].
func (t Topology) QEMUArgs() []string {
	mem := t.EffectiveMemoryMB()
	args := []string{
		"-smp", fmt.Sprintf("%d,sockets=%d,cores=%d,threads=%d", t.CPUs(), t.Sockets, t.Cores, t.Threads),
		"-m", strconv.Itoa(mem),
	}
	for k, size := range t.NodeMemoryMB() {
		id := NodeMemoryID(k)
		args = append(args,
			"-object", fmt.Sprintf("memory-backend-ram,id=%s,size=%dM", id, size),
			"-numa", fmt.Sprintf("node,nodeid=%d,memdev=%s", k, id),
			"-numa", fmt.Sprintf("cpu,node-id=%d,socket-id=%d", k, k),
		)
	}
	return args
}

// NodeMemoryID is the QEMU object id of node k's RAM backend.
func NodeMemoryID(k int) string { return "ktstr-mem" + strconv.Itoa(k) }

// NodeMemoryMB splits [Topology.EffectiveMemoryMB] over the NUMA nodes
// (one per socket) in whole MiB, the last node taking the remainder.
func (t Topology) NodeMemoryMB() []int {
	mem := t.EffectiveMemoryMB()
	out := make([]int, t.Sockets)
	for k := range out {
		out[k] = mem / t.Sockets
		if k == t.Sockets-1 {
			out[k] = mem - out[k]*(t.Sockets-1)
		}
	}
	return out
}

// apicBits returns the number of APIC id bits QEMU gives a level with n
// entries: ceil(log2(n)), 0 for n <= 1.
func apicBits(n int) int {
	if n <= 1 {
		return 0
	}
	return bits.Len(uint(n - 1))
}

func (t Topology) apicID(socket, core, thread int) int {
	threadBits := apicBits(t.Threads)
	coreBits := apicBits(t.Cores)
	return socket<<(coreBits+threadBits) | core<<threadBits | thread
}

// APICID returns the initial x86 APIC id QEMU assigns to a logical CPU.
// QEMU gives each level of the topology a bit field just wide enough for
// its count, so ids are sparse when Cores or Threads is not a power of two:
//
//	threadBits = ceil(log2(Threads))
//	coreBits   = ceil(log2(Cores))
//	apicid     = socket<<(coreBits+threadBits) | core<<threadBits | thread
//
// It panics if cpu is out of range.
func (t Topology) APICID(cpu int) int {
	return t.apicID(t.Locate(cpu))
}

// MaxAPICID returns the largest APIC id among t's CPUs, that of the last
// thread of the last core of the last socket; see [Topology.APICID].
func (t Topology) MaxAPICID() int {
	return t.apicID(t.Sockets-1, t.Cores-1, t.Threads-1)
}

// NeedsX2APIC reports whether some CPU of t has an APIC id above
// [MaxXAPICID], which an xAPIC cannot address. The runner then boots the
// guest with "-machine q35 -cpu max,x2apic=on" so that every CPU comes up.
func (t Topology) NeedsX2APIC() bool { return t.MaxAPICID() > MaxXAPICID }
