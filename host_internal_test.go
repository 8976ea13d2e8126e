package ktstr

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRunPattern(t *testing.T) {
	tests := []struct {
		name string
		want string
		// other names the pattern must not select, element by element
		notMatch []string
	}{
		{"TestA", `^TestA$`, []string{"TestAB", "XTestA"}},
		{"TestA/sub name", `^TestA$/^sub name$`, []string{"TestA/sub name2", "TestAB/sub name"}},
		{"TestA/x.y", `^TestA$/^x\.y$`, []string{"TestA/x_y", "TestA/xzy"}},
		{"TestA/b/c(1)", `^TestA$/^b$/^c\(1\)$`, []string{"TestA/b/c1", "TestA/b/c(1)x"}},
		{"TestA/[a-z]+*", `^TestA$/^\[a-z\]\+\*$`, []string{"TestA/q", "TestA/[a-z]"}},
		{"TestA/a|b", `^TestA$/^a\|b$`, []string{"TestA/a", "TestA/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runPattern(tt.name)
			if got != tt.want {
				t.Fatalf("runPattern(%q) = %q, want %q", tt.name, got, tt.want)
			}
			// Each element of the pattern selects its own element of
			// the name and nothing else.
			parts := strings.Split(got, "/")
			elems := strings.Split(tt.name, "/")
			if len(parts) != len(elems) {
				t.Fatalf("pattern has %d elements, name %d", len(parts), len(elems))
			}
			res := make([]*regexp.Regexp, len(parts))
			for i, p := range parts {
				re, err := regexp.Compile(p)
				if err != nil {
					t.Fatalf("element %q does not compile: %v", p, err)
				}
				if !re.MatchString(elems[i]) {
					t.Errorf("element %q does not match %q", p, elems[i])
				}
				res[i] = re
			}
			for _, other := range tt.notMatch {
				oe := strings.Split(other, "/")
				all := len(oe) == len(res)
				for i := 0; all && i < len(oe); i++ {
					all = res[i].MatchString(oe[i])
				}
				if all {
					t.Errorf("pattern %q also selects %q", got, other)
				}
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name      string
		spec      Spec
		host      time.Duration
		guestTest time.Duration
	}{
		{"zero duration", Spec{}, 60 * time.Second, 40 * time.Second},
		{"default duration", Spec{DurationS: 2}, 66 * time.Second, 46 * time.Second},
		{"long duration", Spec{DurationS: 60}, 240 * time.Second, 220 * time.Second},
		{"explicit timeout", Spec{DurationS: 60, TimeoutS: 500}, 500 * time.Second, 480 * time.Second},
		{"explicit short timeout", Spec{DurationS: 2, TimeoutS: 10}, 10 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, guest := timeouts(tt.spec)
			if host != tt.host || guest != tt.guestTest {
				t.Errorf("timeouts = %v, %v; want %v, %v", host, guest, tt.host, tt.guestTest)
			}
		})
	}

	// Both budgets grow with the duration when no timeout is given.
	prevHost, prevGuest := timeouts(Spec{DurationS: 1})
	for d := 2; d <= 120; d++ {
		host, guest := timeouts(Spec{DurationS: d})
		if host <= prevHost || guest <= prevGuest {
			t.Fatalf("timeouts do not grow from %ds to %ds: host %v -> %v, guest %v -> %v", d-1, d, prevHost, host, prevGuest, guest)
		}
		if run := time.Duration(d) * time.Second; host <= run || guest <= run {
			t.Fatalf("DurationS %d: budgets host %v guest %v do not cover the run itself", d, host, guest)
		}
		if guest >= host {
			t.Fatalf("DurationS %d: the guest bound %v does not end inside the host timeout %v", d, guest, host)
		}
		prevHost, prevGuest = host, guest
	}
}

func TestTopologyOverride(t *testing.T) {
	spec := Spec{MinLLCs: 2, MemoryMB: 4096}
	t.Setenv(EnvTopology, "tiny-2llc")
	got, err := applyTopologyOverride(spec)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sockets != 2 || got.Cores != 2 || got.Threads != 1 || got.MemoryMB != 4096 {
		t.Errorf("tiny-2llc override = %ds%dc%dt %d MB, want 2s2c1t 4096 MB", got.Sockets, got.Cores, got.Threads, got.MemoryMB)
	}
	t.Setenv(EnvTopology, "medium-8llc")
	if got, _ := applyTopologyOverride(Spec{}); got.MemoryMB != 64*64 {
		t.Errorf("medium-8llc memory = %d MB, want cpus x 64 = %d", got.MemoryMB, 64*64)
	}
	t.Setenv(EnvTopology, "tiny-1llc")
	if _, err := applyTopologyOverride(spec); err == nil || !strings.Contains(err.Error(), "constraints") {
		t.Errorf("tiny-1llc for min_llcs=2: err = %v, want a constraints error", err)
	}
	t.Setenv(EnvTopology, "3s1c2t")
	if got, err := applyTopologyOverride(Spec{}); err != nil || got.Sockets != 3 || got.Threads != 2 {
		t.Errorf("3s1c2t = %+v, %v", got, err)
	}
	t.Setenv(EnvTopology, "huge")
	if _, err := applyTopologyOverride(Spec{}); err == nil || !strings.Contains(err.Error(), EnvTopology) {
		t.Errorf("bad value: err = %v", err)
	}
}

func TestRunfile(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "_main", "k"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "_main", "k", "vmlinux"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RUNFILES_DIR", "")
	t.Setenv("TEST_SRCDIR", root)
	t.Setenv(EnvKernelRunfile, "_main/k/vmlinux")
	if p, err := runfile(EnvKernelRunfile); err != nil || p != filepath.Join(root, "_main", "k", "vmlinux") {
		t.Errorf("runfile = %q, %v", p, err)
	}
	t.Setenv(EnvKernelRunfile, "_main/k/missing")
	if _, err := runfile(EnvKernelRunfile); err == nil || !strings.Contains(err.Error(), EnvKernelRunfile) {
		t.Errorf("missing runfile: err = %v", err)
	}
	t.Setenv(EnvKernelRunfile, "")
	if p, err := runfile(EnvKernelRunfile); p != "" || err != nil {
		t.Errorf("unset: %q, %v", p, err)
	}
}
