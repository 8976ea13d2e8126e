// Command scx_renamed is a scheduler.
package main

func main() {}
