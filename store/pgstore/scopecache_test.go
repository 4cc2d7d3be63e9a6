package pgstore_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
)

// These tests check the caches of ScopeAccess and KeyAccess as
// cache_test.go checks that of Access: answers come from the cache; an
// Update of the Store answering drops them at commit (read-your-writes,
// even with readers racing the Update); a change through another Store,
// or in plain SQL, reaches them through the triggers' notifications
// within a bound; and Options.DisableKeyCache turns the key cache off.

// scopeAnswer is one answer of ScopeAccess.
type scopeAnswer struct {
	a   store.ScopeAccess
	err error
}

func (x scopeAnswer) String() string {
	if x.err != nil {
		return fmt.Sprintf("error %q", x.err)
	}
	return fmt.Sprintf("%+v", x.a)
}

// scopeAccess returns s's answer for principalID on project p1 of orgID.
func scopeAccess(t testing.TB, s store.Store, orgID, principalID string) scopeAnswer {
	a, err := s.ScopeAccess(t.Context(), orgID, principalID, "project", "p1")
	return scopeAnswer{a, err}
}

// holds accepts an answer in which the principal holds roleID on the
// resource (a custom role with caps when caps are given).
func holds(roleID string, caps ...role.Capability) func(scopeAnswer) bool {
	return func(x scopeAnswer) bool {
		return x.err == nil && x.a.ScopeFound && x.a.ScopeMember && x.a.ScopeRole == roleID &&
			x.a.CustomRole == (len(caps) > 0) && slices.Equal(x.a.Capabilities, caps)
	}
}

// anyScopeAnswer accepts an answer without an error.
func anyScopeAnswer(x scopeAnswer) bool { return x.err == nil }

// waitScope polls s.ScopeAccess(orgID, principalID, project/p1) until want
// accepts its answer, as waitAnswer polls Access.
func waitScope(t testing.TB, s store.Store, orgID, principalID string, within time.Duration, want, meanwhile func(scopeAnswer) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		x := scopeAccess(t, s, orgID, principalID)
		elapsed := time.Since(start)
		switch {
		case want(x):
			return elapsed
		case meanwhile != nil && !meanwhile(x):
			t.Fatalf("ScopeAccess(%q, %q) = %v after %v: neither the answer awaited nor one allowed meanwhile", orgID, principalID, x, elapsed)
		case elapsed > within:
			t.Fatalf("ScopeAccess(%q, %q) = %v after %v: the answer awaited did not come", orgID, principalID, x, elapsed)
		}
		time.Sleep(time.Millisecond)
	}
}

// mustScope fails the test unless s answers what want accepts now.
func mustScope(t testing.TB, s store.Store, orgID, principalID string, want func(scopeAnswer) bool, why string) {
	t.Helper()
	if x := scopeAccess(t, s, orgID, principalID); !want(x) {
		t.Fatalf("ScopeAccess(%q, %q) = %v: %s", orgID, principalID, x, why)
	}
}

// seedScopeUnnoticed creates, without notifying, project p1 of orgID
// with custom role "custom" (capability c:0), and principalID in it
// with roleID.
func seedScopeUnnoticed(t testing.TB, c *pgx.Conn, orgID, principalID, roleID string) {
	t.Helper()
	execUnnoticed(t, c, `INSERT INTO orgauthz.scopes (org_id, kind, id, name, created_by) VALUES ($1, 'project', 'p1', 'P1', 'admin')`, orgID)
	execUnnoticed(t, c, `INSERT INTO orgauthz.scope_roles (org_id, kind, scope_id, id, name, capabilities, created_by)
		VALUES ($1, 'project', 'p1', 'custom', 'Custom', '{c:0}', 'admin')`, orgID)
	execUnnoticed(t, c, `INSERT INTO orgauthz.scope_members (org_id, kind, scope_id, principal_id, role) VALUES ($1, 'project', 'p1', $2, $3)`, orgID, principalID, roleID)
}

// setScopeRole gives principalID roleID on project p1 through s.
func setScopeRole(t testing.TB, s store.Store, orgID, principalID, roleID string) {
	t.Helper()
	mustUpdate(t, s, orgID, func(ctx context.Context, tx store.Tx) error {
		return tx.PutScopeMember(ctx, org.ScopeMember{Kind: "project", ScopeID: "p1", PrincipalID: principalID, Role: roleID})
	})
}

