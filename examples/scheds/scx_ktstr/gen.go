package main

// The BPF objects are generated, and committed, so that building and
// testing scx_ktstr needs no clang. After editing anything under bpf/,
// run tools/gen-bpf.sh from the repository root: it regenerates
// bpf/vmlinux.h, the objects and their Go bindings, and bpf/inputs.sha256,
// which gen_test.go checks.

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -cc clang-19 -strip llvm-strip-19 -no-global-types -type ktstr_exit_info -type ktstr_cpu_stats ktstr bpf/scx_ktstr.bpf.c -- -O2 -g -mcpu=v3 -D__TARGET_ARCH_x86 -fms-extensions -Wno-microsoft-anon-tag -Wall
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -cc clang-19 -strip llvm-strip-19 -no-global-types -type ktstr_exit_info -type ktstr_cpu_stats ktstrbad bpf/scx_ktstr.bpf.c -- -O2 -g -mcpu=v3 -D__TARGET_ARCH_x86 -fms-extensions -Wno-microsoft-anon-tag -Wall -DKTSTR_FAIL_VERIFY
