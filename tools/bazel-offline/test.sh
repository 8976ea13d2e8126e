#!/usr/bin/env bash
# test.sh: tests of tools/bazel and tools/bazel-offline.
#
#   tools/bazel-offline/test.sh            unit tests, then integration tests
#   tools/bazel-offline/test.sh --unit     unit tests only (seconds)
#   tools/bazel-offline/test.sh --signals  unit tests, then only the tests
#                                          that SIGTERM tools/bazel and
#                                          tools/dev while a VM runs
#   tools/bazel-offline/test.sh --remote   unit tests, then only the
#                                          remote-execution test (a real
#                                          REAPI server on loopback)
#
# The unit tests need nothing. The integration tests run the real offline
# Bazel on this workspace: they need root and the setup (built on first
# use, several minutes), and take a few minutes themselves.

# "cond && ok || fail" is fine: ok and fail never fail. Subshells set their
# own KTSTR_BAZEL_HOME on purpose.
# shellcheck disable=SC2015,SC2030,SC2031
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
workspace=$(cd "$here/../.." && pwd -P)
wrapper=$workspace/tools/bazel
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Results go to a file: some tests run in subshells.
results=$tmp/results
: >"$results"
ok() {
	echo ok >>"$results"
	printf 'ok    %s\n' "$1"
}
fail() {
	echo FAIL >>"$results"
	printf 'FAIL  %s\n' "$1"
	[ -z "${2:-}" ] || printf '      %s\n' "$2"
}
check() { # name expected actual
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "want [$2], got [$3]"; fi
}

# ---- unit tests -----------------------------------------------------------

unit_split_args() {
	(
		# shellcheck source=lib.sh
		. "$here/lib.sh"
		bzo_split_bazel_args test //... --config=x
		check "split: no startup options" "||test|test //... --config=x" \
			"${BZO_USER_STARTUP[*]:-}||$BZO_COMMAND|${BZO_COMMAND_ARGS[*]}"
		bzo_split_bazel_args --output_base /x --nohome_rc --host_jvm_args=-Xmx1g build -c opt //:a
		check "split: startup options, one with its value apart" \
			"--output_base /x --nohome_rc --host_jvm_args=-Xmx1g||build|build -c opt //:a" \
			"${BZO_USER_STARTUP[*]}||$BZO_COMMAND|${BZO_COMMAND_ARGS[*]}"
		bzo_split_bazel_args --version
		check "split: no command" "--version||" "${BZO_USER_STARTUP[*]}||$BZO_COMMAND"
		bzo_split_bazel_args query 'deps(//a) except //b'
		check "split: arguments keep their spaces" "2|deps(//a) except //b" \
			"${#BZO_COMMAND_ARGS[@]}|${BZO_COMMAND_ARGS[1]}"
	)
}

unit_mirror() {
	local etc=$tmp/apt
	mkdir -p "$etc/sources.list.d"
	cat >"$etc/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://security.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://off.invalid/debian
Suites: bookworm
Enabled: no

Types: deb-src
URIs: http://src.invalid/debian
Suites: bookworm

Types: deb
URIs: http://apt.invalid/debian
Suites: bookworm bookworm-updates
Components: main
EOF
	(
		. "$here/lib.sh"
		check "mirror: first enabled, binary, non-security deb822 stanza" \
			"http://apt.invalid/debian" "$(BZO_APT_ETC=$etc bzo_debian_mirror)"
		check "mirror: KTSTR_DEBIAN_MIRROR wins" "http://other.invalid/d" \
			"$(KTSTR_DEBIAN_MIRROR=http://other.invalid/d BZO_APT_ETC=$etc bzo_debian_mirror)"
		rm "$etc/sources.list.d/debian.sources"
		printf '%s\n' '# comment' 'deb http://security.invalid/debian-security bookworm-security main' \
			'deb [arch=amd64 signed-by=/k.gpg] http://old.invalid/debian bookworm main' >"$etc/sources.list"
		check "mirror: one-line format, options skipped" "http://old.invalid/debian" \
			"$(BZO_APT_ETC=$etc bzo_debian_mirror)"
		rm "$etc/sources.list"
		if (BZO_APT_ETC=$etc bzo_debian_mirror) 2>/dev/null; then
			fail "mirror: none configured is an error"
		else
			ok "mirror: none configured is an error"
		fi
	)
}

