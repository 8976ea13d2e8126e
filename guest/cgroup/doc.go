// Package cgroup manages the cgroup v2 hierarchy a scenario runs in.
//
// A [Manager] owns one directory under the cgroup2 mount (by default
// /sys/fs/cgroup/ktstr). [Manager.Setup] enables the cpu and cpuset
// controllers down to it; [Manager.Create] makes a child cgroup with an
// optional cpuset; [Manager.Remove] kills what is left inside a cgroup and
// removes it. Nothing here is global: two managers on two roots do not
// interfere.
package cgroup
