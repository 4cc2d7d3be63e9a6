package orgauthz_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// splitWherobots is a new Wherobots scheme, as a host might change it: the
// user role split in two, developer (what user held, the paid edition
// only) and analyst (the rest), community's seats down from 5 to 3,
// raster_inference:use renamed inference:use, and service principals only
// in enterprise.
func splitWherobots(t testing.TB) *edition.Scheme {
	t.Helper()
	sp := edition.Wherobots().Spec()
	sp.Roles = []role.Role{sp.Roles[0], {ID: "developer", Name: "Developer", Rank: 1}, {ID: "analyst", Name: "Analyst", Rank: 1}}
	rename := func(cs []role.Capability) []role.Capability {
		out := slices.Clone(cs)
		for i, c := range out {
			if c == "raster_inference:use" {
				out[i] = "inference:use"
			}
		}
		return out
	}
	for i, d := range sp.Capabilities {
		if d.ID == "raster_inference:use" {
			sp.Capabilities[i].ID = "inference:use"
		}
	}
	user := sp.Matrix["user"]
	sp.Matrix = map[string][]role.Capability{
		"admin":     rename(sp.Matrix["admin"]),
		"developer": rename(user),
		"analyst":   {"cloud:use", "notebook:start", "integrations/s3:use", "support:contact"},
	}
	gates := map[role.Capability][]string{}
	for c, eds := range sp.CapabilityEditions {
		gates[rename([]role.Capability{c})[0]] = eds
	}
	gates["service_principals:create"] = []string{"enterprise"}
	gates["service_principals/api_keys:add"] = []string{"enterprise"}
	sp.CapabilityEditions = gates
	sp.RoleEditions = map[string][]string{"developer": {"professional", "enterprise"}}
	sp.Editions[0].Seats = edition.Seats(3)
	sp.InviteRole = "analyst"
	s, err := edition.NewScheme(sp)
	require.NoError(t, err)
	return s
}

// planStores runs test over a memstore and a PostgreSQL database of the
// test's own (a plan examines the whole store).
func planStores(t *testing.T, test func(t *testing.T, f *fixture)) {
	t.Run("memstore", func(t *testing.T) {
		t.Parallel()
		test(t, newFixture(t))
	})
	t.Run("pgstore", func(t *testing.T) {
		t.Parallel()
		test(t, newFixtureOn(t, openPG(t, pgstore.Options{}), ""))
	})
}

// kinds returns the kinds of the plan's breaks of organization orgID, with
// their subjects, as "kind subject".
func breaksOf(p orgauthz.SchemePlan, orgID string) []string {
	var out []string
	for _, b := range p.Breaks {
		if b.OrgID == orgID {
			out = append(out, strings.TrimSpace(string(b.Kind)+" "+b.Subject))
		}
	}
	slices.Sort(out)
	return out
}