// setCustomCaps sets the capabilities of custom role "custom" of project
// p1 through s.
func setCustomCaps(t testing.TB, s store.Store, orgID string, caps ...role.Capability) {
	t.Helper()
	mustUpdate(t, s, orgID, func(ctx context.Context, tx store.Tx) error {
		return tx.PutScopeRole(ctx, org.ScopeRole{Kind: "project", ScopeID: "p1", ID: "custom", Name: "Custom", Capabilities: caps, CreatedBy: "admin"})
	})
}

// Answers of ScopeAccess come from the cache (an unnoticed change is not
// seen), and a change to any table a scope check reads, in plain SQL,
// notifies: the organization's answers are dropped. A key's last use
// notifies nothing; any other change of a key does.
func TestScopeCacheNotifications(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	c := rawConn(t, conn)
	seedUnnoticed(t, c, "acme", member("admin", "admin"), member("alice", "admin"))
	seedScopeUnnoticed(t, c, "acme", "alice", "hidden-0")
	execUnnoticed(t, c, `INSERT INTO orgauthz.api_keys (id, org_id, name, owner_id, display, created_by) VALUES ('k1', 'acme', 'K', 'alice', 'k', 'admin')`)
	cached := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	uncached := openStore(t, conn, pgstore.Options{DisableCache: true})
	exec := func(sql string) {
		t.Helper()
		if _, err := c.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	var lat []time.Duration
	for i, notified := range []string{
		`UPDATE orgauthz.scope_members SET added_at = now() WHERE org_id = 'acme'`,
		`UPDATE orgauthz.scope_roles SET name = 'Renamed' WHERE org_id = 'acme'`,
		`UPDATE orgauthz.scopes SET name = 'Renamed' WHERE org_id = 'acme'`,
		`INSERT INTO orgauthz.scopes (org_id, kind, id, name, created_by) VALUES ('acme', 'project', 'p2', 'P2', 'admin')`,
		`DELETE FROM orgauthz.scopes WHERE org_id = 'acme' AND id = 'p2'`,
		`UPDATE orgauthz.api_keys SET revoked_at = now() WHERE id = 'k1'`,
		`UPDATE orgauthz.api_keys SET name = 'K2', last_used_at = now() WHERE id = 'k1'`,
		`TRUNCATE orgauthz.audit, orgauthz.invitations, orgauthz.scope_roles`, // empties the caches
	} {
		old, r := fmt.Sprintf("hidden-%d", i), fmt.Sprintf("hidden-%d", i+1)
		mustScope(t, cached, "acme", "alice", holds(old), "before the unnoticed change")
		mustScope(t, cached, "acme", "alice", holds(old), "before the unnoticed change")
		execUnnoticed(t, c, `UPDATE orgauthz.scope_members SET role = $1 WHERE org_id = 'acme' AND principal_id = 'alice'`, r)
		mustScope(t, uncached, "acme", "alice", holds(r), "a Store with DisableCache reads the database")
		for range 3 {
			mustScope(t, cached, "acme", "alice", holds(old), "answered from the cache after an unnoticed change")
		}
		exec(notified)
		lat = append(lat, waitScope(t, cached, "acme", "alice", bound, holds(r), holds(old)))
	}
	logLatencies(t, "notified SQL changes", lat)

	// A key's last use notifies nothing: a change made after it, unnoticed,
	// stays unseen, even once a notification of another organization, sent
	// after the use, has arrived (notifications arrive in commit order).
	seedUnnoticed(t, c, "fence", member("alice", "r-0"))
	mustAnswer(t, cached, "fence", "alice", hasRole("r-0"), "the fence before")
	mustScope(t, cached, "acme", "alice", holds("hidden-8"), "before the last use")
	execUnnoticed(t, c, `UPDATE orgauthz.scope_members SET role = 'hidden-9' WHERE org_id = 'acme'`)
	exec(`UPDATE orgauthz.api_keys SET last_used_at = now() WHERE id = 'k1'`)
	exec(`UPDATE orgauthz.members SET role = 'r-1' WHERE org_id = 'fence'`)
	waitAnswer(t, cached, "fence", "alice", bound, hasRole("r-1"), hasRole("r-0"))
	mustScope(t, cached, "acme", "alice", holds("hidden-8"), "a key's last use notified its organization")
}

// A ScopeAccess right after an Update of the same Store answers from the
// Update's state, never an older one, even while other goroutines read
// the same answer concurrently and could put a read that raced with the
// Update back in the cache (see TestCacheReadYourWrites).
func TestScopeCacheReadYourWrites(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	s := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	other := openStore(t, conn, pgstore.Options{DisableCache: true})
	const orgID, pid = "acme", "alice"
	createOrg(t, s, orgID, member("admin", "admin"), member(pid, "member"))
	mustUpdate(t, s, orgID, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateScope(ctx, org.Scope{Kind: "project", ID: "p1", Name: "P1", CreatedBy: "admin"})
	})
	setCustomCaps(t, s, orgID, "c:0")
	setScopeRole(t, s, orgID, pid, "role-0")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				x := scopeAccess(t, s, orgID, pid)
				reads.Add(1)
				if x.err != nil || (x.a.ScopeMember && !strings.HasPrefix(x.a.ScopeRole, "role-") && x.a.ScopeRole != "custom") {
					t.Errorf("concurrent ScopeAccess = %v", x)
					return
				}
				time.Sleep(20 * time.Microsecond)
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()

	check := func(i int, what string, want func(scopeAnswer) bool) {
		t.Helper()
		const readFor = 2 * time.Millisecond
		for k, start := 0, time.Now(); k < 3 || time.Since(start) < readFor; k++ {
			if x := scopeAccess(t, s, orgID, pid); !want(x) {
				t.Fatalf("iteration %d, read %d (%v) after %s: ScopeAccess = %v", i, k, time.Since(start), what, x)
			}
			runtime.Gosched()
		}
	}
	const iterations = 200
	caps := role.Capability("c:0")
	for i := 1; i <= iterations; i++ {
		r := fmt.Sprintf("role-%d", i)
		// A change through another Store: its notification empties the
		// organization's answers around the time of the Update below.
		setRole(t, other, orgID, "admin", fmt.Sprintf("admin-%d", i))
		switch i % 4 {
		case 0: // the custom role, then new capabilities of it
			setScopeRole(t, s, orgID, pid, "custom")
			check(i, "giving the custom role", holds("custom", caps))
			caps = role.Capability(fmt.Sprintf("c:%d", i))
			setCustomCaps(t, s, orgID, caps)
			check(i, "changing the custom role's capabilities", holds("custom", caps))
		case 1: // the membership removed, then back
			mustUpdate(t, s, orgID, func(ctx context.Context, tx store.Tx) error { return tx.RemoveScopeMember(ctx, "project", "p1", pid) })
			check(i, "removing the scope member", func(x scopeAnswer) bool { return x.err == nil && x.a.ScopeFound && !x.a.ScopeMember })
			setScopeRole(t, s, orgID, pid, r)
			check(i, "adding the scope member back with "+r, holds(r))
		default:
			setScopeRole(t, s, orgID, pid, r)
			check(i, "changing the scope role to "+r, holds(r))
		}
	}
	t.Logf("%d iterations, %d concurrent reads", iterations, reads.Load())
}

