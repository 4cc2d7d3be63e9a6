package orgauthz_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The regression tests of issue 11: sequences over an organization's life
// that once left authority behind. Each runs on memstore and PostgreSQL.

// auditActions returns the actions of the organization's audit trail after
// sequence number after, each with its target and detail.
func auditTail(t *testing.T, f *fixture, actor, orgID string, after int64) []org.AuditEvent {
	t.Helper()
	events, err := f.svc.Audit(ctx, orgID, actor, orgauthz.AuditQuery{AfterSeq: after})
	require.NoError(t, err)
	return events
}

func lastSeq(t *testing.T, f *fixture, actor, orgID string) int64 {
	t.Helper()
	events := auditTail(t, f, actor, orgID, 0)
	require.NotEmpty(t, events)
	return events[len(events)-1].Seq
}

func actions(events []org.AuditEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Action
	}
	return out
}

// 1. An AI Engine owner removes an editor who is a project's only owner:
// one call, and the owner takes the project over.
func TestRegressionOffboardTheLastProjectOwner(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		for _, demoteFirst := range []bool{false, true} {
			f := env.newFixture(t)
			id := f.newOrg(t, "aiengine", "", "ed", "editor", "vic", "viewer")
			p, err := f.svc.CreateScope(ctx, id, "ed", "project", "Churn")
			require.NoError(t, err)
			_, err = f.svc.AddScopeMember(ctx, id, "ed", "project", p.ID, user("vic"), "editor")
			require.NoError(t, err)
			// Leaving is still refused: one hands the project on first.
			err = f.svc.Leave(ctx, id, "ed")
			require.ErrorIs(t, err, orgauthz.ErrMinHolders)
			if demoteFirst {
				_, err = f.svc.ChangeRole(ctx, id, "creator", "ed", "viewer")
				require.NoError(t, err)
				assert.True(t, f.svc.CheckScope(ctx, id, "ed", "project", p.ID, "project:delete").Allowed, "viewers may own projects")
			}
			seq := lastSeq(t, f, "creator", id)
			require.NoError(t, f.svc.RemoveMember(ctx, id, "creator", "ed"))

			assert.False(t, f.svc.Check(ctx, id, "ed", "projects:be_member").Allowed)
			assert.False(t, f.svc.CheckScope(ctx, id, "ed", "project", p.ID, "project:view").Allowed)
			for _, c := range []role.Capability{"project/members:manage", "project:delete", "project:view"} {
				assert.True(t, f.svc.CheckScope(ctx, id, "creator", "project", p.ID, c).Allowed, "the remover took the project over: %s", c)
			}
			assert.True(t, f.svc.CheckScope(ctx, id, "vic", "project", p.ID, "project/assets:manage").Allowed, "other project members stay")
			events := auditTail(t, f, "creator", id, seq)
			assert.Equal(t, []string{orgauthz.AuditScopeMemberAdd, orgauthz.AuditScopeMemberRemove, orgauthz.AuditMemberRemove}, actions(events))
			assert.Equal(t, "project/"+p.ID, events[0].Target)
			assert.Equal(t, "owner", events[0].RoleAfter)
			assert.Contains(t, events[0].Detail, "took over from ed")
			assert.Equal(t, "owner", events[1].RoleBefore)
			// The new owner manages the project: it can delete it.
			require.NoError(t, f.svc.DeleteScope(ctx, id, "creator", "project", p.ID))
		}
	})
}

