package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// aptSource is one "deb" entry of an apt sources file.
type aptSource struct {
	typ   string
	uri   string
	suite string
}

// ParseAptSources returns the first Debian archive mirror in the text of an
// apt sources file, in either the deb822 format (*.sources) or the one-line
// format (sources.list). Only binary ("deb") entries with an http or https
// URI count; security archives (debian-security, *-security suites,
// */updates) and non-Debian archives are skipped. The mirror is returned
// without a trailing slash.
func ParseAptSources(text string) (string, error) {
	var sources []aptSource
	if isOneLineFormat(text) {
		sources = parseOneLineSources(text)
	} else {
		sources = parseDeb822Sources(text)
	}
	for _, s := range sources {
		if s.typ != "deb" {
			continue
		}
		lower := strings.ToLower(s.uri)
		if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
			continue
		}
		if isSecuritySource(s) || !isDebianSource(s) {
			continue
		}
		return strings.TrimRight(s.uri, "/"), nil
	}
	return "", errors.New("no Debian archive mirror (a \"deb http(s)://...\" entry other than debian-security) in apt sources")
}

func isOneLineFormat(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && (f[0] == "deb" || f[0] == "deb-src") {
			return true
		}
	}
	return false
}

// parseOneLineSources parses "deb [options] uri suite [component...]" lines.
func parseOneLineSources(text string) []aptSource {
	var out []aptSource
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		typ, rest, ok := strings.Cut(line, " ")
		if !ok {
			typ, rest, ok = strings.Cut(line, "\t")
		}
		if !ok || (typ != "deb" && typ != "deb-src") {
			continue
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				continue
			}
			rest = rest[end+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		out = append(out, aptSource{typ: typ, uri: f[0], suite: f[1]})
	}
	return out
}

// parseDeb822Sources parses stanzas of Types/URIs/Suites/Enabled fields.
func parseDeb822Sources(text string) []aptSource {
	var out []aptSource
	fields := map[string]string{}
	lastKey := ""
	flush := func() {
		if len(fields) > 0 && !strings.EqualFold(strings.TrimSpace(fields["enabled"]), "no") {
			suites := strings.Fields(fields["suites"])
			suite := ""
			if len(suites) > 0 {
				suite = suites[0]
			}
			for _, typ := range strings.Fields(fields["types"]) {
				for _, uri := range strings.Fields(fields["uris"]) {
					out = append(out, aptSource{typ: typ, uri: uri, suite: suite})
				}
			}
		}
		fields = map[string]string{}
		lastKey = ""
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case strings.HasPrefix(line, "#"):
			// comment
		case line[0] == ' ' || line[0] == '\t':
			if lastKey != "" {
				fields[lastKey] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			lastKey = strings.ToLower(strings.TrimSpace(k))
			fields[lastKey] = strings.TrimSpace(v)
		}
	}
	flush()
	return out
}

func isSecuritySource(s aptSource) bool {
	uri := strings.ToLower(s.uri)
	return strings.Contains(uri, "debian-security") ||
		strings.HasSuffix(s.suite, "-security") ||
		strings.HasSuffix(s.suite, "/updates")
}

func isDebianSource(s aptSource) bool {
	if strings.Contains(strings.ToLower(s.uri), "debian") {
		return true
	}
	suite, _, _ := strings.Cut(s.suite, "-")
	switch suite {
	case "sid", "unstable", "experimental", "testing", "stable", "oldstable", "oldoldstable",
		"forky", "trixie", "bookworm", "bullseye", "buster", "stretch", "duke":
		return true
	}
	return false
}

// SystemMirror finds the Debian mirror in the machine's apt sources under
// etcApt (normally /etc/apt): sources.list first, then sources.list.d/*.list
// and *.sources in name order, as apt reads them.
func SystemMirror(etcApt string) (string, error) {
	files := []string{filepath.Join(etcApt, "sources.list")}
	var parts []string
	for _, pat := range []string{"*.list", "*.sources"} {
		m, err := filepath.Glob(filepath.Join(etcApt, "sources.list.d", pat))
		if err != nil {
			return "", fmt.Errorf("listing apt sources: %w", err)
		}
		parts = append(parts, m...)
	}
	sort.Strings(parts)
	files = append(files, parts...)
	var read []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return "", fmt.Errorf("reading apt sources: %w", err)
		}
		read = append(read, f)
		if m, err := ParseAptSources(string(b)); err == nil {
			return m, nil
		}
	}
	if len(read) == 0 {
		return "", fmt.Errorf("no apt sources in %s; pass a mirror explicitly (--mirror)", etcApt)
	}
	return "", fmt.Errorf("no Debian archive mirror in apt sources (%s); pass a mirror explicitly (--mirror)", strings.Join(read, ", "))
}

// ParseABI extracts the kernel ABI from the output of
// "apt-cache depends linux-image-<flavour>": the dependency
// "linux-image-<abi>-<flavour>" yields <abi> (e.g. "7.2.13+deb14").
func ParseABI(aptCacheDependsOutput, flavour string) (string, error) {
	suffix := "-" + flavour
	for _, line := range strings.Split(aptCacheDependsOutput, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "|")
		kind, dep, ok := strings.Cut(line, ":")
		if !ok || (kind != "Depends" && kind != "PreDepends") {
			continue
		}
		dep = strings.Trim(strings.TrimSpace(dep), "<>")
		rest, ok := strings.CutPrefix(dep, "linux-image-")
		if !ok {
			continue
		}
		abi, ok := strings.CutSuffix(rest, suffix)
		if !ok || abi == "" || abi[0] < '0' || abi[0] > '9' {
			continue
		}
		return abi, nil
	}
	return "", fmt.Errorf("no linux-image-<abi>-%s dependency in apt-cache depends output for linux-image-%s", flavour, flavour)
}

// flavourArch returns the Debian architecture a kernel flavour is built
// for (the flavour's last component, e.g. "cloud-amd64" -> "amd64"), or ""
// if it does not name one.
func flavourArch(flavour string) string {
	arch := flavour
	if i := strings.LastIndexByte(flavour, '-'); i >= 0 {
		arch = flavour[i+1:]
	}
	switch arch {
	case "amd64", "arm64", "armhf", "armel", "i386", "ppc64el", "s390x", "riscv64", "loong64", "mips64el":
		return arch
	}
	return ""
}
