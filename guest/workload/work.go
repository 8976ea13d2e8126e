package workload

import (
	"fmt"
	"strings"
)

// WorkType names what a worker does in its loop.
type WorkType string

// Work types. Only CpuSpin exists today; the others of SPEC.md follow.
const (
	// CpuSpin burns CPU in short blocks of integer arithmetic and never
	// blocks voluntarily.
	CpuSpin WorkType = "CpuSpin"
)

// Validate rejects unknown work types with the list of known ones.
func (w WorkType) Validate() error {
	switch w {
	case CpuSpin, "":
		return nil
	}
	return fmt.Errorf("unknown work type %q (known: %s)", string(w), strings.Join([]string{string(CpuSpin)}, ", "))
}

// Spec says how to start one worker.
type Spec struct {
	// Cgroup is the cgroup's name, used in reports.
	Cgroup string `json:"cgroup"`
	// CgroupDir is the cgroup's directory; the child starts inside it.
	CgroupDir string `json:"cgroup_dir"`
	// Index numbers the worker within its cgroup.
	Index int `json:"index"`
	// Work is what the worker does; "" means CpuSpin.
	Work WorkType `json:"work"`
	// AllowedCPUs is the cgroup's cpuset ("" = unrestricted), copied into
	// the report for the isolation check.
	AllowedCPUs string `json:"allowed_cpus,omitempty"`
	// Affinity, when set, is a cpulist the worker pins itself to before
	// it reports ready.
	Affinity string `json:"affinity,omitempty"`
}