unit_paths_and_stamps() {
	(
		export KTSTR_BAZEL_HOME=$tmp/state
		. "$here/lib.sh"
		bzo_init_paths "$tmp/ws"
		bzo_stamp_write comp "recipe 1"
		bzo_stamp_ok comp "recipe 1" && ok "stamp: current" || fail "stamp: current"
		bzo_stamp_ok comp "recipe 2" && fail "stamp: changed recipe is stale" || ok "stamp: changed recipe is stale"
		bzo_stamp_clear comp
		bzo_stamp_ok comp "recipe 1" && fail "stamp: cleared" || ok "stamp: cleared"
		bzo_is_under /a/b /a && bzo_is_under /a /a && ! bzo_is_under /ab /a &&
			ok "is_under" || fail "is_under"
		if (KTSTR_BAZEL_HOME=$tmp/ws/state bzo_init_paths "$tmp/ws") 2>/dev/null; then
			fail "state inside the workspace is refused"
		else
			ok "state inside the workspace is refused"
		fi
		[ ! -e "$tmp/ws/state" ] && ok "refused state is not created" || fail "refused state is not created"
		if (bzo_check_same_path_mount /usr/lib/x) 2>/dev/null; then
			fail "a workspace under /usr is refused"
		else
			ok "a workspace under /usr is refused"
		fi
	)
}

# Fake Bazel binaries for the wrapper's choice of Bazel.
fake_bazel() { # path version
	cat >"$1" <<EOF
#!/bin/sh
if [ "\$1" = --version ]; then echo "bazel $2"; exit 0; fi
echo "fake $2: \$*"
EOF
	chmod +x "$1"
}

# In a subshell: the wrapper must choose as from a user's shell, and
# tools/dev test exports KTSTR_BAZEL_OFFLINE=1 for the integration tests.
unit_wrapper() (
	unset KTSTR_BAZEL_OFFLINE
	local bin=$tmp/bin out status
	mkdir -p "$bin/v7" "$bin/v6" "$bin/self" "$bin/loop"
	fake_bazel "$bin/v7/bazel" 7.4.1
	fake_bazel "$bin/v6/bazel" 6.5.0
	fake_bazel "$bin/real" 8.0.0
	ln -s "$wrapper" "$bin/self/bazel"
	# a wrapper that calls tools/bazel without BAZEL_REAL
	printf '#!/bin/sh\nexec %s "$@"\n' "$wrapper" >"$bin/loop/bazel"
	chmod +x "$bin/loop/bazel"
	local path=/usr/bin:/bin

	out=$(BAZEL_REAL=$bin/real PATH=$bin/v7:$path "$wrapper" build //x)
	check "wrapper: BAZEL_REAL first" "fake 8.0.0: build //x" "$out"
	out=$(BAZEL_REAL='' PATH=$bin/v7:$path "$wrapper" test '//a b')
	check "wrapper: bazel >= 7 on PATH" "fake 7.4.1: test //a b" "$out"
	out=$(BAZEL_REAL='' PATH=$bin/v6:$bin/v7:$path "$wrapper" info)
	check "wrapper: bazel 6 skipped for a later bazel 7" "fake 7.4.1: info" "$out"
	status=0
	out=$(BAZEL_REAL='' KTSTR_BAZEL_OFFLINE=0 PATH=$bin/v6:$path "$wrapper" info 2>&1) || status=$?
	check "wrapper: only bazel 6, offline forbidden: exit 1" "1" "$status"
	status=0
	out=$(BAZEL_REAL='' KTSTR_BAZEL_OFFLINE=0 PATH=$bin/self:$path timeout 30 "$wrapper" info 2>&1) || status=$?
	check "wrapper: itself on PATH is skipped" "1" "$status"
	status=0
	out=$(BAZEL_REAL='' KTSTR_BAZEL_OFFLINE=0 PATH=$bin/loop:$path timeout 30 "$wrapper" info 2>&1) || status=$?
	check "wrapper: a wrapper calling back does not loop" "1" "$status"
	# No Bazel and no offline one built: a clear refusal, nothing built.
	status=0
	out=$(BAZEL_REAL='' KTSTR_BAZEL_OFFLINE='' KTSTR_BAZEL_HOME=$tmp/nobazel PATH=$bin/v6:$path timeout 30 "$wrapper" info 2>&1) || status=$?
	check "wrapper: no Bazel, offline not built: exit 1" "1" "$status"
	case "$out" in
	*"no offline Bazel built"*"tools/dev test"*) ok "wrapper: the refusal says how to get a Bazel" ;;
	*) fail "wrapper: the refusal says how to get a Bazel" "$out" ;;
	esac
	if [ -e "$tmp/nobazel" ]; then fail "wrapper: nothing built on refusal" "$(ls "$tmp/nobazel")"; else ok "wrapper: nothing built on refusal"; fi
)

