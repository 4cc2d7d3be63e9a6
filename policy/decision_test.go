package policy_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecisionExplains(t *testing.T) {
	t.Parallel()
	w, ai, up, so := edition.Wherobots(), edition.AIEngine(), edition.UiPath(), edition.SoterAI()
	tests := []struct {
		name string
		d    policy.Decision
		text string
		errs []error // sentinels Err must match; none when allowed
	}{
		{"allowed", policy.Decide(w, "professional", "user", "job_runs:create"),
			`allowed (role-holds): role "user" holds "job_runs:create" in edition "professional"`, nil},
		{"role lacks", policy.Decide(w, "enterprise", "user", "members:manage"),
			`denied (role-lacks): role "user" lacks "members:manage"`, []error{policy.ErrPermissionDenied}},
		{"edition gates", policy.Decide(w, "community", "admin", "billing:view"),
			`denied (edition-gated): edition "community" does not offer "billing:view"`, []error{policy.ErrPermissionDenied, policy.ErrEditionGated}},
		{"role not in edition", policy.Decide(so, "starter", "member", "content:use"),
			`denied (role-not-in-edition): edition "starter" does not offer role "member"`, []error{policy.ErrPermissionDenied, policy.ErrEditionGated}},
		{"new role not in edition", policy.CanInvite(so, "starter", "owner", "member"),
			`denied (role-not-in-edition): edition "starter" does not offer role "member"`, []error{policy.ErrPermissionDenied, policy.ErrEditionGated}},
		{"unknown capability", policy.Decide(w, "community", "admin", "rockets:launch"),
			`denied (unknown-capability): unknown capability "rockets:launch"`, []error{policy.ErrUnknownCapability}},
		{"unknown role", policy.Decide(w, "community", "root", "cloud:use"),
			`denied (unknown-role): unknown role "root"`, []error{policy.ErrUnknownRole}},
		{"unknown edition", policy.Decide(w, "platinum", "admin", "cloud:use"),
			`denied (unknown-edition): unknown edition "platinum"`, []error{policy.ErrUnknownEdition}},
		{"no scheme", policy.Decide(nil, "community", "admin", "cloud:use"),
			`denied (unknown-scheme): no scheme`, []error{policy.ErrUnknownScheme}},
		{"may manage", policy.CanChangeRole(w, "community", "admin", "user", "admin"),
			`allowed (may-manage): role "admin" may change a member's role from "user" to "admin"`, nil},
		{"outranked", policy.CanRemove(so, "starter", "manager", "owner"),
			`denied (outranked): role "manager" may not remove a member holding "owner"`, []error{policy.ErrPermissionDenied}},
		{"may not assign", policy.CanInvite(so, "starter", "manager", "owner"),
			`denied (may-not-assign): role "manager" may not give role "owner"`, []error{policy.ErrPermissionDenied}},
		{"immutable target", policy.CanRemove(up, "standard", "owner", "owner"),
			`denied (immutable-target): role "owner" is immutable: its holder can be neither removed nor re-roled`, []error{policy.ErrInvariant, policy.ErrImmutableRole}},
		{"immutable role", policy.CanInvite(up, "standard", "owner", "owner"),
			`denied (immutable-role): role "owner" is immutable: never given, taken or removed`, []error{policy.ErrInvariant, policy.ErrImmutableRole}},
		{"immutable leaver", policy.CanLeave(up, "standard", "owner"),
			`denied (immutable-role): role "owner" is immutable: never given, taken or removed`, []error{policy.ErrInvariant, policy.ErrImmutableRole}},
		{"external", policy.CanInvite(ai, "standard", "owner", "external"),
			`denied (external-role): role "external" is the external standing, which is never given`, []error{policy.ErrPermissionDenied, policy.ErrNotAssignable}},
		{"external actor", policy.CanInvite(ai, "standard", "external", "viewer"),
			`denied (external-role): role "external" is the external standing, which never manages the organization or its members`, []error{policy.ErrPermissionDenied, policy.ErrNotAssignable}},
		{"external target", policy.CanRemove(ai, "standard", "owner", "external"),
			`denied (external-role): role "external" is the external standing, not a member's role: it is neither removed nor re-roled as one`, []error{policy.ErrPermissionDenied, policy.ErrNotAssignable}},
		{"external leaver", policy.CanLeave(ai, "standard", "external"),
			`denied (external-role): role "external" is the external standing, not a member's role: there is no membership to leave`, []error{policy.ErrPermissionDenied, policy.ErrNotAssignable}},
		{"external zero decision", policy.Decision{Reason: policy.ReasonExternalRole},
			`denied (external-role): the external standing is never given, managed or managing`, []error{policy.ErrPermissionDenied, policy.ErrNotAssignable}},
		{"assign allowed", policy.CanAssign(up, "standard", "administrator", "user"),
			`allowed (may-manage): role "administrator" may give role "user"`, nil},
		{"assign immutable", policy.CanAssign(up, "standard", "administrator", "owner"),
			`denied (immutable-role): role "owner" is immutable: never given, taken or removed`, []error{policy.ErrInvariant, policy.ErrImmutableRole}},
		{"assign immutable by itself", policy.CanAssign(up, "standard", "owner", "owner"),
			`denied (immutable-role): role "owner" is immutable: never given, taken or removed`, []error{policy.ErrInvariant, policy.ErrImmutableRole}},
		{"assign new role not in edition", policy.CanAssign(so, "starter", "owner", "member"),
			`denied (role-not-in-edition): edition "starter" does not offer role "member"`, []error{policy.ErrPermissionDenied, policy.ErrEditionGated}},
		{"assign actor not in edition", policy.CanAssign(so, "starter", "member", "manager"),
			`denied (role-not-in-edition): edition "starter" does not offer role "member"`, []error{policy.ErrPermissionDenied, policy.ErrEditionGated}},
		{"assign external", policy.CanAssign(ai, "standard", "owner", "external"),
			`denied (external-role): role "external" is the external standing, which is never given`, []error{policy.ErrPermissionDenied, policy.ErrNotAssignable}},
		{"remove external", policy.CanRemoveExternal(ai, "standard", "owner"),
			`allowed (may-manage): role "owner" may remove an external principal from the organization`, nil},
		{"remove external denied", policy.CanRemoveExternal(ai, "standard", "editor"),
			`denied (role-lacks): role "editor" lacks "members:manage"`, []error{policy.ErrPermissionDenied}},
		{"delete organization", policy.CanDeleteOrganization(up, "standard", "owner"),
			`allowed (role-holds): role "owner" holds "organization_settings:delete" in edition "standard"`, nil},
		{"delete organization immutable owner", policy.CanDeleteOrganization(up, "standard", "administrator"),
			`denied (immutable-owner): only the holder of the immutable role "owner" may archive or delete the organization; role "administrator" may not`, []error{policy.ErrPermissionDenied}},
		{"delete organization lacks", policy.CanDeleteOrganization(up, "standard", "user"),
			`denied (role-lacks): role "user" lacks "organization_settings:delete"`, []error{policy.ErrPermissionDenied}},
		{"not a scope member", policy.NotScopeMember(ai, "project"),
			`denied (not-scope-member): the principal is not a member of the project and holds no role on it`, []error{policy.ErrPermissionDenied, policy.ErrNotMember}},
		{"not a scope member, kind unnamed", policy.Decision{Reason: policy.ReasonNotScopeMember},
			`denied (not-scope-member): the principal holds no role on the resource`, []error{policy.ErrPermissionDenied, policy.ErrNotMember}},
		{"not a member", policy.Decision{Reason: policy.ReasonNotMember},
			`denied (not-member): the principal is not a member of the organization`, []error{policy.ErrPermissionDenied, policy.ErrNotMember}},
		{"action not offered", policy.CanAdd(w, "community", "admin", "user"),
			`denied (action-not-offered): the scheme offers no add action`, []error{policy.ErrPermissionDenied}},
		{"scope holds", policy.DecideScope(ai, "project", "editor", "project/assets:manage"),
			`allowed (role-holds): project role "editor" holds "project/assets:manage"`, nil},
		{"scope lacks", policy.DecideScope(ai, "project", "viewer", "project:delete"),
			`denied (role-lacks): project role "viewer" lacks "project:delete"`, []error{policy.ErrPermissionDenied}},
		{"unknown scope", policy.DecideScope(ai, "galaxy", "owner", "project:view"),
			`denied (unknown-scope): unknown scope kind "galaxy"`, []error{policy.ErrUnknownScope}},
		{"not eligible", policy.Eligible(ai, "standard", "project", "external", "owner"),
			`denied (not-eligible): organization role "external" may not hold project role "owner": it lacks "projects:be_owner"`, []error{policy.ErrPermissionDenied}},
		{"eligible", policy.Eligible(ai, "standard", "project", "external", "viewer"),
			`allowed (eligible): organization role "external" may hold project role "viewer"`, nil},
		{"zero decision", policy.Decision{},
			`denied (Reason(0)): no rule decided`, []error{policy.ErrPermissionDenied}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.text, tt.d.String())
			err := tt.d.Err()
			if tt.errs == nil {
				assert.True(t, tt.d.Allowed)
				assert.NoError(t, err)
				return
			}
			assert.False(t, tt.d.Allowed)
			if assert.Error(t, err) {
				for _, want := range tt.errs {
					assert.ErrorIs(t, err, want)
				}
				for _, other := range []error{policy.ErrPermissionDenied, policy.ErrInvariant, policy.ErrUnknownRole, policy.ErrUnknownCapability, policy.ErrUnknownEdition} {
					if !contains(tt.errs, other) {
						assert.False(t, errors.Is(err, other), "error %q must not match %v", err, other)
					}
				}
			}
		})
	}
}

