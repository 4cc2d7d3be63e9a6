package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/store"
)

func invitationTests() []test {
	return []test{
		{"CreateReadUpdate", testInvitationCRUD},
		{"ListedOrderedByIDAndPagedAfter", testListInvitations},
		{"ListedThroughManyPages", testListInvitationsPages},
		{"PendingInvitationFollowsStatusAndAddress", testPendingInvitation},
		{"CreateWithAnIDInUseFailsWithErrExists", testInvitationIDExists},
		{"CreateOfASecondPendingToAnAddressFailsWithErrExists", testInvitationSecondPending},
		{"UpdateGivingAnAddressASecondPendingFailsWithErrExists", testInvitationUpdateSecondPending},
		{"UpdateMissingFailsWithErrNotFound", testInvitationMissing},
		{"TokenIsFoundForCommittedInvitationsOnly", testInvitationToken},
		{"TokenIsTheCommittedOneWhileAnUpdateRunsWithoutWaiting", testInvitationTokenDuringUpdate},
		{"RollbackFreesTheIDsAndAddressesItTook", testInvitationRollbackFrees},
		{"TokenHashIsCopiedInAndOut", testInvitationCopy},
		{"TimesTruncatedToMicrosecondsInUTC", testInvitationTimes},
		{"DeleteOrganizationRemovesThemAndFreesTheirIDs", testInvitationDeleteOrganization},
		{"IDDeletedWithItsOrganizationStaysTakenUntilCommit", testInvitationDeleteInOneUpdate},
		{"ConcurrentCreatesOfOneIDInTwoOrganizationsCommitOnce", testInvitationRace},
	}
}

// invitationIDs returns the IDs of invitations, in their order.
func invitationIDs(invs []invite.Invitation) []string {
	return keys(invs, func(inv invite.Invitation) string { return inv.ID })
}

// readInvitations checks, in r, every way of reading the invitations:
// want are all of them in ID order, each read by ID, the Pending ones
// listed and each found by its address.
func readInvitations(t *testing.T, what string, ctx context.Context, r store.Reader, want []invite.Invitation) {
	t.Helper()
	var pending []invite.Invitation
	for _, inv := range want {
		got, err := r.Invitation(ctx, inv.ID)
		must(t, err)
		diff(t, what+": Invitation "+inv.ID, inv, got)
		if inv.Status == invite.Pending {
			pending = append(pending, inv)
			got, err := r.PendingInvitation(ctx, inv.Email)
			must(t, err)
			diff(t, what+": PendingInvitation to "+inv.Email, inv, got)
		}
	}
	diff(t, what+": Invitations", want, collect(t, "Invitations", r.Invitations(ctx, "", false)))
	diff(t, what+": pending Invitations", pending, collect(t, "Invitations", r.Invitations(ctx, "", true)))
}

// wantOrganization checks InvitationToken(id) for an invitation made by
// newInvitation: organization orgID with the token hash newInvitation
// gives id, or ErrNotFound when orgID is "".
func wantOrganization(t *testing.T, what string, s store.Store, id, orgID string) {
	t.Helper()
	if orgID == "" {
		wantToken(t, what, s, id, nil)
		return
	}
	wantToken(t, what, s, id, tokenOf(orgID, newInvitation(id, "", invite.Pending)))
}

// wantToken checks InvitationToken(id): want, or ErrNotFound when want is
// nil.
func wantToken(t *testing.T, what string, s store.Store, id string, want *store.InvitationToken) {
	t.Helper()
	got, err := s.InvitationToken(t.Context(), id)
	if want == nil {
		wantErr(t, what+": InvitationToken("+id+")", err, is(store.ErrNotFound), store.ErrClosed)
		return
	}
	if err != nil {
		t.Errorf("%s: InvitationToken(%s): %v", what, id, err)
		return
	}
	diff(t, what+": InvitationToken("+id+")", *want, got)
}

// tokenHash returns the SHA-256 of secret: 32 bytes, as invite.Token.Hash
// makes them.
func tokenHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// tokenOf is what InvitationToken answers for invitation inv of
// organization orgID: its hash when that is 32 bytes long, and HashOK
// false with a zero hash otherwise.
func tokenOf(orgID string, inv invite.Invitation) *store.InvitationToken {
	it := &store.InvitationToken{OrgID: orgID}
	if len(inv.TokenHash) == len(it.Hash) {
		it.Hash, it.HashOK = [len(it.Hash)]byte(inv.TokenHash), true
	}
	return it
}