// A change made through one Store (replica A) of anything a scope check
// reads reaches the cache of another (replica B) within a bound.
func TestScopeCacheReplicaStaleness(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	opts := pgstore.Options{CacheTTL: longTTL}
	a, b := openStore(t, conn, opts), openStore(t, conn, opts)
	createOrg(t, a, "acme", member("admin", "admin"), member("alice", "member"))
	mustUpdate(t, a, "acme", func(ctx context.Context, tx store.Tx) error {
		return tx.CreateScope(ctx, org.Scope{Kind: "project", ID: "p1", Name: "P1", CreatedBy: "admin"})
	})
	setCustomCaps(t, a, "acme", "c:0")
	setScopeRole(t, a, "acme", "alice", "role-0")
	var roles, caps, deletions, creations []time.Duration
	const reps = 25
	for i := 1; i <= reps; i++ {
		old, r := fmt.Sprintf("role-%d", i-1), fmt.Sprintf("role-%d", i)
		mustScope(t, b, "acme", "alice", holds(old), "B before the change")
		setScopeRole(t, a, "acme", "alice", r)
		roles = append(roles, waitScope(t, b, "acme", "alice", bound, holds(r), holds(old)))

		// The custom role's capabilities.
		setScopeRole(t, a, "acme", "alice", "custom")
		oldCaps, newCaps := role.Capability(fmt.Sprintf("c:%d", i-1)), role.Capability(fmt.Sprintf("c:%d", i))
		waitScope(t, b, "acme", "alice", bound, holds("custom", oldCaps), anyScopeAnswer)
		setCustomCaps(t, a, "acme", newCaps)
		caps = append(caps, waitScope(t, b, "acme", "alice", bound, holds("custom", newCaps), holds("custom", oldCaps)))

		// The resource deleted, and made again.
		mustUpdate(t, a, "acme", func(ctx context.Context, tx store.Tx) error { return tx.DeleteScope(ctx, "project", "p1") })
		gone := func(x scopeAnswer) bool { return x.err == nil && !x.a.ScopeFound && !x.a.ScopeMember }
		deletions = append(deletions, waitScope(t, b, "acme", "alice", bound, gone, holds("custom", newCaps)))
		mustUpdate(t, a, "acme", func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateScope(ctx, org.Scope{Kind: "project", ID: "p1", Name: "P1", CreatedBy: "admin"}); err != nil {
				return err
			}
			if err := tx.PutScopeRole(ctx, org.ScopeRole{Kind: "project", ScopeID: "p1", ID: "custom", Name: "Custom", Capabilities: []role.Capability{newCaps}, CreatedBy: "admin"}); err != nil {
				return err
			}
			return tx.PutScopeMember(ctx, org.ScopeMember{Kind: "project", ScopeID: "p1", PrincipalID: "alice", Role: r})
		})
		creations = append(creations, waitScope(t, b, "acme", "alice", bound, holds(r), gone))
	}
	logLatencies(t, "scope role change", roles)
	logLatencies(t, "custom role change", caps)
	logLatencies(t, "resource deletion", deletions)
	logLatencies(t, "resource creation", creations)
}

