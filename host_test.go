package orgauthz_test

import (
	"testing"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The host's authority and ownership transfer (issue 12), on memstore and
// PostgreSQL.

func TestHostSupportActionsKeepEveryInvariant(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		h := f.svc.Host()
		// A full Community organization whose only admin is gone for good.
		id := f.newOrg(t, "wherobots", "community", "bob", "user", "cy", "user", "di", "user", "ed", "user")
		_, err := h.Provision(ctx, id, user("support"), "admin")
		require.ErrorIs(t, err, orgauthz.ErrSeatLimit, "the seat limit holds for the host too")

		// Support promotes a member instead, then the old admin can go.
		m, err := h.ChangeRole(ctx, id, "bob", "admin")
		require.NoError(t, err)
		assert.Equal(t, "admin", m.Role)
		require.NoError(t, h.RemoveMember(ctx, id, "creator"))
		// The last admin stays, for the host too.
		_, err = h.ChangeRole(ctx, id, "bob", "user")
		assert.ErrorIs(t, err, orgauthz.ErrMinHolders)
		assert.ErrorIs(t, h.RemoveMember(ctx, id, "bob"), orgauthz.ErrMinHolders)
		// A freed seat takes in a support member.
		_, err = h.Provision(ctx, id, user("support"), "user")
		require.NoError(t, err)
		_, err = h.ChangeRole(ctx, id, "nobody", "user")
		assert.ErrorIs(t, err, orgauthz.ErrNotMember)
		_, err = h.ChangeRole(ctx, id, "cy", "superuser")
		assert.ErrorIs(t, err, orgauthz.ErrUnknownRole)
		_, err = h.ChangeRole(ctx, "no-such-org", "cy", "user")
		assert.ErrorIs(t, err, orgauthz.ErrUnknownOrganization)

		// The host reads what a support desk needs.
		o, err := h.Organization(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, id, o.ID)
		ms, err := h.Members(ctx, id, orgauthz.Page{Limit: 2})
		require.NoError(t, err)
		assert.Len(t, ms.Members, 2)
		assert.NotEmpty(t, ms.Next)
		_, err = h.Members(ctx, id, orgauthz.Page{After: "bad cursor"})
		assert.ErrorIs(t, err, orgauthz.ErrInvalidArgument)
		events, err := h.Audit(ctx, id, orgauthz.AuditQuery{})
		require.NoError(t, err, "Community offers no audit capability to members, but the host reads it")
		var hostEvents []string
		for _, e := range events {
			if e.Actor == "" {
				hostEvents = append(hostEvents, e.Action+" "+e.Target)
			}
		}
		assert.Contains(t, hostEvents, orgauthz.AuditMemberRole+" bob")
		assert.Contains(t, hostEvents, orgauthz.AuditMemberRemove+" creator")
		seats, err := h.Seats(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, 5, seats.InUse)

		// Invitations: the host lists and revokes them; a billing system
		// changes the edition.
		_, err = f.svc.ChangeRole(ctx, id, "bob", "cy", "admin")
		require.NoError(t, err)
		require.NoError(t, h.ChangeEdition(ctx, id, "professional"))
		inv, _, err := f.svc.Invite(ctx, id, "cy", "new@example.com", "")
		require.NoError(t, err)
		invs, err := h.Invitations(ctx, id, orgauthz.Page{}, true)
		require.NoError(t, err)
		require.Len(t, invs.Invitations, 1)
		assert.Nil(t, invs.Invitations[0].TokenHash)
		require.NoError(t, h.RevokeInvitation(ctx, id, inv.ID))
		assert.ErrorIs(t, h.RevokeInvitation(ctx, id, inv.ID), orgauthz.ErrInvitationRevoked)
		require.NoError(t, h.SetSeatOverride(ctx, id, 12))
		_, err = h.Provision(ctx, id, user("fay"), "user")
		require.NoError(t, err)
		assert.ErrorIs(t, h.ChangeEdition(ctx, id, "community"), orgauthz.ErrSeatLimit, "6 seats in use do not fit in 5")

		require.NoError(t, h.ArchiveOrganization(ctx, id))
		_, err = h.ChangeRole(ctx, id, "cy", "user")
		assert.ErrorIs(t, err, orgauthz.ErrArchived)
		require.NoError(t, h.DeleteOrganization(ctx, id))
		_, err = h.Organization(ctx, id)
		assert.ErrorIs(t, err, orgauthz.ErrUnknownOrganization)
	})
}

