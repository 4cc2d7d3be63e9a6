package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

func organizationTests() []test {
	return []test{
		{"CreateReadUpdateDelete", testOrganizationCRUD},
		{"CreateExistingFailsWithErrExists", testOrganizationExists},
		{"CreateWithAnotherIDFails", testOrganizationCreateOtherID},
		{"UpdateCannotChangeID", testOrganizationUpdateOtherID},
		{"UpdateThatCreatesNothingLeavesNoTrace", testOrganizationNoTrace},
		{"MissingOrganizationFailsEveryMethod", testOrganizationMissing},
		{"DeleteRemovesEverything", testOrganizationDelete},
		{"DeleteAndCreateInOneUpdateStartsEmpty", testOrganizationDeleteCreate},
	}
}

func testOrganizationCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := newOrg("acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		return tx.CreateOrganization(ctx, o)
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.Organization(ctx)
		must(t, err)
		diff(t, "Organization after create", o, got)
		return nil
	})
	diff(t, "Organizations after create", []org.Organization{o}, collect(t, "Organizations", s.Organizations(ctx, "")))
	_, err := s.Access(ctx, "acme", "nobody")
	wantErr(t, "Access of a non-member", err, is(store.ErrMemberNotFound, store.ErrNotFound), store.ErrOrganizationNotFound)

	changed := o
	changed.Name = "Acme Renamed"
	changed.Scheme = "scheme-2"
	changed.Edition = "enterprise"
	changed.SeatOverride = 250
	changed.Settings = map[string]string{"region": "us"}
	changed.Archived = true
	changed.UpdatedAt = at(7)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.AddMember(ctx, newMember("alice", "admin")))
		return tx.UpdateOrganization(ctx, changed)
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.Organization(ctx)
		must(t, err)
		diff(t, "Organization after update", changed, got)
		return nil
	})
	diff(t, "Organizations after update", []org.Organization{changed}, collect(t, "Organizations", s.Organizations(ctx, "")))
	a, err := s.Access(ctx, "acme", "alice")
	must(t, err)
	diff(t, "Access after update", store.Access{Scheme: "scheme-2", Edition: "enterprise", Archived: true, Role: "admin", Kind: org.User}, codeless(t, s, a))

	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteOrganization(ctx)
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		_, err := r.Organization(ctx)
		wantErr(t, "Organization after delete", err, is(store.ErrOrganizationNotFound, store.ErrNotFound), store.ErrMemberNotFound)
		return nil
	})
	diff(t, "Organizations after delete", []org.Organization(nil), collect(t, "Organizations", s.Organizations(ctx, "")))
	_, err = s.Access(ctx, "acme", "alice")
	wantErr(t, "Access after delete", err, is(store.ErrOrganizationNotFound, store.ErrNotFound), store.ErrMemberNotFound)
}

func testOrganizationExists(t *testing.T, s store.Store) {
	o := newOrg("acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, o))
		other := o
		other.Name = "Second"
		wantErr(t, "CreateOrganization twice in one Update", tx.CreateOrganization(ctx, other), is(store.ErrExists))
		return nil
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		other := o
		other.Name = "Third"
		wantErr(t, "CreateOrganization of an existing one", tx.CreateOrganization(ctx, other), is(store.ErrExists))
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.Organization(ctx)
		must(t, err)
		diff(t, "Organization after failed creates", o, got)
		return nil
	})
}

func testOrganizationCreateOtherID(t *testing.T, s store.Store) {
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, newOrg("other")); err == nil {
			t.Error("CreateOrganization with an ID other than the Update's succeeded")
		}
		return nil
	})
	if got := collect(t, "Organizations", s.Organizations(t.Context(), "")); len(got) != 0 {
		t.Errorf("Organizations after a refused create: %+v, want none", got)
	}
}

func testOrganizationUpdateOtherID(t *testing.T, s store.Store) {
	o := newOrg("acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, o) })
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		other := newOrg("other")
		other.Name = "Changed"
		if err := tx.UpdateOrganization(ctx, other); err == nil {
			t.Error("UpdateOrganization with another ID succeeded")
		}
		return nil
	})
	diff(t, "Organizations after a refused ID change", []org.Organization{o}, collect(t, "Organizations", s.Organizations(t.Context(), "")))
}

