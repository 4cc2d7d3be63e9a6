package edition

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/orgauthz/orgauthz/internal/strindex"
	"github.com/orgauthz/orgauthz/role"
)

// MaxEditions is the most editions a scheme can have, and MaxScopes the
// most scope kinds.
const (
	MaxEditions = 64
	MaxScopes   = 64
)

// ErrInvalidScheme is matched by every error NewScheme returns. The error
// names the fault; where the fault is a malformed, duplicate or unknown ID
// it also matches the role package's sentinel (role.ErrInvalidCapability,
// role.ErrDuplicate, role.ErrUnknownRole, ...), and where it is a display
// name or label holding a forbidden character, role.ErrInvalidName.
var ErrInvalidScheme = errors.New("invalid scheme")

// Spec describes a scheme for NewScheme. Every ID it names must be defined
// in it. NewScheme copies what it needs: changing a Spec after the call
// changes nothing built from it.
type Spec struct {
	// ID identifies the scheme, e.g. "wherobots"; Name is its display name
	// (default ID), which may hold no character role.ForbiddenInName
	// refuses.
	ID, Name string

	// Roles are the organization roles, including ExternalRole if any.
	Roles []role.Role
	// Capabilities are the organization capabilities, in the order tables
	// render them by default.
	Capabilities []role.Def
	// Matrix lists, for each role ID, the capabilities it holds. Everything
	// else is denied.
	Matrix map[string][]role.Capability

	// Editions are the scheme's plans; at least one is required.
	Editions []EditionSpec
	// DefaultEdition is the edition new organizations get; "" means the
	// first.
	DefaultEdition string
	// CapabilityEditions gates capabilities by edition: a capability listed
	// here is offered only in the editions named. Capabilities not listed
	// are offered in every edition.
	CapabilityEditions map[role.Capability][]string
	// RoleEditions gates roles by edition in the same way: a role listed
	// here can be held only in the editions named.
	RoleEditions map[string][]string
	// Trials lists the editions organizations may try for a while, at most
	// one entry per edition. Starting, extending and ending a trial is
	// governed by Organization.Trial.
	Trials []TrialSpec

	// CreatorRole is the role the creator of an organization gets.
	CreatorRole string
	// InviteRole is the role an invitation carries when it names none.
	InviteRole string
	// ExternalRole, if set, is the standing of a principal that belongs to
	// a scope of the organization without being a member of it. It has a
	// matrix column like any role but is never assigned, invited or
	// managed, and has rank 0.
	ExternalRole string

	// Invariants constrain how many members hold a role, and which roles
	// are immutable. At most one invariant per role.
	Invariants []Invariant
	// Management says which capabilities govern inviting, adding, removing
	// and re-roling members, and how each role's reach is tightened.
	Management Management
	// Scopes are the kinds of resource inside an organization that carry
	// roles of their own (projects, services, workspaces).
	Scopes []ScopeSpec

	// Organization says which capability governs each operation on the
	// organization itself.
	Organization OrgCapabilities
	// Own lists the capabilities that act on one's own things (one's own
	// API keys, content, profile): a check of one names the thing's owner,
	// and only the owner is allowed.
	Own []role.Capability
	// Keys says which capabilities govern service principals and API
	// keys. A scheme that sets none offers neither.
	Keys KeyCapabilities
}

// MaxTrialDuration is the longest a TrialSpec may bound a trial to.
const MaxTrialDuration = 366 * 24 * time.Hour

// TrialSpec says that organizations may try an edition for a while.
type TrialSpec struct {
	// Edition is the edition that may be trialled.
	Edition string
	// MaxDuration bounds one trial, extensions included (from its start).
	// It must be positive and at most MaxTrialDuration.
	MaxDuration time.Duration
	// From, if not empty, lists the base editions a trial may start from;
	// empty means any other edition.
	From []string
}

// StartsFrom reports whether a trial may start from base edition id: the
// trial's From lists it, or From is empty and id is another edition than
// the trialled one.
func (t TrialSpec) StartsFrom(id string) bool {
	if id == t.Edition {
		return false
	}
	return len(t.From) == 0 || slices.Contains(t.From, id)
}

func cloneTrial(t TrialSpec) TrialSpec {
	t.From = slices.Clone(t.From)
	return t
}

