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

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
)

// These tests check what migration 3 added: the lookups by principal,
// address and kind (Store.Memberships, Store.InvitationsTo,
// Reader.MemberByEmail, Reader.ServicePrincipals, Reader.MemberScopes),
// members' addresses and invitations' DeclinedBy. storetest.Run asserts
// the contract; these assert what it cannot see: the statements a page
// costs, the indexes they read, the migration of a populated database.

// undo holds, by version, the statements that take a migrated schema back
// to the version before.
var undo = map[int][]string{
	7: {
		`DROP INDEX orgauthz.organizations_trial_ends`,
		`ALTER TABLE orgauthz.organizations DROP CONSTRAINT organizations_trial, DROP COLUMN trial_edition, DROP COLUMN trial_started_at, DROP COLUMN trial_ends_at`,
	},
	6: {
		`ALTER TABLE orgauthz.invitations DROP CONSTRAINT invitations_pkey`,
		`ALTER TABLE orgauthz.invitations ADD CONSTRAINT invitations_pkey PRIMARY KEY USING INDEX invitations_id`,
		`CREATE UNIQUE INDEX invitations_org ON orgauthz.invitations (org_id, id)`,
		`ALTER TABLE orgauthz.api_keys DROP CONSTRAINT api_keys_pkey`,
		`ALTER TABLE orgauthz.api_keys ADD CONSTRAINT api_keys_pkey PRIMARY KEY USING INDEX api_keys_id`,
		`CREATE UNIQUE INDEX api_keys_org ON orgauthz.api_keys (org_id, id)`,
	},
	5: {
		`DROP TRIGGER members_insert ON orgauthz.members`,
		`DROP TRIGGER members_update ON orgauthz.members`,
		`DROP TRIGGER members_delete ON orgauthz.members`,
		`DROP FUNCTION orgauthz.count_members()`,
		`CREATE FUNCTION orgauthz.count_member() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF TG_OP IN ('UPDATE', 'DELETE') THEN
				UPDATE orgauthz.member_counts SET n = n - 1
				WHERE org_id = OLD.org_id AND role = OLD.role AND external = OLD.external;
			END IF;
			IF TG_OP IN ('INSERT', 'UPDATE') THEN
				INSERT INTO orgauthz.member_counts AS c (org_id, role, external, n)
				VALUES (NEW.org_id, NEW.role, NEW.external, 1)
				ON CONFLICT (org_id, role, external) DO UPDATE SET n = c.n + 1;
			END IF;
			RETURN NULL;
		END
		$$`,
		`CREATE TRIGGER members_count AFTER INSERT OR DELETE ON orgauthz.members FOR EACH ROW EXECUTE FUNCTION orgauthz.count_member()`,
		`CREATE TRIGGER members_count_update AFTER UPDATE ON orgauthz.members FOR EACH ROW
		WHEN ((OLD.org_id, OLD.role, OLD.external) IS DISTINCT FROM (NEW.org_id, NEW.role, NEW.external))
		EXECUTE FUNCTION orgauthz.count_member()`,
		`CREATE TRIGGER members_notify AFTER INSERT OR UPDATE OR DELETE ON orgauthz.members FOR EACH ROW EXECUTE FUNCTION orgauthz.notify_member()`,
	},
	4: {
		`DROP TRIGGER scopes_notify ON orgauthz.scopes`,
		`DROP TRIGGER scope_members_notify ON orgauthz.scope_members`,
		`DROP TRIGGER scope_roles_notify ON orgauthz.scope_roles`,
		`DROP TRIGGER api_keys_notify ON orgauthz.api_keys`,
		`DROP TRIGGER api_keys_notify_update ON orgauthz.api_keys`,
		`DROP TRIGGER scopes_truncate_notify ON orgauthz.scopes`,
		`DROP TRIGGER scope_members_truncate_notify ON orgauthz.scope_members`,
		`DROP TRIGGER scope_roles_truncate_notify ON orgauthz.scope_roles`,
		`DROP TRIGGER api_keys_truncate_notify ON orgauthz.api_keys`,
	},
	3: {
		`DROP INDEX orgauthz.members_email, orgauthz.members_principal, orgauthz.members_service_principals, orgauthz.invitations_pending_to`,
		`ALTER TABLE orgauthz.members DROP COLUMN email`,
		`ALTER TABLE orgauthz.invitations DROP COLUMN declined_by`,
	},
	2: {
		`DROP TABLE orgauthz.member_counts`,
		`DROP FUNCTION orgauthz.count_member() CASCADE`,
		`DROP FUNCTION orgauthz.count_members_truncated() CASCADE`,
	},
}

