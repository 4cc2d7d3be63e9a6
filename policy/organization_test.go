package policy_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
)

// removeExternalOracle lists, per preset, the roles that may remove an
// external principal, transcribed from the specification: AI Engine's
// owners (the only ones who manage members); in the other presets, which
// have no external standing, the roles that may remove members.
var removeExternalOracle = map[string][]string{
	"aiengine":  {"owner"},
	"wherobots": {"admin"},
	"uipath":    {"owner", "administrator"},
	"soterai":   {"owner", "manager"},
}

// TestCanRemoveExternal asks every preset, edition and actor role, the
// external standing included, and compares with the oracle; the rank rule
// plays no part (nobody outranks the external standing).
func TestCanRemoveExternal(t *testing.T) {
	t.Parallel()
	asked := 0
	for name, o := range oracles() {
		s := o.scheme()
		may, ok := removeExternalOracle[name]
		require.True(t, ok, name)
		ci, ok := s.ActionCapability(edition.ActionRemove)
		require.True(t, ok)
		for _, e := range s.Editions() {
			ed := e.ID()
			for _, actor := range roleIDs(s) {
				asked++
				d := policy.CanRemoveExternal(s, ed, actor)
				want := slices.Contains(may, actor) && o.offered(actor, ed)
				require.Equal(t, want, d.Allowed, "%s %s %s: %v", name, ed, actor, d)
				// The same reasons as CanManage for the actor.
				assert.Equal(t, edition.ActionRemove, d.Action())
				assert.Equal(t, s.ExternalRole(), d.Target())
				assert.Equal(t, s.Catalog().Def(ci).ID, d.Capability())
				assert.Equal(t, actor, d.Role())
				assert.Equal(t, ed, d.Edition())
				switch {
				case d.Allowed:
					assert.Equal(t, policy.ReasonMayManage, d.Reason)
					assert.NoError(t, d.Err())
					assert.Equal(t, fmt.Sprintf("allowed (may-manage): role %q may remove an external principal from the organization", actor), d.String())
				case actor == s.ExternalRole():
					assert.Equal(t, policy.ReasonExternalRole, d.Reason, "%v", d)
					assert.ErrorIs(t, d.Err(), policy.ErrNotAssignable)
				case !o.offered(actor, ed):
					assert.Equal(t, policy.ReasonRoleNotInEdition, d.Reason, "%v", d)
				default:
					assert.Equal(t, policy.ReasonRoleLacks, d.Reason, "%v", d)
					assert.Equal(t, fmt.Sprintf("denied (role-lacks): role %q lacks %q", actor, d.Capability()), d.String())
				}
				if !d.Allowed {
					assert.ErrorIs(t, d.Err(), policy.ErrPermissionDenied)
				}
			}
		}
	}
	assert.Equal(t, 2*3+4+3+3*3, asked)
}

func TestCanRemoveExternalFaults(t *testing.T) {
	t.Parallel()
	ai := edition.AIEngine()
	noRemove := ai.Spec()
	noRemove.ID, noRemove.Management.Remove = "noremove", ""
	s, err := edition.NewScheme(noRemove)
	require.NoError(t, err)
	gated := ai.Spec()
	gated.ID = "gated"
	gated.Editions = append(gated.Editions, edition.EditionSpec{ID: "lite"})
	gated.CapabilityEditions = map[capT][]string{"members:manage": {"standard"}}
	g, err := edition.NewScheme(gated)
	require.NoError(t, err)
	for _, tt := range []struct {
		name   string
		d      policy.Decision
		reason policy.Reason
		text   string
	}{
		{"no remove action", policy.CanRemoveExternal(s, "standard", "owner"), policy.ReasonActionNotOffered,
			"denied (action-not-offered): the scheme offers no remove action"},
		{"edition gated", policy.CanRemoveExternal(g, "lite", "owner"), policy.ReasonEditionGated,
			`denied (edition-gated): edition "lite" does not offer "members:manage"`},
		{"external actor", policy.CanRemoveExternal(ai, "standard", "external"), policy.ReasonExternalRole,
			`denied (external-role): role "external" is the external standing, which never manages the organization or its members`},
		{"unknown actor", policy.CanRemoveExternal(ai, "standard", "boss"), policy.ReasonUnknownRole, `denied (unknown-role): unknown role "boss"`},
		{"unknown edition", policy.CanRemoveExternal(ai, "gold", "owner"), policy.ReasonUnknownEdition, `denied (unknown-edition): unknown edition "gold"`},
		{"no scheme", policy.CanRemoveExternal(nil, "standard", "owner"), policy.ReasonUnknownScheme, "denied (unknown-scheme): no scheme"},
	} {
		assert.False(t, tt.d.Allowed, tt.name)
		assert.Equal(t, tt.reason, tt.d.Reason, "%s: %v", tt.name, tt.d)
		assert.Equal(t, tt.text, tt.d.String(), tt.name)
		assert.Error(t, tt.d.Err())
	}
	assert.True(t, policy.CanRemoveExternal(g, "standard", "owner").Allowed)
}

// deleteOracle lists, per preset, the roles that may archive or delete
// the organization, from the presets' doc comments; the roles listed in
// immutableOwnerDenied hold the capability but not the immutable role.
var (
	deleteOracle = map[string][]string{
		"wherobots": {"admin"},
		"aiengine":  {"owner"},
		"uipath":    {"owner"},
		"soterai":   {"owner"},
	}
	immutableOwnerDenied = map[string][]string{
		"uipath": {"administrator"},
	}
)

