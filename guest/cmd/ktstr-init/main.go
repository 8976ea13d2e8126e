// Command ktstr-init is the PID 1 of a ktstr VM. Build it static
// (CGO_ENABLED=0); see package guest for what it does.
package main

import "github.com/ktstr-go/ktstr/guest"

func main() { guest.Main() }
