# shellcheck shell=bash
# Variables defined here are used by the scripts that source it.
# shellcheck disable=SC2034
# lib.sh: shared definitions for the offline Bazel setup. Sourced by the
# scripts beside it; not executable.
#
# State lives under $KTSTR_BAZEL_HOME (default ~/.cache/ktstr/bazel):
#
#   lock          flock(1) file: exclusive while setup (re)builds a
#                 component, shared while offline Bazel commands run
#   stamps/       one file per finished component, holding its recipe
#   apt/          private apt configuration and lists for Debian sid
#   debootstrap/  sid's debootstrap, unpacked (not installed)
#   sidroot/      Debian sid root with bazel-bootstrap (Bazel 7)
#   registry/     local Bazel registry, mounted at /registry
#   gomodcache/   Go module cache, mounted at /gomodcache
#   cache/        mounted at its own path inside the sid root:
#     output/     Bazel's --output_user_root: one output base per
#                 workspace, so the bazel-* symlinks resolve on the host
#     disk/       Bazel's --disk_cache, shared by every workspace
#     bazelrc     generated settings (--bazelrc)
#     locks/      one lock per workspace: one command at a time
#
# Nothing is ever mounted in the host's mount namespace: every mount is
# made inside a private namespace (unshare --mount) that disappears with
# its last process, so deleting the state is always safe (stop a kept
# Bazel server first: tools/bazel shutdown, or setup clean).

KTSTR_BAZEL_HOME=${KTSTR_BAZEL_HOME:-${HOME:?HOME is not set}/.cache/ktstr/bazel}
BZO_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

# Versions of what the setup installs. Changing one rebuilds what depends
# on it (see the recipe_* functions).
# qemu-system-x86: ktstr_go_test targets boot VMs inside the sid root.
BZO_SID_PACKAGES="bazel-bootstrap bazel-rules-shell qemu-system-x86"
BZO_RULES_GO_VERSION=0.65.0
BZO_GAZELLE_VERSION=0.53.0
# gazelle 0.53.0's go.mod requires its nested ./v2 module at this version;
# the module proxy's gazelle zip leaves the nested module out.
BZO_GAZELLE_V2_VERSION=v2.0.0-3

# Fixed paths inside the sid root; .bazelrc's --config=offline uses them.
BZO_IN_REGISTRY=/registry
BZO_IN_GOMODCACHE=/gomodcache
BZO_IN_GOROOT=/usr/local/go

bzo_log() { printf 'bazel-offline: %s\n' "$*" >&2; }
bzo_die() { printf 'bazel-offline: error: %s\n' "$*" >&2; exit 1; }

# Resolve the state paths (creating nothing), check them against the
# workspace, then create them.
bzo_init_paths() { # workspace
	KTSTR_BAZEL_HOME=$(realpath -m "$KTSTR_BAZEL_HOME")
	bzo_is_under "$KTSTR_BAZEL_HOME" "$1" &&
		bzo_die "KTSTR_BAZEL_HOME ($KTSTR_BAZEL_HOME) is inside the workspace $1: Bazel and gazelle would walk into it; put it elsewhere"
	bzo_is_under "$1" "$KTSTR_BAZEL_HOME" &&
		bzo_die "the workspace $1 is inside KTSTR_BAZEL_HOME ($KTSTR_BAZEL_HOME)"
	BZO_STAMPS=$KTSTR_BAZEL_HOME/stamps
	BZO_SIDROOT=$KTSTR_BAZEL_HOME/sidroot
	BZO_REGISTRY=$KTSTR_BAZEL_HOME/registry
	BZO_GOMODCACHE=$KTSTR_BAZEL_HOME/gomodcache
	BZO_CACHE=$KTSTR_BAZEL_HOME/cache
	BZO_LOCK=$KTSTR_BAZEL_HOME/lock
	mkdir -p "$BZO_STAMPS" "$BZO_CACHE/output" "$BZO_CACHE/disk"
}

bzo_require_root() {
	[ "$(id -u)" = 0 ] || bzo_die "the offline Bazel setup needs root (mount namespaces, debootstrap): run as root or with sudo"
	[ "$(uname -s)" = Linux ] || bzo_die "the offline Bazel setup works on Linux only"
	local tool
	for tool in unshare pivot_root mount umount flock sha256sum dpkg apt-get; do
		command -v "$tool" >/dev/null 2>&1 || bzo_die "missing $tool on this machine"
	done
}

