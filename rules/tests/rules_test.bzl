"""Starlark tests of ktstr's loading-phase logic: profiles, gauntlet
expansion, attribute validation and budget selection, plus analysis tests
that bad attributes fail with a message naming the attribute."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts", "unittest")
load("//rules/private:gauntlet.bzl", "budget_candidates", "budget_select", "variants")
load("//rules/private:profiles.bzl", "flag_profiles", "profile_name", "validate_test")
load("//rules/private:vectors.bzl", "VECTORS")

_FLAGS = ["llc", "borrow", "steal"]
_REQUIRES = {"steal": ["llc"]}

def _profiles_test(ctx):
    env = unittest.begin(ctx)
    profiles, errors = flag_profiles(_FLAGS, _REQUIRES, ["llc"], ["borrow"])
    asserts.equals(env, [], errors)
    asserts.equals(env, ["llc", "llc+steal"], [profile_name(p) for p in profiles])
    profiles, errors = flag_profiles(_FLAGS, _REQUIRES, [], [])
    asserts.equals(env, ["default", "borrow", "llc", "borrow+llc", "llc+steal", "borrow+llc+steal"], [profile_name(p) for p in profiles])
    _, errors = flag_profiles(_FLAGS, _REQUIRES, ["turbo"], [])
    asserts.true(env, len(errors) == 1 and "required_flags: unknown flag \"turbo\"" in errors[0], str(errors))
    _, errors = flag_profiles(_FLAGS, _REQUIRES, ["llc"], ["llc"])
    asserts.true(env, "both required and excluded" in errors[0], str(errors))
    return unittest.end(env)

profiles_test = unittest.make(_profiles_test)

def _gauntlet_test(ctx):
    env = unittest.begin(ctx)
    vs = variants("T", 1, 2, 1, True, _FLAGS, _REQUIRES, ["llc"], ["borrow"])
    presets = sorted({v.preset: True for v in vs}.keys())
    asserts.equals(env, sorted(["smt-2llc", "smt-3llc", "medium-4llc", "medium-8llc", "large-4llc", "large-8llc", "near-max-llc", "max-cpu"]), presets)
    asserts.equals(env, 16, len(vs))
    asserts.equals(env, ["llc", "llc+steal"], sorted({v.profile: True for v in vs}.keys()))
    names = [v.name for v in vs]
    asserts.true(env, "T_gauntlet_smt_2llc_llc_steal" in names, str(names))

    # No constraints: every preset, one profile for EEVDF.
    asserts.equals(env, 19, len(variants("E", 1, 1, 1, False, [], {}, [], [])))
    return unittest.end(env)

gauntlet_test = unittest.make(_gauntlet_test)

def _validate(topology = {}, constraints = {}, required = [], excluded = [], duration = None):
    return validate_test(topology, constraints, _FLAGS, _REQUIRES, required, excluded, duration)

def _validation_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, [], _validate(topology = {"sockets": 2, "cores": 2, "threads": 1}, constraints = {"min_llcs": 2}))

    # 0 means the default, as in Go.
    asserts.equals(env, [], _validate(topology = {"sockets": 0, "cores": 0}, constraints = {"min_llcs": 0, "min_cpus": 0}, duration = 0))
    for got, want in [
        (_validate(topology = {"cores": -1}), "cores = -1: must be >= 0"),
        (_validate(required = ["turbo"]), "unknown flag \"turbo\""),
        (_validate(constraints = {"min_llcs": 16}), "min_llcs = 16 is above the maximum 15"),
        (_validate(topology = {"sockets": 1}, constraints = {"min_sockets": 2}), "min_sockets = 2 is above the test's own sockets = 1"),
        (_validate(topology = {"sockets": 2, "cores": 2, "threads": 1}, constraints = {"min_cpus": 8}), "min_cpus = 8 is above the test's own 4 CPUs"),
        (_validate(topology = {"threads": 1}, constraints = {"requires_smt": True}), "requires_smt = True but threads = 1"),
        (_validate(duration = -1), "duration_s = -1: must be >= 0"),
    ]:
        asserts.true(env, len([e for e in got if want in e]) == 1, "want an error containing %r, got %r" % (want, got))
    return unittest.end(env)

validation_test = unittest.make(_validation_test)

def _budget_test(ctx):
    env = unittest.begin(ctx)
    c = [
        struct(name = "a", seconds = 10, features = ["x", "y"]),
        struct(name = "b", seconds = 10, features = ["x"]),
        struct(name = "c", seconds = 5, features = ["z"]),
        struct(name = "d", seconds = 100, features = ["w", "v", "u"]),
    ]
    asserts.equals(env, ["a", "c"], budget_select(c, 20))  # a and c tie at 0.2 features/s: by name
    asserts.equals(env, ["a", "c", "d"], budget_select(c, 200))
    asserts.equals(env, [], budget_select(c, 1))
    return unittest.end(env)

budget_test = unittest.make(_budget_test)

def _vectors_test(ctx):
    """The cases internal/gauntlet's TestVectors runs against the Go model."""
    env = unittest.begin(ctx)
    for c in VECTORS["profiles"]:
        profiles, errors = flag_profiles(c["flags"] or [], c["requires"] or {}, c["required"] or [], c["excluded"] or [])
        if c["want_err"]:
            asserts.true(env, len([e for e in errors if c["want_err"] in e]) == 1, "%s: want an error containing %r, got %r" % (c["name"], c["want_err"], errors))
            continue
        asserts.equals(env, [], errors, c["name"])
        names = [profile_name(p) for p in profiles]
        if c["want_count"]:
            asserts.equals(env, c["want_count"], len(names), c["name"])
        if c["want"] != None:
            asserts.equals(env, c["want"], names, c["name"])
    for c in VECTORS["variants"]:
        vs = variants("T", c["min_sockets"] or 1, c["min_llcs"] or 1, c["min_cpus"] or 1, c["requires_smt"], c["flags"] or [], c["requires"] or {}, c["required"] or [], c["excluded"] or [])
        got = [v.name for v in vs]
        asserts.equals(env, [c["want_count"], c["want_first"], c["want_last"]], [len(got), got[0], got[-1]], c["name"])
    for c in VECTORS["budgets"]:
        vs = variants("T", 1, c["min_llcs"] or 1, 1, False, c["flags"] or [], c["requires"] or {}, [], [])
        chosen = budget_select(budget_candidates(vs, c["scheduler"], c["work_types"], c["duration_s"]), c["budget_s"])
        asserts.equals(env, c["want"] or [], chosen, c["name"])
    for c in VECTORS["validations"]:
        a = c["attrs"]
        topology = {k: a[k] for k in ["sockets", "cores", "threads", "memory_mb"]}
        constraints = {k: a[k] for k in ["min_sockets", "min_llcs", "min_cpus", "requires_smt"]}
        errors = validate_test(topology, constraints, [], {}, [], [], a["duration_s"])
        if c["want_err"]:
            asserts.true(env, len([e for e in errors if c["want_err"] in e]) == 1, "%s: want an error containing %r, got %r" % (c["name"], c["want_err"], errors))
        else:
            asserts.equals(env, [], errors, c["name"])
    return unittest.end(env)

