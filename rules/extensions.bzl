"""Module extension for ktstr kernels.

    kernel = use_extension("@ktstr//rules:extensions.bzl", "kernel")
    kernel.host(name = "ktstr_kernel")               # $KTSTR_KERNEL or the ktstr cache
    kernel.local(name = "my_kernel", path = "/abs/vmlinux", config = "/abs/config")
    kernel.archive(name = "k", urls = [...], sha256 = "...", image = "vmlinux", config = "config")
    use_repo(kernel, "ktstr_kernel")

Each repository has a ktstr_kernel target `:kernel`, checked for sched_ext,
and, for the kernel's own example sched_ext schedulers that `ktstr kernel
scheds` builds beside a cached kernel, one target each (`:scx_simple`, ...;
for a host kernel only).
"""

load("//rules/private:kernel.bzl", "archive_kernel", "host_kernel", "local_kernel")

def _kernel_impl(mctx):
    for mod in mctx.modules:
        for t in mod.tags.host:
            host_kernel(name = t.name)
        for t in mod.tags.local:
            local_kernel(name = t.name, path = t.path, config = t.config)
        for t in mod.tags.archive:
            archive_kernel(name = t.name, urls = t.urls, sha256 = t.sha256, strip_prefix = t.strip_prefix, image = t.image, config = t.config)

kernel = module_extension(
    implementation = _kernel_impl,
    tag_classes = {
        "host": tag_class(attrs = {"name": attr.string(mandatory = True)}),
        "local": tag_class(attrs = {"name": attr.string(mandatory = True), "path": attr.string(mandatory = True), "config": attr.string()}),
        "archive": tag_class(attrs = {
            "name": attr.string(mandatory = True),
            "urls": attr.string_list(mandatory = True),
            "sha256": attr.string(mandatory = True),
            "strip_prefix": attr.string(),
            "image": attr.string(mandatory = True),
            "config": attr.string(),
        }),
    },
)
