"""Kernels for ktstr tests: a rule wrapping an image and its config, and
repository rules for the module extension (rules/extensions.bzl)."""

_SCHED_EXT = "CONFIG_SCHED_CLASS_EXT=y"

KtstrKernelInfo = provider(
    doc = "A kernel image for ktstr VMs.",
    fields = {
        "image": "File: the image QEMU boots (vmlinux or bzImage)",
        "config": "File or None: its kconfig",
        "sched_ext": "bool: whether the config was required to have sched_ext",
    },
)

def _ktstr_kernel_impl(ctx):
    outputs = []
    if ctx.file.config and ctx.attr.require_sched_ext:
        # A validation action: the build fails when the config lacks
        # sched_ext, naming the target.
        stamp = ctx.actions.declare_file(ctx.label.name + ".sched_ext.ok")
        ctx.actions.run_shell(
            inputs = [ctx.file.config],
            outputs = [stamp],
            command = 'grep -qx "{want}" "$1" || {{ echo "ktstr_kernel {label}: $1 lacks {want}: sched_ext schedulers cannot run on it" >&2; exit 1; }}; touch "$2"'.format(want = _SCHED_EXT, label = ctx.label),
            arguments = [ctx.file.config.path, stamp.path],
            mnemonic = "KtstrKernelCheck",
        )
        outputs.append(stamp)
    return [
        DefaultInfo(files = depset([ctx.file.image])),
        KtstrKernelInfo(image = ctx.file.image, config = ctx.file.config, sched_ext = ctx.attr.require_sched_ext),
        OutputGroupInfo(_validation = depset(outputs)),
    ]

ktstr_kernel = rule(
    implementation = _ktstr_kernel_impl,
    doc = "A kernel image (and its config) for ktstr tests; checks sched_ext.",
    attrs = {
        "image": attr.label(mandatory = True, allow_single_file = True),
        "config": attr.label(allow_single_file = True),
        "require_sched_ext": attr.bool(default = True),
    },
)

_BUILD = """\
load("@ktstr//rules:defs.bzl", "ktstr_kernel")

ktstr_kernel(
    name = "kernel",
    image = "{image}",
    config = {config},
    visibility = ["//visibility:public"],
)
"""

def _check_config(rctx, config, what):
    if config == None:
        return
    if _SCHED_EXT not in rctx.read(config).splitlines():
        fail("ktstr kernel %s: %s lacks %s; ktstr needs a sched_ext kernel (only Debian sid's are built with it: `go run github.com/ktstr-go/ktstr/tools/ktstr kernel fetch`)" % (rctx.attr.name, what, _SCHED_EXT))

# The kernel's own example sched_ext schedulers (tools/sched_ext), which
# `ktstr kernel scheds` builds beside a cached kernel.
_KERNEL_SCHEDS = ["scx_central", "scx_cpu0", "scx_flatcg", "scx_pair", "scx_qmap", "scx_sdt", "scx_simple", "scx_userland"]

_SCHED_FILE = """
exports_files(["sched_ext/{name}"], visibility = ["//visibility:public"])

alias(
    name = "{name}",
    actual = "sched_ext/{name}",
    visibility = ["//visibility:public"],
)
"""

_SCHED_MISSING = """
genrule(
    name = "{name}",
    outs = ["missing/{name}"],
    cmd = "echo 'ktstr kernel {repo}: {name} is not built for this kernel: run `go run github.com/ktstr-go/ktstr/tools/ktstr kernel scheds`, then `bazel fetch --force @{repo}//:all`' >&2; exit 1",
    visibility = ["//visibility:public"],
)
"""

def _write_build(rctx, image, config, scheds_dir = None):
    build = _BUILD.format(image = image, config = '"%s"' % config if config else "None")
    built = []
    if scheds_dir:
        record = scheds_dir.get_child("build.json")
        if hasattr(rctx, "watch"):
            rctx.watch(record)  # refetch when `ktstr kernel scheds` (re)builds
        if record.exists:
            built = json.decode(rctx.read(record)).get("schedulers", [])
    for name in sorted(_KERNEL_SCHEDS + [b for b in built if b not in _KERNEL_SCHEDS]):
        if name in built and scheds_dir.get_child(name).exists:
            rctx.symlink(scheds_dir.get_child(name), "sched_ext/" + name)
            build += _SCHED_FILE.format(name = name)
        else:
            build += _SCHED_MISSING.format(name = name, repo = rctx.attr.name)
    rctx.file("BUILD.bazel", build)

