package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

// customError is an error type of the caller's, which Update and View
// must hand back as it is.
type customError struct{ code int }

func (e *customError) Error() string { return fmt.Sprintf("custom error %d", e.code) }

func transactionTests() []test {
	return []test{
		{"UpdateReturnsTheFunctionsErrorUnwrapped", testUpdateErrorIdentity},
		{"ViewReturnsTheFunctionsErrorUnwrapped", testViewErrorIdentity},
		{"ChangesAreVisibleToTheTxsOwnReads", testOwnWritesVisible},
	}
}

func testUpdateErrorIdentity(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	sentinel := errors.New("caller's sentinel")
	custom := &customError{code: 7}
	for _, want := range []error{sentinel, custom, fmt.Errorf("wrapped by the caller: %w", sentinel), store.ErrExists} {
		for _, orgID := range []string{"acme", "missing"} {
			err := s.Update(t.Context(), orgID, func(ctx context.Context, tx store.Tx) error {
				if orgID == "acme" {
					must(t, tx.AddMember(ctx, newMember("dave", "member")))
				}
				return want
			})
			if err != want {
				t.Errorf("Update of %s returned %#v, want its function's error %#v itself", orgID, err, want)
			}
		}
	}
	var ce *customError
	if err := s.Update(t.Context(), "acme", func(context.Context, store.Tx) error { return custom }); !errors.As(err, &ce) || ce != custom {
		t.Errorf("errors.As on Update's error: %v", err)
	}
	if err := s.Update(t.Context(), "acme", func(context.Context, store.Tx) error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("errors.Is(%v, sentinel) is false", err)
	}
}

func testViewErrorIdentity(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	sentinel := errors.New("caller's sentinel")
	custom := &customError{code: 8}
	for _, want := range []error{sentinel, custom, store.ErrNotFound} {
		for _, orgID := range []string{"acme", "missing"} {
			err := s.View(t.Context(), orgID, func(ctx context.Context, r store.Reader) error { return want })
			if err != want {
				t.Errorf("View of %s returned %#v, want its function's error %#v itself", orgID, err, want)
			}
		}
	}
}

