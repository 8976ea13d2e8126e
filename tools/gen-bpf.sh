#!/bin/sh
# gen-bpf.sh regenerates the BPF code of the example schedulers under
# examples/scheds: bpf/vmlinux.h (dumped from a kernel's BTF), the BPF
# objects and their Go bindings (go generate, which runs bpf2go), and
# bpf/inputs.sha256, the digest of the BPF inputs that the packages' tests
# compare against to catch objects that are older than their sources.
#
# Usage: tools/gen-bpf.sh [KERNEL]
#
# KERNEL is an uncompressed vmlinux with BTF, or a directory holding one
# (such as a ktstr kernel cache entry). Without it, the newest kernel of the
# ktstr cache is used ("ktstr kernel list").
#
# Needs clang-19, llvm-strip-19, bpftool and go; run it from anywhere.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:-}
case $kernel in
"" | /*) ;;
*) kernel=$PWD/$kernel ;;
esac
cd "$root"

for tool in bpftool clang-19 llvm-strip-19 go; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "gen-bpf.sh: $tool is not installed" >&2
		exit 1
	fi
done

if [ -z "$kernel" ]; then
	# The first entry of the JSON listing is the newest.
	kernel=$(go run ./tools/ktstr kernel list --json |
		sed -n 's/^ *"dir": *"\(.*\)",\{0,1\}$/\1/p' | head -n 1)
	if [ -z "$kernel" ]; then
		echo "gen-bpf.sh: the ktstr kernel cache is empty; run 'go run ./tools/ktstr kernel fetch' or pass a vmlinux" >&2
		exit 1
	fi
fi
if [ -d "$kernel" ]; then
	kernel=$kernel/vmlinux
fi
if [ ! -r "$kernel" ]; then
	echo "gen-bpf.sh: cannot read kernel $kernel" >&2
	exit 1
fi
echo "gen-bpf.sh: BTF from $kernel"

# input_digest DIR prints the digest gen_test.go recomputes: the sha256 of
# the sha256sum lines ("<hex>  <path>") of every file under DIR/bpf except
# bpf/inputs.sha256, in byte order of their paths, followed by gen.go.
input_digest() {
	(
		cd "$1"
		{
			find bpf -type f ! -path bpf/inputs.sha256 | LC_ALL=C sort
			echo gen.go
		} | while IFS= read -r f; do
			sha256sum "$f"
		done | sha256sum | cut -d ' ' -f 1
	)
}

found=0
for gen in $(find examples/scheds -name gen.go | LC_ALL=C sort); do
	dir=$(dirname "$gen")
	[ -d "$dir/bpf" ] || continue
	found=1
	tmp=$(mktemp "$dir/bpf/.vmlinux.h.XXXXXX")
	if ! bpftool btf dump file "$kernel" format c >"$tmp"; then
		rm -f "$tmp"
		echo "gen-bpf.sh: bpftool could not dump the BTF of $kernel (it needs an uncompressed vmlinux)" >&2
		exit 1
	fi
	chmod 0644 "$tmp"
	mv "$tmp" "$dir/bpf/vmlinux.h"
	echo "gen-bpf.sh: wrote $dir/bpf/vmlinux.h"
done
if [ "$found" = 0 ]; then
	echo "gen-bpf.sh: no example scheduler with a bpf/ directory under examples/scheds" >&2
	exit 1
fi

go generate ./examples/scheds/...

for gen in $(find examples/scheds -name gen.go | LC_ALL=C sort); do
	dir=$(dirname "$gen")
	[ -d "$dir/bpf" ] || continue
	input_digest "$dir" >"$dir/bpf/inputs.sha256"
	echo "gen-bpf.sh: wrote $dir/bpf/inputs.sha256"
done
