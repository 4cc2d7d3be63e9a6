package edition_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

// schemeTestSpec returns, fresh on each call, a small valid Spec that uses
// every feature NewScheme validates: four roles (the last the external
// standing), eleven capabilities, three editions with a capability gate and
// a role gate, invariants, all four management actions with a rule, and two
// scope kinds. Positions, for the tests below:
//
//	roles:        0 owner (3), 1 admin (2), 2 member (1), 3 guest (0, external)
//	capabilities: 0 org/settings:edit, 1 members:invite, 2 members:add,
//	              3 members:remove, 4 members:change_role, 5 projects:create,
//	              6 projects:delete, 7 projects:manage, 8 projects:join,
//	              9 billing:view, 10 reports:view
//	editions:     0 free (3 seats), 1 pro (10, overridable), 2 ent (unlimited)
//	scopes:       0 project, 1 board
func schemeTestSpec() edition.Spec {
	return edition.Spec{
		ID:   "acme",
		Name: "Acme Corp",
		Roles: []role.Role{
			{ID: "owner", Name: "Owner", Rank: 3},
			{ID: "admin", Name: "Admin", Rank: 2},
			{ID: "member", Name: "Member", Rank: 1},
			{ID: "guest", Name: "Guest", Rank: 0},
		},
		Capabilities: []role.Def{
			{ID: "org/settings:edit", Label: "Edit the organization's settings"},
			{ID: "members:invite", Label: "Invite members"},
			{ID: "members:add", Label: "Add members"},
			{ID: "members:remove", Label: "Remove members"},
			{ID: "members:change_role", Label: "Change members' roles"},
			{ID: "projects:create", Label: "Create projects"},
			{ID: "projects:delete", Label: "Delete any project"},
			{ID: "projects:manage", Label: "Manage access to any project"},
			{ID: "projects:join", Label: "Join projects"},
			{ID: "billing:view", Label: "View billing"},
			{ID: "reports:view", Label: "View reports"},
		},
		Matrix: map[string][]role.Capability{
			"owner": {
				"org/settings:edit", "members:invite", "members:add", "members:remove", "members:change_role",
				"projects:create", "projects:delete", "projects:manage", "projects:join", "billing:view", "reports:view",
			},
			"admin": {
				"members:invite", "members:add", "members:remove", "members:change_role",
				"projects:create", "projects:delete", "projects:manage", "projects:join", "billing:view", "reports:view",
			},
			"member": {"projects:create", "projects:join", "reports:view"},
			"guest":  {"projects:join"},
		},
		Editions: []edition.EditionSpec{
			{ID: "free", Name: "Free", Seats: edition.Seats(3)},
			{ID: "pro", Name: "Pro", Seats: edition.DefaultSeats(10)},
			{ID: "ent", Name: "Enterprise", Seats: edition.Unlimited()},
		},
		DefaultEdition:     "pro",
		CapabilityEditions: map[role.Capability][]string{"billing:view": {"pro", "ent"}},
		RoleEditions:       map[string][]string{"admin": {"pro", "ent"}},
		CreatorRole:        "owner",
		InviteRole:         "member",
		ExternalRole:       "guest",
		Invariants: []edition.Invariant{
			{Role: "owner", Min: 1},
			{Role: "admin", Max: 5},
		},
		Management: edition.Management{
			Invite:     "members:invite",
			Add:        "members:add",
			Remove:     "members:remove",
			ChangeRole: "members:change_role",
			Rules: []edition.Rule{
				{Actor: "admin", Manage: []string{"member"}, Assign: []string{"admin", "member"}},
			},
		},
		Scopes: []edition.ScopeSpec{
			{
				Kind: "project",
				Name: "Project",
				Roles: []role.Role{
					{ID: "lead", Name: "Lead", Rank: 2},
					{ID: "contributor", Name: "Contributor", Rank: 1},
				},
				Capabilities: []role.Def{
					{ID: "project:view"},
					{ID: "project:edit"},
					{ID: "project:delete"},
					{ID: "project/members:manage"},
					{ID: "project/roles:manage"},
				},
				Matrix: map[string][]role.Capability{
					"lead":        {"project:view", "project:edit", "project:delete", "project/members:manage", "project/roles:manage"},
					"contributor": {"project:view", "project:edit"},
				},
				CreatorRole:          "lead",
				DefaultRole:          "contributor",
				MinHolders:           map[string]int{"lead": 1},
				Create:               "projects:create",
				Delete:               "projects:delete",
				DeleteInScope:        "project:delete",
				ManageMembers:        "projects:manage",
				ManageMembersInScope: "project/members:manage",
				CustomRoles:          "project/roles:manage",
				Eligibility: []edition.Eligibility{
					{ScopeRole: "lead", OrgCapability: "projects:create", OrgRoles: []string{"owner", "admin", "member"}},
					{ScopeRole: "contributor", OrgCapability: "projects:join"},
				},
				AllowExternal: true,
				Implicit:      map[string]string{"owner": "lead", "admin": "contributor"},
			},
			{
				Kind:         "board",
				Roles:        []role.Role{{ID: "editor", Rank: 1}},
				Capabilities: []role.Def{{ID: "board:use"}},
				Matrix:       map[string][]role.Capability{"editor": {"board:use"}},
				CreatorRole:  "editor",
				Create:       "reports:view",
			},
		},
	}
}

// Role positions in schemeTestSpec.
const (
	stOwner = iota
	stAdmin
	stMember
	stGuest
)

// withoutCap returns list without c.
func withoutCap(list []role.Capability, c role.Capability) []role.Capability {
	return slices.DeleteFunc(slices.Clone(list), func(x role.Capability) bool { return x == c })
}

// dropGuest removes the external role guest from sp altogether.
func dropGuest(sp *edition.Spec) {
	sp.Roles = sp.Roles[:stGuest]
	delete(sp.Matrix, "guest")
	sp.ExternalRole = ""
}

// builtSpec is schemeTestSpec as a built scheme keeps it: with the names
// left empty filled in by their defaults (the board scope's, its kind).
func builtSpec() edition.Spec {
	sp := schemeTestSpec()
	sp.Scopes[1].Name = "board"
	return sp
}

func TestNewSchemeValidBase(t *testing.T) {
	t.Parallel()
	s, err := edition.NewScheme(schemeTestSpec())
	require.NoError(t, err)
	require.NotNil(t, s)
	// The spec a scheme keeps is the one it was given, defaults filled in.
	if d := cmp.Diff(builtSpec(), s.Spec()); d != "" {
		t.Errorf("Spec() differs from the spec built (-want +got):\n%s", d)
	}
}

