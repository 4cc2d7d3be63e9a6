package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// These tests check the read cache of Access (see the package
// documentation): what a Store answers after changes made by itself, by
// another Store on the same database (another replica), and by plain SQL;
// that answers do come from the cache; and what happens when the
// connection the cache listens on fails.
//
// Notifications normally take milliseconds. The tests wait for them with a
// generous deadline (bound), so that a loaded machine does not fail them,
// and log the latencies they observe.

// bound is how long a change may take to reach the cache of a Store that
// did not make it, through LISTEN/NOTIFY, before a test fails.
const bound = 10 * time.Second

// longTTL is a CacheTTL longer than any test, so that only invalidation can
// change a cached answer.
const longTTL = time.Hour

// openStore returns a Store on database conn, closed when the test ends
// (before the database is handed back).
func openStore(t testing.TB, conn string, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	s := open(t, conn, opts)
	t.Cleanup(func() { s.Close() })
	return s
}

// rawConn returns a plain connection to database conn, outside any Store,
// closed when the test ends.
func rawConn(t testing.TB, conn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// member returns a member fixture: a user with role roleID.
func member(principalID, roleID string) org.Member {
	return org.Member{PrincipalID: principalID, Kind: org.User, Name: principalID, Role: roleID}
}

// organization returns an organization fixture.
func organization(orgID string) org.Organization {
	return org.Organization{ID: orgID, Name: "Org " + orgID, Scheme: "scheme", Edition: "edition"}
}

// mustUpdate runs fn in an Update of s that must succeed.
func mustUpdate(t testing.TB, s store.Store, orgID string, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), orgID, fn); err != nil {
		t.Fatalf("Update(%q): %v", orgID, err)
	}
}