// KeyCapabilities says which capability governs each operation on service
// principals and API keys. An empty one means nobody may, except where
// said otherwise.
type KeyCapabilities struct {
	// ServicePrincipals governs creating, renaming and deleting service
	// principals.
	ServicePrincipals role.Capability
	// ServicePrincipalKeys governs adding keys to service principals, and
	// listing and revoking theirs.
	ServicePrincipalKeys role.Capability
	// Own governs creating one's own keys. Anyone may list and revoke its
	// own keys.
	Own role.Capability
	// RevokeOthers governs listing and revoking other members' keys.
	RevokeOthers role.Capability
	// Authenticate, if set, must be held by a key's owner for the key to
	// authenticate; empty means no such condition.
	Authenticate role.Capability
}

// OrgCapabilities says which capability an actor must hold for each
// operation on the organization itself. An empty one means nobody may.
type OrgCapabilities struct {
	// Settings governs renaming the organization and editing its settings.
	Settings role.Capability
	// Edition governs changing the edition and the seat override.
	Edition role.Capability
	// Delete governs archiving and deleting the organization.
	Delete role.Capability
	// Audit governs reading and exporting the audit trail.
	Audit role.Capability
	// Trial governs starting, extending and ending a trial of an edition
	// (see Spec.Trials); "" means only the host may.
	Trial role.Capability
}

// Invariant constrains the holders of one organization role. Nothing that
// breaks an invariant is allowed, whoever asks.
type Invariant struct {
	// Role is the role constrained.
	Role string
	// Min is the fewest members that must hold Role; 0 means no minimum.
	// Because an organization starts with its creator alone, a minimum is
	// allowed only on the creator role and is at most 1.
	Min int
	// Max is the most members that may hold Role; 0 means no maximum.
	Max int
	// Immutable makes Role impossible to give, take or remove, by anyone,
	// the holder included: only the creator ever holds it. It must be the
	// creator role.
	Immutable bool
}

// Action is a management action on the members of an organization.
type Action uint8

// The management actions.
const (
	// ActionInvite brings a new member in, by invitation, with a role.
	ActionInvite Action = iota + 1
	// ActionAdd adds a member directly (creating an account), with a role.
	ActionAdd
	// ActionRemove removes another member.
	ActionRemove
	// ActionChangeRole changes a member's role.
	ActionChangeRole
	numActions
)