// TestNewSchemeValidVariants builds specs that come close to a fault without
// committing it.
func TestNewSchemeValidVariants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mut  func(sp *edition.Spec)
	}{
		{"no scopes", func(sp *edition.Spec) { sp.Scopes = nil }},
		{"no external role", func(sp *edition.Spec) {
			dropGuest(sp)
			sp.Scopes[0].AllowExternal = false
		}},
		{"no gates", func(sp *edition.Spec) { sp.CapabilityEditions, sp.RoleEditions = nil, nil }},
		{"no management at all", func(sp *edition.Spec) { sp.Management = edition.Management{} }},
		{"no invariants", func(sp *edition.Spec) { sp.Invariants = nil }},
		{"no default edition", func(sp *edition.Spec) { sp.DefaultEdition = "" }},
		{"invite role is the creator role", func(sp *edition.Spec) { sp.InviteRole = "owner" }},
		{"immutable creator role with exactly one holder", func(sp *edition.Spec) {
			sp.Invariants[0] = edition.Invariant{Role: "owner", Min: 1, Max: 1, Immutable: true}
		}},
		{"maximum without minimum on the creator role", func(sp *edition.Spec) {
			sp.Invariants[0] = edition.Invariant{Role: "owner", Max: 2}
		}},
		{"Min equal to Max", func(sp *edition.Spec) {
			sp.Invariants[0] = edition.Invariant{Role: "owner", Min: 1, Max: 1}
		}},
		{"rule narrowing to nothing", func(sp *edition.Spec) {
			sp.Management.Rules[0] = edition.Rule{Actor: "admin", Manage: []string{}, Assign: []string{}}
		}},
		{"rule that lets a role act on its own rank", func(sp *edition.Spec) {
			sp.Management.Rules[0].Manage = []string{"admin", "member"}
		}},
		{"a rule narrowing assignment removes an escalation", func(sp *edition.Spec) {
			// admin lacks reports:view, which member holds; admin may give
			// only admin.
			sp.Matrix["admin"] = withoutCap(sp.Matrix["admin"], "reports:view")
			sp.Management.Rules[0].Assign = []string{"admin"}
		}},
		{"a role that may only remove cannot escalate", func(sp *edition.Spec) {
			sp.Roles = append(sp.Roles, role.Role{ID: "clerk", Rank: 2})
			// It may take over a project's lead from a member it removes.
			sp.Matrix["clerk"] = []role.Capability{"members:remove", "projects:create"}
			sp.Scopes[0].Eligibility[0].OrgRoles = append(sp.Scopes[0].Eligibility[0].OrgRoles, "clerk")
		}},
		{"external role not offered by every edition", func(sp *edition.Spec) {
			sp.RoleEditions["guest"] = []string{"ent"}
		}},
		{"invite role not offered by every edition", func(sp *edition.Spec) {
			sp.RoleEditions["member"] = []string{"ent"}
		}},
		{"scope without optional capabilities", func(sp *edition.Spec) {
			sc := &sp.Scopes[0]
			sc.Delete, sc.DeleteInScope, sc.ManageMembers, sc.ManageMembersInScope, sc.CustomRoles = "", "", "", "", ""
		}},
		{"eligibility by role only", func(sp *edition.Spec) {
			sp.Scopes[0].Eligibility[0].OrgCapability = ""
		}},
		{"eligibility naming the external role", func(sp *edition.Spec) {
			sp.Scopes[0].Eligibility[1].OrgRoles = []string{"member", "guest"}
		}},
		{"exactly MaxEditions editions", func(sp *edition.Spec) {
			sp.Editions = nil
			for i := range edition.MaxEditions {
				sp.Editions = append(sp.Editions, edition.EditionSpec{ID: fmt.Sprintf("e%d", i)})
			}
			sp.DefaultEdition, sp.CapabilityEditions, sp.RoleEditions = "", nil, nil
		}},
		{"exactly MaxScopes scope kinds", func(sp *edition.Spec) {
			board := sp.Scopes[1]
			sp.Scopes = nil
			for i := range edition.MaxScopes {
				sc := board
				sc.Kind = fmt.Sprintf("s%d", i)
				sp.Scopes = append(sp.Scopes, sc)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sp := schemeTestSpec()
			tt.mut(&sp)
			s, err := edition.NewScheme(sp)
			require.NoError(t, err)
			require.NotNil(t, s)
		})
	}
}

