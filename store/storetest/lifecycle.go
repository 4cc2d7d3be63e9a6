package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// patience bounds how long a concurrency test waits for something that
// should happen at once. It only keeps a broken store from hanging the
// suite: no test passes or fails by timing when the store is correct.
const patience = 10 * time.Second

func contextTests() []test {
	return []test{
		{"CancelledContextFailsEveryEntryPoint", func(t *testing.T, s store.Store) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			testDoneContext(t, s, ctx, context.Canceled)
		}},
		{"ExpiredDeadlineFailsEveryEntryPoint", func(t *testing.T, s store.Store) {
			ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Hour))
			defer cancel()
			testDoneContext(t, s, ctx, context.DeadlineExceeded)
		}},
		{"CancelledContextFailsEveryTxAndReaderMethod", testDoneContextInside},
	}
}

// testDoneContext checks that Update, View, Access, ScopeAccess,
// Organizations, InvitationToken, KeyAccess and TouchAPIKey fail with
// ctx's error, without calling their function or changing anything.
func testDoneContext(t *testing.T, s store.Store, ctx context.Context, want error) {
	seed(t, s, "acme")
	before := snapshot(t, s, "acme")
	err := s.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
		t.Error("Update with a done context called its function")
		return tx.RemoveMember(ctx, "alice")
	})
	wantErr(t, "Update", err, is(want))
	err = s.Update(ctx, "new", func(ctx context.Context, tx store.Tx) error {
		t.Error("Update with a done context called its function")
		return tx.CreateOrganization(ctx, newOrg("new"))
	})
	wantErr(t, "Update of a new organization", err, is(want))
	err = s.View(ctx, "acme", func(context.Context, store.Reader) error {
		t.Error("View with a done context called its function")
		return nil
	})
	wantErr(t, "View", err, is(want))
	_, err = s.Access(ctx, "acme", "alice")
	wantErr(t, "Access", err, is(want))
	_, err = s.Access(ctx, "missing", "alice")
	wantErr(t, "Access to a missing organization", err, is(want))
	_, err = s.ScopeAccess(ctx, "acme", "alice", "project", "p1")
	wantErr(t, "ScopeAccess", err, is(want), store.ErrNotFound)
	_, err = s.ScopeAccess(ctx, "missing", "alice", "project", "p1")
	wantErr(t, "ScopeAccess to a missing organization", err, is(want), store.ErrNotFound)
	wantErr(t, "Organizations", listingErr(t, "Organizations", s.Organizations(ctx, "")), is(want))
	_, err = s.InvitationToken(ctx, "acme-inv-1")
	wantErr(t, "InvitationToken", err, is(want), store.ErrNotFound)
	_, err = s.InvitationToken(ctx, "unknown")
	wantErr(t, "InvitationToken of an unknown ID", err, is(want), store.ErrNotFound)
	_, err = s.KeyAccess(ctx, "acme-key-1")
	wantErr(t, "KeyAccess", err, is(want), store.ErrNotFound)
	_, err = s.KeyAccess(ctx, "unknown")
	wantErr(t, "KeyAccess of an unknown ID", err, is(want), store.ErrNotFound)
	wantErr(t, "TouchAPIKey", s.TouchAPIKey(ctx, "acme-key-1", at(50)), is(want), store.ErrNotFound)
	wantErr(t, "TouchAPIKey of an unknown ID", s.TouchAPIKey(ctx, "unknown", at(50)), is(want), store.ErrNotFound)
	diff(t, "organization after calls with a done context", before, snapshot(t, s, "acme"))
}

