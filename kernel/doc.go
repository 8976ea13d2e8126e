// Package kernel finds, fetches and caches the Linux kernels that ktstr
// boots in QEMU to test process schedulers.
//
// Testing sched_ext (BPF) schedulers needs a kernel built with
// CONFIG_SCHED_CLASS_EXT=y and BTF. The package provides:
//
//   - Fragment, the kconfig fragment (ktstr.kconfig) to build such a kernel
//     yourself, and CheckConfig with RequiredSchedExt to check a .config.
//   - Fetch, which downloads a ready-made kernel from Debian sid (the only
//     Debian suite whose kernels enable sched_ext) with a private apt
//     configuration, checks its config, extracts the uncompressed vmlinux
//     from the zstd-compressed vmlinuz (ExtractVmlinux; vmlinux boots faster
//     through PVH and carries BTF) and stores everything in a Cache.
//   - Cache, a directory of kernels (DefaultCache: $KTSTR_CACHE_DIR/kernels,
//     else ~/.cache/ktstr/kernels), one directory per version holding
//     vmlinuz, vmlinux, config and metadata.json with sha256 sums.
//   - Resolve, the single place that decides which kernel to boot, used by
//     both the ktstr command and the test runner. It tries an explicit path
//     (--kernel), then $KTSTR_KERNEL, then the newest cache entry, then
//     well-known locations such as /boot/vmlinuz-$(uname -r); when nothing
//     fits it returns a *NotFoundError listing every place tried.
//
// Typical use in a test runner:
//
//	k, err := kernel.Resolve(kernel.ResolveOptions{NeedSchedExt: true})
//	if err != nil {
//		return err // tells the user to run "ktstr kernel fetch"
//	}
//	boot(k.Path)
//
// and to fill the cache from the command line:
//
//	go run github.com/ktstr-go/ktstr/tools/ktstr kernel fetch
//	go run github.com/ktstr-go/ktstr/tools/ktstr kernel list
package kernel
