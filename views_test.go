package orgauthz_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The principal's view (issue 12): what an organization switcher, a
// members screen, invitation links and "my projects" ask. Every test runs
// on memstore and PostgreSQL.

func membershipIDs(ms []org.Membership) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.OrgID
	}
	return out
}

func TestMembershipsListAPrincipalsOrganizations(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		pat := fmt.Sprintf("pat-%s", env.kind)
		w := f.newOrg(t, "wherobots", "professional", pat, "user")
		s := f.newOrg(t, "soterai", "enterprise", pat, "manager")
		u := f.newOrg(t, "uipath", "", "other", "user") // pat is not in it
		a := f.newOrg(t, "aiengine", "")
		proj, err := f.svc.CreateScope(ctx, a, "creator", edition.ScopeProject, "Churn")
		require.NoError(t, err)
		_, err = f.svc.AddScopeMember(ctx, a, "creator", edition.ScopeProject, proj.ID, user(pat), "viewer")
		require.NoError(t, err)
		archived := f.newOrg(t, "wherobots", "", pat, "user")
		require.NoError(t, f.svc.ArchiveOrganization(ctx, archived, "creator"))

		got, err := f.svc.Memberships(ctx, pat, orgauthz.Page{})
		require.NoError(t, err)
		assert.Empty(t, got.Next)
		want := []string{w, s, a, archived}
		assert.ElementsMatch(t, want, membershipIDs(got.Memberships))
		assert.IsIncreasing(t, membershipIDs(got.Memberships), "ordered by organization ID")
		assert.NotContains(t, membershipIDs(got.Memberships), u)
		for _, m := range got.Memberships {
			switch m.OrgID {
			case w:
				assert.Equal(t, "user", m.Role)
				assert.Equal(t, "wherobots", m.Scheme)
				assert.Equal(t, "professional", m.Edition)
				assert.Equal(t, "Acme wherobots", m.OrgName)
				assert.False(t, m.External)
				assert.False(t, m.Archived)
				assert.Equal(t, f.clock.Now(), m.JoinedAt)
			case s:
				assert.Equal(t, "manager", m.Role)
				assert.Equal(t, "enterprise", m.Edition)
			case a:
				assert.True(t, m.External, "an external member is listed with its standing")
				assert.Equal(t, "external", m.Role)
			case archived:
				assert.True(t, m.Archived)
			}
		}

		// Paged: two at a time, in the same order.
		var paged []string
		p := orgauthz.Page{Limit: 2}
		for {
			pg, err := f.svc.Memberships(ctx, pat, p)
			require.NoError(t, err)
			require.LessOrEqual(t, len(pg.Memberships), 2)
			paged = append(paged, membershipIDs(pg.Memberships)...)
			if pg.Next == "" {
				break
			}
			p.After = pg.Next
		}
		assert.Equal(t, membershipIDs(got.Memberships), paged)

		// Changes show at once: a new role, a removal, a deleted organization.
		_, err = f.svc.ChangeRole(ctx, w, "creator", pat, "admin")
		require.NoError(t, err)
		require.NoError(t, f.svc.RemoveMember(ctx, s, "creator", pat))
		require.NoError(t, f.svc.DeleteOrganization(ctx, archived, "creator"))
		got, err = f.svc.Memberships(ctx, pat, orgauthz.Page{})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{w, a}, membershipIDs(got.Memberships))
		for _, m := range got.Memberships {
			if m.OrgID == w {
				assert.Equal(t, "admin", m.Role)
			}
		}

		// A principal in no organization has an empty page; bad input is refused.
		none, err := f.svc.Memberships(ctx, "nobody-"+env.kind, orgauthz.Page{})
		require.NoError(t, err)
		assert.Empty(t, none.Memberships)
		_, err = f.svc.Memberships(ctx, "not an id", orgauthz.Page{})
		assert.ErrorIs(t, err, orgauthz.ErrInvalidID)
		_, err = f.svc.Memberships(ctx, pat, orgauthz.Page{After: "bad cursor"})
		assert.ErrorIs(t, err, orgauthz.ErrInvalidArgument)
		_, err = f.svc.Memberships(ctx, pat, orgauthz.Page{Limit: -1})
		assert.ErrorIs(t, err, orgauthz.ErrInvalidArgument)
	})
}

