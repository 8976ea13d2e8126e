// Package broken has a test file being edited.
package broken