func testOwnWritesVisible(t *testing.T, s store.Store) {
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		o := newOrg("acme")
		must(t, tx.CreateOrganization(ctx, o))
		got, err := tx.Organization(ctx)
		must(t, err)
		diff(t, "Organization after CreateOrganization", o, got)
		o.Name = "Renamed"
		must(t, tx.UpdateOrganization(ctx, o))
		got, err = tx.Organization(ctx)
		must(t, err)
		diff(t, "Organization after UpdateOrganization", o, got)

		m := newMember("alice", "admin")
		must(t, tx.AddMember(ctx, m))
		gotM, err := tx.Member(ctx, "alice")
		must(t, err)
		diff(t, "Member after AddMember", m, gotM)
		diff(t, "Members after AddMember", []org.Member{m}, collect(t, "Members", tx.Members(ctx, "")))
		c, err := tx.Counts(ctx)
		must(t, err)
		diff(t, "Counts after AddMember", store.Counts{Members: 1, Roles: map[string]int{"admin": 1}}, c)
		m.Role = "member"
		must(t, tx.UpdateMember(ctx, m))
		gotM, err = tx.Member(ctx, "alice")
		must(t, err)
		diff(t, "Member after UpdateMember", m, gotM)

		sc := newScope("project", "p1")
		must(t, tx.CreateScope(ctx, sc))
		gotS, err := tx.Scope(ctx, "project", "p1")
		must(t, err)
		diff(t, "Scope after CreateScope", sc, gotS)
		diff(t, "Scopes after CreateScope", []org.Scope{sc}, collect(t, "Scopes", tx.Scopes(ctx, "project", "")))
		sm := newScopeMember("project", "p1", "alice", "viewer")
		must(t, tx.PutScopeMember(ctx, sm))
		gotSM, err := tx.ScopeMember(ctx, "project", "p1", "alice")
		must(t, err)
		diff(t, "ScopeMember after PutScopeMember", sm, gotSM)
		diff(t, "ScopeMembers after PutScopeMember", []org.ScopeMember{sm}, collect(t, "ScopeMembers", tx.ScopeMembers(ctx, "project", "p1", "")))
		diff(t, "PrincipalScopes after PutScopeMember", []org.ScopeMember{sm}, collect(t, "PrincipalScopes", tx.PrincipalScopes(ctx, "alice")))
		sr := newScopeRole("project", "p1", "custom", role.Capability("doc:read"))
		must(t, tx.PutScopeRole(ctx, sr))
		gotSR, err := tx.ScopeRole(ctx, "project", "p1", "custom")
		must(t, err)
		diff(t, "ScopeRole after PutScopeRole", sr, gotSR)
		diff(t, "ScopeRoles after PutScopeRole", []org.ScopeRole{sr}, collect(t, "ScopeRoles", tx.ScopeRoles(ctx, "project", "p1")))
		e := newEvent("alice", "scope.create", 0)
		seq, err := tx.AppendAudit(ctx, e)
		must(t, err)
		e.Seq, e.OrgID = seq, "acme"
		diff(t, "Audit after AppendAudit", []org.AuditEvent{e}, collect(t, "Audit", tx.Audit(ctx, store.AuditFilter{})))
		inv := newInvitation("inv-1", "dana@example.com", invite.Pending)
		must(t, tx.CreateInvitation(ctx, inv))
		gotI, err := tx.Invitation(ctx, "inv-1")
		must(t, err)
		diff(t, "Invitation after CreateInvitation", inv, gotI)
		gotI, err = tx.PendingInvitation(ctx, "dana@example.com")
		must(t, err)
		diff(t, "PendingInvitation after CreateInvitation", inv, gotI)
		diff(t, "Invitations after CreateInvitation", []invite.Invitation{inv}, collect(t, "Invitations", tx.Invitations(ctx, "", false)))
		diff(t, "pending Invitations after CreateInvitation", []invite.Invitation{inv}, collect(t, "Invitations", tx.Invitations(ctx, "", true)))
		inv.Status, inv.AcceptedBy, inv.UpdatedAt = invite.Accepted, "dana", at(9)
		must(t, tx.UpdateInvitation(ctx, inv))
		gotI, err = tx.Invitation(ctx, "inv-1")
		must(t, err)
		diff(t, "Invitation after UpdateInvitation", inv, gotI)
		_, err = tx.PendingInvitation(ctx, "dana@example.com")
		wantErr(t, "PendingInvitation after UpdateInvitation made it accepted", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		diff(t, "Invitations after UpdateInvitation", []invite.Invitation{inv}, collect(t, "Invitations", tx.Invitations(ctx, "", false)))
		diff(t, "pending Invitations after UpdateInvitation", []invite.Invitation(nil), collect(t, "Invitations", tx.Invitations(ctx, "", true)))
		k := newKey("key-1", "alice", "doc:read")
		must(t, tx.CreateAPIKey(ctx, k))
		gotK, err := tx.APIKey(ctx, "key-1")
		must(t, err)
		diff(t, "APIKey after CreateAPIKey", k, gotK)
		diff(t, "APIKeys after CreateAPIKey", []apikey.Key{k}, collect(t, "APIKeys", tx.APIKeys(ctx, "", "")))
		diff(t, "APIKeys of its owner after CreateAPIKey", []apikey.Key{k}, collect(t, "APIKeys", tx.APIKeys(ctx, "alice", "")))
		k.OwnerID, k.RevokedAt, k.Scope = "bob", at(9), nil
		must(t, tx.UpdateAPIKey(ctx, k))
		gotK, err = tx.APIKey(ctx, "key-1")
		must(t, err)
		diff(t, "APIKey after UpdateAPIKey", k, gotK)
		diff(t, "APIKeys of its former owner after UpdateAPIKey", []apikey.Key(nil), collect(t, "APIKeys", tx.APIKeys(ctx, "alice", "")))
		diff(t, "APIKeys of its new owner after UpdateAPIKey", []apikey.Key{k}, collect(t, "APIKeys", tx.APIKeys(ctx, "bob", "")))

		must(t, tx.DeleteScopeRole(ctx, "project", "p1", "custom"))
		_, err = tx.ScopeRole(ctx, "project", "p1", "custom")
		wantErr(t, "ScopeRole after DeleteScopeRole", err, is(store.ErrNotFound))
		must(t, tx.RemoveScopeMember(ctx, "project", "p1", "alice"))
		_, err = tx.ScopeMember(ctx, "project", "p1", "alice")
		wantErr(t, "ScopeMember after RemoveScopeMember", err, is(store.ErrNotFound))
		must(t, tx.DeleteScope(ctx, "project", "p1"))
		_, err = tx.Scope(ctx, "project", "p1")
		wantErr(t, "Scope after DeleteScope", err, is(store.ErrNotFound))
		must(t, tx.RemoveMember(ctx, "alice"))
		_, err = tx.Member(ctx, "alice")
		wantErr(t, "Member after RemoveMember", err, is(store.ErrMemberNotFound))
		must(t, tx.DeleteOrganization(ctx))
		_, err = tx.Organization(ctx)
		wantErr(t, "Organization after DeleteOrganization", err, is(store.ErrOrganizationNotFound))
		_, err = tx.Invitation(ctx, "inv-1")
		wantErr(t, "Invitation after DeleteOrganization", err, is(store.ErrOrganizationNotFound))
		_, err = tx.APIKey(ctx, "key-1")
		wantErr(t, "APIKey after DeleteOrganization", err, is(store.ErrOrganizationNotFound))
		return nil
	})
	_, err := s.InvitationToken(t.Context(), "inv-1")
	wantErr(t, "InvitationToken of an invitation created and deleted in one Update", err, is(store.ErrNotFound))
	_, err = s.KeyAccess(t.Context(), "key-1")
	wantErr(t, "KeyAccess of an API key created and deleted in one Update", err, is(store.ErrNotFound))
	if got := collect(t, "Organizations", s.Organizations(t.Context(), "")); len(got) != 0 {
		t.Errorf("Organizations after an Update that created and deleted: %+v", got)
	}
}

