# shellcheck shell=bash
# modcache.sh: fill the Go module cache that --config=offline builds read
# (GOPROXY=off). Sourced by setup.
#
# gazelle's go_deps picks module versions across three go.mod files (the
# workspace's, rules_go's and gazelle's, plus gazelle's nested v2), and
# go_repository_tools builds gazelle from its own go.mod, so the cache
# needs every module those files require. Go >= 1.17 go.mod files list
# every module their packages need, so `go mod download` per file is
# enough. The workspace's go.mod and go.sum are never modified: go reads
# copies of them (-modfile).

bzo_mod_download() { # module_dir
	local dir=$1 tmp
	tmp=$(mktemp -d)
	cp "$dir/go.mod" "$tmp/go.mod"
	if [ -f "$dir/go.sum" ]; then cp "$dir/go.sum" "$tmp/go.sum"; fi
	# -modfile keeps relative replace directives resolving from $dir.
	(cd "$dir" && GOWORK=off bzo_go mod download -modfile="$tmp/go.mod") ||
		{
			rm -rf "$tmp"
			bzo_die "go mod download failed in $dir"
		}
	rm -rf "$tmp"
}

populate_modcache() { # workspace
	local ws=$1 d
	bzo_log "filling the Go module cache for offline builds ($BZO_GOMODCACHE)"
	bzo_mod_download "$ws"
	for d in "$BZO_REGISTRY/src/rules_go-$BZO_RULES_GO_VERSION" \
		"$BZO_REGISTRY/src/gazelle-$BZO_GAZELLE_VERSION" \
		"$BZO_REGISTRY/src/gazelle-$BZO_GAZELLE_VERSION/v2"; do
		bzo_mod_download "$d"
	done
}
