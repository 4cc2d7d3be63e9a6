package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

func apiKeyTests() []test {
	return []test{
		{"CreateReadUpdate", testKeyCRUD},
		{"ListedByOwnerAndAllOrderedByIDAndPagedAfter", testListKeys},
		{"ListedThroughManyPages", testListKeysPages},
		{"CreateWithAnIDInUseFailsWithErrExists", testKeyIDExists},
		{"IDsAreApartFromInvitationIDs", testKeyIDSpace},
		{"UpdateMissingFailsWithErrNotFound", testKeyMissing},
		{"KeyAccessAndTouchFindCommittedKeysOnly", testKeyAccessCommitted},
		{"KeyAccessAndTouchDuringTheCreatingUpdateFindNothing", testKeyAccessDuringUpdate},
		{"KeyAccessHasTheOwnersCurrentAccess", testKeyAccessOwner},
		{"TouchKeepsTheLatestTime", testTouch},
		{"ConcurrentTouchesKeepTheLatest", testTouchConcurrent},
		{"TouchLosesNothingToConcurrentUpdates", testTouchWithUpdates},
		{"RollbackFreesTheIDsItTook", testKeyRollbackFrees},
		{"ScopeAndHashAreCopiedInAndOut", testKeyCopy},
		{"TimesTruncatedToMicrosecondsInUTC", testKeyTimes},
		{"DeleteOrganizationRemovesThemAndFreesTheirIDs", testKeyDeleteOrganization},
		{"IDDeletedWithItsOrganizationStaysTakenUntilCommit", testKeyDeleteInOneUpdate},
		{"ConcurrentCreatesOfOneIDInTwoOrganizationsCommitOnce", testKeyRace},
	}
}

// keyIDs returns the IDs of keys, in their order.
func keyIDs(ks []apikey.Key) []string {
	return keys(ks, func(k apikey.Key) string { return k.ID })
}

// readKeys checks, in r, every way of reading the API keys: want are all
// of them in ID order, each read by ID, and each owner's listed.
func readKeys(t *testing.T, what string, ctx context.Context, r store.Reader, want []apikey.Key) {
	t.Helper()
	byOwner := map[string][]apikey.Key{}
	for _, k := range want {
		got, err := r.APIKey(ctx, k.ID)
		must(t, err)
		diff(t, what+": APIKey "+k.ID, k, got)
		byOwner[k.OwnerID] = append(byOwner[k.OwnerID], k)
	}
	diff(t, what+": APIKeys", want, collect(t, "APIKeys", r.APIKeys(ctx, "", "")))
	for owner, ks := range byOwner {
		diff(t, what+": APIKeys of "+owner, ks, collect(t, "APIKeys", r.APIKeys(ctx, owner, "")))
	}
}

// readKey returns key id of organization orgID, read in a View.
func readKey(t *testing.T, s store.Store, orgID, id string) apikey.Key {
	t.Helper()
	var k apikey.Key
	view(t, s, orgID, func(ctx context.Context, r store.Reader) error {
		var err error
		k, err = r.APIKey(ctx, id)
		return err
	})
	return k
}

// keyAccessOf returns what KeyAccess must return for key k of
// organization orgID whose owner has Access owner (nil: not a member).
// A key without a scope has a nil Scope; an owner who is not a member, a
// zero Owner.
func keyAccessOf(orgID string, k apikey.Key, owner *store.Access) *store.KeyAccess {
	a := store.KeyAccess{
		OrgID:      orgID,
		KeyID:      k.ID,
		OwnerID:    k.OwnerID,
		ExpiresAt:  k.ExpiresAt,
		RevokedAt:  k.RevokedAt,
		LastUsedAt: k.LastUsedAt,
	}
	copy(a.Hash[:], k.Hash)
	if len(k.Scope) > 0 {
		a.Scope = slices.Clone(k.Scope)
	}
	if owner != nil {
		a.Owner, a.OwnerFound = *owner, true
	}
	return &a
}

// seedAccess returns the Access of principal p in an organization seed
// made, or nil if p is not one of its members.
func seedAccess(p string) *store.Access {
	a := &store.Access{Scheme: "scheme-1", Edition: "pro", Kind: org.User}
	switch p {
	case "alice":
		a.Role = "admin"
	case "bob":
		a.Role = "member"
	case "ci":
		a.Role, a.Kind = "member", org.ServicePrincipal
	case "ext":
		a.Role, a.External = "external", true
	default:
		return nil
	}
	return a
}

// seedKeyAccess returns what KeyAccess must return for the seeded key
// seedKeys(orgID)[i].
func seedKeyAccess(orgID string, i int) *store.KeyAccess {
	k := seedKeys(orgID)[i]
	return keyAccessOf(orgID, k, seedAccess(k.OwnerID))
}

// wantKeyAccess checks KeyAccess(id): want, or ErrNotFound when want is
// nil. The Scope of a key without one must be nil, not merely empty.
func wantKeyAccess(t *testing.T, what string, s store.Store, id string, want *store.KeyAccess) {
	t.Helper()
	got, err := s.KeyAccess(t.Context(), id)
	if want == nil {
		wantErr(t, what+": KeyAccess("+id+")", err, is(store.ErrNotFound), store.ErrClosed)
		return
	}
	if err != nil {
		t.Errorf("%s: KeyAccess(%s): %v", what, id, err)
		return
	}
	got.Owner = codeless(t, s, got.Owner)
	diff(t, what+": KeyAccess("+id+")", *want, got)
	if len(want.Scope) == 0 && got.Scope != nil {
		t.Errorf("%s: KeyAccess(%s).Scope = %#v for a key without a scope, want nil", what, id, got.Scope)
	}
}

