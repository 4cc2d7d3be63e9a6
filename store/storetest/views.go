package storetest

// The lookups that serve a principal's views: the organizations a
// principal belongs to (Store.Memberships), the pending invitations to an
// address across organizations (Store.InvitationsTo), a member found by
// the address it joined at (Reader.MemberByEmail, with the uniqueness of
// Member.Email that AddMember and UpdateMember keep), the service
// principals (Reader.ServicePrincipals) and one principal's resources of
// one kind (Reader.MemberScopes); and Invitation.DeclinedBy.
//
// Their tests join the groups of the promises they check (see groups).

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

func lookupOrganizationTests() []test {
	return []test{
		{"MissingOrganizationFailsTheLookups", testOrganizationMissingLookups},
	}
}

func lookupMemberTests() []test {
	return []test{
		{"EmailRoundTrips", testMemberEmailRoundTrip},
		{"ByEmailFindsTheMemberWithExactlyThatAddress", testMemberByEmail},
		{"AddWithAnotherMembersEmailFailsWithErrExists", testMemberEmailExistsOnAdd},
		{"UpdateToAnotherMembersEmailFailsWithErrExists", testMemberEmailExistsOnUpdate},
		{"EmailIsFreedByRemovalChangeOrDeletion", testMemberEmailFreed},
		{"EmailTakenByAFailedUpdateStaysFree", testMemberEmailRollback},
		{"ServicePrincipalsFollowAddsKindChangesAndRemovals", testServicePrincipalsFollowChanges},
	}
}

func lookupScopeMemberTests() []test {
	return []test{
		{"MemberScopesFollowPutsRemovalsAndScopeDeletes", testMemberScopesFollowChanges},
	}
}

func lookupInvitationTests() []test {
	return []test{
		{"InvitationsToFollowCommittedChanges", testInvitationsToFollowChanges},
		{"DeclinedByRoundTrips", testInvitationDeclinedBy},
	}
}

func membershipTests() []test {
	return []test{
		{"FollowCommittedChanges", testMembershipsFollowChanges},
	}
}

func lookupListingTests() []test {
	return []test{
		{"MembershipsOrderedByOrganizationIDAndPagedAfter", testListMemberships},
		{"InvitationsToOrderedByIDAndPagedAfter", testListInvitationsTo},
		{"ServicePrincipalsOrderedByIDAndPagedAfter", testListServicePrincipals},
		{"MemberScopesOrderedByScopeIDAndPagedAfter", testListMemberScopes},
		{"MembershipsAndInvitationsToPagedThroughManyOrganizations", testListLookupsPagesAcrossOrganizations},
		{"ServicePrincipalsAndMemberScopesPagedThroughManyRecords", testListLookupsPagesInOneOrganization},
		{"LookupListingsAreSingleUse", testLookupListingsSingleUse},
		{"LookupListingsStopWhenTheLoopBreaks", testLookupListingsEarlyBreak},
	}
}

func lookupCopyTests() []test {
	return []test{
		{"MembershipAndAddressedInvitationRecordsAreCopiedOut", testCopyLookups},
	}
}

func lookupTimeTests() []test {
	return []test{
		{"TruncatedToMicrosecondsInUTCInTheLookups", testTimesLookups},
	}
}

func lookupContextTests() []test {
	return []test{
		{"CancelledContextFailsMembershipsAndInvitationsTo", func(t *testing.T, s store.Store) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			testDoneContextLookups(t, s, ctx, context.Canceled)
		}},
		{"ExpiredDeadlineFailsMembershipsAndInvitationsTo", func(t *testing.T, s store.Store) {
			ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Hour))
			defer cancel()
			testDoneContextLookups(t, s, ctx, context.DeadlineExceeded)
		}},
		{"CancelledContextFailsTheLookupsOfReaderAndTx", testDoneContextInsideLookups},
	}
}

func lookupConcurrencyTests() []test {
	return []test{
		{"MembershipsListNoChangeOfARunningUpdate", testMembershipsDuringUpdate},
		{"InvitationsToListsNoChangeOfARunningUpdate", testInvitationsToDuringUpdate},
	}
}

func lookupCloseTests() []test {
	return []test{
		{"MembershipsAndInvitationsToFailWithErrClosedAfterClose", testClosedLookups},
	}
}

// lookupRollbackTests checks that an Update that fails, in every way,
// changes nothing the lookups tell, in its organization or elsewhere.
func lookupRollbackTests() []test {
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
		{"AddressesKindsAndScopeMemberships", true, lookupChanges},
		{"CreateOrganization", false, func(t *testing.T) func(ctx context.Context, tx store.Tx) {
			return func(ctx context.Context, tx store.Tx) {
				must(t, tx.CreateOrganization(ctx, newOrg("acme")))
				must(t, tx.AddMember(ctx, newMember("alice", "admin")))
				must(t, tx.AddMember(ctx, patMember()))
				must(t, tx.AddMember(ctx, servicePrincipal("ci-2")))
				must(t, tx.CreateScope(ctx, newScope("project", "p1")))
				must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p1", "pat", "owner")))
				must(t, tx.CreateInvitation(ctx, newInvitation("acme-inv-1", danaEmail, invite.Pending)))
				must(t, tx.CreateInvitation(ctx, newInvitation("inv-new", patEmail, invite.Pending)))
			}
		}},
	}
	var tests []test
	for _, f := range failures() {
		for _, sc := range scenarios {
			tests = append(tests, test{f.name + "/Lookups/" + sc.name, func(t *testing.T, s store.Store) {
				seedLookups(t, s, "neighbour")
				if sc.seeded {
					seedLookups(t, s, "acme")
				}
				before, neighbour := lookups(t, s, "acme"), lookups(t, s, "neighbour")
				f.run(t, s, "acme", sc.changes(t))
				diff(t, "lookups of the organization after the failed Update", before, lookups(t, s, "acme"))
				diff(t, "lookups of the other organization after the failed Update", neighbour, lookups(t, s, "neighbour"))
			}})
		}
	}
	return tests
}

// Fixtures of the lookups.

const (
	patEmail  = "pat@example.com"
	bobEmail  = "bob@example.com"
	danaEmail = "dana@example.com"
	erinEmail = "erin@example.com"
)

// patMember is pat, who joined by accepting an invitation to her address.
func patMember() org.Member {
	m := newMember("pat", "member")
	m.Email, m.JoinedAt = patEmail, at(20)
	return m
}

// seededBob is bob as seedLookups leaves him: with an address.
func seededBob() org.Member { return withEmail(newMember("bob", "member"), bobEmail) }

// seededCI is the service principal ci as seed adds it.
func seededCI() org.Member {
	ci := newMember("ci", "member")
	ci.Kind = org.ServicePrincipal
	return ci
}

// servicePrincipal returns a service principal with a name.
func servicePrincipal(id string) org.Member {
	m := newMember(id, "member")
	m.Kind, m.Name = org.ServicePrincipal, "Bot "+id
	return m
}

// externalMember returns an external member.
func externalMember(id string) org.Member {
	m := newMember(id, "external")
	m.External = true
	return m
}

func withEmail(m org.Member, email string) org.Member {
	m.Email = email
	return m
}

// membership returns the record Memberships lists for member m of
// organization o: the organization's ID, name, scheme, edition and
// standing, and the member's role, whether it is external and when it
// joined, truncated to the microsecond in UTC, as a store reads times back.
func membership(o org.Organization, m org.Member) org.Membership {
	return org.Membership{
		OrgID:    o.ID,
		OrgName:  o.Name,
		Scheme:   o.Scheme,
		Edition:  o.Edition,
		Archived: o.Archived,
		Role:     m.Role,
		External: m.External,
		JoinedAt: m.JoinedAt.Truncate(time.Microsecond).UTC(),
	}
}

func addressed(o org.Organization, inv invite.Invitation) store.AddressedInvitation {
	return store.AddressedInvitation{Organization: o, Invitation: inv}
}

// seedLookups seeds organization id as seed does, then gives it more of
// what the lookups find: an address to bob, pat (who joined at hers), a
// second service principal ci-2, and alice's membership of project p2.
func seedLookups(t *testing.T, s store.Store, id string) {
	t.Helper()
	seed(t, s, id)
	update(t, s, id, func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateMember(ctx, seededBob()))
		must(t, tx.AddMember(ctx, patMember()))
		must(t, tx.AddMember(ctx, servicePrincipal("ci-2")))
		return tx.PutScopeMember(ctx, newScopeMember("project", "p2", "alice", "editor"))
	})
}

