package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
)

const regenerate = "tools/gen-bpf.sh"

// inputDigest recomputes what tools/gen-bpf.sh writes to bpf/inputs.sha256:
// the sha256 of sha256sum-style lines ("<hex>  <path>\n") for every file
// under bpf/ except bpf/inputs.sha256, sorted by path, then gen.go.
func inputDigest(dir string) (string, error) {
	var paths []string
	err := filepath.WalkDir(filepath.Join(dir, "bpf"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "bpf/inputs.sha256" {
			paths = append(paths, rel)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(paths)
	paths = append(paths, "gen.go")
	outer := sha256.New()
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(outer, "%s  %s\n", hex.EncodeToString(sum[:]), p)
	}
	return hex.EncodeToString(outer.Sum(nil)), nil
}

func TestGeneratedObjectsAreCurrent(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("bpf", "inputs.sha256"))
	if err != nil {
		t.Fatalf("%v: the BPF objects were never generated; run %s", err, regenerate)
	}
	got, err := inputDigest(".")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != got {
		t.Fatalf("the BPF inputs (bpf/ and gen.go) changed since the objects were generated: digest %s, bpf/inputs.sha256 says %s; run %s and commit its output",
			got, strings.TrimSpace(string(want)), regenerate)
	}
}

func TestGeneratedObjectsAreBPF(t *testing.T) {
	for _, obj := range []string{"ktstr_bpfel.o", "ktstrbad_bpfel.o"} {
		t.Run(obj, func(t *testing.T) {
			b, err := os.ReadFile(obj)
			if err != nil {
				t.Fatalf("%v; run %s", err, regenerate)
			}
			f, err := elf.NewFile(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s is not an ELF file: %v; run %s", obj, err, regenerate)
			}
			if f.Machine != elf.EM_BPF || f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Type != elf.ET_REL {
				t.Fatalf("%s: machine %v, class %v, data %v, type %v; want a little-endian 64-bit relocatable BPF object",
					obj, f.Machine, f.Class, f.Data, f.Type)
			}
			for _, sec := range []string{".BTF", ".struct_ops.link"} {
				if f.Section(sec) == nil {
					t.Errorf("%s has no %s section", obj, sec)
				}
			}
		})
	}
}

// TestSpecs loads both embedded objects as cilium/ebpf specs (no kernel
// needed) and checks what main relies on.
func TestSpecs(t *testing.T) {
	for name, load := range map[string]func() (*ebpf.CollectionSpec, error){
		"ktstr": loadKtstr, "ktstrbad": loadKtstrbad,
	} {
		t.Run(name, func(t *testing.T) {
			spec, err := load()
			if err != nil {
				t.Fatal(err)
			}
			ops, ok := spec.Maps[opsMapName]
			if !ok || ops.Type != ebpf.StructOpsMap {
				t.Fatalf("no struct_ops map %s", opsMapName)
			}
			if n, err := opsNameOf(spec); err != nil || n != opsName {
				t.Errorf("ops name %q (%v), want %q", n, err, opsName)
			}
			ctl, ok := spec.Maps[ctlMapName]
			if !ok || ctl.Type != ebpf.Array || ctl.KeySize != 4 || ctl.ValueSize != 8 || ctl.MaxEntries != 1 {
				t.Errorf("map %s: %+v, want a 1-entry array of u32 -> u64", ctlMapName, ctl)
			}
			if st, ok := spec.Maps[statsMapName]; !ok || st.Type != ebpf.PerCPUArray {
				t.Errorf("map %s is missing or not a per-CPU array", statsMapName)
			}
			for _, p := range []string{"ktstr_select_cpu", "ktstr_enqueue", "ktstr_dispatch", "ktstr_tick", "ktstr_init", "ktstr_exit"} {
				if ps, ok := spec.Programs[p]; !ok || ps.Type != ebpf.StructOps {
					t.Errorf("struct_ops program %s is missing", p)
				}
			}

			c := config{LLC: true, Steal: true, SliceUS: 2500, TimeoutMS: 4000, Fault: "degrade"}
			topo := llcTopology{CPULLC: []uint32{0, 0, 1, 1}, NrLLCs: 2}
			if err := configure(spec, c, topo); err != nil {
				t.Fatal(err)
			}
			var slice uint64
			if err := spec.Variables["slice_ns"].Get(&slice); err != nil || slice != 2500000 {
				t.Errorf("slice_ns %d (%v), want 2500000", slice, err)
			}
			var llcs [maxCPUs]uint32
			if err := spec.Variables["cpu_llc"].Get(&llcs); err != nil || llcs[2] != 1 || llcs[1] != 0 {
				t.Errorf("cpu_llc %v (%v)", llcs[:4], err)
			}
			var fault uint32
			if err := spec.Variables["fault"].Get(&fault); err != nil || fault != faultDegrade {
				t.Errorf("fault %d (%v), want %d", fault, err, faultDegrade)
			}
			data, m, err := opsField(spec, "timeout_ms")
			if err != nil {
				t.Fatal(err)
			}
			off := m.Offset.Bytes()
			if got := uint32(data[off]) | uint32(data[off+1])<<8 | uint32(data[off+2])<<16 | uint32(data[off+3])<<24; got != 4000 {
				t.Errorf("ops.timeout_ms = %d, want 4000", got)
			}
		})
	}
}
