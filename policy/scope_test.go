package policy_test

import (
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
)

func TestDecideScopeProjectMatrix(t *testing.T) {
	t.Parallel()
	ai := edition.AIEngine()
	// The AI Engine project table, transcribed from the specification.
	want := map[role.Capability][]string{
		"project/members:manage": {"owner"},
		"project:delete":         {"owner"},
		"project/assets:manage":  {"owner", "editor"},
		"project:view":           {"owner", "editor", "viewer"},
	}
	cells := 0
	for c, holders := range want {
		for _, r := range []string{"owner", "editor", "viewer"} {
			d := policy.DecideScope(ai, "project", r, c)
			held := contains2(holders, r)
			assert.Equal(t, held, d.Allowed, "%s %s: %v", r, c, d)
			if held {
				assert.Equal(t, policy.ReasonRoleHolds, d.Reason)
			} else {
				assert.Equal(t, policy.ReasonRoleLacks, d.Reason)
			}
			cells++
		}
	}
	assert.Equal(t, 12, cells)
	assert.Equal(t, policy.ReasonUnknownRole, policy.DecideScope(ai, "project", "external", "project:view").Reason)
	assert.Equal(t, policy.ReasonUnknownCapability, policy.DecideScope(ai, "project", "owner", "billing:manage").Reason)
	assert.Equal(t, policy.ReasonUnknownScope, policy.DecideScope(ai, "workspace", "owner", "project:view").Reason)
	assert.Equal(t, policy.ReasonUnknownScheme, policy.DecideScope(nil, "project", "owner", "project:view").Reason)
}

func contains2(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestEligible(t *testing.T) {
	t.Parallel()
	ai, up, so := edition.AIEngine(), edition.UiPath(), edition.SoterAI()
	tests := []struct {
		name               string
		s                  *edition.Scheme
		ed, kind, org, rol string
		reason             policy.Reason
	}{
		// AI Engine: who may be added as project owner, editor or viewer.
		{"aiengine owner as project owner", ai, "standard", "project", "owner", "owner", policy.ReasonEligible},
		{"aiengine editor as project owner", ai, "standard", "project", "editor", "owner", policy.ReasonEligible},
		{"aiengine viewer as project owner", ai, "standard", "project", "viewer", "owner", policy.ReasonEligible},
		{"aiengine external as project owner", ai, "standard", "project", "external", "owner", policy.ReasonNotEligible},
		{"aiengine external as project editor", ai, "standard", "project", "external", "editor", policy.ReasonEligible},
		{"aiengine external as project viewer", ai, "standard", "project", "external", "viewer", policy.ReasonEligible},
		{"aiengine viewer as project editor", ai, "standard", "project", "viewer", "editor", policy.ReasonEligible},
		// UiPath: any member may be given service access; there are no
		// external members.
		{"uipath user as service administrator", up, "standard", "service", "user", "administrator", policy.ReasonEligible},
		{"uipath has no external standing", up, "standard", "service", "external", "administrator", policy.ReasonUnknownRole},
		// SoterAI: only owners and managers may manage a workspace.
		{"soterai manager as workspace manager", so, "starter", "workspace", "manager", "manager", policy.ReasonEligible},
		{"soterai member as workspace manager", so, "enterprise", "workspace", "member", "manager", policy.ReasonNotEligible},
		{"soterai member as workspace member", so, "enterprise", "workspace", "member", "member", policy.ReasonEligible},
		{"soterai member outside enterprise", so, "starter", "workspace", "member", "member", policy.ReasonRoleNotInEdition},
		// Unknown input.
		{"unknown scope role", ai, "standard", "project", "owner", "admiral", policy.ReasonUnknownNewRole},
		{"unknown scope kind", ai, "standard", "service", "owner", "owner", policy.ReasonUnknownScope},
		{"unknown edition", ai, "gold", "project", "owner", "owner", policy.ReasonUnknownEdition},
		{"no scheme", nil, "standard", "project", "owner", "owner", policy.ReasonUnknownScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := policy.Eligible(tt.s, tt.ed, tt.kind, tt.org, tt.rol)
			assert.Equal(t, tt.reason, d.Reason, "%v", d)
			assert.Equal(t, tt.reason == policy.ReasonEligible, d.Allowed)
		})
	}
}

// TestEligibleExternalNeedsAllowance builds a scheme with an external
// standing whose scope kind does not admit external members.
func TestEligibleExternalNeedsAllowance(t *testing.T) {
	t.Parallel()
	spec := edition.AIEngine().Spec()
	spec.Scopes[0].AllowExternal = false
	s, err := edition.NewScheme(spec)
	if !assert.NoError(t, err) {
		return
	}
	d := policy.Eligible(s, "standard", "project", "external", "viewer")
	assert.Equal(t, policy.ReasonNotEligible, d.Reason, "%v", d)
}

func TestDecideScopeSet(t *testing.T) {
	t.Parallel()
	up := edition.UiPath()
	sc, _ := up.Scope("service")
	cat := sc.Matrix().Catalog()
	held, err := cat.Set("service:access", "service/jobs:manage")
	if !assert.NoError(t, err) {
		return
	}
	d := policy.DecideScopeSet(up, "service", held, "service/jobs:manage")
	assert.True(t, d.Allowed, "%v", d)
	assert.Equal(t, `allowed (role-holds): service role (custom) holds "service/jobs:manage"`, d.String())
	d = policy.DecideScopeSet(up, "service", held, "service/robots:manage")
	assert.Equal(t, policy.ReasonRoleLacks, d.Reason)
	assert.Equal(t, policy.ReasonUnknownCapability, policy.DecideScopeSet(up, "service", held, "x:y").Reason)
	assert.Equal(t, policy.ReasonUnknownScope, policy.DecideScopeSet(up, "project", held, "service:access").Reason)
	assert.Equal(t, policy.ReasonUnknownScheme, policy.DecideScopeSet(nil, "service", held, "service:access").Reason)
}
