# shellcheck shell=bash
# pivot.sh: second half of `enter`, run by bash inside a fresh private
# mount namespace (unshare --mount --propagation private). Mounts what the
# sid root needs, makes it the root with pivot_root, and runs the command.
#
# pivot_root rather than chroot: the kernel refuses to create user
# namespaces inside a chroot, which would disable Bazel's linux-sandbox.
# Every mount below belongs to this namespace only and goes away with its
# last process; the host never sees them.
#
# Input (environment, set by enter): BZO_NS_ROOT, BZO_NS_WORKSPACE,
# BZO_NS_CWD, BZO_NS_CACHE, BZO_NS_GOROOT, BZO_NS_REGISTRY,
# BZO_NS_GOMODCACHE, BZO_NS_IN_REGISTRY, BZO_NS_IN_GOMODCACHE,
# BZO_NS_IN_GOROOT, BZO_NS_TERM, BZO_NS_KERNELS (optional); arguments:
# the command.
set -euo pipefail

root=$BZO_NS_ROOT

bind() { # rw|ro source target
	mkdir -p "$3"
	mount --bind "$2" "$3"
	if [ "$1" = ro ]; then mount -o remount,bind,ro "$3"; fi
}

# pivot_root needs the new root to be a mount point.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
bind ro "$BZO_NS_GOROOT" "$root$BZO_NS_IN_GOROOT"
bind ro "$BZO_NS_REGISTRY" "$root$BZO_NS_IN_REGISTRY"
bind rw "$BZO_NS_GOMODCACHE" "$root$BZO_NS_IN_GOMODCACHE"
# Same paths inside and outside: Bazel's output tree and the workspace, so
# that the bazel-* symlinks Bazel leaves in the workspace resolve on the
# host, and paths in Bazel's messages are valid on both sides.
bind rw "$BZO_NS_CACHE" "$root$BZO_NS_CACHE"
bind rw "$BZO_NS_WORKSPACE" "$root$BZO_NS_WORKSPACE"
# The host's ktstr kernel cache, read-only, where ktstr looks for it inside
# (HOME=/root): the @ktstr_kernel repository and VM tests boot from it.
if [ -d "${BZO_NS_KERNELS:-}" ]; then
	bind ro "$BZO_NS_KERNELS" "$root/root/.cache/ktstr/kernels"
fi

cd "$root"
pivot_root . .oldroot
cd /
umount -l /.oldroot

cd "$BZO_NS_CWD"
exec /usr/bin/env -i \
	PATH="$BZO_NS_IN_GOROOT/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
	HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM="$BZO_NS_TERM" \
	"$@"