// 1. An external user added by an editor is removed by the organization's
// owner in one call, with every step audited.
func TestRegressionOwnerRemovesAnExternalUser(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "aiengine", "", "ed", "editor", "vic", "viewer")
		p1, err := f.svc.CreateScope(ctx, id, "ed", "project", "One")
		require.NoError(t, err)
		p2, err := f.svc.CreateScope(ctx, id, "ed", "project", "Two")
		require.NoError(t, err)
		seq := lastSeq(t, f, "creator", id)
		_, err = f.svc.AddScopeMember(ctx, id, "ed", "project", p1.ID, user("xena"), "editor")
		require.NoError(t, err)
		_, err = f.svc.AddScopeMember(ctx, id, "ed", "project", p2.ID, user("xena"), "viewer")
		require.NoError(t, err)
		joined := auditTail(t, f, "creator", id, seq)
		assert.Equal(t, []string{orgauthz.AuditMemberAdd, orgauthz.AuditScopeMemberAdd, orgauthz.AuditScopeMemberAdd}, actions(joined), "an external joins the organization through a project, audited")
		assert.Equal(t, "xena", joined[0].Target)
		assert.Equal(t, "external", joined[0].RoleAfter)

		// Rank, scope roles or external standing: none stops the owner.
		err = f.svc.RemoveMember(ctx, id, "vic", "xena")
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "a viewer manages no members")
		seq = lastSeq(t, f, "creator", id)
		require.NoError(t, f.svc.RemoveMember(ctx, id, "creator", "xena"))
		_, err = f.svc.Member(ctx, id, "creator", "xena")
		require.ErrorIs(t, err, orgauthz.ErrNotMember)
		assert.False(t, f.svc.CheckScope(ctx, id, "xena", "project", p1.ID, "project:view").Allowed)
		events := auditTail(t, f, "creator", id, seq)
		assert.Equal(t, []string{orgauthz.AuditScopeMemberRemove, orgauthz.AuditScopeMemberRemove, orgauthz.AuditMemberRemove}, actions(events), "each scope membership is audited on its own")
		assert.Equal(t, "external", events[2].RoleBefore)

		// An external who leaves its last project leaves the organization,
		// audited as such.
		_, err = f.svc.AddScopeMember(ctx, id, "ed", "project", p1.ID, user("yuri"), "viewer")
		require.NoError(t, err)
		seq = lastSeq(t, f, "creator", id)
		require.NoError(t, f.svc.RemoveScopeMember(ctx, id, "ed", "project", p1.ID, "yuri"))
		events = auditTail(t, f, "creator", id, seq)
		assert.Equal(t, []string{orgauthz.AuditScopeMemberRemove, orgauthz.AuditMemberRemove}, actions(events))
		assert.Equal(t, "yuri", events[1].Target)
	})
}

// 2. An invitation holds only while its sender could still send it.
func TestRegressionInvitationsDieWithTheirInvitersAuthority(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		cases := []struct {
			scheme, ed, inviter, inviterRole, invRole string
			change                                    func(f *fixture, orgID string) error
		}{
			{"wherobots", "professional", "al", "admin", "admin", func(f *fixture, id string) error {
				_, err := f.svc.ChangeRole(ctx, id, "creator", "al", "user")
				return err
			}},
			{"wherobots", "professional", "al", "admin", "admin", func(f *fixture, id string) error {
				return f.svc.RemoveMember(ctx, id, "creator", "al")
			}},
			{"wherobots", "professional", "al", "admin", "user", func(f *fixture, id string) error {
				return f.svc.Leave(ctx, id, "al")
			}},
			{"soterai", "enterprise", "olga", "owner", "owner", func(f *fixture, id string) error {
				_, err := f.svc.ChangeRole(ctx, id, "creator", "olga", "manager")
				return err
			}},
			{"soterai", "enterprise", "olga", "owner", "owner", func(f *fixture, id string) error {
				return f.svc.RemoveMember(ctx, id, "creator", "olga")
			}},
		}
		for i, c := range cases {
			f := env.newFixture(t)
			id := f.newOrg(t, c.scheme, c.ed, c.inviter, c.inviterRole)
			addr := fmt.Sprintf("mallory%d@example.com", i)
			inv, tok, err := f.svc.Invite(ctx, id, c.inviter, addr, c.invRole)
			require.NoError(t, err)
			require.NoError(t, c.change(f, id), "case %d", i)

			_, _, err = f.svc.AcceptInvitation(ctx, tok.Reveal(), user("mallory"), addr)
			require.ErrorIs(t, err, orgauthz.ErrInvitationRevoked, "case %d", i)
			assert.Equal(t, "", f.role(t, id, "mallory"))
			page, err := f.svc.Invitations(ctx, id, "creator", orgauthz.Page{}, false)
			require.NoError(t, err)
			require.Len(t, page.Invitations, 1)
			assert.Equal(t, invite.Revoked, page.Invitations[0].Status, "revoked at the change, freeing its seat")
			events := auditTail(t, f, "creator", id, 0)
			last := events[len(events)-1]
			assert.Equal(t, orgauthz.AuditInvitationRevoke, last.Action)
			assert.Equal(t, addr, last.Target)
			assert.Contains(t, last.Detail, inv.ID)
		}

		// An invitation the demoted member could still send lives on, and
		// one another admin re-sent holds on the resender's authority.
		f := env.newFixture(t)
		id := f.newOrg(t, "soterai", "enterprise", "olga", "owner")
		_, keep, err := f.svc.Invite(ctx, id, "olga", "keep@example.com", "manager")
		require.NoError(t, err)
		inv, _, err := f.svc.Invite(ctx, id, "olga", "resent@example.com", "owner")
		require.NoError(t, err)
		_, resent, err := f.svc.ResendInvitation(ctx, id, "creator", inv.ID)
		require.NoError(t, err)
		_, err = f.svc.ChangeRole(ctx, id, "creator", "olga", "manager")
		require.NoError(t, err)
		m, _, err := f.svc.AcceptInvitation(ctx, keep.Reveal(), user("kim"), "keep@example.com")
		require.NoError(t, err, "a manager may still invite managers")
		assert.Equal(t, "manager", m.Role)
		m, _, err = f.svc.AcceptInvitation(ctx, resent.Reveal(), user("rea"), "resent@example.com")
		require.NoError(t, err, "the owner who re-sent it is its sender now")
		assert.Equal(t, "owner", m.Role)
	})
}