// TestNewSchemeRefuses breaks the valid spec one way per case. Every error
// must match ErrInvalidScheme and the listed sentinels, and its message must
// name the offending IDs (quoted) and contain the listed text.
func TestNewSchemeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		mut   func(sp *edition.Spec)
		is    []error  // sentinels the error must match besides ErrInvalidScheme
		names []string // IDs the message must name, quoted
		text  []string // further text the message must contain
	}{
		// The scheme's own ID.
		{name: "malformed scheme ID", mut: func(sp *edition.Spec) { sp.ID = "Acme" },
			is: []error{role.ErrInvalidID}, names: []string{"Acme"}},
		{name: "empty scheme ID", mut: func(sp *edition.Spec) { sp.ID = "" },
			is: []error{role.ErrInvalidID}, text: []string{"scheme ID"}},

		// Capabilities, roles and the matrix.
		{name: "malformed capability", mut: func(sp *edition.Spec) {
			sp.Capabilities = append(sp.Capabilities, role.Def{ID: "Audit:view"})
		}, is: []error{role.ErrInvalidCapability}, names: []string{"Audit:view"}},
		{name: "capability without action", mut: func(sp *edition.Spec) {
			sp.Capabilities = append(sp.Capabilities, role.Def{ID: "audit"})
		}, is: []error{role.ErrInvalidCapability}, names: []string{"audit"}},
		{name: "duplicate capability", mut: func(sp *edition.Spec) {
			sp.Capabilities = append(sp.Capabilities, role.Def{ID: "reports:view", Label: "again"})
		}, is: []error{role.ErrDuplicate}, names: []string{"reports:view"}},
		{name: "too many capabilities", mut: func(sp *edition.Spec) {
			for i := len(sp.Capabilities); i <= role.MaxCapabilities; i++ {
				sp.Capabilities = append(sp.Capabilities, role.Def{ID: role.Capability(fmt.Sprintf("extra%d:use", i))})
			}
		}, is: []error{role.ErrTooMany}, text: []string{strconv.Itoa(role.MaxCapabilities + 1)}},
		{name: "unknown capability in the matrix", mut: func(sp *edition.Spec) {
			sp.Matrix["member"] = append(sp.Matrix["member"], "audit:view")
		}, is: []error{role.ErrUnknownCapability}, names: []string{"audit:view", "member"}},
		{name: "malformed capability in the matrix", mut: func(sp *edition.Spec) {
			sp.Matrix["member"] = append(sp.Matrix["member"], "Audit")
		}, is: []error{role.ErrInvalidCapability}, names: []string{"Audit"}},
		{name: "unknown role in the matrix", mut: func(sp *edition.Spec) {
			sp.Matrix["auditor"] = []role.Capability{"reports:view"}
		}, is: []error{role.ErrUnknownRole}, names: []string{"auditor"}},
		{name: "duplicate role", mut: func(sp *edition.Spec) {
			sp.Roles = append(sp.Roles, role.Role{ID: "member", Rank: 1})
		}, is: []error{role.ErrDuplicate}, names: []string{"member"}},
		{name: "malformed role", mut: func(sp *edition.Spec) {
			sp.Roles = append(sp.Roles, role.Role{ID: "Auditor", Rank: 1})
		}, is: []error{role.ErrInvalidRole}, names: []string{"Auditor"}},
		{name: "negative rank", mut: func(sp *edition.Spec) { sp.Roles[stMember].Rank = -1 },
			is: []error{role.ErrInvalidRole}, names: []string{"member"}},
		{name: "too many roles", mut: func(sp *edition.Spec) {
			for i := len(sp.Roles); i <= role.MaxRoles; i++ {
				sp.Roles = append(sp.Roles, role.Role{ID: fmt.Sprintf("extra%d", i), Rank: 1})
			}
		}, is: []error{role.ErrTooMany}, text: []string{strconv.Itoa(role.MaxRoles + 1)}},
		{name: "no roles", mut: func(sp *edition.Spec) { sp.Roles, sp.Matrix = nil, nil },
			text: []string{"no roles"}},

		// Editions and gates.
		{name: "no editions", mut: func(sp *edition.Spec) { sp.Editions = nil },
			text: []string{"no editions"}},
		{name: "duplicate edition", mut: func(sp *edition.Spec) {
			sp.Editions = append(sp.Editions, edition.EditionSpec{ID: "pro"})
		}, is: []error{role.ErrDuplicate}, names: []string{"pro"}},
		{name: "malformed edition", mut: func(sp *edition.Spec) {
			sp.Editions = append(sp.Editions, edition.EditionSpec{ID: "Gold"})
		}, is: []error{role.ErrInvalidID}, names: []string{"Gold"}},
		{name: "too many editions", mut: func(sp *edition.Spec) {
			for i := len(sp.Editions); i <= edition.MaxEditions; i++ {
				sp.Editions = append(sp.Editions, edition.EditionSpec{ID: fmt.Sprintf("extra%d", i)})
			}
		}, is: []error{role.ErrTooMany}, text: []string{strconv.Itoa(edition.MaxEditions + 1)}},
		{name: "negative seat limit", mut: func(sp *edition.Spec) { sp.Editions[0].Seats = edition.Seats(-1) },
			names: []string{"free"}, text: []string{"-1"}},
		{name: "negative overridable seat limit", mut: func(sp *edition.Spec) { sp.Editions[1].Seats = edition.DefaultSeats(-2) },
			names: []string{"pro"}, text: []string{"-2"}},
		{name: "unknown default edition", mut: func(sp *edition.Spec) { sp.DefaultEdition = "gold" },
			is: []error{edition.ErrUnknownEdition}, names: []string{"gold"}},
		{name: "capability gate naming an unknown capability", mut: func(sp *edition.Spec) {
			sp.CapabilityEditions["audit:view"] = []string{"ent"}
		}, is: []error{role.ErrUnknownCapability}, names: []string{"audit:view"}},
		{name: "capability gate naming a malformed capability", mut: func(sp *edition.Spec) {
			sp.CapabilityEditions["Audit"] = []string{"ent"}
		}, is: []error{role.ErrInvalidCapability}, names: []string{"Audit"}},
		{name: "capability gate naming an unknown edition", mut: func(sp *edition.Spec) {
			sp.CapabilityEditions["billing:view"] = []string{"pro", "gold"}
		}, is: []error{edition.ErrUnknownEdition}, names: []string{"gold", "billing:view"}},
		{name: "capability gate with an empty edition list", mut: func(sp *edition.Spec) {
			sp.CapabilityEditions["billing:view"] = []string{}
		}, names: []string{"billing:view"}},
		{name: "capability gate with a nil edition list", mut: func(sp *edition.Spec) {
			sp.CapabilityEditions["reports:view"] = nil
		}, names: []string{"reports:view"}},
		{name: "role gate naming an unknown role", mut: func(sp *edition.Spec) {
			sp.RoleEditions["auditor"] = []string{"ent"}
		}, is: []error{role.ErrUnknownRole}, names: []string{"auditor"}},
		{name: "role gate naming an unknown edition", mut: func(sp *edition.Spec) {
			sp.RoleEditions["admin"] = []string{"gold"}
		}, is: []error{edition.ErrUnknownEdition}, names: []string{"gold", "admin"}},
		{name: "role gate with an empty edition list", mut: func(sp *edition.Spec) {
			sp.RoleEditions["admin"] = nil
		}, names: []string{"admin"}},
		{name: "edition that does not offer the creator role", mut: func(sp *edition.Spec) {
			sp.RoleEditions["owner"] = []string{"pro", "ent"}
		}, names: []string{"free", "owner"}},

		// Creator, invite and external roles.
		{name: "missing creator role", mut: func(sp *edition.Spec) { sp.CreatorRole = "" },
			text: []string{"CreatorRole"}},
		{name: "missing invite role", mut: func(sp *edition.Spec) { sp.InviteRole = "" },
			text: []string{"InviteRole"}},
		{name: "unknown creator role", mut: func(sp *edition.Spec) { sp.CreatorRole = "boss" },
			is: []error{role.ErrUnknownRole}, names: []string{"boss"}, text: []string{"CreatorRole"}},
		{name: "malformed creator role", mut: func(sp *edition.Spec) { sp.CreatorRole = "Boss" },
			is: []error{role.ErrInvalidRole}, names: []string{"Boss"}},
		{name: "unknown invite role", mut: func(sp *edition.Spec) { sp.InviteRole = "newbie" },
			is: []error{role.ErrUnknownRole}, names: []string{"newbie"}, text: []string{"InviteRole"}},
		{name: "unknown external role", mut: func(sp *edition.Spec) { sp.ExternalRole = "visitor" },
			is: []error{role.ErrUnknownRole}, names: []string{"visitor"}, text: []string{"ExternalRole"}},
		{name: "creator role is the external role", mut: func(sp *edition.Spec) { sp.CreatorRole = "guest" },
			names: []string{"guest"}, text: []string{"CreatorRole"}},
		{name: "invite role is the external role", mut: func(sp *edition.Spec) { sp.InviteRole = "guest" },
			names: []string{"guest"}, text: []string{"InviteRole"}},
		{name: "external role with a non-zero rank", mut: func(sp *edition.Spec) { sp.Roles[stGuest].Rank = 1 },
			names: []string{"guest"}},

		// Invariants.
		{name: "invariant on an unknown role", mut: func(sp *edition.Spec) {
			sp.Invariants = append(sp.Invariants, edition.Invariant{Role: "auditor", Max: 2})
		}, is: []error{role.ErrUnknownRole}, names: []string{"auditor"}},
		{name: "two invariants on one role", mut: func(sp *edition.Spec) {
			sp.Invariants = append(sp.Invariants, edition.Invariant{Role: "owner", Max: 3})
		}, is: []error{role.ErrDuplicate}, names: []string{"owner"}},
		{name: "invariant on the external role", mut: func(sp *edition.Spec) {
			sp.Invariants = append(sp.Invariants, edition.Invariant{Role: "guest", Max: 2})
		}, names: []string{"guest"}},
		{name: "negative Min", mut: func(sp *edition.Spec) {
			sp.Invariants = append(sp.Invariants, edition.Invariant{Role: "member", Min: -1})
		}, names: []string{"member"}},
		{name: "negative Max", mut: func(sp *edition.Spec) {
			sp.Invariants = append(sp.Invariants, edition.Invariant{Role: "member", Max: -1})
		}, names: []string{"member"}},
		{name: "Min above Max", mut: func(sp *edition.Spec) {
			sp.Invariants[0] = edition.Invariant{Role: "owner", Min: 2, Max: 1}
		}, names: []string{"owner"}},
		{name: "minimum on a role other than the creator role", mut: func(sp *edition.Spec) {
			sp.Invariants = append(sp.Invariants, edition.Invariant{Role: "member", Min: 1})
		}, names: []string{"member", "owner"}},
		{name: "minimum above 1", mut: func(sp *edition.Spec) { sp.Invariants[0].Min = 2 },
			names: []string{"owner"}},
		{name: "immutable role other than the creator role", mut: func(sp *edition.Spec) {
			sp.Invariants[1].Immutable = true
		}, names: []string{"admin"}},
		{name: "invite role immutable", mut: func(sp *edition.Spec) {
			sp.InviteRole = "owner"
			sp.Invariants[0].Immutable = true
		}, names: []string{"owner"}, text: []string{"InviteRole"}},

		// Management.
		{name: "management capability unknown", mut: func(sp *edition.Spec) { sp.Management.Invite = "members:summon" },
			is: []error{role.ErrUnknownCapability}, names: []string{"members:summon"}},
		{name: "management capability malformed", mut: func(sp *edition.Spec) { sp.Management.ChangeRole = "Members" },
			is: []error{role.ErrInvalidCapability}, names: []string{"Members"}},
		{name: "management capability that no role holds", mut: func(sp *edition.Spec) {
			sp.Capabilities = append(sp.Capabilities, role.Def{ID: "members:purge"})
			sp.Management.Remove = "members:purge"
		}, names: []string{"members:purge"}},
		{name: "management capability that only the external role holds", mut: func(sp *edition.Spec) {
			sp.Capabilities = append(sp.Capabilities, role.Def{ID: "members:vouch"})
			sp.Matrix["guest"] = append(sp.Matrix["guest"], "members:vouch")
			sp.Management.Add = "members:vouch"
		}, names: []string{"members:vouch"}},
		{name: "owner role unknown", mut: func(sp *edition.Spec) { sp.Management.Owner = "founder" },
			is: []error{role.ErrUnknownRole}, names: []string{"founder"}},
		{name: "owner role external", mut: func(sp *edition.Spec) { sp.Management.Owner = "guest" },
			names: []string{"guest"}, text: []string{"Management.Owner", "external"}},
		{name: "owner role outranked", mut: func(sp *edition.Spec) { sp.Management.Owner = "admin" },
			names: []string{"admin", "owner"}, text: []string{"Management.Owner", "highest rank"}},
		{name: "rule for an unknown actor", mut: func(sp *edition.Spec) {
			sp.Management.Rules = append(sp.Management.Rules, edition.Rule{Actor: "auditor", Manage: []string{"member"}})
		}, is: []error{role.ErrUnknownRole}, names: []string{"auditor"}},
		{name: "rule acting on an unknown role", mut: func(sp *edition.Spec) {
			sp.Management.Rules[0].Manage = []string{"member", "auditor"}
		}, is: []error{role.ErrUnknownRole}, names: []string{"auditor"}},
		{name: "rule granting an unknown role", mut: func(sp *edition.Spec) {
			sp.Management.Rules[0].Assign = []string{"auditor"}
		}, is: []error{role.ErrUnknownRole}, names: []string{"auditor"}},
		{name: "duplicate rule", mut: func(sp *edition.Spec) {
			sp.Management.Rules = append(sp.Management.Rules, edition.Rule{Actor: "admin", Assign: []string{"member"}})
		}, is: []error{role.ErrDuplicate}, names: []string{"admin"}},
		{name: "rule for the external role", mut: func(sp *edition.Spec) {
			sp.Management.Rules = append(sp.Management.Rules, edition.Rule{Actor: "guest", Manage: []string{}})
		}, names: []string{"guest"}},
		{name: "rule acting on a role above the actor's rank", mut: func(sp *edition.Spec) {
			sp.Management.Rules[0].Manage = []string{"owner", "member"}
		}, names: []string{"admin", "owner"}},
		{name: "rule granting a role above the actor's rank", mut: func(sp *edition.Spec) {
			sp.Management.Rules[0].Assign = []string{"member", "owner"}
		}, names: []string{"admin", "owner"}},
		{name: "rule granting the immutable role", mut: func(sp *edition.Spec) {
			sp.Invariants[0].Immutable = true
			sp.Management.Rules = append(sp.Management.Rules, edition.Rule{Actor: "owner", Assign: []string{"owner", "admin"}})
		}, names: []string{"owner"}},
		{name: "rule granting the external role", mut: func(sp *edition.Spec) {
			sp.Management.Rules[0].Assign = []string{"member", "guest"}
		}, names: []string{"guest"}},
		{name: "rule acting on the external role", mut: func(sp *edition.Spec) {
			sp.Management.Rules[0].Manage = []string{"guest"}
		}, names: []string{"guest"}},
		{name: "escalation under a rule", mut: func(sp *edition.Spec) {
			// admin may give member, which holds reports:view; admin lacks it.
			sp.Matrix["admin"] = withoutCap(sp.Matrix["admin"], "reports:view")
		}, names: []string{"admin", "member", "reports:view"}},
		{name: "escalation under the rank rule", mut: func(sp *edition.Spec) {
			sp.Matrix["admin"] = withoutCap(sp.Matrix["admin"], "reports:view")
			sp.Management.Rules = nil
		}, names: []string{"admin", "member", "reports:view"}},
		{name: "escalation to a role of equal rank", mut: func(sp *edition.Spec) {
			sp.Capabilities = append(sp.Capabilities, role.Def{ID: "audit:view"})
			sp.Roles = append(sp.Roles, role.Role{ID: "auditor", Rank: 2})
			sp.Matrix["auditor"] = []role.Capability{"audit:view"}
			sp.Matrix["owner"] = append(sp.Matrix["owner"], "audit:view")
			sp.Management.Rules = nil
		}, names: []string{"admin", "auditor", "audit:view"}},
		{name: "escalation by a role that may only add", mut: func(sp *edition.Spec) {
			sp.Roles = append(sp.Roles, role.Role{ID: "clerk", Rank: 2})
			sp.Matrix["clerk"] = []role.Capability{"members:add"}
		}, names: []string{"clerk", "admin"}},
		{name: "escalation by a role that may only invite", mut: func(sp *edition.Spec) {
			sp.Roles = append(sp.Roles, role.Role{ID: "clerk", Rank: 2})
			sp.Matrix["clerk"] = []role.Capability{"members:invite"}
		}, names: []string{"clerk", "admin"}},
		{name: "escalation by a role that may only change roles", mut: func(sp *edition.Spec) {
			sp.Roles = append(sp.Roles, role.Role{ID: "clerk", Rank: 2})
			sp.Matrix["clerk"] = []role.Capability{"members:change_role"}
		}, names: []string{"clerk", "admin"}},

		// Scopes.
		{name: "malformed scope kind", mut: func(sp *edition.Spec) { sp.Scopes[0].Kind = "Project" },
			is: []error{role.ErrInvalidID}, names: []string{"Project"}},
		{name: "empty scope kind", mut: func(sp *edition.Spec) { sp.Scopes[0].Kind = "" },
			is: []error{role.ErrInvalidID}, text: []string{"scope kind"}},
		{name: "duplicate scope kind", mut: func(sp *edition.Spec) { sp.Scopes[1].Kind = "project" },
			is: []error{role.ErrDuplicate}, names: []string{"project"}},
		{name: "too many scope kinds", mut: func(sp *edition.Spec) {
			board := sp.Scopes[1]
			for i := len(sp.Scopes); i <= edition.MaxScopes; i++ {
				sc := board
				sc.Kind = fmt.Sprintf("extra%d", i)
				sp.Scopes = append(sp.Scopes, sc)
			}
		}, is: []error{role.ErrTooMany}, text: []string{strconv.Itoa(edition.MaxScopes + 1)}},
		{name: "scope without roles", mut: func(sp *edition.Spec) { sp.Scopes[0].Roles, sp.Scopes[0].Matrix = nil, nil },
			names: []string{"project"}, text: []string{"no roles"}},
		{name: "scope with a malformed capability", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Capabilities = append(sp.Scopes[0].Capabilities, role.Def{ID: "Project:x"})
		}, is: []error{role.ErrInvalidCapability}, names: []string{"Project:x"}},
		{name: "scope with a duplicate capability", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Capabilities = append(sp.Scopes[0].Capabilities, role.Def{ID: "project:view"})
		}, is: []error{role.ErrDuplicate}, names: []string{"project:view"}},
		{name: "scope with a duplicate role", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Roles = append(sp.Scopes[0].Roles, role.Role{ID: "lead", Rank: 2})
		}, is: []error{role.ErrDuplicate}, names: []string{"lead"}},
		{name: "scope matrix naming an unknown capability", mut: func(sp *edition.Spec) {
			// An organization capability is not a scope capability.
			sp.Scopes[0].Matrix["contributor"] = append(sp.Scopes[0].Matrix["contributor"], "reports:view")
		}, is: []error{role.ErrUnknownCapability}, names: []string{"reports:view"}},
		{name: "scope matrix naming an unknown role", mut: func(sp *edition.Spec) {
			// An organization role is not a scope role.
			sp.Scopes[0].Matrix["owner"] = []role.Capability{"project:view"}
		}, is: []error{role.ErrUnknownRole}, names: []string{"owner"}},
		{name: "scope without creator role", mut: func(sp *edition.Spec) { sp.Scopes[0].CreatorRole = "" },
			names: []string{"project"}, text: []string{"CreatorRole"}},
		{name: "scope with an unknown creator role", mut: func(sp *edition.Spec) { sp.Scopes[0].CreatorRole = "boss" },
			is: []error{role.ErrUnknownRole}, names: []string{"boss"}},
		{name: "scope with an unknown default role", mut: func(sp *edition.Spec) { sp.Scopes[0].DefaultRole = "watcher" },
			is: []error{role.ErrUnknownRole}, names: []string{"watcher"}},
		{name: "scope minimum on an unknown role", mut: func(sp *edition.Spec) { sp.Scopes[0].MinHolders["watcher"] = 0 },
			is: []error{role.ErrUnknownRole}, names: []string{"watcher"}},
		{name: "scope negative minimum", mut: func(sp *edition.Spec) { sp.Scopes[0].MinHolders["contributor"] = -1 },
			names: []string{"project", "contributor"}},
		{name: "scope minimum on a role other than the creator role", mut: func(sp *edition.Spec) {
			sp.Scopes[0].MinHolders["contributor"] = 1
		}, names: []string{"project", "contributor", "lead"}},
		{name: "scope minimum above 1", mut: func(sp *edition.Spec) { sp.Scopes[0].MinHolders["lead"] = 2 },
			names: []string{"project", "lead"}},
		{name: "a remover who could not take over a resource's required role", mut: func(sp *edition.Spec) {
			sp.Roles = append(sp.Roles, role.Role{ID: "clerk", Rank: 2})
			sp.Matrix["clerk"] = []role.Capability{"members:remove"}
		}, names: []string{"project", "clerk", "lead"}},
		{name: "the external role governing service principals", mut: func(sp *edition.Spec) {
			sp.Keys.ServicePrincipals = "projects:create"
			sp.Matrix["guest"] = append(sp.Matrix["guest"], "projects:create")
		}, names: []string{"guest", "projects:create"}},
		{name: "scope without Create", mut: func(sp *edition.Spec) { sp.Scopes[0].Create = "" },
			names: []string{"project"}, text: []string{"Create"}},
		{name: "scope Create unknown", mut: func(sp *edition.Spec) { sp.Scopes[0].Create = "projects:spawn" },
			is: []error{role.ErrUnknownCapability}, names: []string{"projects:spawn"}},
		{name: "scope Create held by no role", mut: func(sp *edition.Spec) {
			sp.Capabilities = append(sp.Capabilities, role.Def{ID: "projects:import"})
			sp.Scopes[0].Create = "projects:import"
		}, names: []string{"project", "projects:import"}},
		{name: "scope Create held only by the external role", mut: func(sp *edition.Spec) {
			sp.Capabilities = append(sp.Capabilities, role.Def{ID: "projects:propose"})
			sp.Matrix["guest"] = append(sp.Matrix["guest"], "projects:propose")
			sp.Scopes[0].Create = "projects:propose"
		}, names: []string{"project", "projects:propose"}},
		{name: "scope Delete unknown", mut: func(sp *edition.Spec) {
			// A scope capability is not an organization capability.
			sp.Scopes[0].Delete = "project:delete"
		}, is: []error{role.ErrUnknownCapability}, names: []string{"project:delete"}},
		{name: "scope View unknown", mut: func(sp *edition.Spec) { sp.Scopes[0].View = "projects:peek" },
			is: []error{role.ErrUnknownCapability}, names: []string{"projects:peek"}},
		{name: "scope ManageMembers unknown", mut: func(sp *edition.Spec) { sp.Scopes[0].ManageMembers = "projects:admit" },
			is: []error{role.ErrUnknownCapability}, names: []string{"projects:admit"}},
		{name: "scope DeleteInScope unknown", mut: func(sp *edition.Spec) {
			// An organization capability is not a scope capability.
			sp.Scopes[0].DeleteInScope = "projects:delete"
		}, is: []error{role.ErrUnknownCapability}, names: []string{"projects:delete"}},
		{name: "scope ManageMembersInScope unknown", mut: func(sp *edition.Spec) {
			sp.Scopes[0].ManageMembersInScope = "project/members:admit"
		}, is: []error{role.ErrUnknownCapability}, names: []string{"project/members:admit"}},
		{name: "scope CustomRoles unknown", mut: func(sp *edition.Spec) {
			sp.Scopes[0].CustomRoles = "project/roles:define"
		}, is: []error{role.ErrUnknownCapability}, names: []string{"project/roles:define"}},
		{name: "scope allowing external members without an external role", mut: func(sp *edition.Spec) {
			dropGuest(sp)
		}, names: []string{"project"}, text: []string{"ExternalRole"}},
		{name: "eligibility for an unknown scope role", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Eligibility = append(sp.Scopes[0].Eligibility, edition.Eligibility{ScopeRole: "watcher"})
		}, is: []error{role.ErrUnknownRole}, names: []string{"watcher"}},
		{name: "eligibility naming an unknown organization capability", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Eligibility[1].OrgCapability = "project:view" // a scope capability
		}, is: []error{role.ErrUnknownCapability}, names: []string{"project:view"}},
		{name: "eligibility naming an unknown organization role", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Eligibility[0].OrgRoles = []string{"owner", "admin", "member", "lead"} // a scope role
		}, is: []error{role.ErrUnknownRole}, names: []string{"lead"}},
		{name: "duplicate eligibility rule", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Eligibility = append(sp.Scopes[0].Eligibility, edition.Eligibility{ScopeRole: "contributor"})
		}, is: []error{role.ErrDuplicate}, names: []string{"contributor"}},
		{name: "implicit role for an unknown organization role", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Implicit["lead"] = "lead" // a scope role, not an organization role
		}, is: []error{role.ErrUnknownRole}, names: []string{"lead"}},
		{name: "implicit role naming an unknown scope role", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Implicit["member"] = "member" // an organization role, not a scope role
		}, is: []error{role.ErrUnknownRole}, names: []string{"member"}},
		{name: "implicit role for the external role", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Implicit["guest"] = "contributor"
		}, names: []string{"guest"}},
		{name: "creating role not eligible for the creator role by role", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Eligibility[0].OrgRoles = []string{"owner", "admin"}
		}, names: []string{"project", "member", "lead"}},
		{name: "creating role not eligible for the creator role by capability", mut: func(sp *edition.Spec) {
			sp.Scopes[0].Eligibility[0] = edition.Eligibility{ScopeRole: "lead", OrgCapability: "projects:delete"}
		}, names: []string{"project", "member", "lead"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sp := schemeTestSpec()
			tt.mut(&sp)
			s, err := edition.NewScheme(sp)
			require.Error(t, err)
			assert.Nil(t, s)
			msg := err.Error()
			assert.ErrorIs(t, err, edition.ErrInvalidScheme)
			for _, e := range tt.is {
				assert.ErrorIs(t, err, e)
			}
			if sp.ID == "acme" {
				assert.Contains(t, msg, `"acme"`, "the message names the scheme")
			}
			for _, id := range tt.names {
				assert.Contains(t, msg, strconv.Quote(id))
			}
			for _, x := range tt.text {
				assert.Contains(t, msg, x)
			}
		})
	}
}