func TestInvitationsForAnAddress(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		addr := "gil-" + env.kind + "@example.com"
		shout := strings.ToUpper(addr[:1]) + addr[1:]
		old := f.newOrg(t, "wherobots", "")
		oldInv, _, err := f.svc.Invite(ctx, old, "creator", addr, "")
		require.NoError(t, err)
		f.clock.Advance(6 * 24 * time.Hour)
		one := f.newOrg(t, "wherobots", "professional")
		two := f.newOrg(t, "soterai", "enterprise")
		revoked := f.newOrg(t, "wherobots", "")
		archived := f.newOrg(t, "wherobots", "")
		other := f.newOrg(t, "wherobots", "")
		inv1, _, err := f.svc.Invite(ctx, one, "creator", shout, "admin")
		require.NoError(t, err)
		inv2, _, err := f.svc.Invite(ctx, two, "creator", addr, "manager")
		require.NoError(t, err)
		inv3, _, err := f.svc.Invite(ctx, revoked, "creator", addr, "")
		require.NoError(t, err)
		require.NoError(t, f.svc.RevokeInvitation(ctx, revoked, "creator", inv3.ID))
		_, _, err = f.svc.Invite(ctx, archived, "creator", addr, "")
		require.NoError(t, err)
		require.NoError(t, f.svc.ArchiveOrganization(ctx, archived, "creator"))
		_, _, err = f.svc.Invite(ctx, other, "creator", "someone-else-"+env.kind+"@example.com", "")
		require.NoError(t, err)
		f.clock.Advance(2 * 24 * time.Hour) // the first invitation has expired

		got, err := f.svc.InvitationsFor(ctx, " "+shout+" ", orgauthz.Page{})
		require.NoError(t, err)
		require.Len(t, got.Invitations, 2, "pending ones only: %+v", got.Invitations)
		byOrg := map[string]orgauthz.InvitationPreview{}
		for _, p := range got.Invitations {
			byOrg[p.OrgID] = p
			assert.Equal(t, addr, p.Email)
			assert.Equal(t, invite.Pending, p.Status)
			assert.Equal(t, "creator", p.InvitedBy)
		}
		assert.Equal(t, inv1.ID, byOrg[one].ID)
		assert.Equal(t, "admin", byOrg[one].Role)
		assert.Equal(t, "Acme wherobots", byOrg[one].OrgName)
		assert.Equal(t, inv1.ExpiresAt, byOrg[one].ExpiresAt)
		assert.Equal(t, inv2.ID, byOrg[two].ID)
		assert.Equal(t, "manager", byOrg[two].Role)
		assert.NotEmpty(t, byOrg[two].RoleName)
		assert.Less(t, got.Invitations[0].ID, got.Invitations[1].ID, "ordered by ID")
		first, err := f.svc.InvitationsFor(ctx, addr, orgauthz.Page{Limit: 1})
		require.NoError(t, err)
		require.Len(t, first.Invitations, 1)
		rest, err := f.svc.InvitationsFor(ctx, addr, orgauthz.Page{After: first.Next})
		require.NoError(t, err)
		assert.Equal(t, got.Invitations, append(first.Invitations, rest.Invitations...))
		_, err = f.svc.InvitationsFor(ctx, "not an address", orgauthz.Page{})
		assert.ErrorIs(t, err, orgauthz.ErrInvalidEmail)

		// Signed in with the address, the principal answers by ID.
		gil := user("gil-" + env.kind)
		_, _, err = f.svc.AcceptInvitationByID(ctx, inv1.ID, gil, "someone-else-"+env.kind+"@example.com")
		assert.ErrorIs(t, err, orgauthz.ErrInvitationNotFound, "another address learns nothing")
		_, _, err = f.svc.AcceptInvitationByID(ctx, "aaaaaaaaaaaaaaaa", gil, addr)
		assert.ErrorIs(t, err, orgauthz.ErrInvitationNotFound)
		_, _, err = f.svc.AcceptInvitationByID(ctx, oldInv.ID, gil, addr)
		assert.ErrorIs(t, err, orgauthz.ErrInvitationExpired)
		_, _, err = f.svc.AcceptInvitationByID(ctx, inv3.ID, gil, addr)
		assert.ErrorIs(t, err, orgauthz.ErrInvitationRevoked)
		m, joined, err := f.svc.AcceptInvitationByID(ctx, inv1.ID, gil, shout)
		require.NoError(t, err)
		assert.Equal(t, "admin", m.Role)
		assert.Equal(t, addr, m.Email, "the member keeps the address it was invited at")
		assert.Equal(t, one, joined.ID)
		assert.Equal(t, "Acme wherobots", joined.Name)
		require.NoError(t, f.svc.DeclineInvitationByID(ctx, inv2.ID, gil, addr))
		_, _, err = f.svc.AcceptInvitationByID(ctx, inv2.ID, gil, addr)
		assert.ErrorIs(t, err, orgauthz.ErrInvitationDeclined)

		invs, err := f.svc.Invitations(ctx, two, "creator", orgauthz.Page{}, false)
		require.NoError(t, err)
		require.Len(t, invs.Invitations, 1)
		assert.Equal(t, invite.Declined, invs.Invitations[0].Status)
		assert.Equal(t, gil.ID, invs.Invitations[0].DeclinedBy)
		tail := auditTail(t, f, "creator", two, 0)
		last := tail[len(tail)-1]
		assert.Equal(t, orgauthz.AuditInvitationDecline, last.Action)
		assert.Equal(t, gil.ID, last.Actor)

		got, err = f.svc.InvitationsFor(ctx, addr, orgauthz.Page{})
		require.NoError(t, err)
		assert.Empty(t, got.Invitations, "answered invitations leave the list")
		ms, err := f.svc.Memberships(ctx, gil.ID, orgauthz.Page{})
		require.NoError(t, err)
		assert.Equal(t, []string{one}, membershipIDs(ms.Memberships))
	})
}