// 3. A SoterAI manager who created a workspace is demoted to member: its
// workspace role follows its eligibility.
func TestRegressionScopeRolesFollowEligibility(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "soterai", "enterprise", "mia", "manager")
		w, err := f.svc.CreateScope(ctx, id, "mia", "workspace", "Safety")
		require.NoError(t, err)
		require.True(t, f.svc.CheckScope(ctx, id, "mia", "workspace", w.ID, "workspace/members:manage").Allowed)
		seq := lastSeq(t, f, "creator", id)
		_, err = f.svc.ChangeRole(ctx, id, "creator", "mia", "member")
		require.NoError(t, err)

		assert.False(t, f.svc.CheckScope(ctx, id, "mia", "workspace", w.ID, "workspace/members:manage").Allowed)
		assert.False(t, f.svc.CheckScope(ctx, id, "mia", "workspace", w.ID, "workspace:configure").Allowed)
		assert.True(t, f.svc.CheckScope(ctx, id, "mia", "workspace", w.ID, "workspace:use").Allowed, "a member may be a workspace member")
		_, err = f.svc.AddScopeMember(ctx, id, "mia", "workspace", w.ID, user("creator"), "member")
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
		page, err := f.svc.ScopeMembers(ctx, id, "creator", "workspace", w.ID, orgauthz.Page{})
		require.NoError(t, err)
		require.Len(t, page.Members, 1)
		assert.Equal(t, "member", page.Members[0].Role)
		events := auditTail(t, f, "creator", id, seq)
		assert.Equal(t, []string{orgauthz.AuditMemberRole, orgauthz.AuditScopeMemberRole}, actions(events))
		assert.Equal(t, "manager", events[1].RoleBefore)
		assert.Equal(t, "member", events[1].RoleAfter)
		assert.Contains(t, events[1].Detail, "no longer eligible")
	})
}

// stressScheme is a host's scheme in which a middle role holds the service
// principal capabilities.
func stressScheme(t testing.TB) *edition.Scheme {
	t.Helper()
	sch, err := edition.NewScheme(edition.Spec{
		ID: "stress",
		Roles: []role.Role{
			{ID: "admin", Rank: 3}, {ID: "ops", Rank: 2}, {ID: "user", Rank: 1},
		},
		Capabilities: []role.Def{
			{ID: "cloud:use"}, {ID: "billing:manage"}, {ID: "members:manage"},
			{ID: "service_principals:manage"}, {ID: "service_principals/api_keys:add"}, {ID: "api_keys:manage_own"},
		},
		Matrix: map[string][]role.Capability{
			"admin": {"cloud:use", "billing:manage", "members:manage", "service_principals:manage", "service_principals/api_keys:add", "api_keys:manage_own"},
			"ops":   {"cloud:use", "service_principals:manage", "service_principals/api_keys:add", "api_keys:manage_own"},
			"user":  {"cloud:use", "api_keys:manage_own"},
		},
		Editions:    []edition.EditionSpec{{ID: "standard", Seats: edition.Unlimited()}},
		CreatorRole: "admin",
		InviteRole:  "user",
		Invariants:  []edition.Invariant{{Role: "admin", Min: 1}},
		Management:  edition.Management{Invite: "members:manage", Remove: "members:manage", ChangeRole: "members:manage"},
		Keys: edition.KeyCapabilities{
			ServicePrincipals:    "service_principals:manage",
			ServicePrincipalKeys: "service_principals/api_keys:add",
			Own:                  "api_keys:manage_own",
		},
	})
	require.NoError(t, err)
	return sch
}