# ---- integration tests ----------------------------------------------------

# Mounts of the sid root visible in this (the host's) mount namespace.
host_mounts() { awk -v r="$KTSTR_BAZEL_HOME/sidroot" 'index($5, r) == 1' /proc/self/mountinfo | wc -l; }

output_base() { echo "$KTSTR_BAZEL_HOME/cache/output/$(printf '%s' "$workspace" | md5sum | cut -c1-32)"; }
server_running() {
	local pid
	pid=$(cat "$(output_base)/server/server.pid.txt" 2>/dev/null) || return 1
	kill -0 "$pid" 2>/dev/null
}

integration() {
	export KTSTR_BAZEL_HOME=${KTSTR_BAZEL_HOME:-$HOME/.cache/ktstr/bazel}
	KTSTR_BAZEL_HOME=$(realpath -m "$KTSTR_BAZEL_HOME")
	local out status start
	echo "# integration (state $KTSTR_BAZEL_HOME)"
	"$here/setup" all

	start=$SECONDS
	out=$("$here/setup" all 2>&1)
	if [ -z "$out" ] && [ $((SECONDS - start)) -lt 15 ]; then ok "setup: rerun is a quick no-op"; else fail "setup: rerun is a quick no-op" "$out"; fi

	status=0
	"$here/enter" -- sh -c 'test -x /usr/bin/bazel && test -f /registry/bazel_registry.json && go version >/dev/null && exit 5' || status=$?
	check "enter: sid root with Bazel, registry, Go; exit status kept" "5" "$status"
	check "enter: no mounts left on the host" "0" "$(host_mounts)"

	out=$(KTSTR_BAZEL_OFFLINE=1 "$wrapper" info release 2>/dev/null)
	check "offline: bazel info runs" "development version" "$out"
	server_running && fail "offline: server stopped after the command" || ok "offline: server stopped after the command"
	check "offline: no mounts left on the host" "0" "$(host_mounts)"

	status=0
	KTSTR_BAZEL_OFFLINE=1 "$wrapper" --no_such_startup_option info >/dev/null 2>&1 || status=$?
	check "offline: exit status of a bad startup option (2)" "2" "$status"
	status=0
	KTSTR_BAZEL_OFFLINE=1 "$wrapper" test //verify:verify_test --test_arg=-test.no_such_flag >/dev/null 2>&1 || status=$?
	check "offline: exit status of a failing test (3)" "3" "$status"

	local a=0 b=0
	KTSTR_BAZEL_OFFLINE=1 "$wrapper" info execution_root >"$tmp/a" 2>&1 &
	local pa=$!
	KTSTR_BAZEL_OFFLINE=1 "$wrapper" info execution_root >"$tmp/b" 2>&1 &
	local pb=$!
	wait "$pa" || a=$?
	wait "$pb" || b=$?
	check "offline: two commands at once both succeed" "0 0" "$a $b"

	KTSTR_BAZEL_OFFLINE=1 KTSTR_BAZEL_KEEP_SERVER=1 "$wrapper" info release >/dev/null 2>&1
	server_running && ok "offline: KTSTR_BAZEL_KEEP_SERVER=1 keeps the server" || fail "offline: KTSTR_BAZEL_KEEP_SERVER=1 keeps the server"
	check "offline: kept server leaves no mounts on the host" "0" "$(host_mounts)"
	KTSTR_BAZEL_OFFLINE=1 "$wrapper" shutdown >/dev/null 2>&1
	sleep 1
	server_running && fail "offline: tools/bazel shutdown stops it" || ok "offline: tools/bazel shutdown stops it"

	KTSTR_BAZEL_OFFLINE=1 "$wrapper" build //verify >/dev/null 2>&1
	if [ -f "$workspace/bazel-bin/verify/verify.a" ]; then
		ok "offline: bazel-bin resolves on the host"
	else
		fail "offline: bazel-bin resolves on the host" "$(ls -l "$workspace/bazel-bin" 2>&1)"
	fi
}

