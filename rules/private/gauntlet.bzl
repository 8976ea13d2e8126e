"""Gauntlet expansion: test x preset x flag profile, at loading time."""

load(":presets.bzl", "PRESETS")
load(":profiles.bzl", "flag_profiles", "profile_name")

def preset_cpus(p):
    return p.sockets * p.cores * p.threads

def preset_allowed(p, min_sockets, min_llcs, min_cpus, requires_smt):
    """Whether a preset meets a test's topology constraints."""
    if p.sockets < min_sockets or p.sockets < min_llcs:
        return False
    if requires_smt and p.threads < 2:
        return False
    return preset_cpus(p) >= min_cpus

def gauntlet_memory_mb(p, memory_mb):
    return max(preset_cpus(p) * 64, 256, memory_mb or 0)

def target_label_part(s):
    """A preset or profile name as a target name part ("llc+steal" -> "llc_steal")."""
    return s.replace("-", "_").replace("+", "_")

def variants(test_name, min_sockets, min_llcs, min_cpus, requires_smt, flags, requires, required_flags, excluded_flags):
    """The gauntlet variants of a test: a list of structs.

    Each has name (target name), preset, profile (profile name), cpus,
    llcs and smt.
    """
    profiles, errors = flag_profiles(flags, requires, required_flags, excluded_flags)
    if errors:
        fail("\n".join(errors))
    return expand(test_name, min_sockets, min_llcs, min_cpus, requires_smt, [profile_name(p) for p in profiles])

def expand(test_name, min_sockets, min_llcs, min_cpus, requires_smt, profile_names):
    """The gauntlet variants of a test over given profile names (see variants)."""
    out = []
    for p in PRESETS:
        if not preset_allowed(p, min_sockets, min_llcs, min_cpus, requires_smt):
            continue
        for pname in profile_names:
            out.append(struct(
                name = "%s_gauntlet_%s_%s" % (test_name, target_label_part(p.name), target_label_part(pname)),
                preset = p.name,
                profile = pname,
                cpus = preset_cpus(p),
                llcs = p.sockets,
                smt = p.threads > 1,
            ))
    return out

def cpu_bucket(cpus):
    if cpus <= 4:
        return "cpus<=4"
    if cpus <= 16:
        return "cpus<=16"
    if cpus <= 64:
        return "cpus<=64"
    return "cpus>64"

def estimated_seconds(v, duration_s):
    """A rough cost of one variant under KVM: boot grows with the CPUs."""
    return 5 + duration_s + v.cpus // 8

def budget_candidates(vs, scheduler_name, work_types, duration_s):
    """The budget candidates of a test's variants: name, seconds, features.

    Args:
      vs: the variants (from variants()).
      scheduler_name: the scheduler's name.
      work_types: the work types the test uses.
      duration_s: the test's duration (None or 0: 2 s).

    Returns:
      A list of structs with name, seconds and features.
    """
    return [struct(
        name = v.name,
        seconds = estimated_seconds(v, duration_s or 2),
        features = [
            cpu_bucket(v.cpus),
            "llcs=%d" % v.llcs,
            "smt" if v.smt else "nosmt",
            "profile=" + v.profile,
            "sched=" + scheduler_name,
        ] + ["work=" + w for w in (work_types or ["CpuSpin"])],
    ) for v in vs]

def budget_select(candidates, budget_s):
    """Greedy budget selection.

    Picks variants that add the most not-yet-covered configuration features
    (CPU-count bucket, LLC count, SMT, profile, scheduler, work type) per
    estimated second, until the budget is spent.

    Args:
      candidates: list of structs with name, seconds and features (list).
      budget_s: the time budget in seconds.

    Returns:
      The chosen names, in the order chosen.
    """
    covered = {}
    chosen = []
    left = list(candidates)
    spent = 0
    for _ in range(len(candidates)):
        best = None
        best_score = 0.0
        for c in left:
            if spent + c.seconds > budget_s:
                continue
            new = len([f for f in c.features if f not in covered])
            score = float(new) / c.seconds
            if new > 0 and (best == None or score > best_score or (score == best_score and c.name < best.name)):
                best, best_score = c, score
        if best == None:
            break
        chosen.append(best.name)
        spent += best.seconds
        for f in best.features:
            covered[f] = True
        left = [c for c in left if c.name != best.name]
    return chosen