func testOrganizationNoTrace(t *testing.T, s store.Store) {
	called := false
	update(t, s, "ghost", func(ctx context.Context, tx store.Tx) error {
		called = true
		_, err := tx.Organization(ctx)
		wantErr(t, "Organization in an Update of a missing organization", err, is(store.ErrOrganizationNotFound, store.ErrNotFound))
		return nil
	})
	if !called {
		t.Fatal("Update did not call its function")
	}
	if got := collect(t, "Organizations", s.Organizations(t.Context(), "")); len(got) != 0 {
		t.Errorf("Organizations after an Update that created nothing: %+v, want none", got)
	}
	_, err := s.Access(t.Context(), "ghost", "alice")
	wantErr(t, "Access after an Update that created nothing", err, is(store.ErrOrganizationNotFound))
	// The ID is still free.
	update(t, s, "ghost", func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, newOrg("ghost")) })
}

// testOrganizationMissing checks that every method of a Reader and a Tx
// fails with ErrOrganizationNotFound when the organization does not exist,
// and that View still calls its function.
func testOrganizationMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, "present") // something else exists
	notFound := is(store.ErrOrganizationNotFound, store.ErrNotFound)
	readerChecks := func(t *testing.T, ctx context.Context, r store.Reader) {
		t.Helper()
		_, err := r.Organization(ctx)
		wantErr(t, "Organization", err, notFound, store.ErrMemberNotFound)
		_, err = r.Member(ctx, "alice")
		wantErr(t, "Member", err, notFound, store.ErrMemberNotFound)
		_, err = r.Counts(ctx)
		wantErr(t, "Counts", err, notFound)
		_, err = r.Scope(ctx, "project", "p1")
		wantErr(t, "Scope", err, notFound)
		_, err = r.ScopeMember(ctx, "project", "p1", "alice")
		wantErr(t, "ScopeMember", err, notFound)
		_, err = r.ScopeRole(ctx, "project", "p1", "custom-a")
		wantErr(t, "ScopeRole", err, notFound)
		wantErr(t, "Members", listingErr(t, "Members", r.Members(ctx, "")), notFound)
		wantErr(t, "Scopes", listingErr(t, "Scopes", r.Scopes(ctx, "project", "")), notFound)
		wantErr(t, "ScopeMembers", listingErr(t, "ScopeMembers", r.ScopeMembers(ctx, "project", "p1", "")), notFound)
		wantErr(t, "PrincipalScopes", listingErr(t, "PrincipalScopes", r.PrincipalScopes(ctx, "alice")), notFound)
		wantErr(t, "ScopeRoles", listingErr(t, "ScopeRoles", r.ScopeRoles(ctx, "project", "p1")), notFound)
		wantErr(t, "Audit", listingErr(t, "Audit", r.Audit(ctx, store.AuditFilter{})), notFound)
		_, err = r.Invitation(ctx, "present-inv-1")
		wantErr(t, "Invitation", err, notFound)
		_, err = r.PendingInvitation(ctx, "dana@example.com")
		wantErr(t, "PendingInvitation", err, notFound)
		wantErr(t, "Invitations", listingErr(t, "Invitations", r.Invitations(ctx, "", false)), notFound)
		wantErr(t, "Invitations pending only", listingErr(t, "Invitations", r.Invitations(ctx, "", true)), notFound)
		_, err = r.APIKey(ctx, "present-key-1")
		wantErr(t, "APIKey", err, notFound)
		wantErr(t, "APIKeys", listingErr(t, "APIKeys", r.APIKeys(ctx, "", "")), notFound)
		wantErr(t, "APIKeys of one owner", listingErr(t, "APIKeys", r.APIKeys(ctx, "alice", "")), notFound)
	}
	called := false
	err := s.View(ctx, "missing", func(ctx context.Context, r store.Reader) error {
		called = true
		readerChecks(t, ctx, r)
		return nil
	})
	if err != nil || !called {
		t.Errorf("View of a missing organization: called fn %v, returned %v; want fn called and nil", called, err)
	}
	update(t, s, "missing", func(ctx context.Context, tx store.Tx) error {
		readerChecks(t, ctx, tx)
		wantErr(t, "UpdateOrganization", tx.UpdateOrganization(ctx, newOrg("missing")), notFound)
		wantErr(t, "DeleteOrganization", tx.DeleteOrganization(ctx), notFound)
		wantErr(t, "AddMember", tx.AddMember(ctx, newMember("alice", "admin")), notFound)
		wantErr(t, "UpdateMember", tx.UpdateMember(ctx, newMember("alice", "admin")), notFound)
		wantErr(t, "RemoveMember", tx.RemoveMember(ctx, "alice"), notFound)
		wantErr(t, "CreateScope", tx.CreateScope(ctx, newScope("project", "p1")), notFound)
		wantErr(t, "DeleteScope", tx.DeleteScope(ctx, "project", "p1"), notFound)
		wantErr(t, "PutScopeMember", tx.PutScopeMember(ctx, newScopeMember("project", "p1", "alice", "viewer")), notFound)
		wantErr(t, "RemoveScopeMember", tx.RemoveScopeMember(ctx, "project", "p1", "alice"), notFound)
		wantErr(t, "PutScopeRole", tx.PutScopeRole(ctx, newScopeRole("project", "p1", "r")), notFound)
		wantErr(t, "DeleteScopeRole", tx.DeleteScopeRole(ctx, "project", "p1", "r"), notFound)
		_, err := tx.AppendAudit(ctx, newEvent("alice", "x", 0))
		wantErr(t, "AppendAudit", err, notFound)
		wantErr(t, "CreateInvitation", tx.CreateInvitation(ctx, newInvitation("inv-new", "dana@example.com", invite.Pending)), notFound)
		wantErr(t, "UpdateInvitation", tx.UpdateInvitation(ctx, seedInvitations("present")[0]), notFound)
		wantErr(t, "CreateAPIKey", tx.CreateAPIKey(ctx, newKey("key-new", "alice")), notFound)
		wantErr(t, "UpdateAPIKey", tx.UpdateAPIKey(ctx, seedKeys("present")[0]), notFound)
		return nil
	})
	_, err = s.InvitationToken(ctx, "inv-new")
	wantErr(t, "InvitationToken of the invitation refused", err, is(store.ErrNotFound))
	_, err = s.KeyAccess(ctx, "key-new")
	wantErr(t, "KeyAccess of the API key refused", err, is(store.ErrNotFound))
	_, err = s.Access(ctx, "missing", "alice")
	wantErr(t, "Access", err, notFound, store.ErrMemberNotFound)
	// The other organization is untouched.
	if _, err := s.Access(ctx, "present", "alice"); err != nil {
		t.Errorf("Access to the seeded organization: %v", err)
	}
}

func testOrganizationDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, "acme")
	seed(t, s, "other")
	otherBefore := snapshot(t, s, "other")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
	err := s.View(ctx, "acme", func(ctx context.Context, r store.Reader) error {
		_, err := r.Member(ctx, "alice")
		wantErr(t, "Member after delete", err, is(store.ErrOrganizationNotFound))
		_, err = r.Scope(ctx, "project", "p1")
		wantErr(t, "Scope after delete", err, is(store.ErrOrganizationNotFound))
		return nil
	})
	must(t, err)
	_, err = s.Access(ctx, "acme", "alice")
	wantErr(t, "Access after delete", err, is(store.ErrOrganizationNotFound))
	diff(t, "other organization after delete", otherBefore.Listed[1:], snapshot(t, s, "other").Listed)

	// A new organization with the same ID starts empty.
	fresh := newOrg("acme")
	fresh.Name = "Fresh"
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, fresh))
		seq, err := tx.AppendAudit(ctx, newEvent("zoe", "org.create", 0))
		must(t, err)
		if seq != 1 {
			t.Errorf("first AppendAudit of a re-created organization returned %d, want 1", seq)
		}
		return nil
	})
	got := snapshot(t, s, "acme")
	if !got.Exists || got.Organization.Name != "Fresh" {
		t.Errorf("re-created organization: %+v", got.Organization)
	}
	if len(got.Members) != 0 || len(got.Scopes) != 0 || len(got.ScopeMembers) != 0 || len(got.ScopeRoles) != 0 || len(got.PrincipalScopes) != 0 || len(got.Invitations) != 0 || len(got.Pending) != 0 || len(got.Keys) != 0 || len(got.KeysByOwner) != 0 {
		t.Errorf("re-created organization is not empty: %+v", got)
	}
	for id, k := range got.KeyAccess {
		if k != "not found" {
			t.Errorf("KeyAccess of %s after its organization was deleted and created again: %s, want not found", id, k)
		}
	}
	for e, inv := range got.PendingTo {
		if inv != "not found" {
			t.Errorf("PendingInvitation to %s in the re-created organization: %s, want not found", e, inv)
		}
	}
	diff(t, "Counts of the re-created organization", store.Counts{}, got.Counts)
	if len(got.Audit) != 1 || got.Audit[0].Seq != 1 || got.Audit[0].Actor != "zoe" {
		t.Errorf("audit of the re-created organization: %+v, want the one new event with Seq 1", got.Audit)
	}
	for p, a := range got.Access {
		if a != "member not found" {
			t.Errorf("Access of %s in the re-created organization: %s, want member not found", p, a)
		}
	}
	after := snapshot(t, s, "other")
	after.Listed = otherBefore.Listed
	diff(t, "other organization", otherBefore, after)
}

