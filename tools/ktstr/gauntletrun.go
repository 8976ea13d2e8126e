package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ktstr-go/ktstr/internal/gauntlet"
)

// variantOutcome is what one variant's run left in its result.json.
type variantOutcome struct {
	Failure      string  `json:"failure"`
	ElapsedS     float64 `json:"elapsed_s"`
	Accel        string  `json:"accel"`
	QEMUMaxRSSMB float64 `json:"qemu_max_rss_mb"`
}

// runGauntlet runs the selection's variants with go test, one at a time
// (a VM takes the machine's cores): each package's test binary is built
// once, then run per variant with the variant's topology and profile
// ($KTSTR_TOPOLOGY, $KTSTR_PROFILE), as its Bazel target would. It
// prints each verdict, then the throughput in variants per hour and the
// peak memory of a VM (QEMU's peak resident set, from result.json).
func (a *app) runGauntlet(root string, sel *gauntletSelection, out, match string) int {
	picks := sel.Chosen
	if match != "" {
		re, err := regexp.Compile(match)
		if err != nil {
			fmt.Fprintf(a.stderr, "ktstr gauntlet: --match %q: %v\n", match, err)
			return 2
		}
		var kept []gauntletPick
		for _, p := range picks {
			if re.MatchString(p.Label) {
				kept = append(kept, p)
			}
		}
		picks = kept
	}
	if len(picks) == 0 {
		return a.fail(fmt.Errorf("gauntlet: no variant to run (--match %q)", match))
	}
	if out == "" {
		var err error
		if out, err = os.MkdirTemp("", "ktstr-gauntlet-"); err != nil {
			return a.fail(err)
		}
	}
	bins := filepath.Join(out, "bin")
	if err := os.MkdirAll(bins, 0o755); err != nil {
		return a.fail(err)
	}
	// One test binary per package.
	built := map[string]string{}
	buildStart := time.Now()
	for _, p := range picks {
		pkg := p.v.Test.Pkg
		if _, ok := built[pkg]; ok {
			continue
		}
		bin := filepath.Join(bins, strings.NewReplacer("/", "_", ".", "_").Replace(pkg)+".test")
		cmd := exec.CommandContext(a.ctx, "go", "test", "-c", "-o", bin, "./"+pkg)
		cmd.Dir = root
		if o, err := cmd.CombinedOutput(); err != nil {
			return a.fail(fmt.Errorf("gauntlet: building the tests of ./%s: %v\n%s", pkg, err, o))
		}
		built[pkg] = bin
	}
	fmt.Fprintf(a.stdout, "%d variants; test binaries built in %v; outputs in %s\n", len(picks), time.Since(buildStart).Round(100*time.Millisecond), out)

	var failed []string
	var rss []float64
	var accel string
	start := time.Now()
	for i, p := range picks {
		if a.ctx.Err() != nil {
			fmt.Fprintf(a.stderr, "ktstr gauntlet: stopped after %d of %d variants\n", i, len(picks))
			return 1
		}
		v := p.v
		dir := filepath.Join(out, gauntlet.LabelPart(v.Test.Pkg+"_"+v.Target()))
		o, err := a.runVariant(root, built[v.Test.Pkg], v, dir)
		verdict := "ok  "
		if err != nil {
			verdict = "FAIL"
			failed = append(failed, p.Label)
		}
		fmt.Fprintf(a.stdout, "%s %-64s %6.1fs  %5.0f MB  %s\n", verdict, p.Label, o.ElapsedS, o.QEMUMaxRSSMB, firstLine(errString(err)))
		if o.QEMUMaxRSSMB > 0 {
			rss = append(rss, o.QEMUMaxRSSMB)
		}
		if o.Accel != "" {
			accel = o.Accel
		}
	}
	wall := time.Since(start)
	fmt.Fprintf(a.stdout, "%d variants in %v (%s): %.0f variants per hour\n", len(picks), wall.Round(100*time.Millisecond), accel, float64(len(picks))/wall.Hours())
	if len(rss) > 0 {
		sort.Float64s(rss)
		var sum float64
		for _, r := range rss {
			sum += r
		}
		fmt.Fprintf(a.stdout, "peak memory per VM (QEMU's peak resident set): max %.0f MB, median %.0f MB, mean %.0f MB, over %d VMs\n",
			rss[len(rss)-1], rss[len(rss)/2], sum/float64(len(rss)), len(rss))
	}
	if len(failed) > 0 {
		fmt.Fprintf(a.stdout, "%d of %d variants failed: %s\n", len(failed), len(picks), strings.Join(failed, " "))
		return 1
	}
	return 0
}

// runVariant runs one variant's test in its package folder and reads its
// result.json; err is nil only when the test passed.
func (a *app) runVariant(root, bin string, v gauntlet.Variant, dir string) (variantOutcome, error) {
	var o variantOutcome
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return o, err
	}
	cmd := exec.CommandContext(a.ctx, bin, "-test.run", "^"+regexp.QuoteMeta(v.Test.Name)+"$", "-test.v")
	cmd.Dir = filepath.Join(root, v.Test.Pkg)
	cmd.Env = append(os.Environ(), "KTSTR_TOPOLOGY="+v.Preset, "KTSTR_PROFILE="+v.Profile, "KTSTR_OUTPUT_DIR="+dir)
	logf, err := os.Create(filepath.Join(dir, "test.log"))
	if err != nil {
		return o, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	runErr := cmd.Run()
	b, err := os.ReadFile(filepath.Join(dir, v.Test.Name, "result.json"))
	if err == nil {
		err = json.Unmarshal(b, &o)
	}
	switch {
	case runErr != nil && o.Failure != "":
		return o, fmt.Errorf("%s", o.Failure)
	case runErr != nil:
		return o, fmt.Errorf("%v (see %s)", runErr, logf.Name())
	case err != nil:
		return o, fmt.Errorf("no result.json: %v", err)
	}
	return o, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
