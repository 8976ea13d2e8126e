package results

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// File is what comparing needs of one result.json.
type File struct {
	// Path says where it was read (a file, or zip!entry).
	Path          string             `json:"-"`
	SchemaVersion int                `json:"schema_version"`
	Test          string             `json:"test"`
	Scheduler     string             `json:"scheduler"`
	Profile       string             `json:"profile"`
	Topology      string             `json:"topology"`
	Kernel        string             `json:"kernel"`
	Accel         string             `json:"accel"`
	Failure       string             `json:"failure,omitempty"`
	Metrics       map[string]float64 `json:"metrics"`
}

// Parse decodes one result.json.
func Parse(b []byte, path string) (File, error) {
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s: not a ktstr result file: %w", path, err)
	}
	f.Path = path
	switch {
	case f.SchemaVersion == 0:
		return f, fmt.Errorf("%s: no schema_version: written before ktstr's results schema 1; run the test again", path)
	case f.SchemaVersion > SchemaVersion:
		return f, fmt.Errorf("%s: schema_version %d is newer than this ktstr's %d; update ktstr", path, f.SchemaVersion, SchemaVersion)
	case f.Test == "":
		return f, fmt.Errorf("%s: result file without a test name", path)
	}
	return f, nil
}

// Load reads result files from paths: result.json files, folders
// (searched for result.json and Bazel's outputs.zip, leaving out the
// auto_repro reruns under repro/) and zip archives.
func Load(paths ...string) ([]File, error) {
	var out []File
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading results: %w", err)
		}
		if !st.IsDir() {
			fs, err := loadFile(p)
			if err != nil {
				return nil, err
			}
			out = append(out, fs...)
			continue
		}
		var found []File
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "repro" {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Name() == "result.json" || strings.HasSuffix(d.Name(), ".zip") {
				fs, err := loadFile(path)
				if err != nil {
					return err
				}
				found = append(found, fs...)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("no result.json (nor outputs.zip holding one) under %s", p)
		}
		out = append(out, found...)
	}
	return out, nil
}

func loadFile(p string) ([]File, error) {
	if strings.HasSuffix(p, ".zip") {
		return loadZip(p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading results: %w", err)
	}
	f, err := Parse(b, p)
	if err != nil {
		return nil, err
	}
	return []File{f}, nil
}

func loadZip(p string) ([]File, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("reading results from %s: %w", p, err)
	}
	defer zr.Close()
	var out []File
	for _, e := range zr.File {
		if filepath.Base(e.Name) != "result.json" || strings.Contains("/"+e.Name, "/repro/") {
			continue
		}
		rc, err := e.Open()
		if err != nil {
			return nil, fmt.Errorf("%s!%s: %w", p, e.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s!%s: %w", p, e.Name, err)
		}
		f, err := Parse(b, p+"!"+e.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Key identifies a run across result sets: the test's full name (which
// holds the flag profile's subtest) and, for gauntlet variants run under
// one name, the topology.
func (f File) Key() string {
	if f.Topology == "" {
		return f.Test
	}
	return f.Test + " @" + f.Topology
}

// byKey averages the metrics of files with the same key (replicas).
func byKey(files []File) (map[string]map[string]float64, map[string]int) {
	sums := map[string]map[string]float64{}
	counts := map[string]map[string]int{}
	runs := map[string]int{}
	for _, f := range files {
		k := f.Key()
		runs[k]++
		if sums[k] == nil {
			sums[k], counts[k] = map[string]float64{}, map[string]int{}
		}
		for n, v := range f.Metrics {
			sums[k][n] += v
			counts[k][n]++
		}
	}
	for k, m := range sums {
		for n := range m {
			m[n] /= float64(counts[k][n])
		}
	}
	return sums, runs
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