func TestHostIsNeverAnEmptyActor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "professional", "bob", "user")
	_, err := f.svc.ChangeRole(ctx, id, "", "bob", "admin")
	assert.ErrorIs(t, err, orgauthz.ErrNotMember, "an empty actor is nobody, not the host")
	assert.ErrorIs(t, f.svc.RemoveMember(ctx, id, "", "bob"), orgauthz.ErrNotMember)
	_, err = f.svc.Members(ctx, id, "", orgauthz.Page{})
	assert.ErrorIs(t, err, orgauthz.ErrNotMember)
	assert.Equal(t, "user", f.role(t, id, "bob"))
}

func TestHostNeverTouchesAnImmutableOwnerButCanTransferIt(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		h := f.svc.Host()
		id := f.newOrg(t, "uipath", "", "al", "administrator", "uma", "user")
		_, err := h.ChangeRole(ctx, id, "creator", "administrator")
		assert.ErrorIs(t, err, orgauthz.ErrImmutableRole)
		assert.ErrorIs(t, h.RemoveMember(ctx, id, "creator"), orgauthz.ErrImmutableRole)
		_, err = h.ChangeRole(ctx, id, "al", "owner")
		assert.ErrorIs(t, err, orgauthz.ErrImmutableRole, "the owner role is never given, only transferred")
		_, err = h.Provision(ctx, id, user("zed"), "owner")
		assert.ErrorIs(t, err, orgauthz.ErrImmutableRole)

		// No member may transfer UiPath's ownership, the owner included.
		err = f.svc.TransferOwnership(ctx, id, "creator", "al", "administrator")
		assert.ErrorIs(t, err, orgauthz.ErrImmutableRole)
		err = f.svc.TransferOwnership(ctx, id, "al", "uma", "user")
		assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)

		// The host can: one change, one audit event.
		seq := lastSeq(t, f, "creator", id)
		require.NoError(t, h.TransferOwnership(ctx, id, "creator", "al", "administrator"))
		assert.Equal(t, "owner", f.role(t, id, "al"))
		assert.Equal(t, "administrator", f.role(t, id, "creator"))
		tail := auditTail(t, f, "al", id, seq)
		require.Len(t, tail, 1)
		assert.Equal(t, org.AuditEvent{
			Seq: seq + 1, OrgID: id, Time: tail[0].Time, Action: orgauthz.AuditOwnershipTransfer, Target: "al",
			RoleBefore: "administrator", RoleAfter: "owner", Detail: "from creator, who stepped down to administrator",
		}, tail[0])
		// Exactly one owner still, and it is al's now.
		assert.ErrorIs(t, f.svc.Leave(ctx, id, "al"), orgauthz.ErrImmutableRole)
		require.NoError(t, f.svc.Leave(ctx, id, "creator"))

		// Refusals change nothing.
		for _, c := range []struct {
			from, to, down string
			is             error
		}{
			{"uma", "al", "user", orgauthz.ErrPermissionDenied}, // uma is no owner
			{"al", "al", "user", orgauthz.ErrInvalidTransfer},
			{"al", "uma", "owner", orgauthz.ErrInvalidTransfer},
			{"al", "uma", "external", orgauthz.ErrUnknownRole}, // UiPath has no external standing
			{"al", "uma", "boss", orgauthz.ErrUnknownRole},
			{"al", "nobody", "user", orgauthz.ErrNotMember},
			{"nobody", "uma", "user", orgauthz.ErrNotMember},
		} {
			err := h.TransferOwnership(ctx, id, c.from, c.to, c.down)
			assert.ErrorIs(t, err, c.is, "%+v", c)
		}
		assert.Equal(t, "owner", f.role(t, id, "al"))
		assert.Equal(t, "user", f.role(t, id, "uma"))
	})
}