// lookupChanges changes, in an organization seedLookups made, what the
// lookups tell: the organization's record, addresses (one taken and
// freed, one freed and taken by another), kinds, scope memberships and
// invitations.
func lookupChanges(t *testing.T) func(ctx context.Context, tx store.Tx) {
	return func(ctx context.Context, tx store.Tx) {
		o := newOrg("acme")
		o.Name, o.Settings = "Renamed", map[string]string{"new": "setting"}
		must(t, tx.UpdateOrganization(ctx, o))
		pat := patMember()
		pat.Email, pat.Role = "pat.new@example.com", "admin"
		must(t, tx.UpdateMember(ctx, pat))
		gus := withEmail(servicePrincipal("gus"), patEmail) // freed by pat just now
		must(t, tx.AddMember(ctx, gus))
		must(t, tx.UpdateMember(ctx, newMember("bob", "member"))) // no address any more
		must(t, tx.AddMember(ctx, withEmail(newMember("hana", "viewer"), bobEmail)))
		must(t, tx.RemoveMember(ctx, "ci-2"))
		must(t, tx.UpdateMember(ctx, newMember("ci", "member"))) // a user now
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p1", "pat", "owner")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p1", "alice", "viewer")))
		must(t, tx.RemoveScopeMember(ctx, "project", "p2", "alice"))
		must(t, tx.DeleteScope(ctx, "service", "s1"))
		must(t, tx.CreateScope(ctx, newScope("workspace", "w1")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("workspace", "w1", "pat", "owner")))
		declined := seedInvitations("acme")[0]
		declined.Status, declined.DeclinedBy = invite.Declined, "dana"
		must(t, tx.UpdateInvitation(ctx, declined))
		must(t, tx.CreateInvitation(ctx, newInvitation("inv-new", patEmail, invite.Pending)))
		// The changes are there before the failure.
		if m, err := tx.MemberByEmail(ctx, bobEmail); err != nil || m.PrincipalID != "hana" {
			t.Errorf("MemberByEmail(%s) inside the Update: %+v, %v; want hana", bobEmail, m, err)
		}
	}
}

// lookupSnapshot is everything the lookups tell about one organization,
// and what the store-wide ones tell about its principals and addresses.
type lookupSnapshot struct {
	Memberships       map[string][]org.Membership            // by principal, store-wide
	InvitationsTo     map[string][]store.AddressedInvitation // by address, store-wide
	Exists            bool
	MemberByEmail     map[string]string                // address -> member or the error
	ServicePrincipals []org.Member                     // ServicePrincipals(ctx, "")
	MemberScopes      map[string][]org.ScopeMembership // by principal/kind
}

// lookups reads what every lookup tells about organization id, outside
// any Update, for the principals, addresses and kinds the fixtures and the
// changes of the tests use.
func lookups(t *testing.T, s store.Store, id string) lookupSnapshot {
	t.Helper()
	var (
		ctx        = t.Context()
		principals = []string{"alice", "bob", "ci", "ci-2", "ext", "dave", "erin", "pat", "gus", "hana"}
		emails     = []string{bobEmail, patEmail, "pat.new@example.com", danaEmail, erinEmail, "frank@example.com", "gina@example.com", "gus@example.com"}
		kinds      = []string{"project", "service", "workspace"}
	)
	snap := lookupSnapshot{MemberByEmail: map[string]string{}}
	for _, p := range principals {
		snap.Memberships = addTo(snap.Memberships, p, collect(t, "Memberships of "+p, s.Memberships(ctx, p, "")))
	}
	for _, e := range emails {
		snap.InvitationsTo = addTo(snap.InvitationsTo, e, collect(t, "InvitationsTo "+e, s.InvitationsTo(ctx, e, "")))
	}
	err := s.View(ctx, id, func(ctx context.Context, r store.Reader) error {
		_, err := r.Organization(ctx)
		if errors.Is(err, store.ErrOrganizationNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		snap.Exists = true
		for _, e := range append(emails, "") {
			m, err := r.MemberByEmail(ctx, e)
			snap.MemberByEmail[e] = describe(m, err)
		}
		snap.ServicePrincipals = collect(t, "ServicePrincipals", r.ServicePrincipals(ctx, ""))
		for _, p := range principals {
			for _, k := range kinds {
				snap.MemberScopes = addTo(snap.MemberScopes, p+"/"+k, collect(t, "MemberScopes", r.MemberScopes(ctx, p, k, "")))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View(%q): %v", id, err)
	}
	return snap
}

func membershipOrgIDs(ms []org.Membership) []string {
	return keys(ms, func(m org.Membership) string { return m.OrgID })
}

func addressedIDs(as []store.AddressedInvitation) []string {
	return keys(as, func(a store.AddressedInvitation) string { return a.Invitation.ID })
}

func memberIDs(ms []org.Member) []string {
	return keys(ms, func(m org.Member) string { return m.PrincipalID })
}

func scopeMembershipIDs(ms []org.ScopeMembership) []string {
	return keys(ms, func(m org.ScopeMembership) string { return m.Scope.ID })
}

// wantMemberships checks what Memberships lists for principal p.
func wantMemberships(t *testing.T, what string, s store.Store, p string, want ...org.Membership) {
	t.Helper()
	diff(t, what+": Memberships of "+p, want, collect(t, "Memberships of "+p, s.Memberships(t.Context(), p, "")))
}

// wantInvitationsTo checks what InvitationsTo lists for address email.
func wantInvitationsTo(t *testing.T, what string, s store.Store, email string, want ...store.AddressedInvitation) {
	t.Helper()
	diff(t, what+": InvitationsTo "+email, want, collect(t, "InvitationsTo "+email, s.InvitationsTo(t.Context(), email, "")))
}

// wantMemberScopes checks what MemberScopes lists for principal p and kind.
func wantMemberScopes(t *testing.T, what string, ctx context.Context, r store.Reader, p, kind string, want ...org.ScopeMembership) {
	t.Helper()
	diff(t, fmt.Sprintf("%s: MemberScopes of %s, %s", what, p, kind), want, collect(t, "MemberScopes", r.MemberScopes(ctx, p, kind, "")))
}

// wantNoMember checks that err says the member was not found, in an
// organization that exists.
func wantNoMember(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, is(store.ErrMemberNotFound, store.ErrNotFound), store.ErrOrganizationNotFound)
}

// wantByEmail checks that MemberByEmail(email) finds want.
func wantByEmail(t *testing.T, what string, ctx context.Context, r store.Reader, email string, want org.Member) {
	t.Helper()
	got, err := r.MemberByEmail(ctx, email)
	if err != nil {
		t.Errorf("%s: MemberByEmail(%q): %v, want %s", what, email, err, want.PrincipalID)
		return
	}
	diff(t, fmt.Sprintf("%s: MemberByEmail(%q)", what, email), want, got)
}

// wantNoneByEmail checks that MemberByEmail(email) finds no one.
func wantNoneByEmail(t *testing.T, what string, ctx context.Context, r store.Reader, email string) {
	t.Helper()
	m, err := r.MemberByEmail(ctx, email)
	wantNoMember(t, fmt.Sprintf("%s: MemberByEmail(%q)", what, email), err)
	if err == nil {
		t.Errorf("%s: MemberByEmail(%q) found %+v, want no one", what, email, m)
	}
}

// readMembers checks, in r, every way of reading members: want are all of
// them, each read by ID, all listed, each found by its address when it has
// one, and the service principals among them listed; the empty address
// finds no one.
func readMembers(t *testing.T, what string, ctx context.Context, r store.Reader, want []org.Member) {
	t.Helper()
	want = slices.SortedFunc(slices.Values(want), func(a, b org.Member) int { return strings.Compare(a.PrincipalID, b.PrincipalID) })
	var sps []org.Member
	for _, m := range want {
		got, err := r.Member(ctx, m.PrincipalID)
		must(t, err)
		diff(t, what+": Member "+m.PrincipalID, m, got)
		if m.Email != "" {
			wantByEmail(t, what, ctx, r, m.Email, m)
		}
		if m.Kind == org.ServicePrincipal {
			sps = append(sps, m)
		}
	}
	diff(t, what+": Members", want, collect(t, "Members", r.Members(ctx, "")))
	diff(t, what+": ServicePrincipals", sps, collect(t, "ServicePrincipals", r.ServicePrincipals(ctx, "")))
	wantNoneByEmail(t, what, ctx, r, "")
}

// firstKeys returns the keys of the first n records seq yields (all, if
// fewer), failing the test on an error.
func firstKeys[V any](t *testing.T, what string, seq iter.Seq2[V, error], n int, key func(V) string) []string {
	t.Helper()
	var ks []string
	for v, err := range seq {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		ks = append(ks, key(v))
		if len(ks) == n {
			break
		}
	}
	return ks
}

// pageThrough reads a listing of total records page after page, each page
// starting after the last key of the one before, and returns the keys
// read; page returns the keys of one page of size records.
func pageThrough(t *testing.T, what string, total, size int, page func(after string) []string) []string {
	t.Helper()
	var got []string
	for pages, last := 0, ""; ; pages++ {
		if pages > total/size+1 {
			t.Fatalf("%s: still paging after %d pages of %d records: paging after the last key seen does not move on", what, pages, total)
		}
		ks := page(last)
		if len(ks) == 0 {
			return got
		}
		got = append(got, ks...)
		last = ks[len(ks)-1]
	}
}

// Listings.

func testListMemberships(t *testing.T, s store.Store) {
	ks := listingKeys()
	byOrg := map[string]org.Membership{}
	var pa []string
	for i, k := range shuffled(ks) {
		o := newOrg(k)
		o.Name, o.SeatOverride = fmt.Sprint("Organization ", i), i
		o.Archived = i%5 == 4 // an archived organization's members still belong to it
		if i%2 == 1 {
			o.Scheme, o.Edition = "scheme-2", "team"
		}
		pat := patMember()
		pat.Role, pat.JoinedAt = fmt.Sprint("role-", i), at(20+i)
		if i%3 == 0 {
			pat.Role, pat.External = "external", true
		}
		if i%4 == 1 {
			pat.Email = "" // joined otherwise
		}
		update(t, s, k, func(ctx context.Context, tx store.Tx) error {
			must(t, tx.CreateOrganization(ctx, o))
			must(t, tx.AddMember(ctx, newMember("alice", "admin")))
			if i%2 == 0 { // principals whose IDs extend or cut pat's
				must(t, tx.AddMember(ctx, newMember("pa", "member")))
				must(t, tx.AddMember(ctx, newMember("pat-2", "member")))
			}
			return tx.AddMember(ctx, pat)
		})
		byOrg[k] = membership(o, pat)
		if i%2 == 0 {
			pa = append(pa, k)
		}
	}
	// Organizations pat does not belong to, before, between and after
	// hers, in which she is a member of a resource only: not listed.
	for _, id := range []string{"!", "a1", "Zz", "~~"} {
		update(t, s, id, func(ctx context.Context, tx store.Tx) error {
			must(t, tx.CreateOrganization(ctx, newOrg(id)))
			must(t, tx.AddMember(ctx, newMember("pa", "member")))
			must(t, tx.CreateScope(ctx, newScope("project", "p1")))
			return tx.PutScopeMember(ctx, newScopeMember("project", "p1", "pat", "viewer"))
		})
		pa = append(pa, id)
	}
	checkPaging(t, "Memberships of pat", ks, func(a string) []string {
		return membershipOrgIDs(collect(t, "Memberships", s.Memberships(t.Context(), "pat", a)))
	})
	for _, m := range collect(t, "Memberships", s.Memberships(t.Context(), "pat", "")) {
		diff(t, "record listed by Memberships", byOrg[m.OrgID], m)
	}
	checkPaging(t, "Memberships of pa", pa, func(a string) []string {
		return membershipOrgIDs(collect(t, "Memberships", s.Memberships(t.Context(), "pa", a)))
	})
	wantMemberships(t, "a principal in none", s, "nobody")
	wantMemberships(t, "a principal whose ID differs from a member's in case only", s, "PAT")
}

func testListInvitationsTo(t *testing.T, s store.Store) {
	ks := listingKeys()
	byID := map[string]store.AddressedInvitation{}
	// An organization may hold one Pending invitation to an address: each
	// of pat's is in an organization of its own, whose IDs sort in another
	// order than the invitations'.
	for i, k := range shuffled(ks) {
		orgID := fmt.Sprintf("org-%02d", len(ks)-i)
		o := newOrg(orgID)
		inv := newInvitation(k, patEmail, invite.Pending)
		if i%3 == 1 {
			inv.ExpiresAt = at(-60 * 24 * 365) // past its expiry: Pending as stored
		}
		if i%4 == 2 {
			inv.Role, inv.Sends, inv.InvitedBy = "admin", 3, "bob"
		}
		update(t, s, orgID, func(ctx context.Context, tx store.Tx) error {
			must(t, tx.CreateOrganization(ctx, o))
			// Invitations to her that are not Pending, and Pending ones
			// to others: not listed.
			for j, status := range []invite.Status{invite.Accepted, invite.Revoked, invite.Declined} {
				must(t, tx.CreateInvitation(ctx, newInvitation(fmt.Sprint(k, "-", j), patEmail, status)))
			}
			must(t, tx.CreateInvitation(ctx, newInvitation(k+"+", fmt.Sprintf("user%d@example.com", i), invite.Pending)))
			return tx.CreateInvitation(ctx, inv)
		})
		byID[k] = addressed(o, inv)
	}
	// Addresses that differ from hers in case only, or by a suffix, are
	// others: the store compares bytes.
	others := map[string]string{"a2": "Pat@example.com", "b0": "PAT@EXAMPLE.COM", "Zy": "pat@example.com.au", "a/c": "pat@example.co"}
	for id, email := range others {
		orgID := "other-" + id
		update(t, s, orgID, func(ctx context.Context, tx store.Tx) error {
			must(t, tx.CreateOrganization(ctx, newOrg(orgID)))
			return tx.CreateInvitation(ctx, newInvitation(id, email, invite.Pending))
		})
	}
	checkPaging(t, "InvitationsTo "+patEmail, ks, func(a string) []string {
		return addressedIDs(collect(t, "InvitationsTo", s.InvitationsTo(t.Context(), patEmail, a)))
	})
	for _, a := range collect(t, "InvitationsTo", s.InvitationsTo(t.Context(), patEmail, "")) {
		diff(t, "record listed by InvitationsTo", byID[a.Invitation.ID], a)
	}
	for id, email := range others {
		wantInvitationsTo(t, "an address that differs from another's", s, email, addressed(newOrg("other-"+id), newInvitation(id, email, invite.Pending)))
	}
	wantInvitationsTo(t, "an address never invited", s, "nobody@example.com")
}

func testListServicePrincipals(t *testing.T, s store.Store) {
	ks := listingKeys()
	byID := map[string]org.Member{}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for i, k := range shuffled(ks) {
			sp := servicePrincipal(k)
			sp.JoinedAt = at(i)
			if i%4 == 1 {
				sp.Email = k + "@bots.example.com"
			}
			must(t, tx.AddMember(ctx, sp))
			byID[k] = sp
			must(t, tx.AddMember(ctx, newMember(k+"-user", "member"))) // users among them: not listed
		}
		for i, p := range probes() {
			u := newMember(p, "member")
			if i%2 == 0 {
				u = externalMember(p)
			}
			must(t, tx.AddMember(ctx, u))
		}
		checkPaging(t, "ServicePrincipals inside the Update", ks, func(a string) []string {
			return memberIDs(collect(t, "ServicePrincipals", tx.ServicePrincipals(ctx, a)))
		})
		return nil
	})
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { // not listed
		must(t, tx.CreateOrganization(ctx, newOrg("other")))
		return tx.AddMember(ctx, servicePrincipal("a5"))
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		checkPaging(t, "ServicePrincipals", ks, func(a string) []string {
			return memberIDs(collect(t, "ServicePrincipals", r.ServicePrincipals(ctx, a)))
		})
		for _, m := range collect(t, "ServicePrincipals", r.ServicePrincipals(ctx, "")) {
			diff(t, "record listed by ServicePrincipals", byID[m.PrincipalID], m)
		}
		return nil
	})
}