func testInvitationCRUD(t *testing.T, s store.Store) {
	dana := newInvitation("i1", "dana@example.com", invite.Pending)
	bob := newInvitation("i2", "bob@example.com", invite.Accepted)
	bob.Role, bob.Sends, bob.UpdatedAt = "admin", 2, at(8)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		must(t, tx.CreateInvitation(ctx, bob))
		must(t, tx.CreateInvitation(ctx, dana))
		readInvitations(t, "inside the Update that creates them", ctx, tx, []invite.Invitation{dana, bob})
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readInvitations(t, "after create", ctx, r, []invite.Invitation{dana, bob})
		return nil
	})
	wantOrganization(t, "after create", s, "i1", "acme")
	wantOrganization(t, "after create", s, "i2", "acme")

	changed := dana
	changed.Role, changed.Status, changed.TokenHash = "admin", invite.Revoked, []byte("a new hash")
	changed.ExpiresAt, changed.UpdatedAt, changed.Sends, changed.InvitedBy = at(50), at(20), 3, "bob"
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateInvitation(ctx, changed))
		readInvitations(t, "inside the Update that changes one", ctx, tx, []invite.Invitation{changed, bob})
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readInvitations(t, "after update", ctx, r, []invite.Invitation{changed, bob})
		_, err := r.PendingInvitation(ctx, "dana@example.com")
		wantErr(t, "PendingInvitation to an address whose invitation was revoked", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		return nil
	})
	wantToken(t, "after update", s, "i1", tokenOf("acme", changed))

	// Another organization does not see them.
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, newOrg("other")) })
	view(t, s, "other", func(ctx context.Context, r store.Reader) error {
		_, err := r.Invitation(ctx, "i1")
		wantErr(t, "Invitation of another organization", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		_, err = r.PendingInvitation(ctx, "bob@example.com")
		wantErr(t, "PendingInvitation of another organization", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		diff(t, "Invitations of another organization", []invite.Invitation(nil), collect(t, "Invitations", r.Invitations(ctx, "", false)))
		return nil
	})
}

func testListInvitations(t *testing.T, s store.Store) {
	ks := listingKeys()
	statuses := []invite.Status{invite.Pending, invite.Accepted, invite.Pending, invite.Revoked, invite.Declined}
	var pending []string
	byID := map[string]invite.Invitation{}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for i, k := range shuffled(ks) {
			inv := newInvitation(k, fmt.Sprintf("user%d@example.com", i), statuses[i%len(statuses)])
			must(t, tx.CreateInvitation(ctx, inv))
			byID[k] = inv
			if inv.Status == invite.Pending {
				pending = append(pending, k)
			}
		}
		checkInvitationPaging(t, "inside the Update", ctx, tx, ks, pending)
		return nil
	})
	if len(pending) == 0 || len(pending) == len(ks) {
		t.Fatalf("%d of %d invitations pending: the test needs some of each", len(pending), len(ks))
	}
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { // not listed
		must(t, tx.CreateOrganization(ctx, newOrg("other")))
		return tx.CreateInvitation(ctx, newInvitation("a5", "user0@example.com", invite.Pending))
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		checkInvitationPaging(t, "", ctx, r, ks, pending)
		for _, inv := range collect(t, "Invitations", r.Invitations(ctx, "", false)) {
			diff(t, "record listed by Invitations", byID[inv.ID], inv)
		}
		return nil
	})
}

// checkInvitationPaging checks both listings of invitations after every
// key and probe.
func checkInvitationPaging(t *testing.T, where string, ctx context.Context, r store.Reader, all, pending []string) {
	t.Helper()
	checkPaging(t, where+" Invitations", all, func(a string) []string {
		return invitationIDs(collect(t, "Invitations", r.Invitations(ctx, a, false)))
	})
	checkPaging(t, where+" Invitations pending only", pending, func(a string) []string {
		return invitationIDs(collect(t, "Invitations", r.Invitations(ctx, a, true)))
	})
}

