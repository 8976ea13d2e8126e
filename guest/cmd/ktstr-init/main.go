package main

import "github.com/ktstr-go/ktstr/guest"

func main() { guest.Main() }