func testListMemberScopes(t *testing.T, s store.Store) {
	ks := listingKeys()
	byID := map[string]org.ScopeMembership{}
	var upper []string
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for i, k := range shuffled(ks) {
			sc := newScope("project", k)
			sc.CreatedAt = at(i)
			must(t, tx.CreateScope(ctx, sc))
			sm := newScopeMember("project", k, "pat", "role-"+k)
			sm.AddedAt = at(30 + i)
			must(t, tx.PutScopeMember(ctx, sm))
			byID[k] = org.ScopeMembership{Scope: sc, Member: sm}
			if i%2 == 0 { // other principals' memberships of the same resources
				for _, p := range []string{"pa", "pat-2", "PAT"} {
					must(t, tx.PutScopeMember(ctx, newScopeMember("project", k, p, "viewer")))
				}
				upper = append(upper, k)
			}
			// Her memberships of resources with the same ID, of kinds
			// whose names extend or cut this one's or differ in case.
			kind := []string{"projects", "Project", "proj"}[i%3]
			must(t, tx.CreateScope(ctx, newScope(kind, k)))
			must(t, tx.PutScopeMember(ctx, newScopeMember(kind, k, "pat", "viewer")))
		}
		for _, p := range probes() { // resources of the kind she is not a member of
			must(t, tx.CreateScope(ctx, newScope("project", p)))
			must(t, tx.PutScopeMember(ctx, newScopeMember("project", p, "pa", "viewer")))
		}
		must(t, tx.CreateScope(ctx, newScope("service", "a5")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("service", "a5", "pat", "svc-user")))
		checkPaging(t, "MemberScopes inside the Update", ks, func(a string) []string {
			return scopeMembershipIDs(collect(t, "MemberScopes", tx.MemberScopes(ctx, "pat", "project", a)))
		})
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		checkPaging(t, "MemberScopes", ks, func(a string) []string {
			return scopeMembershipIDs(collect(t, "MemberScopes", r.MemberScopes(ctx, "pat", "project", a)))
		})
		for _, m := range collect(t, "MemberScopes", r.MemberScopes(ctx, "pat", "project", "")) {
			diff(t, "record listed by MemberScopes", byID[m.Scope.ID], m)
		}
		checkPaging(t, "MemberScopes of PAT", upper, func(a string) []string {
			return scopeMembershipIDs(collect(t, "MemberScopes", r.MemberScopes(ctx, "PAT", "project", a)))
		})
		wantMemberScopes(t, "another kind", ctx, r, "pat", "service",
			org.ScopeMembership{Scope: newScope("service", "a5"), Member: newScopeMember("service", "a5", "pat", "svc-user")})
		wantMemberScopes(t, "a kind with no resources", ctx, r, "pat", "workspace")
		wantMemberScopes(t, "a principal with none", ctx, r, "nobody", "project")
		return nil
	})
}