func testListInvitationsPages(t *testing.T, s store.Store) {
	const n, page = 1500, 100
	var ids, pending []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("inv-%d", i)) // "inv-10" sorts before "inv-2"
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for i, id := range shuffled(ids) {
			status := invite.Accepted
			if i%3 == 0 {
				status = invite.Pending
				pending = append(pending, id)
			}
			must(t, tx.CreateInvitation(ctx, newInvitation(id, id+"@example.com", status)))
		}
		return nil
	})
	for _, pendingOnly := range []bool{false, true} {
		var got []string
		for pages, last := 0, ""; ; pages++ {
			if pages > n/page+1 {
				t.Fatalf("still paging after %d pages of %d invitations: paging after the last key seen does not move on", pages, n)
			}
			var pageIDs []string
			view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
				for inv, err := range r.Invitations(ctx, last, pendingOnly) {
					must(t, err)
					if pendingOnly && inv.Status != invite.Pending {
						t.Fatalf("pendingOnly listed %s, which is %v", inv.ID, inv.Status)
					}
					pageIDs = append(pageIDs, inv.ID)
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
		if pendingOnly {
			want = pending
		}
		diff(t, fmt.Sprintf("invitations paged through (pendingOnly %v)", pendingOnly), slices.Sorted(slices.Values(want)), got)
	}
}

func testPendingInvitation(t *testing.T, s store.Store) {
	dana := newInvitation("i1", "dana@example.com", invite.Pending)
	erin := newInvitation("i2", "erin@example.com", invite.Revoked)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		must(t, tx.CreateInvitation(ctx, dana))
		return tx.CreateInvitation(ctx, erin)
	})
	notPending := func(t *testing.T, what string, ctx context.Context, r store.Reader, email string) {
		t.Helper()
		inv, err := r.PendingInvitation(ctx, email)
		wantErr(t, what+": PendingInvitation to "+email, err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		if err == nil {
			t.Errorf("%s: PendingInvitation to %s found %+v", what, email, inv)
		}
	}
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.PendingInvitation(ctx, "dana@example.com")
		must(t, err)
		diff(t, "PendingInvitation", dana, got)
		notPending(t, "an address with a revoked invitation only", ctx, r, "erin@example.com")
		notPending(t, "an address never invited", ctx, r, "nobody@example.com")
		return nil
	})
	// An invitation past its expiry is still Pending as stored.
	expired := dana
	expired.ExpiresAt = at(-60 * 24 * 365)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, expired) })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.PendingInvitation(ctx, "dana@example.com")
		must(t, err)
		diff(t, "PendingInvitation of an expired invitation", expired, got)
		return nil
	})

	accepted := expired
	accepted.Status, accepted.AcceptedBy = invite.Accepted, "dana"
	erinPending := erin
	erinPending.Status = invite.Pending
	frank := erinPending
	frank.Email = "frank@example.com"
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateInvitation(ctx, accepted))
		notPending(t, "inside the Update, after it was accepted", ctx, tx, "dana@example.com")
		must(t, tx.UpdateInvitation(ctx, erinPending))
		got, err := tx.PendingInvitation(ctx, "erin@example.com")
		must(t, err)
		diff(t, "PendingInvitation inside the Update, after it was made Pending", erinPending, got)
		must(t, tx.UpdateInvitation(ctx, frank)) // the Pending invitation moves to another address
		notPending(t, "inside the Update, after its invitation moved to another", ctx, tx, "erin@example.com")
		got, err = tx.PendingInvitation(ctx, "frank@example.com")
		must(t, err)
		diff(t, "PendingInvitation inside the Update, to the address it moved to", frank, got)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		notPending(t, "after it was accepted", ctx, r, "dana@example.com")
		notPending(t, "after its invitation moved to another", ctx, r, "erin@example.com")
		got, err := r.PendingInvitation(ctx, "frank@example.com")
		must(t, err)
		diff(t, "PendingInvitation to the address it moved to", frank, got)
		diff(t, "pending Invitations", []invite.Invitation{frank}, collect(t, "Invitations", r.Invitations(ctx, "", true)))
		return nil
	})
	// Its address free, dana may be invited again.
	again := newInvitation("i3", "dana@example.com", invite.Pending)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.CreateInvitation(ctx, again) })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.PendingInvitation(ctx, "dana@example.com")
		must(t, err)
		diff(t, "PendingInvitation to an address invited again", again, got)
		return nil
	})
}

func testInvitationIDExists(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	before, otherBefore := snapshot(t, s, "acme"), snapshot(t, s, "other")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		// Another address, another status: the ID alone is taken.
		wantErr(t, "CreateInvitation with the ID of one of the organization's", tx.CreateInvitation(ctx, newInvitation("acme-inv-2", "gina@example.com", invite.Accepted)), is(store.ErrExists))
		wantErr(t, "CreateInvitation with the ID of another organization's", tx.CreateInvitation(ctx, newInvitation("other-inv-1", "gina@example.com", invite.Pending)), is(store.ErrExists))
		return nil
	})
	diff(t, "organization after refused creates", before, snapshot(t, s, "acme"))
	diff(t, "other organization after refused creates", otherBefore, snapshot(t, s, "other"))

	first := newInvitation("inv-x", "gina@example.com", invite.Pending)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateInvitation(ctx, first))
		wantErr(t, "CreateInvitation with the ID of one created in the same Update", tx.CreateInvitation(ctx, newInvitation("inv-x", "hal@example.com", invite.Declined)), is(store.ErrExists))
		got, err := tx.Invitation(ctx, "inv-x")
		must(t, err)
		diff(t, "Invitation after a refused create with its ID", first, got)
		return nil
	})
	otherBefore = snapshot(t, s, "other")
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "CreateInvitation with the ID of one another organization just committed", tx.CreateInvitation(ctx, newInvitation("inv-x", "hal@example.com", invite.Pending)), is(store.ErrExists))
		return nil
	})
	diff(t, "other organization after a refused create", otherBefore, snapshot(t, s, "other"))
	wantOrganization(t, "after refused creates", s, "inv-x", "acme")
	wantOrganization(t, "after refused creates", s, "other-inv-1", "other")
}

