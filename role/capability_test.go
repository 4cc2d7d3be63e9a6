package role_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/role"
)

// namesID reports whether the error message msg names id, either verbatim
// or quoted (an ID with control characters can only be named quoted).
func namesID(msg, id string) bool {
	return strings.Contains(msg, id) || strings.Contains(msg, strconv.Quote(id))
}

// longCapability returns a well-formed capability ID of exactly n bytes
// (n >= 3), of the form "aaa…a:b".
func longCapability(n int) role.Capability {
	return role.Capability(strings.Repeat("a", n-2) + ":b")
}

func TestCapabilityValidateAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		id   role.Capability
	}{
		{"plain resource and action", "job_runs:create"},
		{"single letters", "a:b"},
		{"nested resource", "a/b:c"},
		{"deeply nested resource", "organization/settings/billing:manage"},
		{"digits after the first letter", "integrations/s3:create"},
		{"underscores after the first letter", "api_keys:rotate_all"},
		{"digits and underscores in the action", "reports:export_v2"},
		{"exactly MaxIDLen bytes", longCapability(role.MaxIDLen)},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			assert.NoError(t, tt.id.Validate())
		})
	}
}

func TestCapabilityValidateRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		id   role.Capability
		why  string // a word or phrase the message must contain
	}{
		{"empty", "", "empty"},
		{"longer than MaxIDLen", longCapability(role.MaxIDLen + 1), "longer than"},
		{"no colon", "job_runs", "missing"},
		{"two colons", "job_runs:create:now", "more than one"},
		{"two adjacent colons", "job_runs::create", "more than one"},
		{"empty resource", ":create", "empty resource"},
		{"empty action", "job_runs:", "empty action"},
		{"colon alone", ":", "empty resource"},
		{"doubled slash", "a//b:c", "empty segment"},
		{"trailing slash", "a/:c", "empty segment"},
		{"leading slash", "/a:c", "empty segment"},
		{"upper case in resource", "Job_runs:create", "upper-case"},
		{"upper case in action", "job_runs:Create", "upper-case"},
		{"upper case inside a segment", "jobRuns:create", "upper-case"},
		{"leading digit in resource", "3s:create", "start with a letter"},
		{"leading digit in nested segment", "integrations/3s:create", "start with a letter"},
		{"leading digit in action", "job_runs:2fa", "start with a letter"},
		{"leading underscore in resource", "_job_runs:create", "start with a letter"},
		{"leading underscore in action", "job_runs:_create", "start with a letter"},
		{"space", "job runs:create", "allowed"},
		{"hyphen", "job-runs:create", "allowed"},
		{"dot", "job.runs:create", "allowed"},
		{"tab", "job\truns:create", "allowed"},
		{"non-ASCII letter", "caf\u00e9:read", "has 'é' (allowed"},
		{"leading space", " job_runs:create", "start with a letter"},
		{"trailing space", "job_runs:create ", "allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			err := tt.id.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, role.ErrInvalidCapability)
			assert.NotErrorIs(t, err, role.ErrInvalidRole)
			msg := err.Error()
			assert.True(t, namesID(msg, string(tt.id)), "message %q does not name the ID %q", msg, tt.id)
			assert.Contains(t, msg, tt.why)
		})
	}
}

func TestCapabilityResourceAndAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule     string
		id       role.Capability
		resource string
		action   string
	}{
		{"split at the colon", "job_runs:create", "job_runs", "create"},
		{"nested resource kept whole", "organization/settings:manage", "organization/settings", "manage"},
		{"no colon: all resource, no action", "job_runs", "job_runs", ""},
		{"empty ID", "", "", ""},
		{"empty resource", ":create", "", "create"},
		{"empty action", "job_runs:", "job_runs", ""},
		{"split at the first colon", "a:b:c", "a", "b:c"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.resource, tt.id.Resource())
			assert.Equal(t, tt.action, tt.id.Action())
		})
	}
}

func TestValidateIDAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		id   string
	}{
		{"plain", "admin"},
		{"single letter", "a"},
		{"digits and underscores after the first letter", "team_lead2"},
		{"exactly MaxIDLen bytes", strings.Repeat("r", role.MaxIDLen)},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			assert.NoError(t, role.ValidateID(tt.id))
		})
	}
}

func TestValidateIDRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		id   string
		why  string
	}{
		{"empty", "", "empty"},
		{"longer than MaxIDLen", strings.Repeat("r", role.MaxIDLen+1), "longer than"},
		{"upper case first letter", "Admin", "upper-case"},
		{"upper case inside", "teamLead", "upper-case"},
		{"leading digit", "1admin", "start with a letter"},
		{"leading underscore", "_admin", "start with a letter"},
		{"space", "team lead", "allowed"},
		{"hyphen", "team-lead", "allowed"},
		{"dot", "team.lead", "allowed"},
		{"slash: roles are a single segment", "org/admin", "allowed"},
		{"colon: a role is not a capability", "admin:all", "allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			err := role.ValidateID(tt.id)
			require.Error(t, err)
			assert.ErrorIs(t, err, role.ErrInvalidRole)
			assert.NotErrorIs(t, err, role.ErrInvalidCapability)
			msg := err.Error()
			assert.True(t, namesID(msg, tt.id), "message %q does not name the ID %q", msg, tt.id)
			assert.Contains(t, msg, tt.why)
		})
	}
}

func TestRoleTitle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		r    role.Role
		want string
	}{
		{"name when set", role.Role{ID: "admin", Name: "Administrator", Rank: 20}, "Administrator"},
		{"falls back to the ID", role.Role{ID: "member", Rank: 10}, "member"},
		{"zero role has an empty title", role.Role{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.r.Title())
		})
	}
}

func TestValidateName(t *testing.T) {
	t.Parallel()
	require.NoError(t, role.ValidateName("edition", "professional"))
	for _, tt := range []struct{ id, why string }{
		{"", "empty"},
		{"Gold", "upper-case"},
		{"2fa", "must start with a letter"},
		{"a-b", `has '-'`},
		{strings.Repeat("a", role.MaxIDLen+1), "longer than"},
	} {
		err := role.ValidateName("edition", tt.id)
		require.ErrorIs(t, err, role.ErrInvalidID, tt.id)
		assert.NotErrorIs(t, err, role.ErrInvalidRole)
		assert.Contains(t, err.Error(), "edition")
		assert.Contains(t, err.Error(), tt.why)
	}
}
