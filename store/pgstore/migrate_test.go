package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// newPool returns a pool on database conn, closed when the test ends.
func newPool(t testing.TB, conn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// checkMigrations fails the test unless orgauthz.schema_migrations records
// exactly the versions 1 to want, each once, with a name.
func checkMigrations(t testing.TB, pool *pgxpool.Pool, want int) {
	t.Helper()
	rows, _ := pool.Query(t.Context(), `SELECT version, name FROM orgauthz.schema_migrations ORDER BY version`)
	var versions []int
	var v int
	var name string
	if _, err := pgx.ForEachRow(rows, []any{&v, &name}, func() error {
		if name == "" {
			return fmt.Errorf("version %d has no name", v)
		}
		versions = append(versions, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var wantVersions []int
	for i := 1; i <= want; i++ {
		wantVersions = append(wantVersions, i)
	}
	if !slices.Equal(versions, wantVersions) {
		t.Fatalf("schema_migrations holds versions %v, want %v", versions, wantVersions)
	}
}

// checkUsable fails the test unless a Store over pool works: it writes an
// organization and reads it back.
func checkUsable(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	s, err := pgstore.New(t.Context(), pool, pgstore.Options{})
	if err != nil {
		t.Fatalf("New after Migrate: %v", err)
	}
	defer s.Close()
	createOrg(t, s, "acme", member("alice", "admin"))
	mustAnswer(t, s, "acme", "alice", hasRole("admin"), "after Migrate")
}

// Migrate is idempotent, and leaves a database migrated by a newer version
// as it is.
func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	pool := newPool(t, pgtest.NewDatabase(t, ""))
	for i := range 3 {
		if err := pgstore.Migrate(t.Context(), pool); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		checkMigrations(t, pool, pgstore.SchemaVersion)
	}
	checkUsable(t, pool)

	// A newer version of the package migrated it further: this one
	// neither fails nor touches it, and still opens it.
	if _, err := pool.Exec(t.Context(), `INSERT INTO orgauthz.schema_migrations (version, name) VALUES ($1, 'future')`, pgstore.SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if err := pgstore.Migrate(t.Context(), pool); err != nil {
		t.Fatalf("Migrate of a newer schema: %v", err)
	}
	checkMigrations(t, pool, pgstore.SchemaVersion+1)
	s, err := pgstore.New(t.Context(), pool, pgstore.Options{DisableCache: true})
	if err != nil {
		t.Fatalf("New on a newer schema: %v", err)
	}
	s.Close()
}

// Replicas may all call Migrate at once.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	conn := pgtest.NewDatabase(t, "")
	const n = 8
	pools := make([]*pgxpool.Pool, n)
	for i := range pools {
		pools[i] = newPool(t, conn)
		// Connect now, so that the calls below start together.
		if err := pools[i].Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, pool := range pools {
		wg.Go(func() {
			<-start
			errs[i] = pgstore.Migrate(t.Context(), pool)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate #%d: %v", i+1, err)
		}
	}
	checkMigrations(t, pools[0], pgstore.SchemaVersion)
	checkUsable(t, pools[n-1])
}

// New and Open refuse a database that is not migrated, saying what to do,
// and Open leaves no connection behind.
func TestOpenUnmigrated(t *testing.T) {
	t.Parallel()
	conn := pgtest.NewDatabase(t, "")
	pool := newPool(t, conn)
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, pgstore.ErrSchema) || !strings.Contains(err.Error(), "Migrate") {
			t.Errorf("%s on an unmigrated database: %v; want an error matching ErrSchema that says to call Migrate", what, err)
		}
	}
	openErr := func() error {
		const app = "orgauthz-open-check"
		s, err := pgstore.Open(t.Context(), conn+" application_name="+app, pgstore.Options{})
		if err == nil {
			s.Close()
			return nil
		}
		waitFor(t, bound, "Open to close its connections", func() bool {
			var n int
			if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 0
		})
		return err
	}

	_, err := pgstore.New(t.Context(), pool, pgstore.Options{})
	check("New", err)
	check("Open", openErr())

	// The same when the schema is there but records no migration.
	if _, err := pool.Exec(t.Context(), `CREATE SCHEMA orgauthz;
		CREATE TABLE orgauthz.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	_, err = pgstore.New(t.Context(), pool, pgstore.Options{DisableCache: true})
	check("New", err)
	check("Open", openErr())
}

// nonCDatabase creates a database whose default collation does not order
// the strings ids as bytes, migrates it, and returns its connection
// string; it skips the test if the server has no such collation.
func nonCDatabase(t *testing.T, ids []string) string {
	t.Helper()
	c := pgtest.Shared(t)
	admin := rawConn(t, c.ConnString("postgres"))
	ctx := t.Context()
	name := fmt.Sprintf("collation_%d", time.Now().UnixNano())

	// Candidates: ICU, then the libc locales the server knows but C's.
	candidates := []string{}
	var icu bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_collation WHERE collprovider = 'i')`).Scan(&icu); err != nil {
		t.Fatal(err)
	}
	if icu {
		candidates = append(candidates, `LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`, `LOCALE_PROVIDER icu ICU_LOCALE 'und'`)
	}
	rows, _ := admin.Query(ctx, `SELECT collcollate FROM pg_collation
		WHERE collprovider = 'c' AND collencoding IN (-1, pg_char_to_encoding('UTF8'))
		AND collcollate NOT IN ('C', 'POSIX') ORDER BY collname`)
	locales, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range locales {
		candidates = append(candidates, "LOCALE "+quoteLiteral(l))
	}

	byteOrder := slices.Clone(ids)
	sort.Strings(byteOrder)
	var tried []string
	for _, cand := range candidates {
		if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8' `+cand); err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", cand, err))
			continue
		}
		t.Cleanup(func() {
			if _, err := admin.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
				t.Error(err)
			}
		})
		conn := c.ConnString(name)
		db := rawConn(t, conn)
		var order []string
		if err := db.QueryRow(ctx, `SELECT array_agg(x ORDER BY x) FROM unnest($1::text[]) x`, ids).Scan(&order); err != nil {
			t.Fatal(err)
		}
		if slices.Equal(order, byteOrder) {
			// Orders as bytes (C.UTF-8 does): no use here.
			tried = append(tried, fmt.Sprintf("%s: orders as bytes", cand))
			db.Close(ctx)
			if _, err := admin.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Logf("database created with %s: its default collation orders %q, bytes order %q", cand, order, byteOrder)
		pool := newPool(t, conn)
		if err := pgstore.Migrate(ctx, pool); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	t.Skipf("the server has no collation that orders differently from bytes: %s", strings.Join(tried, "; "))
	return ""
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Listings order IDs as bytes, as Go compares strings, even in a database
// whose default collation does not: every key column is COLLATE "C".
func TestKeysOrderAsBytes(t *testing.T) {
	t.Parallel()
	ids := []string{"B", "a", "_", "Z", "b", "a-b", "aB", "Ab", "é", "1"}
	conn := nonCDatabase(t, ids)
	s := openStore(t, conn, pgstore.Options{})
	want := slices.Clone(ids)
	sort.Strings(want)

	const orgID = "acme"
	mustUpdate(t, s, orgID, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, organization(orgID)); err != nil {
			return err
		}
		for _, id := range ids {
			if err := tx.AddMember(ctx, member(id, "viewer")); err != nil {
				return err
			}
			if err := tx.CreateScope(ctx, org.Scope{Kind: "project", ID: id, Name: id, CreatedBy: "admin"}); err != nil {
				return err
			}
		}
		return nil
	})
	for _, id := range ids {
		createOrg(t, s, "org-"+id)
	}

	var members, scopes, orgs []string
	err := s.View(t.Context(), orgID, func(ctx context.Context, r store.Reader) error {
		for m, err := range r.Members(ctx, "") {
			if err != nil {
				return err
			}
			members = append(members, m.PrincipalID)
		}
		for sc, err := range r.Scopes(ctx, "project", "") {
			if err != nil {
				return err
			}
			scopes = append(scopes, sc.ID)
		}
		// Paging starts just past the key, in byte order too.
		var after []string
		for m, err := range r.Members(ctx, "Z") {
			if err != nil {
				return err
			}
			after = append(after, m.PrincipalID)
		}
		i, _ := slices.BinarySearch(want, "Z")
		if wantAfter := want[i+1:]; !slices.Equal(after, wantAfter) {
			t.Errorf("Members after %q = %q, want %q", "Z", after, wantAfter)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for o, err := range s.Organizations(t.Context(), "") {
		if err != nil {
			t.Fatal(err)
		}
		if id, ok := strings.CutPrefix(o.ID, "org-"); ok {
			orgs = append(orgs, id)
		}
	}
	for _, l := range []struct {
		what string
		got  []string
	}{{"Members", members}, {"Scopes", scopes}, {"Organizations", orgs}} {
		if !slices.Equal(l.got, want) {
			t.Errorf("%s lists %q, want byte order %q", l.what, l.got, want)
		}
	}
}

// Errors are translated: a closed Store fails with store.ErrClosed, even
// for a cached answer, and a database that does not exist fails Open.
func TestErrorsClosedAndMissing(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	for _, opts := range []pgstore.Options{{}, {DisableCache: true}} {
		s := openStore(t, conn, opts)
		orgID := fmt.Sprintf("acme-%v", opts.DisableCache)
		createOrg(t, s, orgID, member("alice", "admin"))
		// Twice: with the cache, the second answer is cached.
		mustAnswer(t, s, orgID, "alice", hasRole("admin"), "before Close")
		mustAnswer(t, s, orgID, "alice", hasRole("admin"), "before Close")
		s.Close()
		a, err := s.Access(t.Context(), orgID, "alice")
		if !errors.Is(err, store.ErrClosed) || errors.Is(err, store.ErrNotFound) || a != (store.Access{}) {
			t.Errorf("with %+v, Access after Close = %+v, %v; want an error matching ErrClosed", opts, a, err)
		}
		err = s.Update(t.Context(), orgID, func(ctx context.Context, tx store.Tx) error {
			t.Error("Update after Close called its function")
			return nil
		})
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("with %+v, Update after Close = %v; want an error matching ErrClosed", opts, err)
		}
	}

	missing := pgtest.Shared(t).ConnString("no_such_database")
	for _, opts := range []pgstore.Options{{}, {DisableCache: true}} {
		s, err := pgstore.Open(t.Context(), missing, opts)
		if err == nil {
			s.Close()
			t.Fatalf("Open of a database that does not exist, with %+v: no error", opts)
		}
		if !errors.Is(err, pgstore.ErrDatabase) || errors.Is(err, pgstore.ErrSchema) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("Open of a database that does not exist, with %+v: %v; want an error matching ErrDatabase", opts, err)
		}
	}
}

// When the server is gone, calls fail with ErrDatabase, never a sentinel
// of the contract (a missing record is not a missing server), and a cached
// answer is not served; when it is back, the same Store works again.
func TestErrorsServerGone(t *testing.T) {
	t.Parallel()
	// Durable: what was committed before the crash is still there after.
	c := pgtest.StartPrivate(t, pgtest.Options{Durable: true})
	ctx := t.Context()
	conn, err := c.CreateDatabase(ctx, "app", "")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	err = pgstore.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		t.Fatal(err)
	}
	direct := openStore(t, conn, pgstore.Options{DisableCache: true})
	cached := openStore(t, conn, pgstore.Options{CacheTTL: longTTL})
	createOrg(t, direct, "acme", member("alice", "admin"))
	mustAnswer(t, direct, "acme", "alice", hasRole("admin"), "before the crash")
	mustAnswer(t, cached, "acme", "alice", hasRole("admin"), "before the crash")

	if err := c.Stop("immediate"); err != nil {
		t.Fatal(err)
	}

	wantDatabaseErr := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, pgstore.ErrDatabase) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrClosed) {
			t.Errorf("%s with the server gone: %v; want an error matching ErrDatabase and no store sentinel", what, err)
		}
	}
	for range 3 {
		_, err = direct.Access(ctx, "acme", "alice")
		wantDatabaseErr("Access", err)
		_, err = direct.Access(ctx, "nowhere", "alice")
		wantDatabaseErr("Access to a missing organization", err)
	}
	called := false
	err = direct.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
		called = true
		return tx.UpdateMember(ctx, member("alice", "viewer"))
	})
	wantDatabaseErr("Update", err)
	if called {
		t.Log("Update called its function with the server gone")
	}
	wantDatabaseErr("View", direct.View(ctx, "acme", func(ctx context.Context, r store.Reader) error {
		_, err := r.Organization(ctx)
		return err
	}))
	_, err = direct.KeyAccess(ctx, "some-key")
	wantDatabaseErr("KeyAccess", err)
	_, err = direct.InvitationToken(ctx, "some-invitation")
	wantDatabaseErr("InvitationToken", err)

	// The Store with a cache stops answering from it once its listener
	// fails.
	d := waitAnswer(t, cached, "acme", "alice", bound, func(x answer) bool { return x.err != nil }, hasRole("admin"))
	t.Logf("the Store with a cache stopped answering from it %v after the crash", d)
	_, err = cached.Access(ctx, "acme", "alice")
	wantDatabaseErr("Access with a cache", err)

	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	var failures []error
	waitFor(t, 30*time.Second, "the Store to work after the restart", func() bool {
		_, err := direct.Access(ctx, "acme", "alice")
		if err != nil {
			failures = append(failures, err)
		}
		return err == nil
	})
	if len(failures) > 0 {
		t.Logf("after the restart, Access failed %d times before it worked: first %v", len(failures), failures[0])
	}
	setRole(t, direct, "acme", "alice", "viewer")
	mustAnswer(t, direct, "acme", "alice", hasRole("viewer"), "after the restart")
	waitAnswer(t, cached, "acme", "alice", 30*time.Second, hasRole("viewer"), nil)

	// The cached Store listens again: a change reaches its cache.
	raw := rawConn(t, conn)
	onlyListener(t, raw)
	cachedRole := waitCached(t, cached, raw, "acme", "alice")
	setRole(t, direct, "acme", "alice", "owner")
	waitAnswer(t, cached, "acme", "alice", bound, hasRole("owner"), hasRole(cachedRole))
}

