# shellcheck shell=bash
# registry.sh: build the local Bazel registry (BCR layout, file://) that
# --config=offline points Bazel at. Sourced by setup.
#
# What the registry serves:
#   rules_go, gazelle  real sources, downloaded through the Go module proxy
#                      (the only source of them these machines can reach)
#   package_metadata   a minimal implementation of what rules_go and
#                      gazelle load from it
#   buildozer          built from source (for `bazel mod tidy`)
#   stubs              modules the dependency graph names but this build
#                      never loads (protobuf, zlib, apple_support)
#   placeholders       versions some module asks for but resolution never
#                      selects (a higher version wins); only their
#                      MODULE.bazel is read
# plus, outside the registry proper:
#   overrides/bazel_features  Debian's bazel_features, patched: too old for
#                      rules_go 0.65, and blind to the Bazel version (used
#                      with --override_module)
#   downloader.cfg     blocks every download (--experimental_downloader_config)
# The other modules rules_go and gazelle need (skylib, platforms, rules_cc,
# rules_java, rules_license, rules_python, rules_proto, rules_shell) are
# Debian's, in the sid root's /usr/share/bazel, through --override_module.

# Path of module@version in the module cache (downloaded if missing).
bzo_go_module_dir() {
	local tmp dir
	tmp=$(mktemp -d)
	dir=$(cd "$tmp" && bzo_go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	rm -rf "$tmp"
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		bzo_die "could not download $1 through the Go module proxy"
	fi
	echo "$dir"
}

# Registry under construction; set by build_registry.
BZO_REG=

# reg_add NAME VERSION SRC_DIR: register SRC_DIR (under $BZO_REG/src) as
# module NAME@VERSION; its MODULE.bazel is the registry's copy too.
reg_add() {
	local name=$1 version=$2 src=$3
	[ -f "$BZO_REG/src/$src/MODULE.bazel" ] || bzo_die "registry: $src has no MODULE.bazel"
	mkdir -p "$BZO_REG/modules/$name/$version"
	cp "$BZO_REG/src/$src/MODULE.bazel" "$BZO_REG/modules/$name/$version/MODULE.bazel"
	printf '{"type": "local_path", "path": "%s"}\n' "$src" >"$BZO_REG/modules/$name/$version/source.json"
}

# reg_copy_go_module NAME VERSION GO_MODULE@VERSION: copy a Go module's
# sources into the registry as Bazel module NAME@VERSION.
reg_copy_go_module() {
	local name=$1 version=$2 dir dest=$BZO_REG/src/$1-$2
	dir=$(bzo_go_module_dir "$3")
	cp -R "$dir" "$dest"
	chmod -R u+w "$dest"
	echo "$dest"
}

# The module proxy's zips carry no file modes: make scripts executable.
reg_restore_exec_bits() { # dir
	find "$1" -type f -size +1c -exec sh -c '
		for f; do [ "$(head -c2 "$f")" = "#!" ] && chmod +x "$f"; done; true' _ {} +
}

# Upstream MODULE.bazel files say version = "" (the Bazel Central Registry
# stamps the release); stamp ours likewise.
reg_stamp_version() { # MODULE.bazel version
	sed -i -E '0,/^( *)version = "",?$/s//\1version = "'"$2"'",/' "$1"
	grep -q "version = \"$2\"" "$1" || bzo_die "could not stamp version $2 into $1"
}

# A module that exists only to satisfy the dependency graph.
reg_stub() { # name version [comment]
	local dir=$BZO_REG/src/$1-$2
	mkdir -p "$dir"
	printf 'module(name = "%s", version = "%s")\n' "$1" "$2" >"$dir/MODULE.bazel"
	printf '# %s\n' "${3:-stub: this module is never built offline}" >"$dir/BUILD.bazel"
	reg_add "$1" "$2" "$1-$2"
}

reg_rules_go() {
	local d
	d=$(reg_copy_go_module rules_go "$BZO_RULES_GO_VERSION" "github.com/bazelbuild/rules_go@v$BZO_RULES_GO_VERSION")
	reg_stamp_version "$d/MODULE.bazel" "$BZO_RULES_GO_VERSION"
	reg_restore_exec_bits "$d"
	reg_add rules_go "$BZO_RULES_GO_VERSION" "rules_go-$BZO_RULES_GO_VERSION"
}

reg_gazelle() {
	local d v2
	d=$(reg_copy_go_module gazelle "$BZO_GAZELLE_VERSION" "github.com/bazelbuild/bazel-gazelle@v$BZO_GAZELLE_VERSION")
	# Graft the nested v2 module (go.work uses ./v2) that the zip leaves out.
	v2=$(bzo_go_module_dir "github.com/bazel-contrib/bazel-gazelle/v2@$BZO_GAZELLE_V2_VERSION")
	rm -rf "$d/v2"
	cp -R "$v2" "$d/v2"
	chmod -R u+w "$d/v2"
	# internal/go_repository_tools_srcs.bzl lists //v2:go.sum, which the v2
	# zip does not have (v2 needs no other module).
	[ -f "$d/v2/go.sum" ] || : >"$d/v2/go.sum"
	reg_stamp_version "$d/MODULE.bazel" "$BZO_GAZELLE_VERSION"
	reg_restore_exec_bits "$d"
	# The graft must match: build what go_repository_tools builds, the way
	# it does (in the go.work workspace of gazelle's directory).
	(cd "$d" && bzo_go build \
		github.com/bazel-contrib/bazel-gazelle/v2/cmd/gazelle \
		github.com/bazelbuild/bazel-gazelle/cmd/fetch_repo \
		github.com/bazelbuild/bazel-gazelle/cmd/generate_repo_config) ||
		bzo_die "gazelle $BZO_GAZELLE_VERSION does not build with v2 $BZO_GAZELLE_V2_VERSION"
	reg_add gazelle "$BZO_GAZELLE_VERSION" "gazelle-$BZO_GAZELLE_VERSION"
}

reg_package_metadata() {
	local d=$BZO_REG/src/package_metadata-0.0.5
	mkdir -p "$d/providers" "$d/rules"
	echo 'module(name = "package_metadata", version = "0.0.5")' >"$d/MODULE.bazel"
	: >"$d/BUILD.bazel"
	: >"$d/providers/BUILD.bazel"
	: >"$d/rules/BUILD.bazel"
	cat >"$d/providers/package_metadata_info.bzl" <<'EOF'
"""Stand-in for bazel-contrib/supply-chain's PackageMetadataInfo."""

PackageMetadataInfo = provider(
    doc = "Package metadata (offline stand-in).",
    fields = {"metadata": "File: JSON metadata", "files": "depset of files"},
)
EOF
	cat >"$d/rules/package_metadata.bzl" <<'EOF'
"""Stand-in for bazel-contrib/supply-chain's package_metadata rule."""

load("//providers:package_metadata_info.bzl", "PackageMetadataInfo")

def _impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".package-metadata.json")
    ctx.actions.write(out, json.encode({"label": str(ctx.label), "purl": ctx.attr.purl}))
    return [
        DefaultInfo(files = depset([out])),
        PackageMetadataInfo(metadata = out, files = depset([out])),
    ]

_package_metadata = rule(
    implementation = _impl,
    attrs = {"purl": attr.string(), "attributes": attr.label_list()},
)

def package_metadata(name, purl = "", attributes = [], visibility = None, **kwargs):
    # The package's default_package_metadata must not apply to this target
    # itself, or it depends on itself.
    _package_metadata(
        name = name,
        purl = purl,
        attributes = attributes,
        visibility = visibility,
        applicable_licenses = [],
        **kwargs
    )
EOF
	reg_add package_metadata 0.0.5 package_metadata-0.0.5
}