// testDoneContextInside checks that every method of a Tx and a Reader
// fails with context.Canceled when given a cancelled context.
func testDoneContextInside(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	before := snapshot(t, s, "acme")
	done, cancel := context.WithCancel(t.Context())
	cancel()
	readerChecks := func(t *testing.T, r store.Reader) {
		_, err := r.Organization(done)
		wantErr(t, "Organization", err, is(context.Canceled))
		_, err = r.Member(done, "alice")
		wantErr(t, "Member", err, is(context.Canceled))
		_, err = r.Counts(done)
		wantErr(t, "Counts", err, is(context.Canceled))
		_, err = r.Scope(done, "project", "p1")
		wantErr(t, "Scope", err, is(context.Canceled))
		_, err = r.ScopeMember(done, "project", "p1", "alice")
		wantErr(t, "ScopeMember", err, is(context.Canceled))
		_, err = r.ScopeRole(done, "project", "p1", "custom-a")
		wantErr(t, "ScopeRole", err, is(context.Canceled))
		wantErr(t, "Members", listingErr(t, "Members", r.Members(done, "")), is(context.Canceled))
		wantErr(t, "Scopes", listingErr(t, "Scopes", r.Scopes(done, "project", "")), is(context.Canceled))
		wantErr(t, "ScopeMembers", listingErr(t, "ScopeMembers", r.ScopeMembers(done, "project", "p1", "")), is(context.Canceled))
		wantErr(t, "PrincipalScopes", listingErr(t, "PrincipalScopes", r.PrincipalScopes(done, "alice")), is(context.Canceled))
		wantErr(t, "ScopeRoles", listingErr(t, "ScopeRoles", r.ScopeRoles(done, "project", "p1")), is(context.Canceled))
		wantErr(t, "Audit", listingErr(t, "Audit", r.Audit(done, store.AuditFilter{})), is(context.Canceled))
		_, err = r.Invitation(done, "acme-inv-1")
		wantErr(t, "Invitation", err, is(context.Canceled))
		_, err = r.PendingInvitation(done, "dana@example.com")
		wantErr(t, "PendingInvitation", err, is(context.Canceled))
		wantErr(t, "Invitations", listingErr(t, "Invitations", r.Invitations(done, "", false)), is(context.Canceled))
		wantErr(t, "Invitations pending only", listingErr(t, "Invitations", r.Invitations(done, "", true)), is(context.Canceled))
		_, err = r.APIKey(done, "acme-key-1")
		wantErr(t, "APIKey", err, is(context.Canceled))
		wantErr(t, "APIKeys", listingErr(t, "APIKeys", r.APIKeys(done, "", "")), is(context.Canceled))
		wantErr(t, "APIKeys of one owner", listingErr(t, "APIKeys", r.APIKeys(done, "alice", "")), is(context.Canceled))
	}
	finished := errors.New("checks finished")
	err := s.View(t.Context(), "acme", func(ctx context.Context, r store.Reader) error {
		readerChecks(t, r)
		return finished
	})
	if err != finished {
		t.Errorf("View returned %v", err)
	}
	err = s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		readerChecks(t, tx)
		wantErr(t, "CreateOrganization", tx.CreateOrganization(done, newOrg("acme")), is(context.Canceled))
		wantErr(t, "UpdateOrganization", tx.UpdateOrganization(done, newOrg("acme")), is(context.Canceled))
		wantErr(t, "DeleteOrganization", tx.DeleteOrganization(done), is(context.Canceled))
		wantErr(t, "AddMember", tx.AddMember(done, newMember("dave", "admin")), is(context.Canceled))
		wantErr(t, "UpdateMember", tx.UpdateMember(done, newMember("alice", "member")), is(context.Canceled))
		wantErr(t, "RemoveMember", tx.RemoveMember(done, "alice"), is(context.Canceled))
		wantErr(t, "CreateScope", tx.CreateScope(done, newScope("project", "p9")), is(context.Canceled))
		wantErr(t, "DeleteScope", tx.DeleteScope(done, "project", "p1"), is(context.Canceled))
		wantErr(t, "PutScopeMember", tx.PutScopeMember(done, newScopeMember("project", "p1", "bob", "viewer")), is(context.Canceled))
		wantErr(t, "RemoveScopeMember", tx.RemoveScopeMember(done, "project", "p1", "alice"), is(context.Canceled))
		wantErr(t, "PutScopeRole", tx.PutScopeRole(done, newScopeRole("project", "p1", "r9")), is(context.Canceled))
		wantErr(t, "DeleteScopeRole", tx.DeleteScopeRole(done, "project", "p1", "custom-a"), is(context.Canceled))
		_, err := tx.AppendAudit(done, newEvent("alice", "x", 0))
		wantErr(t, "AppendAudit", err, is(context.Canceled))
		wantErr(t, "CreateInvitation", tx.CreateInvitation(done, newInvitation("inv-new", "gina@example.com", invite.Pending)), is(context.Canceled))
		changed := seedInvitations("acme")[0]
		changed.Status = invite.Revoked
		wantErr(t, "UpdateInvitation", tx.UpdateInvitation(done, changed), is(context.Canceled))
		wantErr(t, "CreateAPIKey", tx.CreateAPIKey(done, newKey("key-new", "alice")), is(context.Canceled))
		revoked := seedKeys("acme")[0]
		revoked.RevokedAt = at(30)
		wantErr(t, "UpdateAPIKey", tx.UpdateAPIKey(done, revoked), is(context.Canceled))
		return finished
	})
	if err != finished {
		t.Errorf("Update returned %v", err)
	}
	diff(t, "organization after calls with a done context", before, snapshot(t, s, "acme"))
}