func testOrganizationDeleteCreate(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.DeleteOrganization(ctx))
		o := newOrg("acme")
		o.Name = "Again"
		must(t, tx.CreateOrganization(ctx, o))
		if ms := collect(t, "Members", tx.Members(ctx, "")); len(ms) != 0 {
			t.Errorf("members after delete and create in one Update: %+v", ms)
		}
		seq, err := tx.AppendAudit(ctx, newEvent("zoe", "org.create", 0))
		must(t, err)
		if seq != 1 {
			t.Errorf("AppendAudit after delete and create in one Update returned %d, want 1", seq)
		}
		return nil
	})
	got := snapshot(t, s, "acme")
	if got.Organization.Name != "Again" || len(got.Members) != 0 || len(got.Scopes) != 0 || len(got.PrincipalScopes) != 0 || len(got.ScopeRoles) != 0 || len(got.Audit) != 1 || len(got.Invitations) != 0 || len(got.Keys) != 0 || len(got.KeysByOwner) != 0 {
		t.Errorf("organization deleted and created in one Update is not new and empty: %+v", got)
	}
	diff(t, "Counts", store.Counts{}, got.Counts)
}

func memberTests() []test {
	return []test{
		{"AddReadUpdateRemove", testMemberCRUD},
		{"AddExistingFailsWithErrExists", testMemberExists},
		{"UpdateOrRemoveMissingFailsWithErrMemberNotFound", testMemberMissing},
		{"RemoveKeepsScopeMemberships", testMemberRemoveKeepsScopes},
		{"AccessSeesTheCallersLastUpdate", testMemberAccessFresh},
	}
}

func testMemberCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := newMember("alice", "admin")
	ci := org.Member{PrincipalID: "ci", Kind: org.ServicePrincipal, Name: "deploy bot", Role: "member", JoinedAt: at(8)}
	ext := org.Member{PrincipalID: "ext", Kind: org.User, Role: "external", External: true, JoinedAt: at(9)}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for _, m := range []org.Member{alice, ci, ext} {
			must(t, tx.AddMember(ctx, m))
		}
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		for _, want := range []org.Member{alice, ci, ext} {
			got, err := r.Member(ctx, want.PrincipalID)
			must(t, err)
			diff(t, "Member "+want.PrincipalID, want, got)
		}
		diff(t, "Members", []org.Member{alice, ci, ext}, collect(t, "Members", r.Members(ctx, "")))
		return nil
	})
	for _, m := range []org.Member{alice, ci, ext} {
		a, err := s.Access(ctx, "acme", m.PrincipalID)
		must(t, err)
		diff(t, "Access of "+m.PrincipalID, store.Access{Scheme: "scheme-1", Edition: "pro", Role: m.Role, Kind: m.Kind, External: m.External}, codeless(t, s, a))
	}

	changed := ext
	changed.Role, changed.External, changed.JoinedAt = "member", false, at(20)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateMember(ctx, changed) })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.Member(ctx, "ext")
		must(t, err)
		diff(t, "Member after update", changed, got)
		return nil
	})
	a, err := s.Access(ctx, "acme", "ext")
	must(t, err)
	diff(t, "Access after update", store.Access{Scheme: "scheme-1", Edition: "pro", Role: "member", Kind: org.User}, codeless(t, s, a))

	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "ci") })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		_, err := r.Member(ctx, "ci")
		wantErr(t, "Member after remove", err, is(store.ErrMemberNotFound, store.ErrNotFound), store.ErrOrganizationNotFound)
		diff(t, "Members after remove", []org.Member{alice, changed}, collect(t, "Members", r.Members(ctx, "")))
		return nil
	})
	_, err = s.Access(ctx, "acme", "ci")
	wantErr(t, "Access after remove", err, is(store.ErrMemberNotFound, store.ErrNotFound), store.ErrOrganizationNotFound)
}