vectors_test = unittest.make(_vectors_test)

# Analysis tests: a rule that validates its attributes the way the macro
# does, so a bad attribute's failure message can be asserted.

def _subject_impl(ctx):
    topo = {"sockets": ctx.attr.sockets or None, "cores": ctx.attr.cores, "threads": None, "memory_mb": None}
    errors = validate_test(topo, {"min_llcs": ctx.attr.min_llcs or None, "min_sockets": None, "min_cpus": None, "requires_smt": False}, _FLAGS, _REQUIRES, ctx.attr.required_flags, [], None)
    if errors:
        fail("ktstr_go_test %s: invalid attributes:\n  %s" % (ctx.label.name, "\n  ".join(errors)))
    return []

validation_subject = rule(
    implementation = _subject_impl,
    attrs = {
        "sockets": attr.int(),
        "cores": attr.int(),
        "min_llcs": attr.int(),
        "required_flags": attr.string_list(),
    },
)

def _expect_failure_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.want)
    return analysistest.end(env)

expect_failure_test = analysistest.make(
    _expect_failure_impl,
    expect_failure = True,
    attrs = {"want": attr.string()},
)

def rules_test_suite(name):
    """All of the above, as one test_suite."""
    unittest.suite(
        name + "_unit",
        profiles_test,
        gauntlet_test,
        validation_test,
        budget_test,
        vectors_test,
    )
    cases = {
        "negative_cores": ({"cores": -2}, "negative_cores: invalid attributes:\n  cores = -2: must be >= 0 (0 means default)"),
        "unknown_flag": ({"required_flags": ["turbo"]}, "unknown_flag: invalid attributes:\n  required_flags: unknown flag \"turbo\""),
        "min_above_max": ({"sockets": 1, "min_llcs": 2}, "min_above_max: invalid attributes:\n  min_llcs = 2 is above the test's own sockets = 1"),
    }
    tests = []
    for case, (attrs, want) in cases.items():
        validation_subject(name = case, tags = ["manual"], **attrs)
        expect_failure_test(name = case + "_test", target_under_test = ":" + case, want = want)
        tests.append(":" + case + "_test")
    native.test_suite(name = name, tests = tests + [":" + name + "_unit"])