# Debian's bazel_features (1.11) lacks a feature rules_go 0.65 reads, and
# Debian's Bazel is an unstamped build (native.bazel_version is ""), which
# bazel_features reads as "newer than everything". Patch both.
reg_bazel_features() {
	local debian=$BZO_SIDROOT/usr/share/bazel d=$BZO_REG/overrides/bazel_features label
	[ -d "$debian/tools/features" ] || bzo_die "no bazel_features in the sid root ($debian/tools/features)"
	label=$(cat "$debian/build-label.txt")
	mkdir -p "$BZO_REG/overrides"
	cp -R "$debian/tools/features" "$d"
	chmod -R u+w "$d"
	sed -i 's/^_rules = struct($/_rules = struct(\n    # ktstr offline: rules_go >= 0.60 reads it; added in Bazel 8.3.0\n    instrumented_files_info_has_baseline_coverage_files = ge("8.3.0"),/' "$d/features.bzl"
	sed -i 's/version = "0.0.0"/version = "1.36.0"/' "$d/MODULE.bazel"
	sed -i 's/^BAZEL_VERSION = parse_version(version)$/BAZEL_VERSION = parse_version(version or "'"$label"'")/' "$d/private/util.bzl"
	if ! grep -q 'instrumented_files_info_has_baseline_coverage_files' "$d/features.bzl" ||
		! grep -q 'version = "1.36.0"' "$d/MODULE.bazel" ||
		! grep -q "parse_version(version or \"$label\")" "$d/private/util.bzl"; then
		bzo_die "Debian's bazel_features changed: update reg_bazel_features in $BZO_LIB/registry.sh"
	fi
}

