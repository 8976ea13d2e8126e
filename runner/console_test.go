package runner

import (
	"bytes"
	"strings"
	"testing"
)

func writeAll(t *testing.T, c *console, chunks ...string) {
	t.Helper()
	for _, s := range chunks {
		n, err := c.Write([]byte(s))
		if err != nil || n != len(s) {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
		}
	}
}

func TestConsoleTail(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		chunks []string
		want   string
	}{
		{"empty", 3, nil, ""},
		{"fewer lines than max", 3, []string{"a\nb\n"}, "a\nb"},
		{"keeps the last lines", 3, []string{"1\n2\n3\n4\n5\n"}, "3\n4\n5"},
		{"lines split across writes", 2, []string{"hel", "lo\nwor", "ld\n"}, "hello\nworld"},
		{"partial line at the end", 2, []string{"a\nb\nc\nunfinished"}, "b\nc\nunfinished"},
		{"carriage returns dropped", 5, []string{"dos\r\nline\r\n"}, "dos\nline"},
		{"empty lines count", 2, []string{"x\n\n\n"}, "\n"},
		{"one line kept", 1, []string{"first\n", "second\n", "third\n"}, "third"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConsole(tt.max)
			writeAll(t, c, tt.chunks...)
			if got := c.tail(); got != tt.want {
				t.Errorf("tail() = %q, want %q", got, tt.want)
			}
			if len(c.lines) > tt.max {
				t.Errorf("console holds %d lines, more than its max %d", len(c.lines), tt.max)
			}
		})
	}
}

func TestConsoleSinks(t *testing.T) {
	var log, live bytes.Buffer
	c := newConsole(1, &log, nil, &live)
	if len(c.sinks) != 2 {
		t.Fatalf("console has %d sinks, want 2 (nil dropped)", len(c.sinks))
	}
	input := []string{"boot\n", "more ", "output\r\n", "tail"}
	writeAll(t, c, input...)
	all := strings.Join(input, "")
	for name, b := range map[string]*bytes.Buffer{"log": &log, "live": &live} {
		if b.String() != all {
			t.Errorf("%s sink got %q, want everything: %q", name, b.String(), all)
		}
	}
	if got, want := c.tail(), "more output\ntail"; got != want {
		t.Errorf("tail() = %q, want %q", got, want)
	}
}

func TestConsolePanicDetection(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   bool
	}{
		{"clean boot", []string{"Linux version 6.12\n", "Run /init as init process\n"}, false},
		{"kernel panic", []string{"[    1.0] Kernel panic - not syncing: Attempted to kill init!\n"}, true},
		{"panic split across writes", []string{"Kernel pa", "nic - not sync", "ing: VFS\n"}, true},
		{"null pointer", []string{"BUG: kernel NULL pointer dereference, address: 0\n"}, true},
		{"oops", []string{"Oops: 0000 [#1] SMP\n"}, true},
		{"gpf", []string{"general protection fault, probably for non-canonical address\n"}, true},
		{"panic scrolled out of the tail", []string{"Kernel panic - not syncing: x\n", "a\n", "b\n", "c\n"}, true},
		{"the word panic alone", []string{"panic=-1 on the command line\n"}, false},
		{"case matters", []string{"kernel panic - not syncing\n"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConsole(2)
			writeAll(t, c, tt.chunks...)
			if got := c.panicked(); got != tt.want {
				t.Errorf("panicked() = %v, want %v", got, tt.want)
			}
		})
	}
}
