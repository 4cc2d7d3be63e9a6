package edition_test

import (
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPresetOrganizationCapabilities pins the decisions recorded in the
// presets' doc comments: which capability governs settings, editions,
// deletion and the audit trail, and which capabilities act on one's own
// things.
func TestPresetOrganizationCapabilities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    *edition.Scheme
		want edition.OrgCapabilities
		own  []role.Capability
	}{
		{edition.Wherobots(), edition.OrgCapabilities{Settings: "organization/settings:manage", Edition: "organization/settings:manage", Delete: "organization/settings:manage", Audit: "audit_logs:view"}, []role.Capability{"api_keys:manage_own"}},
		{edition.AIEngine(), edition.OrgCapabilities{Settings: "billing:manage", Edition: "billing:manage", Delete: "billing:manage", Audit: "members:manage"}, nil},
		{edition.UiPath(), edition.OrgCapabilities{Settings: "organization_settings:edit", Edition: "licenses:edit", Delete: "organization_settings:delete", Audit: "audit_logs:view"}, nil},
		{edition.SoterAI(), edition.OrgCapabilities{Settings: "organization/settings:edit", Edition: "billing:manage", Delete: "organization:delete", Audit: "organization/settings:edit", Trial: "billing:manage"}, []role.Capability{"content/own:edit", "profile/own:edit"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.s.OrgCapabilities(), tt.s.ID())
		var own []role.Capability
		for i, d := range tt.s.Catalog().All() {
			if tt.s.IsOwn(i) {
				own = append(own, d.ID)
			}
		}
		assert.Equal(t, tt.own, own, tt.s.ID())
	}
}

func TestOrganizationCapabilityFaults(t *testing.T) {
	t.Parallel()
	base := func() edition.Spec {
		return edition.Spec{
			ID:           "host",
			Roles:        []role.Role{{ID: "admin", Rank: 2}, {ID: "member", Rank: 1}},
			Capabilities: []role.Def{{ID: "org:manage"}, {ID: "docs:read"}, {ID: "nobody:holds"}},
			Matrix:       map[string][]role.Capability{"admin": {"org:manage", "docs:read"}, "member": {"docs:read"}},
			Editions:     []edition.EditionSpec{{ID: "std"}},
			CreatorRole:  "admin",
			InviteRole:   "member",
			Organization: edition.OrgCapabilities{Settings: "org:manage", Audit: "org:manage"},
			Own:          []role.Capability{"docs:read"},
		}
	}
	s, err := edition.NewScheme(base())
	require.NoError(t, err)
	assert.Equal(t, role.Capability("org:manage"), s.OrgCapabilities().Settings)
	assert.Empty(t, s.OrgCapabilities().Delete, "an empty one means nobody may")

	for _, tt := range []struct {
		name string
		mut  func(*edition.Spec)
		is   error
		says string
	}{
		{"unknown settings capability", func(sp *edition.Spec) { sp.Organization.Settings = "org:rename" }, role.ErrUnknownCapability, `Organization.Settings names capability "org:rename"`},
		{"malformed edition capability", func(sp *edition.Spec) { sp.Organization.Edition = "Org:Plan" }, role.ErrInvalidCapability, "Organization.Edition"},
		{"delete capability nobody holds", func(sp *edition.Spec) { sp.Organization.Delete = "nobody:holds" }, nil, `Organization.Delete is "nobody:holds", which no role holds`},
		{"audit capability nobody holds", func(sp *edition.Spec) { sp.Organization.Audit = "nobody:holds" }, nil, "Organization.Audit"},
		{"unknown own capability", func(sp *edition.Spec) { sp.Own = []role.Capability{"keys:own"} }, role.ErrUnknownCapability, `Own names capability "keys:own"`},
	} {
		sp := base()
		tt.mut(&sp)
		_, err := edition.NewScheme(sp)
		require.ErrorIs(t, err, edition.ErrInvalidScheme, tt.name)
		if tt.is != nil {
			assert.ErrorIs(t, err, tt.is, tt.name)
		}
		assert.Contains(t, err.Error(), tt.says, tt.name)
	}
}

func TestSpecCopiesOwn(t *testing.T) {
	t.Parallel()
	s := edition.SoterAI()
	sp := s.Spec()
	sp.Own[0] = "billing:manage"
	assert.Equal(t, []role.Capability{"content/own:edit", "profile/own:edit"}, s.Spec().Own)
}

func TestPresetKeyCapabilities(t *testing.T) {
	t.Parallel()
	assert.Equal(t, edition.KeyCapabilities{
		ServicePrincipals: "service_principals:create", ServicePrincipalKeys: "service_principals/api_keys:add",
		Own: "api_keys:manage_own", RevokeOthers: "api_keys:revoke_others", Authenticate: "api_keys:authenticate",
	}, edition.Wherobots().KeyCapabilities())
	assert.Equal(t, edition.KeyCapabilities{
		ServicePrincipals: "licenses/api_keys:create", ServicePrincipalKeys: "licenses/api_keys:create",
		Own: "licenses/api_keys:create", RevokeOthers: "licenses/api_keys:delete",
	}, edition.UiPath().KeyCapabilities())
	assert.Zero(t, edition.AIEngine().KeyCapabilities(), "publishes none")
	assert.Zero(t, edition.SoterAI().KeyCapabilities(), "publishes none")

	spec := edition.SoterAI().Spec()
	spec.Keys.Own = "api_keys:create"
	_, err := edition.NewScheme(spec)
	require.ErrorIs(t, err, role.ErrUnknownCapability)
	assert.Contains(t, err.Error(), "Keys.Own")
	spec = edition.Wherobots().Spec()
	spec.Keys.Authenticate = "nobody:holds"
	spec.Capabilities = append(spec.Capabilities, role.Def{ID: "nobody:holds"})
	_, err = edition.NewScheme(spec)
	require.ErrorIs(t, err, edition.ErrInvalidScheme)
	assert.Contains(t, err.Error(), `Keys.Authenticate is "nobody:holds", which no role holds`)
}
