// Command scx_demo is a sched_ext scheduler.
package main

func main() {}
