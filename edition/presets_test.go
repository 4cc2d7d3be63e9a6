package edition_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

// The expected values below are transcribed by hand from SCHEMES.md (and,
// where it is silent, from the decisions in the presets' doc comments);
// none is computed by the code under test.

// presetWantEdition is an edition as SCHEMES.md describes it, with the
// seats an organization gets for a few overrides.
type presetWantEdition struct {
	id     string
	seats  edition.SeatLimit
	limits map[int]int // override → Limit(override)
}

// presetWantInvariant: per role, its minimum and maximum holders and
// whether it is immutable.
type presetWantInvariant struct {
	min, max  int
	immutable bool
}

// presetWantScope is a scope kind as SCHEMES.md and the doc comments
// describe it.
type presetWantScope struct {
	kind                 string
	roles                []role.Role // IDs and ranks; names are not compared
	creator, def         string
	min                  map[string]int
	capabilities         []role.Capability
	matrix               map[string][]role.Capability // scope role → capabilities held
	create, del          role.Capability
	delInScope           role.Capability
	manage, manageInScop role.Capability
	customRoles          role.Capability
	eligibleCap          map[string]role.Capability // scope role → organization capability required
	eligibleRoles        map[string][]string        // scope role → organization roles allowed (absent: all)
	implicit             map[string]string          // organization role → scope role
	allowsExternal       bool
}

type presetWant struct {
	id           string
	scheme       func() *edition.Scheme
	roles        []role.Role // IDs and ranks; names are not compared
	capabilities []role.Capability
	creator      string
	invite       string
	external     string
	editions     []presetWantEdition
	defEdition   string
	invariants   map[string]presetWantInvariant // absent: no constraint
	actions      map[edition.Action]role.Capability
	// roleEditions: the editions that offer a role; absent: every edition.
	roleEditions map[string][]string
	// capEditions: the editions that offer a capability; absent: every
	// edition.
	capEditions map[role.Capability][]string
	// manage and assign: per actor role, the roles it may act on and give
	// by the rank rule and the scheme's rules.
	manage, assign map[string][]string
	scopes         []presetWantScope
}

// uipathResources are UiPath's twelve resources, in SCHEMES.md's order.
var uipathResources = []string{
	"dashboard", "services", "services/users", "services/usage_trend", "services/license_usage", "users",
	"licenses", "licenses/api_keys", "resource_center", "notifications", "audit_logs", "organization_settings",
}

// uipathCapabilities: the five action rows, then each resource × view,
// edit, create, delete.
func uipathCapabilities() []role.Capability {
	caps := []role.Capability{
		"services/first:access", "services:grant_access", "services:toggle_all", "licenses:request", "audit_logs:download",
	}
	for _, r := range uipathResources {
		for _, a := range []string{"view", "edit", "create", "delete"} {
			caps = append(caps, role.Capability(r+":"+a))
		}
	}
	return caps
}