func testKeyCRUD(t *testing.T, s store.Store) {
	scoped := newKey("k1", "alice", "doc:read", "doc:write")
	plain := newKey("k2", "ci")
	revoked := newKey("k3", "alice", "doc:read")
	revoked.RevokedAt, revoked.LastUsedAt = at(8), at(9)
	ci := newMember("ci", "member")
	ci.Kind = org.ServicePrincipal
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		must(t, tx.AddMember(ctx, newMember("alice", "admin")))
		must(t, tx.AddMember(ctx, ci))
		for _, k := range []apikey.Key{revoked, scoped, plain} {
			must(t, tx.CreateAPIKey(ctx, k))
		}
		readKeys(t, "inside the Update that creates them", ctx, tx, []apikey.Key{scoped, plain, revoked})
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readKeys(t, "after create", ctx, r, []apikey.Key{scoped, plain, revoked})
		return nil
	})
	aliceAccess := &store.Access{Scheme: "scheme-1", Edition: "pro", Role: "admin", Kind: org.User}
	ciAccess := &store.Access{Scheme: "scheme-1", Edition: "pro", Role: "member", Kind: org.ServicePrincipal}
	wantKeyAccess(t, "after create", s, "k1", keyAccessOf("acme", scoped, aliceAccess))
	wantKeyAccess(t, "after create", s, "k2", keyAccessOf("acme", plain, ciAccess))
	wantKeyAccess(t, "after create", s, "k3", keyAccessOf("acme", revoked, aliceAccess))

	// Every field changes, the owner too.
	changed := scoped
	changed.Name, changed.OwnerID, changed.Scope, changed.Hash = "Changed", "ci", []role.Capability{"svc:use"}, keyHash("rotated")
	changed.Display, changed.CreatedBy = "test_…rot8", "bob"
	changed.CreatedAt, changed.ExpiresAt, changed.RevokedAt, changed.LastUsedAt = at(20), at(21), at(22), at(23)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateAPIKey(ctx, changed))
		readKeys(t, "inside the Update that changes one", ctx, tx, []apikey.Key{changed, plain, revoked})
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readKeys(t, "after update", ctx, r, []apikey.Key{changed, plain, revoked})
		diff(t, "APIKeys of the key's former owner after update", []apikey.Key{revoked}, collect(t, "APIKeys", r.APIKeys(ctx, "alice", "")))
		return nil
	})
	wantKeyAccess(t, "after update", s, "k1", keyAccessOf("acme", changed, ciAccess))

	// A key without a scope, given an empty one: still none.
	unscoped := changed
	unscoped.Scope = []role.Capability{}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateAPIKey(ctx, unscoped) })
	wantKeyAccess(t, "after its scope was emptied", s, "k1", keyAccessOf("acme", unscoped, ciAccess))

	// Another organization does not see them.
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, newOrg("other")) })
	view(t, s, "other", func(ctx context.Context, r store.Reader) error {
		_, err := r.APIKey(ctx, "k1")
		wantErr(t, "APIKey of another organization", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		diff(t, "APIKeys of another organization", []apikey.Key(nil), collect(t, "APIKeys", r.APIKeys(ctx, "", "")))
		diff(t, "APIKeys of an owner in another organization", []apikey.Key(nil), collect(t, "APIKeys", r.APIKeys(ctx, "ci", "")))
		return nil
	})
}

func testListKeys(t *testing.T, s store.Store) {
	ks := listingKeys()
	owners := []string{"alice", "bob", "carol"}
	byOwner := map[string][]string{}
	byID := map[string]apikey.Key{}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for i, id := range shuffled(ks) {
			k := newKey(id, owners[i%len(owners)], "doc:read")
			must(t, tx.CreateAPIKey(ctx, k))
			byOwner[k.OwnerID] = append(byOwner[k.OwnerID], id)
			byID[id] = k
		}
		checkKeyPaging(t, "inside the Update", ctx, tx, ks, byOwner)
		return nil
	})
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { // not listed
		must(t, tx.CreateOrganization(ctx, newOrg("other")))
		return tx.CreateAPIKey(ctx, newKey("a5", "alice"))
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		checkKeyPaging(t, "", ctx, r, ks, byOwner)
		for _, k := range collect(t, "APIKeys", r.APIKeys(ctx, "", "")) {
			diff(t, "record listed by APIKeys", byID[k.ID], k)
		}
		for _, k := range collect(t, "APIKeys", r.APIKeys(ctx, "bob", "")) {
			diff(t, "record listed by APIKeys of one owner", byID[k.ID], k)
		}
		return nil
	})
}