func TestPreviewInvitation(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "soterai", "enterprise")
		inv, tok, err := f.svc.Invite(ctx, id, "creator", "Meg@Example.com", "member")
		require.NoError(t, err)

		p, err := f.svc.PreviewInvitation(ctx, tok.Reveal())
		require.NoError(t, err)
		assert.Equal(t, orgauthz.InvitationPreview{
			ID: inv.ID, OrgID: id, OrgName: "Acme soterai", Email: "meg@example.com", Role: "member", RoleName: "Member",
			InvitedBy: "creator", CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt, Status: invite.Pending,
		}, p)
		// Previewing changes nothing: the invitation is still pending and
		// the token still works.
		invs, err := f.svc.Invitations(ctx, id, "creator", orgauthz.Page{}, true)
		require.NoError(t, err)
		require.Len(t, invs.Invitations, 1)

		// Forged tokens fail alike.
		wrong := "inv_" + inv.ID + "_" + strings.Repeat("a", 32)
		unknown := "inv_aaaaaaaaaaaaaaaa_" + strings.Repeat("a", 32)
		for _, bad := range []string{wrong, unknown, "inv_x", ""} {
			_, err := f.svc.PreviewInvitation(ctx, bad)
			assert.Equal(t, orgauthz.ErrInvalidToken, err, "%q", bad)
		}

		// A resend kills the old token; the preview of the new one says who
		// sent it last.
		_, err = f.svc.Host().Provision(ctx, id, user("owner2"), "owner")
		require.NoError(t, err)
		_, tok2, err := f.svc.ResendInvitation(ctx, id, "owner2", inv.ID)
		require.NoError(t, err)
		_, err = f.svc.PreviewInvitation(ctx, tok.Reveal())
		assert.Equal(t, orgauthz.ErrInvalidToken, err)
		p, err = f.svc.PreviewInvitation(ctx, tok2.Reveal())
		require.NoError(t, err)
		assert.Equal(t, "owner2", p.InvitedBy)

		// Expired, then accepted: the status tells.
		f.clock.Advance(8 * 24 * time.Hour)
		p, err = f.svc.PreviewInvitation(ctx, tok2.Reveal())
		require.NoError(t, err)
		assert.Equal(t, invite.Expired, p.Status)
		_, tok3, err := f.svc.ResendInvitation(ctx, id, "owner2", inv.ID)
		require.NoError(t, err)
		m, o, err := f.svc.AcceptInvitation(ctx, tok3.Reveal(), user("meg"), "meg@example.com")
		require.NoError(t, err)
		assert.Equal(t, id, o.ID, "AcceptInvitation returns the organization joined")
		assert.Equal(t, "Acme soterai", o.Name)
		assert.Equal(t, "meg@example.com", m.Email)
		p, err = f.svc.PreviewInvitation(ctx, tok3.Reveal())
		require.NoError(t, err)
		assert.Equal(t, invite.Accepted, p.Status)
	})
}