func contains(errs []error, e error) bool {
	for _, x := range errs {
		if x == e {
			return true
		}
	}
	return false
}

func TestDecisionAccessors(t *testing.T) {
	t.Parallel()
	so := edition.SoterAI()
	d := policy.CanChangeRole(so, "enterprise", "manager", "member", "manager")
	assert.Equal(t, "manager", d.Role())
	assert.Equal(t, "member", d.Target())
	assert.Equal(t, "manager", d.NewRole())
	assert.Equal(t, "enterprise", d.Edition())
	assert.Equal(t, role.Capability("members:change_role"), d.Capability())
	assert.Equal(t, edition.ActionChangeRole, d.Action())
	assert.Equal(t, "", d.Scope())

	d = policy.Decide(so, "starter", "owner", "billing:manage")
	assert.Equal(t, "owner", d.Role())
	assert.Equal(t, role.Capability("billing:manage"), d.Capability())
	assert.Equal(t, edition.Action(0), d.Action())
	assert.Equal(t, "", d.Target())
	assert.Equal(t, "", d.NewRole())

	d = policy.DecideScope(so, "workspace", "member", "workspace:use")
	assert.Equal(t, "workspace", d.Scope())
	assert.Equal(t, "member", d.Role())
	assert.Equal(t, role.Capability("workspace:use"), d.Capability())
	assert.Equal(t, "", d.Edition())

	d = policy.Eligible(so, "enterprise", "workspace", "member", "manager")
	assert.Equal(t, "member", d.Role())
	assert.Equal(t, "manager", d.NewRole())
	assert.Equal(t, role.Capability("workspace/settings:edit"), d.Capability())

	// Unknown inputs are echoed by the accessor they belong to; the
	// inputs resolved before it still name themselves.
	d = policy.Decide(so, "starter", "owner", "nope:nope")
	assert.Equal(t, role.Capability("nope:nope"), d.Capability())
	assert.Equal(t, "owner", d.Role())
	assert.Equal(t, "starter", d.Edition())

	// Decisions compare with ==.
	assert.Equal(t, policy.Decide(so, "starter", "owner", "billing:manage"), policy.Decide(so, "starter", "owner", "billing:manage"))
	assert.NotEqual(t, policy.Decide(so, "starter", "owner", "billing:manage"), policy.Decide(so, "starter", "manager", "billing:manage"))
}

