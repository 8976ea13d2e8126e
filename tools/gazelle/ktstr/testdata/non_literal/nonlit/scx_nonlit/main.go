// Command scx_nonlit is a scheduler.
package main

func main() {}