func presetWants() []presetWant {
	all := func(ids ...string) []string { return ids }
	return []presetWant{
		{
			id:     "wherobots",
			scheme: edition.Wherobots,
			roles:  []role.Role{{ID: "admin", Rank: 2}, {ID: "user", Rank: 1}},
			capabilities: []role.Capability{
				"cloud:use", "notebook:start", "organization:create", "organization/settings:manage",
				"integrations/s3:create", "integrations/s3:use", "members:manage", "roles:modify",
				"service_principals:create", "service_principals/api_keys:add", "api_keys:revoke_others",
				"api_keys:manage_own", "api_keys:authenticate", "job_runs:create", "support:contact",
				"raster_inference:use", "billing:view", "audit_logs:view",
			},
			creator: "admin",
			invite:  "user",
			editions: []presetWantEdition{
				{"community", edition.SeatLimit{Max: 5}, map[int]int{0: 5, 3: 5, 8: 5}},
				{"professional", edition.SeatLimit{Max: 10, Overridable: true}, map[int]int{0: 10, -1: 10, 3: 3, 25: 25}},
				{"enterprise", edition.SeatLimit{}, map[int]int{0: 0, 25: 0}},
			},
			defEdition: "community",
			invariants: map[string]presetWantInvariant{"admin": {min: 1}},
			actions: map[edition.Action]role.Capability{
				edition.ActionInvite:     "members:manage",
				edition.ActionRemove:     "members:manage",
				edition.ActionChangeRole: "roles:modify",
			},
			capEditions: map[role.Capability][]string{
				"service_principals:create":       {"professional", "enterprise"},
				"service_principals/api_keys:add": {"professional", "enterprise"},
				"job_runs:create":                 {"professional", "enterprise"},
				"raster_inference:use":            {"professional", "enterprise"},
				"billing:view":                    {"professional", "enterprise"},
				"audit_logs:view":                 {"professional", "enterprise"},
			},
			manage: map[string][]string{"admin": all("admin", "user"), "user": all("user")},
			assign: map[string][]string{"admin": all("admin", "user"), "user": all("user")},
		},
		{
			id:     "aiengine",
			scheme: edition.AIEngine,
			roles:  []role.Role{{ID: "owner", Rank: 3}, {ID: "editor", Rank: 2}, {ID: "viewer", Rank: 1}, {ID: "external", Rank: 0}},
			capabilities: []role.Capability{
				"billing:manage", "quota:view", "members:manage", "accounts:create",
				"projects:create", "projects:be_owner", "projects:be_member",
			},
			creator:    "owner",
			invite:     "viewer",
			external:   "external",
			editions:   []presetWantEdition{{"standard", edition.SeatLimit{}, map[int]int{0: 0, 9: 0}}},
			defEdition: "standard",
			invariants: map[string]presetWantInvariant{"owner": {min: 1}},
			actions: map[edition.Action]role.Capability{
				edition.ActionInvite:     "members:manage",
				edition.ActionAdd:        "accounts:create",
				edition.ActionRemove:     "members:manage",
				edition.ActionChangeRole: "members:manage",
			},
			manage: map[string][]string{"owner": all("owner", "editor", "viewer"), "editor": all("editor", "viewer"), "viewer": all("viewer"), "external": nil},
			assign: map[string][]string{"owner": all("owner", "editor", "viewer"), "editor": all("editor", "viewer"), "viewer": all("viewer"), "external": nil},
			scopes: []presetWantScope{{
				kind:         "project",
				roles:        []role.Role{{ID: "owner", Rank: 3}, {ID: "editor", Rank: 2}, {ID: "viewer", Rank: 1}},
				creator:      "owner",
				def:          "viewer",
				min:          map[string]int{"owner": 1},
				capabilities: []role.Capability{"project/members:manage", "project:delete", "project/assets:manage", "project:view"},
				matrix: map[string][]role.Capability{
					"owner":  {"project/members:manage", "project:delete", "project/assets:manage", "project:view"},
					"editor": {"project/assets:manage", "project:view"},
					"viewer": {"project:view"},
				},
				create:       "projects:create",
				delInScope:   "project:delete",
				manageInScop: "project/members:manage",
				eligibleCap: map[string]role.Capability{
					"owner":  "projects:be_owner",
					"editor": "projects:be_member",
					"viewer": "projects:be_member",
				},
				allowsExternal: true,
			}},
		},
		{
			id:           "uipath",
			scheme:       edition.UiPath,
			roles:        []role.Role{{ID: "owner", Rank: 3}, {ID: "administrator", Rank: 2}, {ID: "user", Rank: 1}},
			capabilities: uipathCapabilities(),
			creator:      "owner",
			invite:       "user",
			editions:     []presetWantEdition{{"standard", edition.SeatLimit{}, map[int]int{0: 0, 9: 0}}},
			defEdition:   "standard",
			invariants:   map[string]presetWantInvariant{"owner": {min: 1, max: 1, immutable: true}},
			actions: map[edition.Action]role.Capability{
				edition.ActionInvite:     "users:create",
				edition.ActionRemove:     "users:delete",
				edition.ActionChangeRole: "users:edit",
			},
			// The owner role is immutable: nobody gives it, the owner
			// included (see "invariants"); the rank rule alone would let
			// the owner give it.
			manage: map[string][]string{"owner": all("owner", "administrator", "user"), "administrator": all("administrator", "user"), "user": all("user")},
			assign: map[string][]string{"owner": all("owner", "administrator", "user"), "administrator": all("administrator", "user"), "user": all("user")},
			scopes: []presetWantScope{{
				kind:    "service",
				roles:   []role.Role{{ID: "administrator", Rank: 1}},
				creator: "administrator",
				def:     "administrator",
				capabilities: []role.Capability{
					"service:access", "service/roles:manage", "service/machines:manage", "service/robots:manage",
					"service/processes:manage", "service/jobs:manage", "service/packages:manage",
					"service/queues:manage", "service/environments:manage", "service/schedules:manage",
				},
				matrix: map[string][]role.Capability{"administrator": {
					"service:access", "service/roles:manage", "service/machines:manage", "service/robots:manage",
					"service/processes:manage", "service/jobs:manage", "service/packages:manage",
					"service/queues:manage", "service/environments:manage", "service/schedules:manage",
				}},
				create:      "services:create",
				del:         "services:delete",
				manage:      "services:grant_access",
				customRoles: "service/roles:manage",
				implicit:    map[string]string{"owner": "administrator"},
			}},
		},
		{
			id:     "soterai",
			scheme: edition.SoterAI,
			roles:  []role.Role{{ID: "owner", Rank: 3}, {ID: "manager", Rank: 2}, {ID: "member", Rank: 1}},
			capabilities: []role.Capability{
				"organization/settings:edit", "organization:delete", "billing:manage", "billing:view",
				"workspaces:create", "workspaces:edit", "workspaces:delete", "workspace/settings:edit",
				"members:invite", "members:remove", "members:change_role",
				"content:use", "content/own:edit", "files:upload", "profile/own:edit",
			},
			creator: "owner",
			invite:  "member",
			editions: []presetWantEdition{
				{"starter", edition.SeatLimit{Overridable: true}, map[int]int{0: 0, 12: 12}},
				{"professional", edition.SeatLimit{Overridable: true}, map[int]int{0: 0, 12: 12}},
				{"enterprise", edition.SeatLimit{Overridable: true}, map[int]int{0: 0, 12: 12}},
			},
			defEdition:   "starter",
			invariants:   map[string]presetWantInvariant{"owner": {min: 1}},
			roleEditions: map[string][]string{"member": {"enterprise"}},
			actions: map[edition.Action]role.Capability{
				edition.ActionInvite:     "members:invite",
				edition.ActionRemove:     "members:remove",
				edition.ActionChangeRole: "members:change_role",
			},
			// Owners reach anyone, owners included; managers only
			// non-owners, and never give owner.
			manage: map[string][]string{"owner": all("owner", "manager", "member"), "manager": all("manager", "member"), "member": all("member")},
			assign: map[string][]string{"owner": all("owner", "manager", "member"), "manager": all("manager", "member"), "member": all("member")},
			scopes: []presetWantScope{{
				// SCHEMES.md is silent on workspaces; SoterAI's doc comment
				// decides them.
				kind:         "workspace",
				roles:        []role.Role{{ID: "manager", Rank: 2}, {ID: "member", Rank: 1}},
				creator:      "manager",
				def:          "member",
				capabilities: []role.Capability{"workspace:use", "workspace:configure", "workspace/members:manage"},
				matrix: map[string][]role.Capability{
					"manager": {"workspace:use", "workspace:configure", "workspace/members:manage"},
					"member":  {"workspace:use"},
				},
				create:       "workspaces:create",
				del:          "workspaces:delete",
				manage:       "workspaces:edit",
				manageInScop: "workspace/members:manage",
				eligibleCap:  map[string]role.Capability{"manager": "workspace/settings:edit"},
				implicit:     map[string]string{"owner": "manager", "manager": "manager"},
			}},
		},
	}
}

