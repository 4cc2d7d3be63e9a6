package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

func prefetchTests() []test {
	return []test{
		{"ChangesNoResult", testPrefetchChangesNothing},
		{"NamedAtTheStartChangesNoResult", testPrefetchAtTheStart},
	}
}

// readAll reads, through r, everything the changes of prefetchSteps touch:
// every record by key, every listing's first page, the counts, in a form
// two organizations can be compared in (the organization's ID replaced by
// "ORG"). While a Prefetcher records, its reads return zero values.
func readAll(ctx context.Context, r store.Reader, orgID string) []string {
	var out []string
	add := func(what string, v any, err error) {
		out = append(out, what+": "+strings.ReplaceAll(describe(v, err), orgID, "ORG"))
	}
	list := func(what string, vs []string, err error) { add(what, vs, err) }
	o, err := r.Organization(ctx)
	add("Organization", o, err)
	c, err := r.Counts(ctx)
	add("Counts", c, err)
	for _, p := range []string{"alice", "bob", "ci", "ext", "dave", "erin"} {
		m, err := r.Member(ctx, p)
		add("Member "+p, m, err)
		ss, err := tryCollect(r.PrincipalScopes(ctx, p))
		list("PrincipalScopes "+p, keys(ss, func(s org.ScopeMember) string { return s.Kind + "/" + s.ScopeID + "=" + s.Role }), err)
		ks, err := tryCollect(r.APIKeys(ctx, p, ""))
		list("APIKeys "+p, keys(ks, func(k apikey.Key) string { return k.ID + " revoked " + k.RevokedAt.String() }), err)
		ms, err := tryCollect(r.MemberScopes(ctx, p, "project", ""))
		list("MemberScopes "+p, keys(ms, func(m org.ScopeMembership) string { return m.Scope.ID + "=" + m.Member.Role }), err)
	}
	for _, e := range []string{"dana@example.com", "erin@example.com", "dave@example.com", "fay@example.com"} {
		m, err := r.MemberByEmail(ctx, e)
		add("MemberByEmail "+e, m.PrincipalID, err)
		inv, err := r.PendingInvitation(ctx, e)
		add("PendingInvitation "+e, inv.ID, err)
	}
	ms, err := tryCollect(r.Members(ctx, ""))
	list("Members", keys(ms, func(m org.Member) string { return fmt.Sprintf("%s=%s/%s", m.PrincipalID, m.Role, m.Email) }), err)
	sps, err := tryCollect(r.ServicePrincipals(ctx, ""))
	list("ServicePrincipals", keys(sps, func(m org.Member) string { return m.PrincipalID + "=" + m.Name }), err)
	for _, kind := range []string{"project", "service"} {
		ss, err := tryCollect(r.Scopes(ctx, kind, ""))
		list("Scopes "+kind, keys(ss, func(s org.Scope) string { return s.ID }), err)
	}
	for _, sc := range [][2]string{{"project", "p1"}, {"project", "p2"}, {"project", "p3"}, {"service", "s1"}} {
		s, err := r.Scope(ctx, sc[0], sc[1])
		add("Scope "+sc[0]+"/"+sc[1], s, err)
		sms, err := tryCollect(r.ScopeMembers(ctx, sc[0], sc[1], ""))
		list("ScopeMembers "+sc[0]+"/"+sc[1], keys(sms, func(m org.ScopeMember) string { return m.PrincipalID + "=" + m.Role }), err)
		srs, err := tryCollect(r.ScopeRoles(ctx, sc[0], sc[1]))
		list("ScopeRoles "+sc[0]+"/"+sc[1], keys(srs, func(r org.ScopeRole) string { return fmt.Sprint(r.ID, r.Capabilities) }), err)
		for _, p := range []string{"alice", "ext", "dave"} {
			sm, err := r.ScopeMember(ctx, sc[0], sc[1], p)
			add("ScopeMember "+sc[0]+"/"+sc[1]+" "+p, sm, err)
		}
		for _, id := range []string{"custom-a", "r1", "r3", "r9"} {
			sr, err := r.ScopeRole(ctx, sc[0], sc[1], id)
			add("ScopeRole "+sc[0]+"/"+sc[1]+" "+id, sr, err)
		}
	}
	for _, id := range []string{orgID + "-inv-1", orgID + "-inv-2", orgID + "-inv-3", orgID + "-inv-9"} {
		inv, err := r.Invitation(ctx, id)
		inv.TokenHash = nil // made of the ID
		add("Invitation "+strings.ReplaceAll(id, orgID, "ORG"), inv, err)
	}
	invs, err := tryCollect(r.Invitations(ctx, "", false))
	list("Invitations", keys(invs, func(i invite.Invitation) string { return i.ID + "=" + i.Status.String() }), err)
	pend, err := tryCollect(r.Invitations(ctx, "", true))
	list("Invitations pending", keys(pend, func(i invite.Invitation) string { return i.ID }), err)
	for _, id := range []string{orgID + "-key-1", orgID + "-key-3", orgID + "-key-9"} {
		k, err := r.APIKey(ctx, id)
		k.Hash = nil // made of the ID
		add("APIKey "+strings.ReplaceAll(id, orgID, "ORG"), k, err)
	}
	evs, err := tryCollect(r.Audit(ctx, store.AuditFilter{}))
	list("Audit", keys(evs, func(e org.AuditEvent) string { return fmt.Sprint(e.Seq, e.Action, e.Actor) }), err)
	return out
}