func testMemberExists(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	before := snapshot(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "AddMember of a member", tx.AddMember(ctx, newMember("alice", "member")), is(store.ErrExists))
		ext := newMember("ext", "admin")
		wantErr(t, "AddMember of an external member", tx.AddMember(ctx, ext), is(store.ErrExists))
		return nil
	})
	diff(t, "organization after refused adds", before, snapshot(t, s, "acme"))
}

func testMemberMissing(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	before := snapshot(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "UpdateMember of a non-member", tx.UpdateMember(ctx, newMember("nobody", "admin")), is(store.ErrMemberNotFound, store.ErrNotFound), store.ErrOrganizationNotFound)
		wantErr(t, "RemoveMember of a non-member", tx.RemoveMember(ctx, "nobody"), is(store.ErrMemberNotFound, store.ErrNotFound), store.ErrOrganizationNotFound)
		_, err := tx.Member(ctx, "nobody")
		wantErr(t, "Member of a non-member", err, is(store.ErrMemberNotFound, store.ErrNotFound), store.ErrOrganizationNotFound)
		return nil
	})
	diff(t, "organization after refused changes", before, snapshot(t, s, "acme"))
}

func testMemberRemoveKeepsScopes(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "alice") })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		want := []org.ScopeMember{
			newScopeMember("project", "p1", "alice", "project-admin"),
			newScopeMember("service", "s1", "alice", "svc-user"),
		}
		diff(t, "PrincipalScopes of a removed member", want, collect(t, "PrincipalScopes", r.PrincipalScopes(ctx, "alice")))
		return nil
	})
}

func testMemberAccessFresh(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	roles := []string{"admin", "member", "viewer"}
	for i := range 60 {
		m := newMember("bob", roles[i%len(roles)])
		update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateMember(ctx, m) })
		a, err := s.Access(t.Context(), "acme", "bob")
		must(t, err)
		if a.Role != m.Role {
			t.Fatalf("Access after the Update that made bob %s: role %q", m.Role, a.Role)
		}
	}
}

func scopeTests() []test {
	return []test{
		{"CreateReadDelete", testScopeCRUD},
		{"CreateExistingFailsWithErrExists", testScopeExists},
		{"DeleteMissingFailsWithErrNotFound", testScopeDeleteMissing},
		{"DeleteCascadesToMembersAndRoles", testScopeCascade},
	}
}

func testScopeCRUD(t *testing.T, s store.Store) {
	p1, w1 := newScope("project", "p1"), newScope("workspace", "p1") // same ID, another kind
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		must(t, tx.CreateScope(ctx, p1))
		return tx.CreateScope(ctx, w1)
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		for _, want := range []org.Scope{p1, w1} {
			got, err := r.Scope(ctx, want.Kind, want.ID)
			must(t, err)
			diff(t, "Scope "+want.Kind, want, got)
			diff(t, "Scopes "+want.Kind, []org.Scope{want}, collect(t, "Scopes", r.Scopes(ctx, want.Kind, "")))
		}
		diff(t, "Scopes of an unused kind", []org.Scope(nil), collect(t, "Scopes", r.Scopes(ctx, "service", "")))
		return nil
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.DeleteScope(ctx, "project", "p1") })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		_, err := r.Scope(ctx, "project", "p1")
		wantErr(t, "Scope after delete", err, is(store.ErrNotFound), store.ErrOrganizationNotFound, store.ErrMemberNotFound)
		diff(t, "Scopes after delete", []org.Scope(nil), collect(t, "Scopes", r.Scopes(ctx, "project", "")))
		got, err := r.Scope(ctx, "workspace", "p1")
		must(t, err)
		diff(t, "scope of the other kind", w1, got)
		return nil
	})
}