func testInvitationSecondPending(t *testing.T, s store.Store) {
	seed(t, s, "acme") // dana: Pending; erin: Revoked and Pending
	seed(t, s, "other")
	before := snapshot(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "CreateInvitation of a second Pending one to dana", tx.CreateInvitation(ctx, newInvitation("inv-x", "dana@example.com", invite.Pending)), is(store.ErrExists))
		wantErr(t, "CreateInvitation of a second Pending one to erin", tx.CreateInvitation(ctx, newInvitation("inv-new", "erin@example.com", invite.Pending)), is(store.ErrExists))
		return nil
	})
	diff(t, "organization after refused creates", before, snapshot(t, s, "acme"))
	// The refused IDs were not taken.
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error {
		return tx.CreateInvitation(ctx, newInvitation("inv-x", "gina@example.com", invite.Pending))
	})
	wantOrganization(t, "an ID refused in one organization, then created in another", s, "inv-x", "other")

	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		// Invitations that are not Pending do not count.
		for i, status := range []invite.Status{invite.Accepted, invite.Revoked, invite.Declined} {
			must(t, tx.CreateInvitation(ctx, newInvitation(fmt.Sprint("acme-dana-", i), "dana@example.com", status)))
		}
		must(t, tx.CreateInvitation(ctx, newInvitation("acme-hal-1", "hal@example.com", invite.Declined)))
		must(t, tx.CreateInvitation(ctx, newInvitation("acme-hal-2", "hal@example.com", invite.Pending)))
		wantErr(t, "CreateInvitation of a second Pending one to an address invited in the same Update", tx.CreateInvitation(ctx, newInvitation("acme-hal-3", "hal@example.com", invite.Pending)), is(store.ErrExists))
		// Another organization's Pending invitation to the address does not count.
		must(t, tx.CreateInvitation(ctx, newInvitation("acme-gina", "gina@example.com", invite.Pending)))
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		for email, id := range map[string]string{"dana@example.com": "acme-inv-1", "erin@example.com": "acme-inv-3", "hal@example.com": "acme-hal-2", "gina@example.com": "acme-gina"} {
			got, err := r.PendingInvitation(ctx, email)
			must(t, err)
			if got.ID != id {
				t.Errorf("PendingInvitation to %s: %s, want %s", email, got.ID, id)
			}
		}
		_, err := r.Invitation(ctx, "acme-hal-3")
		wantErr(t, "Invitation refused", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		return nil
	})
}

func testInvitationUpdateSecondPending(t *testing.T, s store.Store) {
	seed(t, s, "acme") // dana: Pending; erin: Revoked and Pending
	seeded := seedInvitations("acme")
	before := snapshot(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		revoked := seeded[1]
		revoked.Status = invite.Pending
		wantErr(t, "UpdateInvitation making a second Pending one to erin", tx.UpdateInvitation(ctx, revoked), is(store.ErrExists), store.ErrNotFound)
		moved := seeded[2]
		moved.Email = "dana@example.com"
		wantErr(t, "UpdateInvitation moving a Pending one to an address with one", tx.UpdateInvitation(ctx, moved), is(store.ErrExists), store.ErrNotFound)
		return nil
	})
	diff(t, "organization after refused updates", before, snapshot(t, s, "acme"))

	resent := seeded[0]
	resent.Sends, resent.UpdatedAt, resent.TokenHash = 2, at(30), []byte("the hash of a new token")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		// A Pending invitation does not conflict with itself.
		must(t, tx.UpdateInvitation(ctx, resent))
		must(t, tx.CreateInvitation(ctx, newInvitation("inv-new", "gina@example.com", invite.Pending)))
		moved := seeded[2]
		moved.Email = "gina@example.com"
		wantErr(t, "UpdateInvitation moving a Pending one to an address invited in the same Update", tx.UpdateInvitation(ctx, moved), is(store.ErrExists), store.ErrNotFound)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readInvitations(t, "after the updates", ctx, r, []invite.Invitation{resent, seeded[1], seeded[2], newInvitation("inv-new", "gina@example.com", invite.Pending)})
		return nil
	})
}