// createOrg creates organization orgID with members through s.
func createOrg(t testing.TB, s store.Store, orgID string, members ...org.Member) {
	t.Helper()
	mustUpdate(t, s, orgID, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, organization(orgID)); err != nil {
			return err
		}
		for _, m := range members {
			if err := tx.AddMember(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// setRole changes a member's role through s.
func setRole(t testing.TB, s store.Store, orgID, principalID, roleID string) {
	t.Helper()
	mustUpdate(t, s, orgID, func(ctx context.Context, tx store.Tx) error {
		return tx.UpdateMember(ctx, member(principalID, roleID))
	})
}

// execUnnoticed runs a statement in a transaction in which no trigger
// fires (session_replication_role = replica), so that no notification is
// sent: a change no cache can hear of.
func execUnnoticed(t testing.TB, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	err := pgx.BeginFunc(t.Context(), c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(t.Context(), `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(t.Context(), sql, args...)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// seedUnnoticed creates organization orgID with members through c without
// notifying: the caches of the test's Stores then have nothing pending
// that could drop an answer they cache afterwards.
func seedUnnoticed(t testing.TB, c *pgx.Conn, orgID string, members ...org.Member) {
	t.Helper()
	execUnnoticed(t, c, `INSERT INTO orgauthz.organizations (id, name, scheme, edition, seat_override, archived)
		VALUES ($1, $2, 'scheme', 'edition', 0, false)`, orgID, "Org "+orgID)
	for _, m := range members {
		addUnnoticed(t, c, orgID, m)
	}
}

// addUnnoticed adds a member through c without notifying.
func addUnnoticed(t testing.TB, c *pgx.Conn, orgID string, m org.Member) {
	t.Helper()
	execUnnoticed(t, c, `INSERT INTO orgauthz.members (org_id, principal_id, kind, name, role, external)
		VALUES ($1, $2, $3, $4, $5, false)`, orgID, m.PrincipalID, int16(m.Kind), m.Name, m.Role)
}

// setRoleUnnoticed changes a member's role through c without notifying.
func setRoleUnnoticed(t testing.TB, c *pgx.Conn, orgID, principalID, roleID string) {
	t.Helper()
	execUnnoticed(t, c, `UPDATE orgauthz.members SET role = $3 WHERE org_id = $1 AND principal_id = $2`, orgID, principalID, roleID)
}

// answer is one answer of Access.
type answer struct {
	a   store.Access
	err error
}

func (x answer) String() string {
	if x.err != nil {
		return fmt.Sprintf("error %q", x.err)
	}
	return fmt.Sprintf("%+v", x.a)
}

// hasRole accepts an answer of role roleID.
func hasRole(roleID string) func(answer) bool {
	return func(x answer) bool { return x.err == nil && x.a.Role == roleID }
}

// anyRole accepts an answer with a role (and no error).
func anyRole(x answer) bool { return x.err == nil }

// fails accepts an answer that is an error matching target.
func fails(target error) func(answer) bool {
	return func(x answer) bool { return errors.Is(x.err, target) }
}

// access returns s's answer for (orgID, principalID).
func access(t testing.TB, s store.Store, orgID, principalID string) answer {
	a, err := s.Access(t.Context(), orgID, principalID)
	a.Code = 0 // the conformance suite checks the codes
	return answer{a, err}
}

// mustAnswer fails the test unless s answers what want accepts now.
func mustAnswer(t testing.TB, s store.Store, orgID, principalID string, want func(answer) bool, why string) {
	t.Helper()
	if x := access(t, s, orgID, principalID); !want(x) {
		t.Fatalf("Access(%q, %q) = %v: %s", orgID, principalID, x, why)
	}
}

// waitAnswer polls s.Access(orgID, principalID) until want accepts its
// answer and returns how long that took. It fails the test if that takes
// longer than within, or at once on an answer neither want nor meanwhile
// accepts (nil accepts any).
func waitAnswer(t testing.TB, s store.Store, orgID, principalID string, within time.Duration, want, meanwhile func(answer) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		x := access(t, s, orgID, principalID)
		elapsed := time.Since(start)
		switch {
		case want(x):
			return elapsed
		case meanwhile != nil && !meanwhile(x):
			t.Fatalf("Access(%q, %q) = %v after %v: neither the answer awaited nor one allowed meanwhile", orgID, principalID, x, elapsed)
		case elapsed > within:
			t.Fatalf("Access(%q, %q) = %v after %v: the answer awaited did not come", orgID, principalID, x, elapsed)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitFor polls cond until it returns true, failing the test after within.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// probes numbers the roles of waitCached, so that none is used twice.
var probes atomic.Int64

// waitCached waits until s answers member (orgID, principalID) from its
// cache, which it shows by changing the member's role unnoticed and
// getting the answer from before the change again. It returns that cached
// role; the database then holds another.
func waitCached(t testing.TB, s store.Store, c *pgx.Conn, orgID, principalID string) string {
	t.Helper()
	start := time.Now()
	for {
		before := access(t, s, orgID, principalID)
		if before.err != nil {
			t.Fatalf("Access(%q, %q) = %v", orgID, principalID, before)
		}
		setRoleUnnoticed(t, c, orgID, principalID, fmt.Sprintf("probe-%d", probes.Add(1)))
		after := access(t, s, orgID, principalID)
		if after.err == nil && after.a.Role == before.a.Role {
			return before.a.Role
		}
		if time.Since(start) > bound {
			t.Fatalf("Store does not answer Access(%q, %q) from its cache after %v (last answer %v)", orgID, principalID, bound, after)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logLatencies logs the median and maximum of latencies.
func logLatencies(t testing.TB, what string, latencies []time.Duration) {
	t.Helper()
	s := slices.Clone(latencies)
	slices.Sort(s)
	t.Logf("%s: %d changes, latency median %v, max %v", what, len(s), s[len(s)/2], s[len(s)-1])
}

// listeners returns the listening connections of the database c is
// connected to (pid and last query), as pg_stat_activity shows them.
func listeners(t testing.TB, c *pgx.Conn) map[uint32]string {
	t.Helper()
	rows, _ := c.Query(t.Context(), `SELECT pid, query FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, pgstore.ListenerName)
	m := make(map[uint32]string)
	var pid uint32
	var query string
	if _, err := pgx.ForEachRow(rows, []any{&pid, &query}, func() error {
		m[pid] = query
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

// onlyListener waits until the database c is connected to has exactly one
// listening connection other than those of skip, that has run LISTEN, and
// returns its pid.
func onlyListener(t testing.TB, c *pgx.Conn, skip ...uint32) uint32 {
	t.Helper()
	var found uint32
	waitFor(t, bound, "a listening connection in pg_stat_activity", func() bool {
		found = 0
		n := 0
		for pid, query := range listeners(t, c) {
			if !slices.Contains(skip, pid) {
				n++
				if strings.HasPrefix(query, "LISTEN") {
					found = pid
				}
			}
		}
		return n == 1 && found != 0
	})
	return found
}

// terminate ends the backend pid of the database c is connected to.
func terminate(t testing.TB, c *pgx.Conn, pid uint32) {
	t.Helper()
	var ok bool
	err := c.QueryRow(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1 AND pid = $2`, pgstore.ListenerName, pid).Scan(&ok)
	if err != nil || !ok {
		t.Fatalf("terminating listener %d: %v, %v", pid, ok, err)
	}
}

// An Access right after an Update of the same Store answers from the
// Update's state, never an older one, even while other goroutines read the
// same answer concurrently and could put a read that raced with the Update
// back in the cache.
func TestCacheReadYourWrites(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	s := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	other := openStore(t, conn, pgstore.Options{DisableCache: true})
	const orgID, pid = "acme", "alice"
	createOrg(t, s, orgID, member("admin", "admin"), member(pid, "role-0"))

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
				x := access(t, s, orgID, pid)
				reads.Add(1)
				if (x.err != nil && x.err != store.ErrMemberNotFound) || (x.err == nil && !strings.HasPrefix(x.a.Role, "role-")) {
					t.Errorf("concurrent Access = %v", x)
					return
				}
				// Pace the readers a little, so that they leave the
				// machine to the other tests; they still read several
				// times during each iteration.
				time.Sleep(20 * time.Microsecond)
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()

	// check reads for a while after an Update of iteration i: a stale
	// read of a concurrent reader could be put in the cache a little after
	// the Update returned.
	check := func(i int, what string, want func(answer) bool) {
		t.Helper()
		const readFor = 2 * time.Millisecond
		for k, start := 0, time.Now(); k < 3 || time.Since(start) < readFor; k++ {
			if x := access(t, s, orgID, pid); !want(x) {
				t.Fatalf("iteration %d, read %d (%v) after %s: Access = %v", i, k, time.Since(start), what, x)
			}
			runtime.Gosched()
		}
	}
	const iterations = 300
	for i := 1; i <= iterations; i++ {
		r := fmt.Sprintf("role-%d", i)
		// A change of another member through another Store: its
		// notification empties the cache around the time of the Update
		// below, so that the readers are reading the database when it
		// commits, and may get the old role.
		setRole(t, other, orgID, "admin", fmt.Sprintf("admin-%d", i))
		if i%20 == 0 {
			// Also a removal, and the member's return.
			mustUpdate(t, s, orgID, func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, pid) })
			check(i, "removing the member", func(x answer) bool { return x.err == store.ErrMemberNotFound })
			mustUpdate(t, s, orgID, func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, member(pid, r)) })
			check(i, "adding the member back with role "+r, hasRole(r))
		} else {
			setRole(t, s, orgID, pid, r)
			check(i, "changing the role to "+r, hasRole(r))
		}
	}
	t.Logf("%d Updates, %d concurrent reads", iterations, reads.Load())
}

// A change made through one Store (replica A) reaches the cache of another
// (replica B) through LISTEN/NOTIFY, within a bound; the TTL is an hour,
// so nothing else could refresh B's answer.
func TestCacheReplicaStaleness(t *testing.T) {
	t.Parallel()
	const reps = 50
	replicas := func(t *testing.T) (a, b *pgstore.Store) {
		conn := newDatabase(t)
		opts := pgstore.Options{CacheTTL: longTTL}
		return openStore(t, conn, opts), openStore(t, conn, opts)
	}

	t.Run("RoleChange", func(t *testing.T) {
		t.Parallel()
		a, b := replicas(t)
		createOrg(t, a, "acme", member("alice", "role-0"))
		var lat []time.Duration
		for i := 1; i <= reps; i++ {
			old, r := fmt.Sprintf("role-%d", i-1), fmt.Sprintf("role-%d", i)
			mustAnswer(t, b, "acme", "alice", hasRole(old), "B before the change")
			setRole(t, a, "acme", "alice", r)
			lat = append(lat, waitAnswer(t, b, "acme", "alice", bound, hasRole(r), hasRole(old)))
		}
		logLatencies(t, "role change", lat)
	})

	t.Run("Removal", func(t *testing.T) {
		t.Parallel()
		a, b := replicas(t)
		createOrg(t, a, "acme", member("admin", "admin"), member("alice", "viewer"))
		var removed, added []time.Duration
		for i := 1; i <= reps; i++ {
			mustAnswer(t, b, "acme", "alice", hasRole("viewer"), "B before the removal")
			mustUpdate(t, a, "acme", func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, "alice") })
			removed = append(removed, waitAnswer(t, b, "acme", "alice", bound, fails(store.ErrMemberNotFound), hasRole("viewer")))
			// B now has the denial cached: the member's return must
			// reach it too.
			mustUpdate(t, a, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, member("alice", "viewer")) })
			added = append(added, waitAnswer(t, b, "acme", "alice", bound, hasRole("viewer"), fails(store.ErrMemberNotFound)))
		}
		logLatencies(t, "member removal", removed)
		logLatencies(t, "member addition", added)
	})

	t.Run("OrganizationCreation", func(t *testing.T) {
		t.Parallel()
		a, b := replicas(t)
		var created, deleted []time.Duration
		for i := 1; i <= reps; i++ {
			orgID := fmt.Sprintf("org-%d", i)
			mustAnswer(t, b, orgID, "alice", fails(store.ErrOrganizationNotFound), "B before the creation")
			createOrg(t, a, orgID, member("alice", "admin"))
			created = append(created, waitAnswer(t, b, orgID, "alice", bound, hasRole("admin"), fails(store.ErrOrganizationNotFound)))
			mustUpdate(t, a, orgID, func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
			deleted = append(deleted, waitAnswer(t, b, orgID, "alice", bound, fails(store.ErrOrganizationNotFound), hasRole("admin")))
		}
		logLatencies(t, "organization creation", created)
		logLatencies(t, "organization deletion", deleted)
	})
}

// A change made with plain SQL, outside any Store, reaches every Store's
// cache: the schema's triggers notify.
func TestCacheOutsideWrites(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	opts := pgstore.Options{CacheTTL: longTTL}
	stores := []*pgstore.Store{openStore(t, conn, opts), openStore(t, conn, opts)}
	c := rawConn(t, conn)
	ctx := t.Context()
	createOrg(t, stores[0], "acme", member("admin", "admin"), member("alice", "role-0"))

	// waitAll waits until every Store answers what want accepts, and
	// records the latency of the slowest.
	var lat []time.Duration
	waitAll := func(principalID string, want, meanwhile func(answer) bool) {
		t.Helper()
		var slowest time.Duration
		for _, s := range stores {
			slowest = max(slowest, waitAnswer(t, s, "acme", principalID, bound, want, meanwhile))
		}
		lat = append(lat, slowest)
	}
	prime := func(principalID string, want func(answer) bool) {
		t.Helper()
		for _, s := range stores {
			mustAnswer(t, s, "acme", principalID, want, "before the SQL change")
		}
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := c.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	for i := 1; i <= 20; i++ {
		old, r := fmt.Sprintf("role-%d", i-1), fmt.Sprintf("role-%d", i)
		prime("alice", hasRole(old))
		exec(`UPDATE orgauthz.members SET role = $1 WHERE org_id = 'acme' AND principal_id = 'alice'`, r)
		waitAll("alice", hasRole(r), hasRole(old))
	}

	// Several changes in one transaction, one of them to the organization's
	// own row.
	prime("alice", hasRole("role-20"))
	err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE orgauthz.members SET role = 'editor' WHERE org_id = 'acme' AND principal_id = 'alice'`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE orgauthz.organizations SET archived = true, edition = 'pro' WHERE id = 'acme'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitAll("alice", func(x answer) bool {
		return x.err == nil && x.a == store.Access{Scheme: "scheme", Edition: "pro", Archived: true, Role: "editor", Kind: org.User}
	}, hasRole("role-20"))

	// Removal, addition, and the organization's deletion.
	prime("alice", hasRole("editor"))
	exec(`DELETE FROM orgauthz.members WHERE org_id = 'acme' AND principal_id = 'alice'`)
	waitAll("alice", fails(store.ErrMemberNotFound), hasRole("editor"))

	prime("bob", fails(store.ErrMemberNotFound))
	exec(`INSERT INTO orgauthz.members (org_id, principal_id, kind, name, role, external) VALUES ('acme', 'bob', 1, 'Bob', 'viewer', false)`)
	waitAll("bob", hasRole("viewer"), fails(store.ErrMemberNotFound))

	exec(`DELETE FROM orgauthz.organizations WHERE id = 'acme'`)
	waitAll("bob", fails(store.ErrOrganizationNotFound), hasRole("viewer"))

	logLatencies(t, "SQL change, slowest of two Stores", lat)
}

// Answers do come from the cache: a change no one is notified of is not
// seen by a Store that cached the answer before it (with a long TTL), but
// at once by a Store with DisableCache, and within its TTL by a Store with
// a short one. A notified change of the organization then drops the stale
// answer.
func TestCacheAnswersFromCache(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	c := rawConn(t, conn)
	// The organization is created unnoticed, so that no notification of
	// its creation can drop an answer cached below.
	seedUnnoticed(t, c, "acme", member("alice", "old"), member("bob", "viewer"))
	cached := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	uncached := openStore(t, conn, pgstore.Options{DisableCache: true})
	const ttl = 300 * time.Millisecond
	short := openStore(t, conn, pgstore.Options{CacheTTL: ttl})

	for _, s := range []*pgstore.Store{cached, uncached, short} {
		mustAnswer(t, s, "acme", "alice", hasRole("old"), "before the change")
	}
	setRoleUnnoticed(t, c, "acme", "alice", "new")

	mustAnswer(t, uncached, "acme", "alice", hasRole("new"), "a Store with DisableCache reads the database")
	for range 7 {
		mustAnswer(t, cached, "acme", "alice", hasRole("old"), "the answer cached before an unnoticed change, with an hour's TTL")
		time.Sleep(50 * time.Millisecond)
	}
	d := waitAnswer(t, short, "acme", "alice", bound, hasRole("new"), hasRole("old"))
	t.Logf("with CacheTTL %v, the unnoticed change was seen after %v", ttl, d)

	// A change that notifies, of another member, drops every answer of the
	// organization.
	setRole(t, uncached, "acme", "bob", "editor")
	d = waitAnswer(t, cached, "acme", "alice", bound, hasRole("new"), hasRole("old"))
	t.Logf("a notified change of the organization dropped the stale answer after %v", d)
	mustAnswer(t, cached, "acme", "bob", hasRole("editor"), "after the notified change")
}

// When the connection a Store listens on fails, the Store does not go on
// answering from a cache it can no longer keep up to date: a change it
// could not hear of is seen within a bound; it listens again on a new
// connection, and from then on notifications reach its cache again.
func TestCacheListenerTerminated(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	c := rawConn(t, conn)
	seedUnnoticed(t, c, "acme", member("admin", "admin"), member("alice", "role-0"))
	a := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	// B has no cache, so no listener: A's is the only one.
	b := openStore(t, conn, pgstore.Options{DisableCache: true})
	listener := onlyListener(t, c)

	for round := 1; round <= 3; round++ {
		cachedRole := waitCached(t, a, c, "acme", "alice")
		terminate(t, c, listener)
		r := fmt.Sprintf("role-%d", round)
		setRole(t, b, "acme", "alice", r)
		// A may answer the role it cached, or the one the database held
		// before B's change, until it answers B's.
		d := waitAnswer(t, a, "acme", "alice", bound, hasRole(r), anyRole)
		t.Logf("round %d: with the listener terminated, A saw the change after %v (cached %q)", round, d, cachedRole)

		// A listens again, on a new connection...
		next := onlyListener(t, c, listener)
		waitFor(t, bound, "the terminated listener to leave pg_stat_activity", func() bool {
			_, ok := listeners(t, c)[listener]
			return !ok
		})
		listener = next

		// ... and notifications reach its cache again: it answers from
		// the cache (a change made unnoticed is not seen), and a change
		// that notifies is. What it cached before the failure is gone.
		stale := cachedRole
		if cachedRole = waitCached(t, a, c, "acme", "alice"); cachedRole == stale {
			t.Fatalf("round %d: after reconnecting, A answers %q, cached before its listener failed", round, stale)
		}
		r = fmt.Sprintf("role-%d-notified", round)
		setRole(t, b, "acme", "alice", r)
		d = waitAnswer(t, a, "acme", "alice", bound, hasRole(r), hasRole(cachedRole))
		t.Logf("round %d: after reconnecting, a notified change reached A after %v", round, d)
	}
}

// While a Store cannot listen, it bypasses its cache: with its listener
// terminated and no new connection allowed to the database, it answers
// what the database holds, even changes no one was notified of; and when
// it can connect again it listens and caches again.
func TestCacheBypassedWhileListenerDown(t *testing.T) {
	t.Parallel()
	conn := migratedDatabase(t)
	cfg, err := pgx.ParseConfig(conn)
	if err != nil {
		t.Fatal(err)
	}
	dbname := pgx.Identifier{cfg.Database}.Sanitize()
	admin := rawConn(t, pgtest.Shared(t).ConnString("postgres"))
	c := rawConn(t, conn)
	seedUnnoticed(t, c, "acme", member("alice", "role-0"))
	a := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	listener := onlyListener(t, c)

	// Nothing was notified since A started: its answer is cached.
	mustAnswer(t, a, "acme", "alice", hasRole("role-0"), "the first read")
	setRoleUnnoticed(t, c, "acme", "alice", "hidden-1")
	mustAnswer(t, a, "acme", "alice", hasRole("role-0"), "answered from the cache")

	// Keep A from listening again: the database refuses new connections
	// (A's pool, and c, keep theirs).
	if _, err := admin.Exec(t.Context(), `ALTER DATABASE `+dbname+` ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	allowed := false
	allow := func() {
		if !allowed {
			allowed = true
			if _, err := admin.Exec(context.Background(), `ALTER DATABASE `+dbname+` ALLOW_CONNECTIONS true`); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(allow)
	terminate(t, c, listener)

	// A notices, and reads the database instead of its cache.
	d := waitAnswer(t, a, "acme", "alice", bound, hasRole("hidden-1"), hasRole("role-0"))
	t.Logf("with the listener down, A bypassed its cache after %v", d)
	// It keeps nothing meanwhile: another unnoticed change is seen at once.
	for i := 2; i <= 4; i++ {
		r := fmt.Sprintf("hidden-%d", i)
		setRoleUnnoticed(t, c, "acme", "alice", r)
		mustAnswer(t, a, "acme", "alice", hasRole(r), "with the listener down, nothing is cached")
		mustAnswer(t, a, "acme", "alice", hasRole(r), "with the listener down, nothing is cached")
	}
	if n := len(listeners(t, c)); n != 0 {
		t.Fatalf("%d listening connections while the database refuses connections", n)
	}

	// Once it may, A listens again and caches again, not what it cached
	// before the failure.
	allow()
	onlyListener(t, c)
	cachedRole := waitCached(t, a, c, "acme", "alice")
	if cachedRole == "role-0" {
		t.Fatalf("after reconnecting, A answers %q, cached before its listener failed", cachedRole)
	}
	if _, err := c.Exec(t.Context(), `UPDATE orgauthz.members SET role = 'notified' WHERE org_id = 'acme' AND principal_id = 'alice'`); err != nil {
		t.Fatal(err)
	}
	waitAnswer(t, a, "acme", "alice", bound, hasRole("notified"), hasRole(cachedRole))
}

// migratedDatabase returns the connection string of a new database of the
// shared cluster, migrated, of the test's own (not reused after it).
func migratedDatabase(t testing.TB) string {
	t.Helper()
	conn := pgtest.NewDatabase(t, "")
	pool := newPool(t, conn)
	if err := pgstore.Migrate(t.Context(), pool); err != nil {
		t.Fatal(err)
	}
	pool.Close()
	return conn
}

// Access with a context that is done fails with the context's error, even
// when the answer (or the denial) is cached.
func TestCacheDoneContext(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	// Created unnoticed: no notification can drop what is cached below.
	seedUnnoticed(t, rawConn(t, conn), "acme", member("alice", "admin"))
	cached := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	uncached := openStore(t, conn, pgstore.Options{DisableCache: true})

	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()

	for _, s := range []*pgstore.Store{cached, uncached} {
		for _, q := range []struct{ orgID, principalID string }{
			{"acme", "alice"},   // a member
			{"acme", "mallory"}, // a denial
			{"nowhere", "alice"},
		} {
			// Cache the answer (twice, so the second is from the cache).
			want := access(t, s, q.orgID, q.principalID)
			if got := access(t, s, q.orgID, q.principalID); got != want {
				t.Fatalf("Access(%q, %q) = %v, then %v", q.orgID, q.principalID, want, got)
			}
			for _, ctx := range []context.Context{canceled, expired} {
				a, err := s.Access(ctx, q.orgID, q.principalID)
				if !errors.Is(err, ctx.Err()) || errors.Is(err, store.ErrNotFound) || a != (store.Access{}) {
					t.Errorf("Access(%q, %q) with a done context (%v) = %+v, %v; want an error matching %v", q.orgID, q.principalID, ctx.Err(), a, err, ctx.Err())
				}
			}
		}
	}
}

// Denials are cached too, and dropped like any answer. Access returns the
// sentinels themselves, as the contract allows and the package promises.
func TestCacheNegativeAnswers(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	c := rawConn(t, conn)
	seedUnnoticed(t, c, "acme", member("admin", "admin"))
	a := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	b := openStore(t, conn, pgstore.Options{DisableCache: true})

	sentinel := func(s store.Store, orgID, principalID string, want error) {
		t.Helper()
		x := access(t, s, orgID, principalID)
		if x.err != want || !errors.Is(x.err, store.ErrNotFound) || x.a != (store.Access{}) {
			t.Fatalf("Access(%q, %q) = %+v, %v; want %v itself (matching %v)", orgID, principalID, x.a, x.err, want, store.ErrNotFound)
		}
	}
	for _, s := range []store.Store{a, b} {
		for range 2 { // the second from A's cache
			sentinel(s, "acme", "ghost", store.ErrMemberNotFound)
			sentinel(s, "acme", "newbie", store.ErrMemberNotFound)
			sentinel(s, "hidden", "alice", store.ErrOrganizationNotFound)
			sentinel(s, "later", "alice", store.ErrOrganizationNotFound)
		}
	}

	// Denials come from the cache: what appears unnoticed is not seen by A
	// (at once by B).
	addUnnoticed(t, c, "acme", member("ghost", "viewer"))
	seedUnnoticed(t, c, "hidden", member("alice", "admin"))
	mustAnswer(t, b, "acme", "ghost", hasRole("viewer"), "a Store with DisableCache")
	mustAnswer(t, b, "hidden", "alice", hasRole("admin"), "a Store with DisableCache")
	for range 5 {
		sentinel(a, "acme", "ghost", store.ErrMemberNotFound)
		sentinel(a, "hidden", "alice", store.ErrOrganizationNotFound)
		time.Sleep(50 * time.Millisecond)
	}

	// A member added through another Store is seen, and with it what
	// appeared unnoticed in the same organization.
	mustUpdate(t, b, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, member("newbie", "editor")) })
	d := waitAnswer(t, a, "acme", "newbie", bound, hasRole("editor"), fails(store.ErrMemberNotFound))
	t.Logf("a new member reached the cached denial after %v", d)
	mustAnswer(t, a, "acme", "ghost", hasRole("viewer"), "the organization's answers were dropped")

	// An organization created through another Store is seen, as is one
	// that existed unnoticed once a change of it notifies.
	createOrg(t, b, "later", member("alice", "owner"))
	d = waitAnswer(t, a, "later", "alice", bound, hasRole("owner"), fails(store.ErrOrganizationNotFound))
	t.Logf("a new organization reached the cached denial after %v", d)
	setRole(t, b, "hidden", "alice", "owner")
	waitAnswer(t, a, "hidden", "alice", bound, hasRole("owner"), fails(store.ErrOrganizationNotFound))
	sentinel(a, "hidden", "nobody", store.ErrMemberNotFound)
	sentinel(a, "nowhere", "alice", store.ErrOrganizationNotFound)
}

// A small cache, emptied whenever it fills, still answers right.
func TestCacheSmall(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	s := openStore(t, conn, pgstore.Options{CacheTTL: longTTL, CacheSize: 5})
	other := openStore(t, conn, pgstore.Options{DisableCache: true})
	want := make(map[[2]string]string)
	orgs, principals := []string{"o1", "o2", "o3", "o4"}, []string{"p1", "p2", "p3"}
	for _, o := range orgs {
		var ms []org.Member
		for _, p := range principals {
			ms = append(ms, member(p, "r0"))
			want[[2]string{o, p}] = "r0"
		}
		createOrg(t, other, o, ms...)
	}
	for i := range 300 {
		o, p := orgs[i*7%len(orgs)], principals[i*5%len(principals)]
		if i%4 == 0 {
			r := fmt.Sprintf("r%d", i)
			setRole(t, s, o, p, r)
			want[[2]string{o, p}] = r
		}
		mustAnswer(t, s, o, p, hasRole(want[[2]string{o, p}]), "read after own Update")
		mustAnswer(t, s, o, "nobody", fails(store.ErrMemberNotFound), "a denial")
	}
	// A change through another Store reaches it too.
	setRole(t, other, "o1", "p1", "last")
	waitAnswer(t, s, "o1", "p1", bound, hasRole("last"), anyRole)
}

// Negative settings are refused.
func TestCacheOptionsRefused(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	for _, opts := range []pgstore.Options{{CacheTTL: -time.Second}, {CacheSize: -1}} {
		if s, err := pgstore.Open(t.Context(), conn, opts); err == nil {
			s.Close()
			t.Errorf("Open with %+v: no error", opts)
		}
	}
}

// The tests below guard against bugs these tests found: writes that
// reached no cache, and a listener that reconnected over and over.

// A member moved to another organization with plain SQL (UPDATE ... SET
// org_id) leaves the organization it left: both must be notified, or the
// old organization's caches would keep the member until the TTL.
func TestCacheMemberMovedWithSQL(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	c := rawConn(t, conn)
	seedUnnoticed(t, c, "acme", member("alice", "admin"))
	seedUnnoticed(t, c, "other", member("bob", "admin"))
	s := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	mustAnswer(t, s, "acme", "alice", hasRole("admin"), "before the move")
	mustAnswer(t, s, "other", "alice", fails(store.ErrMemberNotFound), "before the move")
	if _, err := c.Exec(t.Context(), `UPDATE orgauthz.members SET org_id = 'other' WHERE org_id = 'acme' AND principal_id = 'alice'`); err != nil {
		t.Fatal(err)
	}
	waitAnswer(t, s, "other", "alice", bound, hasRole("admin"), fails(store.ErrMemberNotFound))
	waitAnswer(t, s, "acme", "alice", bound, fails(store.ErrMemberNotFound), hasRole("admin"))
}

// TRUNCATE, a write to the tables like any other, fires no row trigger:
// a statement trigger of its own must empty the caches, or they would
// answer what was truncated until the TTL.
func TestCacheTruncateWithSQL(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	c := rawConn(t, conn)
	seedUnnoticed(t, c, "acme", member("alice", "admin"))
	s := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	mustAnswer(t, s, "acme", "alice", hasRole("admin"), "before TRUNCATE")
	if _, err := c.Exec(t.Context(), `TRUNCATE orgauthz.members`); err != nil {
		t.Fatal(err)
	}
	waitAnswer(t, s, "acme", "alice", bound, fails(store.ErrMemberNotFound), hasRole("admin"))
}

// A short CacheTTL must not make the listener reconnect over and over: if
// it waited for notifications, and pinged, with a timeout of CacheTTL/2,
// then under a round trip every ping would fail, and the listener would
// reconnect every 10ms, a new server session each time.
func TestCacheShortTTLListenerStable(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	c := rawConn(t, conn)
	s := openStore(t, conn, pgstore.Options{CacheTTL: 100 * time.Microsecond})
	createOrg(t, s, "acme", member("alice", "admin"))
	seen := make(map[uint32]bool)
	for start := time.Now(); time.Since(start) < time.Second; {
		for pid := range listeners(t, c) {
			seen[pid] = true
		}
		mustAnswer(t, s, "acme", "alice", hasRole("admin"), "with a short TTL")
		time.Sleep(10 * time.Millisecond)
	}
	if len(seen) > 1 {
		t.Errorf("%d listening connections came and went in a second, want 1", len(seen))
	}
}

// TestQueuedWriteThatMissesRollsBack has a row change under a running
// Update, outside the store (a member's row is not locked by the
// organization's): the write the Update queued on what it had read then
// changes no row, and the whole Update, its other writes included, is
// rolled back and fails, though the write went with COMMIT.
func TestQueuedWriteThatMissesRollsBack(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	s := openStore(t, conn, pgstore.Options{DisableCache: true})
	ctx := t.Context()
	o := org.Organization{ID: "acme", Name: "Acme", Scheme: "s", Edition: "e"}
	err := s.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, o); err != nil {
			return err
		}
		return tx.AddMember(ctx, org.Member{PrincipalID: "ann", Kind: org.User, Role: "admin"})
	})
	if err != nil {
		t.Fatal(err)
	}
	other, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	err = s.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Member(ctx, "ann"); err != nil { // remembered: ann is a member
			return err
		}
		if _, err := other.Exec(ctx, `DELETE FROM orgauthz.members WHERE org_id = 'acme' AND principal_id = 'ann'`); err != nil {
			return err
		}
		renamed := o
		renamed.Name = "Renamed"
		if err := tx.UpdateOrganization(ctx, renamed); err != nil {
			return err
		}
		return tx.RemoveMember(ctx, "ann") // queued: the memo says it removes one row
	})
	if !errors.Is(err, pgstore.ErrDatabase) {
		t.Fatalf("Update whose queued write changed no row: %v, want ErrDatabase", err)
	}
	err = s.View(ctx, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.Organization(ctx)
		if err == nil && got.Name != "Acme" {
			t.Errorf("the organization was renamed to %q: the failed Update committed", got.Name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