func TestSchemeAccessors(t *testing.T) {
	t.Parallel()
	s, err := edition.NewScheme(schemeTestSpec())
	require.NoError(t, err)

	t.Run("identity", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, "acme", s.ID())
		assert.Equal(t, "Acme Corp", s.Name())

		sp := schemeTestSpec()
		sp.Name = ""
		unnamed, err := edition.NewScheme(sp)
		require.NoError(t, err)
		assert.Equal(t, "acme", unnamed.Name(), "Name defaults to ID")
	})

	t.Run("roles", func(t *testing.T) {
		t.Parallel()
		want := []role.Role{
			{ID: "owner", Name: "Owner", Rank: 3},
			{ID: "admin", Name: "Admin", Rank: 2},
			{ID: "member", Name: "Member", Rank: 1},
			{ID: "guest", Name: "Guest", Rank: 0},
		}
		assert.Equal(t, want, s.Roles())
		for i, r := range want {
			got, ok := s.RoleIndex(r.ID)
			assert.True(t, ok, r.ID)
			assert.Equal(t, i, got, r.ID)
		}
		_, ok := s.RoleIndex("auditor")
		assert.False(t, ok)
		assert.Equal(t, "owner", s.CreatorRole())
		assert.Equal(t, "member", s.InviteRole())
		assert.Equal(t, "guest", s.ExternalRole())
		for i, ext := range []bool{false, false, false, true} {
			assert.Equal(t, ext, s.IsExternal(i), "IsExternal(%d)", i)
		}
	})

	t.Run("catalog and matrix", func(t *testing.T) {
		t.Parallel()
		want := []role.Capability{
			"org/settings:edit", "members:invite", "members:add", "members:remove", "members:change_role",
			"projects:create", "projects:delete", "projects:manage", "projects:join", "billing:view", "reports:view",
		}
		var got []role.Capability
		for _, d := range s.Catalog().Defs() {
			got = append(got, d.ID)
		}
		assert.Equal(t, want, got)
		assert.Equal(t, "Edit the organization's settings", s.Catalog().Def(0).Label)
		assert.Same(t, s.Catalog(), s.Matrix().Catalog())
		assert.True(t, s.Matrix().Holds("member", "reports:view"))
		assert.False(t, s.Matrix().Holds("member", "billing:view"))
		assert.True(t, s.Matrix().Holds("guest", "projects:join"))
		assert.False(t, s.Matrix().Holds("guest", "reports:view"))
		assert.False(t, s.Matrix().Holds("admin", "org/settings:edit"))
	})

	t.Run("editions", func(t *testing.T) {
		t.Parallel()
		type ed struct {
			id, name string
			seats    edition.SeatLimit
		}
		want := []ed{
			{"free", "Free", edition.SeatLimit{Max: 3}},
			{"pro", "Pro", edition.SeatLimit{Max: 10, Overridable: true}},
			{"ent", "Enterprise", edition.SeatLimit{}},
		}
		eds := s.Editions()
		require.Len(t, eds, len(want))
		for i, w := range want {
			e, ok := s.Edition(w.id)
			require.True(t, ok, w.id)
			assert.Same(t, e, eds[i], w.id)
			assert.Same(t, e, s.EditionAt(i), w.id)
			assert.Equal(t, w.id, e.ID())
			assert.Equal(t, w.name, e.Name())
			assert.Equal(t, i, e.Pos())
			assert.Equal(t, w.seats, e.Seats())
		}
		_, ok := s.Edition("gold")
		assert.False(t, ok)
		assert.Equal(t, "pro", s.DefaultEdition().ID())
		assert.Panics(t, func() { s.EditionAt(3) })

		// Gates: billing:view (9) only in pro and ent; admin (1) likewise.
		free, pro, ent := s.EditionAt(0), s.EditionAt(1), s.EditionAt(2)
		assert.False(t, free.OffersCapability(9))
		assert.True(t, pro.OffersCapability(9))
		assert.True(t, ent.OffersCapability(9))
		for _, e := range []*edition.Edition{free, pro, ent} {
			for ci := range 11 {
				if ci != 9 {
					assert.True(t, e.OffersCapability(ci), "%s offers %d", e.ID(), ci)
				}
			}
			assert.False(t, e.OffersCapability(11), "beyond the catalog")
			assert.True(t, e.OffersRole(stOwner))
			assert.True(t, e.OffersRole(stMember))
			assert.True(t, e.OffersRole(stGuest))
			assert.False(t, e.OffersRole(4), "beyond the roles")
			assert.False(t, e.OffersRole(64))
		}
		assert.False(t, free.OffersRole(stAdmin))
		assert.True(t, pro.OffersRole(stAdmin))
		assert.True(t, ent.OffersRole(stAdmin))
		assert.Equal(t, s.Catalog().Full().Without(9), free.Capabilities())
		assert.Equal(t, s.Catalog().Full(), pro.Capabilities())

		sp := schemeTestSpec()
		sp.DefaultEdition = ""
		sp.Editions[2].Name = ""
		other, err := edition.NewScheme(sp)
		require.NoError(t, err)
		assert.Equal(t, "free", other.DefaultEdition().ID(), "DefaultEdition defaults to the first")
		assert.Equal(t, "ent", other.EditionAt(2).Name(), "an edition's Name defaults to its ID")
	})

	t.Run("invariants", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, []edition.Invariant{{Role: "owner", Min: 1}, {Role: "admin", Max: 5}}, s.Invariants())
		for i, w := range [][2]int{{1, 0}, {0, 5}, {0, 0}, {0, 0}} {
			assert.Equal(t, w[0], s.MinHolders(i), "MinHolders(%d)", i)
			assert.Equal(t, w[1], s.MaxHolders(i), "MaxHolders(%d)", i)
			assert.False(t, s.Immutable(i), "Immutable(%d)", i)
		}
		assert.False(t, s.Immutable(64))
		assert.False(t, s.Immutable(-1))

		sp := schemeTestSpec()
		sp.Invariants[0] = edition.Invariant{Role: "owner", Min: 1, Max: 1, Immutable: true}
		imm, err := edition.NewScheme(sp)
		require.NoError(t, err)
		assert.True(t, imm.Immutable(stOwner))
		assert.Equal(t, 1, imm.MaxHolders(stOwner))
		for _, r := range []int{stAdmin, stMember, stGuest} {
			assert.False(t, imm.Immutable(r))
		}
	})

	t.Run("action capabilities", func(t *testing.T) {
		t.Parallel()
		want := map[edition.Action]int{
			edition.ActionInvite:     1,
			edition.ActionAdd:        2,
			edition.ActionRemove:     3,
			edition.ActionChangeRole: 4,
		}
		for a, w := range want {
			got, ok := s.ActionCapability(a)
			assert.True(t, ok, a.String())
			assert.Equal(t, w, got, a.String())
		}
		for _, a := range []edition.Action{0, 5, 6, 255} {
			_, ok := s.ActionCapability(a)
			assert.False(t, ok, "ActionCapability(%d)", uint8(a))
		}
		assert.Equal(t, schemeTestSpec().Management, s.Management())

		sp := schemeTestSpec()
		sp.Management.Add = ""
		noAdd, err := edition.NewScheme(sp)
		require.NoError(t, err)
		_, ok := noAdd.ActionCapability(edition.ActionAdd)
		assert.False(t, ok, "an empty management capability: action not offered")
		got, ok := noAdd.ActionCapability(edition.ActionInvite)
		assert.True(t, ok)
		assert.Equal(t, 1, got)
	})

	t.Run("reach", func(t *testing.T) {
		t.Parallel()
		// Rows: actor owner, admin, member, guest; columns: target owner,
		// admin, member, guest. The owner has the rank rule; the admin's
		// rule narrows Manage to member and Assign to admin and member; the
		// member has the rank rule; the external guest reaches nobody, and
		// nobody reaches it.
		manage := [4][4]bool{
			{true, true, true, false},
			{false, false, true, false},
			{false, false, true, false},
			{false, false, false, false},
		}
		assign := [4][4]bool{
			{true, true, true, false},
			{false, true, true, false},
			{false, false, true, false},
			{false, false, false, false},
		}
		// Exceeds: the target role holds a capability the actor lacks.
		exceeds := [4][4]bool{
			{false, false, false, false},
			{true, false, false, false},
			{true, true, false, false},
			{true, true, true, false},
		}
		for a := range 4 {
			for r := range 4 {
				assert.Equal(t, manage[a][r], s.MayManage(a, r), "MayManage(%d, %d)", a, r)
				assert.Equal(t, assign[a][r], s.MayAssign(a, r), "MayAssign(%d, %d)", a, r)
				assert.Equal(t, exceeds[a][r], s.Exceeds(a, r), "Exceeds(%d, %d)", a, r)
			}
			assert.False(t, s.MayManage(a, 64))
			assert.False(t, s.MayAssign(a, 64))
			assert.False(t, s.Exceeds(a, 64))
		}

		// Without the rule, the admin has the rank rule.
		sp := schemeTestSpec()
		sp.Management.Rules = nil
		plain, err := edition.NewScheme(sp)
		require.NoError(t, err)
		for r, w := range []bool{false, true, true, false} {
			assert.Equal(t, w, plain.MayManage(stAdmin, r), "MayManage(admin, %d)", r)
			assert.Equal(t, w, plain.MayAssign(stAdmin, r), "MayAssign(admin, %d)", r)
		}
	})

	t.Run("scopes", func(t *testing.T) {
		t.Parallel()
		scopes := s.Scopes()
		require.Len(t, scopes, 2)
		for i, kind := range []string{"project", "board"} {
			idx, ok := s.ScopeIndex(kind)
			require.True(t, ok, kind)
			assert.Equal(t, i, idx, kind)
			sc, ok := s.Scope(kind)
			require.True(t, ok, kind)
			assert.Same(t, sc, s.ScopeAt(i))
			assert.Same(t, sc, scopes[i])
			assert.Equal(t, kind, sc.Kind())
		}
		_, ok := s.Scope("team")
		assert.False(t, ok)
		_, ok = s.ScopeIndex("team")
		assert.False(t, ok)
		assert.Panics(t, func() { s.ScopeAt(2) })

		p := s.ScopeAt(0)
		assert.Equal(t, "Project", p.Name())
		assert.Equal(t, []role.Role{{ID: "lead", Name: "Lead", Rank: 2}, {ID: "contributor", Name: "Contributor", Rank: 1}}, p.Matrix().Roles())
		assert.Equal(t, "lead", p.CreatorRole())
		assert.Equal(t, "contributor", p.DefaultRole())
		assert.Equal(t, 1, p.MinHolders(0))
		assert.Equal(t, 0, p.MinHolders(1))
		assert.Equal(t, role.Capability("projects:create"), p.CreateCapability())
		assert.Equal(t, role.Capability("projects:delete"), p.DeleteCapability())
		assert.Equal(t, role.Capability("project:delete"), p.DeleteInScopeCapability())
		assert.Equal(t, role.Capability("projects:manage"), p.ManageMembersCapability())
		assert.Equal(t, role.Capability("project/members:manage"), p.ManageMembersInScopeCapability())
		assert.Equal(t, role.Capability("project/roles:manage"), p.CustomRolesCapability())
		assert.True(t, p.AllowsExternal())
		assert.True(t, p.Matrix().Holds("contributor", "project:edit"))
		assert.False(t, p.Matrix().Holds("contributor", "project:delete"))
		assert.True(t, p.Matrix().Holds("lead", "project/roles:manage"))
		c, ok := p.EligibleCapability(0)
		assert.True(t, ok)
		assert.Equal(t, 5, c, "lead needs projects:create")
		c, ok = p.EligibleCapability(1)
		assert.True(t, ok)
		assert.Equal(t, 8, c, "contributor needs projects:join")
		for orgRole, w := range []bool{true, true, true, false} {
			assert.Equal(t, w, p.EligibleRole(0, orgRole), "EligibleRole(lead, %d)", orgRole)
			assert.True(t, p.EligibleRole(1, orgRole), "EligibleRole(contributor, %d)", orgRole)
		}
		assert.False(t, p.EligibleRole(1, 64))
		for orgRole, w := range []int{0, 1, -1, -1} {
			got, ok := p.ImplicitRole(orgRole)
			assert.Equal(t, w >= 0, ok, "ImplicitRole(%d)", orgRole)
			if w >= 0 {
				assert.Equal(t, w, got, "ImplicitRole(%d)", orgRole)
			}
		}
		_, ok = p.ImplicitRole(-1)
		assert.False(t, ok)
		_, ok = p.ImplicitRole(4)
		assert.False(t, ok)
		if d := cmp.Diff(schemeTestSpec().Scopes[0], p.Spec()); d != "" {
			t.Errorf("project Spec() (-want +got):\n%s", d)
		}

		b := s.ScopeAt(1)
		assert.Equal(t, "board", b.Name(), "Name defaults to Kind")
		assert.Equal(t, "editor", b.CreatorRole())
		assert.Equal(t, "editor", b.DefaultRole(), "DefaultRole defaults to CreatorRole")
		assert.Equal(t, 0, b.MinHolders(0))
		assert.Equal(t, role.Capability("reports:view"), b.CreateCapability())
		for _, got := range []role.Capability{b.DeleteCapability(), b.DeleteInScopeCapability(), b.ManageMembersCapability(), b.ManageMembersInScopeCapability(), b.CustomRolesCapability()} {
			assert.Empty(t, got)
		}
		assert.False(t, b.AllowsExternal())
		_, ok = b.EligibleCapability(0)
		assert.False(t, ok)
		for orgRole := range 4 {
			assert.True(t, b.EligibleRole(0, orgRole))
			_, ok := b.ImplicitRole(orgRole)
			assert.False(t, ok)
		}
	})
}

