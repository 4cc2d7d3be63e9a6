package policy_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
)

// presetTableRow is one row of a preset's table in SCHEMES.md: the
// capability, one cell per role of the table ("Y" holds, "-" lacks), and
// the editions that offer it (nil: all).
type presetTableRow struct {
	capability role.Capability
	cells      string
	editions   []string
}

// presetTable is a preset's role × capability table, transcribed by hand
// from SCHEMES.md.
type presetTable struct {
	id       string
	scheme   func() *edition.Scheme
	roles    []string // the table's columns, in the scheme's order
	editions []string
	// roleEditions: the editions that offer a role; absent: all.
	roleEditions map[string][]string
	rows         []presetTableRow
	cellCount    int // roles × capabilities × editions, counted by hand
}

func presetTables() []presetTable {
	paid := []string{"professional", "enterprise"}
	// UiPath's resources × view, edit, create, delete: owner and
	// administrator hold all 48; user holds only the four views named in
	// the decision of UiPath's doc comment.
	uipathRows := []presetTableRow{
		{"services/first:access", "Y - -", nil},
		{"services:grant_access", "Y Y -", nil},
		{"services:toggle_all", "Y Y -", nil},
		{"licenses:request", "Y Y -", nil},
		{"audit_logs:download", "Y Y -", nil},

		{"dashboard:view", "Y Y -", nil},
		{"dashboard:edit", "Y Y -", nil},
		{"dashboard:create", "Y Y -", nil},
		{"dashboard:delete", "Y Y -", nil},
		{"services:view", "Y Y Y", nil},
		{"services:edit", "Y Y -", nil},
		{"services:create", "Y Y -", nil},
		{"services:delete", "Y Y -", nil},
		{"services/users:view", "Y Y -", nil},
		{"services/users:edit", "Y Y -", nil},
		{"services/users:create", "Y Y -", nil},
		{"services/users:delete", "Y Y -", nil},
		{"services/usage_trend:view", "Y Y -", nil},
		{"services/usage_trend:edit", "Y Y -", nil},
		{"services/usage_trend:create", "Y Y -", nil},
		{"services/usage_trend:delete", "Y Y -", nil},
		{"services/license_usage:view", "Y Y -", nil},
		{"services/license_usage:edit", "Y Y -", nil},
		{"services/license_usage:create", "Y Y -", nil},
		{"services/license_usage:delete", "Y Y -", nil},
		{"users:view", "Y Y Y", nil},
		{"users:edit", "Y Y -", nil},
		{"users:create", "Y Y -", nil},
		{"users:delete", "Y Y -", nil},
		{"licenses:view", "Y Y Y", nil},
		{"licenses:edit", "Y Y -", nil},
		{"licenses:create", "Y Y -", nil},
		{"licenses:delete", "Y Y -", nil},
		{"licenses/api_keys:view", "Y Y -", nil},
		{"licenses/api_keys:edit", "Y Y -", nil},
		{"licenses/api_keys:create", "Y Y -", nil},
		{"licenses/api_keys:delete", "Y Y -", nil},
		{"resource_center:view", "Y Y Y", nil},
		{"resource_center:edit", "Y Y -", nil},
		{"resource_center:create", "Y Y -", nil},
		{"resource_center:delete", "Y Y -", nil},
		{"notifications:view", "Y Y -", nil},
		{"notifications:edit", "Y Y -", nil},
		{"notifications:create", "Y Y -", nil},
		{"notifications:delete", "Y Y -", nil},
		{"audit_logs:view", "Y Y -", nil},
		{"audit_logs:edit", "Y Y -", nil},
		{"audit_logs:create", "Y Y -", nil},
		{"audit_logs:delete", "Y Y -", nil},
		{"organization_settings:view", "Y Y -", nil},
		{"organization_settings:edit", "Y Y -", nil},
		{"organization_settings:create", "Y Y -", nil},
		{"organization_settings:delete", "Y Y -", nil},
	}
	return []presetTable{
		{
			id:       "wherobots",
			scheme:   edition.Wherobots,
			roles:    []string{"admin", "user"},
			editions: []string{"community", "professional", "enterprise"},
			rows: []presetTableRow{
				{"cloud:use", "Y Y", nil},
				{"notebook:start", "Y Y", nil},
				{"organization:create", "Y -", nil},
				{"organization/settings:manage", "Y -", nil},
				{"integrations/s3:create", "Y -", nil},
				{"integrations/s3:use", "Y Y", nil},
				{"members:manage", "Y -", nil},
				{"roles:modify", "Y -", nil},
				{"service_principals:create", "Y -", paid},
				{"service_principals/api_keys:add", "Y -", paid},
				{"api_keys:revoke_others", "Y -", nil},
				{"api_keys:manage_own", "Y Y", nil},
				{"api_keys:authenticate", "Y Y", nil},
				{"job_runs:create", "Y Y", paid},
				{"support:contact", "Y Y", nil},
				{"raster_inference:use", "Y Y", paid},
				{"billing:view", "Y -", paid},
				{"audit_logs:view", "Y -", paid},
			},
			cellCount: 18 * 2 * 3,
		},
		{
			id:       "aiengine",
			scheme:   edition.AIEngine,
			roles:    []string{"owner", "editor", "viewer", "external"},
			editions: []string{"standard"},
			rows: []presetTableRow{
				{"billing:manage", "Y - - -", nil},
				{"quota:view", "Y - - -", nil},
				{"members:manage", "Y - - -", nil},
				{"accounts:create", "Y - - -", nil},
				{"projects:create", "Y Y - -", nil},
				{"projects:be_owner", "Y Y Y -", nil},
				{"projects:be_member", "Y Y Y Y", nil},
			},
			cellCount: 7 * 4 * 1,
		},
		{
			id:        "uipath",
			scheme:    edition.UiPath,
			roles:     []string{"owner", "administrator", "user"},
			editions:  []string{"standard"},
			rows:      uipathRows,
			cellCount: (5 + 12*4) * 3 * 1,
		},
		{
			id:           "soterai",
			scheme:       edition.SoterAI,
			roles:        []string{"owner", "manager", "member"},
			editions:     []string{"starter", "professional", "enterprise"},
			roleEditions: map[string][]string{"member": {"enterprise"}},
			rows: []presetTableRow{
				{"organization/settings:edit", "Y - -", nil},
				{"organization:delete", "Y - -", nil},
				{"billing:manage", "Y - -", nil},
				{"billing:view", "Y Y -", nil},
				{"workspaces:create", "Y Y -", nil},
				{"workspaces:edit", "Y Y -", nil},
				{"workspaces:delete", "Y Y -", nil},
				{"workspace/settings:edit", "Y Y -", nil},
				{"members:invite", "Y Y -", nil},
				{"members:remove", "Y Y -", nil},
				{"members:change_role", "Y Y -", nil},
				{"content:use", "Y Y Y", nil},
				{"content/own:edit", "Y Y Y", nil},
				{"files:upload", "Y Y Y", nil},
				{"profile/own:edit", "Y Y Y", nil},
			},
			cellCount: 15 * 3 * 3,
		},
	}
}