// 4. A lower role holding the service principal capabilities cannot mint a
// key stronger than itself, nor rename or delete a higher principal.
func TestRegressionServicePrincipalKeysStayWithinTheirCreator(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		svc, err := orgauthz.New(f.st, orgauthz.Options{Schemes: []*edition.Scheme{stressScheme(t)}, Clock: f.clock.Now})
		require.NoError(t, err)
		o, err := svc.CreateOrganization(ctx, user("creator"), orgauthz.NewOrganization{Name: "Stress"})
		require.NoError(t, err)
		_, err = svc.Host().Provision(ctx, o.ID, user("oscar"), "ops")
		require.NoError(t, err)
		sp, err := svc.CreateServicePrincipal(ctx, o.ID, "creator", "deploy", "admin")
		require.NoError(t, err)

		_, _, err = svc.CreateAPIKey(ctx, o.ID, "oscar", orgauthz.NewKey{Name: "k", Owner: sp.PrincipalID})
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "an unscoped key of an admin principal")
		_, _, err = svc.CreateAPIKey(ctx, o.ID, "oscar", orgauthz.NewKey{Name: "k", Owner: sp.PrincipalID, Scope: []role.Capability{"cloud:use"}})
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "the principal is beyond ops' reach")
		_, err = svc.RenameServicePrincipal(ctx, o.ID, "oscar", sp.PrincipalID, "mine")
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
		err = svc.DeleteServicePrincipal(ctx, o.ID, "oscar", sp.PrincipalID)
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied)

		// Within its reach, ops does what the scheme gives it, and a key of
		// its own principal does no more than ops.
		low, err := svc.CreateServicePrincipal(ctx, o.ID, "oscar", "builds", "ops")
		require.NoError(t, err)
		_, secret, err := svc.CreateAPIKey(ctx, o.ID, "oscar", orgauthz.NewKey{Name: "k", Owner: low.PrincipalID})
		require.NoError(t, err)
		a, err := svc.Authenticate(ctx, secret.Reveal())
		require.NoError(t, err)
		assert.True(t, a.Can("cloud:use"))
		assert.False(t, a.Can("billing:manage"))
		// The admin's unscoped key of the admin principal does hold billing.
		_, secret, err = svc.CreateAPIKey(ctx, o.ID, "creator", orgauthz.NewKey{Name: "k", Owner: sp.PrincipalID})
		require.NoError(t, err)
		a, err = svc.Authenticate(ctx, secret.Reveal())
		require.NoError(t, err)
		assert.True(t, a.Can("billing:manage"))
		_, err = svc.RenameServicePrincipal(ctx, o.ID, "oscar", low.PrincipalID, "builds2")
		require.NoError(t, err)
		require.NoError(t, svc.DeleteServicePrincipal(ctx, o.ID, "oscar", low.PrincipalID))
	})
}

// 5. A UiPath service administrator who may not grant access cannot widen
// a custom role that others hold; it may narrow it.
func TestRegressionWideningACustomRoleNeedsTheAuthorityToGrant(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "uipath", "", "sam", "user", "ursula", "user")
		svc, err := f.svc.CreateScope(ctx, id, "creator", "service", "Orchestrator")
		require.NoError(t, err)
		_, err = f.svc.AddScopeMember(ctx, id, "creator", "service", svc.ID, user("sam"), "administrator")
		require.NoError(t, err)
		_, err = f.svc.DefineScopeRole(ctx, id, "creator", "service", svc.ID, orgauthz.ScopeRoleDef{ID: "ops", Capabilities: []role.Capability{"service:access", "service/jobs:manage"}})
		require.NoError(t, err)
		_, err = f.svc.AddScopeMember(ctx, id, "creator", "service", svc.ID, user("ursula"), "ops")
		require.NoError(t, err)

		all := []role.Capability{"service:access", "service/roles:manage", "service/machines:manage", "service/robots:manage",
			"service/processes:manage", "service/jobs:manage", "service/packages:manage", "service/queues:manage",
			"service/environments:manage", "service/schedules:manage"}
		_, err = f.svc.DefineScopeRole(ctx, id, "sam", "service", svc.ID, orgauthz.ScopeRoleDef{ID: "ops", Capabilities: all})
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
		assert.Contains(t, err.Error(), "held by 1 principal")
		assert.False(t, f.svc.CheckScope(ctx, id, "ursula", "service", svc.ID, "service/roles:manage").Allowed)

		_, err = f.svc.DefineScopeRole(ctx, id, "sam", "service", svc.ID, orgauthz.ScopeRoleDef{ID: "ops", Capabilities: []role.Capability{"service:access"}})
		require.NoError(t, err, "narrowing needs only the right to define")
		assert.False(t, f.svc.CheckScope(ctx, id, "ursula", "service", svc.ID, "service/jobs:manage").Allowed)
		_, err = f.svc.DefineScopeRole(ctx, id, "sam", "service", svc.ID, orgauthz.ScopeRoleDef{ID: "fresh", Capabilities: all})
		require.NoError(t, err, "a role nobody holds grants nothing yet")
		// Whoever may grant access may widen.
		_, err = f.svc.DefineScopeRole(ctx, id, "creator", "service", svc.ID, orgauthz.ScopeRoleDef{ID: "ops", Capabilities: all})
		require.NoError(t, err)
		assert.True(t, f.svc.CheckScope(ctx, id, "ursula", "service", svc.ID, "service/roles:manage").Allowed)
	})
}