// keyAnswer is one answer of KeyAccess.
type keyAnswer struct {
	ka  store.KeyAccess
	err error
}

func (x keyAnswer) String() string {
	if x.err != nil {
		return fmt.Sprintf("error %q", x.err)
	}
	return fmt.Sprintf("%+v", x.ka)
}

// keyAccess returns s's answer for key id.
func keyAccess(t testing.TB, s store.Store, id string) keyAnswer {
	ka, err := s.KeyAccess(t.Context(), id)
	return keyAnswer{ka, err}
}

// live accepts an answer of a key not revoked, whose owner is a member
// with role roleID.
func live(roleID string) func(keyAnswer) bool {
	return func(x keyAnswer) bool {
		return x.err == nil && x.ka.RevokedAt.IsZero() && x.ka.OwnerFound && x.ka.Owner.Role == roleID
	}
}

// revoked accepts an answer of a revoked key.
func revoked(x keyAnswer) bool { return x.err == nil && !x.ka.RevokedAt.IsZero() }

// ownerGone accepts an answer of a key whose owner is no member.
func ownerGone(x keyAnswer) bool { return x.err == nil && !x.ka.OwnerFound }

// anyKeyAnswer accepts an answer without an error.
func anyKeyAnswer(x keyAnswer) bool { return x.err == nil }

// mustKey fails the test unless s answers what want accepts now.
func mustKey(t testing.TB, s store.Store, id string, want func(keyAnswer) bool, why string) {
	t.Helper()
	if x := keyAccess(t, s, id); !want(x) {
		t.Fatalf("KeyAccess(%q) = %v: %s", id, x, why)
	}
}

// waitKey polls s.KeyAccess(id) until want accepts its answer, as
// waitAnswer polls Access.
func waitKey(t testing.TB, s store.Store, id string, within time.Duration, want, meanwhile func(keyAnswer) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		x := keyAccess(t, s, id)
		elapsed := time.Since(start)
		switch {
		case want(x):
			return elapsed
		case meanwhile != nil && !meanwhile(x):
			t.Fatalf("KeyAccess(%q) = %v after %v: neither the answer awaited nor one allowed meanwhile", id, x, elapsed)
		case elapsed > within:
			t.Fatalf("KeyAccess(%q) = %v after %v: the answer awaited did not come", id, x, elapsed)
		}
		time.Sleep(time.Millisecond)
	}
}

// newKey returns a key record of owner, with a hash of 32 bytes.
func newKey(id, owner string) apikey.Key {
	return apikey.Key{ID: id, Name: "Key " + id, OwnerID: owner, Hash: make([]byte, 32), Display: "k", CreatedBy: owner,
		ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)}
}

// updateKey changes key id through s with change.
func updateKey(t testing.TB, s store.Store, orgID, id string, change func(k *apikey.Key)) {
	t.Helper()
	mustUpdate(t, s, orgID, func(ctx context.Context, tx store.Tx) error {
		k, err := tx.APIKey(ctx, id)
		if err != nil {
			return err
		}
		change(&k)
		return tx.UpdateAPIKey(ctx, k)
	})
}

