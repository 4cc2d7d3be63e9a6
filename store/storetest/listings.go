package storetest

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

func auditTests() []test {
	return []test{
		{"SequenceFromOneWithOrgIDSet", testAuditSequence},
		{"SequenceContinuesAfterRollback", testAuditSequenceRollback},
		{"FilterBySinceUntilActorAfterSeq", testAuditFilter},
	}
}

func testAuditSequence(t *testing.T, s store.Store) {
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, newOrg("acme")) })
	var want []org.AuditEvent
	appendEvents := func(ctx context.Context, tx store.Tx, n int) {
		for range n {
			e := newEvent("alice", "member.add", len(want))
			e.Seq, e.OrgID = 99, "some-other-org" // the store assigns both
			seq, err := tx.AppendAudit(ctx, e)
			must(t, err)
			if wantSeq := int64(len(want) + 1); seq != wantSeq {
				t.Errorf("AppendAudit returned %d, want %d", seq, wantSeq)
			}
			e.Seq, e.OrgID = int64(len(want)+1), "acme"
			want = append(want, e)
		}
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		appendEvents(ctx, tx, 3)
		diff(t, "Audit inside the Update", want, collect(t, "Audit", tx.Audit(ctx, store.AuditFilter{})))
		return nil
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		appendEvents(ctx, tx, 1)
		return nil
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		appendEvents(ctx, tx, 2)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		diff(t, "Audit", want, collect(t, "Audit", r.Audit(ctx, store.AuditFilter{})))
		return nil
	})
	// Sequences are per organization.
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("other")))
		seq, err := tx.AppendAudit(ctx, newEvent("bob", "org.create", 0))
		must(t, err)
		if seq != 1 {
			t.Errorf("first AppendAudit of a second organization returned %d, want 1", seq)
		}
		return nil
	})
}

func testAuditSequenceRollback(t *testing.T, s store.Store) {
	seed(t, s, "acme") // 3 events
	boom := fmt.Errorf("boom")
	err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		for range 2 {
			if _, err := tx.AppendAudit(ctx, newEvent("bob", "x", 9)); err != nil {
				return err
			}
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update returned %v, want its function's error", err)
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		seq, err := tx.AppendAudit(ctx, newEvent("bob", "y", 10))
		must(t, err)
		if seq != 4 {
			t.Errorf("AppendAudit after a rolled back Update returned %d, want 4", seq)
		}
		return nil
	})
}

func testAuditFilter(t *testing.T, s store.Store) {
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, newOrg("acme")) })
	// Events at minutes 10..17 of actors a, b, a, b, ...; times are not in
	// Seq order everywhere: event 6 is back at minute 11.
	var all []org.AuditEvent
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		for i := range 8 {
			e := newEvent([]string{"a", "b"}[i%2], "x", i)
			if i == 6 {
				e.Time = at(11)
			}
			seq, err := tx.AppendAudit(ctx, e)
			must(t, err)
			e.Seq, e.OrgID = seq, "acme"
			all = append(all, e)
		}
		return nil
	})
	sel := func(seqs ...int64) []org.AuditEvent {
		var es []org.AuditEvent
		for _, e := range all {
			if slices.Contains(seqs, e.Seq) {
				es = append(es, e)
			}
		}
		return es
	}
	for _, c := range []struct {
		name string
		f    store.AuditFilter
		want []org.AuditEvent
	}{
		{"zero", store.AuditFilter{}, all},
		{"since", store.AuditFilter{Since: at(14)}, sel(5, 6, 8)},
		{"until", store.AuditFilter{Until: at(12)}, sel(1, 2, 7)},
		{"since and until", store.AuditFilter{Since: at(11), Until: at(13)}, sel(2, 3, 7)},
		{"empty range", store.AuditFilter{Since: at(13), Until: at(13)}, nil},
		{"since in another zone", store.AuditFilter{Since: at(14).In(time.FixedZone("UTC-7", -7*3600))}, sel(5, 6, 8)},
		{"actor", store.AuditFilter{Actor: "b"}, sel(2, 4, 6, 8)},
		{"unknown actor", store.AuditFilter{Actor: "nobody"}, nil},
		{"after seq", store.AuditFilter{AfterSeq: 5}, sel(6, 7, 8)},
		{"after the last seq", store.AuditFilter{AfterSeq: 8}, nil},
		{"after seq 0", store.AuditFilter{AfterSeq: 0}, all},
		{"all together", store.AuditFilter{Since: at(11), Until: at(17), Actor: "a", AfterSeq: 2}, sel(3, 5, 7)},
	} {
		view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
			diff(t, "Audit "+c.name, c.want, collect(t, "Audit", r.Audit(ctx, c.f)))
			return nil
		})
	}
}