func TestDecideAt(t *testing.T) {
	t.Parallel()
	for _, s := range []*edition.Scheme{edition.Wherobots(), edition.AIEngine(), edition.UiPath(), edition.SoterAI()} {
		for row := range policy.Rows(s) {
			e, _ := s.Edition(row.Edition)
			ri, _ := s.RoleIndex(row.Role)
			ci, _ := s.Catalog().Index(row.Capability)
			at := policy.DecideAt(s, e, ri, ci)
			assert.Equal(t, policy.Decide(s, row.Edition, row.Role, row.Capability), at)
			assert.Equal(t, row.Allowed, at.Allowed)
		}
	}
	s := edition.Wherobots()
	e, _ := s.Edition("community")
	assert.Equal(t, policy.ReasonUnknownScheme, policy.DecideAt(nil, e, 0, 0).Reason)
	assert.Equal(t, policy.ReasonUnknownEdition, policy.DecideAt(s, nil, 0, 0).Reason)
	assert.Equal(t, policy.ReasonUnknownRole, policy.DecideAt(s, e, 2, 0).Reason)
	assert.Equal(t, policy.ReasonUnknownRole, policy.DecideAt(s, e, -1, 0).Reason)
	assert.Equal(t, policy.ReasonUnknownCapability, policy.DecideAt(s, e, 0, 18).Reason)
	assert.Equal(t, policy.ReasonUnknownCapability, policy.DecideAt(s, e, 0, -3).Reason)
}

