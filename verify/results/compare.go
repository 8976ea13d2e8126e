package results

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Limit overrides a metric's regression limits; a negative field keeps
// the metric's default.
type Limit struct{ Rel, Abs float64 }

// Options tune a comparison.
type Options struct {
	// Rel, when positive, replaces every metric's relative limit.
	Rel float64
	// Limits override single metrics.
	Limits map[string]Limit
}

// ParseLimit reads "name=rel[,abs]" (rel as a fraction, or with %).
func ParseLimit(s string) (string, Limit, error) {
	name, v, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return "", Limit{}, fmt.Errorf("limit %q: want metric=rel[,abs], for instance work_units=0.1 or max_gap_ms=50%%,100", s)
	}
	l := Limit{Rel: -1, Abs: -1}
	relS, absS, _ := strings.Cut(v, ",")
	var err error
	if relS != "" {
		if l.Rel, err = parseFraction(relS); err != nil {
			return "", Limit{}, fmt.Errorf("limit %q: %w", s, err)
		}
	}
	if absS != "" {
		if l.Abs, err = strconv.ParseFloat(absS, 64); err != nil || l.Abs < 0 {
			return "", Limit{}, fmt.Errorf("limit %q: absolute limit %q is not a number >= 0", s, absS)
		}
	}
	return name, l, nil
}

func parseFraction(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("relative limit %q is not a number >= 0", s)
	}
	if pct {
		v /= 100
	}
	return v, nil
}

// Row is one metric of one test in a comparison.
type Row struct {
	Key, Metric string
	A, B        float64
	// Delta is B-A; Rel is Delta/|A| (±Inf when A is 0 and B is not).
	Delta, Rel float64
	// Worse is true when B is worse than A; Regression when it is worse
	// beyond both limits.
	Worse, Regression bool
	Limit             Limit
}

// Comparison is the result of comparing B against A.
type Comparison struct {
	Rows []Row
	// OnlyA and OnlyB are tests found on one side only.
	OnlyA, OnlyB []string
	RunsA, RunsB map[string]int
}

// Regressions are the rows that regressed.
func (c Comparison) Regressions() []Row {
	var out []Row
	for _, r := range c.Rows {
		if r.Regression {
			out = append(out, r)
		}
	}
	return out
}

// Compare compares the runs of b against those of a, test by test (runs
// of one test are averaged) and metric by metric.
func Compare(a, b []File, opts Options) Comparison {
	am, ra := byKey(a)
	bm, rb := byKey(b)
	c := Comparison{RunsA: ra, RunsB: rb}
	for _, k := range sortedKeys(am) {
		if _, ok := bm[k]; !ok {
			c.OnlyA = append(c.OnlyA, k)
		}
	}
	for _, k := range sortedKeys(bm) {
		mb := bm[k]
		ma, ok := am[k]
		if !ok {
			c.OnlyB = append(c.OnlyB, k)
			continue
		}
		for _, n := range sortedKeys(ma) {
			vb, ok := mb[n]
			if !ok {
				continue
			}
			c.Rows = append(c.Rows, row(k, n, ma[n], vb, opts))
		}
	}
	return c
}

func row(key, name string, a, b float64, opts Options) Row {
	s := SpecOf(name)
	l := Limit{Rel: s.Rel, Abs: s.Abs}
	if opts.Rel > 0 {
		l.Rel = opts.Rel
	}
	if o, ok := opts.Limits[name]; ok {
		if o.Rel >= 0 {
			l.Rel = o.Rel
		}
		if o.Abs >= 0 {
			l.Abs = o.Abs
		}
	}
	r := Row{Key: key, Metric: name, A: a, B: b, Delta: b - a, Limit: l}
	switch {
	case a != 0:
		r.Rel = (b - a) / math.Abs(a)
	case b != 0:
		r.Rel = math.Inf(int(math.Copysign(1, b)))
	}
	r.Worse = (s.Better == Higher && b < a) || (s.Better == Lower && b > a)
	r.Regression = r.Worse && math.Abs(r.Delta) > l.Abs && math.Abs(r.Rel) > l.Rel
	return r
}

// Write prints the comparison: every metric of every test that is not
// zero on both sides (or, with onlyChanged, those that got worse),
// regressions marked, and a summary.
func (c Comparison) Write(w io.Writer, onlyChanged bool) {
	cur := ""
	for _, r := range c.Rows {
		if (onlyChanged && !r.Worse) || (r.A == 0 && r.B == 0) {
			continue
		}
		if r.Key != cur {
			cur = r.Key
			fmt.Fprintf(w, "%s (runs: %d vs %d)\n", cur, c.RunsA[cur], c.RunsB[cur])
		}
		mark := "  "
		switch {
		case r.Regression:
			mark = "!!"
		case r.Worse:
			mark = " -"
		case r.Delta != 0:
			mark = " +"
		}
		fmt.Fprintf(w, "  %s %-36s %14s -> %-14s %+12.4g (%s; limit %s and %g)\n", mark, r.Metric, num(r.A), num(r.B), r.Delta, pct(r.Rel), pct(r.Limit.Rel), r.Limit.Abs)
	}
	for _, k := range c.OnlyA {
		fmt.Fprintf(w, "only in A: %s\n", k)
	}
	for _, k := range c.OnlyB {
		fmt.Fprintf(w, "only in B: %s\n", k)
	}
	reg := c.Regressions()
	tests := map[string]bool{}
	for _, r := range reg {
		tests[r.Key] = true
	}
	if len(reg) == 0 {
		fmt.Fprintf(w, "no regressions: %d metrics of %d tests compared\n", len(c.Rows), len(c.RunsB)-len(c.OnlyB))
		return
	}
	fmt.Fprintf(w, "%d regressions in %d tests (marked !!):", len(reg), len(tests))
	for _, r := range reg {
		fmt.Fprintf(w, " %s %s %s;", r.Key, r.Metric, pct(r.Rel))
	}
	fmt.Fprintln(w)
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func pct(v float64) string {
	if math.IsInf(v, 0) {
		return "new"
	}
	return fmt.Sprintf("%+.1f%%", 100*v)
}