reg_metadata() {
	local m versions
	for m in "$BZO_REG"/modules/*/; do
		versions=$(find "$m" -mindepth 1 -maxdepth 1 -type d -printf '"%f",' | sed 's/,$//')
		printf '{"homepage": "", "maintainers": [], "repository": [], "versions": [%s], "yanked_versions": {}}\n' \
			"$versions" >"$m/metadata.json"
	done
}

# buildozer: @bazel_tools of Bazel 7.7.1 depends on it, and `bazel mod
# tidy` runs @buildozer_binary//:buildozer.exe. The real module downloads
# a prebuilt binary from GitHub; ours is built from source (buildtools, at
# the version gazelle requires) through the Go module proxy.
reg_buildozer() {
	local d=$BZO_REG/src/buildozer-7.1.2 version
	version=$(awk '$1 == "github.com/bazelbuild/buildtools" { print $2; exit }' \
		"$BZO_REG/src/gazelle-$BZO_GAZELLE_VERSION/go.mod")
	[ -n "$version" ] || bzo_die "gazelle's go.mod names no github.com/bazelbuild/buildtools"
	mkdir -p "$d"
	GOBIN=$d CGO_ENABLED=0 bzo_go install -trimpath "github.com/bazelbuild/buildtools/buildozer@$version" ||
		bzo_die "could not build buildozer $version"
	echo 'module(name = "buildozer", version = "7.1.2")' >"$d/MODULE.bazel"
	echo 'exports_files(["buildozer"])' >"$d/BUILD.bazel"
	cat >"$d/buildozer_binary.bzl" <<'EOF'
"""buildozer_binary: @buildozer_binary//:buildozer.exe, built from source."""

def _repo_impl(rctx):
    rctx.symlink(rctx.path(rctx.attr.binary), "buildozer.exe")
    rctx.file("BUILD.bazel", 'exports_files(["buildozer.exe"])\n')

_repo = repository_rule(
    implementation = _repo_impl,
    attrs = {"binary": attr.label(allow_single_file = True)},
)

def _impl(mctx):
    _repo(name = "buildozer_binary", binary = Label("//:buildozer"))

buildozer_binary = module_extension(implementation = _impl)
EOF
	reg_add buildozer 7.1.2 buildozer-7.1.2
}

build_registry() {
	local new=$KTSTR_BAZEL_HOME/registry.new
	bzo_log "building the local Bazel registry (rules_go $BZO_RULES_GO_VERSION, gazelle $BZO_GAZELLE_VERSION)"
	rm -rf "$new"
	mkdir -p "$new/modules" "$new/src"
	BZO_REG=$new
	echo '{"mirrors": [], "module_base_path": "src"}' >"$new/bazel_registry.json"

	reg_rules_go
	reg_gazelle
	reg_package_metadata
	reg_bazel_features

	reg_buildozer
	# Asked for by @bazel_tools of Bazel 7.7.1 (C++ and Apple toolchains).
	reg_stub zlib 1.3.1.bcr.3
	reg_stub apple_support 1.23.1
	# protobuf: @bazel_tools and gazelle (3.19.6), rules_python (21.7),
	# rules_go (29.0); Go rules without proto never load it.
	reg_stub protobuf 3.19.6
	reg_stub protobuf 21.7
	reg_stub protobuf 29.0
	# Placeholders: gazelle asks for rules_go 0.59.0 and rules_go for
	# gazelle 0.51.3; the higher versions above win.
	reg_stub rules_go 0.59.0 "placeholder: resolution selects a higher version"
	reg_stub gazelle 0.51.3 "placeholder: resolution selects a higher version"

	reg_metadata

	# Bazel's downloader: refuse everything. Nothing offline needs a
	# download, and rules_go's go_sdk extension looks up Go releases on
	# go.dev (allowed to fail) even with go_sdk.host(); blocked, that is
	# quick and quiet.
	printf '%s\n' 'all_blocked_message --config=offline downloads nothing' 'block *' >"$new/downloader.cfg"
	BZO_REG=

	bzo_assert_unmounted "$BZO_REGISTRY"
	rm -rf "$BZO_REGISTRY"
	mv "$new" "$BZO_REGISTRY"
}
