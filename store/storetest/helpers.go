package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

// at returns the time of fixture i: i minutes past a base time that is a
// whole microsecond, in UTC, so that records read back equal records
// written. The Time tests check the truncation and conversion on times
// that are neither.
func at(i int) time.Time {
	return time.Date(2025, 3, 14, 15, 9+i, 26, 535_897_000, time.UTC)
}

// fn is the function of an Update, as tests write it.
type fn = func(ctx context.Context, tx store.Tx) error

// viewFn is the function of a View.
type viewFn = func(ctx context.Context, r store.Reader) error

// update runs fn in an Update that must succeed.
func update(t *testing.T, s store.Store, orgID string, f fn) {
	t.Helper()
	if err := s.Update(t.Context(), orgID, f); err != nil {
		t.Fatalf("Update(%q): %v", orgID, err)
	}
}

// view runs fn in a View that must succeed.
func view(t *testing.T, s store.Store, orgID string, f viewFn) {
	t.Helper()
	if err := s.View(t.Context(), orgID, f); err != nil {
		t.Fatalf("View(%q): %v", orgID, err)
	}
}

// must fails the test if err is not nil. Inside an Update's function it
// ends the goroutine, which the store must treat as a failed function.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails the test unless err matches every target and none of the
// excluded errors.
func wantErr(t *testing.T, what string, err error, targets []error, excluded ...error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want one matching %v", what, targets)
		return
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("%s: got %v, want an error matching %q", what, err, target)
		}
	}
	for _, target := range excluded {
		if errors.Is(err, target) {
			t.Errorf("%s: got %v, which matches %q and should not", what, err, target)
		}
	}
}

// is is a shorthand for the targets of wantErr.
func is(targets ...error) []error { return targets }

// collect returns what a listing yields, failing the test on an error.
func collect[V any](t *testing.T, what string, seq iter.Seq2[V, error]) []V {
	t.Helper()
	vs, err := tryCollect(seq)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return vs
}