func TestDeclineRecordsWhoDeclined(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "wherobots", "professional")
		a, tokA, err := f.svc.Invite(ctx, id, "creator", "a@example.com", "")
		require.NoError(t, err)
		b, tokB, err := f.svc.Invite(ctx, id, "creator", "b@example.com", "")
		require.NoError(t, err)
		require.NoError(t, f.svc.DeclineInvitation(ctx, tokA.Reveal(), org.Principal{}))
		require.NoError(t, f.svc.DeclineInvitation(ctx, tokB.Reveal(), user("bea")))
		assert.ErrorIs(t, f.svc.DeclineInvitation(ctx, tokB.Reveal(), user("bea")), orgauthz.ErrInvitationDeclined)
		assert.ErrorIs(t, f.svc.DeclineInvitation(ctx, tokB.Reveal(), org.Principal{ID: "bad id", Kind: org.User}), orgauthz.ErrInvalidID)
		invs, err := f.svc.Invitations(ctx, id, "creator", orgauthz.Page{}, false)
		require.NoError(t, err)
		by := map[string]string{}
		for _, inv := range invs.Invitations {
			by[inv.ID] = inv.DeclinedBy
		}
		assert.Equal(t, map[string]string{a.ID: "", b.ID: "bea"}, by)
		tail := auditTail(t, f, "creator", id, 0)
		require.GreaterOrEqual(t, len(tail), 2)
		assert.Equal(t, "", tail[len(tail)-2].Actor, "declined through the link alone")
		assert.Equal(t, "bea", tail[len(tail)-1].Actor)
	})
}

func TestMembersKnowHowTheyJoined(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "wherobots", "professional", "bob", "user")
		_, tok, err := f.svc.Invite(ctx, id, "creator", "Gil@Example.com", "")
		require.NoError(t, err)
		_, _, err = f.svc.AcceptInvitation(ctx, tok.Reveal(), user("gil"), "gil@example.com")
		require.NoError(t, err)
		m, err := f.svc.Member(ctx, id, "creator", "gil")
		require.NoError(t, err)
		assert.Equal(t, "gil@example.com", m.Email)
		bob, err := f.svc.Member(ctx, id, "creator", "bob")
		require.NoError(t, err)
		assert.Empty(t, bob.Email, "provisioned, not invited")

		before := counts(t, f, id)
		for _, addr := range []string{"gil@example.com", " GIL@example.COM"} {
			_, _, err = f.svc.Invite(ctx, id, "creator", addr, "")
			assert.ErrorIs(t, err, orgauthz.ErrAlreadyMember, addr)
		}
		res, err := f.svc.BulkInvite(ctx, id, "creator", []string{"gil@example.com", "new@example.com"}, "")
		require.NoError(t, err)
		assert.ErrorIs(t, res[0].Err, orgauthz.ErrAlreadyMember)
		require.NoError(t, res[1].Err)
		seats, err := f.svc.Seats(ctx, id, "creator")
		require.NoError(t, err)
		assert.Equal(t, before.Members, seats.Members)
		assert.Equal(t, 1, seats.Pending, "only the new address holds a seat")

		// Once gil has gone, the address may be invited again.
		require.NoError(t, f.svc.Leave(ctx, id, "gil"))
		_, _, err = f.svc.Invite(ctx, id, "creator", "gil@example.com", "")
		require.NoError(t, err)
	})
}

func scopeIDs(ss []org.Scope) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