// testListLookupsPagesAcrossOrganizations pages through Memberships and
// InvitationsTo of one principal and address in hundreds of
// organizations.
func testListLookupsPagesAcrossOrganizations(t *testing.T, s store.Store) {
	const n, page = 700, 90
	var orgs, pending []string
	for i := range n {
		id := fmt.Sprintf("org-%d", i) // "org-10" sorts before "org-2"
		invID := fmt.Sprintf("inv-%d", n-i)
		member, invited := i%7 != 3, i%5 != 1
		update(t, s, id, func(ctx context.Context, tx store.Tx) error {
			must(t, tx.CreateOrganization(ctx, newOrg(id)))
			must(t, tx.AddMember(ctx, newMember("alice", "admin")))
			if member {
				must(t, tx.AddMember(ctx, patMember()))
			}
			status := invite.Revoked
			if invited {
				status = invite.Pending
			}
			return tx.CreateInvitation(ctx, newInvitation(invID, patEmail, status))
		})
		if member {
			orgs = append(orgs, id)
		}
		if invited {
			pending = append(pending, invID)
		}
	}
	got := pageThrough(t, "Memberships", len(orgs), page, func(after string) []string {
		return firstKeys(t, "Memberships", s.Memberships(t.Context(), "pat", after), page, func(m org.Membership) string { return m.OrgID })
	})
	diff(t, "Memberships paged through", slices.Sorted(slices.Values(orgs)), got)
	got = pageThrough(t, "InvitationsTo", len(pending), page, func(after string) []string {
		return firstKeys(t, "InvitationsTo", s.InvitationsTo(t.Context(), patEmail, after), page, func(a store.AddressedInvitation) string { return a.Invitation.ID })
	})
	diff(t, "InvitationsTo paged through", slices.Sorted(slices.Values(pending)), got)
}

// testListLookupsPagesInOneOrganization pages through ServicePrincipals and
// MemberScopes in an organization of over a thousand members and
// resources.
func testListLookupsPagesInOneOrganization(t *testing.T, s store.Store) {
	const n, page = 1200, 110
	var ids, sps, scopes []string
	for i := range n {
		ids = append(ids, fmt.Sprint("p-", i)) // "p-10" sorts before "p-2"
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for i, id := range shuffled(ids) {
			m := newMember(id, "member")
			if i%3 != 0 {
				m.Kind = org.ServicePrincipal
				sps = append(sps, id)
			}
			must(t, tx.AddMember(ctx, m))
			must(t, tx.CreateScope(ctx, newScope("project", id)))
			p := "other"
			if i%4 != 1 {
				p = "pat"
				scopes = append(scopes, id)
			}
			must(t, tx.PutScopeMember(ctx, newScopeMember("project", id, p, "viewer")))
		}
		return nil
	})
	got := pageThrough(t, "ServicePrincipals", len(sps), page, func(after string) []string {
		var ks []string
		view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
			ks = firstKeys(t, "ServicePrincipals", r.ServicePrincipals(ctx, after), page, func(m org.Member) string { return m.PrincipalID })
			return nil
		})
		return ks
	})
	diff(t, "ServicePrincipals paged through", slices.Sorted(slices.Values(sps)), got)
	got = pageThrough(t, "MemberScopes", len(scopes), page, func(after string) []string {
		var ks []string
		view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
			ks = firstKeys(t, "MemberScopes", r.MemberScopes(ctx, "pat", "project", after), page, func(m org.ScopeMembership) string { return m.Scope.ID })
			return nil
		})
		return ks
	})
	diff(t, "MemberScopes paged through", slices.Sorted(slices.Values(scopes)), got)
}

// lookupListings returns a maker of every lookup listing of organizations
// seedLookups made, by name, each listing at least two records: those of
// s (made outside any View) and, when r is not nil, those of r.
func lookupListings(ctx context.Context, s store.Store, r store.Reader) map[string]func() iter.Seq2[any, error] {
	if r == nil {
		return map[string]func() iter.Seq2[any, error]{
			"Memberships":   func() iter.Seq2[any, error] { return anySeq(s.Memberships(ctx, "alice", "")) },
			"InvitationsTo": func() iter.Seq2[any, error] { return anySeq(s.InvitationsTo(ctx, danaEmail, "")) },
		}
	}
	return map[string]func() iter.Seq2[any, error]{
		"ServicePrincipals": func() iter.Seq2[any, error] { return anySeq(r.ServicePrincipals(ctx, "")) },
		"MemberScopes":      func() iter.Seq2[any, error] { return anySeq(r.MemberScopes(ctx, "alice", "project", "")) },
	}
}

func testLookupListingsSingleUse(t *testing.T, s store.Store) {
	seedLookups(t, s, "acme")
	seedLookups(t, s, "other")
	check := func(ctx context.Context, r store.Reader) {
		for name, list := range lookupListings(ctx, s, r) {
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

func testLookupListingsEarlyBreak(t *testing.T, s store.Store) {
	seedLookups(t, s, "acme")
	seedLookups(t, s, "other")
	check := func(ctx context.Context, r store.Reader) {
		for name, list := range lookupListings(ctx, s, r) {
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
	dave := newMember("dave", "member")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, dave) })
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, dave) })
	wantMemberships(t, "after abandoned listings", s, "dave", membership(newOrg("acme"), dave), membership(newOrg("other"), dave))
}

// Memberships and InvitationsTo follow what Updates commit.

func testMembershipsFollowChanges(t *testing.T, s store.Store) {
	for _, id := range []string{"acme", "other", "third"} {
		seed(t, s, id)
	}
	acme, other, third := newOrg("acme"), newOrg("other"), newOrg("third")
	alice, ext := newMember("alice", "admin"), externalMember("ext")
	wantMemberships(t, "seeded", s, "alice", membership(acme, alice), membership(other, alice), membership(third, alice))
	wantMemberships(t, "seeded", s, "ext", membership(acme, ext), membership(other, ext), membership(third, ext))
	wantMemberships(t, "seeded", s, "pat")

	pat := patMember()
	patExt := withEmail(externalMember("pat"), patEmail)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, pat) })
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, patExt) })
	wantMemberships(t, "after she joined two, one as an external member", s, "pat", membership(acme, pat), membership(other, patExt))

	// A role change, an external member made a member, and a change of the
	// organization's record (its name, scheme, edition and standing) show.
	promoted := pat
	promoted.Role = "admin"
	renamed := newOrg("acme")
	renamed.Name, renamed.Settings, renamed.Archived, renamed.UpdatedAt = "Acme Renamed", map[string]string{"region": "us"}, true, at(30)
	renamed.Scheme, renamed.Edition = "scheme-2", "enterprise"
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateMember(ctx, promoted))
		return tx.UpdateOrganization(ctx, renamed)
	})
	joined := patExt
	joined.External, joined.Role = false, "member"
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.UpdateMember(ctx, joined) })
	wantMemberships(t, "after changes of her role and an organization", s, "pat", membership(renamed, promoted), membership(other, joined))
	wantMemberships(t, "after a change of an organization", s, "alice", membership(renamed, alice), membership(other, alice), membership(third, alice))

	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "pat") })
	wantMemberships(t, "after her removal from one", s, "pat", membership(renamed, promoted))
	update(t, s, "third", func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
	wantMemberships(t, "after the deletion of an organization", s, "alice", membership(renamed, alice), membership(other, alice))
	wantMemberships(t, "after the deletion of an organization", s, "ext", membership(renamed, ext), membership(other, ext))
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, pat) })
	wantMemberships(t, "after she joined again", s, "pat", membership(renamed, promoted), membership(other, pat))

	// An organization created with her; one deleted and created again in
	// one Update, without her.
	fresh := newOrg("new")
	update(t, s, "new", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, fresh))
		return tx.AddMember(ctx, pat)
	})
	again := newOrg("acme")
	again.Name = "Again"
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.DeleteOrganization(ctx))
		must(t, tx.CreateOrganization(ctx, again))
		return tx.AddMember(ctx, newMember("alice", "member"))
	})
	wantMemberships(t, "after an organization was created with her and another created again without her", s, "pat", membership(fresh, pat), membership(other, pat))
	wantMemberships(t, "after an organization was created again", s, "alice", membership(again, newMember("alice", "member")), membership(other, alice))

	// An Update that fails changes nothing.
	for _, f := range failures() {
		f.run(t, s, "other", func(ctx context.Context, tx store.Tx) {
			must(t, tx.RemoveMember(ctx, "pat"))
			must(t, tx.UpdateMember(ctx, newMember("alice", "viewer")))
			o := newOrg("other")
			o.Name = "Changed"
			must(t, tx.UpdateOrganization(ctx, o))
		})
		f.run(t, s, "ghost", func(ctx context.Context, tx store.Tx) {
			must(t, tx.CreateOrganization(ctx, newOrg("ghost")))
			must(t, tx.AddMember(ctx, pat))
		})
		f.run(t, s, "new", func(ctx context.Context, tx store.Tx) { must(t, tx.DeleteOrganization(ctx)) })
		wantMemberships(t, "after Updates that failed "+f.name, s, "pat", membership(fresh, pat), membership(other, pat))
		wantMemberships(t, "after Updates that failed "+f.name, s, "alice", membership(again, newMember("alice", "member")), membership(other, alice))
	}
}

