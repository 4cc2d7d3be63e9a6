package orgauthz_test

import (
	"testing"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAIEngineProjects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "aiengine", "", "ed", "editor", "vic", "viewer")

	// Viewers may not create projects; editors may, and own what they create.
	_, err := f.svc.CreateScope(ctx, id, "vic", "project", "Churn")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	p, err := f.svc.CreateScope(ctx, id, "ed", "project", "Churn")
	require.NoError(t, err)
	assert.True(t, f.svc.CheckScope(ctx, id, "ed", "project", p.ID, "project:delete").Allowed)

	// The project owner adds an org viewer as project owner (viewers hold
	// projects:be_owner) and a stranger, who becomes an External User.
	_, err = f.svc.AddScopeMember(ctx, id, "ed", "project", p.ID, user("vic"), "owner")
	require.NoError(t, err)
	_, err = f.svc.AddScopeMember(ctx, id, "ed", "project", p.ID, user("xena"), "owner")
	require.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "externals lack projects:be_owner")
	assert.Contains(t, err.Error(), "projects:be_owner")
	_, err = f.svc.AddScopeMember(ctx, id, "ed", "project", p.ID, user("xena"), "editor")
	require.NoError(t, err)

	x, err := f.svc.Member(ctx, id, "ed", "xena")
	require.NoError(t, err)
	assert.True(t, x.External)
	assert.Equal(t, "external", x.Role, "listed as external")
	// An external user does only what its project role allows.
	assert.True(t, f.svc.CheckScope(ctx, id, "xena", "project", p.ID, "project/assets:manage").Allowed)
	assert.False(t, f.svc.CheckScope(ctx, id, "xena", "project", p.ID, "project:delete").Allowed)
	assert.Equal(t, policy.ReasonRoleLacks, f.svc.Check(ctx, id, "xena", "projects:create").Reason)
	assert.True(t, f.svc.Check(ctx, id, "xena", "projects:be_member").Allowed)
	_, err = f.svc.Members(ctx, id, "xena", orgauthz.Page{})
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "externals do not list the organization")
	// External users take no seat; only who manages members removes them
	// from the organization (see TestRegressionOwnerRemovesAnExternalUser).
	assert.ErrorIs(t, f.svc.RemoveMember(ctx, id, "vic", "xena"), orgauthz.ErrPermissionDenied)

	// Editors (of the project) do not manage its members.
	_, err = f.svc.AddScopeMember(ctx, id, "xena", "project", p.ID, user("yan"), "viewer")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	// The org owner does not reach into projects it is not in.
	assert.Equal(t, policy.ReasonNotScopeMember, f.svc.CheckScope(ctx, id, "creator", "project", p.ID, "project:view").Reason)

	// Removing the external user from its last project ends its standing.
	require.NoError(t, f.svc.RemoveScopeMember(ctx, id, "ed", "project", p.ID, "xena"))
	_, err = f.svc.Member(ctx, id, "ed", "xena")
	assert.ErrorIs(t, err, orgauthz.ErrNotMember)

	// A project keeps at least one owner.
	require.NoError(t, f.svc.RemoveScopeMember(ctx, id, "ed", "project", p.ID, "vic"))
	err = f.svc.RemoveScopeMember(ctx, id, "ed", "project", p.ID, "ed")
	assert.ErrorIs(t, err, orgauthz.ErrMinHolders)
	_, err = f.svc.ChangeScopeRole(ctx, id, "ed", "project", p.ID, "ed", "viewer")
	assert.ErrorIs(t, err, orgauthz.ErrMinHolders)
	// ...so its last owner cannot leave the organization either (a removal
	// by the organization's owner hands the project over instead).
	err = f.svc.Leave(ctx, id, "ed")
	assert.ErrorIs(t, err, orgauthz.ErrMinHolders)
	assert.Equal(t, "editor", f.role(t, id, "ed"), "the refused departure changed nothing")
	assert.True(t, f.svc.CheckScope(ctx, id, "ed", "project", p.ID, "project:view").Allowed)

	// The owner deletes the project.
	require.NoError(t, f.svc.DeleteScope(ctx, id, "ed", "project", p.ID))
	assert.Equal(t, policy.ReasonNotScopeMember, f.svc.CheckScope(ctx, id, "ed", "project", p.ID, "project:view").Reason)
	assert.ErrorIs(t, f.svc.DeleteScope(ctx, id, "ed", "project", p.ID), orgauthz.ErrNotFound)
}