// tryCollect returns what a listing yields up to its first error.
func tryCollect[V any](seq iter.Seq2[V, error]) ([]V, error) {
	var vs []V
	for v, err := range seq {
		if err != nil {
			return vs, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// listingErr checks that a listing yields exactly one error, with a zero
// record, and nothing else, and returns the error.
func listingErr[V any](t *testing.T, what string, seq iter.Seq2[V, error]) error {
	t.Helper()
	var errs []error
	var zero V
	for v, err := range seq {
		if err == nil {
			t.Errorf("%s: yielded %+v, want only an error", what, v)
			continue
		}
		if !cmp.Equal(v, zero) {
			t.Errorf("%s: yielded %+v with its error, want a zero record", what, v)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 {
		t.Errorf("%s: yielded %d errors (%v), want 1", what, len(errs), errs)
		return errors.Join(errs...)
	}
	return errs[0]
}

// equateEmpty makes nil and empty maps and slices of records equal: the
// contract does not say which a store returns.
func equateEmpty() cmp.Option {
	return cmp.Options{
		cmp.FilterValues(func(a, b map[string]string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore()),
		cmp.FilterValues(func(a, b map[string]int) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore()),
		cmp.FilterValues(func(a, b []role.Capability) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore()),
		cmp.FilterValues(func(a, b []byte) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore()),
	}
}

// diff fails the test if got differs from want.
func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, equateEmpty()); d != "" {
		t.Errorf("%s: mismatch (-want +got):\n%s", what, d)
	}
}

// Fixtures.

func newOrg(id string) org.Organization {
	return org.Organization{
		ID:        id,
		Name:      "Organization " + id,
		Scheme:    "scheme-1",
		Edition:   "pro",
		Settings:  map[string]string{"region": "eu", "tier": "gold"},
		CreatedAt: at(0),
		UpdatedAt: at(1),
	}
}

func newMember(id, roleID string) org.Member {
	return org.Member{PrincipalID: id, Kind: org.User, Role: roleID, JoinedAt: at(2)}
}

func newScope(kind, id string) org.Scope {
	return org.Scope{Kind: kind, ID: id, Name: "Scope " + kind + "/" + id, CreatedBy: "alice", CreatedAt: at(3)}
}

func newScopeMember(kind, scopeID, principalID, roleID string) org.ScopeMember {
	return org.ScopeMember{Kind: kind, ScopeID: scopeID, PrincipalID: principalID, Role: roleID, AddedAt: at(4)}
}

func newScopeRole(kind, scopeID, id string, caps ...role.Capability) org.ScopeRole {
	return org.ScopeRole{Kind: kind, ScopeID: scopeID, ID: id, Name: "Role " + id, Capabilities: caps, CreatedBy: "alice", CreatedAt: at(5)}
}

func newEvent(actor, action string, i int) org.AuditEvent {
	return org.AuditEvent{Time: at(10 + i), Actor: actor, Action: action, Target: "target-" + actor, Detail: fmt.Sprint("event ", i)}
}

// newInvitation returns an invitation of the given ID, address and stored
// status, with a token hash of its own: 32 bytes, as invite.Token.Hash
// makes them and InvitationToken returns them.
func newInvitation(id, email string, status invite.Status) invite.Invitation {
	inv := invite.Invitation{
		ID:        id,
		Email:     email,
		Role:      "member",
		Status:    status,
		TokenHash: tokenHash("the secret of invitation " + id),
		InvitedBy: "alice",
		CreatedAt: at(6),
		ExpiresAt: at(6).Add(7 * 24 * time.Hour),
		UpdatedAt: at(6),
		Sends:     1,
	}
	if status == invite.Accepted {
		inv.AcceptedBy = "principal-" + email
	}
	return inv
}

// seedInvitations returns the invitations seed gives organization id: IDs
// of the organization's own (invitation IDs are unique across the store),
// a Pending one to dana, and to erin a Revoked one and a Pending one.
func seedInvitations(id string) []invite.Invitation {
	return []invite.Invitation{
		newInvitation(id+"-inv-1", "dana@example.com", invite.Pending),
		newInvitation(id+"-inv-2", "erin@example.com", invite.Revoked),
		newInvitation(id+"-inv-3", "erin@example.com", invite.Pending),
	}
}

// keyHash returns the SHA-256 of a made-up secret of key id: 32 bytes, as
// KeyAccess returns them.
func keyHash(id string) []byte {
	h := sha256.Sum256([]byte("the secret of " + id))
	return h[:]
}

// newKey returns an API key of the given ID, owner and scope, with a hash
// of its own, never used.
func newKey(id, ownerID string, scope ...role.Capability) apikey.Key {
	return apikey.Key{
		ID:        id,
		Name:      "Key " + id,
		OwnerID:   ownerID,
		Scope:     scope,
		Hash:      keyHash(id),
		Display:   "test_…" + id[max(len(id)-4, 0):],
		CreatedBy: "alice",
		CreatedAt: at(7),
		ExpiresAt: at(7).Add(90 * 24 * time.Hour),
	}
}

// seedKeys returns the API keys seed gives organization id: IDs of the
// organization's own (key IDs are unique across the store), two of
// alice's (one scoped), a used one of the service principal ci's, a
// revoked one of bob's, and one of erin's, who is not a member.
func seedKeys(id string) []apikey.Key {
	used := newKey(id+"-key-2", "ci")
	used.LastUsedAt = at(9)
	revoked := newKey(id+"-key-3", "bob", "doc:read")
	revoked.RevokedAt = at(8)
	return []apikey.Key{
		newKey(id+"-key-1", "alice", "doc:read", "doc:write"),
		used,
		revoked,
		newKey(id+"-key-4", "alice"),
		newKey(id+"-key-5", "erin", "svc:use"),
	}
}

// seed fills organization id with a bit of everything: members of every
// sort, scopes of two kinds with members and custom roles, audit events,
// invitations (seedInvitations) and API keys (seedKeys).
func seed(t *testing.T, s store.Store, id string) {
	t.Helper()
	update(t, s, id, func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg(id)))
		must(t, tx.AddMember(ctx, newMember("alice", "admin")))
		must(t, tx.AddMember(ctx, newMember("bob", "member")))
		ci := newMember("ci", "member")
		ci.Kind = org.ServicePrincipal
		must(t, tx.AddMember(ctx, ci))
		ext := newMember("ext", "external")
		ext.External = true
		must(t, tx.AddMember(ctx, ext))
		for _, sc := range []org.Scope{newScope("project", "p1"), newScope("project", "p2"), newScope("service", "s1")} {
			must(t, tx.CreateScope(ctx, sc))
		}
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p1", "alice", "project-admin")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p1", "ext", "viewer")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p2", "bob", "viewer")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("service", "s1", "alice", "svc-user")))
		must(t, tx.PutScopeRole(ctx, newScopeRole("project", "p1", "custom-a", "doc:read")))
		must(t, tx.PutScopeRole(ctx, newScopeRole("service", "s1", "r1", "svc:use")))
		must(t, tx.PutScopeRole(ctx, newScopeRole("service", "s1", "r3", "svc:use", "svc:admin")))
		for i, actor := range []string{"alice", "bob", "alice"} {
			if _, err := tx.AppendAudit(ctx, newEvent(actor, "seed", i)); err != nil {
				t.Fatal(err)
			}
		}
		for _, inv := range seedInvitations(id) {
			must(t, tx.CreateInvitation(ctx, inv))
		}
		for _, k := range seedKeys(id) {
			must(t, tx.CreateAPIKey(ctx, k))
		}
		return nil
	})
}

