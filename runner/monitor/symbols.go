package monitor

// Symbols the monitor needs: core ones (without which it cannot run) and
// sched_ext ones (without which the sched_ext metrics and the watchdog
// override are not available).
var (
	CoreSymbols = []string{"__per_cpu_offset", "page_offset_base", "init_top_pgt", "linux_banner", "jiffies_64", "nr_cpu_ids"}
	ScxSymbols  = []string{"scx_root", "scx_watchdog_interval", "scx_watchdog_timestamp", "scx_watchdog_work"}
	// OptionalSymbols are used when present.
	OptionalSymbols = []string{"runqueues"}
)

// AllSymbols is every symbol the monitor asks for.
func AllSymbols() []string {
	return append(append(append([]string{}, CoreSymbols...), ScxSymbols...), OptionalSymbols...)
}
