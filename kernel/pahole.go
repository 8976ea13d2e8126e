package kernel

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// MinPahole is the oldest pahole whose BTF a sched_ext kernel can use:
// from 1.26 pahole tags kfuncs (decl_tag_kfuncs), without which the
// kernel's BTF shows kfuncs with their hidden arguments and BPF
// schedulers built for a distribution kernel fail to load ("function
// param mismatch").
const MinPahole = 126

// sidPaholePackages are what sid's pahole needs to run from a private
// folder with sid's own C library and loader.
var sidPaholePackages = []string{"pahole", "libdwarves1", "libbpf1", "libdw1t64", "libelf1t64", "libc6", "zlib1g", "libzstd1", "liblzma5", "libbz2-1.0"}

// paholeVersion is pahole's version as the kernel counts it (v1.24: 124).
func paholeVersion(ctx context.Context, pahole string) (int, error) {
	out, err := exec.CommandContext(ctx, pahole, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("%s --version: %w", pahole, err)
	}
	m := regexp.MustCompile(`v?(\d+)\.(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		return 0, fmt.Errorf("%s --version printed %q", pahole, strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major*100 + minor, nil
}

// pahole returns the pahole a build should use: the machine's when it is
// new enough, else sid's, unpacked with its libraries below the cache's
// tools folder and run through sid's loader by a wrapper script (what a
// stable distribution ships is often older than MinPahole).
func (c Cache) pahole(ctx context.Context, opts SourceOptions, say func(string, ...any)) (string, error) {
	if p, err := exec.LookPath("pahole"); err == nil {
		v, err := paholeVersion(ctx, p)
		if err == nil && v >= MinPahole {
			return p, nil
		}
		say("pahole %d.%d here is older than %d.%d: using sid's", v/100, v%100, MinPahole/100, MinPahole%100)
	}
	dir := filepath.Join(filepath.Dir(c.Dir), "tools", "pahole-sid")
	wrapper := filepath.Join(dir, "pahole")
	if v, err := paholeVersion(ctx, wrapper); err == nil && v >= MinPahole {
		return wrapper, nil
	}
	apt, unlock, err := c.openSideApt(ctx, &opts, say)
	if err != nil {
		return "", fmt.Errorf("pahole: %w", err)
	}
	defer unlock()
	tmp, err := os.MkdirTemp(opts.WorkDir, "pahole-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	say("downloading sid's pahole: %s ...", strings.Join(sidPaholePackages, " "))
	if err := apt.download(ctx, tmp, opts.Suite, opts.Mirror, say, sidPaholePackages...); err != nil {
		return "", fmt.Errorf("pahole: %w", err)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	root := filepath.Join(dir, "root")
	os.RemoveAll(dir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	for _, d := range debs {
		if _, _, err := runCommand(ctx, "", nil, "dpkg-deb", "-x", d, root); err != nil {
			return "", fmt.Errorf("pahole: %w", err)
		}
	}
	libs := filepath.Join(root, "usr", "lib", "x86_64-linux-gnu")
	script := fmt.Sprintf("#!/bin/sh\n# sid's pahole with sid's C library (ktstr kernel build)\nexec %q --library-path %q %q \"$@\"\n",
		filepath.Join(libs, "ld-linux-x86-64.so.2"), libs, filepath.Join(root, "usr", "bin", "pahole"))
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		return "", err
	}
	v, err := paholeVersion(ctx, wrapper)
	if err != nil {
		return "", fmt.Errorf("sid's pahole does not run here: %w (install pahole %d.%d or newer and put it on PATH)", err, MinPahole/100, MinPahole%100)
	}
	say("using pahole %d.%d from sid: %s", v/100, v%100, wrapper)
	return wrapper, nil
}