func testInvitationsToFollowChanges(t *testing.T, s store.Store) {
	seed(t, s, "acme") // dana: Pending; erin: Revoked and Pending
	seed(t, s, "other")
	acme, other := newOrg("acme"), newOrg("other")
	a, o := seedInvitations("acme"), seedInvitations("other")
	wantInvitationsTo(t, "seeded", s, danaEmail, addressed(acme, a[0]), addressed(other, o[0]))
	wantInvitationsTo(t, "seeded", s, erinEmail, addressed(acme, a[2]), addressed(other, o[2]))

	// Accepted, declined and revoked invitations are not listed.
	accepted := a[0]
	accepted.Status, accepted.AcceptedBy, accepted.UpdatedAt = invite.Accepted, "dana", at(30)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, accepted) })
	wantInvitationsTo(t, "after one was accepted", s, danaEmail, addressed(other, o[0]))
	declined := o[0]
	declined.Status, declined.DeclinedBy = invite.Declined, "dana"
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, declined) })
	wantInvitationsTo(t, "after the other was declined", s, danaEmail)
	revoked := a[2]
	revoked.Status = invite.Revoked
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, revoked) })
	wantInvitationsTo(t, "after one was revoked", s, erinEmail, addressed(other, o[2]))

	// Past its expiry, a Pending invitation is listed still; made Pending
	// again, a revoked one is listed.
	expired := o[2]
	expired.ExpiresAt = at(-60 * 24 * 365)
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, expired) })
	pendingAgain := a[1]
	pendingAgain.Status, pendingAgain.Sends = invite.Pending, 2
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, pendingAgain) })
	wantInvitationsTo(t, "after one expired and one was made Pending again", s, erinEmail, addressed(acme, pendingAgain), addressed(other, expired))

	// Moved to another address, it is listed there.
	moved := expired
	moved.Email = "frank@example.com"
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvitation(ctx, moved) })
	wantInvitationsTo(t, "after one moved away", s, erinEmail, addressed(acme, pendingAgain))
	wantInvitationsTo(t, "after one moved there", s, "frank@example.com", addressed(other, moved))

	// A change of the organization's record shows.
	renamed := newOrg("other")
	renamed.Name, renamed.Settings, renamed.UpdatedAt = "Other Renamed", map[string]string{"tier": "silver"}, at(40)
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, renamed) })
	wantInvitationsTo(t, "after a change of its organization", s, "frank@example.com", addressed(renamed, moved))

	// One created with its organization is listed; a deleted
	// organization's are not.
	freshOrg, fresh := newOrg("fresh"), newInvitation("fresh-inv", "frank@example.com", invite.Pending)
	update(t, s, "fresh", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, freshOrg))
		return tx.CreateInvitation(ctx, fresh)
	})
	wantInvitationsTo(t, "after one was created with its organization", s, "frank@example.com", addressed(freshOrg, fresh), addressed(renamed, moved))
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
	wantInvitationsTo(t, "after the deletion of an organization", s, "frank@example.com", addressed(freshOrg, fresh))
	newer := newInvitation("acme-new", erinEmail, invite.Pending)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.DeleteOrganization(ctx))
		must(t, tx.CreateOrganization(ctx, acme))
		return tx.CreateInvitation(ctx, newer)
	})
	wantInvitationsTo(t, "after an organization was deleted and created again in one Update", s, erinEmail, addressed(acme, newer))

	// An Update that fails changes nothing.
	for _, f := range failures() {
		f.run(t, s, "acme", func(ctx context.Context, tx store.Tx) {
			must(t, tx.CreateInvitation(ctx, newInvitation("inv-x", "gina@example.com", invite.Pending)))
			r := newer
			r.Status = invite.Revoked
			must(t, tx.UpdateInvitation(ctx, r))
		})
		f.run(t, s, "ghost", func(ctx context.Context, tx store.Tx) {
			must(t, tx.CreateOrganization(ctx, newOrg("ghost")))
			must(t, tx.CreateInvitation(ctx, newInvitation("inv-y", "gina@example.com", invite.Pending)))
		})
		f.run(t, s, "fresh", func(ctx context.Context, tx store.Tx) { must(t, tx.DeleteOrganization(ctx)) })
		wantInvitationsTo(t, "after Updates that failed "+f.name, s, "gina@example.com")
		wantInvitationsTo(t, "after Updates that failed "+f.name, s, erinEmail, addressed(acme, newer))
		wantInvitationsTo(t, "after Updates that failed "+f.name, s, "frank@example.com", addressed(freshOrg, fresh))
	}
}

func testInvitationDeclinedBy(t *testing.T, s store.Store) {
	declined := newInvitation("i1", danaEmail, invite.Declined)
	declined.DeclinedBy = "dana"
	pending := newInvitation("i2", erinEmail, invite.Pending)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		must(t, tx.CreateInvitation(ctx, declined))
		must(t, tx.CreateInvitation(ctx, pending))
		readInvitations(t, "inside the Update that creates them", ctx, tx, []invite.Invitation{declined, pending})
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readInvitations(t, "after create", ctx, r, []invite.Invitation{declined, pending})
		return nil
	})
	// Declined by a principal signed in, then one through the link alone.
	byErin := pending
	byErin.Status, byErin.DeclinedBy, byErin.UpdatedAt = invite.Declined, "erin", at(20)
	byLink := declined
	byLink.DeclinedBy = ""
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateInvitation(ctx, byErin))
		must(t, tx.UpdateInvitation(ctx, byLink))
		readInvitations(t, "inside the Update that changes them", ctx, tx, []invite.Invitation{byLink, byErin})
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readInvitations(t, "after update", ctx, r, []invite.Invitation{byLink, byErin})
		return nil
	})
	for _, f := range failures() {
		f.run(t, s, "acme", func(ctx context.Context, tx store.Tx) {
			changed := byErin
			changed.DeclinedBy = "someone else"
			must(t, tx.UpdateInvitation(ctx, changed))
		})
		view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
			readInvitations(t, "after an Update that failed "+f.name, ctx, r, []invite.Invitation{byLink, byErin})
			return nil
		})
	}
}

// Members' addresses.

func testMemberEmailRoundTrip(t *testing.T, s store.Store) {
	alice := newMember("alice", "admin") // joined otherwise: no address
	dana := withEmail(newMember("dana", "member"), danaEmail)
	ext := withEmail(externalMember("ext"), "ext@example.com")
	ci := withEmail(servicePrincipal("ci"), "ci@example.com")
	all := []org.Member{alice, ci, dana, ext}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		for _, m := range all {
			must(t, tx.AddMember(ctx, m))
		}
		readMembers(t, "inside the Update that adds them", ctx, tx, all)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readMembers(t, "after add", ctx, r, all)
		return nil
	})
	for _, m := range all {
		wantMemberships(t, "after add", s, m.PrincipalID, membership(newOrg("acme"), m))
	}

	// Changed, cleared and given by UpdateMember.
	moved := withEmail(dana, "dana.new@example.com")
	cleared := withEmail(ext, "")
	given := withEmail(alice, "alice@example.com")
	changed := []org.Member{given, ci, moved, cleared}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		for _, m := range []org.Member{moved, cleared, given} {
			must(t, tx.UpdateMember(ctx, m))
		}
		readMembers(t, "inside the Update that changes them", ctx, tx, changed)
		wantNoneByEmail(t, "inside the Update, an address changed", ctx, tx, danaEmail)
		wantNoneByEmail(t, "inside the Update, an address cleared", ctx, tx, "ext@example.com")
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readMembers(t, "after update", ctx, r, changed)
		wantNoneByEmail(t, "an address changed", ctx, r, danaEmail)
		wantNoneByEmail(t, "an address cleared", ctx, r, "ext@example.com")
		return nil
	})
	for _, m := range changed {
		wantMemberships(t, "after update", s, m.PrincipalID, membership(newOrg("acme"), m))
	}
}

func testMemberByEmail(t *testing.T, s store.Store) {
	seed(t, s, "acme") // members with no address; invitations to dana and erin
	seed(t, s, "other")
	dana := withEmail(newMember("dana", "member"), danaEmail)
	dan := withEmail(newMember("dan", "member"), "dan@example.com")
	upper := withEmail(newMember("DANA", "admin"), "Dana@Example.com") // another address: bytes differ
	found := map[string]org.Member{danaEmail: dana, "dan@example.com": dan, "Dana@Example.com": upper}
	notFound := []string{
		"", "DANA@EXAMPLE.COM", "dana@example.co", "ana@example.com", "dana@example.com ", "dana",
		erinEmail,          // invited, not a member
		"olga@example.com", // another organization's member
	}
	check := func(t *testing.T, what string, ctx context.Context, r store.Reader) {
		t.Helper()
		for e, m := range found {
			wantByEmail(t, what, ctx, r, e, m)
		}
		for _, e := range notFound {
			wantNoneByEmail(t, what, ctx, r, e)
		}
	}
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error {
		return tx.AddMember(ctx, withEmail(newMember("olga", "member"), "olga@example.com"))
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		for _, m := range []org.Member{dana, dan, upper} {
			must(t, tx.AddMember(ctx, m))
		}
		check(t, "inside the Update that adds them", ctx, tx)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		check(t, "after commit", ctx, r)
		return nil
	})
}

