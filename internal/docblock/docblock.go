package docblock

import (
	"bytes"
	"fmt"
)

// Replace returns doc with the text between begin and end (markers kept)
// replaced by content; an error naming path when a marker is missing.
func Replace(path string, doc []byte, begin, end string, content []byte) ([]byte, error) {
	i := bytes.Index(doc, []byte(begin))
	j := bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		return nil, fmt.Errorf("%s: no %q ... %q block", path, begin, end)
	}
	var b bytes.Buffer
	b.Write(doc[:i+len(begin)])
	b.WriteString("\n")
	b.Write(content)
	b.Write(doc[j:])
	return b.Bytes(), nil
}

// Block returns the text between begin and end ("" when absent).
func Block(doc []byte, begin, end string) string {
	i := bytes.Index(doc, []byte(begin))
	j := bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		return ""
	}
	return string(doc[i+len(begin) : j])
}

// Check reports whether the block of doc between begin and end is
// content and holds rows table rows ("| `" lines): nil, or an error that
// says how to regenerate it.
func Check(path string, doc []byte, begin, end string, content []byte, rows int, regenerate string) error {
	want, err := Replace(path, doc, begin, end, content)
	if err != nil {
		return err
	}
	if !bytes.Equal(doc, want) {
		return fmt.Errorf("the generated table of %s is stale: run `%s` and commit the result", path, regenerate)
	}
	if n := bytes.Count([]byte(Block(doc, begin, end)), []byte("\n| `")); n != rows {
		return fmt.Errorf("%s lists %d rows between %q and %q, want %d", path, n, begin, end, rows)
	}
	return nil
}