// TestSchemeWithoutExternalRole: a scheme without an external standing has
// no role for which IsExternal is true, not even the position -1 it uses
// internally for "none".
func TestSchemeWithoutExternalRole(t *testing.T) {
	t.Parallel()
	sp := schemeTestSpec()
	dropGuest(&sp)
	sp.Scopes[0].AllowExternal = false
	s, err := edition.NewScheme(sp)
	require.NoError(t, err)
	assert.Empty(t, s.ExternalRole())
	for i := -1; i < 4; i++ {
		assert.False(t, s.IsExternal(i), "IsExternal(%d)", i)
	}
}

// TestSchemeMayAssignIgnoresImmutability pins MayAssign's doc comment:
// "Immutability, edition and capabilities are not considered here." By the
// rank rule an owner (rank 3) may give rank 3.
func TestSchemeMayAssignExcludesImmutable(t *testing.T) {
	t.Parallel()
	sp := schemeTestSpec()
	sp.Invariants[0] = edition.Invariant{Role: "owner", Min: 1, Max: 1, Immutable: true}
	s, err := edition.NewScheme(sp)
	require.NoError(t, err)
	require.True(t, s.Immutable(stOwner))
	assert.True(t, s.MayManage(stOwner, stOwner), "MayManage ignores immutability")
	assert.False(t, s.MayAssign(stOwner, stOwner), "MayAssign's doc: immutable roles are never assignable")
	assert.True(t, s.MayAssign(stOwner, stAdmin))
}

