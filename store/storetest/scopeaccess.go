package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

// The tests of Store.ScopeAccess: what it answers at every level (no
// organization, no member, no resource, no role there, a role of the
// kind, a custom role), that it answers the caller's own last Update, all
// of one or none of a concurrent one, and that what it shares is never
// changed behind the caller's back. Rollbacks, done contexts and Close
// are checked with the other entry points (snapshot, testDoneContext,
// testClosed).

func scopeAccessTests() []test {
	return []test{
		{"EveryLevel", testScopeAccessLevels},
		{"SentinelsThemselves", testScopeAccessSentinels},
		{"ReadYourWrites", testScopeAccessFresh},
		{"AllOfAnUpdateOrNone", testScopeAccessAtomic},
		{"SharedCapabilitiesNeverChange", testScopeAccessShared},
	}
}

// scopeAccess returns s.ScopeAccess, described: the answer, or the
// sentinel its error matches.
func scopeAccess(t *testing.T, s store.Store, orgID, principalID, kind, scopeID string) string {
	t.Helper()
	a, err := s.ScopeAccess(t.Context(), orgID, principalID, kind, scopeID)
	if err != nil && !isZero(a) {
		t.Errorf("ScopeAccess(%q, %q, %s/%s) = %+v with error %v: want a zero answer with an error", orgID, principalID, kind, scopeID, a, err)
	}
	return describe(a, err)
}

// isZero reports whether a is the zero ScopeAccess.
func isZero(a store.ScopeAccess) bool {
	return a.Access == (store.Access{}) && !a.ScopeFound && !a.ScopeMember && a.ScopeRole == "" && !a.CustomRole && a.Capabilities == nil
}