// failure is a way for an Update's function to fail.
type failure struct {
	name string
	// run calls Update with a function that makes the changes, then fails;
	// it checks that Update reports the failure.
	run func(t *testing.T, s store.Store, orgID string, changes func(ctx context.Context, tx store.Tx))
}

func failures() []failure {
	return []failure{
		{"OnError", func(t *testing.T, s store.Store, orgID string, changes func(context.Context, store.Tx)) {
			boom := errors.New("boom")
			err := s.Update(t.Context(), orgID, func(ctx context.Context, tx store.Tx) error {
				changes(ctx, tx)
				return boom
			})
			if err != boom {
				t.Errorf("Update returned %v, want its function's error", err)
			}
		}},
		{"OnPanic", func(t *testing.T, s store.Store, orgID string, changes func(context.Context, store.Tx)) {
			type boom struct{ n int }
			defer func() {
				if r := recover(); r != (boom{42}) {
					t.Errorf("Update panicked with %v, want its function's panic value", r)
				}
			}()
			err := s.Update(t.Context(), orgID, func(ctx context.Context, tx store.Tx) error {
				changes(ctx, tx)
				panic(boom{42})
			})
			t.Errorf("Update returned %v after its function panicked, want the panic to go on", err)
		}},
		{"OnContextCancelledInside", func(t *testing.T, s store.Store, orgID string, changes func(context.Context, store.Tx)) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			err := s.Update(ctx, orgID, func(ctx context.Context, tx store.Tx) error {
				changes(ctx, tx)
				cancel()
				return nil
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Update whose context was cancelled inside its function returned %v, want context.Canceled", err)
			}
		}},
	}
}

// everyChange makes one change of every kind to a seeded organization:
// the record, members, scopes (with the cascade of a delete, and a scope
// deleted and created again), scope members, scope roles, audit events,
// invitations and API keys.
func everyChange(t *testing.T) func(ctx context.Context, tx store.Tx) {
	return func(ctx context.Context, tx store.Tx) {
		o := newOrg("acme")
		o.Name, o.Edition, o.Archived, o.SeatOverride = "Changed", "free", true, 3
		o.Settings = map[string]string{"new": "setting"}
		o.TrialEdition, o.TrialEndsAt = "enterprise", trialEnd(1)
		must(t, tx.UpdateOrganization(ctx, o))
		must(t, tx.AddMember(ctx, newMember("dave", "member")))
		must(t, tx.UpdateMember(ctx, newMember("bob", "admin")))
		must(t, tx.UpdateMember(ctx, newMember("ext", "member"))) // no longer external
		must(t, tx.RemoveMember(ctx, "ci"))
		must(t, tx.AddMember(ctx, newMember("ci", "viewer"))) // back, changed
		must(t, tx.RemoveMember(ctx, "alice"))
		must(t, tx.CreateScope(ctx, newScope("workspace", "w1")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("workspace", "w1", "dave", "owner")))
		must(t, tx.PutScopeRole(ctx, newScopeRole("workspace", "w1", "w-role", "ws:use")))
		must(t, tx.DeleteScope(ctx, "project", "p1")) // with alice, ext and custom-a
		p1 := newScope("project", "p1")
		p1.Name = "Recreated"
		must(t, tx.CreateScope(ctx, p1))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p1", "erin", "viewer")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p2", "erin", "viewer")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p2", "bob", "editor"))) // replaced
		must(t, tx.RemoveScopeMember(ctx, "service", "s1", "alice"))
		must(t, tx.PutScopeRole(ctx, newScopeRole("service", "s1", "r2", "svc:use")))
		must(t, tx.PutScopeRole(ctx, newScopeRole("service", "s1", "r1", "svc:admin"))) // replaced
		must(t, tx.DeleteScopeRole(ctx, "service", "s1", "r3"))
		for i := range 2 {
			_, err := tx.AppendAudit(ctx, newEvent("dave", "change", 20+i))
			must(t, err)
		}
		invitationChanges(t)(ctx, tx)
		keyChanges(t)(ctx, tx)
		// The changes are there before the failure.
		if m, err := tx.Member(ctx, "dave"); err != nil || m.Role != "member" {
			t.Errorf("Member dave inside the Update: %+v, %v", m, err)
		}
	}
}