# --- locking ------------------------------------------------------------
# The setup lock is exclusive while a component is (re)built and shared
# while Bazel runs, so a rebuild never pulls the registry or the sid root
# out from under a running build. The lock fd must not leak into the
# Bazel server (a daemon): callers close it for their children with
# "{BZO_LOCK_FD}>&-".
BZO_LOCK_FD=
bzo_lock() { # shared|exclusive
	if [ -z "$BZO_LOCK_FD" ]; then
		exec {BZO_LOCK_FD}>>"$BZO_LOCK"
	fi
	local mode=-s
	[ "$1" = exclusive ] && mode=-x
	if ! flock -n $mode "$BZO_LOCK_FD"; then
		bzo_log "waiting for the lock on $BZO_LOCK (another setup or build is running)"
		flock $mode "$BZO_LOCK_FD"
	fi
}
bzo_unlock() {
	if [ -n "$BZO_LOCK_FD" ]; then
		exec {BZO_LOCK_FD}>&-
		BZO_LOCK_FD=
	fi
}

# --- stamps -------------------------------------------------------------
# A component is up to date when its stamp holds its current recipe.
bzo_stamp_ok() { # component recipe
	[ -f "$BZO_STAMPS/$1" ] && [ "$(cat "$BZO_STAMPS/$1")" = "$2" ]
}
bzo_stamp_write() { # component recipe
	printf '%s\n' "$2" >"$BZO_STAMPS/$1.tmp"
	mv -f "$BZO_STAMPS/$1.tmp" "$BZO_STAMPS/$1"
}
bzo_stamp_clear() { rm -f "$BZO_STAMPS/$1"; }

bzo_sha256() { # files... -> one hash over their contents
	cat "$@" | sha256sum | cut -c1-64
}

# Recipes: what a component is built from. The sid root is expensive (a
# few minutes), so its recipe is only its package list; the registry and
# the module cache are cheap and follow their scripts exactly.
recipe_sidroot() { echo "sid minbase + $BZO_SID_PACKAGES"; }
recipe_registry() {
	echo "$(recipe_sidroot); rules_go $BZO_RULES_GO_VERSION; gazelle $BZO_GAZELLE_VERSION+$BZO_GAZELLE_V2_VERSION; $(bzo_sha256 "$BZO_LIB/registry.sh")"
}
recipe_modcache() { # workspace
	echo "$(recipe_registry); $(bzo_sha256 "$BZO_LIB/modcache.sh" "$1/go.mod" "$1/go.sum")"
}
# The module cache serves every workspace; each go.mod/go.sum seen gets a
# stamp of its own.
bzo_modcache_stamp() { # workspace
	echo "modcache-$(recipe_modcache "$1" | sha256sum | cut -c1-16)"
}

# The stamp name and recipe of COMPONENT (sidroot, registry, modcache) for
# WORKSPACE, and whether it is built and current.
bzo_component_stamp() {
	if [ "$1" = modcache ]; then bzo_modcache_stamp "$2"; else echo "$1"; fi
}
bzo_component_recipe() {
	case "$1" in
	sidroot) recipe_sidroot ;;
	registry) recipe_registry ;;
	modcache) recipe_modcache "$2" ;;
	*) bzo_die "unknown component $1" ;;
	esac
}
bzo_component_current() { # component workspace
	bzo_stamp_ok "$(bzo_component_stamp "$1" "$2")" "$(bzo_component_recipe "$1" "$2")"
}
bzo_setup_current() { # workspace
	bzo_component_current sidroot "$1" &&
		bzo_component_current registry "$1" &&
		bzo_component_current modcache "$1"
}

# --- host tools ---------------------------------------------------------
bzo_host_go() {
	if [ -n "${BZO_GO:-}" ]; then echo "$BZO_GO"; return; fi
	if [ -x /usr/local/go/bin/go ]; then
		BZO_GO=/usr/local/go/bin/go
	elif command -v go >/dev/null 2>&1; then
		BZO_GO=$(command -v go)
	else
		bzo_die "no Go toolchain: install Go (https://go.dev/dl) at /usr/local/go or on PATH"
	fi
	echo "$BZO_GO"
}
bzo_host_goroot() { "$(bzo_host_go)" env GOROOT; }

