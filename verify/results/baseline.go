package results

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Baseline is a saved set of runs to compare later runs against.
type Baseline struct {
	SchemaVersion int       `json:"schema_version"`
	SavedAt       time.Time `json:"saved_at"`
	Runs          []File    `json:"runs"`
}

// SaveBaseline writes files as a baseline to path.
func SaveBaseline(path string, files []File, now time.Time) error {
	b, err := json.MarshalIndent(Baseline{SchemaVersion: SchemaVersion, SavedAt: now.UTC(), Runs: files}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding baseline: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	return nil
}

// LoadBaseline reads a baseline written by SaveBaseline.
func LoadBaseline(path string) (Baseline, error) {
	var bl Baseline
	b, err := os.ReadFile(path)
	if err != nil {
		return bl, fmt.Errorf("reading baseline: %w (save one with: ktstr stats baseline save --file %s RESULTS...)", err, path)
	}
	if err := json.Unmarshal(b, &bl); err != nil {
		return bl, fmt.Errorf("baseline %s: %w", path, err)
	}
	if bl.SchemaVersion == 0 || bl.SchemaVersion > SchemaVersion {
		return bl, fmt.Errorf("baseline %s: schema_version %d; this ktstr reads 1..%d", path, bl.SchemaVersion, SchemaVersion)
	}
	return bl, nil
}
