"""The ktstr_test rule: a Go test binary, a kernel and an initramfs in one
runfiles tree, run as a test that boots a VM per ktstr test.

The test executable is the Go test binary itself (rules_go's test main
handles --test_filter and writes Bazel's test XML, one test case per
subtest, so one per ktstr check). The binary is built static
(rules_go's pure mode, through a transition) because the same file runs
on the host and, packed into the initramfs, inside the guest.
"""

def _pure_impl(_settings, _attr):
    return {"@rules_go//go/config:pure": True}

_pure = transition(
    implementation = _pure_impl,
    inputs = [],
    outputs = ["@rules_go//go/config:pure"],
)

KtstrSchedulerInfo = provider(
    doc = "A scheduler of ktstr tests: its name and binary (None: none packed).",
    fields = {
        "name": "the scheduler's name (its ktstr.Scheduler.Name)",
        "binary": "the scheduler binary (a File), or None",
    },
)

def _binary_file(target):
    # A binary target's executable, or the one file of a file target (a
    # prebuilt scheduler, such as the kernel's own examples).
    info = target[DefaultInfo]
    return info.files_to_run.executable or info.files.to_list()[0]

def _ktstr_scheduler_impl(ctx):
    binary = _binary_file(ctx.attr.binary[0]) if ctx.attr.binary else None
    return [
        DefaultInfo(files = depset([binary] if binary else [])),
        KtstrSchedulerInfo(name = ctx.attr.scheduler_name, binary = binary),
    ]

ktstr_scheduler = rule(
    implementation = _ktstr_scheduler_impl,
    doc = """A scheduler, declared once per package, that the package's
ktstr_go_test targets name in their scheduler attribute. Its flags,
requirements, profiles and default topology are read by those tests at
loading time, so it must come before them in the BUILD file (gazelle
puts it there).""",
    attrs = {
        "scheduler_name": attr.string(mandatory = True, doc = "The scheduler's name (its ktstr.Scheduler.Name)."),
        "binary": attr.label(
            allow_files = True,
            cfg = _pure,
            doc = "Its binary: a binary target, or a file (a prebuilt or C scheduler). None: tests of it cannot run under Bazel.",
        ),
        "flags": attr.string_list(doc = "Its flag names, in declaration order."),
        "requires": attr.string_list_dict(doc = "flag -> the flags it requires."),
        "profiles": attr.string_list(doc = "Its flag profiles (computed by gazelle, internal/gauntlet): every valid subset of its flags. Empty: computed at loading time from flags and requires."),
        "sockets": attr.int(doc = "Its default topology, inherited by tests per dimension (0: none)."),
        "cores": attr.int(doc = "Its default topology (0: none)."),
        "threads": attr.int(doc = "Its default topology (0: none)."),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def rlocation_path(ctx, f):
    """The runfiles path of f (what the runfiles library calls rlocationpath)."""
    if f.short_path.startswith("../"):
        return f.short_path[3:]
    return ctx.workspace_name + "/" + f.short_path

def _ktstr_test_impl(ctx):
    test_bin = ctx.attr.go_test[0][DefaultInfo].files_to_run.executable
    init_bin = ctx.attr.init[0][DefaultInfo].files_to_run.executable
    kernel = ctx.file.kernel
    inputs = [test_bin, init_bin]

    initramfs = ctx.actions.declare_file(ctx.label.name + ".initramfs.cpio")
    args = ctx.actions.args()
    args.add("-init", init_bin)
    args.add("-test", test_bin)
    if ctx.attr.scheduler:
        target = ctx.attr.scheduler[0]
        if KtstrSchedulerInfo in target:
            info = target[KtstrSchedulerInfo]
            sched_name, sched_bin = info.name, info.binary
        else:
            sched_name, sched_bin = ctx.attr.scheduler_name, _binary_file(target)
        if sched_bin:
            args.add("-sched", "%s=%s" % (sched_name, sched_bin.path))
            inputs.append(sched_bin)
    args.add("-o", initramfs)
    ctx.actions.run(
        executable = ctx.executable._mkinitramfs,
        arguments = [args],
        inputs = inputs,
        outputs = [initramfs],
        mnemonic = "KtstrInitramfs",
        progress_message = "Packing the ktstr initramfs of %{label}",
    )

    exe = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = exe, target_file = test_bin, is_executable = True)

    env = {
        # rules_go's test wrapper writes Bazel's test XML from the test's
        # verbose output only: without -test.v the XML holds no test case,
        # and the per-check subtests never reach Bazel's test UI.
        "GO_TEST_WRAP_TESTV": "1",
        "KTSTR_KERNEL_RLOCATION": rlocation_path(ctx, kernel),
        "KTSTR_INITRAMFS_RLOCATION": rlocation_path(ctx, initramfs),
    }
    if ctx.attr.topology:
        env["KTSTR_TOPOLOGY"] = ctx.attr.topology
    if ctx.attr.profile:
        env["KTSTR_PROFILE"] = ctx.attr.profile
    env.update(ctx.attr.env)

    runfiles = ctx.runfiles(files = [exe, test_bin, kernel, initramfs])
    runfiles = runfiles.merge(ctx.attr.go_test[0][DefaultInfo].default_runfiles)
    return [
        DefaultInfo(executable = exe, runfiles = runfiles, files = depset([exe, initramfs])),
        RunEnvironmentInfo(environment = env),
        coverage_common.instrumented_files_info(ctx, dependency_attributes = ["go_test"]),
        OutputGroupInfo(initramfs = depset([initramfs])),
    ]

ktstr_test = rule(
    implementation = _ktstr_test_impl,
    test = True,
    doc = "Runs the ktstr tests of a Go test binary in VMs (see ktstr_go_test).",
    attrs = {
        "go_test": attr.label(
            mandatory = True,
            executable = True,
            cfg = _pure,
            doc = "The go_test whose ktstr tests run.",
        ),
        "kernel": attr.label(
            mandatory = True,
            allow_single_file = True,
            doc = "The kernel image to boot (a file or a ktstr_kernel target).",
        ),
        "init": attr.label(
            default = "//guest/cmd/ktstr-init",
            executable = True,
            cfg = _pure,
            doc = "The guest's PID 1.",
        ),
        "scheduler": attr.label(
            allow_files = True,
            cfg = _pure,
            doc = "The scheduler: a ktstr_scheduler, or its binary (a binary target, or a file: a prebuilt or C scheduler) with scheduler_name; packed with its shared libraries at /ktstr/sched/<name>.",
        ),
        "scheduler_name": attr.string(doc = "The scheduler's name (its ktstr.Scheduler.Name)."),
        "topology": attr.string(doc = "A preset name or NsNcNt: overrides the tests' topology (KTSTR_TOPOLOGY)."),
        "profile": attr.string(doc = "The flag profile (KTSTR_PROFILE)."),
        "env": attr.string_dict(doc = "More environment for the test."),
        "_mkinitramfs": attr.label(
            default = "//tools/mkinitramfs",
            executable = True,
            cfg = "exec",
        ),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)
