// Package topology describes the synthetic CPU topologies that ktstr boots
// its QEMU guests with, and answers questions about them as plain data: it
// makes no system calls and needs nothing beyond the standard library.
//
// # Model
//
// A [Topology] is Sockets × Cores (per socket) × Threads (per core), plus
// the guest memory size. Every socket is one last-level cache (LLC) domain
// and one NUMA node, so a test that wants "N LLCs" asks for N sockets.
// [Topology.String] and [Parse] use the compact form "2s4c1t"
// (2 sockets, 4 cores per socket, 1 thread per core); memory is not part of
// that form.
//
// # CPU numbering
//
// Under QEMU "-smp sockets=S,cores=C,threads=T" the Linux guest numbers its
// logical CPUs as
//
//	cpu = (socket*C + core)*T + thread
//
// so SMT siblings are adjacent and every LLC is a contiguous range.
// [Topology.CPUOf] and [Topology.Locate] convert between the two forms, and
// [Topology.AllCPUs], [Topology.LLCCPUs], [Topology.NodeCPUs],
// [Topology.Siblings], [Topology.UsableCPUs] and [Topology.SplitByLLC]
// return the sets a scenario typically needs as a [CPUSet]. A CPUSet prints
// and parses in the kernel's cpulist format ("0-3,5,7-8"), the format of
// cpuset.cpus and /sys/devices/system/cpu/online, see [ParseCPUList].
//
// The numbering helpers assume a valid topology (see [Topology.Validate])
// and panic, like an out-of-range slice index, when given a socket, core,
// thread, LLC, node or CPU that does not exist.
//
// # Presets and constraints
//
// [Presets] returns the fixed table of named topologies the gauntlet runs
// every test on, from "tiny-1llc" (1s4c1t) up to "max-cpu" (14s9c2t,
// 252 CPUs). A test declares what it needs with [Constraints]; the runner
// uses [Constraints.Filter] to pick the presets to run it on and
// [Constraints.Reason] to explain why the others were skipped.
// [GauntletMemoryMB] sizes the guest memory for a preset.
//
// # QEMU
//
// [Topology.QEMUArgs] returns the -smp, -m, -object and -numa arguments
// that give the guest exactly this topology, one NUMA node per socket.
// [Topology.NeedsX2APIC] reports whether QEMU's x86 APIC ids for the
// topology go past the xAPIC limit; the runner then boots the guest with
// "-machine q35 -cpu max,x2apic=on".
//
// # Example
//
//	t, err := topology.Parse("2s4c2t")
//	if err != nil {
//		return err
//	}
//	t.MemoryMB = topology.GauntletMemoryMB(t, 0)
//	qemuArgs = append(qemuArgs, t.QEMUArgs()...)
//	for llc := range t.LLCs() {
//		fmt.Println(llc, t.LLCCPUs(llc)) // 0 0-7, then 1 8-15
//	}
//
//	c := topology.Constraints{MinLLCs: 2, RequiresSMT: true}
//	for _, p := range c.Filter(topology.Presets()) {
//		// run the test on p.Topology
//	}
package topology