func TestScopeListingsFollowTheScheme(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)

		// AI Engine: a member sees the projects it belongs to.
		a := f.newOrg(t, "aiengine", "", "ed", "editor", "vic", "viewer")
		var projects []string
		for _, name := range []string{"P1", "P2", "P3"} {
			p, err := f.svc.CreateScope(ctx, a, "ed", edition.ScopeProject, name)
			require.NoError(t, err)
			projects = append(projects, p.ID)
		}
		_, err := f.svc.AddScopeMember(ctx, a, "ed", edition.ScopeProject, projects[1], user("vic"), "viewer")
		require.NoError(t, err)
		_, err = f.svc.AddScopeMember(ctx, a, "ed", edition.ScopeProject, projects[2], user("xan"), "viewer")
		require.NoError(t, err) // xan is external
		for actor, want := range map[string][]string{
			"ed": projects, "vic": {projects[1]}, "xan": {projects[2]}, "creator": {},
		} {
			got, err := f.svc.Scopes(ctx, a, actor, edition.ScopeProject, orgauthz.Page{})
			require.NoError(t, err, actor)
			assert.Equal(t, want, append([]string{}, scopeIDs(got.Scopes)...), actor)
		}
		// Paged.
		pg, err := f.svc.Scopes(ctx, a, "ed", edition.ScopeProject, orgauthz.Page{Limit: 2})
		require.NoError(t, err)
		assert.Equal(t, projects[:2], scopeIDs(pg.Scopes))
		pg, err = f.svc.Scopes(ctx, a, "ed", edition.ScopeProject, orgauthz.Page{After: pg.Next})
		require.NoError(t, err)
		assert.Equal(t, projects[2:], scopeIDs(pg.Scopes))
		// One resource: hidden ones fail alike, existing or not.
		sc, err := f.svc.Scope(ctx, a, "vic", edition.ScopeProject, projects[1])
		require.NoError(t, err)
		assert.Equal(t, "P2", sc.Name)
		_, err = f.svc.Scope(ctx, a, "vic", edition.ScopeProject, projects[0])
		assert.ErrorIs(t, err, orgauthz.ErrNotMember)
		_, err = f.svc.Scope(ctx, a, "vic", edition.ScopeProject, "nonexistent")
		assert.ErrorIs(t, err, orgauthz.ErrNotMember)
		_, err = f.svc.Scope(ctx, a, "ed", edition.ScopeProject, "nonexistent")
		assert.ErrorIs(t, err, orgauthz.ErrNotMember)
		_, err = f.svc.Scopes(ctx, a, "ed", "service", orgauthz.Page{})
		assert.ErrorIs(t, err, orgauthz.ErrUnknownScope)
		// A resource's members need the right to see it.
		_, err = f.svc.ScopeMembers(ctx, a, "vic", edition.ScopeProject, projects[0], orgauthz.Page{})
		assert.ErrorIs(t, err, orgauthz.ErrNotMember)
		ms, err := f.svc.ScopeMembers(ctx, a, "vic", edition.ScopeProject, projects[1], orgauthz.Page{})
		require.NoError(t, err)
		assert.Len(t, ms.Members, 2)
		// My projects, with my role on each.
		mine, err := f.svc.ScopeMemberships(ctx, a, "vic", "", edition.ScopeProject, orgauthz.Page{})
		require.NoError(t, err)
		require.Len(t, mine.Memberships, 1)
		assert.Equal(t, projects[1], mine.Memberships[0].Scope.ID)
		assert.Equal(t, "P2", mine.Memberships[0].Scope.Name)
		assert.Equal(t, "viewer", mine.Memberships[0].Member.Role)
		_, err = f.svc.ScopeMemberships(ctx, a, "vic", "ed", edition.ScopeProject, orgauthz.Page{})
		assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "another's memberships need to see every project")
		mine, err = f.svc.ScopeMemberships(ctx, a, "ed", "", edition.ScopeProject, orgauthz.Page{Limit: 2})
		require.NoError(t, err)
		assert.Len(t, mine.Memberships, 2)
		assert.NotEmpty(t, mine.Next)

		// UiPath: users see every service (services:view) without access.
		u := f.newOrg(t, "uipath", "", "al", "administrator", "uma", "user")
		s1, err := f.svc.CreateScope(ctx, u, "al", edition.ScopeService, "Orchestrator")
		require.NoError(t, err)
		s2, err := f.svc.CreateScope(ctx, u, "creator", edition.ScopeService, "Insights")
		require.NoError(t, err)
		for _, actor := range []string{"al", "uma", "creator"} {
			got, err := f.svc.Scopes(ctx, u, actor, edition.ScopeService, orgauthz.Page{})
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{s1.ID, s2.ID}, scopeIDs(got.Scopes), actor)
		}
		assert.False(t, f.svc.CheckScope(ctx, u, "uma", edition.ScopeService, s1.ID, "service:access").Allowed)
		_, err = f.svc.Scope(ctx, u, "uma", edition.ScopeService, "nonexistent")
		assert.ErrorIs(t, err, orgauthz.ErrNotFound, "one who sees every service learns it does not exist")

		// SoterAI: owners and managers reach every workspace, members theirs.
		s := f.newOrg(t, "soterai", "enterprise", "max", "manager", "meg", "member", "mo", "member")
		w1, err := f.svc.CreateScope(ctx, s, "max", edition.ScopeWorkspace, "North")
		require.NoError(t, err)
		w2, err := f.svc.CreateScope(ctx, s, "creator", edition.ScopeWorkspace, "South")
		require.NoError(t, err)
		_, err = f.svc.AddScopeMember(ctx, s, "max", edition.ScopeWorkspace, w2.ID, user("meg"), "")
		require.NoError(t, err)
		for actor, want := range map[string][]string{
			"creator": {w1.ID, w2.ID}, "max": {w1.ID, w2.ID}, "meg": {w2.ID}, "mo": {},
		} {
			got, err := f.svc.Scopes(ctx, s, actor, edition.ScopeWorkspace, orgauthz.Page{})
			require.NoError(t, err)
			assert.ElementsMatch(t, want, scopeIDs(got.Scopes), actor)
		}
		mine, err = f.svc.ScopeMemberships(ctx, s, "max", "meg", edition.ScopeWorkspace, orgauthz.Page{})
		require.NoError(t, err, "a manager sees every workspace, so meg's too")
		require.Len(t, mine.Memberships, 1)
		assert.Equal(t, w2.ID, mine.Memberships[0].Scope.ID)

		// Non-members are denied as everywhere.
		_, err = f.svc.Scopes(ctx, s, "stranger", edition.ScopeWorkspace, orgauthz.Page{})
		assert.ErrorIs(t, err, orgauthz.ErrNotMember)
	})
}

