package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// The store-wide views (Memberships, InvitationsTo) and the member
// indexes (MemberByEmail, ServicePrincipals, MemberScopes), as memstore
// keeps them: what storetest cannot see from outside a store in general.

// all collects a listing, failing the test on its error.
func all[V any](t testing.TB, what string, seq iter.Seq2[V, error]) []V {
	t.Helper()
	var vs []V
	for v, err := range seq {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		vs = append(vs, v)
	}
	return vs
}

// listErr ranges over a listing and returns its error, failing the test
// if it yields anything but one error with a zero record.
func listErr[V any](t testing.TB, what string, seq iter.Seq2[V, error]) error {
	t.Helper()
	var got error
	n := 0
	for v, err := range seq {
		n++
		if err == nil || !reflect.ValueOf(&v).Elem().IsZero() {
			t.Errorf("%s: yielded %v, %v; want a zero record and an error", what, v, err)
		}
		got = err
	}
	if n != 1 {
		t.Errorf("%s: yielded %d times, want once", what, n)
	}
	return got
}

// roles returns "orgID:role" of each membership, in order.
func roles(ms []org.Membership) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.OrgID+":"+m.Role)
	}
	return s
}

// pendingIDs returns "orgID:invitationID" of each entry, in order.
func pendingIDs(as []store.AddressedInvitation) []string {
	var s []string
	for _, a := range as {
		s = append(s, a.Organization.ID+":"+a.Invitation.ID)
	}
	return s
}

func createOrg(ctx context.Context, tx store.Tx, id string) error {
	return tx.CreateOrganization(ctx, org.Organization{ID: id, Name: id, Scheme: "s", Edition: "e"})
}