func testInvitationMissing(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	before := snapshot(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "UpdateInvitation of a missing invitation", tx.UpdateInvitation(ctx, newInvitation("nope", "gina@example.com", invite.Accepted)), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		changed := seedInvitations("other")[0]
		changed.Status = invite.Revoked
		wantErr(t, "UpdateInvitation of another organization's invitation", tx.UpdateInvitation(ctx, changed), is(store.ErrNotFound), store.ErrOrganizationNotFound)
		_, err := tx.Invitation(ctx, "nope")
		wantErr(t, "Invitation of a missing invitation", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		_, err = tx.Invitation(ctx, "other-inv-1")
		wantErr(t, "Invitation of another organization's invitation", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		_, err = tx.PendingInvitation(ctx, "nobody@example.com")
		wantErr(t, "PendingInvitation to an address never invited", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		return nil
	})
	diff(t, "organization after refused updates", before, snapshot(t, s, "acme"))
	view(t, s, "other", func(ctx context.Context, r store.Reader) error {
		got, err := r.Invitation(ctx, "other-inv-1")
		must(t, err)
		diff(t, "other organization's invitation", seedInvitations("other")[0], got)
		return nil
	})
}

// testInvitationToken checks that InvitationToken answers with an
// invitation's organization and token hash as last committed: an
// invitation no Update committed is not found, a hash is the one the last
// committed Update wrote, and a deleted organization's invitations are
// gone once the deletion commits. Its Hash is a copy.
func testInvitationToken(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	wantOrganization(t, "committed", s, "acme-inv-1", "acme")
	wantOrganization(t, "committed", s, "acme-inv-2", "acme") // not Pending
	wantOrganization(t, "committed", s, "other-inv-3", "other")
	wantOrganization(t, "unknown", s, "nope", "")
	wantOrganization(t, "unknown", s, "", "")

	boom := errors.New("boom")
	if err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateInvitation(ctx, newInvitation("inv-x", "gina@example.com", invite.Pending)))
		return boom
	}); err != boom {
		t.Fatalf("Update returned %v, want its function's error", err)
	}
	wantOrganization(t, "created by a failed Update", s, "inv-x", "")
	if err := s.Update(t.Context(), "fresh", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("fresh")))
		must(t, tx.CreateInvitation(ctx, newInvitation("inv-new", "gina@example.com", invite.Pending)))
		return boom
	}); err != boom {
		t.Fatalf("Update returned %v, want its function's error", err)
	}
	wantOrganization(t, "created with its organization by a failed Update", s, "inv-new", "")

	// A resend rotates the token: the hash is the new one once, and only
	// once, its Update commits.
	rotated := seedInvitations("acme")[0]
	rotated.TokenHash, rotated.Sends = tokenHash("a resent token"), 2
	if err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateInvitation(ctx, rotated))
		return boom
	}); err != boom {
		t.Fatalf("Update returned %v, want its function's error", err)
	}
	wantOrganization(t, "after a failed Update that changed its hash", s, "acme-inv-1", "acme")
	changed := seedInvitations("acme")[0]
	changed.Status = invite.Revoked
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, changed) })
	wantOrganization(t, "after an update that kept its hash", s, "acme-inv-1", "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, rotated) })
	wantToken(t, "after an update of its hash", s, "acme-inv-1", tokenOf("acme", rotated))
	twice := rotated
	twice.TokenHash = tokenHash("a token resent twice in one Update")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateInvitation(ctx, changed))
		return tx.UpdateInvitation(ctx, twice)
	})
	wantToken(t, "after two updates of its hash in one Update", s, "acme-inv-1", tokenOf("acme", twice))
	wantOrganization(t, "another invitation after an update of one's hash", s, "acme-inv-3", "acme")

	// A hash of another length than 32 bytes, or none, is no hash: it is
	// neither truncated nor padded.
	for _, h := range [][]byte{nil, tokenHash("short")[:31], append(tokenHash("long"), 0)} {
		odd := twice
		odd.TokenHash = h
		update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, odd) })
		wantToken(t, fmt.Sprintf("after an update to a hash of %d bytes", len(h)), s, "acme-inv-1", &store.InvitationToken{OrgID: "acme"})
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, twice) })
	wantToken(t, "after an update back to a hash of 32 bytes", s, "acme-inv-1", tokenOf("acme", twice))

	if err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.DeleteOrganization(ctx))
		return boom
	}); err != boom {
		t.Fatalf("Update returned %v, want its function's error", err)
	}
	wantToken(t, "after a failed DeleteOrganization", s, "acme-inv-1", tokenOf("acme", twice))

	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
	for _, id := range []string{"acme-inv-1", "acme-inv-2", "acme-inv-3"} {
		wantOrganization(t, "after DeleteOrganization", s, id, "")
	}
	wantOrganization(t, "another organization's after DeleteOrganization", s, "other-inv-1", "other")
}

// duringUpdate runs an Update of orgID whose function makes changes, then
// calls probe from another goroutine and waits for its answer before
// returning. It returns the answer, and false if probe did not answer
// while the Update ran (a store may make it wait for the Update): then
// nothing can be learnt about what it sees during one.
func duringUpdate[V any](t *testing.T, s store.Store, orgID string, changes func(ctx context.Context, tx store.Tx), probe func() V) (V, bool) {
	t.Helper()
	start, answer := make(chan struct{}), make(chan V, 1)
	go func() {
		<-start
		answer <- probe()
	}()
	var got V
	answered := false
	update(t, s, orgID, func(ctx context.Context, tx store.Tx) error {
		changes(ctx, tx)
		close(start)
		select {
		case got = <-answer:
			answered = true
		case <-time.After(patience):
		}
		return nil
	})
	if !answered {
		<-answer
	}
	return got, answered
}