func testMemberEmailExistsOnAdd(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, "acme")
	seed(t, s, "other")
	dana := withEmail(newMember("dana", "member"), danaEmail)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, dana) })
	before, lookupsBefore := snapshot(t, s, "acme"), lookups(t, s, "acme")
	refused := []org.Member{
		withEmail(newMember("dana-2", "member"), danaEmail),
		withEmail(externalMember("dana-3"), danaEmail),
		withEmail(servicePrincipal("dana-bot"), danaEmail),
	}
	intact := func(t *testing.T, what string, ctx context.Context, r store.Reader) {
		t.Helper()
		for _, m := range refused {
			_, err := r.Member(ctx, m.PrincipalID)
			wantNoMember(t, what+": Member "+m.PrincipalID+", refused", err)
		}
		got, err := r.Member(ctx, "dana")
		must(t, err)
		diff(t, what+": Member dana", dana, got)
		wantByEmail(t, what, ctx, r, danaEmail, dana)
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		for _, m := range refused {
			wantErr(t, "AddMember of "+m.PrincipalID+" with dana's address", tx.AddMember(ctx, m), is(store.ErrExists))
		}
		intact(t, "inside the Update after refused adds", ctx, tx)
		return nil
	})
	intactAfter := func(what string) {
		t.Helper()
		view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
			intact(t, what, ctx, r)
			return nil
		})
		diff(t, "organization "+what, before, snapshot(t, s, "acme"))
		diff(t, "lookups "+what, lookupsBefore, lookups(t, s, "acme"))
	}
	intactAfter("after an Update that went on after refused adds")
	// A refusal the Update fails with leaves everything as it was too.
	err := s.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
		err := tx.AddMember(ctx, refused[0])
		wantErr(t, "AddMember with dana's address", err, is(store.ErrExists))
		return err
	})
	wantErr(t, "Update that failed with the refusal", err, is(store.ErrExists))
	intactAfter("after an Update that failed with a refused add")

	// An address added in the Update is taken in it at once.
	gus := withEmail(newMember("gus", "member"), "gus@example.com")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.AddMember(ctx, gus))
		wantErr(t, "AddMember with the address of a member added in the same Update", tx.AddMember(ctx, withEmail(newMember("gus-2", "member"), gus.Email)), is(store.ErrExists))
		wantByEmail(t, "inside the Update", ctx, tx, gus.Email, gus)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantByEmail(t, "after commit", ctx, r, gus.Email, gus)
		_, err := r.Member(ctx, "gus-2")
		wantNoMember(t, "Member gus-2, refused", err)
		return nil
	})

	// Any number of members have no address; another organization's
	// members may have the same addresses; an address that differs in
	// case only is another.
	danaOther := withEmail(newMember("dana-other", "member"), danaEmail)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.AddMember(ctx, newMember("x1", "member")))
		must(t, tx.AddMember(ctx, newMember("x2", "member")))
		return tx.AddMember(ctx, withEmail(newMember("DANA", "member"), "Dana@example.com"))
	})
	update(t, s, "other", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.AddMember(ctx, danaOther))
		return tx.AddMember(ctx, withEmail(newMember("gus", "member"), gus.Email))
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantByEmail(t, "an address another organization's member has too", ctx, r, danaEmail, dana)
		return nil
	})
	view(t, s, "other", func(ctx context.Context, r store.Reader) error {
		wantByEmail(t, "an address another organization's member has too", ctx, r, danaEmail, danaOther)
		return nil
	})
}

func testMemberEmailExistsOnUpdate(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	dana := withEmail(newMember("dana", "member"), danaEmail)
	erin := withEmail(newMember("erin", "member"), erinEmail)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.AddMember(ctx, dana))
		return tx.AddMember(ctx, erin)
	})
	before, lookupsBefore := snapshot(t, s, "acme"), lookups(t, s, "acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		for _, m := range []org.Member{
			withEmail(erin, danaEmail),                        // another address
			withEmail(newMember("alice", "admin"), danaEmail), // none
			withEmail(seededCI(), danaEmail),
			withEmail(externalMember("ext"), danaEmail),
		} {
			wantErr(t, "UpdateMember of "+m.PrincipalID+" to dana's address", tx.UpdateMember(ctx, m), is(store.ErrExists), store.ErrNotFound)
		}
		for _, m := range []org.Member{erin, newMember("alice", "admin"), seededCI(), externalMember("ext"), dana} {
			got, err := tx.Member(ctx, m.PrincipalID)
			must(t, err)
			diff(t, "inside the Update after refused updates: Member "+m.PrincipalID, m, got)
		}
		wantByEmail(t, "inside the Update after refused updates", ctx, tx, danaEmail, dana)
		wantByEmail(t, "inside the Update after refused updates", ctx, tx, erinEmail, erin)
		return nil
	})
	diff(t, "organization after refused updates", before, snapshot(t, s, "acme"))
	diff(t, "lookups after refused updates", lookupsBefore, lookups(t, s, "acme"))

	// Saved again with its own address, as it is or changed otherwise.
	promoted := dana
	promoted.Role, promoted.Name, promoted.JoinedAt = "admin", "Dana", at(40)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateMember(ctx, dana))
		must(t, tx.UpdateMember(ctx, promoted))
		wantByEmail(t, "inside the Update that saves it again", ctx, tx, danaEmail, promoted)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantByEmail(t, "after it was saved again", ctx, r, danaEmail, promoted)
		return nil
	})

	// Addresses swapped through a third, in one Update.
	danaAsErin := withEmail(promoted, erinEmail)
	erinAsDana := withEmail(erin, danaEmail)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateMember(ctx, withEmail(promoted, "dana.new@example.com")))
		must(t, tx.UpdateMember(ctx, erinAsDana)) // freed by dana in this Update
		must(t, tx.UpdateMember(ctx, danaAsErin)) // freed by erin
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantByEmail(t, "after the swap", ctx, r, danaEmail, erinAsDana)
		wantByEmail(t, "after the swap", ctx, r, erinEmail, danaAsErin)
		wantNoneByEmail(t, "after the swap", ctx, r, "dana.new@example.com")
		return nil
	})
}

func testMemberEmailFreed(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	dana := withEmail(newMember("dana", "member"), danaEmail)
	dina := withEmail(newMember("dina", "member"), danaEmail)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, dana) })

	// Removed, a member's address may be taken in the same Update...
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.RemoveMember(ctx, "dana"))
		wantNoneByEmail(t, "inside the Update, after the removal of its member", ctx, tx, danaEmail)
		must(t, tx.AddMember(ctx, dina))
		wantByEmail(t, "inside the Update, taken again", ctx, tx, danaEmail, dina)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantByEmail(t, "taken again in the Update that removed its member", ctx, r, danaEmail, dina)
		return nil
	})
	// ... or in a later one.
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "dina") })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantNoneByEmail(t, "after the removal of its member", ctx, r, danaEmail)
		return nil
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, dana) })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantByEmail(t, "taken again after the removal of its member", ctx, r, danaEmail, dana)
		return nil
	})
	// A member removed and added again with its address in one Update.
	back := dana
	back.Role = "admin"
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.RemoveMember(ctx, "dana"))
		return tx.AddMember(ctx, back)
	})
	// An address changed away is free.
	moved := withEmail(back, "dana.new@example.com")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateMember(ctx, moved))
		return tx.AddMember(ctx, dina)
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantByEmail(t, "taken after its member changed address", ctx, r, danaEmail, dina)
		wantByEmail(t, "the address changed to", ctx, r, moved.Email, moved)
		return nil
	})
	// Deleted with their organization, addresses are free in the one
	// created again.
	zoe := withEmail(newMember("zoe", "admin"), danaEmail)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.DeleteOrganization(ctx))
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		wantNoneByEmail(t, "inside the Update, in the organization created again", ctx, tx, danaEmail)
		return tx.AddMember(ctx, zoe)
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		readMembers(t, "the organization created again", ctx, r, []org.Member{zoe})
		return nil
	})
}

func testMemberEmailRollback(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	dana := withEmail(newMember("dana", "member"), danaEmail)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, dana) })
	for _, f := range failures() {
		f.run(t, s, "acme", func(ctx context.Context, tx store.Tx) {
			must(t, tx.AddMember(ctx, withEmail(newMember("gus", "member"), "gus@example.com")))
			must(t, tx.UpdateMember(ctx, withEmail(dana, "dana.new@example.com")))
			must(t, tx.AddMember(ctx, withEmail(newMember("dina", "member"), danaEmail)))
		})
		view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
			what := "after an Update that failed " + f.name
			wantByEmail(t, what, ctx, r, danaEmail, dana)
			wantNoneByEmail(t, what, ctx, r, "gus@example.com")
			wantNoneByEmail(t, what, ctx, r, "dana.new@example.com")
			return nil
		})
	}
	// The addresses it took are free, the one it freed is not.
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.AddMember(ctx, withEmail(newMember("gus-2", "member"), "gus@example.com")))
		must(t, tx.AddMember(ctx, withEmail(newMember("dan", "member"), "dana.new@example.com")))
		wantErr(t, "AddMember with the address a failed Update freed", tx.AddMember(ctx, withEmail(newMember("dina", "member"), danaEmail)), is(store.ErrExists))
		return nil
	})
}

func testServicePrincipalsFollowChanges(t *testing.T, s store.Store) {
	seed(t, s, "acme") // ci is one
	want := func(what string, r store.Reader, ctx context.Context, ms ...org.Member) {
		t.Helper()
		diff(t, what+": ServicePrincipals", ms, collect(t, "ServicePrincipals", r.ServicePrincipals(ctx, "")))
	}
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		want("seeded", r, ctx, seededCI())
		return nil
	})
	bot, ci2 := servicePrincipal("bot"), withEmail(servicePrincipal("ci-2"), "ci-2@example.com")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.AddMember(ctx, bot))
		must(t, tx.AddMember(ctx, ci2))
		must(t, tx.AddMember(ctx, newMember("dave", "member")))
		want("inside the Update that adds them", tx, ctx, bot, seededCI(), ci2)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		want("after add", r, ctx, bot, seededCI(), ci2)
		return nil
	})
	// A user made a service principal, one made a user, one removed and one
	// renamed.
	bobSP := newMember("bob", "member")
	bobSP.Kind, bobSP.Name = org.ServicePrincipal, "Bob the bot"
	renamed := ci2
	renamed.Name, renamed.Role = "Deploy bot", "admin"
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateMember(ctx, bobSP))
		must(t, tx.UpdateMember(ctx, newMember("ci", "member")))
		must(t, tx.RemoveMember(ctx, "bot"))
		must(t, tx.UpdateMember(ctx, renamed))
		want("inside the Update that changes them", tx, ctx, bobSP, renamed)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		want("after changes", r, ctx, bobSP, renamed)
		return nil
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.DeleteOrganization(ctx))
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		want("inside the Update, in the organization created again", tx, ctx)
		return tx.AddMember(ctx, newMember("alice", "admin"))
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		want("in the organization created again", r, ctx)
		return nil
	})
}

