"""The gauntlet's topology presets.

Generated from topology/presets.go by `go generate ./topology`; DO NOT EDIT.
Each preset has one LLC and one NUMA node per socket.
"""

PRESETS = [
    struct(name = "tiny-1llc", sockets = 1, cores = 4, threads = 1),
    struct(name = "tiny-2llc", sockets = 2, cores = 2, threads = 1),
    struct(name = "odd-3llc", sockets = 3, cores = 3, threads = 1),
    struct(name = "odd-5llc", sockets = 5, cores = 3, threads = 1),
    struct(name = "odd-7llc", sockets = 7, cores = 2, threads = 1),
    struct(name = "smt-2llc", sockets = 2, cores = 2, threads = 2),
    struct(name = "smt-3llc", sockets = 3, cores = 2, threads = 2),
    struct(name = "medium-4llc", sockets = 4, cores = 4, threads = 2),
    struct(name = "medium-8llc", sockets = 8, cores = 4, threads = 2),
    struct(name = "large-4llc", sockets = 4, cores = 16, threads = 2),
    struct(name = "large-8llc", sockets = 8, cores = 8, threads = 2),
    struct(name = "near-max-llc", sockets = 15, cores = 8, threads = 2),
    struct(name = "max-cpu", sockets = 14, cores = 9, threads = 2),
    struct(name = "medium-4llc-nosmt", sockets = 4, cores = 8, threads = 1),
    struct(name = "medium-8llc-nosmt", sockets = 8, cores = 8, threads = 1),
    struct(name = "large-4llc-nosmt", sockets = 4, cores = 32, threads = 1),
    struct(name = "large-8llc-nosmt", sockets = 8, cores = 16, threads = 1),
    struct(name = "near-max-llc-nosmt", sockets = 15, cores = 16, threads = 1),
    struct(name = "max-cpu-nosmt", sockets = 14, cores = 18, threads = 1),
]