func listingTests() []test {
	return []test{
		{"MembersOrderedByIDAndPagedAfter", testListMembers},
		{"MembersPagedThroughALargeOrganization", testListMembersPages},
		{"ScopesOrderedByIDAndPagedAfter", testListScopes},
		{"ScopeMembersOrderedByPrincipalAndPagedAfter", testListScopeMembers},
		{"PrincipalScopesOrderedByKindThenID", testListPrincipalScopes},
		{"ScopeRolesOrderedByID", testListScopeRoles},
		{"OrganizationsOrderedByIDAndPagedAfter", testListOrganizations},
		{"ListingsAreSingleUse", testListSingleUse},
		{"ListingsStopWhenTheLoopBreaks", testListEarlyBreak},
	}
}

// listingKeys are IDs whose byte order differs from a case-insensitive or
// numeric one, with prefixes of one another.
func listingKeys() []string {
	return []string{"a", "B", "a0", "a-b", "a/b", "Z", "~x", "0", "ab", "aa", "a.b", "b", "10", "9", "A"}
}

// probes are "after" keys that are not in listingKeys, before, between and
// past them.
func probes() []string { return []string{"!", "a1", "a.", "AA", "Zz", "zz", "~~"} }

// shuffled returns keys in a fixed scrambled order.
func shuffled(keys []string) []string {
	ks := slices.Clone(keys)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
	return ks
}

// checkPaging asserts that list(after) lists exactly the keys past after,
// in byte order, for "" and for every key and probe.
func checkPaging(t *testing.T, what string, keys []string, list func(after string) []string) {
	t.Helper()
	sorted := slices.Sorted(slices.Values(keys))
	for _, a := range append(append([]string{""}, sorted...), probes()...) {
		diff(t, fmt.Sprintf("%s after %q", what, a), after(sorted, a), list(a))
	}
}

func testListMembers(t *testing.T, s store.Store) {
	ks := listingKeys()
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for i, k := range shuffled(ks) {
			m := newMember(k, "member")
			m.External = i%3 == 0 // external members are listed too
			must(t, tx.AddMember(ctx, m))
		}
		checkPaging(t, "Members inside the Update", ks, func(a string) []string {
			return keys(collect(t, "Members", tx.Members(ctx, a)), func(m org.Member) string { return m.PrincipalID })
		})
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		checkPaging(t, "Members", ks, func(a string) []string {
			return keys(collect(t, "Members", r.Members(ctx, a)), func(m org.Member) string { return m.PrincipalID })
		})
		return nil
	})
}

func testListMembersPages(t *testing.T, s store.Store) {
	const n, page = 2000, 150
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("user-%d", i)) // "user-10" sorts before "user-2"
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for _, id := range shuffled(ids) {
			must(t, tx.AddMember(ctx, newMember(id, "member")))
		}
		return nil
	})
	var got []string
	for pages, last := 0, ""; ; pages++ {
		if pages > n/page+1 {
			t.Fatalf("still paging after %d pages of %d members: paging after the last key seen does not move on", pages, n)
		}
		var pageIDs []string
		view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
			for m, err := range r.Members(ctx, last) {
				must(t, err)
				pageIDs = append(pageIDs, m.PrincipalID)
				if len(pageIDs) == page {
					break
				}
			}
			return nil
		})
		if len(pageIDs) == 0 {
			break
		}
		got = append(got, pageIDs...)
		last = pageIDs[len(pageIDs)-1]
	}
	diff(t, "members paged through", slices.Sorted(slices.Values(ids)), got)
}