# count PATTERN: how many processes' command lines match PATTERN.
count() { pgrep -fc -- "$1" || true; }

# wait_for_vm PID: wait until a QEMU runs, while PID (the command that
# should start it) lives; false when none came.
wait_for_vm() {
	local i
	for i in $(seq 1200); do
		[ "$(count qemu-system-x86_64)" = 0 ] || return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}

# interrupted NAME PID: SIGTERM PID once its VM runs, and check that it
# ends within a minute leaving no QEMU, no test binary (PATTERN) and no
# offline Bazel process (server, client or namespace) behind.
interrupted() {
	local name=$1 pid=$2 pattern=$3 start
	if ! wait_for_vm "$pid"; then
		fail "$name: a VM started" "$(tail -5 "$tmp/sig.log")"
		kill -KILL "$pid" 2>/dev/null || true
		return
	fi
	start=$SECONDS
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	if [ $((SECONDS - start)) -le 60 ]; then ok "$name: ends within 60s of SIGTERM"; else fail "$name: ends within 60s of SIGTERM" "took $((SECONDS - start))s"; fi
	sleep 2
	check "$name: no QEMU left" 0 "$(count qemu-system-x86_64)"
	check "$name: no test binary left" 0 "$(count "$pattern")"
	check "$name: no Bazel process left" 0 "$(count "output_user_root=$KTSTR_BAZEL_HOME/cache/output")"
	check "$name: no mounts left on the host" "0" "$(host_mounts)"
}

signals() {
	export KTSTR_BAZEL_HOME=${KTSTR_BAZEL_HOME:-$HOME/.cache/ktstr/bazel}
	KTSTR_BAZEL_HOME=$(realpath -m "$KTSTR_BAZEL_HOME")
	echo "# signals"
	if [ "$(count qemu-system-x86_64)" != 0 ]; then
		fail "signals: no QEMU runs before the test" "$(pgrep -fa qemu-system-x86_64)"
		return
	fi
	KTSTR_BAZEL_OFFLINE=1 "$wrapper" test //examples:TestSteady --nocache_test_results >"$tmp/sig.log" 2>&1 &
	interrupted "signals: tools/bazel test" $! "examples_test"
	"$workspace/tools/dev" examples >"$tmp/sig.log" 2>&1 &
	interrupted "signals: tools/dev examples" $! "examples.test"
}

# ---- remote execution -----------------------------------------------------

