// Command ktstr is the command-line companion of the ktstr scheduler test
// harness, which boots Linux kernels in QEMU to test process schedulers,
// including sched_ext BPF schedulers.
//
// Usage:
//
//	ktstr <command> [arguments]
//
// Commands:
//
//	kernel fetch [--force] [--mirror URI] [--suite sid] [--flavour cloud-amd64] [--json]
//	        Download the newest Debian sid kernel (which enables sched_ext)
//	        into the kernel cache, extracting vmlinux from vmlinuz. Progress
//	        goes to stderr; the cache entry is printed to stdout.
//	kernel list [--json]
//	        List cached kernels, newest first.
//	kernel clean [--keep N]
//	        Remove cached kernels except the N newest (default 0: all).
//	kernel resolve [--kernel PATH] [--sched-ext]
//	        Show which kernel the test runner would boot and where it came
//	        from: --kernel, $KTSTR_KERNEL, the cache, or a well-known
//	        location such as /boot/vmlinuz-$(uname -r).
//
// Beyond kernels (run "ktstr help" for the whole list):
//
//	shell [--topology T] [-i FILE]... [--exec CMD]   a VM with a busybox shell
//	verifier --scheduler NAME|PATH [--against PATH]  the verifier's counts per program and profile
//	topo | list [DIR...] | gauntlet | stats | accel  what is here, and results
//	run --scenario NAME | cleanup                    scenarios on this machine, and their leftovers
//	completion bash|zsh|fish                         shell completions
//
// "ktstr shell" and "ktstr verifier" put this binary into the guest as
// its init (it runs guest.Main when it is PID 1 of a ktstr guest), and
// "ktstr run" starts its workers as this binary, so ktstr needs no Go
// toolchain for them.
//
// The kernel cache lives in $KTSTR_CACHE_DIR/kernels, or
// ~/.cache/ktstr/kernels when KTSTR_CACHE_DIR is unset.
//
// Run it without installing:
//
//	go run github.com/ktstr-go/ktstr/tools/ktstr kernel fetch
package main
