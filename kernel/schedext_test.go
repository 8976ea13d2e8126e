package kernel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSourceSeries(t *testing.T) {
	for in, want := range map[string]string{"7.2.13+deb14-cloud-amd64": "7.2", "6.12.1": "6.12"} {
		if got, err := sourceSeries(in); err != nil || got != want {
			t.Errorf("sourceSeries(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := sourceSeries("cloud"); err == nil {
		t.Error("a release without a version must be refused")
	}
}

func TestLoadSchedExtSaysHowToBuild(t *testing.T) {
	e := Entry{Version: "7.2.0-test", Dir: t.TempDir()}
	if _, err := LoadSchedExt(e); err == nil || !strings.Contains(err.Error(), "ktstr kernel scheds") {
		t.Errorf("not built: %v", err)
	}
	dir := filepath.Join(e.Dir, SchedExtDir)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "build.json"), []byte(`{"dir":"`+dir+`","schedulers":["scx_simple"]}`), 0o644)
	if _, err := LoadSchedExt(e); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("binary gone: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "scx_simple"), []byte("x"), 0o755)
	if b, err := LoadSchedExt(e); err != nil || b.Schedulers[0] != "scx_simple" {
		t.Errorf("built: %+v %v", b, err)
	}
}