func testMemberScopesFollowChanges(t *testing.T, s store.Store) {
	seed(t, s, "acme") // alice: project p1, service s1; ext: project p1; bob: project p2
	p0, p1, p2, s1 := newScope("project", "p0"), newScope("project", "p1"), newScope("project", "p2"), newScope("service", "s1")
	sm := func(sc org.Scope, p, roleID string) org.ScopeMembership {
		return org.ScopeMembership{Scope: sc, Member: newScopeMember(sc.Kind, sc.ID, p, roleID)}
	}
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantMemberScopes(t, "seeded", ctx, r, "alice", "project", sm(p1, "alice", "project-admin"))
		wantMemberScopes(t, "seeded", ctx, r, "alice", "service", sm(s1, "alice", "svc-user"))
		wantMemberScopes(t, "seeded", ctx, r, "ext", "project", sm(p1, "ext", "viewer"))
		wantMemberScopes(t, "seeded", ctx, r, "bob", "project", sm(p2, "bob", "viewer"))
		wantMemberScopes(t, "seeded", ctx, r, "bob", "service")
		return nil
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateScope(ctx, p0))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p0", "alice", "viewer")))
		must(t, tx.PutScopeMember(ctx, newScopeMember("project", "p2", "alice", "editor")))
		wantMemberScopes(t, "inside the Update of the puts", ctx, tx, "alice", "project", sm(p0, "alice", "viewer"), sm(p1, "alice", "project-admin"), sm(p2, "alice", "editor"))
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantMemberScopes(t, "after the puts", ctx, r, "alice", "project", sm(p0, "alice", "viewer"), sm(p1, "alice", "project-admin"), sm(p2, "alice", "editor"))
		wantMemberScopes(t, "after the puts", ctx, r, "bob", "project", sm(p2, "bob", "viewer"))
		return nil
	})
	// A role changed, a membership removed.
	changed := org.ScopeMembership{Scope: p1, Member: newScopeMember("project", "p1", "alice", "viewer")}
	changed.Member.AddedAt = at(30)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.PutScopeMember(ctx, changed.Member))
		must(t, tx.RemoveScopeMember(ctx, "project", "p2", "alice"))
		wantMemberScopes(t, "inside the Update of a role change and a removal", ctx, tx, "alice", "project", sm(p0, "alice", "viewer"), changed)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantMemberScopes(t, "after a role change and a removal", ctx, r, "alice", "project", sm(p0, "alice", "viewer"), changed)
		return nil
	})
	// A resource deleted, and created again: its memberships are gone.
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.DeleteScope(ctx, "project", "p1"))
		wantMemberScopes(t, "inside the Update of a resource's deletion", ctx, tx, "alice", "project", sm(p0, "alice", "viewer"))
		return tx.CreateScope(ctx, p1)
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantMemberScopes(t, "after a resource was deleted and created again", ctx, r, "alice", "project", sm(p0, "alice", "viewer"))
		wantMemberScopes(t, "after a resource was deleted and created again", ctx, r, "ext", "project")
		wantMemberScopes(t, "after a resource of another kind was deleted", ctx, r, "alice", "service", sm(s1, "alice", "svc-user"))
		return nil
	})
	// RemoveMember removes the member's record and nothing else.
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "alice") })
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantMemberScopes(t, "after RemoveMember", ctx, r, "alice", "project", sm(p0, "alice", "viewer"))
		wantMemberScopes(t, "after RemoveMember", ctx, r, "alice", "service", sm(s1, "alice", "svc-user"))
		return nil
	})
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.DeleteOrganization(ctx))
		return tx.CreateOrganization(ctx, newOrg("acme"))
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		wantMemberScopes(t, "in the organization created again", ctx, r, "alice", "project")
		return nil
	})
}

// The lookups and the rest of the contract.

func testOrganizationMissingLookups(t *testing.T, s store.Store) {
	seedLookups(t, s, "present") // something else exists, with pat in it
	notFound := is(store.ErrOrganizationNotFound, store.ErrNotFound)
	checks := func(t *testing.T, ctx context.Context, r store.Reader) {
		t.Helper()
		_, err := r.MemberByEmail(ctx, patEmail)
		wantErr(t, "MemberByEmail", err, notFound, store.ErrMemberNotFound)
		wantErr(t, "ServicePrincipals", listingErr(t, "ServicePrincipals", r.ServicePrincipals(ctx, "")), notFound)
		wantErr(t, "MemberScopes", listingErr(t, "MemberScopes", r.MemberScopes(ctx, "alice", "project", "")), notFound)
	}
	called := false
	err := s.View(t.Context(), "missing", func(ctx context.Context, r store.Reader) error {
		called = true
		checks(t, ctx, r)
		return nil
	})
	if err != nil || !called {
		t.Errorf("View of a missing organization: called fn %v, returned %v; want fn called and nil", called, err)
	}
	update(t, s, "missing", func(ctx context.Context, tx store.Tx) error {
		checks(t, ctx, tx)
		return nil
	})
	view(t, s, "present", func(ctx context.Context, r store.Reader) error {
		wantByEmail(t, "the organization that exists", ctx, r, patEmail, patMember())
		return nil
	})
}

func testCopyLookups(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedLookups(t, s, "acme")
	seedLookups(t, s, "other")
	// A Membership is values only (strings, a bool, a time): nothing of
	// one listed is shared with the store, so there is nothing of it to
	// change. Should it ever hold a map, slice or pointer, this test must
	// change it in the records listed, as it does the invitations'.
	for _, f := range reflect.VisibleFields(reflect.TypeFor[org.Membership]()) {
		if k := f.Type.Kind(); k != reflect.String && k != reflect.Bool && f.Type != reflect.TypeFor[time.Time]() {
			t.Fatalf("org.Membership.%s is a %s: the test must change it in the records Memberships lists", f.Name, f.Type)
		}
	}
	for a, err := range s.InvitationsTo(ctx, danaEmail, "") {
		must(t, err)
		if a.Organization.Settings != nil {
			m := a.Organization.Settings
			m["region"] = "changed in a record listed"
		}
		if len(a.Invitation.TokenHash) > 0 {
			a.Invitation.TokenHash[0] ^= 0xff
		}
	}
	acme, other := newOrg("acme"), newOrg("other")
	wantMemberships(t, "after records listed were changed", s, "pat", membership(acme, patMember()), membership(other, patMember()))
	wantInvitationsTo(t, "after records listed were changed", s, danaEmail, addressed(acme, seedInvitations("acme")[0]), addressed(other, seedInvitations("other")[0]))
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		o, err := r.Organization(ctx)
		must(t, err)
		diff(t, "Organization after records listed were changed", acme, o)
		inv, err := r.Invitation(ctx, "acme-inv-1")
		must(t, err)
		diff(t, "Invitation after records listed were changed", seedInvitations("acme")[0], inv)
		return nil
	})
	wantToken(t, "after records listed were changed", s, "acme-inv-1", tokenOf("acme", seedInvitations("acme")[0]))
}

