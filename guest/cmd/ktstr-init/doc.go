// Command ktstr-init is the PID 1 of a ktstr VM: it prepares the guest,
// runs one test binary and reports to the host over the result channel.
// Build it static (CGO_ENABLED=0); the logic lives in package guest.
package main