// testInvitationTokenDuringUpdate checks that InvitationToken answers
// while an Update of the invitation's organization runs, without waiting
// for it (the service checks a token's secret with it before it takes the
// organization's lock, so that a forged token waits for no one), and
// answers from the committed state: not an invitation the Update creates,
// the hash from before the Update rotates it, and a deleted
// organization's invitations until the deletion commits.
func testInvitationTokenDuringUpdate(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	probe := func() map[string]string {
		out := map[string]string{}
		for _, id := range []string{"inv-new", "acme-inv-1"} {
			got, err := s.InvitationToken(t.Context(), id)
			out[id] = describe(got, err)
		}
		return out
	}
	found := func(inv invite.Invitation) string { return describe(*tokenOf("acme", inv), nil) }
	seeded := seedInvitations("acme")[0]
	fresh := newInvitation("inv-new", "gina@example.com", invite.Pending)
	rotated := seeded
	rotated.TokenHash, rotated.Sends = tokenHash("a resent token"), 2
	got, ok := duringUpdate(t, s, "acme", func(ctx context.Context, tx store.Tx) {
		must(t, tx.CreateInvitation(ctx, fresh))
		must(t, tx.UpdateInvitation(ctx, rotated))
	}, probe)
	if !ok {
		t.Fatal("InvitationToken waited for a running Update of the invitation's organization")
	}
	diff(t, "InvitationToken during the Update that creates inv-new and rotates the token of acme-inv-1",
		map[string]string{"inv-new": "not found", "acme-inv-1": found(seeded)}, got)
	wantToken(t, "after the Update that creates it", s, "inv-new", tokenOf("acme", fresh))
	wantToken(t, "after the Update that rotates its token", s, "acme-inv-1", tokenOf("acme", rotated))

	got, ok = duringUpdate(t, s, "acme", func(ctx context.Context, tx store.Tx) {
		must(t, tx.DeleteOrganization(ctx))
	}, probe)
	if !ok {
		t.Fatal("InvitationToken waited for a running Update that deletes the invitation's organization")
	}
	diff(t, "InvitationToken during the Update that deletes the organization",
		map[string]string{"inv-new": found(fresh), "acme-inv-1": found(rotated)}, got)
	wantOrganization(t, "after the Update that deletes the organization", s, "inv-new", "")
	wantOrganization(t, "after the Update that deletes the organization", s, "acme-inv-1", "")
}

func testInvitationRollbackFrees(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	before := snapshot(t, s, "acme")
	for _, f := range failures() {
		f.run(t, s, "acme", func(ctx context.Context, tx store.Tx) {
			must(t, tx.CreateInvitation(ctx, newInvitation("inv-x", "gina@example.com", invite.Pending)))
			revoked := seedInvitations("acme")[0]
			revoked.Status = invite.Revoked
			must(t, tx.UpdateInvitation(ctx, revoked))
			must(t, tx.CreateInvitation(ctx, newInvitation("inv-new", "dana@example.com", invite.Pending)))
		})
		diff(t, "organization after an Update that failed "+f.name, before, snapshot(t, s, "acme"))
	}
	// The IDs are free across the store, the addresses in the organization.
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateInvitation(ctx, newInvitation("inv-x", "gina@example.com", invite.Pending)))
		return tx.CreateInvitation(ctx, newInvitation("inv-new", "dana@example.com", invite.Accepted))
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "CreateInvitation of a second Pending one to dana after a rollback", tx.CreateInvitation(ctx, newInvitation("acme-inv-9", "dana@example.com", invite.Pending)), is(store.ErrExists))
		return tx.CreateInvitation(ctx, newInvitation("acme-inv-4", "gina@example.com", invite.Pending))
	})
	wantOrganization(t, "after the rollbacks", s, "inv-x", "other")
	wantOrganization(t, "after the rollbacks", s, "acme-inv-4", "acme")
}

