package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/klauspost/compress/zstd"
)

const (
	zstdMagic = "\x28\xb5\x2f\xfd"
	elfMagic  = "\x7fELF"

	// zstdMaxBlock is the largest block a zstd frame may contain.
	zstdMaxBlock = 128 << 10
	// maxVmlinux bounds the decompressed size, guarding against a bogus
	// frame content size.
	maxVmlinux = 2 << 30
)

// ExtractVmlinux returns the uncompressed ELF kernel (vmlinux) inside a
// zstd-compressed bzImage (CONFIG_KERNEL_ZSTD=y). It decompresses the first
// zstd frame that yields an ELF file, starting with the payload the setup
// header points at; bytes after the frame (the bzImage appends the
// decompressed size and more code) are ignored. An image that is already
// an ELF file is returned unchanged.
func ExtractVmlinux(vmlinuz []byte) ([]byte, error) {
	if bytes.HasPrefix(vmlinuz, []byte(elfMagic)) {
		return vmlinuz, nil
	}
	offsets := zstdCandidates(vmlinuz)
	if len(offsets) == 0 {
		return nil, errors.New("extracting vmlinux: no zstd frame (magic 28 b5 2f fd) in kernel image; only zstd-compressed kernels (CONFIG_KERNEL_ZSTD=y) are supported")
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(maxVmlinux))
	if err != nil {
		return nil, fmt.Errorf("extracting vmlinux: creating zstd decoder: %w", err)
	}
	defer dec.Close()

	var failures []string
	for _, off := range offsets {
		n, err := zstdFrameLen(vmlinuz[off:])
		if err != nil {
			failures = append(failures, fmt.Sprintf("offset %d: %v", off, err))
			continue
		}
		out, err := dec.DecodeAll(vmlinuz[off:off+n], nil)
		if err != nil {
			failures = append(failures, fmt.Sprintf("offset %d: decompressing: %v", off, err))
			continue
		}
		if !bytes.HasPrefix(out, []byte(elfMagic)) {
			failures = append(failures, fmt.Sprintf("offset %d: decompressed data is not an ELF file", off))
			continue
		}
		return out, nil
	}
	return nil, fmt.Errorf("extracting vmlinux: no zstd frame decompresses to an ELF file (%s)", strings.Join(failures, "; "))
}

// zstdCandidates returns the offsets at which a zstd frame may start: the
// bzImage payload first when the setup header names one, then every
// occurrence of the zstd magic.
func zstdCandidates(img []byte) []int {
	var offsets []int
	if off, ok := bzImagePayload(img); ok && bytes.HasPrefix(img[off:], []byte(zstdMagic)) {
		offsets = append(offsets, off)
	}
	for start := 0; ; {
		i := bytes.Index(img[start:], []byte(zstdMagic))
		if i < 0 {
			break
		}
		off := start + i
		if len(offsets) == 0 || offsets[0] != off {
			offsets = append(offsets, off)
		}
		start = off + 1
	}
	return offsets
}

// bzImagePayload returns the file offset of the compressed payload of an
// x86 bzImage (boot protocol >= 2.08: payload_offset).
func bzImagePayload(img []byte) (int, bool) {
	if len(img) < 0x250 || string(img[0x202:0x206]) != "HdrS" {
		return 0, false
	}
	if binary.LittleEndian.Uint16(img[0x206:]) < 0x208 {
		return 0, false
	}
	setupSects := int(img[0x1f1])
	if setupSects == 0 {
		setupSects = 4
	}
	off := (setupSects+1)*512 + int(binary.LittleEndian.Uint32(img[0x248:]))
	if off < 0 || off >= len(img) {
		return 0, false
	}
	return off, true
}

// zstdFrameLen returns the length of the zstd frame at the start of b by
// walking its header and block headers (RFC 8878, section 3.1.1).
func zstdFrameLen(b []byte) (int, error) {
	if !bytes.HasPrefix(b, []byte(zstdMagic)) {
		return 0, errors.New("no zstd magic")
	}
	pos := 4
	if len(b) < pos+1 {
		return 0, errors.New("truncated frame header")
	}
	fhd := b[pos]
	pos++
	if fhd&0x08 != 0 {
		return 0, errors.New("reserved bit set in frame header")
	}
	singleSegment := fhd&0x20 != 0
	hasChecksum := fhd&0x04 != 0
	if !singleSegment {
		pos++ // window descriptor
	}
	pos += [4]int{0, 1, 2, 4}[fhd&0x03] // dictionary ID
	switch fhd >> 6 {
	case 0:
		if singleSegment {
			pos++
		}
	case 1:
		pos += 2
	case 2:
		pos += 4
	case 3:
		pos += 8
	}
	if pos > len(b) {
		return 0, errors.New("truncated frame header")
	}
	for {
		if pos+3 > len(b) {
			return 0, errors.New("truncated block header")
		}
		hdr := uint32(b[pos]) | uint32(b[pos+1])<<8 | uint32(b[pos+2])<<16
		pos += 3
		last := hdr&1 != 0
		size := int(hdr >> 3)
		switch (hdr >> 1) & 3 {
		case 0: // raw
		case 1: // RLE: one byte repeated size times
			size = 1
		case 2: // compressed
		default:
			return 0, errors.New("reserved block type")
		}
		if size > zstdMaxBlock {
			return 0, fmt.Errorf("block size %d exceeds the zstd maximum", size)
		}
		pos += size
		if pos > len(b) {
			return 0, errors.New("truncated block")
		}
		if last {
			break
		}
	}
	if hasChecksum {
		pos += 4
		if pos > len(b) {
			return 0, errors.New("truncated checksum")
		}
	}
	return pos, nil
}
