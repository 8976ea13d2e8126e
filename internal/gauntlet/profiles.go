package gauntlet

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// MaxOptionalFlags bounds the optional flags of a profile expansion: 12
// make 4096 profiles, each a Bazel target per preset.
const MaxOptionalFlags = 12

// ProfileName is "default" for no flags, else the sorted flags joined
// with "+".
func ProfileName(flags []string) string {
	if len(flags) == 0 {
		return "default"
	}
	s := slices.Clone(flags)
	sort.Strings(s)
	return strings.Join(s, "+")
}

// Profiles returns the valid flag profiles of a scheduler (named sched,
// for messages) with the given flags, in declaration order, and
// requirements (flag -> the flags it needs): every subset of the optional
// flags, with the required flags always in and the excluded ones never,
// dropping sets in which a flag's requirement is missing. Each profile
// is sorted; they are ordered by size, then name.
func Profiles(sched string, flags []string, requires map[string][]string, required, excluded []string) ([][]string, error) {
	var errs []string
	for _, list := range []struct {
		attr  string
		names []string
	}{{"required_flags", required}, {"excluded_flags", excluded}} {
		for _, n := range list.names {
			if !slices.Contains(flags, n) {
				has := strings.Join(flags, ", ")
				if has == "" {
					has = "no flags"
				}
				errs = append(errs, fmt.Sprintf("%s: unknown flag %q (scheduler %s has: %s)", list.attr, n, sched, has))
			}
		}
	}
	for _, n := range required {
		if slices.Contains(excluded, n) {
			errs = append(errs, fmt.Sprintf("flag %q is both required and excluded", n))
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	var optional []string
	for _, n := range flags {
		if !slices.Contains(required, n) && !slices.Contains(excluded, n) {
			optional = append(optional, n)
		}
	}
	if len(optional) > MaxOptionalFlags {
		return nil, fmt.Errorf("scheduler %s: %d optional flags make %d profiles, more than %d optional flags allow: exclude some", sched, len(optional), 1<<len(optional), MaxOptionalFlags)
	}
	var out [][]string
	for mask := 0; mask < 1<<len(optional); mask++ {
		set := slices.Clone(required)
		for i, n := range optional {
			if mask&(1<<i) != 0 {
				set = append(set, n)
			}
		}
		if !satisfied(set, requires) {
			continue
		}
		sort.Strings(set)
		out = append(out, slices.Compact(set))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("scheduler %s: no flag profile satisfies the requirements of required_flags %v", sched, required)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) < len(out[j])
		}
		return ProfileName(out[i]) < ProfileName(out[j])
	})
	return out, nil
}

func satisfied(set []string, requires map[string][]string) bool {
	for _, n := range set {
		for _, r := range requires[n] {
			if !slices.Contains(set, r) {
				return false
			}
		}
	}
	return true
}