func TestUiPathServices(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "uipath", "", "ann", "administrator", "al", "administrator", "uma", "user")

	svc, err := f.svc.CreateScope(ctx, id, "ann", "service", "Orchestrator")
	require.NoError(t, err)
	// The creator gets access, the owner reaches every service, others none.
	assert.True(t, f.svc.CheckScope(ctx, id, "ann", "service", svc.ID, "service:access").Allowed)
	assert.True(t, f.svc.CheckScope(ctx, id, "creator", "service", svc.ID, "service/robots:manage").Allowed)
	assert.Equal(t, policy.ReasonNotScopeMember, f.svc.CheckScope(ctx, id, "al", "service", svc.ID, "service:access").Reason)
	assert.Equal(t, policy.ReasonNotScopeMember, f.svc.CheckScope(ctx, id, "uma", "service", svc.ID, "service:access").Reason)

	// Users may not create services or grant access, not even to themselves.
	_, err = f.svc.CreateScope(ctx, id, "uma", "service", "Mine")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	_, err = f.svc.AddScopeMember(ctx, id, "uma", "service", svc.ID, user("uma"), "")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	// Administrators grant access to anyone, themselves included.
	_, err = f.svc.AddScopeMember(ctx, id, "al", "service", svc.ID, user("al"), "")
	require.NoError(t, err)
	assert.True(t, f.svc.CheckScope(ctx, id, "al", "service", svc.ID, "service:access").Allowed)
	// Services admit organization members only.
	_, err = f.svc.AddScopeMember(ctx, id, "al", "service", svc.ID, user("stranger"), "")
	assert.ErrorIs(t, err, orgauthz.ErrNotMember)

	// Service administrators define custom roles within what they hold.
	r, err := f.svc.DefineScopeRole(ctx, id, "ann", "service", svc.ID, orgauthz.ScopeRoleDef{ID: "operator", Capabilities: []role.Capability{"service:access", "service/jobs:manage"}})
	require.NoError(t, err)
	assert.Equal(t, "operator", r.Name)
	_, err = f.svc.DefineScopeRole(ctx, id, "uma", "service", svc.ID, orgauthz.ScopeRoleDef{ID: "mine", Capabilities: []role.Capability{"service:access"}})
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	_, err = f.svc.DefineScopeRole(ctx, id, "ann", "service", svc.ID, orgauthz.ScopeRoleDef{ID: "administrator"})
	assert.ErrorIs(t, err, orgauthz.ErrExists)
	_, err = f.svc.DefineScopeRole(ctx, id, "ann", "service", svc.ID, orgauthz.ScopeRoleDef{ID: "bad", Capabilities: []role.Capability{"rockets:launch"}})
	assert.ErrorIs(t, err, orgauthz.ErrUnknownCapability)

	_, err = f.svc.AddScopeMember(ctx, id, "ann", "service", svc.ID, user("uma"), "operator")
	require.NoError(t, err)
	assert.True(t, f.svc.CheckScope(ctx, id, "uma", "service", svc.ID, "service/jobs:manage").Allowed)
	d := f.svc.CheckScope(ctx, id, "uma", "service", svc.ID, "service/robots:manage")
	assert.Equal(t, policy.ReasonRoleLacks, d.Reason, "%v", d)
	_, err = f.svc.AddScopeMember(ctx, id, "ann", "service", svc.ID, user("uma"), "janitor")
	assert.ErrorIs(t, err, orgauthz.ErrUnknownRole)

	// An operator cannot define roles: it lacks service/roles:manage.
	_, err = f.svc.DefineScopeRole(ctx, id, "uma", "service", svc.ID, orgauthz.ScopeRoleDef{ID: "sub", Capabilities: []role.Capability{"service:access"}})
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)

	page, err := f.svc.ScopeMembers(ctx, id, "uma", "service", svc.ID, orgauthz.Page{})
	require.NoError(t, err)
	var ids []string
	for _, m := range page.Members {
		ids = append(ids, m.PrincipalID+":"+m.Role)
	}
	assert.Equal(t, []string{"al:administrator", "ann:administrator", "uma:operator"}, ids)
}

