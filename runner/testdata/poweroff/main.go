// Command poweroff is the smallest possible init: it powers the guest off
// at once. The boot benchmark uses it to time a bare boot of the kernel.
package main

import "syscall"

func main() {
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	for {
	}
}
