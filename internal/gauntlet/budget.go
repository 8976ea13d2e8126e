package gauntlet

import "slices"

// Pick is one variant of a budget selection, with the features it was the
// first to cover.
type Pick struct {
	Variant Variant
	New     []string
}

// Select picks, greedily, the variant that adds the most features not yet
// covered per estimated second and still fits in budgetS seconds, until
// none does; ties go to the smaller label. It returns the picks in the
// order chosen.
func Select(vs []Variant, budgetS int) []Pick {
	covered := map[string]bool{}
	left := slices.Clone(vs)
	spent := 0
	var out []Pick
	for len(left) > 0 {
		best, bestScore := -1, 0.0
		for i, v := range left {
			if spent+v.Seconds > budgetS || v.Seconds <= 0 {
				continue
			}
			n := 0
			for _, f := range v.Features {
				if !covered[f] {
					n++
				}
			}
			if n == 0 {
				continue
			}
			score := float64(n) / float64(v.Seconds)
			if best < 0 || score > bestScore || (score == bestScore && v.Label() < left[best].Label()) {
				best, bestScore = i, score
			}
		}
		if best < 0 {
			break
		}
		v := left[best]
		p := Pick{Variant: v}
		for _, f := range v.Features {
			if !covered[f] {
				p.New = append(p.New, f)
				covered[f] = true
			}
		}
		out = append(out, p)
		spent += v.Seconds
		left = slices.Delete(left, best, best+1)
	}
	return out
}

// Features lists every feature of vs, each once, in first-seen order.
func Features(vs []Variant) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		for _, f := range v.Features {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}