// uniqueIndexes returns the unique indexes of table, each as its name, its
// definition and whether it is the primary key, ordered by name.
func uniqueIndexes(t testing.TB, c *pgx.Conn, table string) []string {
	t.Helper()
	rows, _ := c.Query(t.Context(), `SELECT i.indexrelid::regclass::text || ': ' || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisprimary THEN ' (primary key)' ELSE '' END
		FROM pg_index i WHERE i.indrelid = $1::regclass AND i.indisunique ORDER BY i.indexrelid::regclass::text`, table)
	idx, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// A database of version 5 that holds invitations and API keys migrates to
// version 6: the primary keys of both lead with the organization, the
// same number of unique indexes keeps IDs unique across the store, and
// the lookups by ID alone and the creations still work as before.
func TestMigrateFromVersion5(t *testing.T) {
	t.Parallel()
	conn := migratedDatabase(t)
	c := rawConn(t, conn)
	ctx := t.Context()
	s := open(t, conn, pgstore.Options{DisableCache: true})
	for _, o := range []string{"acme", "globex"} {
		createOrg(t, s, o, member("alice", "admin"))
		mustUpdate(t, s, o, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateInvitation(ctx, invitation("inv-"+o, "bob@example.com", invite.Pending)); err != nil {
				return err
			}
			return tx.CreateAPIKey(ctx, newKey("key-"+o, "alice"))
		})
	}
	s.Close()
	downgrade(t, c, 5)
	v5 := map[string][]string{
		"orgauthz.invitations": {
			"orgauthz.invitations_org: CREATE UNIQUE INDEX invitations_org ON orgauthz.invitations USING btree (org_id, id)",
			"orgauthz.invitations_pending: CREATE UNIQUE INDEX invitations_pending ON orgauthz.invitations USING btree (org_id, email) WHERE (status = 1)",
			"orgauthz.invitations_pkey: CREATE UNIQUE INDEX invitations_pkey ON orgauthz.invitations USING btree (id) (primary key)",
		},
		"orgauthz.api_keys": {
			"orgauthz.api_keys_org: CREATE UNIQUE INDEX api_keys_org ON orgauthz.api_keys USING btree (org_id, id)",
			"orgauthz.api_keys_pkey: CREATE UNIQUE INDEX api_keys_pkey ON orgauthz.api_keys USING btree (id) (primary key)",
		},
	}
	v6 := map[string][]string{
		"orgauthz.invitations": {
			"orgauthz.invitations_id: CREATE UNIQUE INDEX invitations_id ON orgauthz.invitations USING btree (id)",
			"orgauthz.invitations_pending: CREATE UNIQUE INDEX invitations_pending ON orgauthz.invitations USING btree (org_id, email) WHERE (status = 1)",
			"orgauthz.invitations_pkey: CREATE UNIQUE INDEX invitations_pkey ON orgauthz.invitations USING btree (org_id, id) (primary key)",
		},
		"orgauthz.api_keys": {
			"orgauthz.api_keys_id: CREATE UNIQUE INDEX api_keys_id ON orgauthz.api_keys USING btree (id)",
			"orgauthz.api_keys_pkey: CREATE UNIQUE INDEX api_keys_pkey ON orgauthz.api_keys USING btree (org_id, id) (primary key)",
		},
	}
	checkShape := func(when string, want map[string][]string) {
		t.Helper()
		for table, w := range want {
			if got := uniqueIndexes(t, c, table); !slices.Equal(got, w) {
				t.Errorf("%s, the unique indexes of %s are\n%s\nwant\n%s", when, table, strings.Join(got, "\n"), strings.Join(w, "\n"))
			}
		}
	}
	checkShape("at version 5", v5)

	pool := newPool(t, conn)
	for i := range 2 {
		if err := pgstore.Migrate(ctx, pool); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		checkMigrations(t, pool, pgstore.SchemaVersion)
	}
	checkShape("after migrating from version 5", v6)

	s = openStore(t, conn, pgstore.Options{DisableCache: true})
	for _, o := range []string{"acme", "globex"} {
		it, err := s.InvitationToken(ctx, "inv-"+o)
		if err != nil || it.OrgID != o || !it.HashOK {
			t.Errorf("InvitationToken(%q) = %+v, %v; want organization %q", "inv-"+o, it, err, o)
		}
		ai, err := s.FindInvitation(ctx, "inv-"+o)
		if err != nil || ai.Organization.ID != o || ai.Invitation.Status != invite.Pending {
			t.Errorf("FindInvitation(%q) = %+v, %v; want the pending invitation of %q", "inv-"+o, ai, err, o)
		}
		ka, err := s.KeyAccess(ctx, "key-"+o)
		if err != nil || ka.OrgID != o || !ka.OwnerFound || ka.Owner.Role != "admin" {
			t.Errorf("KeyAccess(%q) = %+v, %v; want the key of %q, its owner an admin", "key-"+o, ka, err, o)
		}
		if err := s.TouchAPIKey(ctx, "key-"+o, time.Now()); err != nil {
			t.Errorf("TouchAPIKey(%q): %v", "key-"+o, err)
		}
	}
	// IDs are still unique across the store: globex cannot take acme's, by
	// either way of creating an invitation, and the transaction stays
	// usable after each refusal.
	mustUpdate(t, s, "globex", func(ctx context.Context, tx store.Tx) error {
		for what, err := range map[string]error{
			"CreateInvitation":  tx.CreateInvitation(ctx, invitation("inv-acme", "carol@example.com", invite.Pending)),
			"CreateInvitations": tx.(store.BulkCreator).CreateInvitations(ctx, []invite.Invitation{invitation("inv-acme", "carol@example.com", invite.Pending)}),
			"CreateAPIKey":      tx.CreateAPIKey(ctx, newKey("key-acme", "alice")),
		} {
			if !errors.Is(err, store.ErrExists) {
				t.Errorf("%s in globex of an ID of acme: %v; want ErrExists", what, err)
			}
		}
		if err := tx.CreateInvitation(ctx, invitation("inv-globex-2", "carol@example.com", invite.Pending)); err != nil {
			return err
		}
		return tx.CreateAPIKey(ctx, newKey("key-globex-2", "alice"))
	})
	// So does the database, for a writer outside the store.
	for _, sql := range []string{
		`INSERT INTO orgauthz.invitations (id, org_id, email, role, status, invited_by, accepted_by, sends) VALUES ('inv-acme', 'globex', 'dave@example.com', 'user', 2, 'alice', '', 1)`,
		`INSERT INTO orgauthz.api_keys (id, org_id, name, owner_id, display, created_by) VALUES ('key-acme', 'globex', 'k', 'alice', 'k', 'alice')`,
	} {
		var pe *pgconn.PgError
		if _, err := c.Exec(ctx, sql); !errors.As(err, &pe) || pe.Code != "23505" || !strings.HasSuffix(pe.ConstraintName, "_id") {
			t.Errorf("%s: %v; want a unique violation of the index on the ID", sql, err)
		}
	}
}