# The VM test targets run remotely: one under EEVDF, one under scx_ktstr.
remote_targets=(//examples:TestSteady //examples:TestSteadyKtstr)

# remote: a real REAPI server (Bazel's own RemoteWorker, remote-worker) on
# loopback, in a network namespace that has only lo; ktstr VM test targets
# run on it with --config=remote-kvm and pass; after bazel clean, the same
# command gets them back from the worker's cache. The client uses an
# output base and no disk cache of its own, so every action is run or
# fetched remotely: what a test action reads must be an input.
remote() {
	export KTSTR_BAZEL_HOME=${KTSTR_BAZEL_HOME:-$HOME/.cache/ktstr/bazel}
	KTSTR_BAZEL_HOME=$(realpath -m "$KTSTR_BAZEL_HOME")
	echo "# remote execution"
	if ! "$here/remote-worker" build; then
		fail "remote: the RemoteWorker builds"
		return
	fi
	local dir=$KTSTR_BAZEL_HOME/cache/remote-test status=0
	rm -rf "$dir"
	mkdir -p "$dir"
	unshare --net -- "$here/test.sh" --remote-inner "$dir" "$results" || status=$?
	if [ "$status" != 0 ]; then
		fail "remote: the test in its network namespace ran to the end" "exit status $status; logs in $dir"
	elif grep -q FAIL "$results"; then
		echo "# remote: logs kept in $dir"
	else
		rm -rf "$dir"
	fi
}

# remote_inner DIR: the part of remote that runs in the network namespace.
remote_inner() {
	local dir=$1 port=50051 i out status worker
	ip link set lo up
	setsid "$here/remote-worker" run --port "$port" --dir "$dir/worker" >"$dir/worker.log" 2>&1 &
	worker=$!
	# shellcheck disable=SC2064
	trap "kill -TERM -- -$worker 2>/dev/null || true; rm -rf '$tmp'" EXIT
	for i in $(seq 120); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		kill -0 "$worker" 2>/dev/null || break
		sleep 1
	done
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		fail "remote: the worker listens on 127.0.0.1:$port" "$(tail -5 "$dir/worker.log")"
		return
	fi
	ok "remote: the worker listens on 127.0.0.1:$port (after ${i}s)"
	local bazel=(env KTSTR_BAZEL_OFFLINE=1 "$wrapper" "--output_base=$dir/output")
	# toplevel: the test logs come back (remote-kvm downloads nothing).
	local flags=(--config=remote-kvm "--remote_executor=grpc://127.0.0.1:$port" --disk_cache=
		--remote_download_outputs=toplevel --noshow_progress)
	status=0
	out=$("${bazel[@]}" test "${flags[@]}" "${remote_targets[@]}" 2>&1) || status=$?
	printf '%s\n' "$out" >"$dir/run1.log"
	check "remote: first run passes" 0 "$status"
	local t
	for t in "${remote_targets[@]}"; do
		if grep -Eq "^$t +PASSED" <<<"$out"; then ok "remote: $t passed"; else fail "remote: $t passed" "$(grep -E "^$t " <<<"$out")"; fi
	done
	# Bazel's own account: "INFO: N processes: ... M remote." with the
	# test actions among them, and none run on this side ("linux-sandbox",
	# "local", "processwrapper-sandbox").
	local procs
	procs=$(grep -E '^INFO: [0-9]+ process' <<<"$out" | tail -n1)
	if grep -Eq '[0-9]+ remote[,.]' <<<"$procs" && ! grep -Eq 'linux-sandbox|local|processwrapper' <<<"$procs"; then
		ok "remote: the actions ran on the worker ($procs)"
	else
		fail "remote: the actions ran on the worker" "$procs"
	fi
	# The test actions saw the remote platform (the worker passes it on).
	local seen
	seen=$( (grep -l 'remote platform: .*ktstr-kvm=required' "$dir"/output/execroot/_main/bazel-out/*/testlogs/examples/TestSteady*/test.log 2>/dev/null || true) | wc -l)
	check "remote: both test logs name the remote platform" 2 "$seen"
	# Bazel's test XML holds a case per ktstr check (rules_go's wrapper
	# writes them from the test's verbose output).
	seen=$( (grep -l 'testcase [^>]*name="TestSteady/check/gap"' "$dir"/output/execroot/_main/bazel-out/*/testlogs/examples/TestSteady/test.xml 2>/dev/null || true) | wc -l)
	check "remote: the test XML has a case per check (TestSteady/check/gap)" 1 "$seen"
	"${bazel[@]}" clean >/dev/null 2>&1 || true
	status=0
	out=$("${bazel[@]}" test "${flags[@]}" "${remote_targets[@]}" 2>&1) || status=$?
	printf '%s\n' "$out" >"$dir/run2.log"
	check "remote: second run, after bazel clean, passes" 0 "$status"
	procs=$(grep -E '^INFO: [0-9]+ process' <<<"$out" | tail -n1)
	if grep -Eq '[0-9]+ remote cache hit' <<<"$procs" && ! grep -Eq '[0-9]+ remote[,.]' <<<"$procs"; then
		ok "remote: second run is remote cache hits ($procs)"
	else
		fail "remote: second run is remote cache hits" "$procs"
	fi
	"${bazel[@]}" shutdown >/dev/null 2>&1 || true
}

if [ "${1:-}" = --remote-inner ]; then
	results=$3
	remote_inner "$2"
	exit 0
fi

echo "# unit"
unit_split_args
unit_mirror
unit_paths_and_stamps
unit_wrapper
case "${1:-}" in
--unit) ;;
*)
	if [ "$(id -u)" != 0 ]; then
		echo "# integration skipped: needs root"
	elif [ "${1:-}" = --signals ]; then
		signals
	elif [ "${1:-}" = --remote ]; then
		remote
	else
		integration
		remote
		signals
	fi
	;;
esac
failed=$(grep -c FAIL "$results" || true)
echo "# $(grep -c ok "$results" || true) passed, $failed failed"
[ "$failed" = 0 ]
