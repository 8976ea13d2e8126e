// Command guestprog stands in for a test binary in the runner's VM tests.
// Its first argument says how to behave inside the guest: "ok" writes a
// minimal report, "hang" spins forever, "crash" panics the guest kernel
// through sysrq, "pvpanic" reports a panic to QEMU through its pvpanic
// device, "exit3" fails without a report, "busy" spins two threads for two
// seconds and then reports.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	mode := "ok"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	fmt.Println("guestprog:", mode)
	switch mode {
	case "ok":
		report := `{"test":"guestprog","workers":[],"sched_ext":{"state":"absent"}}`
		if err := os.WriteFile(os.Getenv("KTSTR_RESULT"), []byte(report), 0o644); err != nil {
			fmt.Println("guestprog:", err)
			os.Exit(1)
		}
	case "hang":
		// Spin rather than sleep: with -icount sleep=off an idle guest's
		// clock jumps ahead, so only a busy hang hangs in every TCG mode.
		x := uint64(1)
		for {
			x = x*6364136223846793005 + 1
		}
	case "crash":
		// A kernel without CONFIG_MAGIC_SYSRQ has no trigger: say so and
		// fail at once rather than wait out the test's timeout.
		if err := os.WriteFile("/proc/sysrq-trigger", []byte("c"), 0); err != nil {
			fmt.Println("guestprog: cannot crash the kernel (CONFIG_MAGIC_SYSRQ?):", err)
			os.Exit(4)
		}
		time.Sleep(time.Minute)
	case "pvpanic":
		if err := pvpanic(); err != nil {
			fmt.Println("guestprog: cannot reach the pvpanic device (CONFIG_X86_IOPL_IOPERM?):", err)
			os.Exit(4)
		}
		time.Sleep(time.Minute)
	case "exit3":
		os.Exit(3)
	case "busy":
		// Two spinning threads for two seconds, then a report.
		done := make(chan struct{})
		for range 2 {
			go func() {
				x := uint64(1)
				for start := time.Now(); time.Since(start) < 2*time.Second; {
					x = x*6364136223846793005 + 1
				}
				done <- struct{}{}
			}()
		}
		<-done
		<-done
		report := `{"test":"guestprog","workers":[],"sched_ext":{"state":"absent"}}`
		if err := os.WriteFile(os.Getenv("KTSTR_RESULT"), []byte(report), 0o644); err != nil {
			fmt.Println("guestprog:", err)
			os.Exit(1)
		}
	}
}