// TestNewSchemeCopiesSpec: changing the Spec after NewScheme, at any depth,
// changes nothing in the scheme.
func TestNewSchemeCopiesSpec(t *testing.T) {
	t.Parallel()
	sp := schemeTestSpec()
	s, err := edition.NewScheme(sp)
	require.NoError(t, err)
	before := s.Spec()

	sp.ID, sp.Name = "other", "Other"
	sp.Roles[stAdmin].Rank = 5
	sp.Roles[stMember].ID = "renamed"
	sp.Capabilities[0].ID = "renamed:cap"
	sp.Capabilities[10].Label = "changed"
	sp.Matrix["member"][0] = "org/settings:edit"
	sp.Matrix["admin"] = append(sp.Matrix["admin"][:0], "reports:view")
	delete(sp.Matrix, "guest")
	sp.Editions[0].Seats = edition.Seats(99)
	sp.Editions[1].ID = "gold"
	sp.CapabilityEditions["billing:view"][0] = "free"
	sp.CapabilityEditions["reports:view"] = []string{"ent"}
	sp.RoleEditions["admin"][0] = "free"
	sp.DefaultEdition = "ent"
	sp.CreatorRole, sp.InviteRole, sp.ExternalRole = "admin", "admin", ""
	sp.Invariants[0].Min = 0
	sp.Invariants[1].Max = 1
	sp.Management.Invite = "reports:view"
	sp.Management.Rules[0].Assign[0] = "owner"
	sp.Management.Rules[0].Manage[0] = "admin"
	sp.Management.Rules = append(sp.Management.Rules, edition.Rule{Actor: "member"})
	p := &sp.Scopes[0]
	p.Kind = "renamed"
	p.Roles[0].Rank = 9
	p.Capabilities[0].ID = "renamed:view"
	p.Matrix["contributor"][0] = "project:delete"
	p.MinHolders["lead"] = 0
	p.Eligibility[0].OrgRoles[2] = "guest"
	p.Eligibility[1].OrgCapability = "billing:view"
	p.Implicit["owner"] = "contributor"
	p.Implicit["member"] = "lead"
	p.AllowExternal = false
	sp.Scopes[1].Create = "billing:view"
	sp.Scopes = append(sp.Scopes[:1], edition.ScopeSpec{Kind: "team"})

	if d := cmp.Diff(before, s.Spec()); d != "" {
		t.Errorf("Spec() changed with the spec it was built from (-before +after):\n%s", d)
	}
	if d := cmp.Diff(builtSpec(), s.Spec()); d != "" {
		t.Errorf("Spec() (-want +got):\n%s", d)
	}
	schemeTestAssertIntact(t, s)
}