// seedViews creates organizations a, b and c; p is a member of a (as
// admin) and c (as member), an external member of b; q a member of b;
// invitation ia-1 of a and ic-1 of c are Pending to x@example.com, ib-1 of
// b to y@example.com.
func seedViews(t testing.TB, s *memstore.Store) {
	t.Helper()
	for _, o := range []struct {
		id      string
		members []org.Member
	}{
		{"a", []org.Member{{PrincipalID: "p", Kind: org.User, Role: "admin"}}},
		{"b", []org.Member{{PrincipalID: "p", Kind: org.User, Role: "guest", External: true}, {PrincipalID: "q", Kind: org.User, Role: "member"}}},
		{"c", []org.Member{{PrincipalID: "p", Kind: org.User, Role: "member"}}},
	} {
		email := "x@example.com"
		if o.id == "b" {
			email = "y@example.com"
		}
		err := s.Update(context.Background(), o.id, func(ctx context.Context, tx store.Tx) error {
			if err := createOrg(ctx, tx, o.id); err != nil {
				return err
			}
			for _, m := range o.members {
				if err := tx.AddMember(ctx, m); err != nil {
					return err
				}
			}
			return tx.CreateInvitation(ctx, invite.Invitation{ID: "i" + o.id + "-1", Email: email, Role: "member", Status: invite.Pending, TokenHash: []byte("hash-" + o.id)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func wantStrings(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: %q, want %q", what, got, want)
	}
}

func TestMembershipsAndInvitationsTo(t *testing.T) {
	s := memstore.New()
	seedViews(t, s)
	ctx := t.Context()
	ms := all(t, "Memberships(p)", s.Memberships(ctx, "p", ""))
	wantStrings(t, "Memberships(p)", roles(ms), []string{"a:admin", "b:guest", "c:member"})
	if len(ms) == 3 && (!ms[1].External || ms[1].OrgName != "b") {
		t.Errorf("Memberships(p)[1] = %+v, want p's external membership of b", ms[1])
	}
	wantStrings(t, "Memberships(p, after a)", roles(all(t, "", s.Memberships(ctx, "p", "a"))), []string{"b:guest", "c:member"})
	wantStrings(t, "Memberships(p, after b0)", roles(all(t, "", s.Memberships(ctx, "p", "b0"))), []string{"c:member"})
	wantStrings(t, "Memberships(p, after c)", roles(all(t, "", s.Memberships(ctx, "p", "c"))), nil)
	wantStrings(t, "Memberships(q)", roles(all(t, "", s.Memberships(ctx, "q", ""))), []string{"b:member"})
	wantStrings(t, "Memberships(q, after b)", roles(all(t, "", s.Memberships(ctx, "q", "b"))), nil)
	wantStrings(t, "Memberships(nobody)", roles(all(t, "", s.Memberships(ctx, "nobody", ""))), nil)

	to := all(t, "InvitationsTo(x)", s.InvitationsTo(ctx, "x@example.com", ""))
	wantStrings(t, "InvitationsTo(x)", pendingIDs(to), []string{"a:ia-1", "c:ic-1"})
	if len(to) > 0 {
		to[0].Invitation.TokenHash[0] = 'X'
	}
	wantStrings(t, "InvitationsTo(x, after ia-1)", pendingIDs(all(t, "", s.InvitationsTo(ctx, "x@example.com", "ia-1"))), []string{"c:ic-1"})
	if to := all(t, "", s.InvitationsTo(ctx, "x@example.com", "")); len(to) == 0 || string(to[0].Invitation.TokenHash) != "hash-a" {
		t.Errorf("changing a TokenHash returned changed the one stored: %+v", to)
	}
	wantStrings(t, "InvitationsTo(X), another address", pendingIDs(all(t, "", s.InvitationsTo(ctx, "X@example.com", ""))), nil)

	// A change away from Pending, a change of address and a declined one
	// keeping DeclinedBy.
	err := s.Update(ctx, "a", func(ctx context.Context, tx store.Tx) error {
		inv, err := tx.Invitation(ctx, "ia-1")
		if err != nil {
			return err
		}
		inv.Email = "z@example.com"
		if err := tx.UpdateInvitation(ctx, inv); err != nil {
			return err
		}
		return tx.CreateInvitation(ctx, invite.Invitation{ID: "ia-2", Email: "x@example.com", Status: invite.Pending})
	})
	if err != nil {
		t.Fatal(err)
	}
	wantStrings(t, "InvitationsTo(x) after a change of address", pendingIDs(all(t, "", s.InvitationsTo(ctx, "x@example.com", ""))), []string{"a:ia-2", "c:ic-1"})
	wantStrings(t, "InvitationsTo(z)", pendingIDs(all(t, "", s.InvitationsTo(ctx, "z@example.com", ""))), []string{"a:ia-1"})
	err = s.Update(ctx, "c", func(ctx context.Context, tx store.Tx) error {
		inv, err := tx.Invitation(ctx, "ic-1")
		if err != nil {
			return err
		}
		inv.Status, inv.DeclinedBy = invite.Declined, "p"
		return tx.UpdateInvitation(ctx, inv)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantStrings(t, "InvitationsTo(x) after a decline", pendingIDs(all(t, "", s.InvitationsTo(ctx, "x@example.com", ""))), []string{"a:ia-2"})
	err = s.View(ctx, "c", func(ctx context.Context, r store.Reader) error {
		inv, err := r.Invitation(ctx, "ic-1")
		if err == nil && inv.DeclinedBy != "p" {
			err = fmt.Errorf("DeclinedBy %q, want p", inv.DeclinedBy)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}

// Memberships sees a principal join and leave organizations, through the
// index's forms for one organization and for several.
func TestMembershipsFollowJoinsAndLeaves(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	ids := []string{"o3", "o1", "o4", "o0", "o2"}
	for _, id := range ids {
		if err := s.Update(ctx, id, func(ctx context.Context, tx store.Tx) error { return createOrg(ctx, tx, id) }); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	change := func(id string, f func(ctx context.Context, tx store.Tx) error) {
		t.Helper()
		if err := s.Update(ctx, id, f); err != nil {
			t.Fatal(err)
		}
		wantStrings(t, "Memberships after a change of "+id, roles(all(t, "", s.Memberships(ctx, "p", ""))), want)
	}
	for i, id := range ids {
		want = append(want, id+":r0")
		slices.Sort(want)
		change(id, func(ctx context.Context, tx store.Tx) error {
			return tx.AddMember(ctx, org.Member{PrincipalID: "p", Kind: org.User, Role: "r0", JoinedAt: time.Unix(int64(i), 0)})
		})
	}
	want[2] = "o2:r1"
	change("o2", func(ctx context.Context, tx store.Tx) error {
		return tx.UpdateMember(ctx, org.Member{PrincipalID: "p", Kind: org.User, Role: "r1"})
	})
	for _, id := range []string{"o0", "o4", "o2", "o3"} {
		want = slices.DeleteFunc(want, func(s string) bool { return s[:2] == id })
		change(id, func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "p") })
	}
	want = append(want, "o2:r2")
	change("o2", func(ctx context.Context, tx store.Tx) error {
		return tx.AddMember(ctx, org.Member{PrincipalID: "p", Kind: org.User, Role: "r2"})
	})
	want = want[1:]
	change("o1", func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
	want = nil
	change("o2", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "p") })
}

// A failed Update, however it fails, leaves both store-wide views as they
// were, and so does one that created, changed and deleted everything.
func TestStoreViewsRollback(t *testing.T) {
	s := memstore.New()
	seedViews(t, s)
	ctx := t.Context()
	wantBefore := func(when string) {
		t.Helper()
		wantStrings(t, "Memberships(p) "+when, roles(all(t, "", s.Memberships(ctx, "p", ""))), []string{"a:admin", "b:guest", "c:member"})
		wantStrings(t, "Memberships(q) "+when, roles(all(t, "", s.Memberships(ctx, "q", ""))), []string{"b:member"})
		wantStrings(t, "Memberships(new) "+when, roles(all(t, "", s.Memberships(ctx, "new", ""))), nil)
		wantStrings(t, "InvitationsTo(x) "+when, pendingIDs(all(t, "", s.InvitationsTo(ctx, "x@example.com", ""))), []string{"a:ia-1", "c:ic-1"})
		wantStrings(t, "InvitationsTo(y) "+when, pendingIDs(all(t, "", s.InvitationsTo(ctx, "y@example.com", ""))), []string{"b:ib-1"})
		wantStrings(t, "InvitationsTo(n) "+when, pendingIDs(all(t, "", s.InvitationsTo(ctx, "n@example.com", ""))), nil)
	}
	boom := errors.New("boom")
	changes := map[string]func(ctx context.Context, tx store.Tx) error{
		"changes": func(ctx context.Context, tx store.Tx) error {
			if err := tx.UpdateMember(ctx, org.Member{PrincipalID: "p", Kind: org.User, Role: "member", External: false}); err != nil {
				return err
			}
			if err := tx.RemoveMember(ctx, "q"); err != nil {
				return err
			}
			if err := tx.AddMember(ctx, org.Member{PrincipalID: "new", Kind: org.User, Role: "member"}); err != nil {
				return err
			}
			inv, err := tx.Invitation(ctx, "ib-1")
			if err != nil {
				return err
			}
			inv.Email = "x@example.com"
			if err := tx.UpdateInvitation(ctx, inv); err != nil {
				return err
			}
			return tx.CreateInvitation(ctx, invite.Invitation{ID: "ib-2", Email: "n@example.com", Status: invite.Pending})
		},
		"delete": func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) },
		"delete and create again": func(ctx context.Context, tx store.Tx) error {
			if err := tx.DeleteOrganization(ctx); err != nil {
				return err
			}
			if err := createOrg(ctx, tx, "b"); err != nil {
				return err
			}
			if err := tx.AddMember(ctx, org.Member{PrincipalID: "new", Kind: org.User, Role: "member"}); err != nil {
				return err
			}
			return tx.CreateInvitation(ctx, invite.Invitation{ID: "ib-2", Email: "n@example.com", Status: invite.Pending})
		},
	}
	for name, change := range changes {
		for _, how := range []string{"error", "panic", "context", "goexit"} {
			cctx, cancel := context.WithCancel(ctx)
			var err error
			done := make(chan struct{})
			go func() {
				defer close(done)
				defer func() {
					if r := recover(); r == boom {
						err = boom
					} else if r != nil {
						panic(r)
					}
				}()
				err = s.Update(cctx, "b", func(ctx context.Context, tx store.Tx) error {
					if err := change(ctx, tx); err != nil {
						return err
					}
					switch how {
					case "panic":
						panic(boom)
					case "context":
						cancel()
						return nil
					case "goexit":
						defer func() { err = boom }()
						runtime.Goexit()
					}
					return boom
				})
			}()
			<-done
			cancel()
			if err == nil {
				t.Fatalf("%s, failing by %s: the Update committed", name, how)
			}
			wantBefore(fmt.Sprintf("after a failed Update (%s, %s)", name, how))
		}
	}
}

// An Update still running is invisible to both store-wide views, from
// inside its function and from other goroutines, which do not wait for
// it; once it commits, they see it all.
func TestStoreViewsDoNotSeeARunningUpdate(t *testing.T) {
	s := memstore.New()
	seedViews(t, s)
	ctx := t.Context()
	type answer struct {
		memberships []string
		invitations []string
	}
	look := func() answer {
		return answer{
			memberships: roles(all(t, "Memberships", s.Memberships(ctx, "p", ""))),
			invitations: pendingIDs(all(t, "InvitationsTo", s.InvitationsTo(ctx, "x@example.com", ""))),
		}
	}
	before := answer{[]string{"a:admin", "b:guest", "c:member"}, []string{"a:ia-1", "c:ic-1"}}
	after := answer{[]string{"b:guest", "c:member", "d:owner"}, []string{"c:ic-1", "d:id-1"}}
	check := func(what string, got, want answer) {
		t.Helper()
		wantStrings(t, what+": Memberships", got.memberships, want.memberships)
		wantStrings(t, what+": InvitationsTo", got.invitations, want.invitations)
	}
	// a loses p and its invitation in one Update; d is created with both
	// in another, running at the same time.
	release := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, id := range []string{"a", "d"} {
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx, id, func(ctx context.Context, tx store.Tx) error {
				if id == "a" {
					if err := tx.RemoveMember(ctx, "p"); err != nil {
						return err
					}
					inv, err := tx.Invitation(ctx, "ia-1")
					if err != nil {
						return err
					}
					inv.Status = invite.Revoked
					if err := tx.UpdateInvitation(ctx, inv); err != nil {
						return err
					}
				} else {
					if err := createOrg(ctx, tx, "d"); err != nil {
						return err
					}
					if err := tx.AddMember(ctx, org.Member{PrincipalID: "p", Kind: org.User, Role: "owner"}); err != nil {
						return err
					}
					if err := tx.CreateInvitation(ctx, invite.Invitation{ID: "id-1", Email: "x@example.com", Status: invite.Pending}); err != nil {
						return err
					}
				}
				check("inside the running Update of "+id, look(), before)
				close(ready)
				<-release
				return nil
			})
		}()
		<-ready
	}
	got := make(chan answer)
	go func() { got <- look() }()
	select {
	case a := <-got:
		check("from another goroutine while the Updates run", a, before)
	case <-time.After(5 * time.Second):
		t.Error("the store-wide views wait for running Updates")
		<-got
	}
	close(release)
	wg.Wait()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	check("after the Updates committed", look(), after)
}

// DeleteOrganization drops the organization's entries when its Update
// commits: until then they are listed as they were. An organization
// created and deleted in one Update is never listed.
func TestStoreViewsDeleteOrganization(t *testing.T) {
	s := memstore.New()
	seedViews(t, s)
	ctx := t.Context()
	err := s.Update(ctx, "a", func(ctx context.Context, tx store.Tx) error {
		if err := tx.DeleteOrganization(ctx); err != nil {
			return err
		}
		wantStrings(t, "Memberships(p) while a is being deleted", roles(all(t, "", s.Memberships(ctx, "p", ""))), []string{"a:admin", "b:guest", "c:member"})
		wantStrings(t, "InvitationsTo(x) while a is being deleted", pendingIDs(all(t, "", s.InvitationsTo(ctx, "x@example.com", ""))), []string{"a:ia-1", "c:ic-1"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantStrings(t, "Memberships(p) after a was deleted", roles(all(t, "", s.Memberships(ctx, "p", ""))), []string{"b:guest", "c:member"})
	wantStrings(t, "InvitationsTo(x) after a was deleted", pendingIDs(all(t, "", s.InvitationsTo(ctx, "x@example.com", ""))), []string{"c:ic-1"})

	err = s.Update(ctx, "e", func(ctx context.Context, tx store.Tx) error {
		if err := createOrg(ctx, tx, "e"); err != nil {
			return err
		}
		if err := tx.AddMember(ctx, org.Member{PrincipalID: "p", Kind: org.User, Role: "r"}); err != nil {
			return err
		}
		if err := tx.CreateInvitation(ctx, invite.Invitation{ID: "ie-1", Email: "x@example.com", Status: invite.Pending}); err != nil {
			return err
		}
		return tx.DeleteOrganization(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	wantStrings(t, "Memberships(p) after e was created and deleted", roles(all(t, "", s.Memberships(ctx, "p", ""))), []string{"b:guest", "c:member"})
	wantStrings(t, "InvitationsTo(x) after e was created and deleted", pendingIDs(all(t, "", s.InvitationsTo(ctx, "x@example.com", ""))), []string{"c:ic-1"})

	// Deleted and created again in one Update: only what the new one holds.
	err = s.Update(ctx, "c", func(ctx context.Context, tx store.Tx) error {
		if err := tx.DeleteOrganization(ctx); err != nil {
			return err
		}
		if err := createOrg(ctx, tx, "c"); err != nil {
			return err
		}
		return tx.AddMember(ctx, org.Member{PrincipalID: "q", Kind: org.User, Role: "again"})
	})
	if err != nil {
		t.Fatal(err)
	}
	wantStrings(t, "Memberships(p) after c was made again", roles(all(t, "", s.Memberships(ctx, "p", ""))), []string{"b:guest"})
	wantStrings(t, "Memberships(q) after c was made again", roles(all(t, "", s.Memberships(ctx, "q", ""))), []string{"b:member", "c:again"})
	wantStrings(t, "InvitationsTo(x) after c was made again", pendingIDs(all(t, "", s.InvitationsTo(ctx, "x@example.com", ""))), nil)
	// The dropped invitation's ID is free again, for another organization.
	err = s.Update(ctx, "b", func(ctx context.Context, tx store.Tx) error {
		return tx.CreateInvitation(ctx, invite.Invitation{ID: "ic-1", Email: "x@example.com", Status: invite.Pending})
	})
	if err != nil {
		t.Fatal(err)
	}
	wantStrings(t, "InvitationsTo(x) after b took ic-1", pendingIDs(all(t, "", s.InvitationsTo(ctx, "x@example.com", ""))), []string{"b:ic-1"})
}

// The listings fail, once each, with ctx.Err() and with ErrClosed.
func TestStoreViewsErrors(t *testing.T) {
	s := memstore.New()
	seedViews(t, s)
	cctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := listErr(t, "Memberships with a done context", s.Memberships(cctx, "p", "")); !errors.Is(err, context.Canceled) {
		t.Errorf("Memberships with a done context: %v", err)
	}
	if err := listErr(t, "InvitationsTo with a done context", s.InvitationsTo(cctx, "x@example.com", "")); !errors.Is(err, context.Canceled) {
		t.Errorf("InvitationsTo with a done context: %v", err)
	}
	// A context done midway ends the listing with its error.
	cctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	var got []string
	var last error
	for m, err := range s.Memberships(cctx, "p", "") {
		if err != nil {
			last = err
			continue
		}
		got = append(got, m.OrgID)
		cancel()
	}
	if !slices.Equal(got, []string{"a"}) || !errors.Is(last, context.Canceled) {
		t.Errorf("Memberships whose context is cancelled after the first: %q, %v", got, last)
	}
	// Single use.
	seq := s.Memberships(t.Context(), "p", "")
	all(t, "Memberships", seq)
	if err := listErr(t, "Memberships ranged over twice", seq); err == nil {
		t.Error("Memberships ranged over twice: no error")
	}
	seq2 := s.InvitationsTo(t.Context(), "x@example.com", "")
	all(t, "InvitationsTo", seq2)
	if err := listErr(t, "InvitationsTo ranged over twice", seq2); err == nil {
		t.Error("InvitationsTo ranged over twice: no error")
	}
	// Closed, also midway.
	var closedErr error
	for _, err := range s.Memberships(t.Context(), "p", "") {
		if err != nil {
			closedErr = err
			break
		}
		_ = s.Close()
	}
	if !errors.Is(closedErr, store.ErrClosed) {
		t.Errorf("Memberships when the store is closed midway: %v, want ErrClosed", closedErr)
	}
	if err := listErr(t, "Memberships after Close", s.Memberships(t.Context(), "p", "")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Memberships after Close: %v", err)
	}
	if err := listErr(t, "InvitationsTo after Close", s.InvitationsTo(t.Context(), "x@example.com", "")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("InvitationsTo after Close: %v", err)
	}
}

// Updates of different organizations, adding and removing one principal
// and changing its role, run while pages of its memberships and of the
// invitations to an address are read: every page is in order, and lists
// only records some Update committed. At the end, each organization's
// last committed Update decides what is listed.
func TestStoreViewsConcurrency(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	const orgs, rounds = 8, 200
	for i := range orgs {
		id := fmt.Sprint("org-", i)
		if err := s.Update(ctx, id, func(ctx context.Context, tx store.Tx) error { return createOrg(ctx, tx, id) }); err != nil {
			t.Fatal(err)
		}
	}
	// What each writer last committed: p's role ("" when not a member)
	// and its Pending invitation's ID.
	type state struct{ role, inv string }
	final := make([]state, orgs)
	var writers, readers sync.WaitGroup
	stop := make(chan struct{})
	for i := range orgs {
		id := fmt.Sprint("org-", i)
		writers.Add(1)
		go func() {
			defer writers.Done()
			var st state
			for r := range rounds {
				next := st
				err := s.Update(ctx, id, func(ctx context.Context, tx store.Tx) error {
					m := org.Member{PrincipalID: "p", Kind: org.User, Role: fmt.Sprint("committed-", r), Email: "p@example.com"}
					switch {
					case st.role == "":
						if err := tx.AddMember(ctx, m); err != nil {
							return err
						}
						next.role = m.Role
						next.inv = fmt.Sprint(id, "-inv-", r)
						if err := tx.CreateInvitation(ctx, invite.Invitation{ID: next.inv, Email: "x@example.com", Status: invite.Pending}); err != nil {
							return err
						}
					case r%3 == 0:
						if err := tx.RemoveMember(ctx, "p"); err != nil {
							return err
						}
						inv, err := tx.Invitation(ctx, st.inv)
						if err != nil {
							return err
						}
						inv.Status = invite.Revoked
						if err := tx.UpdateInvitation(ctx, inv); err != nil {
							return err
						}
						next = state{}
					default:
						// Through a record never committed.
						if err := tx.UpdateMember(ctx, org.Member{PrincipalID: "p", Kind: org.User, Role: "uncommitted"}); err != nil {
							return err
						}
						if err := tx.UpdateMember(ctx, m); err != nil {
							return err
						}
						next.role = m.Role
					}
					if r%5 == 4 {
						// Fails, after changes never listed.
						if err := tx.AddMember(ctx, org.Member{PrincipalID: "p2", Kind: org.User, Role: "uncommitted"}); err != nil {
							return err
						}
						if err := tx.UpdateMember(ctx, org.Member{PrincipalID: "p", Kind: org.User, Role: "uncommitted"}); err != nil && !errors.Is(err, store.ErrNotFound) {
							return err
						}
						return errFailed
					}
					return nil
				})
				switch {
				case err == nil:
					st = next
				case err != errFailed:
					t.Error(err)
					return
				}
			}
			final[i] = st
		}()
	}
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				last := ""
				for m, err := range s.Memberships(ctx, "p", "") {
					if err != nil {
						t.Error(err)
						return
					}
					if m.OrgID <= last || m.Role == "uncommitted" || !strings.HasPrefix(m.Role, "committed-") {
						t.Errorf("Memberships listed %+v after %q", m, last)
						return
					}
					last = m.OrgID
				}
				for _, err := range s.Memberships(ctx, "p2", "") {
					t.Errorf("Memberships of a principal never committed listed one (%v)", err)
				}
				last = ""
				for a, err := range s.InvitationsTo(ctx, "x@example.com", "") {
					if err != nil {
						t.Error(err)
						return
					}
					if a.Invitation.ID <= last || a.Invitation.Status != invite.Pending {
						t.Errorf("InvitationsTo listed %+v after %q", a.Invitation, last)
						return
					}
					last = a.Invitation.ID
				}
			}
		}()
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	var want, wantInv []string
	for i, st := range final {
		if st.role != "" {
			want = append(want, fmt.Sprintf("org-%d:%s", i, st.role))
			wantInv = append(wantInv, fmt.Sprintf("org-%d:%s", i, st.inv))
		}
	}
	wantStrings(t, "Memberships at the end", roles(all(t, "", s.Memberships(ctx, "p", ""))), want)
	wantStrings(t, "InvitationsTo at the end", pendingIDs(all(t, "", s.InvitationsTo(ctx, "x@example.com", ""))), wantInv)
}

var errFailed = errors.New("failed on purpose")

// MemberByEmail finds members by address; an address is one member's at
// most, and moves with changes, removals and rollbacks.
func TestMemberByEmail(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	boom := errors.New("boom")
	err := s.Update(ctx, "a", func(ctx context.Context, tx store.Tx) error {
		if err := createOrg(ctx, tx, "a"); err != nil {
			return err
		}
		for _, m := range []org.Member{
			{PrincipalID: "p", Kind: org.User, Role: "admin", Email: "p@example.com"},
			{PrincipalID: "q", Kind: org.User, Role: "member", Email: "q@example.com"},
			{PrincipalID: "r", Kind: org.User, Role: "member"},
		} {
			if err := tx.AddMember(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	byEmail := func(r store.Reader, email string) string {
		t.Helper()
		m, err := r.MemberByEmail(ctx, email)
		if errors.Is(err, store.ErrMemberNotFound) {
			return ""
		}
		if err != nil {
			t.Fatalf("MemberByEmail(%q): %v", email, err)
		}
		if m.Email != email {
			t.Errorf("MemberByEmail(%q) = %+v", email, m)
		}
		return m.PrincipalID
	}
	check := func(r store.Reader, when string, want map[string]string) {
		t.Helper()
		for email, id := range want {
			if got := byEmail(r, email); got != id {
				t.Errorf("%s: MemberByEmail(%q) = %q, want %q", when, email, got, id)
			}
		}
	}
	initial := map[string]string{"p@example.com": "p", "q@example.com": "q", "r@example.com": "", "": ""}
	err = s.Update(ctx, "a", func(ctx context.Context, tx store.Tx) error {
		check(tx, "at first", initial)
		if err := tx.AddMember(ctx, org.Member{PrincipalID: "s", Kind: org.User, Email: "p@example.com"}); !errors.Is(err, store.ErrExists) {
			t.Errorf("AddMember with another member's address: %v, want ErrExists", err)
		}
		if _, err := tx.Member(ctx, "s"); !errors.Is(err, store.ErrMemberNotFound) {
			t.Errorf("the refused AddMember added the member: %v", err)
		}
		if err := tx.UpdateMember(ctx, org.Member{PrincipalID: "r", Kind: org.User, Email: "q@example.com"}); !errors.Is(err, store.ErrExists) {
			t.Errorf("UpdateMember to another member's address: %v, want ErrExists", err)
		}
		if m, _ := tx.Member(ctx, "r"); m.Email != "" {
			t.Errorf("the refused UpdateMember changed the member: %+v", m)
		}
		// Keeping one's own address, taking a free one, freeing one.
		if err := tx.UpdateMember(ctx, org.Member{PrincipalID: "p", Kind: org.User, Role: "member", Email: "p@example.com"}); err != nil {
			t.Errorf("UpdateMember keeping its address: %v", err)
		}
		if err := tx.UpdateMember(ctx, org.Member{PrincipalID: "q", Kind: org.User, Email: "q2@example.com"}); err != nil {
			return err
		}
		if err := tx.UpdateMember(ctx, org.Member{PrincipalID: "r", Kind: org.User, Email: "q@example.com"}); err != nil {
			t.Errorf("UpdateMember to an address freed in the same Tx: %v", err)
		}
		if err := tx.RemoveMember(ctx, "p"); err != nil {
			return err
		}
		if err := tx.AddMember(ctx, org.Member{PrincipalID: "s", Kind: org.User, Email: "p@example.com"}); err != nil {
			t.Errorf("AddMember with the address of a member removed: %v", err)
		}
		check(tx, "after the changes", map[string]string{"p@example.com": "s", "q@example.com": "r", "q2@example.com": "q"})
		return boom
	})
	if err != boom {
		t.Fatalf("Update: %v", err)
	}
	err = s.View(ctx, "a", func(ctx context.Context, r store.Reader) error {
		check(r, "after a rollback", initial)
		check(r, "after a rollback", map[string]string{"q2@example.com": ""})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ServicePrincipals lists only the service principals, following
// additions, removals, changes of kind and rollbacks, and goes on
// correctly while its own Tx changes what it lists.
func TestServicePrincipals(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	err := s.Update(ctx, "a", func(ctx context.Context, tx store.Tx) error {
		if err := createOrg(ctx, tx, "a"); err != nil {
			return err
		}
		for i := range 2000 {
			kind := org.User
			if i%100 == 7 {
				kind = org.ServicePrincipal
			}
			if err := tx.AddMember(ctx, org.Member{PrincipalID: fmt.Sprintf("m%04d", i), Kind: kind, Name: "n"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(r store.Reader, after string) []string {
		var s []string
		for _, m := range all(t, "ServicePrincipals", r.ServicePrincipals(ctx, after)) {
			if m.Kind != org.ServicePrincipal || m.Name != "n" {
				t.Errorf("ServicePrincipals listed %+v", m)
			}
			s = append(s, m.PrincipalID)
		}
		return s
	}
	var initial []string
	for i := 7; i < 2000; i += 100 {
		initial = append(initial, fmt.Sprintf("m%04d", i))
	}
	boom := errors.New("boom")
	err = s.Update(ctx, "a", func(ctx context.Context, tx store.Tx) error {
		wantStrings(t, "ServicePrincipals", ids(tx, ""), initial)
		wantStrings(t, "ServicePrincipals after m1007", ids(tx, "m1007"), initial[11:])
		// Changing as it lists: it goes on past the last one listed.
		var got []string
		for m, err := range tx.ServicePrincipals(ctx, "") {
			if err != nil {
				return err
			}
			got = append(got, m.PrincipalID)
			if m.PrincipalID == "m0507" {
				for _, c := range []org.Member{
					{PrincipalID: "m0007", Kind: org.User},                        // behind: a user now
					{PrincipalID: "m0607", Kind: org.User},                        // ahead: a user now
					{PrincipalID: "m0608", Kind: org.ServicePrincipal},            // ahead: a service principal now
					{PrincipalID: "m0008", Kind: org.ServicePrincipal},            // behind
					{PrincipalID: "m0707", Kind: org.ServicePrincipal, Name: "n"}, // unchanged
				} {
					if c.Name == "" {
						c.Name = "n"
					}
					if err := tx.UpdateMember(ctx, c); err != nil {
						return err
					}
				}
				if err := tx.RemoveMember(ctx, "m0807"); err != nil {
					return err
				}
				if err := tx.AddMember(ctx, org.Member{PrincipalID: "m0907x", Kind: org.ServicePrincipal, Name: "n"}); err != nil {
					return err
				}
			}
		}
		want := slices.Concat(initial[:6], []string{"m0608", "m0707", "m0907", "m0907x"}, initial[10:])
		wantStrings(t, "ServicePrincipals changed as it lists", got, want)
		wantStrings(t, "ServicePrincipals after the changes", ids(tx, ""), slices.Concat([]string{"m0008"}, want[1:]))
		return boom
	})
	if err != boom {
		t.Fatalf("Update: %v", err)
	}
	err = s.View(ctx, "a", func(ctx context.Context, r store.Reader) error {
		wantStrings(t, "ServicePrincipals after a rollback", ids(r, ""), initial)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// MemberScopes lists one principal's memberships of one kind, from a
// scope ID on, and goes on correctly while its own Tx changes them.
func TestMemberScopes(t *testing.T) {
	s := memstore.New()
	ctx := t.Context()
	err := s.Update(ctx, "a", func(ctx context.Context, tx store.Tx) error {
		if err := createOrg(ctx, tx, "a"); err != nil {
			return err
		}
		for _, kind := range []string{"folder", "project", "service"} {
			for i := range 5 {
				id := fmt.Sprint(kind[:1], i)
				if err := tx.CreateScope(ctx, org.Scope{Kind: kind, ID: id, Name: id}); err != nil {
					return err
				}
				for _, p := range []string{"o", "p", "q"} {
					if p == "p" && i == 2 {
						continue
					}
					if err := tx.PutScopeMember(ctx, org.ScopeMember{Kind: kind, ScopeID: id, PrincipalID: p, Role: kind + "-" + p}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list := func(r store.Reader, p, kind, after string) []string {
		var s []string
		for _, m := range all(t, "MemberScopes", r.MemberScopes(ctx, p, kind, after)) {
			if m.Scope.Kind != kind || m.Member.Kind != kind || m.Member.ScopeID != m.Scope.ID || m.Member.PrincipalID != p || m.Member.Role != kind+"-"+p || m.Scope.Name != m.Scope.ID {
				t.Errorf("MemberScopes(%s, %s) listed %+v", p, kind, m)
			}
			s = append(s, m.Scope.ID)
		}
		return s
	}
	err = s.Update(ctx, "a", func(ctx context.Context, tx store.Tx) error {
		wantStrings(t, "MemberScopes(p, project)", list(tx, "p", "project", ""), []string{"p0", "p1", "p3", "p4"})
		wantStrings(t, "MemberScopes(p, project, after p1)", list(tx, "p", "project", "p1"), []string{"p3", "p4"})
		wantStrings(t, "MemberScopes(p, project, after p4)", list(tx, "p", "project", "p4"), nil)
		wantStrings(t, "MemberScopes(p, folder)", list(tx, "p", "folder", ""), []string{"f0", "f1", "f3", "f4"})
		wantStrings(t, "MemberScopes(p, service, after a)", list(tx, "p", "service", "a"), []string{"s0", "s1", "s3", "s4"})
		wantStrings(t, "MemberScopes(p, none)", list(tx, "p", "none", ""), nil)
		wantStrings(t, "MemberScopes(nobody, project)", list(tx, "nobody", "project", ""), nil)
		var got []string
		for m, err := range tx.MemberScopes(ctx, "p", "project", "") {
			if err != nil {
				return err
			}
			got = append(got, m.Scope.ID)
			if m.Scope.ID == "p1" {
				if err := tx.RemoveScopeMember(ctx, "project", "p0", "p"); err != nil {
					return err
				}
				if err := tx.PutScopeMember(ctx, org.ScopeMember{Kind: "project", ScopeID: "p2", PrincipalID: "p", Role: "project-p"}); err != nil {
					return err
				}
				if err := tx.DeleteScope(ctx, "project", "p3"); err != nil {
					return err
				}
			}
		}
		wantStrings(t, "MemberScopes changed as it lists", got, []string{"p0", "p1", "p2", "p4"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A page of Memberships or InvitationsTo allocates next to nothing: the
// records' copies share their strings, and the records here have no
// Settings or TokenHash to copy.
func TestStoreViewsAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what allocations cost")
	}
	s := memstore.New()
	ctx := context.Background()
	for o := range 100 {
		id := fmt.Sprintf("org-%03d", o)
		err := s.Update(ctx, id, func(ctx context.Context, tx store.Tx) error {
			if err := createOrg(ctx, tx, id); err != nil {
				return err
			}
			if err := tx.AddMember(ctx, org.Member{PrincipalID: "p", Kind: org.User, Role: "member"}); err != nil {
				return err
			}
			return tx.CreateInvitation(ctx, invite.Invitation{ID: "inv-" + id, Email: "x@example.com", Status: invite.Pending})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		page func() int
	}{
		{"Memberships", func() int {
			n := 0
			for _, err := range s.Memberships(ctx, "p", "org-040") {
				if err != nil {
					t.Fatal(err)
				}
				if n++; n == 20 {
					break
				}
			}
			return n
		}},
		{"InvitationsTo", func() int {
			n := 0
			for _, err := range s.InvitationsTo(ctx, "x@example.com", "inv-org-040") {
				if err != nil {
					t.Fatal(err)
				}
				if n++; n == 20 {
					break
				}
			}
			return n
		}},
	} {
		if n := c.page(); n != 20 {
			t.Fatalf("%s: a page of %d, want 20", c.name, n)
		}
		if allocs := testing.AllocsPerRun(100, func() { c.page() }); allocs > 3 {
			t.Errorf("%s: %v allocations per page of 20, want at most 3", c.name, allocs)
		} else {
			t.Logf("%s: %v allocations per page of 20", c.name, allocs)
		}
	}
}

// BenchmarkMemberships measures one page of 20 of a principal's
// memberships, in a store of 1,000,000 members spread over 100,000
// organizations of 10 members each, the principal a member of 100 of
// them (one in 1,000).
func BenchmarkMemberships(b *testing.B) {
	s, after := bigStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range s.Memberships(ctx, "target", after) {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n == 20 {
				break
			}
		}
		if n != 20 {
			b.Fatalf("listed %d memberships, want 20", n)
		}
	}
}

var big struct {
	once  sync.Once
	s     *memstore.Store
	after string
}

// bigStore returns, built once for every benchmark that asks, the store
// of BenchmarkMemberships and the organization ID its page starts after
// (the target's 40th).
func bigStore(b *testing.B) (*memstore.Store, string) {
	big.once.Do(func() {
		const orgs, perOrg = 100_000, 10
		ctx := context.Background()
		s := memstore.New()
		ids := make([]string, orgs*perOrg)
		for i := range ids {
			ids[i] = fmt.Sprintf("user-%08d", i)
		}
		joined := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
		for o := range orgs {
			orgID := fmt.Sprintf("org-%06d", o)
			members := ids[o*perOrg : (o+1)*perOrg]
			if o%1000 == 0 {
				members[perOrg-1] = "target"
				if o/1000 == 39 {
					big.after = orgID
				}
			}
			err := s.Update(ctx, orgID, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateOrganization(ctx, org.Organization{ID: orgID, Name: orgID, Scheme: "scheme", Edition: "pro", CreatedAt: joined}); err != nil {
					return err
				}
				for i, id := range members {
					r := "member"
					if i == 0 {
						r = "admin"
					}
					if err := tx.AddMember(ctx, org.Member{PrincipalID: id, Kind: org.User, Role: r, JoinedAt: joined}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				panic(err)
			}
		}
		big.s = s
	})
	if big.s == nil {
		b.Fatal("building the store failed")
	}
	return big.s, big.after
}