// invitationChanges creates and updates invitations of the seeded
// organization so that each address's Pending invitation moves: dana's
// is revoked and she is invited again, erin's is accepted and her revoked
// one made Pending again, frank is invited, and the new invitation is
// changed twice.
func invitationChanges(t *testing.T) func(ctx context.Context, tx store.Tx) {
	return func(ctx context.Context, tx store.Tx) {
		seeded := seedInvitations("acme")
		dana, erinRevoked, erin := seeded[0], seeded[1], seeded[2]
		dana.Status, dana.UpdatedAt = invite.Revoked, at(30)
		must(t, tx.UpdateInvitation(ctx, dana))
		again := newInvitation("inv-new", "dana@example.com", invite.Pending)
		must(t, tx.CreateInvitation(ctx, again))
		erin.Status, erin.AcceptedBy, erin.TokenHash = invite.Accepted, "erin", []byte("another hash")
		must(t, tx.UpdateInvitation(ctx, erin))
		erinRevoked.Status, erinRevoked.Sends = invite.Pending, 2
		must(t, tx.UpdateInvitation(ctx, erinRevoked))
		must(t, tx.CreateInvitation(ctx, newInvitation("acme-inv-4", "frank@example.com", invite.Pending)))
		again.Sends, again.ExpiresAt = 2, at(40)
		must(t, tx.UpdateInvitation(ctx, again))
		again.Email = "gina@example.com"
		must(t, tx.UpdateInvitation(ctx, again))
		if inv, err := tx.PendingInvitation(ctx, "erin@example.com"); err != nil || inv.ID != "acme-inv-2" {
			t.Errorf("PendingInvitation to erin inside the Update: %+v, %v; want acme-inv-2", inv, err)
		}
	}
}

// keyChanges creates and updates API keys of the seeded organization: one
// is revoked, one moves to another owner with a new scope and hash, one is
// marked used, and two are created, one of them changed again.
func keyChanges(t *testing.T) func(ctx context.Context, tx store.Tx) {
	return func(ctx context.Context, tx store.Tx) {
		seeded := seedKeys("acme")
		revoked := seeded[0]
		revoked.Name, revoked.RevokedAt = "Revoked", at(30)
		must(t, tx.UpdateAPIKey(ctx, revoked))
		moved := seeded[3]
		moved.OwnerID, moved.Scope, moved.Hash = "bob", []role.Capability{"doc:read"}, keyHash("rotated")
		must(t, tx.UpdateAPIKey(ctx, moved))
		used := seeded[1]
		used.LastUsedAt = at(40)
		must(t, tx.UpdateAPIKey(ctx, used))
		fresh := newKey("key-new", "dave", "doc:read")
		must(t, tx.CreateAPIKey(ctx, fresh))
		fresh.Name, fresh.OwnerID = "Renamed", "erin"
		must(t, tx.UpdateAPIKey(ctx, fresh))
		must(t, tx.CreateAPIKey(ctx, newKey("acme-key-6", "alice")))
		if ks := keys(collect(t, "APIKeys", tx.APIKeys(ctx, "bob", "")), func(k apikey.Key) string { return k.ID }); !slices.Equal(ks, []string{"acme-key-3", "acme-key-4"}) {
			t.Errorf("APIKeys of bob inside the Update: %v, want acme-key-3 and acme-key-4", ks)
		}
	}
}