func testScopeExists(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	before := snapshot(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		sc := newScope("project", "p1")
		sc.Name = "Other"
		wantErr(t, "CreateScope of an existing scope", tx.CreateScope(ctx, sc), is(store.ErrExists))
		return nil
	})
	diff(t, "organization after a refused create", before, snapshot(t, s, "acme"))
}

func testScopeDeleteMissing(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "DeleteScope of a missing scope", tx.DeleteScope(ctx, "project", "nope"), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		wantErr(t, "DeleteScope of an ID of another kind", tx.DeleteScope(ctx, "workspace", "p1"), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		_, err := tx.Scope(ctx, "project", "nope")
		wantErr(t, "Scope of a missing scope", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		return nil
	})
}

func testScopeCascade(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.DeleteScope(ctx, "project", "p1") })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		_, err := r.ScopeMember(ctx, "project", "p1", "alice")
		wantErr(t, "ScopeMember of a deleted scope", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		_, err = r.ScopeRole(ctx, "project", "p1", "custom-a")
		wantErr(t, "ScopeRole of a deleted scope", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		diff(t, "ScopeMembers of a deleted scope", []org.ScopeMember(nil), collect(t, "ScopeMembers", r.ScopeMembers(ctx, "project", "p1", "")))
		roles, err := tryCollect(r.ScopeRoles(ctx, "project", "p1"))
		if len(roles) != 0 || err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ScopeRoles of a deleted scope: %+v, %v", roles, err)
		}
		diff(t, "PrincipalScopes of alice", []org.ScopeMember{newScopeMember("service", "s1", "alice", "svc-user")}, collect(t, "PrincipalScopes", r.PrincipalScopes(ctx, "alice")))
		diff(t, "PrincipalScopes of ext", []org.ScopeMember(nil), collect(t, "PrincipalScopes", r.PrincipalScopes(ctx, "ext")))
		diff(t, "ScopeMembers of another scope", []org.ScopeMember{newScopeMember("project", "p2", "bob", "viewer")}, collect(t, "ScopeMembers", r.ScopeMembers(ctx, "project", "p2", "")))
		return nil
	})
	// Re-created, the scope starts empty.
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.CreateScope(ctx, newScope("project", "p1")) })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		diff(t, "ScopeMembers of a re-created scope", []org.ScopeMember(nil), collect(t, "ScopeMembers", r.ScopeMembers(ctx, "project", "p1", "")))
		diff(t, "ScopeRoles of a re-created scope", []org.ScopeRole(nil), collect(t, "ScopeRoles", r.ScopeRoles(ctx, "project", "p1")))
		return nil
	})
}

func scopeMemberTests() []test {
	return []test{
		{"PutReadReplaceRemove", testScopeMemberCRUD},
		{"PutIntoMissingScopeFailsWithErrNotFound", testScopeMemberMissingScope},
		{"RemoveMissingFailsWithErrNotFound", testScopeMemberRemoveMissing},
	}
}

func testScopeMemberCRUD(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	dave := newScopeMember("project", "p2", "dave", "viewer")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.PutScopeMember(ctx, dave) })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.ScopeMember(ctx, "project", "p2", "dave")
		must(t, err)
		diff(t, "ScopeMember", dave, got)
		diff(t, "PrincipalScopes", []org.ScopeMember{dave}, collect(t, "PrincipalScopes", r.PrincipalScopes(ctx, "dave")))
		return nil
	})
	replaced := dave
	replaced.Role, replaced.AddedAt = "editor", at(30)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.PutScopeMember(ctx, replaced) })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.ScopeMember(ctx, "project", "p2", "dave")
		must(t, err)
		diff(t, "ScopeMember after replace", replaced, got)
		diff(t, "ScopeMembers after replace", []org.ScopeMember{newScopeMember("project", "p2", "bob", "viewer"), replaced}, collect(t, "ScopeMembers", r.ScopeMembers(ctx, "project", "p2", "")))
		diff(t, "PrincipalScopes after replace", []org.ScopeMember{replaced}, collect(t, "PrincipalScopes", r.PrincipalScopes(ctx, "dave")))
		return nil
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		return tx.RemoveScopeMember(ctx, "project", "p2", "dave")
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		_, err := r.ScopeMember(ctx, "project", "p2", "dave")
		wantErr(t, "ScopeMember after remove", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		diff(t, "PrincipalScopes after remove", []org.ScopeMember(nil), collect(t, "PrincipalScopes", r.PrincipalScopes(ctx, "dave")))
		diff(t, "ScopeMembers after remove", []org.ScopeMember{newScopeMember("project", "p2", "bob", "viewer")}, collect(t, "ScopeMembers", r.ScopeMembers(ctx, "project", "p2", "")))
		return nil
	})
}