func closeTests() []test {
	return []test{
		{"EveryEntryPointFailsWithErrClosedAfterClose", testClosed},
		{"CloseIsIdempotent", func(t *testing.T, s store.Store) {
			seed(t, s, "acme")
			for i := range 3 {
				if err := s.Close(); err != nil {
					t.Errorf("Close #%d: %v", i+1, err)
				}
			}
			_, err := s.Access(t.Context(), "acme", "alice")
			wantErr(t, "Access after Close", err, is(store.ErrClosed))
		}},
	}
}

func testClosed(t *testing.T, s store.Store) {
	ctx := t.Context()
	seed(t, s, "acme")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	err := s.Update(ctx, "acme", func(context.Context, store.Tx) error {
		t.Error("Update after Close called its function")
		return nil
	})
	wantErr(t, "Update after Close", err, is(store.ErrClosed))
	err = s.Update(ctx, "new", func(context.Context, store.Tx) error {
		t.Error("Update after Close called its function")
		return nil
	})
	wantErr(t, "Update of a new organization after Close", err, is(store.ErrClosed))
	err = s.View(ctx, "acme", func(context.Context, store.Reader) error {
		t.Error("View after Close called its function")
		return nil
	})
	wantErr(t, "View after Close", err, is(store.ErrClosed))
	_, err = s.Access(ctx, "acme", "alice")
	wantErr(t, "Access after Close", err, is(store.ErrClosed), store.ErrNotFound)
	_, err = s.Access(ctx, "missing", "alice")
	wantErr(t, "Access to a missing organization after Close", err, is(store.ErrClosed), store.ErrNotFound)
	_, err = s.ScopeAccess(ctx, "acme", "alice", "project", "p1")
	wantErr(t, "ScopeAccess after Close", err, is(store.ErrClosed), store.ErrNotFound)
	_, err = s.ScopeAccess(ctx, "missing", "alice", "project", "p1")
	wantErr(t, "ScopeAccess to a missing organization after Close", err, is(store.ErrClosed), store.ErrNotFound)
	wantErr(t, "Organizations after Close", listingErr(t, "Organizations", s.Organizations(ctx, "")), is(store.ErrClosed))
	_, err = s.InvitationToken(ctx, "acme-inv-1")
	wantErr(t, "InvitationToken after Close", err, is(store.ErrClosed), store.ErrNotFound)
	_, err = s.InvitationToken(ctx, "unknown")
	wantErr(t, "InvitationToken of an unknown ID after Close", err, is(store.ErrClosed), store.ErrNotFound)
	_, err = s.KeyAccess(ctx, "acme-key-1")
	wantErr(t, "KeyAccess after Close", err, is(store.ErrClosed), store.ErrNotFound)
	_, err = s.KeyAccess(ctx, "unknown")
	wantErr(t, "KeyAccess of an unknown ID after Close", err, is(store.ErrClosed), store.ErrNotFound)
	wantErr(t, "TouchAPIKey after Close", s.TouchAPIKey(ctx, "acme-key-1", at(50)), is(store.ErrClosed), store.ErrNotFound)
	wantErr(t, "TouchAPIKey of an unknown ID after Close", s.TouchAPIKey(ctx, "unknown", at(50)), is(store.ErrClosed), store.ErrNotFound)
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func concurrencyTests() []test {
	return []test{
		{"UpdatesOfOneOrganizationAreSerialized", testSerializedUpdates},
		{"UpdatesOfDifferentOrganizationsRunTogether", testIndependentUpdates},
		{"UpdatesAreSerializedWhileTheOrganizationComesAndGoes", testSerializedCreateDelete},
		{"ViewSeesAllOfAnUpdateOrNone", testViewAtomic},
		{"OrganizationsDoesNotListAnUncommittedOrganization", testUncommittedNotListed},
		{"MixedCallsOnSeveralOrganizations", testMixed},
	}
}

// testSerializedUpdates runs read-modify-write increments of a counter kept
// in the organization's settings from many goroutines: none may be lost,
// and no two functions may run at once.
func testSerializedUpdates(t *testing.T, s store.Store) {
	const workers, increments = 8, 25
	o := newOrg("acme")
	o.Settings = map[string]string{"counter": "0"}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, o) })
	var inside, overlaps atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range increments {
				err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
					if inside.Add(1) != 1 {
						overlaps.Add(1)
					}
					defer inside.Add(-1)
					o, err := tx.Organization(ctx)
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(o.Settings["counter"])
					if err != nil {
						return err
					}
					o.Settings["counter"] = strconv.Itoa(n + 1)
					return tx.UpdateOrganization(ctx, o)
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d functions of Updates of one organization started while another was running", n)
	}
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.Organization(ctx)
		must(t, err)
		if want := strconv.Itoa(workers * increments); got.Settings["counter"] != want {
			t.Errorf("counter = %s after %s increments: some were lost", got.Settings["counter"], want)
		}
		return nil
	})
}

