"""ktstr_go_test: the loading-phase front end (gazelle generates its calls)."""

load(":gauntlet.bzl", "budget_select", "cpu_bucket", "estimated_seconds", "gauntlet_memory_mb", "variants")
load(":ktstr_test.bzl", "ktstr_test")
load(":presets.bzl", "PRESETS")
load(":profiles.bzl", "flag_profiles", "validate_test")

def _pick(*values):
    for v in values:
        if v != None:
            return v
    return None

def ktstr_go_test(
        name,
        go_test,
        test = None,
        kernel = "@ktstr_kernel//:kernel",
        scheduler_name = "eevdf",
        scheduler_binary = None,
        scheduler_flags = [],
        scheduler_requires = {},
        scheduler_sockets = None,
        scheduler_cores = None,
        scheduler_threads = None,
        sockets = None,
        cores = None,
        threads = None,
        memory_mb = None,
        min_sockets = None,
        min_llcs = None,
        min_cpus = None,
        requires_smt = False,
        required_flags = [],
        excluded_flags = [],
        duration_s = None,
        work_types = ["CpuSpin"],
        gauntlet = True,
        budget_s = 0,
        tags = [],
        **kwargs):
    """One ktstr test function: a test target, and its gauntlet.

    Targets:
      name: runs the test function `test` in a VM with its own topology.
      name_gauntlet_<preset>_<profile>: one per preset x flag profile the
        test's constraints allow; tagged manual, ktstr-gauntlet,
        ktstr-preset-<preset> and ktstr-profile-<profile>.
      name_gauntlet: a test_suite of all the variants.
      name_gauntlet_budget: with budget_s > 0, the variants that cover the
        most configuration features per estimated second within it.

    Attributes are validated here; a bad one fails loading with a message
    naming the target and the attribute.

    Args:
      name: target name.
      go_test: the go_test holding the test function.
      test: the Go test function (default: name).
      kernel: kernel image label.
      scheduler_name: the scheduler's name (its ktstr.Scheduler.Name).
      scheduler_binary: label of its binary (None: EEVDF).
      scheduler_flags: its flag names, in declaration order.
      scheduler_requires: dict flag -> the flags it requires.
      scheduler_sockets: its default topology, inherited per dimension.
      scheduler_cores: its default topology, inherited per dimension.
      scheduler_threads: its default topology, inherited per dimension.
      sockets: the test's topology (None: inherit).
      cores: the test's topology (None: inherit).
      threads: the test's topology (None: inherit).
      memory_mb: VM memory.
      min_sockets: gauntlet constraint.
      min_llcs: gauntlet constraint.
      min_cpus: gauntlet constraint.
      requires_smt: gauntlet constraint.
      required_flags: flags in every profile.
      excluded_flags: flags in no profile.
      duration_s: the test's duration (for estimates).
      work_types: the work types the test uses (for budget features).
      gauntlet: whether to expand the gauntlet.
      budget_s: time budget of the budget-selected suite (0: none).
      tags: tags of every target.
      **kwargs: passed to every test target (size, timeout, ...).
    """
    test = test or name
    for f, rs in scheduler_requires.items():
        for x in [f] + rs:
            if x not in scheduler_flags:
                fail("ktstr_go_test %s: scheduler_requires: unknown flag \"%s\" (scheduler_flags: %s)" % (name, x, scheduler_flags))
    scheduler = struct(
        name = scheduler_name,
        binary = scheduler_binary,
        flags = scheduler_flags,
        requires = scheduler_requires,
        sockets = scheduler_sockets,
        cores = scheduler_cores,
        threads = scheduler_threads,
    )
    topo = {
        "sockets": _pick(sockets, scheduler.sockets),
        "cores": _pick(cores, scheduler.cores),
        "threads": _pick(threads, scheduler.threads),
        "memory_mb": memory_mb,
    }
    constraints = {"min_sockets": min_sockets, "min_llcs": min_llcs, "min_cpus": min_cpus, "requires_smt": requires_smt}
    errors = validate_test(topo, constraints, scheduler.flags, scheduler.requires, required_flags, excluded_flags, duration_s)
    if errors:
        fail("ktstr_go_test %s: invalid attributes:\n  %s" % (name, "\n  ".join(errors)))

    s, c, t = topo["sockets"] or 1, topo["cores"] or 2, topo["threads"] or 1
    cpus = s * c * t
    mem = topo["memory_mb"] or 2048
    sched_attrs = {}
    if scheduler.binary:
        sched_attrs = {"scheduler": scheduler.binary, "scheduler_name": scheduler.name}
    common = dict(kwargs)
    common.setdefault("size", "large")

    # Remote execution: the test action (only it: the "test." exec group)
    # asks for a KVM-capable worker; --config=remote-kvm (.bazelrc) adds
    # an execution platform with the //rules:kvm constraint for them.
    common.setdefault("exec_properties", {"test.ktstr-kvm": "required"})

    ktstr_test(
        name = name,
        go_test = go_test,
        kernel = kernel,
        tags = tags + _resource_tags(cpus, mem),
        args = ["-test.run=^%s$$" % test],
        **dict(common, **sched_attrs)
    )
    if not gauntlet:
        return

    vs = variants(
        name,
        min_sockets or 1,
        min_llcs or 1,
        min_cpus or 1,
        requires_smt,
        scheduler.flags,
        scheduler.requires,
        required_flags,
        excluded_flags,
    )
    presets = {p.name: p for p in PRESETS}
    for v in vs:
        ktstr_test(
            name = v.name,
            go_test = go_test,
            kernel = kernel,
            topology = v.preset,
            profile = v.profile if scheduler.binary else "",
            args = ["-test.run=^%s$$" % test],
            tags = tags + [
                "manual",
                "ktstr-gauntlet",
                "ktstr-preset-" + v.preset,
                "ktstr-profile-" + v.profile,
            ] + _resource_tags(v.cpus, gauntlet_memory_mb(presets[v.preset], memory_mb)),
            **dict(common, **sched_attrs)
        )
    native.test_suite(
        name = name + "_gauntlet",
        tests = [":" + v.name for v in vs],
        tags = ["manual", "ktstr-suite"],
    )
    if budget_s > 0:
        candidates = [struct(
            name = v.name,
            seconds = estimated_seconds(v, duration_s or 2),
            features = [
                cpu_bucket(v.cpus),
                "llcs=%d" % v.llcs,
                "smt" if v.smt else "nosmt",
                "profile=" + v.profile,
                "sched=" + scheduler.name,
            ] + ["work=" + w for w in work_types],
        ) for v in vs]
        native.test_suite(
            name = name + "_gauntlet_budget",
            tests = [":" + n for n in budget_select(candidates, budget_s)],
            tags = ["manual", "ktstr-suite"],
        )

def _resource_tags(cpus, memory_mb):
    """Local resources of a VM test, and routing to KVM executors remotely.

    Bazel schedules local tests so that these fit the host; a request above
    the host's capacity is capped by Bazel.
    """
    return [
        "resources:cpu:%d" % cpus,
        "resources:memory:%d" % (memory_mb + 512),
        "requires-kvm",
    ]

def ktstr_profiles(flags, requires = {}, required_flags = [], excluded_flags = []):
    """The flag profile names for a test (for queries and docs)."""
    profiles, errors = flag_profiles(flags, requires, required_flags, excluded_flags)
    if errors:
        fail("\n".join(errors))
    return ["+".join(p) if p else "default" for p in profiles]