// The plan finds every kind of break a change of scheme can make, in the
// organizations it makes them, and none where there is none.
func TestPlanSchemes(t *testing.T) {
	t.Parallel()
	planStores(t, func(t *testing.T, f *fixture) {
		newW := splitWherobots(t)
		// An organization the new scheme breaks in many ways.
		com := f.newOrg(t, "wherobots", "community", "u1", "user", "u2", "user", "u3", "user") // 4 seats of 5
		inv, _, err := f.svc.Invite(ctx, com, "creator", "dana@example.com", "")
		require.NoError(t, err)
		// A professional one with a service principal and a key scoped to
		// a renamed capability.
		pro := f.newOrg(t, "wherobots", "professional")
		sp, err := f.svc.CreateServicePrincipal(ctx, pro, "creator", "ci", "user")
		require.NoError(t, err)
		key, _, err := f.svc.CreateAPIKey(ctx, pro, "creator", orgauthz.NewKey{Name: "k", Owner: sp.PrincipalID, Scope: []role.Capability{"raster_inference:use", "cloud:use"}})
		require.NoError(t, err)
		// One with no admin left (written straight into the store, as an
		// old bug or an import might have left it).
		noAdmin := f.newOrg(t, "wherobots", "enterprise", "x", "admin")
		require.NoError(t, f.st.Update(ctx, noAdmin, func(ctx context.Context, tx store.Tx) error {
			for _, id := range []string{"creator", "x"} {
				m, err := tx.Member(ctx, id)
				if err != nil {
					return err
				}
				m.Role = "user"
				if err := tx.UpdateMember(ctx, m); err != nil {
					return err
				}
			}
			return nil
		}))
		// One the new scheme keeps whole: admins only, enterprise.
		fine := f.newOrg(t, "wherobots", "enterprise", "y", "admin")
		// A project role and kind of AIEngine.
		ai := f.newOrg(t, "aiengine", "standard", "e1", "editor")
		p1, err := f.svc.CreateScope(ctx, ai, "creator", "project", "P1")
		require.NoError(t, err)
		_, err = f.svc.AddScopeMember(ctx, ai, "creator", "project", p1.ID, user("e1"), "editor")
		require.NoError(t, err)

		// Against the schemes it was made with: nothing.
		p, err := orgauthz.PlanSchemes(ctx, f.st, f.svc.Schemes())
		require.NoError(t, err)
		assert.Equal(t, 5, p.Organizations, "organizations examined")
		assert.Equal(t, []string{"invariant admin"}, breaksOf(p, noAdmin), "the organization with no admin, under its own scheme")
		for _, id := range []string{com, pro, fine, ai} {
			assert.Empty(t, breaksOf(p, id), "organization %s under its own scheme", id)
		}

		// Against the new Wherobots and an AIEngine whose projects lost
		// the editor role.
		aiSpec := edition.AIEngine().Spec()
		for i, sc := range aiSpec.Scopes {
			if sc.Kind == "project" {
				var roles []role.Role
				for _, r := range sc.Roles {
					if r.ID != "editor" {
						roles = append(roles, r)
					}
				}
				aiSpec.Scopes[i].Roles = roles
				delete(aiSpec.Scopes[i].Matrix, "editor")
				var el []edition.Eligibility
				for _, e := range sc.Eligibility {
					if e.ScopeRole != "editor" {
						el = append(el, e)
					}
				}
				aiSpec.Scopes[i].Eligibility = el
			}
		}
		newAI, err := edition.NewScheme(aiSpec)
		require.NoError(t, err, "AIEngine without the project editor role")
		p, err = orgauthz.PlanSchemes(ctx, f.st, []*edition.Scheme{newW, newAI, edition.UiPath(), edition.SoterAI()})
		require.NoError(t, err)
		assert.Equal(t, []string{"invitation " + inv.ID, "role u1", "role u2", "role u3", "seats"}, breaksOf(p, com))
		assert.Equal(t, []string{"key_scope " + key.ID, "role " + sp.PrincipalID, "service_principals"}, breaksOf(p, pro))
		assert.Equal(t, []string{"invariant admin", "role creator", "role x"}, breaksOf(p, noAdmin))
		assert.Empty(t, breaksOf(p, fine))
		assert.Equal(t, []string{"scope_role project/" + p1.ID}, breaksOf(p, ai))

		// Without AIEngine at all, and with the project kind gone.
		p, err = orgauthz.PlanSchemes(ctx, f.st, []*edition.Scheme{newW})
		require.NoError(t, err)
		assert.Equal(t, []string{"scheme aiengine"}, breaksOf(p, ai))
		noProjects := edition.AIEngine().Spec()
		noProjects.Scopes = nil
		s, err := edition.NewScheme(noProjects)
		require.NoError(t, err, "AIEngine without projects")
		p, err = orgauthz.PlanSchemes(ctx, f.st, []*edition.Scheme{newW, s})
		require.NoError(t, err)
		assert.Contains(t, breaksOf(p, ai), "scope_kind project/"+p1.ID)

		// A service started with the new schemes says so.
		svc, err := orgauthz.New(f.st, orgauthz.Options{Schemes: []*edition.Scheme{newW, newAI, edition.UiPath(), edition.SoterAI()}})
		require.NoError(t, err)
		p, err = svc.VerifySchemes(ctx)
		assert.ErrorIs(t, err, orgauthz.ErrSchemeMismatch)
		assert.Len(t, p.Broken(), 4)
		var sb strings.Builder
		require.NoError(t, p.WriteText(&sb))
		assert.Contains(t, sb.String(), "5 organization(s) examined, 4 broken")
		_, err = f.svc.VerifySchemes(ctx)
		assert.ErrorIs(t, err, orgauthz.ErrSchemeMismatch, "the old schemes: the organization with no admin")
	})
}

