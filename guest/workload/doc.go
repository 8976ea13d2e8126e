// Package workload runs the worker processes of a scenario inside the VM.
//
// A worker is a separate process: the test binary re-executed with
// [EnvWorker] set, so the worker's first instruction of work already runs
// inside its cgroup. Starting is two-phase: [Start] forks the child
// directly into its cgroup (clone3 with CLONE_INTO_CGROUP) and waits until
// it reports ready; [Worker.Go] then releases it at a common start time.
// [Worker.Stop] signals it (SIGUSR1) and reads its [wire.WorkerReport]:
// work units, CPU time and run delay from schedstat, wall and off-CPU
// time, migrations, the CPUs it ran on and its longest scheduling gap.
//
// A binary that can host workers calls [MaybeRunWorker] early (the ktstr
// package does so from init), which turns the process into a worker when
// [EnvWorker] is set and returns otherwise.
package workload