// wantScopeAccess fails the test unless s answers want (nil for the
// error target) for (orgID, principalID, kind, scopeID).
func wantScopeAccess(t *testing.T, what string, s store.Store, orgID, principalID, kind, scopeID string, want *store.ScopeAccess, target error) {
	t.Helper()
	got, err := s.ScopeAccess(t.Context(), orgID, principalID, kind, scopeID)
	where := fmt.Sprintf("%s: ScopeAccess(%q, %q, %s/%s)", what, orgID, principalID, kind, scopeID)
	if want == nil {
		wantErr(t, where, err, is(target))
		if target == store.ErrMemberNotFound {
			wantErr(t, where, err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		}
		if target == store.ErrOrganizationNotFound {
			wantErr(t, where, err, is(store.ErrNotFound), store.ErrMemberNotFound)
		}
		if !isZero(got) {
			t.Errorf("%s = %+v with its error, want a zero answer", where, got)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	got.Access = codeless(t, s, got.Access)
	diff(t, where, *want, got)
}

// scopeAnswer is a ScopeAccess fixture: access a, and what it holds on the
// resource.
func scopeAnswer(a *store.Access, found bool, roleID string, custom bool, caps ...role.Capability) *store.ScopeAccess {
	sa := &store.ScopeAccess{Access: *a, ScopeFound: found}
	if roleID != "" {
		sa.ScopeMember, sa.ScopeRole = true, roleID
	}
	if custom {
		sa.CustomRole, sa.Capabilities = true, caps
	}
	return sa
}

func testScopeAccessLevels(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		// A custom role, held; a role neither of the kind nor custom
		// (the store does not know which roles a kind has: it only says
		// whether one is custom).
		must(t, tx.PutScopeMember(ctx, newScopeMember("service", "s1", "bob", "r3")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p2", "ci", "custom-a")))
		// A custom role without capabilities.
		must(t, tx.PutScopeRole(ctx, newScopeRole("project", "p2", "empty")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p2", "alice", "empty")))
		// A former member keeps its scope membership (RemoveMember
		// removes the member record only).
		must(t, tx.AddMember(ctx, newMember("gone", "member")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p1", "gone", "viewer")))
		return tx.RemoveMember(ctx, "gone")
	})
	access := func(p string) *store.Access {
		a, err := s.Access(t.Context(), "acme", p)
		must(t, err)
		a = codeless(t, s, a)
		return &a
	}
	alice, bob, ci, ext := access("alice"), access("bob"), access("ci"), access("ext")
	if !ext.External || ci.Kind != org.ServicePrincipal {
		t.Fatalf("Access of the fixtures: ext %+v, ci %+v", ext, ci)
	}
	for _, c := range []struct {
		what                    string
		orgID, p, kind, scopeID string
		want                    *store.ScopeAccess
		err                     error
	}{
		{"no organization", "nowhere", "alice", "project", "p1", nil, store.ErrOrganizationNotFound},
		{"no organization, with a resource ID another has", "acm", "alice", "project", "p1", nil, store.ErrOrganizationNotFound},
		{"no member", "acme", "ghost", "project", "p1", nil, store.ErrMemberNotFound},
		{"a former member still in the resource", "acme", "gone", "project", "p1", nil, store.ErrMemberNotFound},
		{"no member, no resource", "acme", "ghost", "project", "nope", nil, store.ErrMemberNotFound},
		{"no resource", "acme", "alice", "project", "p3", scopeAnswer(alice, false, "", false), nil},
		{"no resource of the kind (another kind has the ID)", "acme", "alice", "service", "p1", scopeAnswer(alice, false, "", false), nil},
		{"no resource of the kind", "acme", "alice", "workspace", "s1", scopeAnswer(alice, false, "", false), nil},
		{"no role there", "acme", "bob", "project", "p1", scopeAnswer(bob, true, "", false), nil},
		{"a role of the kind", "acme", "alice", "project", "p1", scopeAnswer(alice, true, "project-admin", false), nil},
		{"a role of the kind, by a member of another resource", "acme", "bob", "project", "p2", scopeAnswer(bob, true, "viewer", false), nil},
		{"an external member's role", "acme", "ext", "project", "p1", scopeAnswer(ext, true, "viewer", false), nil},
		{"a role that is no custom role of the resource", "acme", "alice", "service", "s1", scopeAnswer(alice, true, "svc-user", false), nil},
		{"a custom role", "acme", "bob", "service", "s1", scopeAnswer(bob, true, "r3", true, "svc:use", "svc:admin"), nil},
		{"a custom role of another resource", "acme", "ci", "project", "p2", scopeAnswer(ci, true, "custom-a", false), nil},
		{"a custom role without capabilities", "acme", "alice", "project", "p2", scopeAnswer(alice, true, "empty", true), nil},
	} {
		// Twice: the second answer may come from a cache.
		for i := range 2 {
			wantScopeAccess(t, fmt.Sprintf("%s (#%d)", c.what, i+1), s, c.orgID, c.p, c.kind, c.scopeID, c.want, c.err)
		}
	}
	// The organization's standing is Access's.
	o := newOrg("acme")
	o.Scheme, o.Edition, o.Archived = "scheme-2", "enterprise", true
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, o) })
	wantScopeAccess(t, "archived", s, "acme", "alice", "project", "p1",
		scopeAnswer(&store.Access{Scheme: "scheme-2", Edition: "enterprise", Archived: true, Role: "admin", Kind: org.User}, true, "project-admin", false), nil)
	// Another organization's resources are its own.
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.DeleteScope(ctx, "project", "p1") })
	wantScopeAccess(t, "the resource deleted in another organization", s, "acme", "alice", "project", "p1",
		scopeAnswer(&store.Access{Scheme: "scheme-2", Edition: "enterprise", Archived: true, Role: "admin", Kind: org.User}, true, "project-admin", false), nil)
	wantScopeAccess(t, "the deleted resource", s, "other", "alice", "project", "p1", scopeAnswer(seedAccess("alice"), false, "", false), nil)
}

func testScopeAccessSentinels(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	// Twice: the second answer may come from a cache, and must be the
	// sentinel too. The contract allows the sentinels themselves: what it
	// requires is that they match.
	for range 2 {
		_, err := s.ScopeAccess(t.Context(), "nowhere", "alice", "project", "p1")
		if !errors.Is(err, store.ErrOrganizationNotFound) || !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrMemberNotFound) {
			t.Errorf("ScopeAccess of a missing organization: %v", err)
		}
		_, err = s.ScopeAccess(t.Context(), "acme", "ghost", "project", "p1")
		if !errors.Is(err, store.ErrMemberNotFound) || !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrOrganizationNotFound) {
			t.Errorf("ScopeAccess of a missing member: %v", err)
		}
	}
}

