// Package ksyms reads kernel symbol tables: the text of /proc/kallsyms and
// of System.map have the same "address type name" lines. The guest init
// uses it to answer the host's request for a few symbols; the host uses
// it for a System.map kept beside a kernel.
package ksyms