func testScopeMemberMissingScope(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	before := snapshot(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "PutScopeMember into a missing scope", tx.PutScopeMember(ctx, newScopeMember("project", "nope", "alice", "viewer")), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		wantErr(t, "PutScopeMember into an ID of another kind", tx.PutScopeMember(ctx, newScopeMember("service", "p1", "alice", "viewer")), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		diff(t, "ScopeMembers of a missing scope", []org.ScopeMember(nil), collect(t, "ScopeMembers", tx.ScopeMembers(ctx, "project", "nope", "")))
		return nil
	})
	diff(t, "organization after refused puts", before, snapshot(t, s, "acme"))
}

func testScopeMemberRemoveMissing(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "RemoveScopeMember of a non-member", tx.RemoveScopeMember(ctx, "project", "p2", "alice"), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		wantErr(t, "RemoveScopeMember from a missing scope", tx.RemoveScopeMember(ctx, "project", "nope", "alice"), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		_, err := tx.ScopeMember(ctx, "project", "p2", "alice")
		wantErr(t, "ScopeMember of a non-member", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		return nil
	})
}

func scopeRoleTests() []test {
	return []test{
		{"PutReadReplaceDelete", testScopeRoleCRUD},
		{"PutIntoMissingScopeFailsWithErrNotFound", testScopeRoleMissingScope},
		{"DeleteMissingFailsWithErrNotFound", testScopeRoleDeleteMissing},
	}
}

func testScopeRoleCRUD(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	r2 := newScopeRole("project", "p2", "reviewer", "doc:read", "doc:comment")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.PutScopeRole(ctx, r2) })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.ScopeRole(ctx, "project", "p2", "reviewer")
		must(t, err)
		diff(t, "ScopeRole", r2, got)
		diff(t, "ScopeRoles", []org.ScopeRole{r2}, collect(t, "ScopeRoles", r.ScopeRoles(ctx, "project", "p2")))
		return nil
	})
	replaced := r2
	replaced.Name, replaced.Capabilities = "Reviewer II", []role.Capability{"doc:read"}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.PutScopeRole(ctx, replaced) })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		diff(t, "ScopeRoles after replace", []org.ScopeRole{replaced}, collect(t, "ScopeRoles", r.ScopeRoles(ctx, "project", "p2")))
		return nil
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		return tx.DeleteScopeRole(ctx, "project", "p2", "reviewer")
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		_, err := r.ScopeRole(ctx, "project", "p2", "reviewer")
		wantErr(t, "ScopeRole after delete", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		diff(t, "ScopeRoles after delete", []org.ScopeRole(nil), collect(t, "ScopeRoles", r.ScopeRoles(ctx, "project", "p2")))
		got, err := r.ScopeRole(ctx, "project", "p1", "custom-a")
		must(t, err)
		diff(t, "role of another scope", newScopeRole("project", "p1", "custom-a", "doc:read"), got)
		return nil
	})
}

func testScopeRoleMissingScope(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	before := snapshot(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "PutScopeRole into a missing scope", tx.PutScopeRole(ctx, newScopeRole("project", "nope", "r")), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		return nil
	})
	diff(t, "organization after a refused put", before, snapshot(t, s, "acme"))
}

func testScopeRoleDeleteMissing(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "DeleteScopeRole of a missing role", tx.DeleteScopeRole(ctx, "project", "p1", "nope"), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		wantErr(t, "DeleteScopeRole in a missing scope", tx.DeleteScopeRole(ctx, "project", "nope", "custom-a"), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		_, err := tx.ScopeRole(ctx, "project", "p1", "nope")
		wantErr(t, "ScopeRole of a missing role", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		return nil
	})
}

