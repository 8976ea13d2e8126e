"""ktstr_go_test: the loading-phase front end (gazelle generates its calls)."""

load(":gauntlet.bzl", "budget_candidates", "budget_select", "expand", "gauntlet_memory_mb", "variants")
load(":ktstr_test.bzl", "ktstr_test")
load(":presets.bzl", "PRESETS")
load(":profiles.bzl", "flag_profiles", "validate_test")

def _pick(*values):
    # The first value set: None and 0 both mean unset (as in Go).
    for v in values:
        if v:
            return v
    return None

def ktstr_go_test(
        name,
        go_test,
        test = None,
        kernel = "@ktstr_kernel//:kernel",
        scheduler = None,
        profiles = None,
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
        performance_mode = False,
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
      scheduler: a ktstr_scheduler target of this package, declared above
        the test (":name"): its name, binary, flags, requirements,
        profiles and default topology; replaces the scheduler_* attributes.
      profiles: the test's flag profile names, as computed in Go by
        gazelle (None: the scheduler's profiles, or computed here from
        the flags and the test's required and excluded flags).
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
      performance_mode: the test asks for performance mode (its Spec's
        PerformanceMode): its targets run alone and are never cached (a
        measurement of this host at this moment, not a function of the
        inputs), and remotely they ask for a dedicated worker.
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
    if scheduler:
        sched = _scheduler_rule(name, scheduler)
    else:
        for f, rs in scheduler_requires.items():
            for x in [f] + rs:
                if x not in scheduler_flags:
                    fail("ktstr_go_test %s: scheduler_requires: unknown flag \"%s\" (scheduler_flags: %s)" % (name, x, scheduler_flags))
        sched = struct(
            name = scheduler_name,
            binary = scheduler_binary,
            flags = scheduler_flags,
            requires = scheduler_requires,
            profiles = [],
            sockets = scheduler_sockets,
            cores = scheduler_cores,
            threads = scheduler_threads,
        )
    scheduler = sched
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
    perf_tags = []
    if performance_mode:
        perf_tags = ["exclusive", "no-cache", "ktstr-performance-mode"]

    # Remote execution: the test action (only it: the "test." exec group)
    # asks for a KVM-capable worker; --config=remote-kvm (.bazelrc) adds
    # an execution platform with the //rules:kvm constraint for them.
    props = {"test.ktstr-kvm": "required"}
    if performance_mode:
        props["test.ktstr-dedicated"] = "required"
    common.setdefault("exec_properties", props)

    ktstr_test(
        name = name,
        go_test = go_test,
        kernel = kernel,
        tags = tags + perf_tags + _resource_tags(cpus, mem),
        args = ["-test.run=^%s$$" % test],
        **dict(common, **sched_attrs)
    )
    if not gauntlet:
        return

    # The profiles: the test's own (computed by gazelle), the scheduler's
    # when the test narrows nothing, else computed here.
    if profiles == None and scheduler.profiles and not required_flags and not excluded_flags:
        profiles = scheduler.profiles
    if profiles != None:
        if not profiles:
            fail("ktstr_go_test %s: profiles: empty (leave it out, or name at least \"default\")" % name)
        vs = expand(name, min_sockets or 1, min_llcs or 1, min_cpus or 1, requires_smt, profiles)
    else:
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
            tags = tags + perf_tags + [
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
        candidates = budget_candidates(vs, scheduler.name, work_types, duration_s)
        native.test_suite(
            name = name + "_gauntlet_budget",
            tests = [":" + n for n in budget_select(candidates, budget_s)],
            tags = ["manual", "ktstr-suite"],
        )

def _scheduler_rule(test, label):
    """The ktstr_scheduler a test names, read at loading time."""
    if not label.startswith(":") or "/" in label:
        fail("ktstr_go_test %s: scheduler = \"%s\": must be a ktstr_scheduler of this package, as \":name\" (its flags and profiles are read while loading)" % (test, label))
    r = native.existing_rule(label[1:])
    if r == None:
        fail("ktstr_go_test %s: scheduler = \"%s\": no such target above this test in the BUILD file; declare the ktstr_scheduler before the tests that use it" % (test, label))
    if r["kind"] != "ktstr_scheduler":
        fail("ktstr_go_test %s: scheduler = \"%s\" is a %s, not a ktstr_scheduler" % (test, label, r["kind"]))
    requires = {k: list(v) for k, v in r["requires"].items()}
    flags = list(r["flags"])
    for f, rs in requires.items():
        for x in [f] + rs:
            if x not in flags:
                fail("ktstr_go_test %s: scheduler %s: requires: unknown flag \"%s\" (flags: %s)" % (test, label, x, flags))
    return struct(
        name = r["scheduler_name"],
        binary = label,
        flags = flags,
        requires = requires,
        profiles = list(r["profiles"]),
        sockets = r["sockets"] or None,
        cores = r["cores"] or None,
        threads = r["threads"] or None,
    )

def _resource_tags(cpus, memory_mb):
    """Local resources of a VM test, and routing to KVM executors remotely.

    Bazel schedules local tests so that these fit the host; a request above
    the host's capacity is capped by Bazel.
    """
    # exclusive-if-local: run after the build and alone, where it runs on
    # this machine; a TCG guest sharing its cores with compile actions is
    # starved, and its timing checks then fail for no fault of the
    # scheduler under test. Remote executors are not held back.
    return [
        "resources:cpu:%d" % cpus,
        "resources:memory:%d" % (memory_mb + 512),
        "requires-kvm",
        "exclusive-if-local",
    ]

def ktstr_profiles(flags, requires = {}, required_flags = [], excluded_flags = []):
    """The flag profile names for a test (for queries and docs)."""
    profiles, errors = flag_profiles(flags, requires, required_flags, excluded_flags)
    if errors:
        fail("\n".join(errors))
    return ["+".join(p) if p else "default" for p in profiles]