func TestPresets(t *testing.T) {
	t.Parallel()
	for _, w := range presetWants() {
		t.Run(w.id, func(t *testing.T) {
			t.Parallel()
			s := w.scheme()
			require.NotNil(t, s)
			assert.Equal(t, w.id, s.ID())

			t.Run("roles", func(t *testing.T) {
				t.Parallel()
				roles := s.Roles()
				require.Len(t, roles, len(w.roles))
				for i, r := range w.roles {
					assert.Equal(t, r.ID, roles[i].ID, "role %d", i)
					assert.Equal(t, r.Rank, roles[i].Rank, "rank of %s", r.ID)
				}
				assert.Equal(t, w.creator, s.CreatorRole())
				assert.Equal(t, w.invite, s.InviteRole())
				assert.Equal(t, w.external, s.ExternalRole())
				owner, ok := s.OwnerRole()
				wantOwner := map[string]string{"aiengine": "owner", "uipath": "owner", "soterai": "owner"}[w.id]
				assert.Equal(t, wantOwner != "", ok, "OwnerRole offered")
				assert.Equal(t, wantOwner, owner, "OwnerRole")
				for i, r := range w.roles {
					assert.Equal(t, r.ID == w.external, s.IsExternal(i), "IsExternal(%s)", r.ID)
				}
			})

			t.Run("catalog", func(t *testing.T) {
				t.Parallel()
				var got []role.Capability
				for _, d := range s.Catalog().Defs() {
					got = append(got, d.ID)
				}
				if d := cmp.Diff(w.capabilities, got); d != "" {
					t.Errorf("catalog (-SCHEMES.md +got):\n%s", d)
				}
			})

			t.Run("editions", func(t *testing.T) {
				t.Parallel()
				eds := s.Editions()
				require.Len(t, eds, len(w.editions))
				for i, we := range w.editions {
					assert.Equal(t, we.id, eds[i].ID(), "edition %d", i)
					e, ok := s.Edition(we.id)
					require.True(t, ok, we.id)
					assert.Equal(t, we.seats, e.Seats(), we.id)
					for override, want := range we.limits {
						assert.Equal(t, want, e.Seats().Limit(override), "%s: Limit(%d)", we.id, override)
					}
				}
				assert.Equal(t, w.defEdition, s.DefaultEdition().ID())
			})

			t.Run("edition gates", func(t *testing.T) {
				t.Parallel()
				for _, e := range s.Editions() {
					for i, r := range w.roles {
						want := true
						if eds, ok := w.roleEditions[r.ID]; ok {
							want = presetHas(eds, e.ID())
						}
						assert.Equal(t, want, e.OffersRole(i), "%s offers role %s", e.ID(), r.ID)
					}
					for i, c := range w.capabilities {
						want := true
						if eds, ok := w.capEditions[c]; ok {
							want = presetHas(eds, e.ID())
						}
						assert.Equal(t, want, e.OffersCapability(i), "%s offers %s", e.ID(), c)
					}
				}
			})

			t.Run("invariants", func(t *testing.T) {
				t.Parallel()
				for i, r := range w.roles {
					inv := w.invariants[r.ID]
					assert.Equal(t, inv.min, s.MinHolders(i), "MinHolders(%s)", r.ID)
					assert.Equal(t, inv.max, s.MaxHolders(i), "MaxHolders(%s)", r.ID)
					assert.Equal(t, inv.immutable, s.Immutable(i), "Immutable(%s)", r.ID)
				}
			})

			t.Run("management", func(t *testing.T) {
				t.Parallel()
				for _, a := range []edition.Action{edition.ActionInvite, edition.ActionAdd, edition.ActionRemove, edition.ActionChangeRole} {
					ci, ok := s.ActionCapability(a)
					want, offered := w.actions[a]
					if assert.Equal(t, offered, ok, "%s offered", a) && ok {
						assert.Equal(t, want, s.Catalog().Def(ci).ID, "capability for %s", a)
					}
				}
				for ai, actor := range w.roles {
					for ti, target := range w.roles {
						assert.Equal(t, presetHas(w.manage[actor.ID], target.ID), s.MayManage(ai, ti), "%s may act on %s", actor.ID, target.ID)
						if w.invariants[target.ID].immutable {
							// Whether MayAssign reflects immutability is
							// TestSchemeMayAssignIgnoresImmutability's
							// question; the immutability itself is checked
							// under "invariants".
							continue
						}
						assert.Equal(t, presetHas(w.assign[actor.ID], target.ID), s.MayAssign(ai, ti), "%s may give %s", actor.ID, target.ID)
					}
				}
			})

			t.Run("scopes", func(t *testing.T) {
				t.Parallel()
				scopes := s.Scopes()
				require.Len(t, scopes, len(w.scopes))
				for i, ws := range w.scopes {
					sc := scopes[i]
					assert.Equal(t, ws.kind, sc.Kind())
					byKind, ok := s.Scope(ws.kind)
					require.True(t, ok, ws.kind)
					assert.Same(t, sc, byKind)
					presetAssertScope(t, s, w, ws, sc)
				}
			})
		})
	}
}

