package runner

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ktstr-go/ktstr/guest/wire"
	"github.com/ktstr-go/ktstr/internal/ksyms"
	"github.com/ktstr-go/ktstr/runner/guestmem"
	"github.com/ktstr-go/ktstr/runner/monitor"
	"github.com/ktstr-go/ktstr/runner/perfmode"
	"github.com/ktstr-go/ktstr/topology"
)

// MonitorConfig turns on the host-side monitor (see runner/monitor): the
// guest's RAM is shared with this process, and the guest kernel's
// scheduler state is sampled from it while the guest runs.
type MonitorConfig struct {
	// Vmlinux is the uncompressed kernel whose BTF gives struct layouts;
	// "" uses Config.Kernel when that is an ELF vmlinux, or a vmlinux
	// beside it.
	Vmlinux string
	// Symbols are known kernel symbol addresses (a System.map, or a cache
	// of an earlier boot); nil makes the guest read /proc/kallsyms once
	// before the test, and OnSymbols sees what it sent.
	Symbols      ksyms.Table
	SymbolSource string
	OnSymbols    func(ksyms.Table)
	// HZ is CONFIG_HZ when known (0: estimated).
	HZ int
	// WatchdogTimeout overrides the sched_ext watchdog timeout in guest
	// memory (0: leave it).
	WatchdogTimeout time.Duration
	// Interval between samples (0: monitor.DefaultInterval).
	Interval time.Duration
}

// MonitorKernelArgs are added to the command line when the monitor runs:
// symbol addresses must be the same on every boot of a kernel.
var MonitorKernelArgs = []string{"nokaslr"}

// monitorFD is the first child fd of the guest RAM memfds.
const monitorFD = 3

// findVmlinux returns an ELF kernel with BTF for the monitor.
func findVmlinux(mc *MonitorConfig, kernel string) (string, error) {
	cands := []string{mc.Vmlinux}
	if mc.Vmlinux == "" {
		cands = []string{kernel, filepath.Join(filepath.Dir(kernel), "vmlinux")}
		if r, err := filepath.EvalSymlinks(kernel); err == nil {
			cands = append(cands, filepath.Join(filepath.Dir(r), "vmlinux"))
		}
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if f, err := elf.Open(c); err == nil {
			f.Close()
			return c, nil
		}
	}
	return "", fmt.Errorf("no uncompressed vmlinux for the monitor's BTF (tried %s); boot a vmlinux or keep one beside the kernel image", strings.Join(cands, ", "))
}

// monitorPrepare loads the kernel's layout for the monitor before QEMU
// starts; false means the monitor will not run (the reason is noted).
func (vm *VM) monitorPrepare() bool {
	mc := vm.cfg.Monitor
	vmlinux, err := findVmlinux(mc, vm.cfg.Kernel)
	if err != nil {
		vm.monitorUnavailable(err)
		return false
	}
	if vm.monLayout, err = monitor.LoadLayout(vmlinux); err != nil {
		vm.monitorUnavailable(err)
		return false
	}
	return true
}

// memorySetup creates the guest's RAM as memfds shared with this process
// (for the monitor, and for performance mode's hugepages and binding)
// before QEMU starts, and returns the memory backends that replace the
// topology's own. A hugepage-backed memory that cannot be had falls back
// to regular pages, and the plan says why.
func (vm *VM) memorySetup(topo topology.Topology, perf *perfmode.Plan) (map[string]string, error) {
	var nodes []guestmem.Node
	for k, mb := range topo.NodeMemoryMB() {
		nodes = append(nodes, guestmem.Node{ID: topology.NodeMemoryID(k), SizeMB: mb})
	}
	var err error
	if perf != nil && perf.Hugepages {
		if vm.mem, err = guestmem.New(nodes, guestmem.Options{Hugepages: true}); err != nil {
			perf.Hugepages, perf.HugepagesWhy = false, err.Error()+"; guest memory uses regular pages"
		}
	}
	if vm.mem == nil {
		if vm.mem, err = guestmem.New(nodes, guestmem.Options{}); err != nil {
			return nil, err
		}
	}
	backends := vm.mem.QEMUArgs(monitorFD)
	if perf != nil {
		for k := range nodes {
			backends[nodes[k].ID] += perf.BackendOptions(k)
		}
	}
	return backends, nil
}

// monitorLayout reads where guest RAM is from QEMU (HMP info mtree).
func (vm *VM) monitorLayout() error {
	b, err := vm.QMP(`{"execute":"human-monitor-command","arguments":{"command-line":"info mtree"}}`)
	if err != nil {
		return fmt.Errorf("info mtree: %w", err)
	}
	var r struct {
		Return string `json:"return"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("info mtree: %w", err)
	}
	l, err := guestmem.ParseMtree(r.Return, vm.mem.Backends())
	if err != nil {
		return err
	}
	return vm.mem.SetLayout(l)
}

// monitorNote records why the monitor is not running; the report says it.
func (vm *VM) monitorNote(err error) {
	if vm.monErr == "" {
		vm.monErr = err.Error()
	}
	vm.out.Notes = append(vm.out.Notes, "monitor: "+err.Error())
}

// monitorUnavailable records that this kernel cannot be monitored (no
// uncompressed vmlinux with BTF): the monitor's checks are then skipped,
// not failed.
func (vm *VM) monitorUnavailable(err error) {
	vm.monUnavailable = true
	vm.monitorNote(err)
}

// monitorOnMessage starts the sampler once the guest kernel is up and
// the symbols are known.
func (vm *VM) monitorOnMessage(m *wire.Message) {
	mc := vm.cfg.Monitor
	if mc == nil || vm.mem == nil || vm.monLayout == nil || vm.sampler != nil || vm.monErr != "" {
		return
	}
	syms, source := mc.Symbols, mc.SymbolSource
	switch {
	case m.Kind == wire.KindHello && syms != nil:
	case m.Kind == wire.KindSymbols && syms == nil:
		if m.SymbolsErr != "" {
			vm.monitorNote(fmt.Errorf("the guest could not read its kernel symbols: %s", m.SymbolsErr))
			return
		}
		syms, source = ksyms.Table(m.Symbols), "guest /proc/kallsyms"
		if mc.OnSymbols != nil {
			mc.OnSymbols(syms)
		}
	default:
		return
	}
	tids := vm.out.vcpuThreads(0)
	var onThread func()
	if vm.perf != nil {
		onThread = perfMonitorThread(vm.perf)
	}
	s, err := monitor.Start(monitor.Config{
		Mem: vm.mem, Layout: vm.monLayout, Symbols: syms, Source: source,
		CPUs: vm.cfg.Topology.CPUs(), Interval: mc.Interval, HZ: mc.HZ,
		WatchdogTimeout: mc.WatchdogTimeout, QEMUPID: vm.out.QEMUPID, VCPUThreads: tids,
		OnThread: onThread,
	})
	if err != nil {
		vm.monitorNote(err)
		return
	}
	vm.sampler = s
}

// monitorFinish stops the sampler and puts its report in the outcome.
func (vm *VM) monitorFinish() {
	if vm.cfg.Monitor == nil {
		return
	}
	if vm.sampler != nil {
		vm.out.Monitor = vm.sampler.Stop()
		vm.sampler = nil
	} else if vm.out.Monitor == nil {
		why := vm.monErr
		if why == "" {
			why = "the guest never reported that it was up"
		}
		if vm.monUnavailable {
			vm.out.Monitor = &monitor.Report{Unavailable: []string{why}}
		} else {
			vm.out.Monitor = &monitor.Report{Error: why}
		}
	}
}