// testScopeAccessFresh changes everything a scope check reads, one Update
// at a time, reading before each change (so that a cache holds the old
// answer) and after it: the answer after is always the Update's.
func testScopeAccessFresh(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	const kind, id = "project", "p1"
	bob := func(roleID string) *store.Access {
		return &store.Access{Scheme: "scheme-1", Edition: "pro", Role: roleID, Kind: org.User}
	}
	steps := []struct {
		what   string
		change func(ctx context.Context, tx store.Tx) error
		want   *store.ScopeAccess
		err    error
	}{
		{"bob given a role of the kind", func(ctx context.Context, tx store.Tx) error {
			return tx.PutScopeMember(ctx, newScopeMember(kind, id, "bob", "viewer"))
		}, scopeAnswer(bob("member"), true, "viewer", false), nil},
		{"bob given the custom role", func(ctx context.Context, tx store.Tx) error {
			return tx.PutScopeMember(ctx, newScopeMember(kind, id, "bob", "custom-a"))
		}, scopeAnswer(bob("member"), true, "custom-a", true, "doc:read"), nil},
		{"the custom role's capabilities changed", func(ctx context.Context, tx store.Tx) error {
			return tx.PutScopeRole(ctx, newScopeRole(kind, id, "custom-a", "doc:read", "doc:write"))
		}, scopeAnswer(bob("member"), true, "custom-a", true, "doc:read", "doc:write"), nil},
		{"bob's organization role changed", func(ctx context.Context, tx store.Tx) error {
			return tx.UpdateMember(ctx, newMember("bob", "admin"))
		}, scopeAnswer(bob("admin"), true, "custom-a", true, "doc:read", "doc:write"), nil},
		{"the custom role deleted", func(ctx context.Context, tx store.Tx) error {
			return tx.DeleteScopeRole(ctx, kind, id, "custom-a")
		}, scopeAnswer(bob("admin"), true, "custom-a", false), nil},
		{"the custom role made again", func(ctx context.Context, tx store.Tx) error {
			return tx.PutScopeRole(ctx, newScopeRole(kind, id, "custom-a", "doc:write"))
		}, scopeAnswer(bob("admin"), true, "custom-a", true, "doc:write"), nil},
		{"bob's role there taken away", func(ctx context.Context, tx store.Tx) error {
			return tx.RemoveScopeMember(ctx, kind, id, "bob")
		}, scopeAnswer(bob("admin"), true, "", false), nil},
		{"the resource deleted", func(ctx context.Context, tx store.Tx) error {
			return tx.DeleteScope(ctx, kind, id)
		}, scopeAnswer(bob("admin"), false, "", false), nil},
		{"the resource made again, bob in it", func(ctx context.Context, tx store.Tx) error {
			must(t, tx.CreateScope(ctx, newScope(kind, id)))
			return tx.PutScopeMember(ctx, newScopeMember(kind, id, "bob", "custom-a"))
		}, scopeAnswer(bob("admin"), true, "custom-a", false), nil},
		{"bob removed from the organization", func(ctx context.Context, tx store.Tx) error {
			return tx.RemoveMember(ctx, "bob")
		}, nil, store.ErrMemberNotFound},
		{"bob back", func(ctx context.Context, tx store.Tx) error {
			return tx.AddMember(ctx, newMember("bob", "viewer"))
		}, scopeAnswer(bob("viewer"), true, "custom-a", false), nil},
		{"the organization archived", func(ctx context.Context, tx store.Tx) error {
			o := newOrg("acme")
			o.Archived = true
			return tx.UpdateOrganization(ctx, o)
		}, scopeAnswer(&store.Access{Scheme: "scheme-1", Edition: "pro", Archived: true, Role: "viewer", Kind: org.User}, true, "custom-a", false), nil},
		{"the organization deleted", func(ctx context.Context, tx store.Tx) error {
			return tx.DeleteOrganization(ctx)
		}, nil, store.ErrOrganizationNotFound},
		{"the organization made again", func(ctx context.Context, tx store.Tx) error {
			must(t, tx.CreateOrganization(ctx, newOrg("acme")))
			must(t, tx.AddMember(ctx, newMember("bob", "member")))
			must(t, tx.CreateScope(ctx, newScope(kind, id)))
			must(t, tx.PutScopeRole(ctx, newScopeRole(kind, id, "custom-a", "doc:read")))
			return tx.PutScopeMember(ctx, newScopeMember(kind, id, "bob", "custom-a"))
		}, scopeAnswer(bob("member"), true, "custom-a", true, "doc:read"), nil},
	}
	for i, st := range steps {
		for range 2 {
			scopeAccess(t, s, "acme", "bob", kind, id)
		}
		update(t, s, "acme", st.change)
		wantScopeAccess(t, fmt.Sprintf("step %d, after %s", i+1, st.what), s, "acme", "bob", kind, id, st.want, st.err)
	}
	// Many times over, as Access is checked (testMemberAccessFresh).
	roles := []string{"viewer", "custom-a", "project-admin"}
	for i := range 60 {
		r := roles[i%len(roles)]
		update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
			return tx.PutScopeMember(ctx, newScopeMember(kind, id, "bob", r))
		})
		a, err := s.ScopeAccess(t.Context(), "acme", "bob", kind, id)
		must(t, err)
		if a.ScopeRole != r || a.CustomRole != (r == "custom-a") {
			t.Fatalf("ScopeAccess after the Update that gave bob %s: %+v", r, a)
		}
	}
}