func testListScopes(t *testing.T, s store.Store) {
	ks := listingKeys()
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for _, k := range shuffled(ks) {
			must(t, tx.CreateScope(ctx, newScope("project", k)))
		}
		must(t, tx.CreateScope(ctx, newScope("service", "a5"))) // another kind, not listed
		must(t, tx.CreateScope(ctx, newScope("projects", "a6")))
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		checkPaging(t, "Scopes", ks, func(a string) []string {
			return keys(collect(t, "Scopes", r.Scopes(ctx, "project", a)), func(sc org.Scope) string { return sc.ID })
		})
		return nil
	})
}

func testListScopeMembers(t *testing.T, s store.Store) {
	ks := listingKeys()
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		must(t, tx.CreateScope(ctx, newScope("project", "p1")))
		must(t, tx.CreateScope(ctx, newScope("project", "p2")))
		for _, k := range shuffled(ks) {
			must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p1", k, "viewer")))
		}
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p2", "a5", "viewer"))) // another scope
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		checkPaging(t, "ScopeMembers", ks, func(a string) []string {
			return keys(collect(t, "ScopeMembers", r.ScopeMembers(ctx, "project", "p1", a)), func(m org.ScopeMember) string { return m.PrincipalID })
		})
		return nil
	})
}

func testListPrincipalScopes(t *testing.T, s store.Store) {
	// Ordered by kind, then ID: not by kind+"/"+ID, which would put
	// ("a-b", "x") before ("a", "z").
	want := [][2]string{{"B", "q"}, {"a", "a-b"}, {"a", "b"}, {"a", "z"}, {"a-b", "x"}, {"b", "a"}}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for _, i := range []int{3, 5, 0, 4, 2, 1} {
			k := want[i]
			must(t, tx.CreateScope(ctx, newScope(k[0], k[1])))
			must(t, tx.PutScopeMember(ctx, newScopeMember(k[0], k[1], "alice", "r-"+k[1])))
			must(t, tx.PutScopeMember(ctx, newScopeMember(k[0], k[1], "bob", "viewer")))
		}
		must(t, tx.CreateScope(ctx, newScope("a", "c")))
		return tx.PutScopeMember(ctx, newScopeMember("a", "c", "bob", "viewer"))
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		var wantMs []org.ScopeMember
		for _, k := range want {
			wantMs = append(wantMs, newScopeMember(k[0], k[1], "alice", "r-"+k[1]))
		}
		diff(t, "PrincipalScopes", wantMs, collect(t, "PrincipalScopes", r.PrincipalScopes(ctx, "alice")))
		diff(t, "PrincipalScopes of a principal with none", []org.ScopeMember(nil), collect(t, "PrincipalScopes", r.PrincipalScopes(ctx, "nobody")))
		return nil
	})
}

func testListScopeRoles(t *testing.T, s store.Store) {
	ids := []string{"r2", "R1", "r10", "r1", "r-1", "r"}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		must(t, tx.CreateScope(ctx, newScope("project", "p1")))
		must(t, tx.CreateScope(ctx, newScope("project", "p2")))
		for _, id := range ids {
			must(t, tx.PutScopeRole(ctx, newScopeRole("project", "p1", id, "doc:read")))
		}
		return tx.PutScopeRole(ctx, newScopeRole("project", "p2", "other", "doc:read"))
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got := keys(collect(t, "ScopeRoles", r.ScopeRoles(ctx, "project", "p1")), func(sr org.ScopeRole) string { return sr.ID })
		diff(t, "ScopeRoles", slices.Sorted(slices.Values(ids)), got)
		return nil
	})
}