def _host_kernel_impl(rctx):
    """The kernel ktstr resolves on this machine: $KTSTR_KERNEL, else the
    newest kernel in the ktstr cache."""
    tried = []
    path = rctx.getenv("KTSTR_KERNEL")
    if path:
        tried.append("$KTSTR_KERNEL=" + path)
    else:
        cache = rctx.getenv("KTSTR_CACHE_DIR")
        if cache:
            cache = cache + "/kernels"
        else:
            base = rctx.getenv("XDG_CACHE_HOME") or (rctx.getenv("HOME", "") + "/.cache")
            cache = base + "/ktstr/kernels"
        tried.append("the ktstr cache " + cache)
        entries = rctx.path(cache).readdir() if rctx.path(cache).exists else []
        newest, stamp = None, ""
        for e in entries:
            meta = e.get_child("metadata.json")
            if not meta.exists:
                continue
            fetched = json.decode(rctx.read(meta)).get("fetched_at", "")
            if fetched > stamp:
                newest, stamp = e, fetched
        if newest:
            img = newest.get_child("vmlinux")
            path = str(img if img.exists else newest.get_child("vmlinuz"))
    if not path or not rctx.path(path).exists:
        fail("ktstr kernel %s: no kernel found (tried %s): run `go run github.com/ktstr-go/ktstr/tools/ktstr kernel fetch` or set KTSTR_KERNEL" % (rctx.attr.name, ", ".join(tried)))
    rctx.symlink(path, "image")
    config = None
    for cand in [rctx.path(path).dirname.get_child("config")]:
        if cand.exists:
            rctx.symlink(cand, "config")
            config = "config"
            _check_config(rctx, cand, str(cand))
    _write_build(rctx, "image", config, rctx.path(path).dirname.get_child("sched_ext"))

host_kernel = repository_rule(
    implementation = _host_kernel_impl,
    environ = ["KTSTR_KERNEL", "KTSTR_CACHE_DIR", "XDG_CACHE_HOME", "HOME"],
    local = True,
    doc = "The kernel ktstr resolves on this machine.",
)

def _local_kernel_impl(rctx):
    rctx.symlink(rctx.attr.path, "image")
    config = None
    if rctx.attr.config:
        rctx.symlink(rctx.attr.config, "config")
        _check_config(rctx, rctx.path(rctx.attr.config), rctx.attr.config)
        config = "config"
    _write_build(rctx, "image", config)

local_kernel = repository_rule(
    implementation = _local_kernel_impl,
    attrs = {"path": attr.string(mandatory = True), "config": attr.string()},
    local = True,
    doc = "A kernel image at a local path.",
)

def _archive_kernel_impl(rctx):
    rctx.download_and_extract(
        url = rctx.attr.urls,
        sha256 = rctx.attr.sha256,
        stripPrefix = rctx.attr.strip_prefix,
        output = "archive",
    )
    image = "archive/" + rctx.attr.image
    if not rctx.path(image).exists:
        fail("ktstr kernel %s: the archive has no %s" % (rctx.attr.name, rctx.attr.image))
    config = None
    if rctx.attr.config:
        config = "archive/" + rctx.attr.config
        _check_config(rctx, rctx.path(config), rctx.attr.config)
    _write_build(rctx, image, config)

archive_kernel = repository_rule(
    implementation = _archive_kernel_impl,
    attrs = {
        "urls": attr.string_list(mandatory = True),
        "sha256": attr.string(mandatory = True),
        "strip_prefix": attr.string(),
        "image": attr.string(mandatory = True, doc = "path of the image in the archive"),
        "config": attr.string(doc = "path of the kconfig in the archive"),
    },
    doc = "A kernel from an archive with its sha256 (the URL is the user's).",
)
