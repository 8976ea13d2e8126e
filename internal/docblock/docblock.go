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