func TestOwnersHandOver(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)

		// SoterAI: the owner hands over and steps down to manager; the
		// invitations it sent as an owner, which a manager could not send,
		// die with its authority.
		s := f.newOrg(t, "soterai", "enterprise", "max", "manager", "meg", "member")
		ownerInv, _, err := f.svc.Invite(ctx, s, "creator", "o2@example.com", "owner")
		require.NoError(t, err)
		memberInv, _, err := f.svc.Invite(ctx, s, "creator", "m2@example.com", "member")
		require.NoError(t, err)
		require.NoError(t, f.svc.TransferOwnership(ctx, s, "creator", "max", "manager"))
		assert.Equal(t, "owner", f.role(t, s, "max"))
		assert.Equal(t, "manager", f.role(t, s, "creator"))
		invs, err := f.svc.Invitations(ctx, s, "max", orgauthz.Page{}, false)
		require.NoError(t, err)
		status := map[string]invite.Status{}
		for _, inv := range invs.Invitations {
			status[inv.ID] = inv.Status
		}
		assert.Equal(t, invite.Revoked, status[ownerInv.ID])
		assert.Equal(t, invite.Pending, status[memberInv.ID])
		// The old owner is now a manager: it may not give the role back.
		_, err = f.svc.ChangeRole(ctx, s, "creator", "creator", "owner")
		assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
		// A manager cannot transfer; a service principal cannot own.
		assert.ErrorIs(t, f.svc.TransferOwnership(ctx, s, "creator", "meg", "member"), orgauthz.ErrPermissionDenied)
		sp, err := f.svc.CreateServicePrincipal(ctx, s, "max", "bot1", "member")
		if err == nil {
			assert.ErrorIs(t, f.svc.TransferOwnership(ctx, s, "max", sp.PrincipalID, "manager"), orgauthz.ErrPermissionDenied)
		}
		// Stepping down to a role the edition lacks is refused.
		require.NoError(t, f.svc.ChangeEdition(ctx, s, "max", "enterprise"))

		// AI Engine: an owner hands over to an editor and becomes a viewer;
		// the projects it owns stay owned (viewers may still own projects).
		a := f.newOrg(t, "aiengine", "", "ed", "editor")
		p, err := f.svc.CreateScope(ctx, a, "creator", edition.ScopeProject, "Churn")
		require.NoError(t, err)
		require.NoError(t, f.svc.TransferOwnership(ctx, a, "creator", "ed", "viewer"))
		assert.Equal(t, "owner", f.role(t, a, "ed"))
		assert.Equal(t, "viewer", f.role(t, a, "creator"))
		assert.True(t, f.svc.CheckScope(ctx, a, "creator", edition.ScopeProject, p.ID, "project:delete").Allowed)
		// An external member cannot become the owner.
		_, err = f.svc.AddScopeMember(ctx, a, "ed", edition.ScopeProject, p.ID, user("xan"), "viewer")
		require.Error(t, err, "only the project's owner manages its members")
		_, err = f.svc.AddScopeMember(ctx, a, "creator", edition.ScopeProject, p.ID, user("xan"), "viewer")
		require.NoError(t, err)
		assert.ErrorIs(t, f.svc.TransferOwnership(ctx, a, "ed", "xan", "editor"), orgauthz.ErrNotMember)
	})
}

func TestTransferNeedsAnOfferedStepDownRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.newOrg(t, "soterai", "professional", "max", "manager")
	err := f.svc.TransferOwnership(ctx, s, "creator", "max", "member")
	assert.ErrorIs(t, err, orgauthz.ErrEditionGated, "SoterAI's member role is enterprise only")
	assert.Equal(t, "owner", f.role(t, s, "creator"))
	assert.Equal(t, "manager", f.role(t, s, "max"))
}

func TestHostCannotGiveAnExternalMemberARole(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "aiengine", "")
		p, err := f.svc.CreateScope(ctx, id, "creator", edition.ScopeProject, "P")
		require.NoError(t, err)
		_, err = f.svc.AddScopeMember(ctx, id, "creator", edition.ScopeProject, p.ID, user("ext"), "viewer")
		require.NoError(t, err)
		_, err = f.svc.Host().ChangeRole(ctx, id, "ext", "owner")
		assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "an external standing takes no seat: provision it instead")
		assert.False(t, f.svc.Check(ctx, id, "ext", "billing:manage").Allowed)
		m, err := f.svc.Host().Provision(ctx, id, user("ext"), "editor")
		require.NoError(t, err, "provisioning makes it a member, within the seat limit")
		assert.False(t, m.External)
	})
}

