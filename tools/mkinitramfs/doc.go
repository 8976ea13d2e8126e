// Command mkinitramfs packs a ktstr initramfs: the guest init, a test
// binary and scheduler binaries, with the shared libraries of any
// dynamically linked one. The Bazel rule runs it as a hermetic action:
//
//	mkinitramfs -init ktstr-init -test examples_test -sched ktstr=scx_ktstr -o out.cpio
package main