// orgSnapshot is everything a store tells about one organization: what a
// rollback must leave exactly as it was.
type orgSnapshot struct {
	Listed          []org.Organization // Store.Organizations
	Trials          []org.Organization // store.TrialsEnding, of every trial
	Exists          bool
	Organization    org.Organization
	Members         []org.Member
	MemberByID      map[string]string // principal -> "role/kind/external" or the error
	Access          map[string]string // principal -> Access or the error
	Counts          store.Counts
	Scopes          map[string][]org.Scope       // by kind
	ScopeMembers    map[string][]org.ScopeMember // by kind/id
	ScopeRoles      map[string][]org.ScopeRole   // by kind/id
	PrincipalScopes map[string][]org.ScopeMember // by principal
	Audit           []org.AuditEvent
	Invitations     []invite.Invitation // Invitations(ctx, "", false)
	Pending         []invite.Invitation // Invitations(ctx, "", true)
	InvitationByID  map[string]string   // ID -> Invitation or the error
	PendingTo       map[string]string   // address -> PendingInvitation or the error
	// TokensByInvite is the store-wide InvitationToken (organization and
	// token hash) of every invitation ID probed, listed or not.
	TokensByInvite map[string]string
	Keys           []apikey.Key            // APIKeys(ctx, "", "")
	KeysByOwner    map[string][]apikey.Key // APIKeys(ctx, owner, "")
	KeyByID        map[string]string       // ID -> APIKey or the error
	// KeyAccess is the store-wide KeyAccess of every key ID probed, listed
	// or not.
	KeyAccess map[string]string
	// ScopeAccess is the ScopeAccess of every principal probed on every
	// scope resource probed or listed, by "principal kind/id".
	ScopeAccess map[string]string
}

