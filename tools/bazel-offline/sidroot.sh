# shellcheck shell=bash
# sidroot.sh: build the Debian sid root that runs Bazel. Sourced by setup.
#
# Debian sid's bazel-bootstrap is the only Bazel >= 7 these machines can
# install, and it needs sid's userland (glibc 2.38+). Nothing is installed
# on the host: sid's debootstrap is unpacked under the state directory,
# the apt configuration for sid is a private one, and the packages go into
# the sid root only.

# apt-get with a private configuration for Debian sid.
bzo_sid_apt() {
	local dir=$KTSTR_BAZEL_HOME/apt
	apt-get \
		-o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$dir/lists" -o Dir::State::Status="$dir/status" \
		-o Dir::Cache="$dir/cache" -o Dir::Cache::archives="$dir/cache/archives" \
		-o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false \
		-o APT::Sandbox::User=root -q "$@"
}

# Run a command chrooted into a (possibly unfinished) sid root, with /proc,
# /dev and /sys mounted in a private mount namespace.
bzo_sid_chroot() { # root command...
	local root=$1
	shift
	# shellcheck disable=SC2016  # expanded by the inner bash
	unshare --mount --propagation private -- /bin/bash -euc '
		root=$1; shift
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		mount --rbind /sys "$root/sys"
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' _ "$root" "$@"
}

build_sidroot() {
	local mirror apt_dir=$KTSTR_BAZEL_HOME/apt new=$KTSTR_BAZEL_HOME/sidroot.new
	command -v wget >/dev/null 2>&1 || bzo_die "debootstrap needs wget: apt-get install wget"
	mirror=$(bzo_debian_mirror)
	bzo_log "building the Debian sid root (a few minutes; mirror from the apt sources)"

	# 1. sid's debootstrap, unpacked, so it knows how to bootstrap sid.
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	: >"$apt_dir/status"
	printf 'deb %s sid main\n' "$mirror" >"$apt_dir/sources.list"
	bzo_sid_apt update >/dev/null
	local dl=$KTSTR_BAZEL_HOME/debootstrap
	rm -rf "$dl"
	mkdir -p "$dl/deb"
	(cd "$dl/deb" && bzo_sid_apt download debootstrap >/dev/null)
	dpkg-deb -x "$dl"/deb/debootstrap_*.deb "$dl/root"

	# 2. A minbase sid root, built beside the old one and moved into place
	#    only when complete.
	bzo_assert_unmounted "$new"
	rm -rf "$new"
	DEBOOTSTRAP_DIR=$dl/root/usr/share/debootstrap \
		"$dl/root/usr/sbin/debootstrap" --variant=minbase sid "$new" "$mirror" \
		>"$KTSTR_BAZEL_HOME/debootstrap.log" 2>&1 ||
		bzo_die "debootstrap failed; see $KTSTR_BAZEL_HOME/debootstrap.log"

	# 3. Bazel inside it. The mirror serves a frozen sid snapshot.
	printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' \
		>"$new/etc/apt/apt.conf.d/99ktstr-frozen-mirror"
	cp /etc/resolv.conf "$new/etc/resolv.conf"
	bzo_sid_chroot "$new" /bin/sh -ec "
		apt-get -q update >/dev/null
		apt-get -q -y install --no-install-recommends $BZO_SID_PACKAGES >/dev/null
		apt-get clean"
	[ -x "$new/usr/bin/bazel" ] || bzo_die "bazel-bootstrap did not install /usr/bin/bazel in the sid root"

	# 4. Mount points and the host's CA bundle (TLS goes through an
	#    intercepting proxy on some machines).
	mkdir -p "$new/.oldroot" "$new$BZO_IN_REGISTRY" "$new$BZO_IN_GOMODCACHE" "$new$BZO_IN_GOROOT" "$new/etc/ssl/certs"
	cp /etc/ssl/certs/ca-certificates.crt "$new/etc/ssl/certs/ca-certificates.crt"

	bzo_assert_unmounted "$BZO_SIDROOT"
	rm -rf "$BZO_SIDROOT"
	mv "$new" "$BZO_SIDROOT"
	bzo_log "sid root ready: $(bzo_sid_bazel_version), $(du -sh --one-file-system "$BZO_SIDROOT" | cut -f1)"
}

# The Bazel version in the sid root (Debian's build is unstamped, so
# `bazel --version` cannot tell; the package records it).
bzo_sid_bazel_version() {
	local label=$BZO_SIDROOT/usr/share/bazel/build-label.txt
	if [ -f "$label" ]; then echo "Bazel $(cat "$label")"; else echo "Bazel (unknown version)"; fi
}
