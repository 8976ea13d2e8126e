// Package scenario is the declarative language of ktstr scenarios and the
// guest-side engine that runs it.
//
// A scenario is a list of [Step]s. A step's [Op]s (add or remove a cgroup,
// set, clear or swap a cpuset, spawn or stop workers, set affinities,
// spawn host contention, move tasks) run first, then its [CgroupDef]s are
// set up (cgroups, cpusets, workers), then it holds ([HoldSpec]: a share
// of the test's duration, a fixed time, or a loop of its ops). Cpusets
// ([CpusetSpec]) and affinities ([Affinity]) are computed from the guest's
// real topology ([Topo]), so that a scenario follows every gauntlet
// preset. The types are plain data; [Engine] (Linux, in the guest) runs
// them and records a timeline of every op and step.
package scenario
