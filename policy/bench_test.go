package policy_test

import (
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
)

// BenchmarkDecide measures the allow path of a capability decision.
// Goal: ≤ 10 ns/op, 0 allocs/op on the resolved path.
//
// "resolved" is DecideAt over positions resolved once, as hot paths call
// it; "strings" is Decide with three string inputs, which adds one lookup
// each.
func BenchmarkDecide(b *testing.B) {
	s := edition.Wherobots()
	// Inputs built at run time, so no comparison is against the same
	// string constant the preset used.
	ed, r, c := string([]byte("professional")), string([]byte("user")), roleCap(string([]byte("job_runs:create")))
	b.Run("resolved", func(b *testing.B) {
		e, _ := s.Edition(ed)
		ri, _ := s.RoleIndex(r)
		ci, _ := s.Catalog().Index(c)
		b.ReportAllocs()
		denied := 0
		for b.Loop() {
			if !policy.DecideAt(s, e, ri, ci).Allowed {
				denied++
			}
		}
		if denied > 0 {
			b.Fatal(policy.DecideAt(s, e, ri, ci))
		}
	})
	b.Run("strings", func(b *testing.B) {
		b.ReportAllocs()
		denied := 0
		for b.Loop() {
			if !policy.Decide(s, ed, r, c).Allowed {
				denied++
			}
		}
		if denied > 0 {
			b.Fatal(policy.Decide(s, ed, r, c))
		}
	})
}

// BenchmarkCanManage measures an allowed role change (a SoterAI manager
// promoting a member), which passes every management rule.
// Goal: ≤ 20 ns/op, 0 allocs/op on the resolved path.
func BenchmarkCanManage(b *testing.B) {
	s := edition.SoterAI()
	ed, actor, target, to := string([]byte("enterprise")), string([]byte("manager")), string([]byte("member")), string([]byte("manager"))
	b.Run("resolved", func(b *testing.B) {
		e, _ := s.Edition(ed)
		ai, _ := s.RoleIndex(actor)
		ti, _ := s.RoleIndex(target)
		ni, _ := s.RoleIndex(to)
		b.ReportAllocs()
		denied := 0
		for b.Loop() {
			if !policy.CanManageAt(s, e, ai, edition.ActionChangeRole, ti, ni).Allowed {
				denied++
			}
		}
		if denied > 0 {
			b.Fatal(policy.CanManageAt(s, e, ai, edition.ActionChangeRole, ti, ni))
		}
	})
	b.Run("strings", func(b *testing.B) {
		b.ReportAllocs()
		denied := 0
		for b.Loop() {
			if !policy.CanChangeRole(s, ed, actor, target, to).Allowed {
				denied++
			}
		}
		if denied > 0 {
			b.Fatal(policy.CanChangeRole(s, ed, actor, target, to))
		}
	})
}