func TestOrganizationWideKeyListings(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "wherobots", "professional", "bob", "user")
		sp, err := f.svc.CreateServicePrincipal(ctx, id, "creator", "ci01", "user")
		require.NoError(t, err)
		sp2, err := f.svc.CreateServicePrincipal(ctx, id, "creator", "ci02", "user")
		require.NoError(t, err)
		var ids []string
		for _, nk := range []struct{ actor, owner string }{{"bob", ""}, {"creator", ""}, {"creator", sp.PrincipalID}} {
			k, _, err := f.svc.CreateAPIKey(ctx, id, nk.actor, orgauthz.NewKey{Name: "k", Owner: nk.owner, ExpiresIn: apikey.Expiry30d})
			require.NoError(t, err)
			ids = append(ids, k.ID)
		}
		all, err := f.svc.AllAPIKeys(ctx, id, "creator", orgauthz.Page{})
		require.NoError(t, err)
		got := make([]string, len(all.Keys))
		for i, k := range all.Keys {
			got[i] = k.ID
			assert.Nil(t, k.Hash, "a listing never holds a hash")
			assert.Equal(t, k.CreatedAt.Add(apikey.Expiry30d), k.ExpiresAt)
		}
		assert.ElementsMatch(t, ids, got)
		assert.IsIncreasing(t, got)
		_, err = f.svc.AllAPIKeys(ctx, id, "bob", orgauthz.Page{})
		assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)

		sps, err := f.svc.ServicePrincipals(ctx, id, "bob", orgauthz.Page{Limit: 1})
		require.NoError(t, err)
		require.Len(t, sps.Members, 1)
		rest, err := f.svc.ServicePrincipals(ctx, id, "bob", orgauthz.Page{After: sps.Next})
		require.NoError(t, err)
		all2 := append(sps.Members, rest.Members...)
		require.Len(t, all2, 2)
		assert.ElementsMatch(t, []string{sp.PrincipalID, sp2.PrincipalID}, []string{all2[0].PrincipalID, all2[1].PrincipalID})
		for _, m := range all2 {
			assert.Equal(t, org.ServicePrincipal, m.Kind)
		}
	})
}