// 6. Clearing a seat override is checked against the seats in use.
func TestRegressionClearingTheSeatOverride(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "wherobots", "professional")
		require.NoError(t, f.svc.SetSeatOverride(ctx, id, "creator", 15))
		for i := range 13 {
			_, err := f.svc.Host().Provision(ctx, id, user(fmt.Sprintf("u%02d", i)), "user")
			require.NoError(t, err)
		}
		_, _, err := f.svc.Invite(ctx, id, "creator", "late@example.com", "")
		require.NoError(t, err) // 15 seats in use: 14 members, 1 pending
		err = f.svc.SetSeatOverride(ctx, id, "creator", 12)
		require.ErrorIs(t, err, orgauthz.ErrSeatLimit)
		err = f.svc.SetSeatOverride(ctx, id, "creator", 0)
		require.ErrorIs(t, err, orgauthz.ErrSeatLimit, "back to the default of 10, below 15 in use")
		assert.Contains(t, err.Error(), "default of 10 seats")
		assert.Contains(t, err.Error(), "15 are in use")
		o, err := f.svc.Organization(ctx, id, "creator")
		require.NoError(t, err)
		assert.Equal(t, 15, o.SeatOverride, "nothing changed")
	})
}

// 7. A downgrade to an edition without service principals is refused
// while they exist.
func TestRegressionDowngradeWithServicePrincipals(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "wherobots", "professional")
		sp, err := f.svc.CreateServicePrincipal(ctx, id, "creator", "deploy", "admin")
		require.NoError(t, err)
		_, secret, err := f.svc.CreateAPIKey(ctx, id, "creator", orgauthz.NewKey{Name: "k", Owner: sp.PrincipalID})
		require.NoError(t, err)
		err = f.svc.ChangeEdition(ctx, id, "creator", "community")
		require.ErrorIs(t, err, orgauthz.ErrEditionGated)
		assert.Contains(t, err.Error(), "1 exist")
		a, err := f.svc.Authenticate(ctx, secret.Reveal())
		require.NoError(t, err)
		assert.True(t, a.Can("organization/settings:manage"))

		require.NoError(t, f.svc.DeleteServicePrincipal(ctx, id, "creator", sp.PrincipalID))
		require.NoError(t, f.svc.ChangeEdition(ctx, id, "creator", "community"))
		_, err = f.svc.Authenticate(ctx, secret.Reveal())
		assert.ErrorIs(t, err, orgauthz.ErrKeyRevoked)
	})
}

// 8. Superseding an expired invitation takes the authority to revoke it.
func TestRegressionSupersedingAnExpiredInvitation(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "soterai", "enterprise", "mo", "manager")
		inv, _, err := f.svc.Invite(ctx, id, "creator", "boss@example.com", "owner")
		require.NoError(t, err)
		f.clock.Advance(8 * 24 * time.Hour)
		err = f.svc.RevokeInvitation(ctx, id, "mo", inv.ID)
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
		_, _, err = f.svc.Invite(ctx, id, "mo", "boss@example.com", "member")
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
		assert.Contains(t, err.Error(), "expired")
		page, err := f.svc.Invitations(ctx, id, "creator", orgauthz.Page{}, false)
		require.NoError(t, err)
		require.Len(t, page.Invitations, 1)
		assert.Equal(t, invite.Expired, page.Invitations[0].Status, "untouched")
		_, _, err = f.svc.Invite(ctx, id, "creator", "boss@example.com", "member")
		require.NoError(t, err, "an owner may supersede it")
	})
}