// checkKeyPaging checks the listing of all keys and of each owner's after
// every key and probe, and the empty listing of an owner with no keys.
func checkKeyPaging(t *testing.T, where string, ctx context.Context, r store.Reader, all []string, byOwner map[string][]string) {
	t.Helper()
	checkPaging(t, where+" APIKeys", all, func(a string) []string {
		return keyIDs(collect(t, "APIKeys", r.APIKeys(ctx, "", a)))
	})
	for owner, ids := range byOwner {
		checkPaging(t, where+" APIKeys of "+owner, ids, func(a string) []string {
			return keyIDs(collect(t, "APIKeys", r.APIKeys(ctx, owner, a)))
		})
	}
	checkPaging(t, where+" APIKeys of an owner with none", nil, func(a string) []string {
		return keyIDs(collect(t, "APIKeys", r.APIKeys(ctx, "dave", a)))
	})
}

func testListKeysPages(t *testing.T, s store.Store) {
	const n, page = 1500, 100
	var ids, alices []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("key-%d", i)) // "key-10" sorts before "key-2"
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for i, id := range shuffled(ids) {
			owner := "bob"
			if i%3 == 0 {
				owner = "alice"
				alices = append(alices, id)
			}
			must(t, tx.CreateAPIKey(ctx, newKey(id, owner)))
		}
		return nil
	})
	for _, owner := range []string{"", "alice"} {
		var got []string
		for pages, last := 0, ""; ; pages++ {
			if pages > n/page+1 {
				t.Fatalf("still paging after %d pages of %d keys: paging after the last key seen does not move on", pages, n)
			}
			var pageIDs []string
			view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
				for k, err := range r.APIKeys(ctx, owner, last) {
					must(t, err)
					if owner != "" && k.OwnerID != owner {
						t.Fatalf("APIKeys of %s listed %s, which is %s's", owner, k.ID, k.OwnerID)
					}
					pageIDs = append(pageIDs, k.ID)
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
		want := ids
		if owner != "" {
			want = alices
		}
		diff(t, fmt.Sprintf("keys paged through (owner %q)", owner), slices.Sorted(slices.Values(want)), got)
	}
}

func testKeyIDExists(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	before, otherBefore := snapshot(t, s, "acme"), snapshot(t, s, "other")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		// Another owner, another scope: the ID alone is taken.
		wantErr(t, "CreateAPIKey with the ID of one of the organization's", tx.CreateAPIKey(ctx, newKey("acme-key-2", "bob", "x:y")), is(store.ErrExists))
		wantErr(t, "CreateAPIKey with the ID of another organization's", tx.CreateAPIKey(ctx, newKey("other-key-1", "alice")), is(store.ErrExists))
		return nil
	})
	diff(t, "organization after refused creates", before, snapshot(t, s, "acme"))
	diff(t, "other organization after refused creates", otherBefore, snapshot(t, s, "other"))

	first := newKey("key-x", "alice", "doc:read")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateAPIKey(ctx, first))
		wantErr(t, "CreateAPIKey with the ID of one created in the same Update", tx.CreateAPIKey(ctx, newKey("key-x", "bob")), is(store.ErrExists))
		got, err := tx.APIKey(ctx, "key-x")
		must(t, err)
		diff(t, "APIKey after a refused create with its ID", first, got)
		return nil
	})
	otherBefore = snapshot(t, s, "other")
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "CreateAPIKey with the ID of one another organization just committed", tx.CreateAPIKey(ctx, newKey("key-x", "bob")), is(store.ErrExists))
		return nil
	})
	diff(t, "other organization after a refused create", otherBefore, snapshot(t, s, "other"))
	wantKeyAccess(t, "after refused creates", s, "key-x", keyAccessOf("acme", first, seedAccess("alice")))
	wantKeyAccess(t, "after refused creates", s, "other-key-1", seedKeyAccess("other", 0))
	wantKeyAccess(t, "after refused creates", s, "acme-key-2", seedKeyAccess("acme", 1))
}

// testKeyIDSpace checks that API key IDs and invitation IDs are two
// spaces: the contract makes each unique among its own records only.
func testKeyIDSpace(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	fromInvite := newKey("acme-inv-1", "alice")
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateAPIKey(ctx, fromInvite))
		return tx.CreateInvitation(ctx, newInvitation("acme-key-1", "gina@example.com", invite.Pending))
	})
	shared := newKey("shared", "bob")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateAPIKey(ctx, shared))
		return tx.CreateInvitation(ctx, newInvitation("shared", "gina@example.com", invite.Pending))
	})
	wantKeyAccess(t, "a key with an invitation's ID", s, "acme-inv-1", keyAccessOf("other", fromInvite, seedAccess("alice")))
	wantOrganization(t, "an invitation with a key's ID", s, "acme-key-1", "other")
	wantKeyAccess(t, "a key whose ID an invitation has too", s, "acme-key-1", seedKeyAccess("acme", 0))
	wantOrganization(t, "an invitation whose ID a key has too", s, "acme-inv-1", "acme")
	wantKeyAccess(t, "a key and an invitation of one organization with one ID", s, "shared", keyAccessOf("acme", shared, seedAccess("bob")))
	wantOrganization(t, "a key and an invitation of one organization with one ID", s, "shared", "acme")

	// Deleting a record frees its ID in its own space only.
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
	wantKeyAccess(t, "after the key's organization was deleted", s, "acme-inv-1", nil)
	wantOrganization(t, "after another organization's key with its ID was deleted", s, "acme-inv-1", "acme")
	wantOrganization(t, "after the invitation's organization was deleted", s, "acme-key-1", "")
	wantKeyAccess(t, "after another organization's invitation with its ID was deleted", s, "acme-key-1", seedKeyAccess("acme", 0))
}