// testIndependentUpdates proves that Updates of two organizations run at
// the same time: each function waits, inside its Update, until the other
// has started. Once with existing organizations, once with organizations
// the functions create.
func testIndependentUpdates(t *testing.T, s store.Store) {
	seed(t, s, "a")
	seed(t, s, "b")
	for _, pair := range [][2]string{{"a", "b"}, {"new-c", "new-d"}} {
		started := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		errs := make(chan error, 2)
		for i, id := range pair {
			go func() {
				errs <- s.Update(t.Context(), id, func(ctx context.Context, tx store.Tx) error {
					if id != "a" && id != "b" {
						if err := tx.CreateOrganization(ctx, newOrg(id)); err != nil {
							return err
						}
					}
					close(started[i])
					select {
					case <-started[1-i]:
						return tx.AddMember(ctx, newMember("together", "member"))
					case <-time.After(patience):
						return fmt.Errorf("the function of the Update of %s did not start while the one of %s was running", pair[1-i], id)
					}
				})
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		for _, id := range pair {
			if _, err := s.Access(t.Context(), id, "together"); err != nil {
				t.Errorf("Access to %s after the concurrent Updates: %v", id, err)
			}
		}
	}
}

// testViewAtomic has a writer keep two members' roles equal, changing both
// in each Update, while readers check in Views that they always are.
func testViewAtomic(t *testing.T, s store.Store) {
	const rounds, readers = 150, 3
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, newOrg("acme")))
		must(t, tx.AddMember(ctx, newMember("p1", "r0")))
		return tx.AddMember(ctx, newMember("p2", "r0"))
	})
	writerDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(writerDone)
		for i := 1; i <= rounds; i++ {
			err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
				roleID := fmt.Sprint("r", i)
				if err := tx.UpdateMember(ctx, newMember("p1", roleID)); err != nil {
					return err
				}
				if _, err := tx.AppendAudit(ctx, org.AuditEvent{Actor: "writer", Action: "round", Time: at(i)}); err != nil {
					return err
				}
				return tx.UpdateMember(ctx, newMember("p2", roleID))
			})
			if err != nil {
				t.Errorf("writer: %v", err)
				return
			}
		}
	}()
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				finished := false
				select {
				case <-writerDone:
					finished = true
				default:
				}
				err := s.View(t.Context(), "acme", func(ctx context.Context, r store.Reader) error {
					m1, err := r.Member(ctx, "p1")
					if err != nil {
						return err
					}
					m2, err := r.Member(ctx, "p2")
					if err != nil {
						return err
					}
					if m1.Role != m2.Role {
						return fmt.Errorf("a View saw half an Update: p1 is %s, p2 is %s", m1.Role, m2.Role)
					}
					var roles []string
					for m, err := range r.Members(ctx, "") {
						if err != nil {
							return err
						}
						roles = append(roles, m.Role)
					}
					if len(roles) != 2 || roles[0] != m1.Role || roles[1] != m1.Role {
						return fmt.Errorf("a View listed roles %v after reading %s", roles, m1.Role)
					}
					c, err := r.Counts(ctx)
					if err != nil {
						return err
					}
					if len(c.Roles) != 1 || c.Roles[m1.Role] != 2 {
						return fmt.Errorf("a View counted roles %v while both members are %s", c.Roles, m1.Role)
					}
					n := 0
					for _, err := range r.Audit(ctx, store.AuditFilter{}) {
						if err != nil {
							return err
						}
						n++
					}
					if want := fmt.Sprint("r", n); m1.Role != want {
						return fmt.Errorf("a View saw %d audit events with role %s", n, m1.Role)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if finished {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// testMixed runs every entry point from many goroutines on a few
// organizations at once, for the race detector, and checks the result.
func testMixed(t *testing.T, s store.Store) {
	const orgs, perOrg = 4, 30
	ids := make([]string, orgs)
	for i := range ids {
		ids[i] = fmt.Sprint("org-", i)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(2)
		go func() { // writer: creates the organization, then adds members, invites them and gives them keys
			defer wg.Done()
			for i := range perOrg {
				err := s.Update(t.Context(), id, func(ctx context.Context, tx store.Tx) error {
					if i == 0 {
						if err := tx.CreateOrganization(ctx, newOrg(id)); err != nil {
							return err
						}
					}
					if _, err := tx.AppendAudit(ctx, newEvent("w", "add", i)); err != nil {
						return err
					}
					if err := tx.CreateInvitation(ctx, newInvitation(fmt.Sprint(id, "-inv-", i), fmt.Sprint("m", i, "@example.com"), invite.Accepted)); err != nil {
						return err
					}
					if err := tx.CreateAPIKey(ctx, newKey(fmt.Sprint(id, "-key-", i), fmt.Sprint("m", i))); err != nil {
						return err
					}
					return tx.AddMember(ctx, newMember(fmt.Sprint("m", i), "member"))
				})
				if err != nil {
					t.Errorf("Update of %s: %v", id, err)
					return
				}
			}
		}()
		go func() { // reader: through every entry point
			defer wg.Done()
			for i := range perOrg {
				_, err := s.Access(t.Context(), id, fmt.Sprint("m", i))
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Access: %v", err)
				}
				invID := fmt.Sprint(id, "-inv-", i)
				want := *tokenOf(id, newInvitation(invID, "", invite.Accepted))
				if got, err := s.InvitationToken(t.Context(), invID); err == nil && got != want || err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("InvitationToken(%s): %+v, %v; want %+v or ErrNotFound", invID, got, err, want)
				}
				// The key and its owner come in one Update: never one
				// without the other.
				keyID := fmt.Sprint(id, "-key-", i)
				if a, err := s.KeyAccess(t.Context(), keyID); err == nil && (a.OrgID != id || !a.OwnerFound || a.Owner.Role != "member") || err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("KeyAccess(%s): %+v, %v; want its owner's membership of %s or ErrNotFound", keyID, a, err, id)
				}
				if err := s.TouchAPIKey(t.Context(), keyID, at(i)); err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("TouchAPIKey(%s): %v", keyID, err)
				}
				err = s.View(t.Context(), id, func(ctx context.Context, r store.Reader) error {
					c, err := r.Counts(ctx)
					if errors.Is(err, store.ErrOrganizationNotFound) {
						return nil
					}
					if err != nil {
						return err
					}
					ms, err := tryCollect(r.Members(ctx, ""))
					if err != nil {
						return err
					}
					es, err := tryCollect(r.Audit(ctx, store.AuditFilter{}))
					if err != nil {
						return err
					}
					invs, err := tryCollect(r.Invitations(ctx, "", false))
					if err != nil {
						return err
					}
					ks, err := tryCollect(r.APIKeys(ctx, "", ""))
					if err != nil {
						return err
					}
					if len(ms) != c.Members || len(es) != c.Members || len(invs) != c.Members || len(ks) != c.Members {
						return fmt.Errorf("%s: %d members listed, %d counted, %d audit events, %d invitations, %d API keys", id, len(ms), c.Members, len(es), len(invs), len(ks))
					}
					return nil
				})
				if err != nil {
					t.Errorf("View: %v", err)
				}
				if _, err := tryCollect(s.Organizations(t.Context(), "")); err != nil {
					t.Errorf("Organizations: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	listed := collect(t, "Organizations", s.Organizations(t.Context(), ""))
	if len(listed) != orgs {
		t.Errorf("Organizations listed %d, want %d", len(listed), orgs)
	}
	for _, id := range ids {
		view(t, s, id, func(ctx context.Context, r store.Reader) error {
			c, err := r.Counts(ctx)
			must(t, err)
			diff(t, "Counts of "+id, store.Counts{Members: perOrg, Roles: map[string]int{"member": perOrg}}, c)
			return nil
		})
		for i := range perOrg {
			invID := fmt.Sprint(id, "-inv-", i)
			want := *tokenOf(id, newInvitation(invID, "", invite.Accepted))
			if got, err := s.InvitationToken(t.Context(), invID); err != nil || got != want {
				t.Errorf("InvitationToken of invitation %d of %s: %+v, %v; want %+v", i, id, got, err, want)
			}
			a, err := s.KeyAccess(t.Context(), fmt.Sprint(id, "-key-", i))
			if err != nil || a.OrgID != id || !a.OwnerFound || a.OwnerID != fmt.Sprint("m", i) {
				t.Errorf("KeyAccess of key %d of %s: %+v, %v", i, id, a, err)
			}
		}
	}
}

// testSerializedCreateDelete has Updates create and delete one
// organization, or find it missing and create nothing, from several
// goroutines, while others read it: still one function at a time, each
// seeing the organization whole or not at all.
func testSerializedCreateDelete(t *testing.T, s store.Store) {
	const workers, rounds = 6, 150
	var inside atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range rounds {
				err := s.Update(t.Context(), "flip", func(ctx context.Context, tx store.Tx) error {
					if inside.Add(1) != 1 {
						t.Error("two functions of Updates of one organization ran at once")
					}
					defer inside.Add(-1)
					runtime.Gosched() // let the other Updates pile up behind this one
					_, err := tx.Organization(ctx)
					switch {
					case errors.Is(err, store.ErrOrganizationNotFound):
						if w%2 == 1 {
							return nil // an Update that creates nothing
						}
						if err := tx.CreateOrganization(ctx, newOrg("flip")); err != nil {
							return err
						}
						return tx.AddMember(ctx, newMember("p", "admin"))
					case err != nil:
						return err
					}
					if c, err := tx.Counts(ctx); err != nil || c.Members != 1 {
						return fmt.Errorf("the organization is there with counts %+v, %v; want its one member", c, err)
					}
					return tx.DeleteOrganization(ctx)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range rounds {
				a, err := s.Access(t.Context(), "flip", "p")
				if err == nil && a.Role != "admin" || err != nil && !errors.Is(err, store.ErrOrganizationNotFound) {
					t.Errorf("Access: %+v, %v; want admin or ErrOrganizationNotFound", a, err)
				}
				for o, err := range s.Organizations(t.Context(), "") {
					if err != nil || o.ID != "flip" {
						t.Errorf("Organizations: %+v, %v", o, err)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// testUncommittedNotListed lists the organizations while an Update that
// creates one is still running: the new one must not be listed before it
// is committed. A store whose listing waits for the Update cannot be
// checked this way; the test then says so and checks nothing.
func testUncommittedNotListed(t *testing.T, s store.Store) {
	seed(t, s, "existing")
	created, listed := make(chan struct{}), make(chan []org.Organization, 1)
	go func() {
		<-created
		orgs, err := tryCollect(s.Organizations(t.Context(), ""))
		if err != nil {
			t.Error(err)
		}
		listed <- orgs
	}()
	var during []org.Organization
	listedDuring := false
	update(t, s, "pending", func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, newOrg("pending")); err != nil {
			return err
		}
		close(created)
		select {
		case during = <-listed:
			listedDuring = true
		case <-time.After(patience):
		}
		return nil
	})
	if !listedDuring {
		<-listed
		t.Skip("Organizations waits for a running Update: uncommitted organizations cannot be seen")
	}
	diff(t, "Organizations during the Update that creates one", []org.Organization{newOrg("existing")}, during)
	diff(t, "Organizations after it", []org.Organization{newOrg("existing"), newOrg("pending")}, collect(t, "Organizations", s.Organizations(t.Context(), "")))
}