func presetOffers(editions []string, ed string) bool {
	if editions == nil {
		return true
	}
	for _, e := range editions {
		if e == ed {
			return true
		}
	}
	return false
}

// want returns the decision the table gives for one cell.
func (tb presetTable) want(row presetTableRow, ri int, ed string) (bool, policy.Reason) {
	r := tb.roles[ri]
	eds, gated := tb.roleEditions[r]
	switch {
	case gated && !presetOffers(eds, ed):
		return false, policy.ReasonRoleNotInEdition
	case strings.Fields(row.cells)[ri] != "Y":
		return false, policy.ReasonRoleLacks
	case !presetOffers(row.editions, ed):
		return false, policy.ReasonEditionGated
	}
	return true, policy.ReasonRoleHolds
}

// TestPresetDecisionTables checks every cell of every preset's role ×
// capability matrix under every edition against SCHEMES.md.
func TestPresetDecisionTables(t *testing.T) {
	t.Parallel()
	for _, tb := range presetTables() {
		t.Run(tb.id, func(t *testing.T) {
			t.Parallel()
			s := tb.scheme()
			require.Equal(t, tb.id, s.ID())
			for _, row := range tb.rows {
				require.Len(t, strings.Fields(row.cells), len(tb.roles), "test data: cells of %s", row.capability)
				for _, c := range strings.Fields(row.cells) {
					require.Contains(t, []string{"Y", "-"}, c, "test data: cells of %s", row.capability)
				}
			}

			var wantRows []policy.Row
			cells := 0
			for _, row := range tb.rows {
				for ri, r := range tb.roles {
					for _, ed := range tb.editions {
						cells++
						allowed, reason := tb.want(row, ri, ed)
						d := policy.Decide(s, ed, r, row.capability)
						assert.Equal(t, allowed, d.Allowed, "%s: %s / %s / %s: %v", tb.id, row.capability, r, ed, d)
						assert.Equal(t, reason, d.Reason, "%s: %s / %s / %s: %v", tb.id, row.capability, r, ed, d)
						assert.Equal(t, allowed, d.Err() == nil, "%s: %s / %s / %s: Err", tb.id, row.capability, r, ed)
						wantRows = append(wantRows, policy.Row{Capability: row.capability, Role: r, Edition: ed, Allowed: allowed})
					}
				}
			}
			assert.Equal(t, tb.cellCount, cells, "cells checked")
			assert.Equal(t, len(tb.rows)*len(tb.roles)*len(tb.editions), cells, "cells checked")
			assert.Equal(t, s.Catalog().Len()*s.Matrix().NumRoles()*len(s.Editions()), cells,
				"the scheme has cells the table does not cover, or the reverse")

			var gotRows []policy.Row
			for r := range policy.Rows(s) {
				gotRows = append(gotRows, r)
			}
			if d := cmp.Diff(wantRows, gotRows); d != "" {
				t.Errorf("policy.Rows (-SCHEMES.md +got):\n%s", d)
			}
		})
	}
}