func testInvitationCopy(t *testing.T, s store.Store) {
	want := []byte{0x01, 0x02, 0x03, 0x04}
	hash := slices.Clone(want)
	in := newInvitation("i1", "dana@example.com", invite.Pending)
	in.TokenHash = hash
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		must(t, tx.CreateInvitation(ctx, in))
		hash[0] = 0xff
		got, err := tx.Invitation(ctx, "i1")
		must(t, err)
		diff(t, "TokenHash inside the Update after the caller changed its slice", want, got.TokenHash)
		got.TokenHash[1] = 0xee
		got, err = tx.Invitation(ctx, "i1")
		must(t, err)
		diff(t, "TokenHash inside the Update after a record read was changed", want, got.TokenHash)
		return nil
	})
	readHash := func(t *testing.T) []byte {
		t.Helper()
		var hash []byte
		view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
			got, err := r.Invitation(ctx, "i1")
			hash = got.TokenHash
			return err
		})
		return hash
	}
	diff(t, "TokenHash after the caller changed its slice", want, readHash(t))
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.Invitation(ctx, "i1")
		must(t, err)
		got.TokenHash[0] = 0xa0
		got, err = r.PendingInvitation(ctx, "dana@example.com")
		must(t, err)
		got.TokenHash[1] = 0xa1
		for _, pendingOnly := range []bool{false, true} {
			for inv, err := range r.Invitations(ctx, "", pendingOnly) {
				must(t, err)
				inv.TokenHash[2] = 0xa2
			}
		}
		return nil
	})
	diff(t, "TokenHash after records read and listed were changed", want, readHash(t))

	updated := []byte{0x10, 0x20, 0x30}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		changed := in
		changed.TokenHash = updated
		must(t, tx.UpdateInvitation(ctx, changed))
		updated[0] = 0xff
		return nil
	})
	diff(t, "TokenHash after the caller changed the slice it updated with", []byte{0x10, 0x20, 0x30}, readHash(t))
}

// testInvitationTimes writes times with nanoseconds in a zone east of
// UTC, with a monotonic reading, and before 1970 into every time field of
// invitations, and checks that every way of reading them back gives them
// truncated to the microsecond, in UTC, inside the Update and after.
func testInvitationTimes(t *testing.T, s store.Store) {
	zone := time.FixedZone("UTC+05:30", 5*3600+30*60)
	in := time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, zone)
	want := time.Date(2024, 2, 29, 18, 29, 59, 999_999_000, time.UTC)
	now := time.Now() // carries a monotonic reading
	wantNow := now.Round(0).Truncate(time.Microsecond).UTC()
	before1970 := time.Date(1955, 11, 5, 6, 15, 0, 1_500, zone)
	wantBefore1970 := time.Date(1955, 11, 5, 0, 45, 0, 1_000, time.UTC)

	check := func(t *testing.T, what string, inv invite.Invitation) {
		t.Helper()
		for _, c := range []struct {
			field     string
			want, got time.Time
		}{
			{"CreatedAt", want, inv.CreatedAt},
			{"ExpiresAt", wantNow, inv.ExpiresAt},
			{"UpdatedAt", wantBefore1970, inv.UpdatedAt},
		} {
			if inv.ID == "zero" {
				if !c.got.IsZero() {
					t.Errorf("%s %s (zero): got %v, want the zero time", what, c.field, c.got)
				}
				continue
			}
			if !c.got.Equal(c.want) || c.got.Location() != time.UTC {
				t.Errorf("%s %s: got %v (%s), want %v", what, c.field, c.got, c.got.Location(), c.want)
			}
		}
	}
	checkAll := func(t *testing.T, where string, ctx context.Context, r store.Reader) {
		t.Helper()
		for _, id := range []string{"pending", "accepted", "zero"} {
			inv, err := r.Invitation(ctx, id)
			must(t, err)
			check(t, where+" Invitation "+id, inv)
		}
		inv, err := r.PendingInvitation(ctx, "dana@example.com")
		must(t, err)
		check(t, where+" PendingInvitation", inv)
		for _, pendingOnly := range []bool{false, true} {
			for _, inv := range collect(t, "Invitations", r.Invitations(ctx, "", pendingOnly)) {
				check(t, fmt.Sprintf("%s Invitations (pendingOnly %v) %s", where, pendingOnly, inv.ID), inv)
			}
		}
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for _, inv := range []invite.Invitation{
			newInvitation("pending", "dana@example.com", invite.Pending),
			newInvitation("accepted", "erin@example.com", invite.Accepted),
			newInvitation("zero", "frank@example.com", invite.Revoked),
		} {
			if inv.ID == "zero" {
				inv.CreatedAt, inv.ExpiresAt, inv.UpdatedAt = time.Time{}, time.Time{}, time.Time{}
				must(t, tx.CreateInvitation(ctx, inv))
				continue
			}
			// Created with other times, then updated with these: both
			// paths in.
			must(t, tx.CreateInvitation(ctx, inv))
			inv.CreatedAt, inv.ExpiresAt, inv.UpdatedAt = in, now, before1970
			if inv.ID == "pending" {
				must(t, tx.UpdateInvitation(ctx, inv))
				continue
			}
			inv.ID = "accepted-created"
			must(t, tx.CreateInvitation(ctx, inv))
			inv.ID = "accepted"
			must(t, tx.UpdateInvitation(ctx, inv))
		}
		checkAll(t, "inside the Update:", ctx, tx)
		got, err := tx.Invitation(ctx, "accepted-created")
		must(t, err)
		check(t, "inside the Update: Invitation created with the times", got)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		checkAll(t, "after commit:", ctx, r)
		got, err := r.Invitation(ctx, "accepted-created")
		must(t, err)
		check(t, "after commit: Invitation created with the times", got)
		return nil
	})
}

