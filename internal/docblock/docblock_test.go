package docblock

import (
	"strings"
	"testing"
)

func TestReplace(t *testing.T) {
	doc := []byte("intro\n<!-- b -->\nold\n<!-- e -->\nend\n")
	got, err := Replace("d.md", doc, "<!-- b -->", "<!-- e -->", []byte("new\n"))
	if err != nil || string(got) != "intro\n<!-- b -->\nnew\n<!-- e -->\nend\n" {
		t.Errorf("Replace = %q, %v", got, err)
	}
	if Block(got, "<!-- b -->", "<!-- e -->") != "\nnew\n" {
		t.Errorf("Block = %q", Block(got, "<!-- b -->", "<!-- e -->"))
	}
	if _, err := Replace("d.md", []byte("no markers"), "<!-- b -->", "<!-- e -->", nil); err == nil || !strings.Contains(err.Error(), "d.md") {
		t.Errorf("missing markers: %v, want an error naming the file", err)
	}
}

func TestCheck(t *testing.T) {
	doc := []byte("<!-- b -->\n| `x` |\n<!-- e -->\n")
	if err := Check("d.md", doc, "<!-- b -->", "<!-- e -->", []byte("| `x` |\n"), 1, "go generate"); err != nil {
		t.Errorf("current block: %v", err)
	}
	if err := Check("d.md", doc, "<!-- b -->", "<!-- e -->", []byte("| `y` |\n"), 1, "go generate ./x"); err == nil || !strings.Contains(err.Error(), "go generate ./x") {
		t.Errorf("stale block: %v, want the command to regenerate it", err)
	}
	if err := Check("d.md", doc, "<!-- b -->", "<!-- e -->", []byte("| `x` |\n"), 2, "go generate"); err == nil || !strings.Contains(err.Error(), "want 2") {
		t.Errorf("wrong row count: %v", err)
	}
}