func testKeyMissing(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	before := snapshot(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "UpdateAPIKey of a missing key", tx.UpdateAPIKey(ctx, newKey("nope", "alice")), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		revoked := seedKeys("other")[0]
		revoked.RevokedAt = at(30)
		wantErr(t, "UpdateAPIKey of another organization's key", tx.UpdateAPIKey(ctx, revoked), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		_, err := tx.APIKey(ctx, "nope")
		wantErr(t, "APIKey of a missing key", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		_, err = tx.APIKey(ctx, "other-key-1")
		wantErr(t, "APIKey of another organization's key", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		return nil
	})
	diff(t, "organization after refused updates", before, snapshot(t, s, "acme"))
	view(t, s, "other", func(ctx context.Context, r store.Reader) error {
		got, err := r.APIKey(ctx, "other-key-1")
		must(t, err)
		diff(t, "other organization's key", seedKeys("other")[0], got)
		return nil
	})
}

// wantTouchNotFound checks that TouchAPIKey(id) fails with ErrNotFound.
func wantTouchNotFound(t *testing.T, what string, s store.Store, id string) {
	t.Helper()
	wantErr(t, what+": TouchAPIKey("+id+")", s.TouchAPIKey(t.Context(), id, at(60)), is(store.ErrNotFound), store.ErrClosed)
}

func testKeyAccessCommitted(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	for i, k := range seedKeys("acme") {
		wantKeyAccess(t, "committed", s, k.ID, seedKeyAccess("acme", i))
	}
	for _, id := range []string{"nope", "", "ACME-KEY-1", "acme-key-1 "} {
		wantKeyAccess(t, "unknown", s, id, nil)
		wantTouchNotFound(t, "unknown", s, id)
	}

	for _, f := range failures() {
		f.run(t, s, "acme", func(ctx context.Context, tx store.Tx) {
			must(t, tx.CreateAPIKey(ctx, newKey("key-x", "alice")))
		})
		wantKeyAccess(t, "created by an Update that failed "+f.name, s, "key-x", nil)
		wantTouchNotFound(t, "created by an Update that failed "+f.name, s, "key-x")
		f.run(t, s, "fresh", func(ctx context.Context, tx store.Tx) {
			must(t, tx.CreateOrganization(ctx, newOrg("fresh")))
			must(t, tx.AddMember(ctx, newMember("alice", "admin")))
			must(t, tx.CreateAPIKey(ctx, newKey("key-new", "alice")))
		})
		wantKeyAccess(t, "created with its organization by an Update that failed "+f.name, s, "key-new", nil)
		wantTouchNotFound(t, "created with its organization by an Update that failed "+f.name, s, "key-new")
		f.run(t, s, "acme", func(ctx context.Context, tx store.Tx) {
			must(t, tx.DeleteOrganization(ctx))
		})
		wantKeyAccess(t, "after a DeleteOrganization that failed "+f.name, s, "acme-key-1", seedKeyAccess("acme", 0))
	}

	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
	for _, k := range seedKeys("acme") {
		wantKeyAccess(t, "after DeleteOrganization", s, k.ID, nil)
		wantTouchNotFound(t, "after DeleteOrganization", s, k.ID)
	}
	for i, k := range seedKeys("other") {
		wantKeyAccess(t, "another organization's after DeleteOrganization", s, k.ID, seedKeyAccess("other", i))
	}
}

func testKeyAccessDuringUpdate(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	probe := func() string {
		a, err := s.KeyAccess(t.Context(), "key-new")
		return fmt.Sprintf("KeyAccess: %s; TouchAPIKey: %s", describe(a, err), describe(nil, s.TouchAPIKey(t.Context(), "key-new", at(60))))
	}
	fresh := newKey("key-new", "alice", "doc:read")
	got, ok := duringUpdate(t, s, "acme", func(ctx context.Context, tx store.Tx) {
		must(t, tx.CreateAPIKey(ctx, fresh))
	}, probe)
	if !ok {
		t.Skip("KeyAccess and TouchAPIKey wait for a running Update: what they see during one cannot be checked")
	}
	diff(t, "during the Update that creates the key", "KeyAccess: not found; TouchAPIKey: not found", got)
	// The touch refused during the Update left no trace.
	wantKeyAccess(t, "after the Update that creates the key", s, "key-new", keyAccessOf("acme", fresh, seedAccess("alice")))
}

func testKeyAccessOwner(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	ctx := t.Context()
	// Owner is what Access says of the owner.
	for _, k := range seedKeys("acme") {
		got, err := s.KeyAccess(ctx, k.ID)
		must(t, err)
		a, err := s.Access(ctx, "acme", k.OwnerID)
		if errors.Is(err, store.ErrMemberNotFound) {
			if got.OwnerFound || got.Owner != (store.Access{}) {
				t.Errorf("KeyAccess(%s) of an owner who is not a member: OwnerFound %v, Owner %+v; want false and a zero Owner", k.ID, got.OwnerFound, got.Owner)
			}
			continue
		}
		must(t, err)
		if a, got.Owner = codeless(t, s, a), codeless(t, s, got.Owner); !got.OwnerFound || got.Owner != a {
			t.Errorf("KeyAccess(%s): OwnerFound %v, Owner %+v; want true and %+v, as Access says", k.ID, got.OwnerFound, got.Owner, a)
		}
	}

	// The owner's role, kind and externality and the organization's
	// standing, as last committed.
	o := newOrg("acme")
	o.Scheme, o.Edition, o.Archived = "scheme-2", "enterprise", true
	erin := newMember("erin", "external")
	erin.External = true
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateOrganization(ctx, o))
		must(t, tx.UpdateMember(ctx, newMember("alice", "viewer")))
		return tx.AddMember(ctx, erin)
	})
	seeded := seedKeys("acme")
	wantKeyAccess(t, "after the owner's role changed", s, "acme-key-1", keyAccessOf("acme", seeded[0], &store.Access{Scheme: "scheme-2", Edition: "enterprise", Archived: true, Role: "viewer", Kind: org.User}))
	wantKeyAccess(t, "after the owner became a member", s, "acme-key-5", keyAccessOf("acme", seeded[4], &store.Access{Scheme: "scheme-2", Edition: "enterprise", Archived: true, Role: "external", Kind: org.User, External: true}))

	roles := []string{"admin", "member", "viewer"}
	for i := range 30 {
		m := newMember("bob", roles[i%len(roles)])
		update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateMember(ctx, m) })
		got, err := s.KeyAccess(ctx, "acme-key-3")
		must(t, err)
		if !got.OwnerFound || got.Owner.Role != m.Role {
			t.Fatalf("KeyAccess after the Update that made its owner %s: OwnerFound %v, role %q", m.Role, got.OwnerFound, got.Owner.Role)
		}
	}

	// The owner removed, the key is still found, without an owner.
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "alice") })
	wantKeyAccess(t, "after the owner was removed", s, "acme-key-1", keyAccessOf("acme", seeded[0], nil))
	wantKeyAccess(t, "after the owner was removed", s, "acme-key-4", keyAccessOf("acme", seeded[3], nil))

	// A key given to another owner has the new owner's access.
	moved := seeded[3]
	moved.OwnerID = "ci"
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateAPIKey(ctx, moved) })
	wantKeyAccess(t, "after the key moved to another owner", s, "acme-key-4", keyAccessOf("acme", moved, &store.Access{Scheme: "scheme-2", Edition: "enterprise", Archived: true, Role: "member", Kind: org.ServicePrincipal}))
}

