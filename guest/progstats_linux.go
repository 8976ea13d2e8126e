package guest

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/cilium/ebpf"

	"github.com/ktstr-go/ktstr/guest/wire"
)

// programStats lists the BPF programs loaded in the guest with what the
// verifier processed of each (bpf_prog_info.verified_insns). In a test VM
// the only programs are the scheduler's, so no filter is needed: a
// scheduler's helper programs (syscall, tracing) count too.
func programStats() ([]wire.ProgramStats, error) {
	var out []wire.ProgramStats
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return out, fmt.Errorf("listing BPF programs after id %d: %w", id, err)
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue // unloaded meanwhile
		}
		info, err := p.Info()
		p.Close()
		if err != nil {
			return out, fmt.Errorf("BPF program %d: %w", id, err)
		}
		st := wire.ProgramStats{ID: uint32(id), Name: info.Name, Type: info.Type.String()}
		if n, ok := info.VerifiedInstructions(); ok {
			st.VerifiedInsns = n
		}
		if sz, err := info.TranslatedSize(); err == nil {
			st.Insns = sz / 8 // bytes of struct bpf_insn
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || (out[i].Name == out[j].Name && out[i].ID < out[j].ID)
	})
	return out, nil
}