// The audit trail quotes names, so nothing in a name reads as part of the
// detail.
func TestRegressionAuditQuotesNames(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "aiengine", "")
		p, err := f.svc.CreateScope(ctx, id, "creator", "project", `Q3 "final", really`)
		require.NoError(t, err)
		events := auditTail(t, f, "creator", id, 0)
		last := events[len(events)-1]
		assert.Equal(t, orgauthz.AuditScopeCreate, last.Action)
		assert.Equal(t, "project/"+p.ID, last.Target)
		assert.Equal(t, `name "Q3 \"final\", really"`, last.Detail)
		assert.False(t, strings.ContainsAny(last.Detail, "\n\r"))
	})
}

// 9. UiPath: the owner "cannot be deleted", so only the owner archives or
// deletes the organization, though administrators hold
// organization_settings:delete.
func TestRegressionUiPathOnlyTheOwnerDeletesTheOrganization(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "uipath", "", "ann", "administrator")
		require.True(t, f.svc.Check(ctx, id, "ann", "organization_settings:delete").Allowed)
		err := f.svc.ArchiveOrganization(ctx, id, "ann")
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
		assert.Contains(t, err.Error(), "owner")
		err = f.svc.DeleteOrganization(ctx, id, "ann")
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
		o, err := f.svc.Organization(ctx, id, "ann")
		require.NoError(t, err)
		assert.False(t, o.Archived)
		require.NoError(t, f.svc.ArchiveOrganization(ctx, id, "creator"))
		require.NoError(t, f.svc.DeleteOrganization(ctx, id, "creator"))
		// Elsewhere the delete capability alone decides.
		so := f.newOrg(t, "soterai", "enterprise", "olga", "owner")
		require.NoError(t, f.svc.DeleteOrganization(ctx, so, "olga"))
	})
}

// 11. Names with bidi and invisible characters are refused everywhere the
// service takes a name, and nothing is written.
func TestRegressionNamesRefuseFormatCharacters(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "uipath", "")
		seq := lastSeq(t, f, "creator", id)
		bad := "payroll\u202e\u2066gpj.exe\u200b"
		_, err := f.svc.CreateScope(ctx, id, "creator", "service", bad)
		require.ErrorIs(t, err, orgauthz.ErrInvalidName)
		assert.Contains(t, err.Error(), "U+202E")
		assert.NotContains(t, err.Error(), "\u202e", "the message never shows the character raw")
		_, err = f.svc.CreateOrganization(ctx, user("creator"), orgauthz.NewOrganization{Name: bad, Scheme: "uipath"})
		require.ErrorIs(t, err, orgauthz.ErrInvalidName)
		name := bad
		_, err = f.svc.UpdateOrganization(ctx, id, "creator", orgauthz.OrganizationUpdate{Name: &name})
		require.ErrorIs(t, err, orgauthz.ErrInvalidName)
		_, _, err = f.svc.CreateAPIKey(ctx, id, "creator", orgauthz.NewKey{Name: "deploy\u200b"})
		require.ErrorIs(t, err, orgauthz.ErrInvalidName)
		s, err := f.svc.CreateScope(ctx, id, "creator", "service", "Payroll")
		require.NoError(t, err)
		_, err = f.svc.DefineScopeRole(ctx, id, "creator", "service", s.ID, orgauthz.ScopeRoleDef{ID: "ops", Name: "Ops\u2066", Capabilities: []role.Capability{"service:access"}})
		require.ErrorIs(t, err, orgauthz.ErrInvalidName)
		events := auditTail(t, f, "creator", id, seq)
		assert.Equal(t, []string{orgauthz.AuditScopeCreate}, actions(events), "only the good name was written")
	})
}

// 11. A scope check of an organization member who holds nothing on the
// resource says so, rather than "not a member of the organization".
func TestRegressionScopeNonMemberHasItsOwnReason(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "aiengine", "", "vic", "viewer")
		p, err := f.svc.CreateScope(ctx, id, "creator", "project", "P")
		require.NoError(t, err)
		d := f.svc.CheckScope(ctx, id, "vic", "project", p.ID, "project:view")
		assert.Equal(t, policy.ReasonNotScopeMember, d.Reason)
		assert.Contains(t, d.String(), "project")
		assert.NotContains(t, d.String(), "not a member of the organization")
		require.ErrorIs(t, d.Err(), orgauthz.ErrNotMember)
		d = f.svc.CheckScope(ctx, id, "stranger", "project", p.ID, "project:view")
		assert.Equal(t, policy.ReasonNotMember, d.Reason, "a stranger is no member of the organization")
	})
}