// snapshot reads everything about organization id, outside any Update:
// through every listing, and one by one for the kinds, scopes,
// principals, invitation IDs, addresses, key IDs and key owners the
// fixtures and the changes of the tests use.
func snapshot(t *testing.T, s store.Store, id string) orgSnapshot {
	t.Helper()
	var (
		ctx            = t.Context()
		snapKinds      = []string{"project", "service", "workspace"}
		snapScopes     = [][2]string{{"project", "p1"}, {"project", "p2"}, {"project", "p3"}, {"service", "s1"}, {"workspace", "w1"}}
		snapPrincipals = []string{"alice", "bob", "ci", "ext", "dave", "erin"}
		snapInvites    = []string{id + "-inv-1", id + "-inv-2", id + "-inv-3", id + "-inv-4", "inv-new", "inv-x"}
		snapEmails     = []string{"dana@example.com", "erin@example.com", "frank@example.com", "gina@example.com"}
		snapKeys       = []string{id + "-key-1", id + "-key-2", id + "-key-3", id + "-key-4", id + "-key-5", id + "-key-6", "key-new", "key-x"}
	)
	snap := orgSnapshot{
		Listed:         collect(t, "Organizations", s.Organizations(ctx, "")),
		Trials:         collect(t, "TrialsEnding", store.TrialsEnding(ctx, s, time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), store.TrialCursor{})),
		MemberByID:     map[string]string{},
		Access:         map[string]string{},
		InvitationByID: map[string]string{},
		PendingTo:      map[string]string{},
		TokensByInvite: map[string]string{},
		KeyByID:        map[string]string{},
		KeyAccess:      map[string]string{},
		ScopeAccess:    map[string]string{},
	}
	scopes := snapScopes
	for _, p := range snapPrincipals {
		a, err := s.Access(ctx, id, p)
		snap.Access[p] = describe(codeless(t, s, a), err)
	}
	err := s.View(ctx, id, func(ctx context.Context, r store.Reader) error {
		o, err := r.Organization(ctx)
		if errors.Is(err, store.ErrOrganizationNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		snap.Exists, snap.Organization = true, o
		snap.Members = collect(t, "Members", r.Members(ctx, ""))
		for _, p := range snapPrincipals {
			m, err := r.Member(ctx, p)
			snap.MemberByID[p] = describe(m, err)
			snap.PrincipalScopes = addTo(snap.PrincipalScopes, p, collect(t, "PrincipalScopes", r.PrincipalScopes(ctx, p)))
		}
		if snap.Counts, err = r.Counts(ctx); err != nil {
			return err
		}
		for _, kind := range snapKinds {
			listed := collect(t, "Scopes", r.Scopes(ctx, kind, ""))
			snap.Scopes = addTo(snap.Scopes, kind, listed)
			for _, sc := range listed {
				scopes = append(scopes, [2]string{sc.Kind, sc.ID})
			}
		}
		for _, k := range scopes {
			key := k[0] + "/" + k[1]
			snap.ScopeMembers = addTo(snap.ScopeMembers, key, collect(t, "ScopeMembers", r.ScopeMembers(ctx, k[0], k[1], "")))
			roles, err := tryCollect(r.ScopeRoles(ctx, k[0], k[1]))
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			snap.ScopeRoles = addTo(snap.ScopeRoles, key, roles)
		}
		snap.Audit = collect(t, "Audit", r.Audit(ctx, store.AuditFilter{}))
		snap.Invitations = collect(t, "Invitations", r.Invitations(ctx, "", false))
		snap.Pending = collect(t, "Invitations pending only", r.Invitations(ctx, "", true))
		ids, emails := snapInvites, snapEmails
		for _, inv := range snap.Invitations {
			ids, emails = append(ids, inv.ID), append(emails, inv.Email)
		}
		for _, i := range ids {
			inv, err := r.Invitation(ctx, i)
			snap.InvitationByID[i] = describe(inv, err)
		}
		for _, e := range emails {
			inv, err := r.PendingInvitation(ctx, e)
			snap.PendingTo[e] = describe(inv, err)
		}
		snapInvites = ids
		snap.Keys = collect(t, "APIKeys", r.APIKeys(ctx, "", ""))
		kids, owners := snapKeys, snapPrincipals
		for _, k := range snap.Keys {
			kids, owners = append(kids, k.ID), append(owners, k.OwnerID)
		}
		for _, o := range owners {
			snap.KeysByOwner = addTo(snap.KeysByOwner, o, collect(t, "APIKeys of one owner", r.APIKeys(ctx, o, "")))
		}
		for _, k := range kids {
			key, err := r.APIKey(ctx, k)
			snap.KeyByID[k] = describe(key, err)
		}
		snapKeys = kids
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrOrganizationNotFound) {
		t.Fatalf("View(%q): %v", id, err)
	}
	for _, i := range snapInvites {
		it, err := s.InvitationToken(ctx, i)
		snap.TokensByInvite[i] = describe(it, err)
	}
	for _, k := range snapKeys {
		a, err := s.KeyAccess(ctx, k)
		a.Owner = codeless(t, s, a.Owner)
		snap.KeyAccess[k] = describe(a, err)
	}
	for _, p := range snapPrincipals {
		for _, k := range scopes {
			a, err := s.ScopeAccess(ctx, id, p, k[0], k[1])
			a.Access = codeless(t, s, a.Access)
			snap.ScopeAccess[p+" "+k[0]+"/"+k[1]] = describe(a, err)
		}
	}
	return snap
}

func addTo[V any](m map[string][]V, k string, vs []V) map[string][]V {
	if len(vs) == 0 {
		return m
	}
	if m == nil {
		m = map[string][]V{}
	}
	m[k] = vs
	return m
}

// describe renders a result or its error's sentinel, for snapshots.
func describe(v any, err error) string {
	switch {
	case err == nil:
		return fmt.Sprintf("%+v", v)
	case errors.Is(err, store.ErrOrganizationNotFound):
		return "organization not found"
	case errors.Is(err, store.ErrMemberNotFound):
		return "member not found"
	case errors.Is(err, store.ErrNotFound):
		return "not found"
	}
	return "error: " + err.Error()
}

// keys returns the keys of records, as key extracts them.
func keys[V any](vs []V, key func(V) string) []string {
	var ks []string
	for _, v := range vs {
		ks = append(ks, key(v))
	}
	return ks
}

// after returns the keys of sorted past after ("" for all).
func after(sorted []string, after string) []string {
	var ks []string
	for _, k := range sorted {
		if after == "" || strings.Compare(k, after) > 0 {
			ks = append(ks, k)
		}
	}
	return ks
}

// The codes each store under test has given (store.Access.Code), by the
// triple they stand for and the other way round.
var (
	codesMu sync.Mutex
	codesOf = map[store.Store]*codeBook{}
)

type codeBook struct {
	byTriple map[[3]string]uint64
	byCode   map[uint64][3]string
}

// codeless returns a with its Code cleared, for comparing it with an
// Access a test wrote, after checking the code against every other that
// s has given in the test run: one triple (scheme, edition, role), one
// code; two triples, two codes. A code of 0 (none) is always allowed, and
// the only one allowed with a trial (a TrialEdition).
func codeless(t *testing.T, s store.Store, a store.Access) store.Access {
	t.Helper()
	if a.Code != 0 && a.TrialEdition != "" {
		t.Errorf("Access of %q with a trial of %q has code %#x, want 0", [3]string{a.Scheme, a.Edition, a.Role}, a.TrialEdition, a.Code)
		a.Code = 0
	}
	if a.Code == 0 {
		return a
	}
	tr := [3]string{a.Scheme, a.Edition, a.Role}
	codesMu.Lock()
	b := codesOf[s]
	if b == nil {
		b = &codeBook{map[[3]string]uint64{}, map[uint64][3]string{}}
		codesOf[s] = b
	}
	prevCode, seenTriple := b.byTriple[tr]
	prevTriple, seenCode := b.byCode[a.Code]
	b.byTriple[tr], b.byCode[a.Code] = a.Code, tr
	codesMu.Unlock()
	if seenTriple && prevCode != a.Code {
		t.Errorf("Access code of %q: %#x, and %#x before", tr, a.Code, prevCode)
	}
	if seenCode && prevTriple != tr {
		t.Errorf("Access code %#x stands for %q, and for %q before", a.Code, tr, prevTriple)
	}
	a.Code = 0
	return a
}