func presetAssertScope(t *testing.T, s *edition.Scheme, w presetWant, ws presetWantScope, sc *edition.Scope) {
	t.Helper()
	m := sc.Matrix()
	roles := m.Roles()
	require.Len(t, roles, len(ws.roles), ws.kind)
	for i, r := range ws.roles {
		assert.Equal(t, r.ID, roles[i].ID, "%s role %d", ws.kind, i)
		assert.Equal(t, r.Rank, roles[i].Rank, "%s rank of %s", ws.kind, r.ID)
		assert.Equal(t, ws.min[r.ID], sc.MinHolders(i), "%s MinHolders(%s)", ws.kind, r.ID)
	}
	assert.Equal(t, ws.creator, sc.CreatorRole())
	assert.Equal(t, ws.def, sc.DefaultRole())

	var caps []role.Capability
	for _, d := range m.Catalog().Defs() {
		caps = append(caps, d.ID)
	}
	assert.Equal(t, ws.capabilities, caps, "%s capabilities", ws.kind)
	for _, r := range ws.roles {
		for _, c := range ws.capabilities {
			assert.Equal(t, presetHasCap(ws.matrix[r.ID], c), m.Holds(r.ID, c), "%s role %s holds %s", ws.kind, r.ID, c)
		}
	}

	assert.Equal(t, ws.create, sc.CreateCapability(), "Create")
	assert.Equal(t, ws.del, sc.DeleteCapability(), "Delete")
	assert.Equal(t, ws.delInScope, sc.DeleteInScopeCapability(), "DeleteInScope")
	assert.Equal(t, ws.manage, sc.ManageMembersCapability(), "ManageMembers")
	assert.Equal(t, ws.manageInScop, sc.ManageMembersInScopeCapability(), "ManageMembersInScope")
	assert.Equal(t, ws.customRoles, sc.CustomRolesCapability(), "CustomRoles")
	assert.Equal(t, ws.allowsExternal, sc.AllowsExternal(), "AllowsExternal")

	for i, r := range ws.roles {
		ci, ok := sc.EligibleCapability(i)
		want, has := ws.eligibleCap[r.ID]
		if assert.Equal(t, has, ok, "%s role %s has an eligibility capability", ws.kind, r.ID) && ok {
			assert.Equal(t, want, s.Catalog().Def(ci).ID, "%s role %s eligibility capability", ws.kind, r.ID)
		}
		for oi, or := range w.roles {
			want := true
			if list, ok := ws.eligibleRoles[r.ID]; ok {
				want = presetHas(list, or.ID)
			}
			assert.Equal(t, want, sc.EligibleRole(i, oi), "%s role %s open to organization role %s", ws.kind, r.ID, or.ID)
		}
	}
	for oi, or := range w.roles {
		ri, ok := sc.ImplicitRole(oi)
		want, has := ws.implicit[or.ID]
		if assert.Equal(t, has, ok, "%s: organization role %s has an implicit role", ws.kind, or.ID) && ok {
			assert.Equal(t, want, m.Role(ri).ID, "%s: implicit role of %s", ws.kind, or.ID)
		}
	}
}