// KeyAccess answers from the cache by default: a change no one is
// notified of is not seen, but at once with Options.DisableKeyCache (which
// leaves the cache of Access on) or DisableCache.
func TestKeyCacheDefault(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	c := rawConn(t, conn)
	seedUnnoticed(t, c, "acme", member("alice", "admin"))
	execUnnoticed(t, c, `INSERT INTO orgauthz.api_keys (id, org_id, name, owner_id, hash, display, created_by) VALUES ('k1', 'acme', 'K', 'alice', $1, 'k', 'alice')`, make([]byte, 32))
	cached := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	noKeys := openStore(t, conn, pgstore.Options{CacheTTL: longTTL, DisableKeyCache: true})
	uncached := openStore(t, conn, pgstore.Options{DisableCache: true})
	for _, s := range []*pgstore.Store{cached, noKeys, uncached} {
		for range 2 {
			mustKey(t, s, "k1", live("admin"), "before the unnoticed revocation")
			mustAnswer(t, s, "acme", "alice", hasRole("admin"), "before the unnoticed change")
		}
	}
	execUnnoticed(t, c, `UPDATE orgauthz.api_keys SET revoked_at = now() WHERE id = 'k1'`)
	setRoleUnnoticed(t, c, "acme", "alice", "viewer")
	mustKey(t, noKeys, "k1", revoked, "with DisableKeyCache")
	mustKey(t, uncached, "k1", revoked, "with DisableCache")
	mustAnswer(t, noKeys, "acme", "alice", hasRole("admin"), "DisableKeyCache leaves the cache of Access on")
	for range 5 {
		mustKey(t, cached, "k1", live("admin"), "the key cached before an unnoticed revocation")
		time.Sleep(20 * time.Millisecond)
	}
	// Unknown keys are not cached: one made unnoticed is found at once.
	mustKey(t, cached, "k2", func(x keyAnswer) bool { return x.err == store.ErrNotFound }, "an unknown key")
	execUnnoticed(t, c, `INSERT INTO orgauthz.api_keys (id, org_id, name, owner_id, hash, display, created_by) VALUES ('k2', 'acme', 'K', 'alice', $1, 'k', 'alice')`, make([]byte, 32))
	mustKey(t, cached, "k2", func(x keyAnswer) bool { return x.err == nil }, "an unknown key is not cached")
}

// A revocation, an owner's change of role and an owner's removal by the
// Store answering are seen right after the Update returns, even while
// other goroutines read the key concurrently and could put a read that
// raced with the Update back in the cache.
func TestKeyCacheReadYourWrites(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	s := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	other := openStore(t, conn, pgstore.Options{DisableCache: true})
	createOrg(t, s, "acme", member("admin", "admin"), member("alice", "role-0"))
	mustUpdate(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.CreateAPIKey(ctx, newKey("k1", "alice")) })

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if x := keyAccess(t, s, "k1"); x.err != nil {
					t.Errorf("concurrent KeyAccess = %v", x)
					return
				}
				reads.Add(1)
				time.Sleep(20 * time.Microsecond)
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	check := func(i int, what string, want func(keyAnswer) bool) {
		t.Helper()
		const readFor = 2 * time.Millisecond
		for k, start := 0, time.Now(); k < 3 || time.Since(start) < readFor; k++ {
			if x := keyAccess(t, s, "k1"); !want(x) {
				t.Fatalf("iteration %d, read %d (%v) after %s: KeyAccess = %v", i, k, time.Since(start), what, x)
			}
			runtime.Gosched()
		}
	}
	const iterations = 150
	for i := 1; i <= iterations; i++ {
		r := fmt.Sprintf("role-%d", i)
		setRole(t, other, "acme", "admin", fmt.Sprintf("admin-%d", i))
		switch i % 3 {
		case 0:
			updateKey(t, s, "acme", "k1", func(k *apikey.Key) { k.RevokedAt = time.Now() })
			check(i, "revoking the key", revoked)
			updateKey(t, s, "acme", "k1", func(k *apikey.Key) { k.RevokedAt = time.Time{} })
			check(i, "un-revoking the key", func(x keyAnswer) bool { return x.err == nil && x.ka.RevokedAt.IsZero() })
		case 1:
			mustUpdate(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "alice") })
			check(i, "removing the owner", ownerGone)
			mustUpdate(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, member("alice", r)) })
			check(i, "adding the owner back as "+r, live(r))
		default:
			setRole(t, s, "acme", "alice", r)
			check(i, "changing the owner's role to "+r, live(r))
		}
	}
	t.Logf("%d iterations, %d concurrent reads", iterations, reads.Load())
}