// TestNoAllocations counts allocations (not time) on the paths the design
// promises never allocate: every decision that allows, and denials whose
// inputs are all known.
func TestNoAllocations(t *testing.T) {
	w, so, up, ai := edition.Wherobots(), edition.SoterAI(), edition.UiPath(), edition.AIEngine()
	e, _ := w.Edition("professional")
	ri, _ := w.RoleIndex("user")
	ci, _ := w.Catalog().Index("job_runs:create")
	se, _ := so.Edition("enterprise")
	mi, _ := so.RoleIndex("manager")
	me, _ := so.RoleIndex("member")
	paths := map[string]func() bool{
		"Decide allow":      func() bool { return policy.Decide(w, "professional", "user", "job_runs:create").Allowed },
		"Decide deny":       func() bool { return !policy.Decide(w, "community", "user", "job_runs:create").Allowed },
		"DecideAt allow":    func() bool { return policy.DecideAt(w, e, ri, ci).Allowed },
		"CanManage allow":   func() bool { return policy.CanChangeRole(so, "enterprise", "manager", "member", "manager").Allowed },
		"CanManage deny":    func() bool { return !policy.CanRemove(so, "enterprise", "manager", "owner").Allowed },
		"CanManageAt allow": func() bool { return policy.CanManageAt(so, se, mi, edition.ActionChangeRole, me, mi).Allowed },
		"DecideScope allow": func() bool { return policy.DecideScope(so, "workspace", "member", "workspace:use").Allowed },
		"Eligible allow":    func() bool { return policy.Eligible(so, "enterprise", "workspace", "manager", "manager").Allowed },
		"Eligible deny":     func() bool { return !policy.Eligible(so, "enterprise", "workspace", "member", "manager").Allowed },
		"CanAssign allow":   func() bool { return policy.CanAssign(so, "enterprise", "manager", "member").Allowed },
		"CanAssign deny":    func() bool { return !policy.CanAssign(up, "standard", "administrator", "owner").Allowed },
		"CanRemoveExternal allow": func() bool {
			return policy.CanRemoveExternal(ai, "standard", "owner").Allowed
		},
		"CanRemoveExternal deny": func() bool {
			return !policy.CanRemoveExternal(ai, "standard", "external").Allowed
		},
		"CanDeleteOrganization allow": func() bool {
			return policy.CanDeleteOrganization(up, "standard", "owner").Allowed
		},
		"CanDeleteOrganization deny": func() bool {
			return !policy.CanDeleteOrganization(up, "standard", "administrator").Allowed
		},
		"NotScopeMember": func() bool { return !policy.NotScopeMember(so, "workspace").Allowed },
	}
	for name, f := range paths {
		if !f() {
			t.Fatalf("%s: the path does not give the answer it is named for", name)
		}
		if n := testing.AllocsPerRun(100, func() { f() }); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
}

func TestReasonString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "role-holds", policy.ReasonRoleHolds.String())
	assert.Equal(t, "edition-gated", policy.ReasonEditionGated.String())
	assert.Equal(t, "not-scope-member", policy.ReasonNotScopeMember.String())
	assert.Equal(t, "immutable-owner", policy.ReasonImmutableOwner.String())
	assert.Equal(t, "Reason(0)", policy.Reason(0).String())
	assert.Equal(t, "Reason(200)", policy.Reason(200).String())
}

