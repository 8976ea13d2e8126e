// Package eevdf holds ktstr tests under the kernel's default scheduler.
package eevdf