// A revocation, an owner's change of role and an owner's removal through
// one Store (replica A) reach the key cache of another (replica B) within
// a bound.
func TestKeyCacheReplicaStaleness(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	opts := pgstore.Options{CacheTTL: longTTL}
	a, b := openStore(t, conn, opts), openStore(t, conn, opts)
	createOrg(t, a, "acme", member("admin", "admin"), member("alice", "role-0"))
	mustUpdate(t, a, "acme", func(ctx context.Context, tx store.Tx) error { return tx.CreateAPIKey(ctx, newKey("k1", "alice")) })
	var revocations, roles, removals []time.Duration
	const reps = 25
	for i := 1; i <= reps; i++ {
		old, r := fmt.Sprintf("role-%d", i-1), fmt.Sprintf("role-%d", i)
		mustKey(t, b, "k1", live(old), "B before the revocation")
		updateKey(t, a, "acme", "k1", func(k *apikey.Key) { k.RevokedAt = time.Now() })
		mustKey(t, a, "k1", revoked, "A, right after its own revocation")
		revocations = append(revocations, waitKey(t, b, "k1", bound, revoked, live(old)))
		updateKey(t, a, "acme", "k1", func(k *apikey.Key) { k.RevokedAt = time.Time{} })
		waitKey(t, b, "k1", bound, live(old), revoked)

		setRole(t, a, "acme", "alice", r)
		roles = append(roles, waitKey(t, b, "k1", bound, live(r), live(old)))

		mustUpdate(t, a, "acme", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "alice") })
		removals = append(removals, waitKey(t, b, "k1", bound, ownerGone, live(r)))
		mustUpdate(t, a, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, member("alice", r)) })
		waitKey(t, b, "k1", bound, live(r), ownerGone)
	}
	logLatencies(t, "key revocation", revocations)
	logLatencies(t, "owner's role change", roles)
	logLatencies(t, "owner's removal", removals)
}

// A touch of a key through a Store is seen by that Store's KeyAccess at
// once (as the contract requires), though it notifies no other Store,
// whose cached LastUsedAt stays as it was until something else drops it.
func TestKeyCacheTouch(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	opts := pgstore.Options{CacheTTL: longTTL}
	a, b := openStore(t, conn, opts), openStore(t, conn, opts)
	createOrg(t, a, "acme", member("alice", "admin"))
	mustUpdate(t, a, "acme", func(ctx context.Context, tx store.Tx) error { return tx.CreateAPIKey(ctx, newKey("k1", "alice")) })
	// Once the creation of the fence has reached B, so have the
	// notifications of acme's creation, made before: nothing pending can
	// drop what B caches next.
	mustAnswer(t, b, "fence", "alice", fails(store.ErrOrganizationNotFound), "the fence before")
	createOrg(t, a, "fence", member("alice", "r-0"))
	waitAnswer(t, b, "fence", "alice", bound, hasRole("r-0"), fails(store.ErrOrganizationNotFound))
	mustKey(t, b, "k1", anyKeyAnswer, "B before the touches")
	used := time.Now().UTC().Truncate(time.Microsecond)
	for i := range 3 {
		tm := used.Add(time.Duration(i) * time.Second)
		if err := a.TouchAPIKey(t.Context(), "k1", tm); err != nil {
			t.Fatal(err)
		}
		mustKey(t, a, "k1", func(x keyAnswer) bool { return x.err == nil && x.ka.LastUsedAt.Equal(tm) }, "A after its own touch")
	}
	// Notifications arrive in commit order: once the fence's has reached B,
	// so would the touch's, had it sent one.
	setRole(t, a, "fence", "alice", "r-1")
	waitAnswer(t, b, "fence", "alice", bound, hasRole("r-1"), hasRole("r-0"))
	mustKey(t, b, "k1", func(x keyAnswer) bool { return x.err == nil && x.ka.LastUsedAt.IsZero() }, "B's cached answer, after another Store's touch")
	setRole(t, a, "acme", "alice", "owner")
	waitKey(t, b, "k1", bound, func(x keyAnswer) bool { return live("owner")(x) && x.ka.LastUsedAt.Equal(used.Add(2*time.Second)) }, anyKeyAnswer)
}