// prefetchSteps are changes of every kind, and refused ones, to a seeded
// organization id, in order.
func prefetchSteps(id string) []struct {
	name string
	do   func(ctx context.Context, tx store.Tx) error
} {
	dave := newMember("dave", "member")
	dave.Email = "dave@example.com"
	bobAdmin := newMember("bob", "admin")
	bobMoved := newMember("bob", "admin")
	bobMoved.Email = "fay@example.com"
	revoked := newInvitation(id+"-inv-1", "dana@example.com", invite.Revoked)
	repend := newInvitation(id+"-inv-2", "erin@example.com", invite.Pending) // erin has one: refused
	keyRevoked := newKey(id+"-key-1", "alice", "doc:read", "doc:write")
	keyRevoked.RevokedAt = at(20)
	renamed := newOrg(id)
	renamed.Name = "Renamed"
	return []struct {
		name string
		do   func(ctx context.Context, tx store.Tx) error
	}{
		{"AddMember dave", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, dave) }},
		{"AddMember dave again", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, dave) }},
		{"AddMember with dave's address", func(ctx context.Context, tx store.Tx) error {
			m := newMember("gus", "member")
			m.Email = "dave@example.com"
			return tx.AddMember(ctx, m)
		}},
		{"UpdateMember bob", func(ctx context.Context, tx store.Tx) error { return tx.UpdateMember(ctx, bobAdmin) }},
		{"UpdateMember bob to an address", func(ctx context.Context, tx store.Tx) error { return tx.UpdateMember(ctx, bobMoved) }},
		{"UpdateMember nobody", func(ctx context.Context, tx store.Tx) error { return tx.UpdateMember(ctx, newMember("zed", "member")) }},
		{"RemoveMember ci", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "ci") }},
		{"RemoveMember ci again", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "ci") }},
		{"CreateScope p3", func(ctx context.Context, tx store.Tx) error { return tx.CreateScope(ctx, newScope("project", "p3")) }},
		{"CreateScope p3 again", func(ctx context.Context, tx store.Tx) error { return tx.CreateScope(ctx, newScope("project", "p3")) }},
		{"PutScopeMember p3 dave", func(ctx context.Context, tx store.Tx) error {
			return tx.PutScopeMember(ctx, newScopeMember("project", "p3", "dave", "viewer"))
		}},
		{"PutScopeMember into no scope", func(ctx context.Context, tx store.Tx) error {
			return tx.PutScopeMember(ctx, newScopeMember("project", "p9", "dave", "viewer"))
		}},
		{"RemoveScopeMember p1 ext", func(ctx context.Context, tx store.Tx) error { return tx.RemoveScopeMember(ctx, "project", "p1", "ext") }},
		{"RemoveScopeMember p1 ext again", func(ctx context.Context, tx store.Tx) error {
			return tx.RemoveScopeMember(ctx, "project", "p1", "ext")
		}},
		{"PutScopeRole s1 r9", func(ctx context.Context, tx store.Tx) error {
			return tx.PutScopeRole(ctx, newScopeRole("service", "s1", "r9", "svc:use"))
		}},
		{"DeleteScopeRole s1 r1", func(ctx context.Context, tx store.Tx) error { return tx.DeleteScopeRole(ctx, "service", "s1", "r1") }},
		{"DeleteScopeRole s1 r1 again", func(ctx context.Context, tx store.Tx) error { return tx.DeleteScopeRole(ctx, "service", "s1", "r1") }},
		{"DeleteScope p1", func(ctx context.Context, tx store.Tx) error { return tx.DeleteScope(ctx, "project", "p1") }},
		{"DeleteScope p1 again", func(ctx context.Context, tx store.Tx) error { return tx.DeleteScope(ctx, "project", "p1") }},
		{"AppendAudit", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.AppendAudit(ctx, newEvent("dave", "step", 1))
			return err
		}},
		{"UpdateInvitation revoke dana's", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, revoked) }},
		{"UpdateInvitation a second pending to erin", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, repend) }},
		{"CreateInvitation to dana", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateInvitation(ctx, newInvitation(id+"-inv-9", "dana@example.com", invite.Pending))
		}},
		{"CreateInvitation a second pending to dana", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateInvitation(ctx, newInvitation(id+"-inv-10", "dana@example.com", invite.Pending))
		}},
		{"UpdateAPIKey revoke", func(ctx context.Context, tx store.Tx) error { return tx.UpdateAPIKey(ctx, keyRevoked) }},
		{"CreateAPIKey", func(ctx context.Context, tx store.Tx) error { return tx.CreateAPIKey(ctx, newKey(id+"-key-9", "dave")) }},
		{"CreateAPIKey again", func(ctx context.Context, tx store.Tx) error { return tx.CreateAPIKey(ctx, newKey(id+"-key-9", "dave")) }},
		{"UpdateOrganization", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, renamed) }},
	}
}

