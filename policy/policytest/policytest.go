// Package policytest helps hosts test their schemes in table-driven unit
// tests: assert an expected decision table (capability × role × edition →
// allowed) against a scheme, and see every differing cell at once.
//
// It is a test helper: import it from _test.go files only.
package policytest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
)

// AssertTable checks that want is the scheme's whole decision table: one
// row for every (capability, role, edition) of s, each with the answer
// policy.Decide gives. Order does not matter. It reports, in one failure, a
// go-cmp diff of every differing, missing, extra or repeated cell, and
// returns whether the table matched.
func AssertTable(t testing.TB, s *edition.Scheme, want []policy.Row) bool {
	t.Helper()
	got := slices.Collect(policy.Rows(s))
	return report(t, s, "table", want, got)
}

// AssertCells checks only the cells listed in want: for each, that
// policy.Decide answers as the row says. Cells naming an unknown
// capability, role or edition are reported as denied. It reports every
// differing cell in one failure and returns whether all matched.
func AssertCells(t testing.TB, s *edition.Scheme, want []policy.Row) bool {
	t.Helper()
	got := make([]policy.Row, len(want))
	for i, w := range want {
		w.Allowed = policy.Decide(s, w.Edition, w.Role, w.Capability).Allowed
		got[i] = w
	}
	return report(t, s, "cells", want, got)
}

func report(t testing.TB, s *edition.Scheme, what string, want, got []policy.Row) bool {
	t.Helper()
	want, got = sorted(want), sorted(got)
	diff := gocmp.Diff(want, got)
	if diff == "" {
		return true
	}
	id := "<nil>"
	if s != nil {
		id = s.ID()
	}
	var cells strings.Builder
	for _, line := range differing(want, got) {
		cells.WriteString("\n\t" + line)
	}
	t.Errorf("policytest: scheme %q: decision %s differs (-want +got):\n%s\ndiffering cells:%s", id, what, diff, cells.String())
	return false
}

func sorted(rows []policy.Row) []policy.Row {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b policy.Row) int {
		return cmp.Or(cmp.Compare(a.Capability, b.Capability), cmp.Compare(a.Role, b.Role), cmp.Compare(a.Edition, b.Edition))
	})
	return out
}

// differing lists, one line per cell, what the diff says in words.
func differing(want, got []policy.Row) []string {
	type key struct {
		c     string
		r, ed string
	}
	index := func(rows []policy.Row) (map[key]bool, map[key]int) {
		m, n := map[key]bool{}, map[key]int{}
		for _, r := range rows {
			k := key{string(r.Capability), r.Role, r.Edition}
			m[k] = r.Allowed
			n[k]++
		}
		return m, n
	}
	w, wn := index(want)
	g, gn := index(got)
	word := map[bool]string{true: "allowed", false: "denied"}
	var out []string
	for _, r := range sorted(append(slices.Clone(want), got...)) {
		k := key{string(r.Capability), r.Role, r.Edition}
		cell := fmt.Sprintf("%s × %s × %s: ", k.c, k.r, k.ed)
		switch {
		case wn[k] == 0 && gn[k] == 0:
			continue
		case wn[k] == 0:
			out = append(out, cell+"missing from the expected table (got "+word[g[k]]+")")
		case gn[k] == 0:
			out = append(out, cell+"not a cell of the scheme")
		case wn[k] > 1:
			out = append(out, cell+fmt.Sprintf("listed %d times", wn[k]))
		case w[k] != g[k]:
			out = append(out, cell+"want "+word[w[k]]+", got "+word[g[k]])
		default:
			continue
		}
		wn[k], gn[k] = 0, 0 // report each cell once
	}
	return out
}