// Who may not manage members learns nothing of who is one: the refusal is
// the same for a member and for nobody.
func TestRefusedManagersLearnNothingOfMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "aiengine", "", "vic", "viewer", "bob", "editor")
	p, err := f.svc.CreateScope(ctx, id, "creator", edition.ScopeProject, "P")
	require.NoError(t, err)
	_, err = f.svc.AddScopeMember(ctx, id, "creator", edition.ScopeProject, p.ID, user("ext"), "viewer")
	require.NoError(t, err)
	for _, actor := range []string{"vic", "ext"} {
		for _, target := range []string{"bob", "nobody"} {
			_, err := f.svc.ChangeRole(ctx, id, actor, target, "viewer")
			assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "%s re-roles %s", actor, target)
			assert.NotErrorIs(t, err, orgauthz.ErrNotFound, "%s re-roles %s", actor, target)
			err = f.svc.RemoveMember(ctx, id, actor, target)
			assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "%s removes %s", actor, target)
			assert.NotErrorIs(t, err, orgauthz.ErrNotFound, "%s removes %s", actor, target)
			err = f.svc.TransferOwnership(ctx, id, actor, target, "viewer")
			assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "%s transfers to %s", actor, target)
			assert.NotErrorIs(t, err, orgauthz.ErrNotFound, "%s transfers to %s", actor, target)
		}
	}
}

// TestHostProvisionAllIsAllOrNone imports members in one transaction on
// both stores: a refused entry (an immutable role, one listed twice, a
// member already, one seat too many) leaves nothing behind and names its
// index; an accepted import writes every member with its audit event.
func TestHostProvisionAllIsAllOrNone(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		host := f.svc.Host()
		id := f.newOrg(t, "wherobots", "community", "bob", "user")
		p := func(id, r string) orgauthz.Provisioning { return orgauthz.Provisioning{Principal: user(id), Role: r} }
		refusals := []struct {
			name string
			ps   []orgauthz.Provisioning
			want error
			at   string
		}{
			{"listed twice", []orgauthz.Provisioning{p("cy", "user"), p("cy", "user")}, orgauthz.ErrInvalidArgument, "provisioning 1"},
			{"a member already", []orgauthz.Provisioning{p("cy", "user"), p("bob", "user")}, orgauthz.ErrAlreadyMember, "provisioning 1"},
			{"an unknown role", []orgauthz.Provisioning{p("cy", "user"), p("dee", "root")}, orgauthz.ErrUnknownRole, "provisioning 1"},
			{"one seat too many", []orgauthz.Provisioning{p("cy", "user"), p("dee", "user"), p("eve", "admin"), p("fay", "user")}, orgauthz.ErrSeatLimit, "provisioning 3"},
		}
		for _, r := range refusals {
			_, err := host.ProvisionAll(ctx, id, r.ps)
			require.ErrorIs(t, err, r.want, r.name)
			assert.Contains(t, err.Error(), r.at, r.name)
			seats, err := host.Seats(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, 2, seats.Members, "%s: nothing was added", r.name)
		}
		all, err := host.Audit(ctx, id, orgauthz.AuditQuery{})
		require.NoError(t, err)
		before := all[len(all)-1].Seq
		ms, err := host.ProvisionAll(ctx, id, []orgauthz.Provisioning{p("cy", "user"), p("dee", "user"), p("eve", "admin")})
		require.NoError(t, err)
		require.Len(t, ms, 3)
		for _, want := range []struct{ id, role string }{{"cy", "user"}, {"dee", "user"}, {"eve", "admin"}} {
			m, err := host.Member(ctx, id, want.id)
			require.NoError(t, err)
			assert.Equal(t, want.role, m.Role)
			assert.True(t, f.svc.Check(ctx, id, want.id, "cloud:use").Allowed)
		}
		evs, err := host.Audit(ctx, id, orgauthz.AuditQuery{AfterSeq: before})
		require.NoError(t, err)
		assert.Equal(t, []string{orgauthz.AuditMemberAdd, orgauthz.AuditMemberAdd, orgauthz.AuditMemberAdd}, actions(evs))
		// The organization is full now.
		_, err = host.ProvisionAll(ctx, id, []orgauthz.Provisioning{p("gus", "user")})
		assert.ErrorIs(t, err, orgauthz.ErrSeatLimit)
	})
}
