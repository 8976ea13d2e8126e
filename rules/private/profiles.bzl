"""Flag profiles and attribute validation, at loading time.

The same rules as the Go side (ktstr.Scheduler.Profiles): every subset of
the optional flags, required flags always in, excluded flags never, and a
set dropped when a flag's requirement is missing. Named "default" when
empty, else the sorted flags joined with "+".
"""

def profile_name(flags):
    """The name of a profile: "default" or the sorted flags joined by "+"."""
    if not flags:
        return "default"
    return "+".join(sorted(flags))

def flag_profiles(flags, requires, required_flags, excluded_flags):
    """Returns (profiles, errors): profiles are sorted lists of flag names.

    Args:
      flags: all flag names of the scheduler, in declaration order.
      requires: dict flag -> list of flags it requires.
      required_flags: flags that must be in every profile.
      excluded_flags: flags that must be in none.
    """
    errors = []
    for attr, names in [("required_flags", required_flags), ("excluded_flags", excluded_flags)]:
        for n in names:
            if n not in flags:
                errors.append("%s: unknown flag \"%s\" (the scheduler has: %s)" % (attr, n, ", ".join(flags) or "no flags"))
    for n in required_flags:
        if n in excluded_flags:
            errors.append("flag \"%s\" is both required and excluded" % n)
    if errors:
        return [], errors
    optional = [f for f in flags if f not in required_flags and f not in excluded_flags]
    if len(optional) > 12:
        return [], ["%d optional flags make too many profiles: exclude some" % len(optional)]
    profiles = []
    for mask in range(1 << len(optional)):
        chosen = list(required_flags)
        for i, f in enumerate(optional):
            if mask & (1 << i):
                chosen.append(f)
        ok = True
        for f in chosen:
            for r in requires.get(f, []):
                if r not in chosen:
                    ok = False
        if ok:
            profiles.append(sorted(chosen))
    if not profiles:
        return [], ["no flag profile satisfies the requirements of required_flags %s" % required_flags]

    # By size, then name, like the Go side.
    keyed = sorted([(len(p), profile_name(p), p) for p in profiles])
    return [k[2] for k in keyed], []

def _set(v):
    return v if v and v > 0 else None

def _nonnegative(errors, attr, value):
    # As in Go (ktstr.Spec.Validate): 0 means the default, like None.
    if value != None and value < 0:
        errors.append("%s = %d: must be >= 0 (0 means default)" % (attr, value))

def validate_test(topology, constraints, scheduler_flags, requires, required_flags, excluded_flags, duration_s):
    """Returns the list of errors of a ktstr test's attributes ([] if valid).

    Args:
      topology: dict with sockets, cores, threads, memory_mb (None = unset).
      constraints: dict with min_sockets, min_llcs, min_cpus, requires_smt.
      scheduler_flags: the scheduler's flag names.
      requires: dict flag -> required flags.
      required_flags: the test's required flags.
      excluded_flags: the test's excluded flags.
      duration_s: the test's duration.
    """
    errors = []
    for attr in ["sockets", "cores", "threads", "memory_mb"]:
        _nonnegative(errors, attr, topology.get(attr))
    for attr in ["min_sockets", "min_llcs", "min_cpus"]:
        _nonnegative(errors, attr, constraints.get(attr))
    _nonnegative(errors, "duration_s", duration_s)

    # From here on 0 (the default) is unset, as None is; a negative value
    # has its error already.
    sockets, cores, threads = _set(topology.get("sockets")), _set(topology.get("cores")), _set(topology.get("threads"))
    constraints = {k: (_set(v) if type(v) == "int" else v) for k, v in constraints.items()}
    if sockets and cores and threads and sockets * cores * threads > 252:
        errors.append("topology %ds%dc%dt has %d CPUs: at most 252" % (sockets, cores, threads, sockets * cores * threads))

    # A minimum above what any topology can offer, or above the test's own
    # topology, can never be met.
    for attr, limit in [("min_sockets", 15), ("min_llcs", 15), ("min_cpus", 252)]:
        v = constraints.get(attr)
        if v != None and v > limit:
            errors.append("%s = %d is above the maximum %d of any preset" % (attr, v, limit))
    if sockets:
        for attr in ["min_sockets", "min_llcs"]:
            v = constraints.get(attr)
            if v != None and v > sockets:
                errors.append("%s = %d is above the test's own sockets = %d" % (attr, v, sockets))
    if sockets and cores and threads:
        v = constraints.get("min_cpus")
        if v != None and v > sockets * cores * threads:
            errors.append("min_cpus = %d is above the test's own %d CPUs" % (v, sockets * cores * threads))
    if constraints.get("requires_smt") and threads != None and threads < 2:
        errors.append("requires_smt = True but threads = %d" % threads)
    _, perrs = flag_profiles(scheduler_flags, requires, required_flags, excluded_flags)
    return errors + perrs
