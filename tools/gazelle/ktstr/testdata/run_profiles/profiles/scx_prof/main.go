// Command scx_prof is a scheduler.
package main

func main() {}