func testTouch(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	before := snapshot(t, s, "acme")
	ctx := t.Context()
	touch := func(id string, tm time.Time) {
		t.Helper()
		must(t, s.TouchAPIKey(ctx, id, tm))
	}
	seeded := seedKeys("acme")
	want := seeded[0] // never used
	touch(want.ID, at(20))
	want.LastUsedAt = at(20)
	diff(t, "APIKey after a touch", want, readKey(t, s, "acme", want.ID))
	wantKeyAccess(t, "after a touch", s, want.ID, keyAccessOf("acme", want, seedAccess("alice")))

	// Earlier times change nothing, nor does the same time, nor a later
	// one within the same microsecond, in any zone.
	zone := time.FixedZone("UTC+05:30", 5*3600+30*60)
	for _, tm := range []time.Time{at(15), at(20), at(20).Add(999 * time.Nanosecond), at(19).In(zone), at(20).Add(500).In(zone), {}} {
		touch(want.ID, tm)
	}
	diff(t, "APIKey after touches no later than the last", want, readKey(t, s, "acme", want.ID))

	// A later time with nanoseconds, in another zone, is kept truncated to
	// the microsecond, in UTC.
	touch(want.ID, at(25).Add(1_234*time.Nanosecond).In(zone))
	want.LastUsedAt = at(25).Add(time.Microsecond)
	got := readKey(t, s, "acme", want.ID)
	diff(t, "APIKey after a later touch", want, got)
	if got.LastUsedAt.Location() != time.UTC {
		t.Errorf("LastUsedAt after a touch in %s: %v, want it in UTC", zone, got.LastUsedAt)
	}
	wantKeyAccess(t, "after a later touch", s, want.ID, keyAccessOf("acme", want, seedAccess("alice")))

	// A key used at(9) keeps that over an earlier use.
	touch(seeded[1].ID, at(5))
	diff(t, "APIKey after an earlier touch than its last use", seeded[1], readKey(t, s, "acme", seeded[1].ID))

	// Nothing else changed: no audit event, no other key.
	after := snapshot(t, s, "acme")
	diff(t, "Audit after touches", before.Audit, after.Audit)
	diff(t, "Organization after touches", before.Organization, after.Organization)
	for _, k := range seeded[1:] {
		diff(t, "another key after touches", k, readKey(t, s, "acme", k.ID))
	}
	wantTouchNotFound(t, "an unknown key", s, "nope")
}