// The mapping of the split: developers where the edition offers them (the
// members who create job runs), analysts elsewhere; the rename of the
// capability; community organizations over the new limit are refused and
// left as they were.
func splitMapping() orgauthz.SchemeMapping {
	return orgauthz.SchemeMapping{
		Roles: map[string]string{"user": "analyst"},
		RoleOf: func(o org.Organization, m org.Member) string {
			if m.Role == "user" && o.Edition != "community" && strings.HasPrefix(m.PrincipalID, "dev") {
				return "developer"
			}
			return ""
		},
		Capabilities: map[role.Capability]role.Capability{"raster_inference:use": "inference:use"},
	}
}

// A migration mends what the mapping can, one organization per
// transaction, audits each change, refuses what it cannot mend, and
// changes nothing when run again.
func TestMigrateSchemes(t *testing.T) {
	t.Parallel()
	planStores(t, func(t *testing.T, f *fixture) {
		newW := splitWherobots(t)
		schemes := []*edition.Scheme{newW, edition.AIEngine(), edition.UiPath(), edition.SoterAI()}
		pro := f.newOrg(t, "wherobots", "professional", "dev1", "user", "ana1", "user")
		_, _, err := f.svc.Invite(ctx, pro, "creator", "dana@example.com", "user")
		require.NoError(t, err)
		key, _, err := f.svc.CreateAPIKey(ctx, pro, "dev1", orgauthz.NewKey{Name: "k", Scope: []role.Capability{"raster_inference:use"}})
		require.NoError(t, err)
		small := f.newOrg(t, "wherobots", "community", "dev2", "user")                      // 2 seats: fits 3
		big := f.newOrg(t, "wherobots", "community", "a", "user", "b", "user", "c", "user") // 4 seats: over 3

		res, err := orgauthz.MigrateSchemes(ctx, f.st, schemes, splitMapping(), orgauthz.MigrationOptions{Actor: "ops"})
		require.NoError(t, err)
		assert.Equal(t, 3, res.Examined)
		assert.Equal(t, 2, res.Changed)
		require.NotEmpty(t, res.Refused)
		for _, b := range res.Refused {
			assert.Equal(t, big, b.OrgID)
		}
		assert.Equal(t, "developer", f.role(t, pro, "dev1"))
		assert.Equal(t, "analyst", f.role(t, pro, "ana1"))
		assert.Equal(t, "analyst", f.role(t, small, "dev2"), "community offers no developers")
		assert.Equal(t, "user", f.role(t, big, "a"), "a refused organization is left as it was")
		var k apikey.Key
		require.NoError(t, f.st.View(ctx, pro, func(ctx context.Context, r store.Reader) error {
			var err error
			k, err = r.APIKey(ctx, key.ID)
			return err
		}))
		assert.Equal(t, []role.Capability{"inference:use"}, k.Scope)
		invs, err := f.svc.Host().Invitations(ctx, pro, orgauthz.Page{}, true)
		require.NoError(t, err)
		for _, inv := range invs.Invitations {
			assert.Equal(t, "analyst", inv.Role)
		}
		events, err := f.svc.Host().Audit(ctx, pro, orgauthz.AuditQuery{})
		require.NoError(t, err)
		var migrated []string
		for _, e := range events {
			if e.Action == orgauthz.AuditSchemeMigration {
				assert.Equal(t, "ops", e.Actor)
				migrated = append(migrated, e.Detail)
			}
		}
		assert.Len(t, migrated, 4, "two members, an invitation and a key: %v", migrated)

		// The plan now lists only the refused organization; a second run
		// changes nothing.
		p, err := orgauthz.PlanSchemes(ctx, f.st, schemes)
		require.NoError(t, err)
		assert.Equal(t, []string{big}, p.Broken())
		res, err = orgauthz.MigrateSchemes(ctx, f.st, schemes, splitMapping(), orgauthz.MigrationOptions{})
		require.NoError(t, err)
		assert.Equal(t, 0, res.Changed)
		// Once the host frees a seat, the migration mends it too.
		require.NoError(t, f.svc.Host().RemoveMember(ctx, big, "c"))
		res, err = orgauthz.MigrateSchemes(ctx, f.st, schemes, splitMapping(), orgauthz.MigrationOptions{After: small})
		require.NoError(t, err)
		assert.Equal(t, 1, res.Changed)
		assert.Empty(t, res.Refused)
		p, err = orgauthz.PlanSchemes(ctx, f.st, schemes)
		require.NoError(t, err)
		assert.Empty(t, p.Breaks)
		svc, err := orgauthz.New(f.st, orgauthz.Options{Schemes: schemes})
		require.NoError(t, err)
		_, err = svc.VerifySchemes(ctx)
		assert.NoError(t, err)
		d := svc.Check(ctx, pro, "dev1", "inference:use")
		assert.True(t, d.Allowed, "%v", d)
		assert.Equal(t, policy.ReasonRoleLacks, svc.Check(ctx, pro, "ana1", "job_runs:create").Reason)
	})
}