// errClass is what an error of a step must match alike with and without
// a Prefetch.
func errClass(err error) string {
	for _, s := range []error{store.ErrMemberNotFound, store.ErrOrganizationNotFound, store.ErrNotFound, store.ErrExists} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return "ok"
}

// testPrefetchChangesNothing runs the same changes in two seeded
// organizations, one Update each: in the first, before each change,
// everything is prefetched (store.Prefetch, a hint the store may follow
// or not). Each change must fail or succeed alike, the reads after each
// must agree, and so must what each committed: a store that remembers
// reads must keep them true through its own writes.
func testPrefetchChangesNothing(t *testing.T, s store.Store) {
	a, b := "pre-a", "pre-b"
	seed(t, s, a)
	seed(t, s, b)
	run := func(id string, hinted bool) (errs []string, reads [][]string) {
		update(t, s, id, func(ctx context.Context, tx store.Tx) error {
			for _, step := range prefetchSteps(id) {
				if hinted {
					if err := store.Prefetch(ctx, tx, func(r store.Reader) { readAll(ctx, r, id) }); err != nil {
						t.Errorf("%s: Prefetch: %v", step.name, err)
					}
				}
				errs = append(errs, step.name+": "+errClass(step.do(ctx, tx)))
				if hinted {
					// Half the steps again after a hint of everything, so
					// that the reads below are answered from it.
					_ = store.Prefetch(ctx, tx, func(r store.Reader) { readAll(ctx, r, id) })
				}
				reads = append(reads, readAll(ctx, tx, id))
			}
			return nil
		})
		return errs, reads
	}
	errsA, readsA := run(a, true)
	errsB, readsB := run(b, false)
	diff(t, "the outcomes of the changes", errsB, errsA)
	for i := range readsA {
		if i < len(readsB) {
			diff(t, fmt.Sprintf("the reads after step %d (%s)", i, prefetchSteps(a)[i].name), readsB[i], readsA[i])
		}
	}
	var afterA, afterB []string
	view(t, s, a, func(ctx context.Context, r store.Reader) error { afterA = readAll(ctx, r, a); return nil })
	view(t, s, b, func(ctx context.Context, r store.Reader) error { afterB = readAll(ctx, r, b); return nil })
	diff(t, "what was committed", afterB, afterA)
}

// testPrefetchAtTheStart names every read at the start of an Update and
// of a View (store.UpdateWith, store.ViewWith), then reads: the same as
// without the hint.
func testPrefetchAtTheStart(t *testing.T, s store.Store) {
	id := "pre-start"
	seed(t, s, id)
	var plain, hintedView, hintedUpdate []string
	view(t, s, id, func(ctx context.Context, r store.Reader) error { plain = readAll(ctx, r, id); return nil })
	hint := func(r store.Reader) { readAll(t.Context(), r, id) }
	must(t, store.ViewWith(t.Context(), s, id, hint, func(ctx context.Context, r store.Reader) error {
		hintedView = readAll(ctx, r, id)
		return nil
	}))
	must(t, store.UpdateWith(t.Context(), s, id, hint, func(ctx context.Context, tx store.Tx) error {
		hintedUpdate = readAll(ctx, tx, id)
		return nil
	}))
	diff(t, "a View named its reads", plain, hintedView)
	diff(t, "an Update named its reads", plain, hintedUpdate)
	// An organization that does not exist: the hint finds nothing either.
	var missing, missingHinted []string
	view(t, s, "pre-none", func(ctx context.Context, r store.Reader) error { missing = readAll(ctx, r, "pre-none"); return nil })
	must(t, store.ViewWith(t.Context(), s, "pre-none", func(r store.Reader) { readAll(t.Context(), r, "pre-none") }, func(ctx context.Context, r store.Reader) error {
		missingHinted = readAll(ctx, r, "pre-none")
		return nil
	}))
	diff(t, "a View of no organization named its reads", missing, missingHinted)
}