// testTouchConcurrent touches one key from many goroutines with times in
// a scrambled order while others read it: what is read never goes back,
// and the latest time is what remains.
func testTouchConcurrent(t *testing.T, s store.Store) {
	const workers, touches, readers = 6, 40, 2
	seed(t, s, "acme")
	id := seedKeys("acme")[0].ID
	times := make([]time.Time, workers*touches)
	for i := range times {
		times[i] = at(100 + i)
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(times), func(i, j int) { times[i], times[j] = times[j], times[i] })
	var wg, rwg sync.WaitGroup
	done := make(chan struct{})
	for range readers {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			var last time.Time
			for {
				select {
				case <-done:
					return
				default:
				}
				a, err := s.KeyAccess(t.Context(), id)
				if err != nil {
					t.Errorf("KeyAccess: %v", err)
					return
				}
				if a.LastUsedAt.Before(last) {
					t.Errorf("LastUsedAt went back from %v to %v", last, a.LastUsedAt)
					return
				}
				last = a.LastUsedAt
			}
		}()
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tm := range times[w*touches : (w+1)*touches] {
				if err := s.TouchAPIKey(t.Context(), id, tm); err != nil {
					t.Errorf("TouchAPIKey: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	rwg.Wait()
	want := seedKeys("acme")[0]
	want.LastUsedAt = at(100 + len(times) - 1)
	diff(t, "APIKey after concurrent touches", want, readKey(t, s, "acme", id))
	wantKeyAccess(t, "after concurrent touches", s, id, keyAccessOf("acme", want, seedAccess("alice")))
}

// testTouchWithUpdates touches a key while Updates read and write it back
// (counting in its Name): a touch that has returned is never undone by an
// Update that read the key before it, and no Update's change is lost to
// a touch.
func testTouchWithUpdates(t *testing.T, s store.Store) {
	const touchers, touches, updates = 3, 40, 60
	seed(t, s, "acme")
	id := seedKeys("acme")[0].ID
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		k, err := tx.APIKey(ctx, id)
		must(t, err)
		k.Name = "0"
		return tx.UpdateAPIKey(ctx, k)
	})
	var wg sync.WaitGroup
	var failed atomic.Bool
	for w := range touchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range touches {
				tm := at(200 + i*touchers + w)
				if err := s.TouchAPIKey(t.Context(), id, tm); err != nil {
					t.Errorf("TouchAPIKey: %v", err)
					return
				}
				a, err := s.KeyAccess(t.Context(), id)
				if err != nil {
					t.Errorf("KeyAccess: %v", err)
					return
				}
				if a.LastUsedAt.Before(tm) && !failed.Swap(true) {
					t.Errorf("LastUsedAt %v after a touch at %v returned: the touch was lost", a.LastUsedAt, tm)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range updates {
			err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
				k, err := tx.APIKey(ctx, id)
				if err != nil {
					return err
				}
				n, err := strconv.Atoi(k.Name)
				if err != nil {
					return err
				}
				k.Name = strconv.Itoa(n + 1)
				return tx.UpdateAPIKey(ctx, k)
			})
			if err != nil {
				t.Errorf("Update: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	got := readKey(t, s, "acme", id)
	if want := strconv.Itoa(updates); got.Name != want {
		t.Errorf("Name after %d Updates counting in it: %q; some were lost", updates, got.Name)
	}
	if want := at(200 + touchers*touches - 1); !got.LastUsedAt.Equal(want) {
		t.Errorf("LastUsedAt after the touches: %v, want the latest, %v", got.LastUsedAt, want)
	}
}

func testKeyRollbackFrees(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	before := snapshot(t, s, "acme")
	for _, f := range failures() {
		f.run(t, s, "acme", func(ctx context.Context, tx store.Tx) {
			must(t, tx.CreateAPIKey(ctx, newKey("key-x", "alice")))
			revoked := seedKeys("acme")[0]
			revoked.RevokedAt, revoked.OwnerID = at(30), "bob"
			must(t, tx.UpdateAPIKey(ctx, revoked))
			must(t, tx.CreateAPIKey(ctx, newKey("key-new", "bob", "doc:read")))
		})
		diff(t, "organization after an Update that failed "+f.name, before, snapshot(t, s, "acme"))
	}
	// The IDs are free across the store.
	x, fresh := newKey("key-x", "bob"), newKey("key-new", "ci")
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateAPIKey(ctx, x))
		return tx.CreateAPIKey(ctx, fresh)
	})
	wantKeyAccess(t, "after the rollbacks", s, "key-x", keyAccessOf("other", x, seedAccess("bob")))
	wantKeyAccess(t, "after the rollbacks", s, "key-new", keyAccessOf("other", fresh, seedAccess("ci")))
	wantKeyAccess(t, "after the rollbacks", s, "acme-key-1", seedKeyAccess("acme", 0))
}

func testKeyCopy(t *testing.T, s store.Store) {
	wantScope := []role.Capability{"doc:read", "doc:write"}
	wantHash := keyHash("k1")
	scope, hash := slices.Clone(wantScope), slices.Clone(wantHash)
	in := newKey("k1", "alice")
	in.Scope, in.Hash = scope, hash
	check := func(t *testing.T, what string, k apikey.Key) {
		t.Helper()
		diff(t, what+": Scope", wantScope, k.Scope)
		diff(t, what+": Hash", wantHash, k.Hash)
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		must(t, tx.AddMember(ctx, newMember("alice", "admin")))
		must(t, tx.CreateAPIKey(ctx, in))
		scope[0], hash[0] = "changed:after-create", hash[0]+1
		got, err := tx.APIKey(ctx, "k1")
		must(t, err)
		check(t, "inside the Update after the caller changed its slices", got)
		got.Scope[1], got.Hash[1] = "changed:in-read", got.Hash[1]+1
		got, err = tx.APIKey(ctx, "k1")
		must(t, err)
		check(t, "inside the Update after a record read was changed", got)
		return nil
	})
	check(t, "after the caller changed its slices", readKey(t, s, "acme", "k1"))
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.APIKey(ctx, "k1")
		must(t, err)
		got.Scope[0], got.Hash[0] = "changed:in-read", got.Hash[0]+1
		for _, owner := range []string{"", "alice"} {
			for k, err := range r.APIKeys(ctx, owner, "") {
				must(t, err)
				k.Scope[1], k.Hash[1] = "changed:in-listed", k.Hash[1]+1
			}
		}
		return nil
	})
	check(t, "after records read and listed were changed", readKey(t, s, "acme", "k1"))
	a, err := s.KeyAccess(t.Context(), "k1")
	must(t, err)
	diff(t, "KeyAccess Scope", wantScope, a.Scope)
	a.Scope[0] = "changed:in-key-access"
	check(t, "after the Scope KeyAccess returned was changed", readKey(t, s, "acme", "k1"))
	a, err = s.KeyAccess(t.Context(), "k1")
	must(t, err)
	diff(t, "KeyAccess Scope after the Scope it returned before was changed", wantScope, a.Scope)

	newScope, newHash := []role.Capability{"svc:use"}, keyHash("rotated")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		changed := in
		changed.Scope, changed.Hash = newScope, newHash
		must(t, tx.UpdateAPIKey(ctx, changed))
		newScope[0], newHash[0] = "changed:after-update", newHash[0]+1
		return nil
	})
	got := readKey(t, s, "acme", "k1")
	diff(t, "Scope after the caller changed the slice it updated with", []role.Capability{"svc:use"}, got.Scope)
	diff(t, "Hash after the caller changed the slice it updated with", keyHash("rotated"), got.Hash)
}