// The migration from the old Wherobots scheme to the split one, over 1,000
// organizations on PostgreSQL, interrupted by a hard stop of the server in
// the middle and run again: every organization ends mended, once, with its
// members all there and every invariant of the new scheme holding.
func TestMigrateSchemesAcrossACrash(t *testing.T) {
	t.Parallel()
	const orgs = 1000
	c := pgtest.StartPrivate(t, pgtest.Options{Durable: true})
	conn, err := c.CreateDatabase(ctx, "migration", "")
	require.NoError(t, err)
	pool, err := pgxpool.New(ctx, conn)
	require.NoError(t, err)
	require.NoError(t, pgstore.Migrate(ctx, pool))
	pool.Close()
	st := openPGOn(t, conn, pgstore.Options{})
	f := newFixtureOn(t, st, "m-")
	ids := make([]string, orgs)
	for i := range orgs {
		o, err := f.svc.CreateOrganization(ctx, user("creator"), orgauthz.NewOrganization{Name: fmt.Sprint("Org ", i), Scheme: "wherobots", Edition: "professional"})
		require.NoError(t, err)
		ids[i] = o.ID
		_, err = f.svc.Host().ProvisionAll(ctx, o.ID, []orgauthz.Provisioning{
			{Principal: user(fmt.Sprint("dev-", i)), Role: "user"},
			{Principal: user(fmt.Sprint("ana-", i)), Role: "user"},
		})
		require.NoError(t, err)
	}
	slices.Sort(ids)
	schemes := []*edition.Scheme{splitWherobots(t)}

	// Stop the server hard once 400 organizations are done.
	done := 0
	_, err = orgauthz.MigrateSchemes(ctx, st, schemes, splitMapping(), orgauthz.MigrationOptions{
		Progress: func(string, bool) {
			if done++; done == 400 {
				require.NoError(t, c.Stop("immediate"))
			}
		},
	})
	require.Error(t, err, "the migration went on with the server stopped")
	require.NoError(t, c.Restart())

	// Run again, on the same Store, once the server answers.
	var res orgauthz.MigrationResult
	require.Eventually(t, func() bool {
		res, err = orgauthz.MigrateSchemes(ctx, st, schemes, splitMapping(), orgauthz.MigrationOptions{})
		return err == nil
	}, time.Minute, 100*time.Millisecond, "the migration after the restart: %v", err)
	assert.Equal(t, orgs, res.Examined)
	assert.Empty(t, res.Refused)
	assert.InDelta(t, orgs-400, res.Changed, 1, "the organizations the first run had done are left as they are")

	p, err := orgauthz.PlanSchemes(ctx, st, schemes)
	require.NoError(t, err)
	assert.Empty(t, p.Breaks)
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: schemes})
	require.NoError(t, err)
	_, err = svc.VerifySchemes(ctx)
	require.NoError(t, err)
	for i, id := range ids {
		ms, err := svc.Host().Members(ctx, id, orgauthz.Page{})
		require.NoError(t, err)
		roles := map[string]string{}
		for _, m := range ms.Members {
			roles[m.PrincipalID] = m.Role
		}
		require.Len(t, roles, 3, "organization %s", id)
		require.Equal(t, "admin", roles["creator"])
		events, err := svc.Host().Audit(ctx, id, orgauthz.AuditQuery{})
		require.NoError(t, err)
		n := 0
		for _, e := range events {
			if e.Action == orgauthz.AuditSchemeMigration {
				n++
			}
		}
		require.Equal(t, 2, n, "organization %s: one audit event per member changed, once (%d)", id, i)
	}
}