// A scope administrator whose authority comes from the resource (not the
// organization) may grant only what it holds there.
func TestScopeAuthorityIsBoundedByWhatTheActorHolds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "soterai", "enterprise", "max", "manager", "meg", "member", "mo", "member")
	ws, err := f.svc.CreateScope(ctx, id, "max", "workspace", "Safety")
	require.NoError(t, err)
	// Members may be workspace members, not workspace managers.
	_, err = f.svc.AddScopeMember(ctx, id, "max", "workspace", ws.ID, user("meg"), "manager")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	_, err = f.svc.AddScopeMember(ctx, id, "max", "workspace", ws.ID, user("meg"), "")
	require.NoError(t, err)
	assert.True(t, f.svc.CheckScope(ctx, id, "meg", "workspace", ws.ID, "workspace:use").Allowed)
	assert.False(t, f.svc.CheckScope(ctx, id, "meg", "workspace", ws.ID, "workspace:configure").Allowed)
	// Owners reach every workspace as its manager.
	assert.True(t, f.svc.CheckScope(ctx, id, "creator", "workspace", ws.ID, "workspace:configure").Allowed)
	// A workspace member manages nobody there.
	_, err = f.svc.AddScopeMember(ctx, id, "meg", "workspace", ws.ID, user("mo"), "")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	// Anyone may take itself off a resource.
	require.NoError(t, f.svc.RemoveScopeMember(ctx, id, "meg", "workspace", ws.ID, "meg"))
	assert.Equal(t, policy.ReasonNotScopeMember, f.svc.CheckScope(ctx, id, "meg", "workspace", ws.ID, "workspace:use").Reason)
	// Unknown kinds and resources.
	_, err = f.svc.CreateScope(ctx, id, "max", "project", "X")
	assert.ErrorIs(t, err, orgauthz.ErrUnknownScope)
	_, err = f.svc.AddScopeMember(ctx, id, "max", "workspace", "nope", user("mo"), "")
	assert.ErrorIs(t, err, orgauthz.ErrNotFound)
	_, err = f.svc.CreateScope(ctx, id, "max", "workspace", "")
	assert.ErrorIs(t, err, orgauthz.ErrInvalidName)
}

func TestScopeChangesAreAudited(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "aiengine", "", "ed", "editor")
	p, err := f.svc.CreateScope(ctx, id, "ed", "project", "P")
	require.NoError(t, err)
	_, err = f.svc.AddScopeMember(ctx, id, "ed", "project", p.ID, org.Principal{ID: "svc-bot", Kind: org.User}, "viewer")
	require.NoError(t, err)
	_, err = f.svc.ChangeScopeRole(ctx, id, "ed", "project", p.ID, "svc-bot", "editor")
	require.NoError(t, err)
	require.NoError(t, f.svc.RemoveScopeMember(ctx, id, "ed", "project", p.ID, "svc-bot"))
	events, err := f.svc.Audit(ctx, id, "creator", orgauthz.AuditQuery{AfterSeq: 2})
	require.NoError(t, err)
	var got []string
	for _, e := range events {
		got = append(got, e.Action+" "+e.Target+" "+e.RoleBefore+">"+e.RoleAfter)
	}
	assert.Equal(t, []string{
		"scope.create project/" + p.ID + " >owner",
		"member.add svc-bot >external", // joins the organization through the project
		"scope.member.add project/" + p.ID + " >viewer",
		"scope.member.role project/" + p.ID + " viewer>editor",
		"scope.member.remove project/" + p.ID + " editor>",
		"member.remove svc-bot external>", // leaves it with its last project
	}, got)
}
