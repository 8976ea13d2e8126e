package runner

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"
)

// console collects the guest console: it forwards everything to the log
// file and the live writer, and keeps the last lines for error messages.
type console struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
	panic   bool
	sinks   []io.Writer
	// last is when output last arrived (creation time before any).
	last time.Time
}

func newConsole(maxLines int, sinks ...io.Writer) *console {
	c := &console{max: maxLines, last: time.Now()}
	for _, s := range sinks {
		if s != nil {
			c.sinks = append(c.sinks, s)
		}
	}
	return c
}

// panicMarkers are console lines that mean the guest kernel died.
var panicMarkers = []string{"Kernel panic - not syncing", "BUG: kernel NULL pointer", "Oops:", "general protection fault"}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = time.Now()
	for _, s := range c.sinks {
		s.Write(p)
	}
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(c.partial[:i]), "\r")
		c.partial = c.partial[i+1:]
		for _, m := range panicMarkers {
			if strings.Contains(line, m) {
				c.panic = true
			}
		}
		c.lines = append(c.lines, line)
		if len(c.lines) > c.max {
			c.lines = c.lines[len(c.lines)-c.max:]
		}
	}
	return len(p), nil
}

func (c *console) tail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	lines := c.lines
	if len(c.partial) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(c.partial))
	}
	return strings.Join(lines, "\n")
}

func (c *console) panicked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.panic
}

// lastWrite is when output last arrived.
func (c *console) lastWrite() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}
