"""ktstr's Bazel rules: the one file users load.

    load("@ktstr//rules:defs.bzl", "ktstr_go_test")
"""

load("//rules/private:gauntlet.bzl", _budget_select = "budget_select")
load("//rules/private:kernel.bzl", _KtstrKernelInfo = "KtstrKernelInfo", _ktstr_kernel = "ktstr_kernel")
load("//rules/private:ktstr_test.bzl", _KtstrSchedulerInfo = "KtstrSchedulerInfo", _ktstr_scheduler = "ktstr_scheduler", _ktstr_test = "ktstr_test")
load("//rules/private:macros.bzl", _ktstr_go_test = "ktstr_go_test", _ktstr_profiles = "ktstr_profiles")
load("//rules/private:presets.bzl", _PRESETS = "PRESETS")

ktstr_go_test = _ktstr_go_test
ktstr_test = _ktstr_test
ktstr_scheduler = _ktstr_scheduler
KtstrSchedulerInfo = _KtstrSchedulerInfo
ktstr_kernel = _ktstr_kernel
ktstr_profiles = _ktstr_profiles
budget_select = _budget_select
KtstrKernelInfo = _KtstrKernelInfo
PRESETS = _PRESETS
