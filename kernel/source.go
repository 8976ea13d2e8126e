package kernel

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// SourceOptions controls DebianSource.
type SourceOptions struct {
	// Series is the kernel series ("7.2"): the package linux-source-7.2.
	Series string
	// Mirror and Suite locate the package ("" reads the machine's apt
	// sources, and sid), as in FetchOptions.
	Mirror, Suite string
	// WorkDir holds the private apt state ("" is beside the cache).
	WorkDir string
	// Progress receives progress lines (nil: none).
	Progress io.Writer
}

// downloadSourceDeb fetches Debian's linux-source-<series> package into
// dir through the private apt state and returns the .deb, its version
// and the package name. The caller holds the work folder's lock.
func downloadSourceDeb(ctx context.Context, apt sideApt, dir, series, suite, mirror string, say func(string, ...any)) (deb, version, pkg string, err error) {
	pkg = "linux-source-" + series
	say("downloading %s ...", pkg)
	if err := apt.download(ctx, dir, suite, mirror, say, pkg); err != nil {
		return "", "", pkg, err
	}
	deb, version, err = findDeb(dir, pkg)
	return deb, version, pkg, err
}

// openSideApt completes opts (sid, the machine's mirror, the apt folder
// beside the cache), takes the folder's lock and returns the private apt
// state and the unlock to call when done.
func (c Cache) openSideApt(ctx context.Context, opts *SourceOptions, say func(string, ...any)) (sideApt, func(), error) {
	if opts.Suite == "" {
		opts.Suite = "sid"
	}
	if opts.Mirror == "" {
		m, err := SystemMirror("/etc/apt")
		if err != nil {
			return sideApt{}, nil, err
		}
		opts.Mirror = m
	}
	if opts.WorkDir == "" {
		opts.WorkDir = filepath.Join(filepath.Dir(c.Dir), "apt")
	}
	if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return sideApt{}, nil, err
	}
	unlock, err := lockDir(ctx, opts.WorkDir, func() { say("waiting for another user of %s ...", opts.WorkDir) })
	if err != nil {
		return sideApt{}, nil, err
	}
	apt, err := newSideApt(opts.WorkDir, opts.Mirror, opts.Suite, "cloud-amd64")
	if err != nil {
		unlock()
		return sideApt{}, nil, err
	}
	return apt, unlock, nil
}

// download fetches packages into dir, updating the package lists once
// when the first try fails (a first use, or lists that went stale).
func (a sideApt) download(ctx context.Context, dir, suite, mirror string, say func(string, ...any), pkgs ...string) error {
	args := append([]string{"download"}, pkgs...)
	if _, _, err := a.run(ctx, dir, "apt-get", args...); err == nil {
		return nil
	}
	say("updating package lists for %s from %s ...", suite, mirror)
	if _, _, err := a.run(ctx, "", "apt-get", "update"); err != nil {
		return err
	}
	_, _, err := a.run(ctx, dir, "apt-get", args...)
	return err
}

// DebianSource unpacks the whole source tree of Debian's
// linux-source-<series> (the offline stand-in for a kernel.org tarball)
// below the cache's src folder, once per package version, and returns
// the tree and its identity ("debian linux-source-7.2 7.2.13-1").
func (c Cache) DebianSource(ctx context.Context, opts SourceOptions) (dir, id string, err error) {
	say := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "ktstr: "+format+"\n", args...)
		}
	}
	if opts.Series == "" {
		return "", "", fmt.Errorf("kernel source: no series (such as 7.2) given")
	}
	apt, unlock, err := c.openSideApt(ctx, &opts, say)
	if err != nil {
		return "", "", fmt.Errorf("kernel source: %w", err)
	}
	defer unlock()
	tmp, err := os.MkdirTemp(opts.WorkDir, "source-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	deb, version, pkg, err := downloadSourceDeb(ctx, apt, tmp, opts.Series, opts.Suite, opts.Mirror, say)
	if err != nil {
		return "", "", fmt.Errorf("kernel source: %w", err)
	}
	id = fmt.Sprintf("debian %s %s", pkg, version)
	srcRoot := filepath.Join(filepath.Dir(c.Dir), "src")
	dir = filepath.Join(srcRoot, pkg+"_"+version, pkg)
	if _, err := os.Stat(filepath.Join(dir, "Makefile")); err == nil {
		say("%s is unpacked: %s", id, dir)
		return dir, id, nil
	}
	say("unpacking %s %s ...", pkg, version)
	if _, _, err := runCommand(ctx, "", nil, "dpkg-deb", "-x", deb, filepath.Join(tmp, "deb")); err != nil {
		return "", "", fmt.Errorf("kernel source: %w", err)
	}
	tarball := filepath.Join(tmp, "deb", "usr", "src", pkg+".tar.xz")
	staging := filepath.Join(srcRoot, ".tmp-"+pkg+"_"+version)
	os.RemoveAll(staging)
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return "", "", err
	}
	say("extracting the whole tree (about a minute) ...")
	if _, _, err := runCommand(ctx, "", nil, "tar", "-xf", tarball, "-C", staging); err != nil {
		os.RemoveAll(staging)
		return "", "", fmt.Errorf("kernel source: %w", err)
	}
	final := filepath.Dir(dir)
	os.RemoveAll(final)
	if err := os.Rename(staging, final); err != nil {
		return "", "", err
	}
	return dir, id, nil
}