// downgrade takes the schema of the database c is connected to, at
// pgstore.SchemaVersion, back to version to, as if the later migrations
// had never run.
func downgrade(t testing.TB, c *pgx.Conn, to int) {
	t.Helper()
	for v := pgstore.SchemaVersion; v > to; v-- {
		stmts, ok := undo[v]
		if !ok {
			t.Fatalf("downgrade: no undo of migration %d", v)
		}
		for _, sql := range append(stmts, fmt.Sprintf(`DELETE FROM orgauthz.schema_migrations WHERE version = %d`, v)) {
			if _, err := c.Exec(t.Context(), sql); err != nil {
				t.Fatalf("downgrade from %d: %s: %v", v, sql, err)
			}
		}
	}
}

// queryCounter is a pgx.QueryTracer that counts the statements of a pool
// (Query, QueryRow and Exec, BEGIN and ROLLBACK included), and keeps them.
type queryCounter struct {
	mu    sync.Mutex
	stmts []string
}

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stmts = append(q.stmts, strings.Join(strings.Fields(data.SQL), " "))
	return ctx
}

func (q *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// The statements of a batch count one each.
func (q *queryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (q *queryCounter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stmts = append(q.stmts, strings.Join(strings.Fields(data.SQL), " "))
}

func (q *queryCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// since returns the statements run since mark, a len of statements.
func (q *queryCounter) since(mark int) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.stmts[mark:])
}

// mark returns the number of statements run so far.
func (q *queryCounter) mark() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.stmts)
}