func countsTests() []test {
	return []test{
		{"KeptThroughAddsRoleChangesExternalsAndRemovals", testCounts},
		{"RolesHeldByNobodyAreNotCounted", testCountsNoZeroRoles},
	}
}

func testCounts(t *testing.T, s store.Store) {
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, newOrg("acme")) })
	external := func(id string) org.Member {
		m := newMember(id, "external")
		m.External = true
		return m
	}
	sp := newMember("ci", "member")
	sp.Kind = org.ServicePrincipal
	steps := []struct {
		name   string
		change func(ctx context.Context, tx store.Tx) error
		want   store.Counts
	}{
		{"empty", func(context.Context, store.Tx) error { return nil }, store.Counts{}},
		{"adds", func(ctx context.Context, tx store.Tx) error {
			must(t, tx.AddMember(ctx, newMember("alice", "admin")))
			must(t, tx.AddMember(ctx, newMember("bob", "member")))
			return tx.AddMember(ctx, sp)
		}, store.Counts{Members: 3, Roles: map[string]int{"admin": 1, "member": 2}}},
		{"external add", func(ctx context.Context, tx store.Tx) error {
			return tx.AddMember(ctx, external("ext"))
		}, store.Counts{Members: 3, External: 1, Roles: map[string]int{"admin": 1, "member": 2, "external": 1}}},
		{"role change", func(ctx context.Context, tx store.Tx) error {
			return tx.UpdateMember(ctx, newMember("bob", "admin"))
		}, store.Counts{Members: 3, External: 1, Roles: map[string]int{"admin": 2, "member": 1, "external": 1}}},
		{"member made external", func(ctx context.Context, tx store.Tx) error {
			return tx.UpdateMember(ctx, external("ci"))
		}, store.Counts{Members: 2, External: 2, Roles: map[string]int{"admin": 2, "external": 2}}},
		{"external made member", func(ctx context.Context, tx store.Tx) error {
			return tx.UpdateMember(ctx, newMember("ext", "member"))
		}, store.Counts{Members: 3, External: 1, Roles: map[string]int{"admin": 2, "member": 1, "external": 1}}},
		{"update that changes nothing", func(ctx context.Context, tx store.Tx) error {
			return tx.UpdateMember(ctx, newMember("alice", "admin"))
		}, store.Counts{Members: 3, External: 1, Roles: map[string]int{"admin": 2, "member": 1, "external": 1}}},
		{"removal", func(ctx context.Context, tx store.Tx) error {
			return tx.RemoveMember(ctx, "alice")
		}, store.Counts{Members: 2, External: 1, Roles: map[string]int{"admin": 1, "member": 1, "external": 1}}},
		{"external removal", func(ctx context.Context, tx store.Tx) error {
			return tx.RemoveMember(ctx, "ci")
		}, store.Counts{Members: 2, Roles: map[string]int{"admin": 1, "member": 1}}},
		{"several changes in one Update", func(ctx context.Context, tx store.Tx) error {
			must(t, tx.RemoveMember(ctx, "bob"))
			must(t, tx.AddMember(ctx, newMember("bob", "viewer")))
			must(t, tx.AddMember(ctx, external("x1")))
			must(t, tx.AddMember(ctx, external("x2")))
			return tx.RemoveMember(ctx, "x1")
		}, store.Counts{Members: 2, External: 1, Roles: map[string]int{"viewer": 1, "member": 1, "external": 1}}},
		{"all removed", func(ctx context.Context, tx store.Tx) error {
			for _, id := range []string{"bob", "ext", "x2"} {
				must(t, tx.RemoveMember(ctx, id))
			}
			return nil
		}, store.Counts{}},
	}
	for _, step := range steps {
		update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
			must(t, step.change(ctx, tx))
			got, err := tx.Counts(ctx)
			must(t, err)
			diff(t, "Counts inside the Update of step "+step.name, step.want, got)
			return nil
		})
		view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
			got, err := r.Counts(ctx)
			must(t, err)
			diff(t, "Counts after step "+step.name, step.want, got)
			return nil
		})
	}
}

func testCountsNoZeroRoles(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "alice") })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		c, err := r.Counts(ctx)
		must(t, err)
		if n, ok := c.Roles["admin"]; ok {
			t.Errorf("Counts.Roles holds admin = %d after the last admin left, want no entry", n)
		}
		return nil
	})
}
