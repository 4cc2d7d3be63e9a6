package schemefile_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/schemefile"
)

// TestSchemeErrorsOnPresets breaks a preset (AIEngine: it has an external
// role, a scope kind, rules of every sort) in one way at a time, writes it
// with Marshal and builds it: the error points at the text it is about.
func TestSchemeErrorsOnPresets(t *testing.T) {
	t.Parallel()
	const ghost = "ghost:cap"
	last := func(sp *edition.Spec) string { r := sp.Scopes[0].Roles; return r[len(r)-1].ID }
	for _, tt := range []struct {
		name   string
		mutate func(sp *edition.Spec)
		at     string // the text at the error's line and column starts with it
	}{
		{"scheme ID", func(sp *edition.Spec) { sp.ID = "Bad" }, "Bad"},
		{"scheme name", func(sp *edition.Spec) { sp.Name = "x\u200b" }, "x\u200b"},
		{"role ID", func(sp *edition.Spec) { sp.Roles[1].ID = "Bad" }, "Bad, name: Org Editor"},
		{"empty role ID", func(sp *edition.Spec) { sp.Roles[1].ID = "" }, "{name: Org Editor"},
		{"role name", func(sp *edition.Spec) { sp.Roles[1].Name = "a\u202eb" }, "a\u202eb"},
		{"too many roles", func(sp *edition.Spec) {
			for i := range role.MaxRoles {
				sp.Roles = append(sp.Roles, role.Role{ID: fmt.Sprintf("r%d", i)})
			}
		}, "roles:"},
		{"matrix row of a malformed role", func(sp *edition.Spec) { sp.Matrix["Bad"] = nil }, "Bad: null"},
		{"malformed capability in a row", func(sp *edition.Spec) { sp.Matrix["owner"] = append(sp.Matrix["owner"], "Bad:x") }, "Bad:x"},
		{"unknown external role", func(sp *edition.Spec) { sp.ExternalRole = "ghost" }, "ghost"},
		{"creator is the external role", func(sp *edition.Spec) { sp.CreatorRole = "external" }, "external"},
		{"edition ID", func(sp *edition.Spec) { sp.Editions[0].ID = "Bad" }, "Bad, name: Standard"},
		{"empty edition ID", func(sp *edition.Spec) { sp.Editions[0].ID = "" }, "{name: Standard"},
		{"edition name", func(sp *edition.Spec) { sp.Editions[0].Name = "a\x00" }, `"a\0"`},
		{"capability gate of none", func(sp *edition.Spec) {
			sp.CapabilityEditions = map[role.Capability][]string{"quota:view": {}}
		}, "[]"},
		{"gate of a malformed capability", func(sp *edition.Spec) {
			sp.CapabilityEditions = map[role.Capability][]string{"Bad": {"standard"}}
		}, "Bad: [standard]"},
		{"role gate of an unknown role", func(sp *edition.Spec) { sp.RoleEditions = map[string][]string{"ghost": {"standard"}} }, "ghost: [standard]"},
		{"role gate of an unknown edition", func(sp *edition.Spec) { sp.RoleEditions = map[string][]string{"viewer": {"ghost"}} }, "ghost]"},
		{"creator gated out", func(sp *edition.Spec) {
			sp.Editions = append(sp.Editions, edition.EditionSpec{ID: "pro"})
			sp.RoleEditions = map[string][]string{"owner": {"pro"}}
		}, "owner: [pro]"},
		{"invariant negative", func(sp *edition.Spec) { sp.Invariants[0].Max = -1 }, "-1}"},
		{"invariant minimum of 2", func(sp *edition.Spec) { sp.Invariants[0].Min = 2 }, "2}"},
		{"immutable other role", func(sp *edition.Spec) {
			sp.Invariants = append(sp.Invariants, edition.Invariant{Role: "viewer", Immutable: true})
		}, "true}"},
		{"invite role immutable", func(sp *edition.Spec) {
			sp.Invariants[0].Immutable = true
			sp.InviteRole = "owner"
		}, "owner"},
		{"management capability no role holds", func(sp *edition.Spec) {
			sp.Capabilities = append(sp.Capabilities, role.Def{ID: "nobody:holds"})
			sp.Management.Add = "nobody:holds"
		}, "nobody:holds"},
		{"owner below the top rank", func(sp *edition.Spec) { sp.Management.Owner = "editor" }, "editor"},
		{"two rules", func(sp *edition.Spec) { sp.Management.Rules = []edition.Rule{{Actor: "viewer"}, {Actor: "viewer"}} }, "viewer"},
		{"rule gives the external role", func(sp *edition.Spec) {
			sp.Management.Rules = []edition.Rule{{Actor: "owner", Assign: []string{"viewer", "external"}}}
		}, "external]"},
		{"organization capability no role holds", func(sp *edition.Spec) {
			sp.Capabilities = append(sp.Capabilities, role.Def{ID: "nobody:holds"})
			sp.Organization.Delete = "nobody:holds"
		}, "nobody:holds"},
		{"malformed key capability", func(sp *edition.Spec) { sp.Keys.Own = "Bad" }, "Bad"},
		{"malformed own capability", func(sp *edition.Spec) { sp.Own = []role.Capability{"quota:view", "Bad"} }, "Bad"},
		{"scope kind", func(sp *edition.Spec) { sp.Scopes[0].Kind = "Bad" }, "Bad"},
		{"scope name", func(sp *edition.Spec) { sp.Scopes[0].Name = "a\u2028" }, "'a\u2028'"},
		{"scope duplicate capability", func(sp *edition.Spec) {
			sp.Scopes[0].Capabilities = append(sp.Scopes[0].Capabilities, sp.Scopes[0].Capabilities[1])
		}, "'project:delete'"},
		{"scope matrix capability", func(sp *edition.Spec) { sp.Scopes[0].Matrix["viewer"] = []role.Capability{"project:view", ghost} }, ghost},
		{"scope without creator role", func(sp *edition.Spec) { sp.Scopes[0].CreatorRole = "" }, "kind: project"},
		{"scope default role", func(sp *edition.Spec) { sp.Scopes[0].DefaultRole = "ghost" }, "ghost"},
		{"scope minimum on an unknown role", func(sp *edition.Spec) { sp.Scopes[0].MinHolders = map[string]int{"ghost": 1} }, "ghost: 1"},
		{"scope minimum of 2", func(sp *edition.Spec) { sp.Scopes[0].MinHolders["owner"] = 2 }, "2"},
		{"scope delete capability", func(sp *edition.Spec) { sp.Scopes[0].Delete = ghost }, ghost},
		{"scope delete-in-scope capability", func(sp *edition.Spec) { sp.Scopes[0].DeleteInScope = ghost }, ghost},
		{"scope manage-members-in-scope capability", func(sp *edition.Spec) { sp.Scopes[0].ManageMembersInScope = ghost }, ghost},
		{"scope view capability", func(sp *edition.Spec) { sp.Scopes[0].View = ghost }, ghost},
		{"scope custom-roles capability", func(sp *edition.Spec) { sp.Scopes[0].CustomRoles = ghost }, ghost},
		{"eligibility of an unknown scope role", func(sp *edition.Spec) { sp.Scopes[0].Eligibility[2].ScopeRole = "ghost" }, "ghost, org_capability"},
		{"eligibility capability", func(sp *edition.Spec) { sp.Scopes[0].Eligibility[2].OrgCapability = ghost }, "'ghost:cap'}"},
		{"two eligibility rules", func(sp *edition.Spec) {
			sp.Scopes[0].Eligibility = append(sp.Scopes[0].Eligibility, edition.Eligibility{ScopeRole: last(sp)})
		}, "viewer}"},
		{"implicit role for the external role", func(sp *edition.Spec) { sp.Scopes[0].Implicit = map[string]string{"external": "viewer"} }, "external: viewer"},
		{"implicit unknown scope role", func(sp *edition.Spec) { sp.Scopes[0].Implicit = map[string]string{"owner": "ghost"} }, "ghost"},
		{"creator not eligible", func(sp *edition.Spec) { sp.Scopes[0].Eligibility[0].OrgRoles = []string{"owner"} }, "owner, org_capability"},
	} {
		spec := edition.AIEngine().Spec()
		tt.mutate(&spec)
		data, err := schemefile.Marshal(spec, schemefile.YAML)
		if err != nil {
			t.Fatal(err)
		}
		_, err = schemefile.Build("aiengine.yaml", data)
		var e *schemefile.Error
		if !errors.As(err, &e) || !errors.Is(err, schemefile.ErrInvalid) || !errors.Is(err, edition.ErrInvalidScheme) {
			t.Errorf("%s: %v, want an *Error matching ErrInvalid and edition.ErrInvalidScheme", tt.name, err)
			continue
		}
		lines := strings.Split(string(data), "\n")
		at := ""
		if e.Line >= 1 && e.Line <= len(lines) {
			if r := []rune(lines[e.Line-1]); e.Column >= 1 && e.Column <= len(r) {
				at = string(r[e.Column-1:])
			}
		}
		if !strings.HasPrefix(at, tt.at) {
			t.Errorf("%s: %v\npoints at %q, want %q", tt.name, err, at, tt.at)
		}
	}
}