// allReasons lists every reason a Decision can give, in order, with the
// sentinels its Err matches. A new reason must be added here.
var allReasons = []struct {
	r    policy.Reason
	name string
	errs []error // nil for the allowing reasons
}{
	{policy.ReasonRoleHolds, "role-holds", nil},
	{policy.ReasonMayManage, "may-manage", nil},
	{policy.ReasonMayLeave, "may-leave", nil},
	{policy.ReasonEligible, "eligible", nil},
	{policy.ReasonRoleLacks, "role-lacks", []error{policy.ErrPermissionDenied}},
	{policy.ReasonEditionGated, "edition-gated", []error{policy.ErrPermissionDenied, policy.ErrEditionGated}},
	{policy.ReasonRoleNotInEdition, "role-not-in-edition", []error{policy.ErrPermissionDenied, policy.ErrEditionGated}},
	{policy.ReasonActionNotOffered, "action-not-offered", []error{policy.ErrPermissionDenied}},
	{policy.ReasonOutranked, "outranked", []error{policy.ErrPermissionDenied}},
	{policy.ReasonMayNotAssign, "may-not-assign", []error{policy.ErrPermissionDenied}},
	{policy.ReasonEscalation, "escalation", []error{policy.ErrPermissionDenied}},
	{policy.ReasonImmutableRole, "immutable-role", []error{policy.ErrInvariant, policy.ErrImmutableRole}},
	{policy.ReasonImmutableTarget, "immutable-target", []error{policy.ErrInvariant, policy.ErrImmutableRole}},
	{policy.ReasonExternalRole, "external-role", []error{policy.ErrPermissionDenied, policy.ErrNotAssignable}},
	{policy.ReasonNotEligible, "not-eligible", []error{policy.ErrPermissionDenied}},
	{policy.ReasonUnknownCapability, "unknown-capability", []error{policy.ErrUnknownCapability}},
	{policy.ReasonUnknownRole, "unknown-role", []error{policy.ErrUnknownRole}},
	{policy.ReasonUnknownTarget, "unknown-target-role", []error{policy.ErrUnknownRole}},
	{policy.ReasonUnknownNewRole, "unknown-new-role", []error{policy.ErrUnknownRole}},
	{policy.ReasonUnknownEdition, "unknown-edition", []error{policy.ErrUnknownEdition}},
	{policy.ReasonUnknownScope, "unknown-scope", []error{policy.ErrUnknownScope}},
	{policy.ReasonUnknownScheme, "unknown-scheme", []error{policy.ErrUnknownScheme}},
	{policy.ReasonNotOwner, "not-owner", []error{policy.ErrPermissionDenied, policy.ErrNotOwner}},
	{policy.ReasonUnknownOrganization, "unknown-organization", []error{policy.ErrUnknownOrganization}},
	{policy.ReasonNotMember, "not-member", []error{policy.ErrPermissionDenied, policy.ErrNotMember}},
	{policy.ReasonArchived, "archived", []error{policy.ErrPermissionDenied, policy.ErrArchived}},
	{policy.ReasonUnavailable, "unavailable", []error{policy.ErrUnavailable}},
	{policy.ReasonNotScopeMember, "not-scope-member", []error{policy.ErrPermissionDenied, policy.ErrNotMember}},
	{policy.ReasonImmutableOwner, "immutable-owner", []error{policy.ErrPermissionDenied}},
}

// TestEveryReason goes through every reason: values are dense, in order
// and never shift (they are stored and logged by value); each has a
// stable name and an explanation, and its Err matches its sentinels and
// none of the others.
func TestEveryReason(t *testing.T) {
	t.Parallel()
	// The values released before ReasonNotScopeMember keep their numbers.
	assert.Equal(t, policy.Reason(1), policy.ReasonRoleHolds)
	assert.Equal(t, policy.Reason(27), policy.ReasonUnavailable)
	assert.Equal(t, policy.ReasonUnavailable+1, policy.ReasonNotScopeMember)
	assert.Equal(t, policy.ReasonNotScopeMember+1, policy.ReasonImmutableOwner)

	sentinels := []error{policy.ErrPermissionDenied, policy.ErrEditionGated, policy.ErrNotAssignable, policy.ErrInvariant,
		policy.ErrImmutableRole, policy.ErrNotOwner, policy.ErrNotMember, policy.ErrArchived, policy.ErrUnknownOrganization,
		policy.ErrUnavailable, policy.ErrUnknownRole, policy.ErrUnknownCapability, policy.ErrUnknownEdition,
		policy.ErrUnknownScope, policy.ErrUnknownScheme}
	names := map[string]bool{}
	for i, want := range allReasons {
		require.Equal(t, policy.Reason(i+1), want.r, "allReasons[%d]", i)
		assert.Equal(t, want.name, want.r.String())
		assert.False(t, names[want.name], "name %q given twice", want.name)
		names[want.name] = true

		d := policy.Decision{Reason: want.r}
		assert.NotContains(t, d.String(), "no rule decided", want.name)
		err := d.Err()
		if want.errs == nil {
			assert.NoError(t, policy.Decision{Allowed: true, Reason: want.r}.Err(), want.name)
			continue
		}
		require.Error(t, err, want.name)
		for _, e := range sentinels {
			assert.Equal(t, contains(want.errs, e), errors.Is(err, e), "%s: %v matches %v", want.name, err, e)
		}
	}
	// The next value is no reason.
	next := allReasons[len(allReasons)-1].r + 1
	assert.Equal(t, fmt.Sprintf("Reason(%d)", next), next.String())
}

func TestOutrankedExplainsTheAction(t *testing.T) {
	t.Parallel()
	so := edition.SoterAI()
	assert.Equal(t, `denied (outranked): role "manager" may not change the role of a member holding "owner"`,
		policy.CanChangeRole(so, "enterprise", "manager", "owner", "member").String())
}