func testListOrganizations(t *testing.T, s store.Store) {
	ks := listingKeys()
	for _, k := range shuffled(ks) {
		update(t, s, k, func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, newOrg(k)) })
	}
	// An Update that creates nothing, and one that fails, list nothing.
	update(t, s, "a1", func(context.Context, store.Tx) error { return nil })
	_ = s.Update(t.Context(), "a2", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("a2")))
		return fmt.Errorf("boom")
	})
	checkPaging(t, "Organizations", ks, func(a string) []string {
		return keys(collect(t, "Organizations", s.Organizations(t.Context(), a)), func(o org.Organization) string { return o.ID })
	})
	for _, o := range collect(t, "Organizations", s.Organizations(t.Context(), "")) {
		diff(t, "record listed by Organizations", newOrg(o.ID), o)
	}
}

// listings returns a maker of every listing of a seeded organization,
// by name: Organizations of s (made outside any View, since a store may
// need to lock organizations to list them) and, when r is not nil, those
// of r.
func listings(ctx context.Context, s store.Store, r store.Reader) map[string]func() iter.Seq2[any, error] {
	if r == nil {
		return map[string]func() iter.Seq2[any, error]{
			"Organizations": func() iter.Seq2[any, error] { return anySeq(s.Organizations(ctx, "")) },
		}
	}
	return map[string]func() iter.Seq2[any, error]{
		"Members":         func() iter.Seq2[any, error] { return anySeq(r.Members(ctx, "")) },
		"Scopes":          func() iter.Seq2[any, error] { return anySeq(r.Scopes(ctx, "project", "")) },
		"ScopeMembers":    func() iter.Seq2[any, error] { return anySeq(r.ScopeMembers(ctx, "project", "p1", "")) },
		"PrincipalScopes": func() iter.Seq2[any, error] { return anySeq(r.PrincipalScopes(ctx, "alice")) },
		"ScopeRoles":      func() iter.Seq2[any, error] { return anySeq(r.ScopeRoles(ctx, "service", "s1")) },
		"Audit":           func() iter.Seq2[any, error] { return anySeq(r.Audit(ctx, store.AuditFilter{})) },
		"Invitations":     func() iter.Seq2[any, error] { return anySeq(r.Invitations(ctx, "", false)) },
		"Invitations pending only": func() iter.Seq2[any, error] {
			return anySeq(r.Invitations(ctx, "", true))
		},
		"APIKeys": func() iter.Seq2[any, error] { return anySeq(r.APIKeys(ctx, "", "")) },
		"APIKeys of one owner": func() iter.Seq2[any, error] {
			return anySeq(r.APIKeys(ctx, "alice", ""))
		},
	}
}

// anySeq is seq with its records as any, passing yield's answer through
// unchanged so that the wrapper hides nothing the listing does.
func anySeq[V any](seq iter.Seq2[V, error]) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		seq(func(v V, err error) bool { return yield(v, err) })
	}
}

func testListSingleUse(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	check := func(ctx context.Context, r store.Reader) {
		for name, list := range listings(ctx, s, r) {
			seq := list()
			if first := collect(t, name, seq); len(first) < 2 {
				t.Fatalf("%s listed %d records, the test needs 2", name, len(first))
			}
			for v, err := range seq {
				if err == nil {
					t.Errorf("%s ranged over a second time yielded %+v; listings are single use", name, v)
				}
			}
		}
	}
	check(t.Context(), nil)
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		check(ctx, r)
		return nil
	})
}

func testListEarlyBreak(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	check := func(ctx context.Context, r store.Reader) {
		for name, list := range listings(ctx, s, r) {
			calls := 0
			list()(func(v any, err error) bool {
				calls++
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
				return false
			})
			if calls != 1 {
				t.Errorf("%s called yield %d times, want 1: it went on after yield returned false", name, calls)
			}
		}
	}
	check(t.Context(), nil)
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		check(ctx, r)
		return nil
	})
	// A listing abandoned halfway leaves the store usable.
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, newMember("dave", "member")) })
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, newMember("dave", "member")) })
}