func TestSeats(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "wherobots", "community", "bob", "user", "cy", "user")
		_, _, err := f.svc.Invite(ctx, id, "creator", "di@example.com", "")
		require.NoError(t, err)
		seats, err := f.svc.Seats(ctx, id, "bob")
		require.NoError(t, err)
		assert.Equal(t, orgauthz.Seats{Members: 3, Pending: 1, InUse: 4, Limit: 5, Source: orgauthz.SeatsFromEdition, Edition: "community"}, seats)

		f.clock.Advance(8 * 24 * time.Hour) // the invitation expires: its seat is free
		seats, err = f.svc.Seats(ctx, id, "bob")
		require.NoError(t, err)
		assert.Equal(t, 0, seats.Pending)
		assert.Equal(t, 3, seats.InUse)

		require.NoError(t, f.svc.ChangeEdition(ctx, id, "creator", "professional"))
		require.NoError(t, f.svc.SetSeatOverride(ctx, id, "creator", 25))
		seats, err = f.svc.Seats(ctx, id, "bob")
		require.NoError(t, err)
		assert.Equal(t, orgauthz.Seats{Members: 3, InUse: 3, Limit: 25, Source: orgauthz.SeatsFromOverride, Edition: "professional"}, seats)
		require.NoError(t, f.svc.ChangeEdition(ctx, id, "creator", "enterprise"))
		seats, err = f.svc.Seats(ctx, id, "bob")
		require.NoError(t, err)
		assert.True(t, seats.Unlimited)
		assert.Equal(t, 0, seats.Limit)

		// External members take no seat and may not read the count.
		a := f.newOrg(t, "aiengine", "")
		p, err := f.svc.CreateScope(ctx, a, "creator", edition.ScopeProject, "P")
		require.NoError(t, err)
		_, err = f.svc.AddScopeMember(ctx, a, "creator", edition.ScopeProject, p.ID, user("xan"), "viewer")
		require.NoError(t, err)
		seats, err = f.svc.Seats(ctx, a, "creator")
		require.NoError(t, err)
		assert.Equal(t, 1, seats.Members)
		_, err = f.svc.Seats(ctx, a, "xan")
		assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
		_, err = f.svc.Seats(ctx, a, "stranger")
		assert.ErrorIs(t, err, orgauthz.ErrNotMember)
	})
}

func TestActionsTheSchemeDoesNotOffer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.newOrg(t, "wherobots", "")
	_, err := f.svc.AddMember(ctx, w, "creator", user("bob"), "user")
	assert.ErrorIs(t, err, orgauthz.ErrNotOffered, "Wherobots adds members by invitation only")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	err = f.svc.TransferOwnership(ctx, w, "creator", "bob", "user")
	assert.ErrorIs(t, err, orgauthz.ErrNotOffered, "refused before anyone is looked up")
	_, err = f.svc.Host().Provision(ctx, w, user("bob"), "user")
	require.NoError(t, err)
	err = f.svc.TransferOwnership(ctx, w, "creator", "bob", "user")
	assert.ErrorIs(t, err, orgauthz.ErrNotOffered, "Wherobots has no owner")
}

// A check for a principal of a known kind finds no member of another kind
// that shares its ID.
func TestChecksOfAKindIgnoreMembersOfAnother(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "aiengine", "", "ed", "editor")
	p, err := f.svc.CreateScope(ctx, id, "ed", edition.ScopeProject, "P")
	require.NoError(t, err)
	sp := org.Principal{ID: "ed", Kind: org.ServicePrincipal}
	assert.True(t, f.svc.CheckPrincipal(ctx, id, user("ed"), "projects:create").Allowed)
	assert.Equal(t, policy.ReasonNotMember, f.svc.CheckPrincipal(ctx, id, sp, "projects:create").Reason)
	assert.True(t, f.svc.CheckScopePrincipal(ctx, id, user("ed"), edition.ScopeProject, p.ID, "project:delete").Allowed)
	assert.Equal(t, policy.ReasonNotMember, f.svc.CheckScopePrincipal(ctx, id, sp, edition.ScopeProject, p.ID, "project:delete").Reason)
}
