package kernel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseAptSources(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // "" means an error is expected
	}{
		{
			name: "deb822 with security stanza first",
			text: `Types: deb
# http://snapshot.example/archive/debian-security/20250520T000000Z
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
# a comment inside the stanza
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`,
			want: "http://mirror.example/debian",
		},
		{
			name: "deb822 disabled, src-only and non-http stanzas are skipped",
			text: `Types: deb
URIs: http://disabled.example/debian
Suites: sid
Components: main
Enabled: no

Types: deb-src
URIs: http://src.example/debian
Suites: sid
Components: main

Types: deb
URIs: file:/srv/debian
Suites: sid
Components: main

types: deb
uris: https://second.example/debian
suites: trixie
components: main
signed-by:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 -----END PGP PUBLIC KEY BLOCK-----
`,
			want: "https://second.example/debian",
		},
		{
			name: "one-line with comments, options and security",
			text: `# deb http://commented.example/debian sid main
deb http://security.example/debian-security bookworm-security main
deb http://security.example/old buster/updates main
deb-src http://src.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://one.example/debian bookworm main contrib # trailing
deb http://two.example/debian bookworm main
`,
			want: "http://one.example/debian",
		},
		{
			name: "one-line with spaces inside options",
			text: "deb [ arch=amd64 trusted=yes ] https://mirror.example/ sid main\n",
			want: "https://mirror.example",
		},
		{
			name: "non-Debian archive is skipped",
			text: "deb http://ubuntu.example/ubuntu jammy main\n",
		},
		{
			name: "security only",
			text: "Types: deb\nURIs: http://deb.example/debian-security\nSuites: bookworm-security\nComponents: main\n",
		},
		{
			name: "empty",
			text: "# nothing here\n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAptSources(tt.text)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseAptSources = %q, want error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseAptSources = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSystemMirror(t *testing.T) {
	etc := t.TempDir()
	if _, err := SystemMirror(etc); err == nil {
		t.Error("SystemMirror(no sources) succeeded, want error")
	}
	d := filepath.Join(etc, "sources.list.d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(d, "a-security.sources"), "Types: deb\nURIs: http://x.example/debian-security\nSuites: trixie-security\n")
	write(filepath.Join(d, "b.sources"), "Types: deb\nURIs: http://b.example/debian\nSuites: trixie\n")
	if got, err := SystemMirror(etc); err != nil || got != "http://b.example/debian" {
		t.Errorf("systemMirror = %q, %v; want http://b.example/debian", got, err)
	}
	// sources.list is read before sources.list.d.
	write(filepath.Join(etc, "sources.list"), "deb http://main.example/debian bookworm main\n")
	if got, err := SystemMirror(etc); err != nil || got != "http://main.example/debian" {
		t.Errorf("systemMirror = %q, %v; want http://main.example/debian", got, err)
	}
}

func TestParseABI(t *testing.T) {
	out := `linux-image-cloud-amd64
  Depends: linux-image-7.2.13+deb14-cloud-amd64
`
	if abi, err := ParseABI(out, "cloud-amd64"); err != nil || abi != "7.2.13+deb14" {
		t.Errorf("ParseABI = %q, %v; want 7.2.13+deb14", abi, err)
	}

	alt := `linux-image-amd64
  PreDepends: dpkg
 |Depends: <linux-image-amd64-signed-template>
  Depends: linux-image-6.12.9-amd64
  Recommends: firmware-linux
`
	if abi, err := ParseABI(alt, "amd64"); err != nil || abi != "6.12.9" {
		t.Errorf("ParseABI = %q, %v; want 6.12.9", abi, err)
	}

	for name, text := range map[string]string{
		"empty":          "",
		"other flavour":  "linux-image-cloud-amd64\n  Depends: linux-image-7.2.13+deb14-rt-amd64\n",
		"no dependency":  "linux-image-cloud-amd64\n",
		"recommends":     "linux-image-cloud-amd64\n  Recommends: linux-image-7.2.13+deb14-cloud-amd64\n",
		"meta only self": "linux-image-cloud-amd64\n  Depends: linux-image-cloud-amd64\n",
	} {
		if abi, err := ParseABI(text, "cloud-amd64"); err == nil {
			t.Errorf("%s: ParseABI = %q, want error", name, abi)
		} else if !strings.Contains(err.Error(), "linux-image-cloud-amd64") {
			t.Errorf("%s: error %q does not name the package", name, err)
		}
	}
}

func TestFlavourArch(t *testing.T) {
	for flavour, want := range map[string]string{
		"cloud-amd64": "amd64",
		"amd64":       "amd64",
		"rt-arm64":    "arm64",
		"686-pae":     "",
	} {
		if got := flavourArch(flavour); got != want {
			t.Errorf("flavourArch(%q) = %q, want %q", flavour, got, want)
		}
	}
}