// testKeyTimes writes times with nanoseconds in a zone east of UTC, with
// a monotonic reading, and before 1970 into every time field of keys,
// through create and update, and checks that every way of reading them
// back (KeyAccess too) gives them truncated to the microsecond, in UTC.
func testKeyTimes(t *testing.T, s store.Store) {
	zone := time.FixedZone("UTC+05:30", 5*3600+30*60)
	in := time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, zone)
	want := time.Date(2024, 2, 29, 18, 29, 59, 999_999_000, time.UTC)
	now := time.Now() // carries a monotonic reading
	wantNow := now.Round(0).Truncate(time.Microsecond).UTC()
	before1970 := time.Date(1955, 11, 5, 6, 15, 0, 1_500, zone)
	wantBefore1970 := time.Date(1955, 11, 5, 0, 45, 0, 1_000, time.UTC)

	type field struct {
		name      string
		want, got time.Time
	}
	checkFields := func(t *testing.T, what, id string, fields []field) {
		t.Helper()
		for _, f := range fields {
			if id == "zero" {
				if !f.got.IsZero() {
					t.Errorf("%s %s (zero): got %v, want the zero time", what, f.name, f.got)
				}
				continue
			}
			if !f.got.Equal(f.want) || f.got.Location() != time.UTC {
				t.Errorf("%s %s: got %v (%s), want %v", what, f.name, f.got, f.got.Location(), f.want)
			}
		}
	}
	check := func(t *testing.T, what string, k apikey.Key) {
		t.Helper()
		checkFields(t, what, k.ID, []field{
			{"CreatedAt", want, k.CreatedAt},
			{"ExpiresAt", wantNow, k.ExpiresAt},
			{"RevokedAt", wantBefore1970, k.RevokedAt},
			{"LastUsedAt", want, k.LastUsedAt},
		})
	}
	ids := []string{"created", "updated", "zero"}
	checkAll := func(t *testing.T, where string, ctx context.Context, r store.Reader) {
		t.Helper()
		for _, id := range ids {
			k, err := r.APIKey(ctx, id)
			must(t, err)
			check(t, where+" APIKey "+id, k)
		}
		for _, owner := range []string{"", "alice"} {
			for _, k := range collect(t, "APIKeys", r.APIKeys(ctx, owner, "")) {
				check(t, fmt.Sprintf("%s APIKeys (owner %q) %s", where, owner, k.ID), k)
			}
		}
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for _, id := range ids {
			k := newKey(id, "alice")
			switch id {
			case "zero":
				k.CreatedAt, k.ExpiresAt = time.Time{}, time.Time{}
				must(t, tx.CreateAPIKey(ctx, k))
				continue
			case "updated": // created with other times, then updated with these
				must(t, tx.CreateAPIKey(ctx, k))
			}
			k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt = in, now, before1970, in
			if id == "updated" {
				must(t, tx.UpdateAPIKey(ctx, k))
			} else {
				must(t, tx.CreateAPIKey(ctx, k))
			}
		}
		checkAll(t, "inside the Update:", ctx, tx)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		checkAll(t, "after commit:", ctx, r)
		return nil
	})
	for _, id := range ids {
		a, err := s.KeyAccess(t.Context(), id)
		must(t, err)
		checkFields(t, "KeyAccess "+id, id, []field{
			{"ExpiresAt", wantNow, a.ExpiresAt},
			{"RevokedAt", wantBefore1970, a.RevokedAt},
			{"LastUsedAt", want, a.LastUsedAt},
		})
	}
}