// TestPresetCapabilitySets: policy.Capabilities gives, per role and edition,
// exactly the allowed cells of the table.
func TestPresetCapabilitySets(t *testing.T) {
	t.Parallel()
	for _, tb := range presetTables() {
		t.Run(tb.id, func(t *testing.T) {
			t.Parallel()
			s := tb.scheme()
			for ri, r := range tb.roles {
				for _, ed := range tb.editions {
					held := []role.Capability{}
					for _, row := range tb.rows {
						if ok, _ := tb.want(row, ri, ed); ok {
							held = append(held, row.capability)
						}
					}
					want, err := s.Catalog().Set(held...)
					require.NoError(t, err)
					got := policy.Capabilities(s, ed, r)
					assert.Equal(t, held, s.Catalog().IDs(got), "%s: %s in %s", tb.id, r, ed)
					assert.Equal(t, want, got, "%s: %s in %s", tb.id, r, ed)
				}
			}
			assert.True(t, policy.Capabilities(s, "no_such_edition", tb.roles[0]).Empty())
			assert.True(t, policy.Capabilities(s, tb.editions[0], "no_such_role").Empty())
			assert.True(t, policy.Capabilities(nil, tb.editions[0], tb.roles[0]).Empty())
		})
	}
}

// TestPresetUiPathUser: the UiPath user holds exactly the four views of
// the decision in UiPath's doc comment, and nothing else.
func TestPresetUiPathUser(t *testing.T) {
	t.Parallel()
	s := edition.UiPath()
	var held []role.Capability
	for _, d := range s.Catalog().Defs() {
		if policy.Decide(s, "standard", "user", d.ID).Allowed {
			held = append(held, d.ID)
		}
	}
	assert.ElementsMatch(t, []role.Capability{"resource_center:view", "licenses:view", "users:view", "services:view"}, held)
}

// TestPresetDecideUnknownInput: unknown capability, role, edition or a nil
// scheme are denied with the reason that names what is unknown.
func TestPresetDecideUnknownInput(t *testing.T) {
	t.Parallel()
	for _, tb := range presetTables() {
		t.Run(tb.id, func(t *testing.T) {
			t.Parallel()
			s := tb.scheme()
			ed, r, c := tb.editions[0], tb.roles[0], tb.rows[0].capability
			require.True(t, policy.Decide(s, ed, r, c).Allowed, "the known cell is allowed")
			tests := []struct {
				name      string
				ed, r     string
				c         role.Capability
				reason    policy.Reason
				sentinel  error
				mentioned string
			}{
				{"unknown capability", ed, r, "no_such:capability", policy.ReasonUnknownCapability, policy.ErrUnknownCapability, "no_such:capability"},
				{"malformed capability", ed, r, "Not A Capability", policy.ReasonUnknownCapability, policy.ErrUnknownCapability, "Not A Capability"},
				{"empty capability", ed, r, "", policy.ReasonUnknownCapability, policy.ErrUnknownCapability, ""},
				{"unknown role", ed, "no_such_role", c, policy.ReasonUnknownRole, policy.ErrUnknownRole, "no_such_role"},
				{"empty role", ed, "", c, policy.ReasonUnknownRole, policy.ErrUnknownRole, ""},
				{"unknown edition", "no_such_edition", r, c, policy.ReasonUnknownEdition, policy.ErrUnknownEdition, "no_such_edition"},
				{"empty edition", "", r, c, policy.ReasonUnknownEdition, policy.ErrUnknownEdition, ""},
			}
			for _, tt := range tests {
				d := policy.Decide(s, tt.ed, tt.r, tt.c)
				assert.False(t, d.Allowed, tt.name)
				assert.Equal(t, tt.reason, d.Reason, tt.name)
				assert.ErrorIs(t, d.Err(), tt.sentinel, tt.name)
				if tt.mentioned != "" {
					assert.Contains(t, d.String(), tt.mentioned, tt.name)
				}
			}
			// A role of another preset's scheme is unknown here unless
			// this scheme defines it too.
			d := policy.Decide(s, ed, "auditor", c)
			assert.Equal(t, policy.ReasonUnknownRole, d.Reason)

			d = policy.Decide(nil, ed, r, c)
			assert.False(t, d.Allowed)
			assert.Equal(t, policy.ReasonUnknownScheme, d.Reason)
			assert.ErrorIs(t, d.Err(), policy.ErrUnknownScheme)
		})
	}
}