// countedStore returns a Store without cache (so that no listener runs
// statements of its own) on database conn, over a pool whose statements
// counter counts.
func countedStore(t testing.TB, conn string) (*pgstore.Store, *queryCounter) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		t.Fatal(err)
	}
	counter := &queryCounter{}
	cfg.ConnConfig.Tracer = counter
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := pgstore.New(t.Context(), pool, pgstore.Options{DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, counter
}

// takeN ranges over seq until it has n entries (or seq ends), and returns
// them.
func takeN[V any](t testing.TB, what string, seq func(yield func(V, error) bool), n int) []V {
	t.Helper()
	var out []V
	for v, err := range seq {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		out = append(out, v)
		if len(out) == n {
			break
		}
	}
	return out
}

// lookupFixture is what TestLookupsQueryCounts and TestLookupPlans read:
// alice is a member of orgs organizations, in each of which she has an
// address and memberships of projects and services; each organization
// has n pending invitations to one address, and some others; the first
// has users and service principals.
const (
	fixtureOrgs    = 30
	fixtureAddress = "alice@example.com"
)

func seedLookups(t testing.TB, s store.Store) {
	t.Helper()
	for i := range fixtureOrgs {
		orgID := fmt.Sprintf("org-%02d", i)
		mustUpdate(t, s, orgID, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateOrganization(ctx, organization(orgID)); err != nil {
				return err
			}
			alice := member("alice", "admin")
			alice.Email = fixtureAddress
			if err := tx.AddMember(ctx, alice); err != nil {
				return err
			}
			for j := range 3 {
				inv := invitation(fmt.Sprintf("inv-%02d-%d", i, j), fmt.Sprintf("other%d@example.com", j), invite.Pending)
				if j == 0 {
					inv.Email = "bob@example.com"
				}
				if err := tx.CreateInvitation(ctx, inv); err != nil {
					return err
				}
			}
			// Not pending: not listed.
			if err := tx.CreateInvitation(ctx, invitation(fmt.Sprintf("inv-%02d-x", i), "bob@example.com", invite.Revoked)); err != nil {
				return err
			}
			if i > 0 {
				return nil
			}
			for j := range fixtureOrgs {
				for _, kind := range []string{"project", "service"} {
					sc := org.Scope{Kind: kind, ID: fmt.Sprintf("%s-%02d", kind, j), Name: "Scope", CreatedBy: "alice"}
					if err := tx.CreateScope(ctx, sc); err != nil {
						return err
					}
					for _, p := range []string{"alice", "carol"} {
						if err := tx.PutScopeMember(ctx, org.ScopeMember{Kind: kind, ScopeID: sc.ID, PrincipalID: p, Role: "viewer"}); err != nil {
							return err
						}
					}
				}
				sp := org.Member{PrincipalID: fmt.Sprintf("sp-%02d", j), Kind: org.ServicePrincipal, Name: "CI", Role: "user"}
				if err := tx.AddMember(ctx, sp); err != nil {
					return err
				}
				if err := tx.AddMember(ctx, member(fmt.Sprintf("user-%02d", j), "user")); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// invitation returns an invitation fixture.
func invitation(id, email string, status invite.Status) invite.Invitation {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return invite.Invitation{
		ID: id, Email: email, Role: "user", Status: status, TokenHash: []byte("0123456789abcdef0123456789abcdef"),
		InvitedBy: "alice", CreatedAt: now, ExpiresAt: now.Add(time.Hour), UpdatedAt: now, Sends: 1,
	}
}

// A caller taking a page of 20 of each new listing costs one statement
// (its page, of up to 256 rows), and one of fewer entries than a page
// costs one to its end; MemberByEmail costs one, and none for "".
func TestLookupsQueryCounts(t *testing.T) {
	t.Parallel()
	s, counter := countedStore(t, newDatabase(t))
	seedLookups(t, s)
	const page = 20

	check := func(what string, mark, wantStmts, got, wantEntries int) {
		t.Helper()
		stmts := counter.since(mark)
		if len(stmts) != wantStmts {
			t.Errorf("%s: %d statements, want %d:\n%s", what, len(stmts), wantStmts, strings.Join(stmts, "\n"))
		}
		if got != wantEntries {
			t.Errorf("%s: %d entries, want %d", what, got, wantEntries)
		}
	}

	// The listings of Store: nothing but the page's statement.
	for _, n := range []int{page, page + 1, fixtureOrgs + 1} {
		mark := counter.mark()
		got := takeN(t, "Memberships", s.Memberships(t.Context(), "alice", ""), n)
		check(fmt.Sprintf("Memberships, taking %d", n), mark, 1, len(got), min(n, fixtureOrgs))
		for i, m := range got {
			if id := fmt.Sprintf("org-%02d", i); m.OrgID != id || m.OrgName != "Org "+id || m.Role != "admin" || m.External {
				t.Errorf("Memberships lists %+v at %d, want alice's admin membership of %s", m, i, id)
			}
		}

		mark = counter.mark()
		inv := takeN(t, "InvitationsTo", s.InvitationsTo(t.Context(), "bob@example.com", ""), n)
		check(fmt.Sprintf("InvitationsTo, taking %d", n), mark, 1, len(inv), min(n, fixtureOrgs))
	}
	mark := counter.mark()
	got := takeN(t, "Memberships", s.Memberships(t.Context(), "nobody", ""), page)
	check("Memberships of a principal that belongs to none", mark, 1, len(got), 0)

	// The listings of Reader: the page's statement, inside the View's own
	// (BEGIN and the organization's lookup, sent with the first read, and
	// ROLLBACK). Each View reads the organization first, so that what is
	// counted is the listing alone; each listing has a View of its own,
	// since a View remembers a page it read.
	inView := func(fn func(ctx context.Context, r store.Reader)) {
		t.Helper()
		err := s.View(t.Context(), "org-00", func(ctx context.Context, r store.Reader) error {
			if _, err := r.Organization(ctx); err != nil {
				return err
			}
			fn(ctx, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{page, page + 1, fixtureOrgs + 1} {
		inView(func(ctx context.Context, r store.Reader) {
			mark := counter.mark()
			sps := takeN(t, "ServicePrincipals", r.ServicePrincipals(ctx, ""), n)
			check(fmt.Sprintf("ServicePrincipals, taking %d", n), mark, 1, len(sps), min(n, fixtureOrgs))
			for _, sp := range sps {
				if sp.Kind != org.ServicePrincipal {
					t.Errorf("ServicePrincipals lists %+v", sp)
				}
			}
		})
		inView(func(ctx context.Context, r store.Reader) {
			mark := counter.mark()
			ms := takeN(t, "MemberScopes", r.MemberScopes(ctx, "alice", "project", ""), n)
			check(fmt.Sprintf("MemberScopes, taking %d", n), mark, 1, len(ms), min(n, fixtureOrgs))
			for _, m := range ms {
				if m.Scope.Kind != "project" || m.Member.PrincipalID != "alice" || m.Scope.ID != m.Member.ScopeID {
					t.Errorf("MemberScopes lists %+v", m)
				}
			}
		})
	}
	inView(func(ctx context.Context, r store.Reader) {
		mark := counter.mark()
		m, err := r.MemberByEmail(ctx, fixtureAddress)
		if err != nil || m.PrincipalID != "alice" || m.Email != fixtureAddress {
			t.Errorf("MemberByEmail(%q) = %+v, %v", fixtureAddress, m, err)
		}
		check("MemberByEmail", mark, 1, 0, 0)

		mark = counter.mark()
		if m, err := r.MemberByEmail(ctx, fixtureAddress); err != nil || m.PrincipalID != "alice" {
			t.Errorf("MemberByEmail(%q) again = %+v, %v", fixtureAddress, m, err)
		}
		check("MemberByEmail again, in the same View", mark, 0, 0, 0)

		mark = counter.mark()
		if m, err := r.MemberByEmail(ctx, ""); !errors.Is(err, store.ErrMemberNotFound) {
			t.Errorf(`MemberByEmail("") = %+v, %v; want ErrMemberNotFound`, m, err)
		}
		check(`MemberByEmail("")`, mark, 0, 0, 0)
	})
}

// A listing longer than a page reads its pages one statement each, and
// lists each entry once, in order.
func TestLookupsPagedThroughManyOrganizations(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	s, counter := countedStore(t, conn)
	const n = 600 // 3 pages of 256
	// One Update per organization would take a while: the organizations
	// and members go in by SQL, as a replica or an import would write them.
	c := rawConn(t, conn)
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("o%04d", i))
	}
	if _, err := c.Exec(t.Context(), `INSERT INTO orgauthz.organizations (id, name, scheme, edition, seat_override, archived)
		SELECT id, 'Org', 'scheme', 'edition', 0, false FROM unnest($1::text[]) id`, want); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(t.Context(), `INSERT INTO orgauthz.members (org_id, principal_id, kind, name, role, external)
		SELECT id, 'alice', 1, '', 'user', false FROM unnest($1::text[]) id`, want); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(t.Context(), `INSERT INTO orgauthz.invitations (id, org_id, email, role, status, invited_by, accepted_by, sends)
		SELECT 'i' || id, id, 'a@example.com', 'user', 1, 'x', '', 1 FROM unnest($1::text[]) id`, want); err != nil {
		t.Fatal(err)
	}
	mark := counter.mark()
	var got []string
	for m, err := range s.Memberships(t.Context(), "alice", "") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.OrgID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Memberships lists %d organizations, want %d in order", len(got), len(want))
	}
	if stmts := counter.since(mark); len(stmts) != 3 {
		t.Errorf("Memberships of %d organizations ran %d statements, want 3", n, len(stmts))
	}
	mark = counter.mark()
	got = nil
	for a, err := range s.InvitationsTo(t.Context(), "a@example.com", "") {
		if err != nil {
			t.Fatal(err)
		}
		if a.Invitation.ID != "i"+a.Organization.ID {
			t.Errorf("InvitationsTo lists %q with organization %q", a.Invitation.ID, a.Organization.ID)
		}
		got = append(got, a.Organization.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("InvitationsTo lists %d invitations, want %d in order", len(got), len(want))
	}
	if stmts := counter.since(mark); len(stmts) != 3 {
		t.Errorf("InvitationsTo of %d invitations ran %d statements, want 3", n, len(stmts))
	}
}

// The statements of the lookups read the indexes of migration 3 (and
// MemberScopes scope_members_principal, the lookups by ID alone those of
// migration 6, TrialsEnding that of migration 7), never a whole table, even as
// the generic plans of prepared statements, which pgx makes of every
// statement and PostgreSQL may settle on after five runs: the predicates
// of the partial indexes are literals in the statements.
func TestLookupPlans(t *testing.T) {
	t.Parallel()
	c := rawConn(t, newDatabase(t))
	ctx := t.Context()
	for _, sql := range []string{
		`INSERT INTO orgauthz.organizations (id, name, scheme, edition, seat_override, archived)
			SELECT 'org-' || g, 'Org', 'scheme', 'edition', 0, false FROM generate_series(1, 300) g`,
		`INSERT INTO orgauthz.members (org_id, principal_id, kind, name, role, external, email)
			SELECT 'org-' || o, 'p-' || p, CASE WHEN p % 20 = 0 THEN 2 ELSE 1 END, '', 'user', false,
				CASE WHEN p % 2 = 0 THEN 'p' || p || '@example.com' ELSE '' END
			FROM generate_series(1, 300) o, generate_series(1, 40) p`,
		`INSERT INTO orgauthz.invitations (id, org_id, email, role, status, invited_by, accepted_by, sends)
			SELECT 'inv-' || o || '-' || i, 'org-' || o, 'x' || i || '@example.com', 'user', CASE WHEN i % 3 = 0 THEN 1 ELSE 2 END, 'x', '', 1
			FROM generate_series(1, 300) o, generate_series(1, 20) i`,
		`INSERT INTO orgauthz.api_keys (id, org_id, name, owner_id, display, created_by)
			SELECT 'key-' || o || '-' || k, 'org-' || o, 'k', 'p-' || k, 'k', 'x' FROM generate_series(1, 300) o, generate_series(1, 5) k`,
		`INSERT INTO orgauthz.scopes (org_id, kind, id, name, created_by)
			SELECT 'org-' || o, k, 's-' || i, 'S', 'x' FROM generate_series(1, 30) o, unnest(ARRAY['project', 'service']) k, generate_series(1, 50) i`,
		`INSERT INTO orgauthz.scope_members (org_id, kind, scope_id, principal_id, role)
			SELECT s.org_id, s.kind, s.id, 'p-' || p, 'viewer' FROM orgauthz.scopes s, generate_series(1, 10) p`,
		`UPDATE orgauthz.organizations SET trial_edition = 'trial', trial_ends_at = '2025-04-01'::timestamptz + (substr(id, 5)::integer * interval '1 hour')
			WHERE substr(id, 5)::integer % 10 = 0`,
		`ANALYZE`,
		`SET plan_cache_mode = force_generic_plan`,
		// An index the planner may use, it uses: tables this small could be
		// read whole, though not the tables of a service.
		`SET enable_seqscan = off`,
	} {
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for _, x := range []struct {
		name, index, args string
	}{
		{"Memberships", "members_principal", `'p-2', ''`},
		{"InvitationsTo", "invitations_pending_to", `'x3@example.com', ''`},
		{"MemberByEmail", "members_email", `'org-1', 'p2@example.com'`},
		{"ServicePrincipals", "members_service_principals", `'org-1', ''`},
		{"MemberScopes", "scope_members_principal", `'org-1', 'p-2', 'project', ''`},
		// The lookups by ID alone read the unique indexes on the ID
		// (migration 6), not the primary keys, which lead with the
		// organization.
		{"FindInvitation", "invitations_id", `'inv-7-3'`},
		{"KeyAccess", "api_keys_id", `'key-7-3'`},
		// The organizations on trial, by the partial index of migration 7.
		{"TrialsEnding", "organizations_trial_ends", `'2025-04-01', '2025-05-01', '-infinity', ''`},
	} {
		query, ok := pgstore.LookupQueries[x.name]
		if !ok {
			t.Fatalf("no statement of %s", x.name)
		}
		stmt := "plan_" + strings.ToLower(x.name)
		if _, err := c.Exec(ctx, `PREPARE `+stmt+` AS `+query); err != nil {
			t.Fatalf("%s: PREPARE: %v", x.name, err)
		}
		rows, _ := c.Query(ctx, `EXPLAIN EXECUTE `+stmt+`(`+x.args+`)`, pgx.QueryExecModeSimpleProtocol)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: EXPLAIN: %v", x.name, err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, " "+x.index+" ") || strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s: the generic plan does not read index %s:\n%s", x.name, x.index, plan)
		} else {
			t.Logf("%s:\n%s", x.name, plan)
		}
	}
}

// A database of version 2 that holds records migrates to version 3: the
// members have no address, the invitations no DeclinedBy, and the new
// lookups find what was there; Migrate is idempotent after, and the head
// counts still follow the members.
func TestMigrateFromVersion2(t *testing.T) {
	t.Parallel()
	conn := migratedDatabase(t)
	c := rawConn(t, conn)
	downgrade(t, c, 2)
	for _, sql := range []string{
		`INSERT INTO orgauthz.organizations (id, name, scheme, edition, seat_override, archived) VALUES ('acme', 'Acme', 'scheme', 'edition', 0, false), ('globex', 'Globex', 'scheme', 'pro', 0, true)`,
		`INSERT INTO orgauthz.members (org_id, principal_id, kind, name, role, external, joined_at) VALUES
			('acme', 'alice', 1, 'Alice', 'admin', false, '2024-01-02 03:04:05.123456+02'), ('acme', 'ci', 2, 'CI', 'user', false, NULL), ('globex', 'alice', 1, '', 'user', true, NULL)`,
		`INSERT INTO orgauthz.invitations (id, org_id, email, role, status, invited_by, accepted_by, sends) VALUES
			('inv-1', 'acme', 'bob@example.com', 'user', 1, 'alice', '', 1), ('inv-2', 'globex', 'bob@example.com', 'user', 4, 'alice', '', 2)`,
		`INSERT INTO orgauthz.scopes (org_id, kind, id, name, created_by) VALUES ('acme', 'project', 'apollo', 'Apollo', 'alice')`,
		`INSERT INTO orgauthz.scope_members (org_id, kind, scope_id, principal_id, role) VALUES ('acme', 'project', 'apollo', 'alice', 'lead')`,
	} {
		if _, err := c.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	pool := newPool(t, conn)
	if _, err := pgstore.New(t.Context(), pool, pgstore.Options{DisableCache: true}); !errors.Is(err, pgstore.ErrSchema) {
		t.Fatalf("New on a database of version 2: %v; want ErrSchema", err)
	}
	for i := range 2 {
		if err := pgstore.Migrate(t.Context(), pool); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		checkMigrations(t, pool, pgstore.SchemaVersion)
	}
	checkCounts(t, c, "after migrating from version 2")

	s := openStore(t, conn, pgstore.Options{})
	var got []org.Membership
	for m, err := range s.Memberships(t.Context(), "alice", "") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	// JoinedAt comes back in UTC; a NULL joined_at is the zero time.
	want := []org.Membership{
		{OrgID: "acme", OrgName: "Acme", Scheme: "scheme", Edition: "edition", Role: "admin",
			JoinedAt: time.Date(2024, 1, 2, 1, 4, 5, 123456000, time.UTC)},
		{OrgID: "globex", OrgName: "Globex", Scheme: "scheme", Edition: "pro", Archived: true, Role: "user", External: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Memberships of alice (-want +got):\n%s", diff)
	}
	for _, m := range got {
		if m.JoinedAt.Location() != time.UTC {
			t.Errorf("Memberships of alice: %s joined at %v, not in UTC", m.OrgID, m.JoinedAt)
		}
	}
	var invs []string
	for a, err := range s.InvitationsTo(t.Context(), "bob@example.com", "") {
		if err != nil {
			t.Fatal(err)
		}
		if a.Invitation.DeclinedBy != "" || a.Organization.ID != "acme" {
			t.Errorf("InvitationsTo lists %+v", a)
		}
		invs = append(invs, a.Invitation.ID)
	}
	if !slices.Equal(invs, []string{"inv-1"}) {
		t.Errorf("InvitationsTo lists %q, want [inv-1]", invs)
	}
	err := s.View(t.Context(), "acme", func(ctx context.Context, r store.Reader) error {
		sps := takeN(t, "ServicePrincipals", r.ServicePrincipals(ctx, ""), 10)
		if len(sps) != 1 || sps[0].PrincipalID != "ci" {
			t.Errorf("ServicePrincipals lists %+v, want ci", sps)
		}
		ms := takeN(t, "MemberScopes", r.MemberScopes(ctx, "alice", "project", ""), 10)
		if len(ms) != 1 || ms[0].Scope.Name != "Apollo" || ms[0].Member.Role != "lead" {
			t.Errorf("MemberScopes lists %+v, want apollo", ms)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Addresses can be given now, one per member.
	mustUpdate(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		alice := member("alice", "admin")
		alice.Email = "alice@example.com"
		if err := tx.UpdateMember(ctx, alice); err != nil {
			return err
		}
		ci := org.Member{PrincipalID: "ci", Kind: org.ServicePrincipal, Role: "user", Email: alice.Email}
		if err := tx.UpdateMember(ctx, ci); !errors.Is(err, store.ErrExists) {
			t.Errorf("UpdateMember giving ci alice's address: %v; want ErrExists", err)
		}
		return nil
	})
	checkCounts(t, c, "after giving addresses")
}

// A member's address is unique in its organization: AddMember and
// UpdateMember fail with ErrExists, and not ErrMemberNotFound, on a taken
// one, without aborting the transaction, which goes on and commits. A
// missing member is ErrMemberNotFound first. Other organizations, and
// members without an address, are not concerned.
func TestMemberEmailUnique(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	s := openStore(t, conn, pgstore.Options{})
	withEmail := func(m org.Member, email string) org.Member {
		m.Email = email
		return m
	}
	createOrg(t, s, "globex", withEmail(member("zed", "admin"), "a@example.com"))
	wantExists := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrNotFound) || errors.Is(err, pgstore.ErrDatabase) {
			t.Errorf("%s: %v; want ErrExists", what, err)
		}
	}
	mustUpdate(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		must("CreateOrganization", tx.CreateOrganization(ctx, organization("acme")))
		// The address of a member of globex is free in acme.
		must("AddMember alice", tx.AddMember(ctx, withEmail(member("alice", "admin"), "a@example.com")))
		must("AddMember without address", tx.AddMember(ctx, member("nobody-1", "user")))
		must("AddMember without address", tx.AddMember(ctx, member("nobody-2", "user")))
		wantExists("AddMember of bob at alice's address", tx.AddMember(ctx, withEmail(member("bob", "user"), "a@example.com")))
		wantExists("AddMember of alice again, at another address", tx.AddMember(ctx, withEmail(member("alice", "user"), "b@example.com")))
		if err := tx.UpdateMember(ctx, withEmail(member("bob", "user"), "a@example.com")); !errors.Is(err, store.ErrMemberNotFound) {
			t.Errorf("UpdateMember of bob, no member, at alice's address: %v; want ErrMemberNotFound", err)
		}
		must("AddMember bob", tx.AddMember(ctx, withEmail(member("bob", "user"), "b@example.com")))
		wantExists("UpdateMember of bob to alice's address", tx.UpdateMember(ctx, withEmail(member("bob", "viewer"), "a@example.com")))
		must("UpdateMember of alice, keeping her address", tx.UpdateMember(ctx, withEmail(member("alice", "owner"), "a@example.com")))
		must("UpdateMember of nobody-1 without address", tx.UpdateMember(ctx, member("nobody-1", "viewer")))
		// The transaction was never aborted.
		must("CreateScope", tx.CreateScope(ctx, org.Scope{Kind: "project", ID: "apollo", Name: "Apollo", CreatedBy: "alice"}))
		for email, want := range map[string]string{"a@example.com": "alice", "b@example.com": "bob"} {
			m, err := tx.MemberByEmail(ctx, email)
			if err != nil || m.PrincipalID != want {
				t.Errorf("MemberByEmail(%q) = %+v, %v; want %s", email, m, err, want)
			}
		}
		return nil
	})
	err := s.View(t.Context(), "acme", func(ctx context.Context, r store.Reader) error {
		for id, want := range map[string]org.Member{
			"alice":    withEmail(member("alice", "owner"), "a@example.com"),
			"bob":      withEmail(member("bob", "user"), "b@example.com"),
			"nobody-1": member("nobody-1", "viewer"),
		} {
			got, err := r.Member(ctx, id)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Member(%q) after the Update (-want +got):\n%s", id, diff)
			}
		}
		if m, err := r.MemberByEmail(ctx, "c@example.com"); !errors.Is(err, store.ErrMemberNotFound) {
			t.Errorf("MemberByEmail of no one's address = %+v, %v; want ErrMemberNotFound", m, err)
		}
		_, err := r.Scope(ctx, "project", "apollo")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// A writer outside the store takes an address while an Update gives
	// it: the Update fails with ErrExists (the violation of the unique
	// index translated, if its check ran before the other commit).
	c := rawConn(t, conn)
	for _, op := range []string{"AddMember", "UpdateMember"} {
		email := "race-" + strings.ToLower(op) + "@example.com"
		raw, err := c.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// An UPDATE that changes no key takes no lock on the organization's
		// row (an INSERT would, for its foreign key, and hold the Update
		// back until it commits).
		other := map[string]string{"AddMember": "nobody-1", "UpdateMember": "nobody-2"}[op]
		if _, err := raw.Exec(t.Context(), `UPDATE orgauthz.members SET email = $2 WHERE org_id = 'acme' AND principal_id = $1`, other, email); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			done <- s.Update(context.Background(), "acme", func(ctx context.Context, tx store.Tx) error {
				if op == "AddMember" {
					return tx.AddMember(ctx, withEmail(member("dave", "user"), email))
				}
				return tx.UpdateMember(ctx, withEmail(member("bob", "user"), email))
			})
		}()
		time.Sleep(50 * time.Millisecond) // the Update most likely waits on the index now
		if err := raw.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		err = <-done
		wantExists(op+" racing a writer outside the store", err)
		t.Logf("%s racing a writer outside the store: %v", op, err)
	}
}

// The new listings order IDs as bytes, even in a database whose default
// collation does not, and page from just past the key.
func TestLookupsOrderAsBytes(t *testing.T) {
	t.Parallel()
	ids := []string{"B", "a", "_", "Z", "b", "a-b", "aB", "Ab", "é", "1"}
	conn := nonCDatabase(t, ids)
	s := openStore(t, conn, pgstore.Options{})
	want := slices.Clone(ids)
	sort.Strings(want)
	first := ids[0]
	for _, id := range ids {
		mustUpdate(t, s, id, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateOrganization(ctx, organization(id)); err != nil {
				return err
			}
			if err := tx.AddMember(ctx, member("alice", "user")); err != nil {
				return err
			}
			if err := tx.CreateInvitation(ctx, invitation(id, "bob@example.com", invite.Pending)); err != nil {
				return err
			}
			if id != first {
				return nil
			}
			for _, sid := range ids {
				if err := tx.AddMember(ctx, org.Member{PrincipalID: sid, Kind: org.ServicePrincipal, Role: "user"}); err != nil {
					return err
				}
				if err := tx.CreateScope(ctx, org.Scope{Kind: "project", ID: sid, Name: sid, CreatedBy: "alice"}); err != nil {
					return err
				}
				if err := tx.PutScopeMember(ctx, org.ScopeMember{Kind: "project", ScopeID: sid, PrincipalID: "alice", Role: "viewer"}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	listings := map[string]func(after string) []string{
		"Memberships": func(after string) []string {
			var out []string
			for _, m := range takeN(t, "Memberships", s.Memberships(t.Context(), "alice", after), 100) {
				out = append(out, m.OrgID)
			}
			return out
		},
		"InvitationsTo": func(after string) []string {
			var out []string
			for _, a := range takeN(t, "InvitationsTo", s.InvitationsTo(t.Context(), "bob@example.com", after), 100) {
				out = append(out, a.Invitation.ID)
			}
			return out
		},
		"ServicePrincipals": func(after string) []string {
			var out []string
			err := s.View(t.Context(), first, func(ctx context.Context, r store.Reader) error {
				for _, m := range takeN(t, "ServicePrincipals", r.ServicePrincipals(ctx, after), 100) {
					out = append(out, m.PrincipalID)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		},
		"MemberScopes": func(after string) []string {
			var out []string
			err := s.View(t.Context(), first, func(ctx context.Context, r store.Reader) error {
				for _, m := range takeN(t, "MemberScopes", r.MemberScopes(ctx, "alice", "project", after), 100) {
					out = append(out, m.Scope.ID)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		},
	}
	i, _ := slices.BinarySearch(want, "Z")
	for name, list := range listings {
		if got := list(""); !slices.Equal(got, want) {
			t.Errorf("%s lists %q, want byte order %q", name, got, want)
		}
		if got := list("Z"); !slices.Equal(got, want[i+1:]) {
			t.Errorf("%s after %q lists %q, want %q", name, "Z", got, want[i+1:])
		}
	}
}