// testScopeAccessAtomic runs Updates that change bob's organization role,
// his role on a resource and that role's capabilities together, each time
// to values numbered alike, while readers check that every answer has one
// number throughout.
func testScopeAccessAtomic(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	const kind, id, updates = "project", "p1", 40
	set := func(ctx context.Context, tx store.Tx, i int) error {
		n := fmt.Sprint(i)
		must(t, tx.UpdateMember(ctx, newMember("bob", "role-"+n)))
		must(t, tx.PutScopeRole(ctx, newScopeRole(kind, id, "custom-"+n, role.Capability("cap:"+n))))
		return tx.PutScopeMember(ctx, newScopeMember(kind, id, "bob", "custom-"+n))
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return set(ctx, tx, 0) })
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				a, err := s.ScopeAccess(t.Context(), "acme", "bob", kind, id)
				if err != nil {
					t.Errorf("ScopeAccess: %v", err)
					return
				}
				reads.Add(1)
				n, _ := strings.CutPrefix(a.Access.Role, "role-")
				if a.ScopeRole != "custom-"+n || !a.CustomRole || len(a.Capabilities) != 1 || a.Capabilities[0] != role.Capability("cap:"+n) {
					t.Errorf("ScopeAccess = %+v: parts of different Updates", a)
					return
				}
			}
		})
	}
	for i := 1; i <= updates; i++ {
		update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return set(ctx, tx, i) })
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d Updates, %d concurrent reads", updates, reads.Load())
}

// testScopeAccessShared checks that the Capabilities a ScopeAccess shares
// are never changed by the store: not by a later change of the role, nor
// by a change of the record passed in, and that the store keeps its own
// copy of what it was given.
func testScopeAccessShared(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	r := newScopeRole("service", "s1", "r9", "svc:use", "svc:admin")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.PutScopeRole(ctx, r))
		return tx.PutScopeMember(ctx, newScopeMember("service", "s1", "bob", "r9"))
	})
	r.Capabilities[0] = "changed:after" // the caller's record, after the Update
	first, err := s.ScopeAccess(t.Context(), "acme", "bob", "service", "s1")
	must(t, err)
	want := []role.Capability{"svc:use", "svc:admin"}
	diff(t, "Capabilities after the record passed in changed", want, first.Capabilities)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		return tx.PutScopeRole(ctx, newScopeRole("service", "s1", "r9", "svc:other"))
	})
	diff(t, "Capabilities answered before the role changed", want, first.Capabilities)
	got, err := s.ScopeAccess(t.Context(), "acme", "bob", "service", "s1")
	must(t, err)
	diff(t, "Capabilities after the role changed", []role.Capability{"svc:other"}, got.Capabilities)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.DeleteScopeRole(ctx, "service", "s1", "r9") })
	diff(t, "Capabilities answered before the role was deleted", []role.Capability{"svc:other"}, got.Capabilities)
}