// TestUiPathUserHoldsOnlyFourViews pins the decision of UiPath's doc
// comment: user holds exactly four read-only capabilities.
func TestUiPathUserHoldsOnlyFourViews(t *testing.T) {
	t.Parallel()
	s := edition.UiPath()
	ri, ok := s.RoleIndex("user")
	require.True(t, ok)
	assert.Equal(t,
		[]role.Capability{"services:view", "users:view", "licenses:view", "resource_center:view"},
		s.Catalog().IDs(s.Matrix().Grants(ri)))
	assert.Equal(t, 53, s.Catalog().Len(), "5 actions + 12 resources × 4")
}

// TestPresetsAreIndependent: each call builds an equal, independent value.
func TestPresetsAreIndependent(t *testing.T) {
	t.Parallel()
	for _, w := range presetWants() {
		t.Run(w.id, func(t *testing.T) {
			t.Parallel()
			a, b := w.scheme(), w.scheme()
			require.NotSame(t, a, b)
			if d := cmp.Diff(a.Spec(), b.Spec()); d != "" {
				t.Errorf("two calls differ:\n%s", d)
			}
			// Deriving from one leaves the other, and fresh ones, untouched.
			sp := a.Spec()
			sp.Roles[0].Rank = 99
			sp.Editions[0].Seats = edition.Seats(1)
			assert.Equal(t, w.roles[0].Rank, b.Roles()[0].Rank)
			assert.Equal(t, w.editions[0].seats, w.scheme().EditionAt(0).Seats())
			// The spec rebuilds into an equal scheme.
			again, err := edition.NewScheme(a.Spec())
			require.NoError(t, err)
			if d := cmp.Diff(a.Spec(), again.Spec()); d != "" {
				t.Errorf("rebuilt from Spec() (-preset +rebuilt):\n%s", d)
			}
		})
	}
}

func presetHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func presetHasCap(list []role.Capability, c role.Capability) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}