func testInvitationDeleteOrganization(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	otherBefore := snapshot(t, s, "other")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
	for _, inv := range seedInvitations("acme") {
		wantOrganization(t, "after DeleteOrganization", s, inv.ID, "")
	}
	err := s.View(t.Context(), "acme", func(ctx context.Context, r store.Reader) error {
		_, err := r.Invitation(ctx, "acme-inv-1")
		wantErr(t, "Invitation after DeleteOrganization", err, is(store.ErrOrganizationNotFound))
		return nil
	})
	must(t, err)
	after := snapshot(t, s, "other")
	after.Listed = otherBefore.Listed
	diff(t, "other organization after DeleteOrganization", otherBefore, after)

	// Their IDs are free across the store, their addresses in the
	// organization created again.
	fromAcme := newInvitation("acme-inv-1", "gina@example.com", invite.Pending)
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.CreateInvitation(ctx, fromAcme) })
	wantOrganization(t, "an ID of the deleted organization's, created in another", s, "acme-inv-1", "other")
	again := newInvitation("acme-inv-2", "dana@example.com", invite.Pending)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		diff(t, "Invitations of the organization created again", []invite.Invitation(nil), collect(t, "Invitations", tx.Invitations(ctx, "", false)))
		_, err := tx.PendingInvitation(ctx, "erin@example.com")
		wantErr(t, "PendingInvitation in the organization created again", err, is(store.ErrNotFound), store.ErrOrganizationNotFound)
		return tx.CreateInvitation(ctx, again)
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readInvitations(t, "the organization created again", ctx, r, []invite.Invitation{again})
		return nil
	})
	wantOrganization(t, "an ID of the deleted organization's, created in it again", s, "acme-inv-2", "acme")
}

// testInvitationDeleteInOneUpdate deletes an organization and creates it
// again in one Update. Until that Update commits, its invitations are
// still committed: their IDs exist in the store, and CreateInvitation
// refuses them. An invitation created and deleted within the Update was
// never committed; its ID may be created again.
func testInvitationDeleteInOneUpdate(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	fresh := newInvitation("inv-new", "dana@example.com", invite.Pending)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.DeleteOrganization(ctx))
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		wantErr(t, "CreateInvitation with the ID of an invitation deleted in the same Update", tx.CreateInvitation(ctx, newInvitation("acme-inv-1", "gina@example.com", invite.Pending)), is(store.ErrExists))
		// dana's address is free: her Pending invitation was deleted.
		must(t, tx.CreateInvitation(ctx, newInvitation("inv-new", "erin@example.com", invite.Accepted)))
		must(t, tx.DeleteOrganization(ctx))
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		must(t, tx.CreateInvitation(ctx, fresh))
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readInvitations(t, "after the Update", ctx, r, []invite.Invitation{fresh})
		return nil
	})
	wantOrganization(t, "after the Update", s, "inv-new", "acme")
	for _, inv := range seedInvitations("acme") {
		wantOrganization(t, "after the Update", s, inv.ID, "")
	}
}

// testInvitationRace has Updates of two organizations create an
// invitation with the same ID at the same time, many times over: exactly
// one of them may commit it (or none, when the one that got the ID fails
// on its own), the other failing with ErrExists, from CreateInvitation or
// from Update.
// The rounds run as idRace describes.
func testInvitationRace(t *testing.T, s store.Store) {
	const rounds = 200
	orgs := [2]string{"a", "b"}
	race := idRace{orgs: orgs, what: "invitation"}
	for _, id := range orgs {
		update(t, s, id, func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, newOrg(id)) })
	}
	for round := range rounds {
		invID := fmt.Sprint("race-", round)
		winner := race.round(t, s, round, invID, func(ctx context.Context, tx store.Tx, orgID string) error {
			return tx.CreateInvitation(ctx, newInvitation(invID, "racer@example.com", invite.Pending))
		})
		wantOrganization(t, fmt.Sprint("round ", round), s, invID, winner)
		for _, orgID := range orgs {
			view(t, s, orgID, func(ctx context.Context, r store.Reader) error {
				_, err := r.Invitation(ctx, invID)
				if orgID == winner {
					must(t, err)
				} else {
					wantErr(t, fmt.Sprintf("round %d: Invitation %s in %s, which did not commit it", round, invID, orgID), err, is(store.ErrNotFound))
				}
				return nil
			})
		}
		// Each round's invitation is Pending to one address: revoke it,
		// so the next round's may be created.
		if winner != "" {
			update(t, s, winner, func(ctx context.Context, tx store.Tx) error {
				inv := newInvitation(invID, "racer@example.com", invite.Revoked)
				return tx.UpdateInvitation(ctx, inv)
			})
		}
	}
}