// TestSchemeAccessorsReturnCopies: changing what the accessors return
// changes nothing in the scheme.
func TestSchemeAccessorsReturnCopies(t *testing.T) {
	t.Parallel()
	s, err := edition.NewScheme(schemeTestSpec())
	require.NoError(t, err)

	sp := s.Spec()
	sp.Roles[0].ID = "x"
	sp.Capabilities[0].ID = "x:y"
	sp.Matrix["member"][0] = "org/settings:edit"
	sp.Matrix["guest"] = nil
	sp.Editions[0].Seats = edition.Seats(1)
	sp.CapabilityEditions["billing:view"][0] = "free"
	sp.RoleEditions["admin"][1] = "free"
	sp.Invariants[0].Min = 0
	sp.Management.Rules[0].Assign[0] = "owner"
	sp.Management.Rules[0].Manage[0] = "owner"
	sp.Scopes[0].Roles[0].ID = "x"
	sp.Scopes[0].Matrix["contributor"][0] = "project:delete"
	sp.Scopes[0].MinHolders["lead"] = 0
	sp.Scopes[0].Eligibility[0].OrgRoles[0] = "guest"
	sp.Scopes[0].Implicit["owner"] = "contributor"
	sp.Scopes[1] = edition.ScopeSpec{}

	roles := s.Roles()
	roles[0].ID, roles[1].Rank = "x", 9

	eds := s.Editions()
	eds[0], eds[1] = eds[2], nil

	inv := s.Invariants()
	inv[0].Min, inv[1].Role = 0, "member"

	mg := s.Management()
	mg.Invite = "billing:view"
	mg.Rules[0].Manage[0] = "owner"
	mg.Rules[0].Assign[1] = "owner"
	mg.Rules[0].Actor = "member"

	scopes := s.Scopes()
	scopes[0], scopes[1] = scopes[1], nil

	ps := s.ScopeAt(0).Spec()
	ps.Roles[0].Rank = 0
	ps.Matrix["contributor"][0] = "project:delete"
	ps.MinHolders["lead"] = 0
	ps.Eligibility[0].OrgRoles[0] = "guest"
	ps.Implicit["member"] = "lead"

	defs := s.Catalog().Defs()
	defs[0].ID = "x:y"

	if d := cmp.Diff(builtSpec(), s.Spec()); d != "" {
		t.Errorf("Spec() (-want +got):\n%s", d)
	}
	if d := cmp.Diff(schemeTestSpec().Scopes[0], s.ScopeAt(0).Spec()); d != "" {
		t.Errorf("ScopeAt(0).Spec() (-want +got):\n%s", d)
	}
	assert.Equal(t, []edition.Invariant{{Role: "owner", Min: 1}, {Role: "admin", Max: 5}}, s.Invariants())
	assert.Equal(t, schemeTestSpec().Management, s.Management())
	schemeTestAssertIntact(t, s)
}