// testTimesLookups writes times with nanoseconds in a zone east of UTC,
// with a monotonic reading, and before 1970, and checks that every lookup
// reads them back truncated to the microsecond, in UTC.
func testTimesLookups(t *testing.T, s store.Store) {
	zone := time.FixedZone("UTC+05:30", 5*3600+30*60)
	in := time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, zone)
	want := time.Date(2024, 2, 29, 18, 29, 59, 999_999_000, time.UTC)
	now := time.Now() // carries a monotonic reading
	wantNow := now.Round(0).Truncate(time.Microsecond).UTC()
	before1970 := time.Date(1955, 11, 5, 6, 15, 0, 1_500, zone)
	wantBefore1970 := time.Date(1955, 11, 5, 0, 45, 0, 1_000, time.UTC)

	check := func(t *testing.T, what string, want, got time.Time) {
		t.Helper()
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: got %v (%s), want %v", what, got, got.Location(), want)
		}
	}
	checkOrg := func(t *testing.T, what string, o org.Organization) {
		t.Helper()
		check(t, what+" Organization.CreatedAt", want, o.CreatedAt)
		check(t, what+" Organization.UpdatedAt", wantNow, o.UpdatedAt)
	}
	checkReader := func(t *testing.T, where string, ctx context.Context, r store.Reader) {
		t.Helper()
		m, err := r.MemberByEmail(ctx, patEmail)
		must(t, err)
		check(t, where+" MemberByEmail JoinedAt", wantBefore1970, m.JoinedAt)
		sps := collect(t, "ServicePrincipals", r.ServicePrincipals(ctx, ""))
		if len(sps) != 1 {
			t.Fatalf("%s ServicePrincipals: %d, want 1", where, len(sps))
		}
		check(t, where+" ServicePrincipals JoinedAt", want, sps[0].JoinedAt)
		sms := collect(t, "MemberScopes", r.MemberScopes(ctx, "pat", "project", ""))
		if len(sms) != 1 {
			t.Fatalf("%s MemberScopes: %d, want 1", where, len(sms))
		}
		check(t, where+" MemberScopes Scope.CreatedAt", want, sms[0].Scope.CreatedAt)
		check(t, where+" MemberScopes Member.AddedAt", wantNow, sms[0].Member.AddedAt)
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		o := newOrg("acme")
		o.CreatedAt, o.UpdatedAt = in, now
		must(t, tx.CreateOrganization(ctx, o))
		pat := patMember()
		pat.JoinedAt = before1970
		must(t, tx.AddMember(ctx, pat))
		sp := servicePrincipal("ci")
		sp.JoinedAt = in
		must(t, tx.AddMember(ctx, sp))
		sc := newScope("project", "p1")
		sc.CreatedAt = in
		must(t, tx.CreateScope(ctx, sc))
		sm := newScopeMember("project", "p1", "pat", "viewer")
		sm.AddedAt = now
		must(t, tx.PutScopeMember(ctx, sm))
		inv := newInvitation("inv-1", danaEmail, invite.Pending)
		inv.CreatedAt, inv.ExpiresAt, inv.UpdatedAt = in, now, before1970
		must(t, tx.CreateInvitation(ctx, inv))
		checkReader(t, "inside the Update:", ctx, tx)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		checkReader(t, "after commit:", ctx, r)
		return nil
	})
	ms := collect(t, "Memberships", s.Memberships(t.Context(), "pat", ""))
	if len(ms) != 1 {
		t.Fatalf("Memberships: %d, want 1", len(ms))
	}
	check(t, "Memberships JoinedAt", wantBefore1970, ms[0].JoinedAt)
	as := collect(t, "InvitationsTo", s.InvitationsTo(t.Context(), danaEmail, ""))
	if len(as) != 1 {
		t.Fatalf("InvitationsTo: %d, want 1", len(as))
	}
	checkOrg(t, "InvitationsTo", as[0].Organization)
	check(t, "InvitationsTo Invitation.CreatedAt", want, as[0].Invitation.CreatedAt)
	check(t, "InvitationsTo Invitation.ExpiresAt", wantNow, as[0].Invitation.ExpiresAt)
	check(t, "InvitationsTo Invitation.UpdatedAt", wantBefore1970, as[0].Invitation.UpdatedAt)
}

// testDoneContextLookups checks that Memberships and InvitationsTo fail
// with ctx's error, whether they would list something or not.
func testDoneContextLookups(t *testing.T, s store.Store, ctx context.Context, want error) {
	seedLookups(t, s, "acme")
	for _, p := range []string{"pat", "nobody"} {
		wantErr(t, "Memberships of "+p, listingErr(t, "Memberships", s.Memberships(ctx, p, "")), is(want))
	}
	for _, e := range []string{danaEmail, "nobody@example.com"} {
		wantErr(t, "InvitationsTo "+e, listingErr(t, "InvitationsTo", s.InvitationsTo(ctx, e, "")), is(want))
	}
}

// testDoneContextInsideLookups checks that the lookups of a Reader and a
// Tx fail with context.Canceled when given a cancelled context.
func testDoneContextInsideLookups(t *testing.T, s store.Store) {
	seedLookups(t, s, "acme")
	done, cancel := context.WithCancel(t.Context())
	cancel()
	checks := func(t *testing.T, r store.Reader) {
		t.Helper()
		_, err := r.MemberByEmail(done, patEmail)
		wantErr(t, "MemberByEmail", err, is(context.Canceled))
		_, err = r.MemberByEmail(done, "nobody@example.com")
		wantErr(t, "MemberByEmail of an address no member has", err, is(context.Canceled))
		wantErr(t, "ServicePrincipals", listingErr(t, "ServicePrincipals", r.ServicePrincipals(done, "")), is(context.Canceled))
		wantErr(t, "MemberScopes", listingErr(t, "MemberScopes", r.MemberScopes(done, "alice", "project", "")), is(context.Canceled))
		wantErr(t, "MemberScopes of a principal with none", listingErr(t, "MemberScopes", r.MemberScopes(done, "nobody", "project", "")), is(context.Canceled))
	}
	finished := errors.New("checks finished")
	if err := s.View(t.Context(), "acme", func(ctx context.Context, r store.Reader) error {
		checks(t, r)
		return finished
	}); err != finished {
		t.Errorf("View returned %v", err)
	}
	if err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		checks(t, tx)
		return finished
	}); err != finished {
		t.Errorf("Update returned %v", err)
	}
}

func testClosedLookups(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedLookups(t, s, "acme")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, p := range []string{"pat", "nobody"} {
		wantErr(t, "Memberships of "+p+" after Close", listingErr(t, "Memberships", s.Memberships(ctx, p, "")), is(store.ErrClosed))
	}
	for _, e := range []string{danaEmail, "nobody@example.com"} {
		wantErr(t, "InvitationsTo "+e+" after Close", listingErr(t, "InvitationsTo", s.InvitationsTo(ctx, e, "")), is(store.ErrClosed))
	}
}

// lookupsDuringUpdate runs Updates whose functions make changes, then
// call probe from another goroutine: it must answer as last committed,
// the same as before the Update. It skips the test if probe waits for the
// Update (a store may make it): what it lists during one cannot be seen.
func lookupsDuringUpdate[V any](t *testing.T, what string, s store.Store, probe func() V, steps []lookupStep) {
	t.Helper()
	for i, step := range steps {
		before := probe()
		got, ok := duringUpdate(t, s, step.orgID, step.changes, probe)
		if !ok {
			t.Skipf("%s waits for a running Update: what it lists during one cannot be seen", what)
		}
		diff(t, fmt.Sprintf("%s during Update %d, of %s", what, i, step.orgID), before, got)
	}
}

// lookupStep is an Update of lookupsDuringUpdate: its organization and
// the changes its function makes.
type lookupStep struct {
	orgID   string
	changes func(ctx context.Context, tx store.Tx)
}

func testMembershipsDuringUpdate(t *testing.T, s store.Store) {
	seedLookups(t, s, "acme")
	seedLookups(t, s, "other")
	probe := func() map[string][]org.Membership {
		out := map[string][]org.Membership{}
		for _, p := range []string{"alice", "pat", "gus"} {
			ms, err := tryCollect(s.Memberships(t.Context(), p, ""))
			if err != nil {
				t.Errorf("Memberships of %s: %v", p, err)
			}
			out[p] = ms
		}
		return out
	}
	renamed := newOrg("acme")
	renamed.Name = "Renamed"
	promoted := patMember()
	promoted.Role = "admin"
	gus := newMember("gus", "member")
	lookupsDuringUpdate(t, "Memberships", s, probe, []lookupStep{
		{"acme", func(ctx context.Context, tx store.Tx) {
			must(t, tx.UpdateOrganization(ctx, renamed))
			must(t, tx.RemoveMember(ctx, "alice"))
			must(t, tx.UpdateMember(ctx, promoted))
			must(t, tx.AddMember(ctx, gus))
		}},
		{"new", func(ctx context.Context, tx store.Tx) {
			must(t, tx.CreateOrganization(ctx, newOrg("new")))
			must(t, tx.AddMember(ctx, gus))
		}},
		{"other", func(ctx context.Context, tx store.Tx) { must(t, tx.DeleteOrganization(ctx)) }},
	})
	diff(t, "Memberships after the Updates", map[string][]org.Membership{
		"alice": nil,
		"pat":   {membership(renamed, promoted)},
		"gus":   {membership(renamed, gus), membership(newOrg("new"), gus)},
	}, probe())
}

func testInvitationsToDuringUpdate(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "other")
	probe := func() map[string][]store.AddressedInvitation {
		out := map[string][]store.AddressedInvitation{}
		for _, e := range []string{danaEmail, erinEmail, "gina@example.com"} {
			as, err := tryCollect(s.InvitationsTo(t.Context(), e, ""))
			if err != nil {
				t.Errorf("InvitationsTo %s: %v", e, err)
			}
			out[e] = as
		}
		return out
	}
	renamed := newOrg("acme")
	renamed.Name = "Renamed"
	revoked := seedInvitations("acme")[0]
	revoked.Status = invite.Revoked
	gina := newInvitation("inv-new", "gina@example.com", invite.Pending)
	fresh := newInvitation("fresh-inv", "gina@example.com", invite.Pending)
	lookupsDuringUpdate(t, "InvitationsTo", s, probe, []lookupStep{
		{"acme", func(ctx context.Context, tx store.Tx) {
			must(t, tx.UpdateOrganization(ctx, renamed))
			must(t, tx.UpdateInvitation(ctx, revoked))
			must(t, tx.CreateInvitation(ctx, gina))
		}},
		{"fresh", func(ctx context.Context, tx store.Tx) {
			must(t, tx.CreateOrganization(ctx, newOrg("fresh")))
			must(t, tx.CreateInvitation(ctx, fresh))
		}},
		{"other", func(ctx context.Context, tx store.Tx) { must(t, tx.DeleteOrganization(ctx)) }},
	})
	diff(t, "InvitationsTo after the Updates", map[string][]store.AddressedInvitation{
		danaEmail:          nil,
		erinEmail:          {addressed(renamed, seedInvitations("acme")[2])},
		"gina@example.com": {addressed(newOrg("fresh"), fresh), addressed(renamed, gina)},
	}, probe())
}
