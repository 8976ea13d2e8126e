package topology_test

import (
	"fmt"
	"strings"

	"github.com/ktstr-go/ktstr/topology"
)

func ExampleParse() {
	t, err := topology.Parse("2s2c2t")
	if err != nil {
		panic(err)
	}
	fmt.Println(t, t.CPUs(), "CPUs,", t.LLCs(), "LLCs, SMT:", t.HasSMT())
	for llc := range t.LLCs() {
		fmt.Printf("LLC %d: %v\n", llc, t.LLCCPUs(llc))
	}
	fmt.Println("siblings of 5:", t.Siblings(5))
	fmt.Println("usable:", t.UsableCPUs())

	_, err = topology.Parse("0s2c1t")
	fmt.Println(err)
	// Output:
	// 2s2c2t 8 CPUs, 2 LLCs, SMT: true
	// LLC 0: 0-3
	// LLC 1: 4-7
	// siblings of 5: 4-5
	// usable: 0-6
	// parsing "0s2c1t": topology 0s2c1t: sockets must be >= 1 (got 0)
}

func ExampleParseCPUList() {
	set, err := topology.ParseCPUList("8,0-3,5,7\n")
	if err != nil {
		panic(err)
	}
	fmt.Println(set, set.Len(), set.Contains(4))
	fmt.Println(set.Difference(topology.NewCPUSet(1, 2)))
	// Output:
	// 0-3,5,7-8 7 false
	// 0,3,5,7-8
}

func ExampleConstraints_Filter() {
	c := topology.Constraints{MinLLCs: 2, RequiresSMT: true}
	for _, p := range c.Filter(topology.Presets())[:3] {
		fmt.Println(p.Name, p.Topology)
	}
	tiny, _ := topology.PresetByName("tiny-1llc")
	fmt.Println("skip tiny-1llc:", c.Reason(tiny.Topology))
	// Output:
	// smt-2llc 2s2c2t
	// smt-3llc 3s2c2t
	// medium-4llc 4s4c2t
	// skip tiny-1llc: needs >= 2 LLCs, 1s4c1t has 1; needs SMT, 1s4c1t has 1 thread(s) per core
}

func ExampleTopology_QEMUArgs() {
	p, _ := topology.PresetByName("smt-2llc")
	t := p.Topology
	t.MemoryMB = topology.GauntletMemoryMB(t, 0)
	fmt.Println(strings.Join(t.QEMUArgs(), " "))
	fmt.Println("x2apic:", t.NeedsX2APIC())
	// Output:
	// -smp 8,sockets=2,cores=2,threads=2 -m 512 -object memory-backend-ram,id=ktstr-mem0,size=256M -numa node,nodeid=0,memdev=ktstr-mem0 -numa cpu,node-id=0,socket-id=0 -object memory-backend-ram,id=ktstr-mem1,size=256M -numa node,nodeid=1,memdev=ktstr-mem1 -numa cpu,node-id=1,socket-id=1
	// x2apic: false
}