// deleteAndRecreate deletes the seeded organization and creates a new one
// with the same ID and a little in it.
func deleteAndRecreate(t *testing.T) func(ctx context.Context, tx store.Tx) {
	return func(ctx context.Context, tx store.Tx) {
		must(t, tx.DeleteOrganization(ctx))
		o := newOrg("acme")
		o.Name = "Recreated"
		must(t, tx.CreateOrganization(ctx, o))
		must(t, tx.AddMember(ctx, newMember("alice", "member")))
		must(t, tx.CreateScope(ctx, newScope("project", "p1")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p1", "alice", "owner")))
		_, err := tx.AppendAudit(ctx, newEvent("alice", "org.create", 0))
		must(t, err)
		// dana's address is free again, and so are IDs never committed.
		must(t, tx.CreateInvitation(ctx, newInvitation("inv-new", "dana@example.com", invite.Pending)))
		must(t, tx.CreateAPIKey(ctx, newKey("key-new", "alice", "doc:read")))
	}
}

func rollbackTests() []test {
	scenarios := []struct {
		name    string
		seeded  bool
		changes func(t *testing.T) func(ctx context.Context, tx store.Tx)
	}{
		{"EveryChange", true, everyChange},
		{"DeleteOrganization", true, func(t *testing.T) func(ctx context.Context, tx store.Tx) {
			return func(ctx context.Context, tx store.Tx) { must(t, tx.DeleteOrganization(ctx)) }
		}},
		{"DeleteAndRecreateOrganization", true, deleteAndRecreate},
		{"InvitationCreatesAndUpdates", true, invitationChanges},
		{"APIKeyCreatesAndUpdates", true, keyChanges},
		{"StartTrial", true, func(t *testing.T) func(ctx context.Context, tx store.Tx) {
			return func(ctx context.Context, tx store.Tx) {
				must(t, tx.UpdateOrganization(ctx, onTrial("acme", trialEnd(1))))
				must(t, tx.AddMember(ctx, newMember("dave", "member")))
				must(t, tx.UpdateMember(ctx, newMember("bob", "admin")))
			}
		}},
		{"CreateOrganization", false, func(t *testing.T) func(ctx context.Context, tx store.Tx) {
			return func(ctx context.Context, tx store.Tx) {
				must(t, tx.CreateOrganization(ctx, newOrg("acme")))
				must(t, tx.AddMember(ctx, newMember("alice", "admin")))
				must(t, tx.CreateScope(ctx, newScope("project", "p1")))
				must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p1", "alice", "owner")))
				must(t, tx.PutScopeRole(ctx, newScopeRole("project", "p1", "r", "doc:read")))
				_, err := tx.AppendAudit(ctx, newEvent("alice", "org.create", 0))
				must(t, err)
				must(t, tx.CreateInvitation(ctx, newInvitation("acme-inv-1", "dana@example.com", invite.Pending)))
				must(t, tx.CreateInvitation(ctx, newInvitation("inv-new", "erin@example.com", invite.Declined)))
				must(t, tx.CreateAPIKey(ctx, newKey("acme-key-1", "alice", "doc:read")))
				must(t, tx.CreateAPIKey(ctx, newKey("key-new", "bob")))
			}
		}},
	}
	var tests []test
	for _, f := range failures() {
		for _, sc := range scenarios {
			tests = append(tests, test{f.name + "/" + sc.name, func(t *testing.T, s store.Store) {
				seed(t, s, "neighbour")
				if sc.seeded {
					seed(t, s, "acme")
				}
				before, neighbour := snapshot(t, s, "acme"), snapshot(t, s, "neighbour")
				f.run(t, s, "acme", sc.changes(t))
				diff(t, "organization after the failed Update", before, snapshot(t, s, "acme"))
				diff(t, "other organization after the failed Update", neighbour, snapshot(t, s, "neighbour"))
				// The IDs the failed Update created are free across the store.
				update(t, s, "neighbour", func(ctx context.Context, tx store.Tx) error {
					must(t, tx.CreateAPIKey(ctx, newKey("key-new", "alice")))
					return tx.CreateInvitation(ctx, newInvitation("inv-new", "gina@example.com", invite.Pending))
				})
				if a, err := s.KeyAccess(t.Context(), "key-new"); err != nil || a.OrgID != "neighbour" {
					t.Errorf("KeyAccess of an ID a failed Update created, then created by another organization: %+v, %v", a, err)
				}
				if !sc.seeded {
					return
				}
				// The organization goes on from where it was.
				update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
					seq, err := tx.AppendAudit(ctx, newEvent("zoe", "after", 0))
					must(t, err)
					if seq != 4 {
						t.Errorf("AppendAudit after the failed Update returned %d, want 4", seq)
					}
					return tx.AddMember(ctx, newMember("dave", "member"))
				})
			}})
		}
	}
	return tests
}