// A mapping may move organizations between editions the new scheme has:
// a community organization over the new seat limit goes to professional,
// within the same checks, and the move is audited.
func TestMigrateSchemesMovesEditions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	big := f.newOrg(t, "wherobots", "community", "a", "user", "b", "user", "c", "user")
	mp := splitMapping()
	mp.EditionOf = func(o org.Organization) string {
		if o.Edition == "community" {
			return "professional"
		}
		return ""
	}
	schemes := []*edition.Scheme{splitWherobots(t)}
	res, err := orgauthz.MigrateSchemes(ctx, f.st, schemes, mp, orgauthz.MigrationOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Changed)
	assert.Empty(t, res.Refused)
	o, err := f.svc.Host().Organization(ctx, big)
	require.NoError(t, err)
	assert.Equal(t, "professional", o.Edition)
	events, err := f.svc.Host().Audit(ctx, big, orgauthz.AuditQuery{})
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(events, func(e org.AuditEvent) bool {
		return e.Action == orgauthz.AuditSchemeMigration && e.Detail == "edition community -> professional"
	}))
	// Moved to an edition the scheme lacks: refused, left as it was.
	f2 := newFixture(t)
	other := f2.newOrg(t, "wherobots", "community", "a", "user")
	mp.EditionOf = func(org.Organization) string { return "platinum" }
	mp.Roles = map[string]string{"user": "no-such-role"}
	res, err = orgauthz.MigrateSchemes(ctx, f2.st, schemes, mp, orgauthz.MigrationOptions{})
	require.NoError(t, err)
	assert.Equal(t, 0, res.Changed)
	require.NotEmpty(t, res.Refused)
	assert.Equal(t, "user", f2.role(t, other, "a"))
}

// The breaks TestPlanSchemes does not make: an edition gone, a role its
// edition no longer offers, a custom role naming a capability its kind no
// longer has.
func TestPlanSchemesMoreBreaks(t *testing.T) {
	t.Parallel()
	planStores(t, func(t *testing.T, f *fixture) {
		ent := f.newOrg(t, "wherobots", "enterprise", "y", "admin")
		com := f.newOrg(t, "wherobots", "community", "u1", "user")
		require.NoError(t, f.st.Update(ctx, com, func(ctx context.Context, tx store.Tx) error {
			m, err := tx.Member(ctx, "u1")
			if err != nil {
				return err
			}
			m.Role = "developer" // as a migration that ignored the edition might
			return tx.UpdateMember(ctx, m)
		}))
		up := f.newOrg(t, "uipath", "standard")
		svcScope, err := f.svc.CreateScope(ctx, up, "creator", "service", "Orchestrator")
		require.NoError(t, err)
		require.NoError(t, f.st.Update(ctx, up, func(ctx context.Context, tx store.Tx) error {
			return tx.PutScopeRole(ctx, org.ScopeRole{Kind: "service", ScopeID: svcScope.ID, ID: "legacy", Name: "Legacy",
				Capabilities: []role.Capability{"service:retired-capability"}, CreatedBy: "creator", CreatedAt: f.clock.Now()})
		}))

		noEnt := edition.Wherobots().Spec()
		noEnt.Editions = noEnt.Editions[:2]
		for c, eds := range noEnt.CapabilityEditions {
			noEnt.CapabilityEditions[c] = slices.DeleteFunc(slices.Clone(eds), func(e string) bool { return e == "enterprise" })
		}
		w, err := edition.NewScheme(noEnt)
		require.NoError(t, err, "Wherobots without enterprise")
		p, err := orgauthz.PlanSchemes(ctx, f.st, []*edition.Scheme{w, edition.UiPath()})
		require.NoError(t, err)
		assert.Equal(t, []string{"edition enterprise"}, breaksOf(p, ent))
		assert.Equal(t, []string{"custom_role service/" + svcScope.ID + "/legacy"}, breaksOf(p, up))
		p, err = orgauthz.PlanSchemes(ctx, f.st, []*edition.Scheme{splitWherobots(t), edition.UiPath()})
		require.NoError(t, err)
		assert.Equal(t, []string{"role_not_offered u1"}, breaksOf(p, com))

		// A maximum: at most one admin, and the enterprise organization
		// has two.
		oneAdmin := edition.Wherobots().Spec()
		oneAdmin.Invariants = []edition.Invariant{{Role: "admin", Min: 1, Max: 1}}
		w, err = edition.NewScheme(oneAdmin)
		require.NoError(t, err, "Wherobots with at most one admin")
		p, err = orgauthz.PlanSchemes(ctx, f.st, []*edition.Scheme{w, edition.UiPath()})
		require.NoError(t, err)
		assert.Equal(t, []string{"invariant admin"}, breaksOf(p, ent))
		assert.Contains(t, p.Breaks[slices.IndexFunc(p.Breaks, func(b orgauthz.SchemeBreak) bool { return b.OrgID == ent })].Detail, "at most 1")
	})
}
