// Package docblock replaces generated blocks of Markdown documents: the
// text between a begin and an end marker, so that tables in docs/ come
// from the code that defines what they list, with tests that fail when a
// document is stale.
package docblock
