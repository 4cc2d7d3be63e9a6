package orgauthz_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// trips is a pgx tracer that counts round trips to the server: a statement
// sent on its own is one, a batch (however many statements it pipelines)
// is one, a COPY is one. It keeps what each carried, for the log.
type trips struct {
	mu   sync.Mutex
	list []string
}

func (q *trips) add(s string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.list = append(q.list, s)
}

func squash(sql string) string {
	s := strings.Join(strings.Fields(sql), " ")
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

func (q *trips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	q.add(squash(data.SQL))
	return ctx
}

func (q *trips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (q *trips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	parts := make([]string, 0, len(data.Batch.QueuedQueries))
	for _, qq := range data.Batch.QueuedQueries {
		parts = append(parts, squash(qq.SQL))
	}
	q.add(fmt.Sprintf("batch of %d [%s]", len(parts), strings.Join(parts, " ; ")))
	return ctx
}

func (q *trips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (q *trips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (q *trips) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceCopyFromStartData) context.Context {
	q.add("COPY " + data.TableName.Sanitize())
	return ctx
}

func (q *trips) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// during returns the round trips fn made.
func (q *trips) during(fn func()) []string {
	q.mu.Lock()
	mark := len(q.list)
	q.mu.Unlock()
	fn()
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.list[mark:]...)
}

// The bounds of issue 14: a change takes at most 3 round trips to the
// server, a read at most 2.
const (
	maxChangeTrips = 3
	maxReadTrips   = 2
)

// tripCase is one call whose round trips are counted: setup makes the
// state it needs (not counted) and returns the call.
type tripCase struct {
	name   string
	change bool
	setup  func(t *testing.T, f *fixture) func() error
}

// TestRoundTrips counts the round trips of every change and every read of
// the service over PostgreSQL (the read cache off, so that reads reach the
// server), with a pgx tracer: deterministic, unlike time. Every case runs
// twice, on fresh state each time, and the second run is counted, so that
// the statements pgx prepares on first use are not.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(pgtest.StoreDatabase(t))
	require.NoError(t, err)
	q := &trips{}
	cfg.ConnConfig.Tracer = q
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st, err := pgstore.New(t.Context(), pool, pgstore.Options{DisableCache: true})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	f := newFixtureOn(t, st, "rt-")
	svc := f.svc
	page := orgauthz.Page{Limit: 20}

	// Each organization is made fresh: an AI Engine one (projects, direct
	// adds, owner transfer) with an owner, an editor and two viewers, one
	// in a project; a Wherobots one for service principals and keys; a
	// UiPath one for custom service roles.
	aie := func(t *testing.T) (orgID, projectID string) {
		orgID = f.newOrg(t, "aiengine", "standard", "olga", "owner", "ed", "editor", "vic", "viewer", "val", "viewer")
		p, err := svc.CreateScope(ctx, orgID, "creator", edition.ScopeProject, "P")
		require.NoError(t, err)
		_, err = svc.AddScopeMember(ctx, orgID, "creator", edition.ScopeProject, p.ID, user("ed"), "editor")
		require.NoError(t, err)
		_, err = svc.AddScopeMember(ctx, orgID, "creator", edition.ScopeProject, p.ID, user("vic"), "viewer")
		require.NoError(t, err)
		return orgID, p.ID
	}
	wbIn := func(t *testing.T, ed string) (orgID, spID, keyID string) {
		orgID = f.newOrg(t, "wherobots", ed, "bob", "user", "ada", "admin")
		sp, err := svc.CreateServicePrincipal(ctx, orgID, "creator", "ci", "user")
		require.NoError(t, err)
		k, _, err := svc.CreateAPIKey(ctx, orgID, "creator", orgauthz.NewKey{Name: "k", Owner: sp.PrincipalID})
		require.NoError(t, err)
		_, _, err = svc.CreateAPIKey(ctx, orgID, "bob", orgauthz.NewKey{Name: "own"})
		require.NoError(t, err)
		return orgID, sp.PrincipalID, k.ID
	}
	wb := func(t *testing.T) (orgID, spID, keyID string) { return wbIn(t, "enterprise") }
	invited := func(t *testing.T, orgID, email string) (id, token string) {
		inv, tok, err := svc.Invite(ctx, orgID, "creator", email, "")
		require.NoError(t, err)
		return inv.ID, tok.Reveal()
	}
	ui := func(t *testing.T) (orgID, serviceID string) {
		orgID = f.newOrg(t, "uipath", "standard", "una", "user")
		s, err := svc.CreateScope(ctx, orgID, "creator", edition.ScopeService, "Orchestrator")
		require.NoError(t, err)
		return orgID, s.ID
	}

	// A SoterAI organization whose manager meg holds a workspace (as its
	// manager), has an API key and has sent an invitation: demoting or
	// removing her cascades through all three.
	soterWith := func(t *testing.T, other string) string {
		orgID := f.newOrg(t, "soterai", "enterprise", "meg", "manager", "mo", "manager", "mel", other)
		w, err := svc.CreateScope(ctx, orgID, "meg", edition.ScopeWorkspace, "W")
		require.NoError(t, err)
		_, err = svc.AddScopeMember(ctx, orgID, "meg", edition.ScopeWorkspace, w.ID, user("mel"), "")
		require.NoError(t, err)
		_, _, err = svc.Invite(ctx, orgID, "meg", "cas-"+orgID+"@example.com", "manager")
		require.NoError(t, err)
		return orgID
	}
	soter := func(t *testing.T) string { return soterWith(t, "member") }

	cases := []tripCase{
		{"ChangeRole (cascades: scope role, invitation)", true, func(t *testing.T, f *fixture) func() error {
			o := soter(t)
			return func() error { _, err := svc.ChangeRole(ctx, o, "creator", "meg", "member"); return err }
		}},
		{"RemoveMember (cascades: scope, invitation)", true, func(t *testing.T, f *fixture) func() error {
			o := soter(t)
			return func() error { return svc.RemoveMember(ctx, o, "creator", "meg") }
		}},
		{"ChangeEdition (cascades)", true, func(t *testing.T, f *fixture) func() error {
			o := soterWith(t, "manager")
			return func() error { return svc.ChangeEdition(ctx, o, "creator", "professional") }
		}},
		// Changes by members.
		{"CreateOrganization", true, func(t *testing.T, f *fixture) func() error {
			return func() error {
				_, err := svc.CreateOrganization(ctx, user("creator"), orgauthz.NewOrganization{Name: "N", Scheme: "aiengine"})
				return err
			}
		}},
		{"UpdateOrganization", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			name := "Renamed"
			return func() error {
				_, err := svc.UpdateOrganization(ctx, o, "creator", orgauthz.OrganizationUpdate{Name: &name})
				return err
			}
		}},
		{"ChangeEdition", true, func(t *testing.T, f *fixture) func() error {
			o, _, _ := wb(t)
			return func() error { return svc.ChangeEdition(ctx, o, "creator", "professional") }
		}},
		{"SetSeatOverride", true, func(t *testing.T, f *fixture) func() error {
			o, _, _ := wbIn(t, "professional")
			return func() error { return svc.SetSeatOverride(ctx, o, "creator", 50) }
		}},
		{"ArchiveOrganization", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { return svc.ArchiveOrganization(ctx, o, "creator") }
		}},
		{"DeleteOrganization", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			invited(t, o, "del@example.com")
			return func() error { return svc.DeleteOrganization(ctx, o, "creator") }
		}},
		{"AddMember", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.AddMember(ctx, o, "creator", user("newbie"), "editor"); return err }
		}},
		{"ChangeRole (up)", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.ChangeRole(ctx, o, "creator", "val", "editor"); return err }
		}},
		{"ChangeRole (down, with cascades)", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.ChangeRole(ctx, o, "creator", "ed", "viewer"); return err }
		}},
		{"RemoveMember", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { return svc.RemoveMember(ctx, o, "creator", "vic") }
		}},
		{"Leave", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { return svc.Leave(ctx, o, "ed") }
		}},
		{"TransferOwnership", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { return svc.TransferOwnership(ctx, o, "creator", "ed", "editor") }
		}},
		{"Invite", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, _, err := svc.Invite(ctx, o, "creator", "gil@example.com", "editor"); return err }
		}},
		{"BulkInvite (5)", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			emails := []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"}
			return func() error { _, err := svc.BulkInvite(ctx, o, "creator", emails, ""); return err }
		}},
		{"ResendInvitation", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			id, _ := invited(t, o, "res@example.com")
			return func() error { _, _, err := svc.ResendInvitation(ctx, o, "creator", id); return err }
		}},
		{"RevokeInvitation", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			id, _ := invited(t, o, "rev@example.com")
			return func() error { return svc.RevokeInvitation(ctx, o, "creator", id) }
		}},
		{"AcceptInvitation", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			_, tok := invited(t, o, "acc@example.com")
			return func() error {
				_, _, err := svc.AcceptInvitation(ctx, tok, user("acc-"+o), "acc@example.com")
				return err
			}
		}},
		{"DeclineInvitation", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			_, tok := invited(t, o, "dec@example.com")
			return func() error { return svc.DeclineInvitation(ctx, tok, org.Principal{}) }
		}},
		{"AcceptInvitationByID", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			id, _ := invited(t, o, "byid@example.com")
			return func() error {
				_, _, err := svc.AcceptInvitationByID(ctx, id, user("byid-"+o), "byid@example.com")
				return err
			}
		}},
		{"DeclineInvitationByID", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			id, _ := invited(t, o, "dbyid@example.com")
			return func() error { return svc.DeclineInvitationByID(ctx, id, user("dbyid-"+o), "dbyid@example.com") }
		}},
		{"CreateScope", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.CreateScope(ctx, o, "ed", edition.ScopeProject, "Q"); return err }
		}},
		{"DeleteScope", true, func(t *testing.T, f *fixture) func() error {
			o, p := aie(t)
			return func() error { return svc.DeleteScope(ctx, o, "creator", edition.ScopeProject, p) }
		}},
		{"AddScopeMember", true, func(t *testing.T, f *fixture) func() error {
			o, p := aie(t)
			return func() error {
				_, err := svc.AddScopeMember(ctx, o, "creator", edition.ScopeProject, p, user("val"), "viewer")
				return err
			}
		}},
		{"ChangeScopeRole", true, func(t *testing.T, f *fixture) func() error {
			o, p := aie(t)
			return func() error {
				_, err := svc.ChangeScopeRole(ctx, o, "creator", edition.ScopeProject, p, "vic", "editor")
				return err
			}
		}},
		{"RemoveScopeMember", true, func(t *testing.T, f *fixture) func() error {
			o, p := aie(t)
			return func() error { return svc.RemoveScopeMember(ctx, o, "creator", edition.ScopeProject, p, "vic") }
		}},
		{"DefineScopeRole", true, func(t *testing.T, f *fixture) func() error {
			o, s := ui(t)
			return func() error {
				_, err := svc.DefineScopeRole(ctx, o, "creator", edition.ScopeService, s,
					orgauthz.ScopeRoleDef{ID: "jobs", Capabilities: []role.Capability{"service/jobs:manage"}})
				return err
			}
		}},
		{"CreateServicePrincipal", true, func(t *testing.T, f *fixture) func() error {
			o, _, _ := wb(t)
			return func() error { _, err := svc.CreateServicePrincipal(ctx, o, "creator", "etl", "user"); return err }
		}},
		{"RenameServicePrincipal", true, func(t *testing.T, f *fixture) func() error {
			o, sp, _ := wb(t)
			return func() error { _, err := svc.RenameServicePrincipal(ctx, o, "creator", sp, "ci2"); return err }
		}},
		{"DeleteServicePrincipal", true, func(t *testing.T, f *fixture) func() error {
			o, sp, _ := wb(t)
			return func() error { return svc.DeleteServicePrincipal(ctx, o, "creator", sp) }
		}},
		{"CreateAPIKey", true, func(t *testing.T, f *fixture) func() error {
			o, _, _ := wb(t)
			return func() error { _, _, err := svc.CreateAPIKey(ctx, o, "bob", orgauthz.NewKey{Name: "n"}); return err }
		}},
		{"RevokeAPIKey", true, func(t *testing.T, f *fixture) func() error {
			o, _, k := wb(t)
			return func() error { return svc.RevokeAPIKey(ctx, o, "creator", k) }
		}},

		// Changes on the host's authority.
		{"Host.Provision", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.Host().Provision(ctx, o, user("prov"), "editor"); return err }
		}},
		{"Host.ProvisionAll (500)", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			ps := make([]orgauthz.Provisioning, 500)
			for i := range ps {
				ps[i] = orgauthz.Provisioning{Principal: user(fmt.Sprintf("%s-imp%03d", o, i)), Role: "viewer"}
			}
			return func() error { _, err := svc.Host().ProvisionAll(ctx, o, ps); return err }
		}},
		{"Host.ChangeRole", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.Host().ChangeRole(ctx, o, "ed", "viewer"); return err }
		}},
		{"Host.RemoveMember", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { return svc.Host().RemoveMember(ctx, o, "ed") }
		}},
		{"Host.TransferOwnership", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { return svc.Host().TransferOwnership(ctx, o, "creator", "ed", "editor") }
		}},
		{"Host.ChangeEdition", true, func(t *testing.T, f *fixture) func() error {
			o, _, _ := wb(t)
			return func() error { return svc.Host().ChangeEdition(ctx, o, "professional") }
		}},
		{"Host.SetSeatOverride", true, func(t *testing.T, f *fixture) func() error {
			o, _, _ := wbIn(t, "professional")
			return func() error { return svc.Host().SetSeatOverride(ctx, o, 40) }
		}},
		{"Host.RevokeInvitation", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			id, _ := invited(t, o, "hrev@example.com")
			return func() error { return svc.Host().RevokeInvitation(ctx, o, id) }
		}},
		{"Host.ArchiveOrganization", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { return svc.Host().ArchiveOrganization(ctx, o) }
		}},
		{"Host.DeleteOrganization", true, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { return svc.Host().DeleteOrganization(ctx, o) }
		}},

		// Reads.
		{"Organization", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.Organization(ctx, o, "ed"); return err }
		}},
		{"Member", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.Member(ctx, o, "creator", "ed"); return err }
		}},
		{"Members", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.Members(ctx, o, "creator", page); return err }
		}},
		{"Invitations", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			invited(t, o, "l@example.com")
			return func() error { _, err := svc.Invitations(ctx, o, "creator", page, true); return err }
		}},
		{"APIKeys", false, func(t *testing.T, f *fixture) func() error {
			o, _, _ := wb(t)
			return func() error { _, err := svc.APIKeys(ctx, o, "bob", "", page); return err }
		}},
		{"AllAPIKeys", false, func(t *testing.T, f *fixture) func() error {
			o, _, _ := wb(t)
			return func() error { _, err := svc.AllAPIKeys(ctx, o, "creator", page); return err }
		}},
		{"ServicePrincipals", false, func(t *testing.T, f *fixture) func() error {
			o, _, _ := wb(t)
			return func() error { _, err := svc.ServicePrincipals(ctx, o, "creator", page); return err }
		}},
		{"Scopes", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.Scopes(ctx, o, "vic", edition.ScopeProject, page); return err }
		}},
		{"Scope", false, func(t *testing.T, f *fixture) func() error {
			o, p := aie(t)
			return func() error { _, err := svc.Scope(ctx, o, "vic", edition.ScopeProject, p); return err }
		}},
		{"ScopeMembers", false, func(t *testing.T, f *fixture) func() error {
			o, p := aie(t)
			return func() error { _, err := svc.ScopeMembers(ctx, o, "vic", edition.ScopeProject, p, page); return err }
		}},
		{"ScopeMemberships", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error {
				_, err := svc.ScopeMemberships(ctx, o, "vic", "", edition.ScopeProject, page)
				return err
			}
		}},
		{"Seats", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.Seats(ctx, o, "creator"); return err }
		}},
		{"Audit", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.Audit(ctx, o, "creator", orgauthz.AuditQuery{Limit: 20}); return err }
		}},
		{"Check", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { return svc.Check(ctx, o, "ed", "projects:create").Err() }
		}},
		{"CheckScope", false, func(t *testing.T, f *fixture) func() error {
			o, p := aie(t)
			return func() error { return svc.CheckScope(ctx, o, "ed", edition.ScopeProject, p, "project:view").Err() }
		}},
		{"Capabilities", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.Capabilities(ctx, o, "ed"); return err }
		}},
		{"Memberships", false, func(t *testing.T, f *fixture) func() error {
			aie(t)
			return func() error { _, err := svc.Memberships(ctx, "ed", page); return err }
		}},
		{"InvitationsFor", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			invited(t, o, "for@example.com")
			return func() error { _, err := svc.InvitationsFor(ctx, "for@example.com", page); return err }
		}},
		{"PreviewInvitation", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			_, tok := invited(t, o, "pre@example.com")
			return func() error { _, err := svc.PreviewInvitation(ctx, tok); return err }
		}},
		{"Host.Members", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.Host().Members(ctx, o, page); return err }
		}},
		{"Host.Seats", false, func(t *testing.T, f *fixture) func() error {
			o, _ := aie(t)
			return func() error { _, err := svc.Host().Seats(ctx, o); return err }
		}},
	}

	type result struct {
		name  string
		trips []string
	}
	var results []result
	for _, c := range cases {
		for round := range 2 {
			call := c.setup(t, f)
			var err error
			got := q.during(func() { err = call() })
			require.NoError(t, err, "%s (round %d)", c.name, round)
			if round == 1 {
				results = append(results, result{c.name, got})
			}
		}
	}
	for i, r := range results {
		bound := maxReadTrips
		if cases[i].change {
			bound = maxChangeTrips
		}
		t.Logf("%-34s %2d round trips:\n\t%s", r.name, len(r.trips), strings.Join(r.trips, "\n\t"))
		if len(r.trips) > bound {
			t.Errorf("%s: %d round trips, want at most %d:\n\t%s", r.name, len(r.trips), bound, strings.Join(r.trips, "\n\t"))
		}
	}
}