# go, with the state's module cache and without touching the user's
# GOPATH. GOFLAGS=-modcacherw keeps the cache deletable with rm -rf.
bzo_go() {
	GOMODCACHE=$BZO_GOMODCACHE GOFLAGS=-modcacherw GOTOOLCHAIN=local \
		GOPATH=$KTSTR_BAZEL_HOME/gopath "$(bzo_host_go)" "$@"
}

# The machine's Debian mirror: $KTSTR_DEBIAN_MIRROR, else what the apt
# sources name, parsed by the same Go code as `ktstr kernel fetch` uses
# (`ktstr kernel mirror`: deb822 and one-line files, in apt's order,
# security archives skipped).
bzo_debian_mirror() {
	if [ -n "${KTSTR_DEBIAN_MIRROR:-}" ]; then echo "$KTSTR_DEBIAN_MIRROR"; return; fi
	local go
	go=$(bzo_host_go)
	(cd "$BZO_LIB/../.." && "$go" run ./tools/ktstr kernel mirror --apt-etc "${BZO_APT_ETC:-/etc/apt}") ||
		bzo_die "no Debian mirror in ${BZO_APT_ETC:-/etc/apt}/sources.list*: set KTSTR_DEBIAN_MIRROR"
}

# --- paths --------------------------------------------------------------
bzo_is_under() { # path dir: is path dir itself or inside it?
	case "$1/" in "$2"/*) return 0 ;; esac
	return 1
}

# The workspace containing this script (tools/bazel-offline/..).
bzo_workspace() { (cd "$BZO_LIB/../.." && pwd -P); }

# Check that a host directory can be bind-mounted at the same path inside
# the sid root without hiding anything of the sid root.
bzo_check_same_path_mount() { # host_dir
	local d=$1
	case "$d" in
	/ | /bin* | /boot* | /dev* | /etc* | /lib* | /proc* | /run* | /sbin* | /sys* | /usr | /usr/bin* | /usr/lib* | /usr/sbin* | /usr/share* | /var/lib* | /var/cache* | /registry* | /gomodcache*)
		bzo_die "$d cannot be mounted at the same path inside the sid root: move it (or KTSTR_BAZEL_HOME) under a home or work directory" ;;
	esac
	if [ -e "$BZO_SIDROOT$d" ] && [ -n "$(ls -A "$BZO_SIDROOT$d" 2>/dev/null)" ]; then
		bzo_die "$BZO_SIDROOT$d exists in the sid root and is not empty: refusing to mount $d over it"
	fi
}

# Refuse to delete a directory that has something mounted inside it in
# this mount namespace (left over by an older setup or by hand).
bzo_assert_unmounted() { # dir
	local m
	m=$(awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo)
	[ -z "$m" ] || bzo_die "refusing to delete $1: mounted inside it: $m"
}

# --- Bazel command lines ------------------------------------------------
# Split Bazel arguments into the startup options before the command and
# the rest: BZO_USER_STARTUP=(...), BZO_COMMAND=name (empty if none),
# BZO_COMMAND_ARGS=(command and what follows). Startup options that take a
# value may give it as the next argument.
BZO_UNARY_STARTUP=" bazelrc command_port connect_timeout_secs digest_function experimental_cgroup_parent failure_detail_out host_jvm_args host_jvm_profile install_base invocation_policy io_nice_level local_startup_timeout_secs macos_qos_class max_idle_secs output_base output_user_root server_javabase server_jvm_out unix_digest_hash_attribute_name "
bzo_split_bazel_args() {
	BZO_USER_STARTUP=()
	BZO_COMMAND=
	BZO_COMMAND_ARGS=()
	while [ $# -gt 0 ]; do
		case "$1" in
		--*=*) BZO_USER_STARTUP+=("$1") ;;
		--*)
			BZO_USER_STARTUP+=("$1")
			if [[ "$BZO_UNARY_STARTUP" == *" ${1#--} "* ]] && [ $# -gt 1 ]; then
				shift
				BZO_USER_STARTUP+=("$1")
			fi
			;;
		-*) BZO_USER_STARTUP+=("$1") ;;
		*)
			BZO_COMMAND=$1
			BZO_COMMAND_ARGS=("$@")
			return 0
			;;
		esac
		shift
	done
}