// TestCanDeleteOrganization asks every preset × edition × role.
func TestCanDeleteOrganization(t *testing.T) {
	t.Parallel()
	asked := 0
	for name, o := range oracles() {
		s := o.scheme()
		for _, e := range s.Editions() {
			ed := e.ID()
			for _, actor := range roleIDs(s) {
				asked++
				d := policy.CanDeleteOrganization(s, ed, actor)
				want := slices.Contains(deleteOracle[name], actor)
				require.Equal(t, want, d.Allowed, "%s %s %s: %v", name, ed, actor, d)
				assert.Equal(t, s.OrgCapabilities().Delete, d.Capability())
				assert.Equal(t, actor, d.Role())
				switch {
				case d.Allowed:
					assert.Equal(t, policy.ReasonRoleHolds, d.Reason)
					assert.NoError(t, d.Err())
					// Allowed exactly where Decide allows the capability,
					// but for the immutable owner rule.
					assert.True(t, policy.Decide(s, ed, actor, s.OrgCapabilities().Delete).Allowed)
				case slices.Contains(immutableOwnerDenied[name], actor):
					assert.Equal(t, policy.ReasonImmutableOwner, d.Reason, "%v", d)
					assert.True(t, policy.Decide(s, ed, actor, s.OrgCapabilities().Delete).Allowed, "it holds the capability")
					assert.Equal(t, fmt.Sprintf(`denied (immutable-owner): only the holder of the immutable role "owner" may archive or delete the organization; role %q may not`, actor), d.String())
					err := d.Err()
					assert.ErrorIs(t, err, policy.ErrPermissionDenied)
					assert.NotErrorIs(t, err, policy.ErrInvariant)
				case actor == s.ExternalRole():
					assert.Equal(t, policy.ReasonExternalRole, d.Reason, "%v", d)
					assert.ErrorIs(t, d.Err(), policy.ErrPermissionDenied)
				default:
					assert.Equal(t, policy.Decide(s, ed, actor, s.OrgCapabilities().Delete).Reason, d.Reason, "%v", d)
					assert.ErrorIs(t, d.Err(), policy.ErrPermissionDenied)
				}
			}
		}
	}
	assert.Equal(t, 2*3+4+3+3*3, asked)
}

func TestCanDeleteOrganizationFaults(t *testing.T) {
	t.Parallel()
	up := edition.UiPath()
	sp := up.Spec()
	sp.ID, sp.Organization.Delete = "nodelete", ""
	none, err := edition.NewScheme(sp)
	require.NoError(t, err)

	// A host scheme whose external standing holds the capability.
	ext := edition.AIEngine().Spec()
	ext.ID = "ext"
	ext.Matrix["external"] = append(ext.Matrix["external"], "billing:manage")
	x, err := edition.NewScheme(ext)
	require.NoError(t, err)

	for _, tt := range []struct {
		name   string
		d      policy.Decision
		reason policy.Reason
		text   string
		err    error
	}{
		{"no delete capability", policy.CanDeleteOrganization(none, "standard", "owner"), policy.ReasonActionNotOffered,
			"denied (action-not-offered): the scheme names no capability for this operation: nobody may", policy.ErrPermissionDenied},
		{"external actor", policy.CanDeleteOrganization(x, "standard", "external"), policy.ReasonExternalRole,
			`denied (external-role): role "external" is the external standing, which never manages the organization or its members`, policy.ErrNotAssignable},
		{"unknown actor", policy.CanDeleteOrganization(up, "standard", "boss"), policy.ReasonUnknownRole, `denied (unknown-role): unknown role "boss"`, policy.ErrUnknownRole},
		{"unknown edition", policy.CanDeleteOrganization(up, "gold", "owner"), policy.ReasonUnknownEdition, `denied (unknown-edition): unknown edition "gold"`, policy.ErrUnknownEdition},
		{"no scheme", policy.CanDeleteOrganization(nil, "standard", "owner"), policy.ReasonUnknownScheme, "denied (unknown-scheme): no scheme", policy.ErrUnknownScheme},
	} {
		assert.False(t, tt.d.Allowed, tt.name)
		assert.Equal(t, tt.reason, tt.d.Reason, "%s: %v", tt.name, tt.d)
		assert.Equal(t, tt.text, tt.d.String(), tt.name)
		assert.ErrorIs(t, tt.d.Err(), tt.err, tt.name)
	}
}

func TestNotScopeMember(t *testing.T) {
	t.Parallel()
	ai := edition.AIEngine()
	d := policy.NotScopeMember(ai, "project")
	assert.False(t, d.Allowed)
	assert.Equal(t, policy.ReasonNotScopeMember, d.Reason)
	assert.Equal(t, "project", d.Scope())
	assert.Equal(t, "", d.Role())
	assert.Equal(t, `denied (not-scope-member): the principal is not a member of the project and holds no role on it`, d.String())
	err := d.Err()
	assert.ErrorIs(t, err, policy.ErrNotMember)
	assert.ErrorIs(t, err, policy.ErrPermissionDenied)
	assert.Equal(t, "permission denied: not a member: the principal is not a member of the project and holds no role on it", err.Error())
	// It is not the organization's non-member.
	assert.NotEqual(t, policy.ReasonNotMember, d.Reason)
	assert.NotContains(t, d.String(), "of the organization")

	assert.Equal(t, policy.ReasonUnknownScope, policy.NotScopeMember(ai, "galaxy").Reason)
	assert.Equal(t, policy.ReasonUnknownScheme, policy.NotScopeMember(nil, "project").Reason)
}
