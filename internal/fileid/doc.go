// Package fileid names a file by its identity on disk (real path, size,
// modification time, inode) rather than its contents: a key for caches of
// what was derived from a large file (a kernel's symbols or struct
// layouts) that a rebuilt or re-fetched file invalidates, without hashing
// the file on every use.
package fileid