// String returns the action's name: "invite", "add", "remove" or
// "change-role".
func (a Action) String() string {
	switch a {
	case ActionInvite:
		return "invite"
	case ActionAdd:
		return "add"
	case ActionRemove:
		return "remove"
	case ActionChangeRole:
		return "change-role"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Management says which capability an actor must hold for each management
// action, and tightens, role by role, which members it may act on and which
// roles it may give.
//
// Without a rule, a role's reach is the rank rule: it may act on members
// whose role's rank is at most its own and give roles whose rank is at most
// its own. A Rule may only narrow that.
type Management struct {
	// Invite, Add, Remove and ChangeRole are the capabilities each action
	// needs. An empty one means the scheme does not offer the action.
	Invite, Add, Remove, ChangeRole role.Capability
	// Rules tighten the rank rule for some actor roles.
	Rules []Rule
	// Owner, if set, is the role an ownership transfer hands over: its
	// holder gives it to another member and steps down to a role it names,
	// in one change. It must be a role of the highest rank, and not the
	// external one. When it is immutable (UiPath's owner), no member may
	// transfer it, itself included: only the host may. "" means the scheme
	// has no owner to hand over (Wherobots: admins and users).
	Owner string
}

// Rule narrows what members holding role Actor may do to others.
type Rule struct {
	// Actor is the role the rule applies to.
	Actor string
	// Manage lists the roles of the members Actor may remove or re-role;
	// nil keeps the rank rule.
	Manage []string
	// Assign lists the roles Actor may give by invitation, addition or
	// change; nil keeps the rank rule.
	Assign []string
}

// Scheme is a built, validated role model. It is immutable and safe for
// concurrent use.
type Scheme struct {
	spec       Spec // a private deep copy, for Spec
	m          *role.Matrix
	editions   []*Edition
	edIdx      *strindex.Index
	defEdition int
	creator    int
	invite     int
	owner      int // -1 when the scheme offers no ownership transfer
	external   int // -1 when none
	min, max   []int
	immutable  uint64
	actionCap  [numActions]int // capability position per action; -1 none
	manage     []uint64        // per actor role: role positions it may act on
	assign     []uint64        // per actor role: role positions it may give
	exceeds    []uint64        // per actor role: roles holding a capability it lacks
	scopes     []*Scope
	scopeIdx   map[string]int
	own        role.Set
}

// ID returns the scheme's identifier.
func (s *Scheme) ID() string { return s.spec.ID }

// Name returns the scheme's display name.
func (s *Scheme) Name() string { return s.spec.Name }

// Matrix returns the organization role × capability matrix.
func (s *Scheme) Matrix() *role.Matrix { return s.m }

// Catalog returns the organization capability catalog.
func (s *Scheme) Catalog() *role.Catalog { return s.m.Catalog() }

// Roles returns the organization roles, in order.
func (s *Scheme) Roles() []role.Role { return s.m.Roles() }

// RoleIndex returns the matrix position of the role with the given ID.
func (s *Scheme) RoleIndex(id string) (int, bool) { return s.m.RoleIndex(id) }

// Edition returns the edition with the given ID.
func (s *Scheme) Edition(id string) (*Edition, bool) {
	i, ok := s.edIdx.Lookup(id)
	if !ok {
		return nil, false
	}
	return s.editions[i], true
}

// EditionAt returns the edition at position i. It panics if i is out of
// range.
func (s *Scheme) EditionAt(i int) *Edition { return s.editions[i] }

// Editions returns the editions, in order.
func (s *Scheme) Editions() []*Edition { return slices.Clone(s.editions) }

// DefaultEdition returns the edition new organizations get.
func (s *Scheme) DefaultEdition() *Edition { return s.editions[s.defEdition] }

// Trial returns the trial of the edition with the given ID, and false if
// that edition may not be trialled (or does not exist).
func (s *Scheme) Trial(editionID string) (TrialSpec, bool) {
	for _, t := range s.spec.Trials {
		if t.Edition == editionID {
			return cloneTrial(t), true
		}
	}
	return TrialSpec{}, false
}

// Trials returns a copy of the scheme's trials, in the Spec's order.
func (s *Scheme) Trials() []TrialSpec {
	if len(s.spec.Trials) == 0 {
		return nil
	}
	out := make([]TrialSpec, len(s.spec.Trials))
	for i, t := range s.spec.Trials {
		out[i] = cloneTrial(t)
	}
	return out
}

// CreatorRole returns the ID of the role an organization's creator gets.
func (s *Scheme) CreatorRole() string { return s.m.Role(s.creator).ID }

// OwnerRole returns the ID of the role an ownership transfer hands over
// (see Management.Owner), and false if the scheme offers no transfer.
func (s *Scheme) OwnerRole() (string, bool) {
	if s.owner < 0 {
		return "", false
	}
	return s.m.Role(s.owner).ID, true
}

// InviteRole returns the ID of the role an invitation carries by default.
func (s *Scheme) InviteRole() string { return s.m.Role(s.invite).ID }

// ExternalRole returns the ID of the external standing, or "" if the scheme
// has none.
func (s *Scheme) ExternalRole() string {
	if s.external < 0 {
		return ""
	}
	return s.m.Role(s.external).ID
}

// IsExternal reports whether the role at position i is the external
// standing.
func (s *Scheme) IsExternal(i int) bool { return s.external >= 0 && i == s.external }

// Invariants returns a copy of the scheme's invariants.
func (s *Scheme) Invariants() []Invariant { return slices.Clone(s.spec.Invariants) }

// MinHolders returns the fewest members that must hold the role at
// position i (0 for none).
func (s *Scheme) MinHolders(i int) int { return s.min[i] }

// MaxHolders returns the most members that may hold the role at position i
// (0 for no maximum).
func (s *Scheme) MaxHolders(i int) int { return s.max[i] }

// Immutable reports whether the role at position i is immutable: never
// given, taken or removed.
func (s *Scheme) Immutable(i int) bool { return uint(i) < 64 && s.immutable&(1<<uint(i)) != 0 }

// ActionCapability returns the catalog position of the capability action a
// needs, and false if the scheme does not offer a.
func (s *Scheme) ActionCapability(a Action) (int, bool) {
	if a == 0 || a >= numActions {
		return 0, false
	}
	c := s.actionCap[a]
	return c, c >= 0
}

// MayManage reports whether, by the rank rule and the scheme's rules, a
// member holding the role at position actor may remove or re-role a member
// holding the role at position target. Immutability and capabilities are
// not considered here.
func (s *Scheme) MayManage(actor, target int) bool {
	return uint(target) < 64 && s.manage[actor]&(1<<uint(target)) != 0
}

// MayAssign reports whether, by the rank rule and the scheme's rules, a
// member holding the role at position actor may give the role at position
// r. Immutable roles and the external role are never assignable, so never
// in it; the edition and capabilities are not considered here.
func (s *Scheme) MayAssign(actor, r int) bool {
	return uint(r) < 64 && s.assign[actor]&(1<<uint(r)) != 0
}

// Exceeds reports whether the role at position r holds a capability that
// the role at position actor lacks, so that giving r would escalate.
func (s *Scheme) Exceeds(actor, r int) bool {
	return uint(r) < 64 && s.exceeds[actor]&(1<<uint(r)) != 0
}

// OrgCapabilities returns the capabilities governing operations on the
// organization itself.
func (s *Scheme) OrgCapabilities() OrgCapabilities { return s.spec.Organization }

// KeyCapabilities returns the capabilities governing service principals
// and API keys.
func (s *Scheme) KeyCapabilities() KeyCapabilities { return s.spec.Keys }

// IsOwn reports whether the capability at position i of the catalog acts on
// one's own things (see Spec.Own).
func (s *Scheme) IsOwn(i int) bool { return s.own.Has(i) }

// Management returns a copy of the scheme's management settings.
func (s *Scheme) Management() Management { return cloneManagement(s.spec.Management) }

// Scopes returns the scheme's scope kinds, in order.
func (s *Scheme) Scopes() []*Scope { return slices.Clone(s.scopes) }

// ScopeAt returns the scope kind at position i. It panics if i is out of
// range.
func (s *Scheme) ScopeAt(i int) *Scope { return s.scopes[i] }

// ScopeIndex returns the position of the scope kind with the given name.
func (s *Scheme) ScopeIndex(kind string) (int, bool) {
	i, ok := s.scopeIdx[kind]
	return i, ok
}

// Scope returns the scope kind with the given name.
func (s *Scheme) Scope(kind string) (*Scope, bool) {
	i, ok := s.scopeIdx[kind]
	if !ok {
		return nil, false
	}
	return s.scopes[i], true
}

// Spec returns a deep copy of the specification the scheme was built from,
// so a host can derive its own scheme from a preset:
//
//	spec := edition.Wherobots().Spec()
//	spec.ID = "acme"
//	acme, err := edition.NewScheme(spec)
func (s *Scheme) Spec() Spec { return cloneSpec(s.spec) }

func cloneSpec(sp Spec) Spec {
	out := sp
	out.Roles = slices.Clone(sp.Roles)
	out.Capabilities = slices.Clone(sp.Capabilities)
	out.Matrix = cloneGrants(sp.Matrix)
	out.Editions = slices.Clone(sp.Editions)
	out.CapabilityEditions = maps.Clone(sp.CapabilityEditions)
	for k, v := range out.CapabilityEditions {
		out.CapabilityEditions[k] = slices.Clone(v)
	}
	out.RoleEditions = maps.Clone(sp.RoleEditions)
	for k, v := range out.RoleEditions {
		out.RoleEditions[k] = slices.Clone(v)
	}
	out.Trials = slices.Clone(sp.Trials)
	for i, t := range out.Trials {
		out.Trials[i] = cloneTrial(t)
	}
	out.Invariants = slices.Clone(sp.Invariants)
	out.Own = slices.Clone(sp.Own)
	out.Management = cloneManagement(sp.Management)
	out.Scopes = make([]ScopeSpec, len(sp.Scopes))
	for i, sc := range sp.Scopes {
		out.Scopes[i] = cloneScopeSpec(sc)
	}
	if sp.Scopes == nil {
		out.Scopes = nil
	}
	return out
}

func cloneGrants(g map[string][]role.Capability) map[string][]role.Capability {
	out := maps.Clone(g)
	for k, v := range out {
		out[k] = slices.Clone(v)
	}
	return out
}

func cloneManagement(m Management) Management {
	out := m
	out.Rules = slices.Clone(m.Rules)
	for i, r := range out.Rules {
		out.Rules[i].Manage = slices.Clone(r.Manage)
		out.Rules[i].Assign = slices.Clone(r.Assign)
	}
	return out
}

// invalid returns an error matching ErrInvalidScheme (and err, if any) for
// the scheme being built.
func invalid(id string, err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if err != nil {
		return fmt.Errorf("%w %q: %s: %w", ErrInvalidScheme, id, msg, err)
	}
	return fmt.Errorf("%w %q: %s", ErrInvalidScheme, id, msg)
}