func testKeyDeleteOrganization(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	otherBefore := snapshot(t, s, "other")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
	for _, k := range seedKeys("acme") {
		wantKeyAccess(t, "after DeleteOrganization", s, k.ID, nil)
	}
	err := s.View(t.Context(), "acme", func(ctx context.Context, r store.Reader) error {
		_, err := r.APIKey(ctx, "acme-key-1")
		wantErr(t, "APIKey after DeleteOrganization", err, is(store.ErrOrganizationNotFound))
		return nil
	})
	must(t, err)
	after := snapshot(t, s, "other")
	after.Listed = otherBefore.Listed
	diff(t, "other organization after DeleteOrganization", otherBefore, after)

	// Their IDs are free across the store, in the organization created
	// again too, which starts with no keys.
	fromAcme := newKey("acme-key-1", "bob")
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.CreateAPIKey(ctx, fromAcme) })
	wantKeyAccess(t, "an ID of the deleted organization's, created in another", s, "acme-key-1", keyAccessOf("other", fromAcme, seedAccess("bob")))
	again := newKey("acme-key-2", "alice")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		diff(t, "APIKeys of the organization created again", []apikey.Key(nil), collect(t, "APIKeys", tx.APIKeys(ctx, "", "")))
		diff(t, "APIKeys of an owner in the organization created again", []apikey.Key(nil), collect(t, "APIKeys", tx.APIKeys(ctx, "alice", "")))
		return tx.CreateAPIKey(ctx, again)
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readKeys(t, "the organization created again", ctx, r, []apikey.Key{again})
		return nil
	})
	wantKeyAccess(t, "an ID of the deleted organization's, created in it again", s, "acme-key-2", keyAccessOf("acme", again, nil))
}

// testKeyDeleteInOneUpdate deletes an organization and creates it again
// in one Update. Until that Update commits, its keys are still committed:
// their IDs exist in the store, and CreateAPIKey refuses them. A key
// created and deleted within the Update was never committed; its ID may be
// created again.
func testKeyDeleteInOneUpdate(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	fresh := newKey("key-new", "alice", "doc:read")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.DeleteOrganization(ctx))
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		wantErr(t, "CreateAPIKey with the ID of a key deleted in the same Update", tx.CreateAPIKey(ctx, newKey("acme-key-1", "alice")), is(store.ErrExists))
		must(t, tx.CreateAPIKey(ctx, newKey("key-new", "bob")))
		must(t, tx.DeleteOrganization(ctx))
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		return tx.CreateAPIKey(ctx, fresh)
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readKeys(t, "after the Update", ctx, r, []apikey.Key{fresh})
		return nil
	})
	wantKeyAccess(t, "after the Update", s, "key-new", keyAccessOf("acme", fresh, nil))
	for _, k := range seedKeys("acme") {
		wantKeyAccess(t, "after the Update", s, k.ID, nil)
	}
}

// testKeyRace has Updates of two organizations create an API key with the
// same ID at the same time, many times over: exactly one of them commits
// it (or none, when the one that got the ID fails on its own), the other
// failing with ErrExists, from CreateAPIKey or from Update. The rounds run
// as idRace describes.
func testKeyRace(t *testing.T, s store.Store) {
	const rounds = 200
	orgs := [2]string{"a", "b"}
	race := idRace{orgs: orgs, what: "key"}
	for _, id := range orgs {
		update(t, s, id, func(ctx context.Context, tx store.Tx) error {
			must(t, tx.CreateOrganization(ctx, newOrg(id)))
			return tx.AddMember(ctx, newMember("owner-"+id, "admin"))
		})
	}
	for round := range rounds {
		keyID := fmt.Sprint("race-", round)
		winner := race.round(t, s, round, keyID, func(ctx context.Context, tx store.Tx, orgID string) error {
			return tx.CreateAPIKey(ctx, newKey(keyID, "owner-"+orgID))
		})
		if winner == "" {
			wantKeyAccess(t, fmt.Sprint("round ", round), s, keyID, nil)
		} else {
			wantKeyAccess(t, fmt.Sprint("round ", round), s, keyID, keyAccessOf(winner, newKey(keyID, "owner-"+winner), &store.Access{Scheme: "scheme-1", Edition: "pro", Role: "admin", Kind: org.User}))
		}
		for _, orgID := range orgs {
			view(t, s, orgID, func(ctx context.Context, r store.Reader) error {
				_, err := r.APIKey(ctx, keyID)
				if orgID == winner {
					must(t, err)
				} else {
					wantErr(t, fmt.Sprintf("round %d: APIKey %s in %s, which did not commit it", round, keyID, orgID), err, is(store.ErrNotFound))
				}
				return nil
			})
		}
	}
}
