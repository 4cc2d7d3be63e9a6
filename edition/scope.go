package edition

import (
	"maps"
	"slices"

	"github.com/orgauthz/orgauthz/role"
)

// ScopeSpec describes a kind of resource inside an organization that
// carries roles of its own: a project, a service, a workspace.
type ScopeSpec struct {
	// Kind identifies the kind, e.g. "project"; Name is its display name
	// (default Kind), which may hold no character role.ForbiddenInName
	// refuses.
	Kind, Name string
	// Roles, Capabilities and Matrix are the scope's own role model, as in
	// Spec.
	Roles        []role.Role
	Capabilities []role.Def
	Matrix       map[string][]role.Capability
	// CreatorRole is the scope role the creator of a resource gets.
	CreatorRole string
	// DefaultRole is the scope role given when none is named.
	DefaultRole string
	// MinHolders requires, per resource, at least n holders of a scope role.
	// As with organizations, only the creator role may carry a minimum, of
	// at most 1.
	MinHolders map[string]int

	// Create is the organization capability needed to create a resource of
	// this kind. Required.
	Create role.Capability
	// Delete, if set, is the organization capability that lets a member
	// delete any resource of this kind.
	Delete role.Capability
	// DeleteInScope, if set, is the scope capability that lets a scope
	// member delete the resource.
	DeleteInScope role.Capability
	// ManageMembers, if set, is the organization capability that lets a
	// member grant, change and remove access to any resource of this kind,
	// its own access included.
	ManageMembers role.Capability
	// ManageMembersInScope, if set, is the scope capability that lets a
	// scope member manage the resource's members.
	ManageMembersInScope role.Capability
	// View, if set, is the organization capability that lets a member see
	// every resource of this kind (list it, read its record and members)
	// without holding a role on it (UiPath: users see the organization's
	// services). Whoever holds Delete or ManageMembers, or an implicit
	// role on the kind, sees every resource too; anyone else sees the
	// resources it holds a role on.
	View role.Capability
	// CustomRoles, if set, is the scope capability that lets a scope member
	// define custom scope roles, whose capabilities never exceed its own.
	CustomRoles role.Capability

	// Eligibility restricts who may hold a scope role. Scope roles without
	// a rule are open to every member of the organization (and to external
	// principals where AllowExternal is set).
	Eligibility []Eligibility
	// AllowExternal lets a principal that is not a member of the
	// organization be added to a resource; it then has the scheme's
	// ExternalRole standing in the organization.
	AllowExternal bool
	// Implicit gives, for some organization roles, a scope role held on
	// every resource of this kind without being added to it.
	Implicit map[string]string
}

// Eligibility says who may hold a scope role: a principal whose
// organization role (or external standing) holds OrgCapability, if set,
// and is one of OrgRoles, if set.
type Eligibility struct {
	ScopeRole     string
	OrgCapability role.Capability
	OrgRoles      []string
}

func cloneScopeSpec(sc ScopeSpec) ScopeSpec {
	out := sc
	out.Roles = slices.Clone(sc.Roles)
	out.Capabilities = slices.Clone(sc.Capabilities)
	out.Matrix = cloneGrants(sc.Matrix)
	out.MinHolders = maps.Clone(sc.MinHolders)
	out.Eligibility = slices.Clone(sc.Eligibility)
	for i, e := range out.Eligibility {
		out.Eligibility[i].OrgRoles = slices.Clone(e.OrgRoles)
	}
	out.Implicit = maps.Clone(sc.Implicit)
	return out
}

// Scope is a built scope kind of a scheme. It is immutable.
type Scope struct {
	spec      ScopeSpec
	m         *role.Matrix
	creator   int
	def       int
	min       []int
	eligCap   []int    // per scope role: org capability position, -1 for none
	eligRoles []uint64 // per scope role: org role positions allowed
	implicit  []int    // per org role: scope role position, -1 for none
}

// Kind returns the scope kind's identifier, e.g. "project".
func (sc *Scope) Kind() string { return sc.spec.Kind }

// Name returns the scope kind's display name.
func (sc *Scope) Name() string { return sc.spec.Name }

// Matrix returns the scope's role × capability matrix.
func (sc *Scope) Matrix() *role.Matrix { return sc.m }

// CreatorRole returns the scope role a resource's creator gets.
func (sc *Scope) CreatorRole() string { return sc.m.Role(sc.creator).ID }

// DefaultRole returns the scope role given when none is named.
func (sc *Scope) DefaultRole() string { return sc.m.Role(sc.def).ID }

// MinHolders returns the fewest holders the scope role at position i must
// have on each resource.
func (sc *Scope) MinHolders(i int) int { return sc.min[i] }

// CreateCapability returns the organization capability that creating a
// resource of this kind needs.
func (sc *Scope) CreateCapability() role.Capability { return sc.spec.Create }

// DeleteCapability returns the organization capability that lets a member
// delete any resource of this kind, or "".
func (sc *Scope) DeleteCapability() role.Capability { return sc.spec.Delete }

// DeleteInScopeCapability returns the scope capability that lets a scope
// member delete the resource, or "".
func (sc *Scope) DeleteInScopeCapability() role.Capability { return sc.spec.DeleteInScope }

// ManageMembersCapability returns the organization capability that lets a
// member manage access to any resource of this kind, or "".
func (sc *Scope) ManageMembersCapability() role.Capability { return sc.spec.ManageMembers }

// ManageMembersInScopeCapability returns the scope capability that lets a
// scope member manage the resource's members, or "".
func (sc *Scope) ManageMembersInScopeCapability() role.Capability {
	return sc.spec.ManageMembersInScope
}

// ViewCapability returns the organization capability that lets a member
// see every resource of the kind, or "" (see ScopeSpec.View).
func (sc *Scope) ViewCapability() role.Capability { return sc.spec.View }

// CustomRolesCapability returns the scope capability that lets a scope
// member define custom scope roles, or "" when the kind has none.
func (sc *Scope) CustomRolesCapability() role.Capability { return sc.spec.CustomRoles }

// AllowsExternal reports whether principals outside the organization may be
// added to resources of this kind.
func (sc *Scope) AllowsExternal() bool { return sc.spec.AllowExternal }

// EligibleCapability returns the organization capability (catalog position)
// a principal's organization role must hold to take the scope role at
// position i, and false when there is none.
func (sc *Scope) EligibleCapability(i int) (int, bool) { return sc.eligCap[i], sc.eligCap[i] >= 0 }

// EligibleRole reports whether the organization role at position orgRole
// passes the scope role's role condition (true when it has none).
func (sc *Scope) EligibleRole(i, orgRole int) bool {
	return uint(orgRole) < 64 && sc.eligRoles[i]&(1<<uint(orgRole)) != 0
}

// ImplicitRole returns the position of the scope role that the organization
// role at position orgRole holds on every resource of this kind, and false
// when it holds none.
func (sc *Scope) ImplicitRole(orgRole int) (int, bool) {
	if orgRole < 0 || orgRole >= len(sc.implicit) {
		return 0, false
	}
	r := sc.implicit[orgRole]
	return r, r >= 0
}

// Spec returns a deep copy of the scope kind's specification.
func (sc *Scope) Spec() ScopeSpec { return cloneScopeSpec(sc.spec) }
