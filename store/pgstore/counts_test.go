package pgstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
)

// countedRows returns the counts of orgauthz.member_counts (but for the
// zeros it keeps), and the same counted from orgauthz.members, as
// "org/role/external" → n.
func countedRows(t *testing.T, c *pgx.Conn) (kept, counted map[string]int) {
	t.Helper()
	read := func(query string) map[string]int {
		rows, _ := c.Query(t.Context(), query)
		out := map[string]int{}
		var orgID, roleID string
		var external bool
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&orgID, &roleID, &external, &n}, func() error {
			out[fmt.Sprintf("%s/%s/%v", orgID, roleID, external)] = n
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	return read(`SELECT org_id, role, external, n FROM orgauthz.member_counts WHERE n > 0`),
		read(`SELECT org_id, role, external, count(*) FROM orgauthz.members GROUP BY org_id, role, external`)
}

// checkCounts fails the test unless the kept counts are the counted ones.
func checkCounts(t *testing.T, c *pgx.Conn, when string) {
	t.Helper()
	kept, counted := countedRows(t, c)
	if diff := cmp.Diff(counted, kept); diff != "" {
		t.Fatalf("%s: member_counts differs from the members (-counted +kept):\n%s", when, diff)
	}
}

// TestMemberCountsFollowEveryWrite makes random writes to the members, in
// plain SQL as much as through the store, and after each checks the
// counts that triggers keep against the members counted.
func TestMemberCountsFollowEveryWrite(t *testing.T) {
	t.Parallel()
	conn := newDatabase(t)
	c := rawConn(t, conn)
	s := openStore(t, conn, pgstore.Options{})
	rng := rand.New(rand.NewPCG(6, 2026))
	orgs := []string{"acme", "globex", "initech"}
	roles := []string{"admin", "user", "viewer"}
	for _, o := range orgs {
		createOrg(t, s, o, member("creator", "admin"))
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := c.Exec(t.Context(), sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for step := range 400 {
		o, p, r := orgs[rng.IntN(len(orgs))], fmt.Sprintf("p%d", rng.IntN(12)), roles[rng.IntN(len(roles))]
		switch rng.IntN(9) {
		case 0, 1:
			exec(`INSERT INTO orgauthz.members (org_id, principal_id, kind, name, role, external) VALUES ($1, $2, 1, '', $3, $4) ON CONFLICT DO NOTHING`,
				o, p, r, rng.IntN(4) == 0)
		case 2:
			exec(`UPDATE orgauthz.members SET role = $3 WHERE org_id = $1 AND principal_id = $2`, o, p, r)
		case 3:
			exec(`UPDATE orgauthz.members SET external = NOT external, name = 'x' WHERE org_id = $1 AND principal_id = $2`, o, p)
		case 4:
			exec(`UPDATE orgauthz.members SET name = 'renamed' WHERE org_id = $1`, o) // counts unchanged
		case 5:
			exec(`DELETE FROM orgauthz.members WHERE org_id = $1 AND principal_id = $2`, o, p)
		case 6: // through the store
			mustUpdate(t, s, o, func(ctx context.Context, tx store.Tx) error {
				if err := tx.AddMember(ctx, member(p, r)); err == nil {
					return nil
				}
				return tx.RemoveMember(ctx, p)
			})
		case 7: // a member moved to another organization, with its counts
			exec(`UPDATE orgauthz.members SET org_id = $3 WHERE org_id = $1 AND principal_id = $2
				AND NOT EXISTS (SELECT FROM orgauthz.members WHERE org_id = $3 AND principal_id = $2)`, o, p, orgs[rng.IntN(len(orgs))])
		case 8:
			if rng.IntN(10) == 0 { // the organization and its members go
				mustUpdate(t, s, o, func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
				createOrg(t, s, o, member("creator", "admin"))
			}
		}
		checkCounts(t, c, fmt.Sprintf("step %d", step))
	}
	exec(`TRUNCATE orgauthz.members`)
	checkCounts(t, c, "after TRUNCATE")
	if kept, _ := countedRows(t, c); len(kept) != 0 {
		t.Errorf("after TRUNCATE: %d counts kept", len(kept))
	}
}

// TestMemberCountsMigratedFromVersion1: migration 2 counts the members a
// database of version 1 already holds.
func TestMemberCountsMigratedFromVersion1(t *testing.T) {
	t.Parallel()
	// A database of its own: one whose schema a failure left at version 1
	// must not be handed to the next test.
	conn := migratedDatabase(t)
	c := rawConn(t, conn)
	// Back to version 1: what migrations 2 and later made is dropped.
	downgrade(t, c, 1)
	for _, sql := range []string{
		`INSERT INTO orgauthz.organizations (id, name, scheme, edition, seat_override, archived) VALUES ('acme', 'Acme', 's', 'e', 0, false), ('globex', 'Globex', 's', 'e', 0, false)`,
		`INSERT INTO orgauthz.members (org_id, principal_id, kind, name, role, external)
			SELECT CASE WHEN g % 3 = 0 THEN 'globex' ELSE 'acme' END, 'p' || g, 1, '', CASE WHEN g % 5 = 0 THEN 'admin' ELSE 'user' END, g % 7 = 0
			FROM generate_series(1, 500) g`,
	} {
		if _, err := c.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if _, err := pgstore.Open(t.Context(), conn, pgstore.Options{}); err == nil {
		t.Fatal("Open of a database at version 1 succeeded")
	}
	if err := pgstore.Migrate(t.Context(), newPool(t, conn)); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, c, "after migrating from version 1")
	s := openStore(t, conn, pgstore.Options{})
	var got store.Counts
	if err := s.View(t.Context(), "acme", func(ctx context.Context, r store.Reader) error {
		var err error
		got, err = r.Counts(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// 1..500 not divisible by 3: 334 in acme; of them external: multiples of 7.
	want := store.Counts{Roles: map[string]int{}}
	for g := 1; g <= 500; g++ {
		if g%3 == 0 {
			continue
		}
		if g%7 == 0 {
			want.External++
		} else {
			want.Members++
		}
		if g%5 == 0 {
			want.Roles["admin"]++
		} else {
			want.Roles["user"]++
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Counts of acme (-want +got):\n%s", diff)
	}
}
