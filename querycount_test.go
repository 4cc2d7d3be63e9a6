package orgauthz_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// statements is a pgx.QueryTracer that keeps the statements a pool runs
// (BEGIN and COMMIT included).
type statements struct {
	mu   sync.Mutex
	list []string
}

func (q *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.list = append(q.list, strings.Join(strings.Fields(data.SQL), " "))
	return ctx
}

func (q *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// during returns the statements that fn ran.
func (q *statements) during(fn func()) []string {
	q.mu.Lock()
	mark := len(q.list)
	q.mu.Unlock()
	fn()
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.list[mark:])
}

// TestQueryCountsOfTheViews counts the round trips of each call of the
// principal's view over PostgreSQL, with 30 organizations to page
// through: the switcher's page and the address's invitations are one
// query each, whatever the size; the organization's own listings are one
// read-only transaction of a fixed number of statements.
func TestQueryCountsOfTheViews(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(pgtest.StoreDatabase(t))
	require.NoError(t, err)
	q := &statements{}
	cfg.ConnConfig.Tracer = q
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st, err := pgstore.New(t.Context(), pool, pgstore.Options{DisableCache: true})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	f := newFixtureOn(t, st, "q-")
	svc := f.svc

	var orgs []string
	for i := range 30 {
		id := f.newOrg(t, "soterai", "enterprise", "pat", "manager", "meg", "member")
		orgs = append(orgs, id)
		_, _, err := svc.Invite(ctx, id, "creator", "gil@example.com", "member")
		require.NoError(t, err)
		if i == 0 {
			for j := range 25 {
				w, err := svc.CreateScope(ctx, id, "creator", edition.ScopeWorkspace, fmt.Sprintf("W%02d", j))
				require.NoError(t, err)
				_, err = svc.AddScopeMember(ctx, id, "creator", edition.ScopeWorkspace, w.ID, user("meg"), "")
				require.NoError(t, err)
			}
		}
	}
	wb := f.newOrg(t, "wherobots", "enterprise", "bob", "user")
	_, err = svc.CreateServicePrincipal(ctx, wb, "creator", "ci", "user")
	require.NoError(t, err)
	_, _, err = svc.CreateAPIKey(ctx, wb, "creator", orgauthz.NewKey{Name: "k"})
	require.NoError(t, err)
	_, tok, err := svc.Invite(ctx, orgs[1], "creator", "new@example.com", "")
	require.NoError(t, err)
	page := orgauthz.Page{Limit: 20}

	counts := map[string]int{}
	count := func(name string, fn func() error) {
		t.Helper()
		var err error
		stmts := q.during(func() { err = fn() })
		require.NoError(t, err, name)
		counts[name] = len(stmts)
		t.Logf("%-22s %d statements: %s", name, len(stmts), strings.Join(stmts, " | "))
	}
	count("Memberships", func() error { _, err := svc.Memberships(ctx, "pat", page); return err })
	count("InvitationsFor", func() error { _, err := svc.InvitationsFor(ctx, "gil@example.com", page); return err })
	count("PreviewInvitation", func() error { _, err := svc.PreviewInvitation(ctx, tok.Reveal()); return err })
	count("Scopes (all)", func() error {
		_, err := svc.Scopes(ctx, orgs[0], "creator", edition.ScopeWorkspace, page)
		return err
	})
	count("Scopes (own)", func() error {
		_, err := svc.Scopes(ctx, orgs[0], "meg", edition.ScopeWorkspace, page)
		return err
	})
	count("ScopeMemberships", func() error {
		_, err := svc.ScopeMemberships(ctx, orgs[0], "meg", "", edition.ScopeWorkspace, page)
		return err
	})
	count("AllAPIKeys", func() error { _, err := svc.AllAPIKeys(ctx, wb, "creator", page); return err })
	count("ServicePrincipals", func() error { _, err := svc.ServicePrincipals(ctx, wb, "creator", page); return err })
	count("Seats", func() error { _, err := svc.Seats(ctx, orgs[0], "creator"); return err })
	count("Host.Members", func() error { _, err := svc.Host().Members(ctx, orgs[0], page); return err })

	// The two cross-organization listings are one query each.
	assert.Equal(t, 1, counts["Memberships"])
	assert.Equal(t, 1, counts["InvitationsFor"])
	// The others read one organization in one transaction: a bounded
	// number of statements, whatever the organization's size.
	for name, n := range counts {
		assert.LessOrEqual(t, n, 7, name)
	}
}
