package kernel

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// fakeELF returns n bytes that start with the ELF magic.
func fakeELF(n int) []byte {
	b := make([]byte, n)
	copy(b, "\x7fELF\x02\x01\x01")
	r := rand.New(rand.NewPCG(1, 2))
	for i := 16; i < n; i++ {
		// Compressible but not trivially so: runs of a few random bytes.
		if i%64 < 8 {
			b[i] = byte(r.IntN(256))
		} else {
			b[i] = b[i-8]
		}
	}
	return b
}

// noMagic returns n random bytes without the zstd magic in them.
func noMagic(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	for i := bytes.Index(b, []byte(zstdMagic)); i >= 0; i = bytes.Index(b, []byte(zstdMagic)) {
		b[i] = 0
	}
	return b
}

func compress(t *testing.T, data []byte, opts ...zstd.EOption) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(data, nil)
}

func TestExtractVmlinux(t *testing.T) {
	elf := fakeELF(1 << 20) // several zstd blocks
	for _, tc := range []struct {
		name string
		opts []zstd.EOption
	}{
		{"default", nil},
		{"no checksum", []zstd.EOption{zstd.WithEncoderCRC(false)}},
		{"single segment", []zstd.EOption{zstd.WithSingleSegment(true)}},
		{"fastest", []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedFastest)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame := compress(t, elf, tc.opts...)
			// Trailing junk as in a bzImage: the decompressed size, then
			// bytes that are not zstd.
			trailer := binary.LittleEndian.AppendUint32(nil, uint32(len(elf)))
			trailer = append(trailer, noMagic(3, 4096)...)
			img := append(append(noMagic(1, 12345), frame...), trailer...)

			n, err := zstdFrameLen(img[12345:])
			if err != nil || n != len(frame) {
				t.Fatalf("zstdFrameLen = %d, %v; want %d", n, err, len(frame))
			}
			got, err := ExtractVmlinux(img)
			if err != nil {
				t.Fatalf("ExtractVmlinux: %v", err)
			}
			if !bytes.Equal(got, elf) {
				t.Fatalf("ExtractVmlinux returned %d bytes that differ from the %d-byte original", len(got), len(elf))
			}
		})
	}
}

func TestExtractVmlinuxSkipsFalseFrames(t *testing.T) {
	elf := fakeELF(300 << 10)
	// A stray magic followed by garbage, then a valid frame of non-ELF
	// data, then the real payload.
	img := noMagic(5, 1000)
	img = append(img, []byte(zstdMagic+"\x00\xff\xff\xff\xff\xff")...)
	img = append(img, noMagic(6, 100)...)
	img = append(img, compress(t, []byte(strings.Repeat("not an elf ", 1000)))...)
	img = append(img, compress(t, elf)...)
	img = append(img, noMagic(7, 64)...)
	got, err := ExtractVmlinux(img)
	if err != nil {
		t.Fatalf("ExtractVmlinux: %v", err)
	}
	if !bytes.Equal(got, elf) {
		t.Fatal("ExtractVmlinux returned the wrong payload")
	}
}

func TestExtractVmlinuxBzImageHeader(t *testing.T) {
	elf := fakeELF(200 << 10)
	const setupSects = 3
	img := noMagic(9, (setupSects+1)*512+300)
	copy(img[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(img[0x206:], 0x20f)
	img[0x1f1] = setupSects
	binary.LittleEndian.PutUint32(img[0x248:], 300)
	img = append(img, compress(t, elf)...)
	img = append(img, noMagic(10, 500)...)

	if off, ok := bzImagePayload(img); !ok || off != (setupSects+1)*512+300 {
		t.Fatalf("bzImagePayload = %d, %v", off, ok)
	}
	got, err := ExtractVmlinux(img)
	if err != nil || !bytes.Equal(got, elf) {
		t.Fatalf("ExtractVmlinux = %d bytes, %v", len(got), err)
	}
}

func TestExtractVmlinuxErrors(t *testing.T) {
	if _, err := ExtractVmlinux(noMagic(11, 5000)); err == nil || !strings.Contains(err.Error(), "no zstd frame") {
		t.Errorf("no frame: err = %v, want 'no zstd frame'", err)
	}
	notELF := append(noMagic(12, 100), compress(t, []byte(strings.Repeat("plain text ", 500)))...)
	if _, err := ExtractVmlinux(notELF); err == nil || !strings.Contains(err.Error(), "not an ELF") {
		t.Errorf("non-ELF payload: err = %v, want 'not an ELF'", err)
	}
	frame := compress(t, fakeELF(300<<10))
	truncated := append(noMagic(13, 100), frame[:len(frame)/2]...)
	if _, err := ExtractVmlinux(truncated); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated frame: err = %v, want 'truncated'", err)
	}
	elf := fakeELF(1000)
	if got, err := ExtractVmlinux(elf); err != nil || !bytes.Equal(got, elf) {
		t.Errorf("already ELF: ExtractVmlinux = %d bytes, %v; want the input", len(got), err)
	}
}