// A database of version 6 that holds organizations migrates to version 7:
// they have no trial, and read, check and list as before; a trial can be
// started and ended, is listed by its end, and the database refuses, to a
// writer outside the store, a trial edition without an end or an end
// without an edition.
func TestMigrateFromVersion6(t *testing.T) {
	t.Parallel()
	conn := migratedDatabase(t)
	c := rawConn(t, conn)
	ctx := t.Context()
	s := open(t, conn, pgstore.Options{DisableCache: true})
	for _, o := range []string{"acme", "globex"} {
		createOrg(t, s, o, member("alice", "admin"))
		mustUpdate(t, s, o, func(ctx context.Context, tx store.Tx) error {
			return tx.CreateAPIKey(ctx, newKey("key-"+o, "alice"))
		})
	}
	s.Close()
	downgrade(t, c, 6)
	// An organization written at version 6, by SQL.
	if _, err := c.Exec(ctx, `INSERT INTO orgauthz.organizations (id, name, scheme, edition, seat_override, archived, created_at)
		VALUES ('initech', 'Initech', 'scheme', 'edition', 5, false, '2024-01-02 03:04:05.123456+00')`); err != nil {
		t.Fatal(err)
	}
	pool := newPool(t, conn)
	if _, err := pgstore.New(ctx, pool, pgstore.Options{DisableCache: true}); !errors.Is(err, pgstore.ErrSchema) {
		t.Fatalf("New on a database of version 6: %v; want ErrSchema", err)
	}
	for i := range 2 {
		if err := pgstore.Migrate(ctx, pool); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		checkMigrations(t, pool, pgstore.SchemaVersion)
	}

	s = openStore(t, conn, pgstore.Options{})
	for _, id := range []string{"acme", "globex", "initech"} {
		var o org.Organization
		if err := s.View(ctx, id, func(ctx context.Context, r store.Reader) error {
			var err error
			o, err = r.Organization(ctx)
			return err
		}); err != nil {
			t.Fatalf("View(%q): %v", id, err)
		}
		if o.ID != id || o.TrialEdition != "" || !o.TrialEndsAt.IsZero() {
			t.Errorf("Organization(%q) after the migration: %+v; want it without a trial", id, o)
		}
	}
	a, err := s.Access(ctx, "acme", "alice")
	if err != nil || a.Role != "admin" || a.TrialEdition != "" || a.Code == 0 {
		t.Errorf("Access(acme, alice) after the migration: %+v, %v; want an admin without a trial, with a code", a, err)
	}
	listTrials := func() []string {
		t.Helper()
		var ids []string
		for o, err := range s.TrialsEnding(ctx, time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), store.TrialCursor{}) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, o.ID)
		}
		return ids
	}
	if got := listTrials(); len(got) != 0 {
		t.Errorf("TrialsEnding after the migration: %q; want none", got)
	}

	// A trial starts: every read shows it, Access with no code.
	ends := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	mustUpdate(t, s, "globex", func(ctx context.Context, tx store.Tx) error {
		o, err := tx.Organization(ctx)
		if err != nil {
			return err
		}
		o.TrialEdition, o.TrialEndsAt = "enterprise", ends
		return tx.UpdateOrganization(ctx, o)
	})
	if got := listTrials(); !slices.Equal(got, []string{"globex"}) {
		t.Errorf("TrialsEnding after a trial started: %q; want [globex]", got)
	}
	a, err = s.Access(ctx, "globex", "alice")
	if err != nil || a.TrialEdition != "enterprise" || !a.TrialEndsAt.Equal(ends) || a.Code != 0 {
		t.Errorf("Access(globex, alice) on trial: %+v, %v; want the trial, no code", a, err)
	}
	ka, err := s.KeyAccess(ctx, "key-globex")
	if err != nil || ka.Owner.TrialEdition != "enterprise" || !ka.Owner.TrialEndsAt.Equal(ends) {
		t.Errorf("KeyAccess(key-globex) on trial: %+v, %v; want the owner's Access with the trial", ka, err)
	}
	var trialEdition string
	var trialEnds *time.Time
	if err := c.QueryRow(ctx, `SELECT trial_edition, trial_ends_at FROM orgauthz.organizations WHERE id = 'acme'`).Scan(&trialEdition, &trialEnds); err != nil {
		t.Fatal(err)
	}
	if trialEdition != "" || trialEnds != nil {
		t.Errorf("the columns of an organization without a trial: %q, %v; want '' and NULL", trialEdition, trialEnds)
	}

	// The database keeps both or neither.
	for _, sql := range []string{
		`UPDATE orgauthz.organizations SET trial_edition = 'enterprise' WHERE id = 'acme'`,
		`UPDATE orgauthz.organizations SET trial_ends_at = now() WHERE id = 'acme'`,
		`UPDATE orgauthz.organizations SET trial_edition = '' WHERE id = 'globex'`,
		`INSERT INTO orgauthz.organizations (id, name, scheme, edition, seat_override, archived, trial_edition) VALUES ('x', 'X', 's', 'e', 0, false, 'pro')`,
	} {
		var pe *pgconn.PgError
		if _, err := c.Exec(ctx, sql); !errors.As(err, &pe) || pe.Code != "23514" || pe.ConstraintName != "organizations_trial" {
			t.Errorf("%s: %v; want a violation of check organizations_trial", sql, err)
		}
	}
	// A trial started by SQL reaches the cache (the organizations' trigger
	// notifies it), and ends.
	if _, err := c.Exec(ctx, `UPDATE orgauthz.organizations SET trial_edition = 'pro', trial_ends_at = '2025-07-01 00:00:00+00' WHERE id = 'acme'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the cache to see a trial started by SQL", func() bool {
		a, err := s.Access(ctx, "acme", "alice")
		return err == nil && a.TrialEdition == "pro" && a.Code == 0
	})
	if got := listTrials(); !slices.Equal(got, []string{"globex", "acme"}) {
		t.Errorf("TrialsEnding with two trials: %q; want [globex acme], by end", got)
	}
	mustUpdate(t, s, "globex", func(ctx context.Context, tx store.Tx) error {
		o, err := tx.Organization(ctx)
		if err != nil {
			return err
		}
		o.TrialEdition, o.TrialEndsAt = "", time.Time{}
		return tx.UpdateOrganization(ctx, o)
	})
	if got := listTrials(); !slices.Equal(got, []string{"acme"}) {
		t.Errorf("TrialsEnding after a trial ended: %q; want [acme]", got)
	}
}