// schemeTestAssertIntact asserts the facts of the scheme built from
// schemeTestSpec that the copy tests try to disturb.
func schemeTestAssertIntact(t *testing.T, s *edition.Scheme) {
	t.Helper()
	assert.Equal(t, "acme", s.ID())
	assert.Equal(t, "Acme Corp", s.Name())
	assert.Equal(t, []role.Role{
		{ID: "owner", Name: "Owner", Rank: 3},
		{ID: "admin", Name: "Admin", Rank: 2},
		{ID: "member", Name: "Member", Rank: 1},
		{ID: "guest", Name: "Guest", Rank: 0},
	}, s.Roles())
	assert.Equal(t, role.Capability("org/settings:edit"), s.Catalog().Def(0).ID)
	assert.Equal(t, "View reports", s.Catalog().Def(10).Label)
	assert.Equal(t, 11, s.Catalog().Len())
	assert.False(t, s.Matrix().Holds("member", "org/settings:edit"))
	assert.True(t, s.Matrix().Holds("member", "projects:create"))
	assert.True(t, s.Matrix().Holds("admin", "members:invite"))
	assert.True(t, s.Matrix().Holds("guest", "projects:join"))

	var ids []string
	for _, e := range s.Editions() {
		require.NotNil(t, e)
		ids = append(ids, e.ID())
	}
	assert.Equal(t, []string{"free", "pro", "ent"}, ids)
	assert.Equal(t, edition.Seats(3), s.EditionAt(0).Seats())
	_, ok := s.Edition("gold")
	assert.False(t, ok)
	assert.Equal(t, "pro", s.DefaultEdition().ID())
	assert.False(t, s.EditionAt(0).OffersCapability(9), "billing:view stays gated in free")
	assert.True(t, s.EditionAt(0).OffersCapability(10), "reports:view stays offered in free")
	assert.False(t, s.EditionAt(0).OffersRole(stAdmin), "admin stays gated in free")

	assert.Equal(t, "owner", s.CreatorRole())
	assert.Equal(t, "member", s.InviteRole())
	assert.Equal(t, "guest", s.ExternalRole())
	assert.Equal(t, 1, s.MinHolders(stOwner))
	assert.Equal(t, 5, s.MaxHolders(stAdmin))
	c, ok := s.ActionCapability(edition.ActionInvite)
	assert.True(t, ok)
	assert.Equal(t, 1, c)
	assert.False(t, s.MayAssign(stAdmin, stOwner))
	assert.False(t, s.MayManage(stAdmin, stAdmin))
	assert.True(t, s.MayManage(stAdmin, stMember))
	assert.False(t, s.MayAssign(stMember, stAdmin))

	require.Len(t, s.Scopes(), 2)
	p, ok := s.Scope("project")
	require.True(t, ok)
	require.NotNil(t, p)
	_, ok = s.Scope("renamed")
	assert.False(t, ok)
	_, ok = s.Scope("team")
	assert.False(t, ok)
	b, ok := s.Scope("board")
	require.True(t, ok)
	assert.Equal(t, role.Capability("reports:view"), b.CreateCapability())
	assert.Equal(t, []role.Role{{ID: "lead", Name: "Lead", Rank: 2}, {ID: "contributor", Name: "Contributor", Rank: 1}}, p.Matrix().Roles())
	assert.Equal(t, role.Capability("project:view"), p.Matrix().Catalog().Def(0).ID)
	assert.False(t, p.Matrix().Holds("contributor", "project:delete"))
	assert.Equal(t, 1, p.MinHolders(0))
	assert.False(t, p.EligibleRole(0, stGuest))
	assert.True(t, p.EligibleRole(0, stMember))
	c, ok = p.EligibleCapability(1)
	assert.True(t, ok)
	assert.Equal(t, 8, c)
	r, ok := p.ImplicitRole(stOwner)
	assert.True(t, ok)
	assert.Equal(t, 0, r)
	_, ok = p.ImplicitRole(stMember)
	assert.False(t, ok)
	assert.True(t, p.AllowsExternal())
}

func TestSeatLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		limit edition.SeatLimit
		want  edition.SeatLimit
		// Limit(override) for override 0, -1, 7 and 25.
		limits [4]int
		str    string
	}{
		{"Seats(5)", edition.Seats(5), edition.SeatLimit{Max: 5}, [4]int{5, 5, 5, 5}, "5 seats"},
		{"Seats(1)", edition.Seats(1), edition.SeatLimit{Max: 1}, [4]int{1, 1, 1, 1}, "1 seats"},
		{"DefaultSeats(10)", edition.DefaultSeats(10), edition.SeatLimit{Max: 10, Overridable: true}, [4]int{10, 10, 7, 25}, "10 seats (overridable)"},
		{"DefaultSeats(0)", edition.DefaultSeats(0), edition.SeatLimit{Overridable: true}, [4]int{0, 0, 7, 25}, "unlimited seats (overridable)"},
		{"Unlimited()", edition.Unlimited(), edition.SeatLimit{}, [4]int{0, 0, 0, 0}, "unlimited seats"},
		{"zero value", edition.SeatLimit{}, edition.Unlimited(), [4]int{0, 0, 0, 0}, "unlimited seats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.limit)
			for i, override := range []int{0, -1, 7, 25} {
				assert.Equal(t, tt.limits[i], tt.limit.Limit(override), "Limit(%d)", override)
			}
			assert.Equal(t, tt.str, tt.limit.String())
		})
	}
}

func TestActionString(t *testing.T) {
	t.Parallel()
	tests := map[edition.Action]string{
		edition.ActionInvite:     "invite",
		edition.ActionAdd:        "add",
		edition.ActionRemove:     "remove",
		edition.ActionChangeRole: "change-role",
		0:                        "Action(0)",
		5:                        "Action(5)",
		255:                      "Action(255)",
	}
	for a, want := range tests {
		assert.Equal(t, want, a.String())
	}
	// The actions are distinct and non-zero.
	seen := map[edition.Action]bool{}
	for _, a := range []edition.Action{edition.ActionInvite, edition.ActionAdd, edition.ActionRemove, edition.ActionChangeRole} {
		assert.NotZero(t, a)
		assert.False(t, seen[a])
		seen[a] = true
	}
}

// TestNewSchemeErrorsAreDistinct: faults without a role sentinel do not
// claim one.
func TestNewSchemeErrorsAreDistinct(t *testing.T) {
	t.Parallel()
	sp := schemeTestSpec()
	sp.Invariants = append(sp.Invariants, edition.Invariant{Role: "member", Min: 1})
	_, err := edition.NewScheme(sp)
	require.Error(t, err)
	for _, e := range []error{role.ErrUnknownRole, role.ErrUnknownCapability, role.ErrDuplicate, role.ErrInvalidCapability, role.ErrInvalidRole, role.ErrInvalidID, role.ErrTooMany} {
		assert.False(t, errors.Is(err, e), "%v should not match %v", err, e)
	}
	assert.True(t, strings.HasPrefix(err.Error(), `invalid scheme "acme": `), err.Error())
}
