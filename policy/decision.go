package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

// Reason names the rule that decided. It marshals to JSON and text as its
// String, e.g. "edition-gated" (the zero Reason as "").
type Reason uint8

// The reasons a Decision can give. The zero Reason is never produced.
const (
	_ Reason = iota
	// ReasonRoleHolds: allowed, the role holds the capability and the
	// edition offers it.
	ReasonRoleHolds
	// ReasonMayManage: allowed, the actor may perform the management action.
	ReasonMayManage
	// ReasonMayLeave: allowed, the member may leave (invariants permitting).
	ReasonMayLeave
	// ReasonEligible: allowed, the principal may hold the scope role.
	ReasonEligible
	// ReasonRoleLacks: the role does not hold the capability.
	ReasonRoleLacks
	// ReasonEditionGated: the role holds the capability, but the edition
	// does not offer it.
	ReasonEditionGated
	// ReasonRoleNotInEdition: the edition does not offer the role (the
	// actor's own, or the one to be given).
	ReasonRoleNotInEdition
	// ReasonActionNotOffered: the scheme offers no such management action,
	// or names no capability for the operation asked about (deleting the
	// organization): nobody may.
	ReasonActionNotOffered
	// ReasonOutranked: the target member's role is beyond the actor's reach.
	ReasonOutranked
	// ReasonMayNotAssign: the role to give is beyond what the actor may give.
	ReasonMayNotAssign
	// ReasonEscalation: the role to give holds a capability the actor lacks.
	ReasonEscalation
	// ReasonImmutableRole: the role to give (or, for CanLeave, the leaving
	// member's role) is immutable: never given, taken or removed, by anyone.
	ReasonImmutableRole
	// ReasonImmutableTarget: the target member's role is immutable, so the
	// member can be neither removed nor re-roled, by anyone.
	ReasonImmutableTarget
	// ReasonExternalRole: the external standing is never given or managed,
	// and never manages.
	ReasonExternalRole
	// ReasonNotEligible: the principal's organization role (or external
	// standing) may not hold the scope role.
	ReasonNotEligible
	// ReasonUnknownCapability: the capability is not in the scheme.
	ReasonUnknownCapability
	// ReasonUnknownRole: the actor's (or principal's) role is not in the
	// scheme.
	ReasonUnknownRole
	// ReasonUnknownTarget: the target member's role is not in the scheme.
	ReasonUnknownTarget
	// ReasonUnknownNewRole: the role to give is not in the scheme.
	ReasonUnknownNewRole
	// ReasonUnknownEdition: the edition is not in the scheme.
	ReasonUnknownEdition
	// ReasonUnknownScope: the scope kind is not in the scheme.
	ReasonUnknownScope
	// ReasonUnknownScheme: no scheme was given.
	ReasonUnknownScheme
	// ReasonNotOwner: the capability acts on one's own things, and the
	// thing belongs to someone else.
	ReasonNotOwner
	// ReasonUnknownOrganization: there is no such organization.
	ReasonUnknownOrganization
	// ReasonNotMember: the principal is not a member of the organization.
	// A member of the organization who holds no role on a scope resource
	// is ReasonNotScopeMember.
	ReasonNotMember
	// ReasonArchived: the organization is archived; nothing is allowed in
	// it.
	ReasonArchived
	// ReasonUnavailable: the decision could not be made (the store failed
	// or the context ended); orgauthz fails closed.
	ReasonUnavailable
	// ReasonNotScopeMember: the principal is a member of the organization
	// (or an external principal) but not of the scope resource asked about,
	// and its organization role gives it no implicit role there: it holds
	// no role on the resource. Its error matches ErrNotMember, as
	// ReasonNotMember's does. See NotScopeMember.
	ReasonNotScopeMember
	// ReasonImmutableOwner: the scheme has an immutable role (UiPath's
	// owner, who can be neither removed nor edited), and only its holder
	// may archive or delete the organization; the actor holds another role,
	// even one holding the capability that governs deletion. See
	// CanDeleteOrganization.
	ReasonImmutableOwner
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonRoleHolds:           "role-holds",
	ReasonMayManage:           "may-manage",
	ReasonMayLeave:            "may-leave",
	ReasonEligible:            "eligible",
	ReasonRoleLacks:           "role-lacks",
	ReasonEditionGated:        "edition-gated",
	ReasonRoleNotInEdition:    "role-not-in-edition",
	ReasonActionNotOffered:    "action-not-offered",
	ReasonOutranked:           "outranked",
	ReasonMayNotAssign:        "may-not-assign",
	ReasonEscalation:          "escalation",
	ReasonImmutableRole:       "immutable-role",
	ReasonImmutableTarget:     "immutable-target",
	ReasonExternalRole:        "external-role",
	ReasonNotEligible:         "not-eligible",
	ReasonUnknownCapability:   "unknown-capability",
	ReasonUnknownRole:         "unknown-role",
	ReasonUnknownTarget:       "unknown-target-role",
	ReasonUnknownNewRole:      "unknown-new-role",
	ReasonUnknownEdition:      "unknown-edition",
	ReasonUnknownScope:        "unknown-scope",
	ReasonUnknownScheme:       "unknown-scheme",
	ReasonNotOwner:            "not-owner",
	ReasonUnknownOrganization: "unknown-organization",
	ReasonNotMember:           "not-member",
	ReasonArchived:            "archived",
	ReasonUnavailable:         "unavailable",
	ReasonNotScopeMember:      "not-scope-member",
	ReasonImmutableOwner:      "immutable-owner",
}

// String returns the reason's stable kebab-case name, e.g. "edition-gated".
func (r Reason) String() string {
	if r < numReasons && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// ErrUnknownReason: a Reason that is none of the reasons nor zero was
// marshaled, or text other than their names and "" was unmarshaled into a
// Reason.
var ErrUnknownReason = errors.New("unknown decision reason")

// MarshalText returns the reason's name, e.g. "edition-gated", or "" for
// the zero Reason; it fails, matching ErrUnknownReason, for any other
// value.
func (r Reason) MarshalText() ([]byte, error) {
	if r == 0 {
		return []byte{}, nil
	}
	if r < numReasons && reasonNames[r] != "" {
		return []byte(reasonNames[r]), nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnknownReason, uint8(r))
}

// UnmarshalText sets r from a reason's name, e.g. "edition-gated", or ""
// for the zero Reason. Any other text fails, matching ErrUnknownReason, and
// leaves r unchanged; names are matched exactly.
func (r *Reason) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*r = 0
		return nil
	}
	for i, name := range reasonNames {
		if name != "" && name == string(text) {
			*r = Reason(i)
			return nil
		}
	}
	if len(text) > 32 {
		return fmt.Errorf("%w: %q… (%d bytes)", ErrUnknownReason, text[:32], len(text))
	}
	return fmt.Errorf("%w: %q", ErrUnknownReason, text)
}

// Decision is the answer to "may this be done?", with the rule that
// decided. It is four words, kept in registers by the compiler, so building
// one costs almost nothing and never allocates on the allow path; the names
// it refers to (role, capability, edition, ...) are read back from the
// scheme by its methods, and String and Err format it on demand.
//
// The zero Decision denies. Decisions are comparable with ==.
//
// JSON (MarshalJSON): {"allowed", "reason", "role", "target", "new_role",
// "capability", "edition", "scope_kind", "action", "explanation"}, where
// "allowed" and "reason" (a Reason's name) are always present, the names
// the decision refers to (its accessors: role, capability and edition IDs,
// the scope kind, the management action's name such as "change-role") are
// omitted when it has none, and "explanation" is the text String gives
// after the verdict and reason. A Decision does not unmarshal: the names it
// refers to are read back from its scheme, which JSON does not carry.
type Decision struct {
	// Allowed is the answer.
	Allowed bool
	// Reason names the rule that decided.
	Reason Reason

	pos uint64 // packed positions and action, see the pos* constants
	src any    // *edition.Scheme, or *unknownInput when an input was not found
}

// unknownInput is a decision's source when one of its inputs was not found:
// the scheme, and the input, for the explanation.
type unknownInput struct {
	scheme *edition.Scheme
	input  string
}

// Positions packed into Decision.pos: 8 bits each for the edition, role,
// target, new role and scope kind, 16 bits for the capability, 4 for the
// kind of decision and 4 for the management action. All ones means "none".
const (
	posEdition = 0
	posRole    = 8
	posTarget  = 16
	posNewRole = 24
	posScope   = 32
	posCap     = 40 // 16 bits
	posKind    = 56 // 4 bits
	posAction  = 60 // 4 bits

	noPos   = 0xff
	noCap   = 0xffff
	allNone = 0x00ff_ffff_ffff_ffff
)

// The kinds of decision, which say in which role model each position lies.
const (
	kindCapability = iota // org role, org capability
	kindManage            // org roles, org capability
	kindScope             // scope role, scope capability
	kindEligible          // org role, org capability, scope new role
	kindExternal          // org roles, org capability; the target is the external standing (CanRemoveExternal)
)

func newDecision(s *edition.Scheme, kind uint64, a edition.Action) Decision {
	return Decision{pos: allNone | kind<<posKind | uint64(a)<<posAction, src: s}
}

// unknown records that input was not found, and why.
func (d *Decision) unknown(r Reason, input string) {
	d.Reason = r
	d.src = &unknownInput{scheme: d.scheme(), input: input}
}

func (d *Decision) set(shift uint, v int) {
	mask := uint64(noPos)
	if shift == posCap {
		mask = noCap
	}
	d.pos = d.pos&^(mask<<shift) | (uint64(v)&mask)<<shift
}

func (d Decision) get(shift uint) (int, bool) {
	mask := uint64(noPos)
	if shift == posCap {
		mask = noCap
	}
	v := d.pos >> shift & mask
	return int(v), v != mask
}

func (d Decision) kind() uint64 { return d.pos >> posKind & 0xf }

// Scheme returns the scheme that decided, or nil when there was none (an
// unknown scheme, an unknown organization).
func (d Decision) Scheme() *edition.Scheme { return d.scheme() }

func (d Decision) scheme() *edition.Scheme {
	switch src := d.src.(type) {
	case *edition.Scheme:
		return src
	case *unknownInput:
		return src.scheme
	}
	return nil
}

func (d Decision) input() string {
	if u, ok := d.src.(*unknownInput); ok {
		return u.input
	}
	return ""
}

// Action returns the management action asked about, or 0 for a capability,
// leave or scope decision.
func (d Decision) Action() edition.Action { return edition.Action(d.pos >> posAction) }

func (d Decision) scope() *edition.Scope {
	s := d.scheme()
	if i, ok := d.get(posScope); ok && s != nil {
		return s.ScopeAt(i)
	}
	return nil
}

// name returns the name of the role at the position stored at shift, or
// the unknown input if that is what the reason names.
func (d Decision) name(shift uint, unknownReason Reason, scoped bool) string {
	if d.Reason == unknownReason {
		return d.input()
	}
	i, ok := d.get(shift)
	s := d.scheme()
	if !ok || s == nil {
		return ""
	}
	if scoped {
		if sc := d.scope(); sc != nil {
			return sc.Matrix().Role(i).ID
		}
		return ""
	}
	return s.Matrix().Role(i).ID
}

// Role returns the role of the principal asking: the actor's organization
// role, or, for a scope decision, its scope role.
func (d Decision) Role() string {
	return d.name(posRole, ReasonUnknownRole, d.kind() == kindScope)
}

// Target returns the current role of the member acted on (remove and
// change-role), the external standing for CanRemoveExternal (where the
// scheme has one), or "".
func (d Decision) Target() string { return d.name(posTarget, ReasonUnknownTarget, false) }

// NewRole returns the role to be given (invite, add, change-role,
// CanAssign), or the scope role asked about by Eligible, or "".
func (d Decision) NewRole() string {
	return d.name(posNewRole, ReasonUnknownNewRole, d.kind() == kindEligible)
}

// Capability returns the capability decided on: the one asked about, the
// one a management action needs, or the one a scope eligibility rule
// requires; "" when there is none.
func (d Decision) Capability() role.Capability {
	if d.Reason == ReasonUnknownCapability {
		return role.Capability(d.input())
	}
	i, ok := d.get(posCap)
	s := d.scheme()
	if !ok || s == nil {
		return ""
	}
	if d.kind() == kindScope {
		if sc := d.scope(); sc != nil {
			return sc.Matrix().Catalog().Def(i).ID
		}
		return ""
	}
	return s.Catalog().Def(i).ID
}

// Edition returns the organization's edition, or "" for a scope decision.
func (d Decision) Edition() string {
	if d.Reason == ReasonUnknownEdition {
		return d.input()
	}
	if e := d.edition(); e != nil {
		return e.ID()
	}
	return ""
}

// Scope returns the scope kind of a scope decision, or "".
func (d Decision) Scope() string {
	if d.Reason == ReasonUnknownScope {
		return d.input()
	}
	if sc := d.scope(); sc != nil {
		return sc.Kind()
	}
	return ""
}

// String explains the decision in one line, e.g.
// `denied (edition-gated): edition "community" does not offer "job_runs:create"`.
func (d Decision) String() string {
	verdict := "denied"
	if d.Allowed {
		verdict = "allowed"
	}
	return verdict + " (" + d.Reason.String() + "): " + d.explain()
}

// decisionJSON is a Decision's JSON form; see Decision.
type decisionJSON struct {
	Allowed     bool            `json:"allowed"`
	Reason      Reason          `json:"reason"`
	Role        string          `json:"role,omitempty"`
	Target      string          `json:"target,omitempty"`
	NewRole     string          `json:"new_role,omitempty"`
	Capability  role.Capability `json:"capability,omitempty"`
	Edition     string          `json:"edition,omitempty"`
	ScopeKind   string          `json:"scope_kind,omitempty"`
	Action      string          `json:"action,omitempty"`
	Explanation string          `json:"explanation"`
}

// MarshalJSON writes the decision as its doc describes, e.g.
//
//	{"allowed":false,"reason":"edition-gated","role":"admin","capability":"billing:view","edition":"community","explanation":"edition \"community\" does not offer \"billing:view\""}
//
// It fails only for a Reason that is none of the reasons. It is meant for
// responses and logs, never for the decision path, which it does not
// touch.
func (d Decision) MarshalJSON() ([]byte, error) {
	j := decisionJSON{
		Allowed:     d.Allowed,
		Reason:      d.Reason,
		Role:        d.Role(),
		Target:      d.Target(),
		NewRole:     d.NewRole(),
		Capability:  d.Capability(),
		Edition:     d.Edition(),
		ScopeKind:   d.Scope(),
		Explanation: d.explain(),
	}
	if a := d.Action(); a != 0 {
		j.Action = a.String()
	}
	return json.Marshal(j)
}

func (d Decision) explain() string {
	q := strconv.Quote
	c := q(string(d.Capability()))
	switch d.Reason {
	case ReasonRoleHolds:
		if d.kind() == kindScope {
			return fmt.Sprintf("%s role %s holds %s", d.Scope(), d.scopeRoleName(), c)
		}
		return fmt.Sprintf("role %s holds %s in edition %s", q(d.Role()), c, q(d.Edition()))
	case ReasonMayManage:
		return fmt.Sprintf("role %s may %s", q(d.Role()), d.what())
	case ReasonMayLeave:
		return fmt.Sprintf("a member holding %s may leave", q(d.Role()))
	case ReasonEligible:
		return fmt.Sprintf("organization role %s may hold %s role %s", q(d.Role()), d.Scope(), q(d.NewRole()))
	case ReasonRoleLacks:
		if d.kind() == kindScope {
			return fmt.Sprintf("%s role %s lacks %s", d.Scope(), d.scopeRoleName(), c)
		}
		return fmt.Sprintf("role %s lacks %s", q(d.Role()), c)
	case ReasonEditionGated:
		return fmt.Sprintf("edition %s does not offer %s", q(d.Edition()), c)
	case ReasonRoleNotInEdition:
		return fmt.Sprintf("edition %s does not offer role %s", q(d.Edition()), q(d.notOffered()))
	case ReasonActionNotOffered:
		if d.Action() == 0 {
			return "the scheme names no capability for this operation: nobody may"
		}
		return fmt.Sprintf("the scheme offers no %s action", d.Action())
	case ReasonOutranked:
		verb := "remove"
		if d.Action() == edition.ActionChangeRole {
			verb = "change the role of"
		}
		return fmt.Sprintf("role %s may not %s a member holding %s", q(d.Role()), verb, q(d.Target()))
	case ReasonMayNotAssign:
		return fmt.Sprintf("role %s may not give role %s", q(d.Role()), q(d.NewRole()))
	case ReasonEscalation:
		return fmt.Sprintf("role %s may not give role %s, which holds capabilities it lacks", q(d.Role()), q(d.NewRole()))
	case ReasonImmutableRole:
		return fmt.Sprintf("role %s is immutable: never given, taken or removed", q(d.immutable()))
	case ReasonImmutableTarget:
		return fmt.Sprintf("role %s is immutable: its holder can be neither removed nor re-roled", q(d.Target()))
	case ReasonExternalRole:
		switch r, at := d.external(); {
		case at == posRole && d.leaving():
			return fmt.Sprintf("role %s is the external standing, not a member's role: there is no membership to leave", q(r))
		case at == posRole:
			return fmt.Sprintf("role %s is the external standing, which never manages the organization or its members", q(r))
		case at == posTarget:
			return fmt.Sprintf("role %s is the external standing, not a member's role: it is neither removed nor re-roled as one", q(r))
		case at == posNewRole:
			return fmt.Sprintf("role %s is the external standing, which is never given", q(r))
		}
		return "the external standing is never given, managed or managing"
	case ReasonNotEligible:
		if d.Capability() != "" {
			return fmt.Sprintf("organization role %s may not hold %s role %s: it lacks %s", q(d.Role()), d.Scope(), q(d.NewRole()), c)
		}
		return fmt.Sprintf("organization role %s may not hold %s role %s", q(d.Role()), d.Scope(), q(d.NewRole()))
	case ReasonUnknownCapability:
		return fmt.Sprintf("unknown capability %s", c)
	case ReasonUnknownRole:
		return fmt.Sprintf("unknown role %s", q(d.Role()))
	case ReasonUnknownTarget:
		return fmt.Sprintf("unknown role %s", q(d.Target()))
	case ReasonUnknownNewRole:
		return fmt.Sprintf("unknown role %s", q(d.NewRole()))
	case ReasonUnknownEdition:
		return fmt.Sprintf("unknown edition %s", q(d.Edition()))
	case ReasonUnknownScope:
		return fmt.Sprintf("unknown scope kind %s", q(d.Scope()))
	case ReasonUnknownScheme:
		return "no scheme"
	case ReasonNotOwner:
		return fmt.Sprintf("%s acts on one's own things, and this one belongs to someone else", c)
	case ReasonUnknownOrganization:
		return "no such organization"
	case ReasonNotMember:
		if d.Scope() != "" {
			return fmt.Sprintf("the principal is not a member of the %s", d.Scope())
		}
		return "the principal is not a member of the organization"
	case ReasonArchived:
		return "the organization is archived"
	case ReasonUnavailable:
		return "the decision could not be made (store unavailable or context ended); denied"
	case ReasonNotScopeMember:
		if k := d.Scope(); k != "" {
			return fmt.Sprintf("the principal is not a member of the %s and holds no role on it", k)
		}
		return "the principal holds no role on the resource"
	case ReasonImmutableOwner:
		owner := ""
		if s := d.scheme(); s != nil {
			if i, ok := s.RoleIndex(s.CreatorRole()); ok && s.Immutable(i) {
				owner = " " + q(s.CreatorRole())
			}
		}
		return fmt.Sprintf("only the holder of the immutable role%s may archive or delete the organization; role %s may not", owner, q(d.Role()))
	}
	return "no rule decided"
}

// scopeRoleName names the scope role of a scope decision, quoted, or
// "(custom)" for a custom role.
func (d Decision) scopeRoleName() string {
	if r := d.Role(); r != "" {
		return strconv.Quote(r)
	}
	return "(custom)"
}

// notOffered names the role a ReasonRoleNotInEdition decision is about:
// the actor's, or, when the edition offers that one, the role to give.
func (d Decision) notOffered() string {
	if d.kind() == kindManage {
		if i, ok := d.get(posRole); ok {
			if e := d.edition(); e != nil && e.OffersRole(i) {
				if r := d.NewRole(); r != "" {
					return r
				}
			}
		}
	}
	return d.Role()
}

// immutable names the role a ReasonImmutableRole decision is about: the
// role to give (CanManage, CanAssign), or the leaving member's (CanLeave,
// which has no role to give).
func (d Decision) immutable() string {
	if i, ok := d.get(posNewRole); ok && d.kind() == kindManage {
		if s := d.scheme(); s != nil && s.Immutable(i) {
			return d.NewRole()
		}
	}
	return d.Role()
}

// leaving reports whether d is a CanLeave decision: about the organization's
// roles, with neither an action, a target nor a role to give.
func (d Decision) leaving() bool {
	_, target := d.get(posTarget)
	_, newRole := d.get(posNewRole)
	return d.kind() == kindManage && d.Action() == 0 && !target && !newRole
}

// external names the external standing a ReasonExternalRole decision is
// about and where it is: the actor's role (posRole), the target's
// (posTarget) or the role to give (posNewRole); at is 0 when no position
// holds it.
func (d Decision) external() (r string, at uint) {
	s := d.scheme()
	if s == nil || d.kind() == kindScope || d.kind() == kindEligible {
		return "", 0
	}
	if i, ok := d.get(posRole); ok && s.IsExternal(i) {
		return s.Matrix().Role(i).ID, posRole
	}
	if i, ok := d.get(posTarget); ok && s.IsExternal(i) {
		return s.Matrix().Role(i).ID, posTarget
	}
	if i, ok := d.get(posNewRole); ok && d.kind() == kindManage && s.IsExternal(i) {
		return s.Matrix().Role(i).ID, posNewRole
	}
	return "", 0
}

func (d Decision) edition() *edition.Edition {
	s := d.scheme()
	if i, ok := d.get(posEdition); ok && s != nil {
		return s.EditionAt(i)
	}
	return nil
}

// what describes the management action asked about.
func (d Decision) what() string {
	if d.kind() == kindExternal {
		return "remove an external principal from the organization"
	}
	switch d.Action() {
	case 0:
		if r := d.NewRole(); r != "" {
			return fmt.Sprintf("give role %q", r) // CanAssign
		}
	case edition.ActionInvite:
		return fmt.Sprintf("invite a member as %q", d.NewRole())
	case edition.ActionAdd:
		return fmt.Sprintf("add a member as %q", d.NewRole())
	case edition.ActionRemove:
		return fmt.Sprintf("remove a member holding %q", d.Target())
	case edition.ActionChangeRole:
		return fmt.Sprintf("change a member's role from %q to %q", d.Target(), d.NewRole())
	}
	return d.Action().String()
}

// Err returns nil when the decision allows, and otherwise an error that
// explains it and matches the sentinel for its reason: ErrPermissionDenied
// for a refusal by role (and, with ErrEditionGated, by edition; alone for
// ReasonImmutableOwner), ErrInvariant and ErrImmutableRole for an immutable
// role, ErrNotAssignable (with ErrPermissionDenied) for the external
// standing, and ErrUnknownRole, ErrUnknownCapability, ErrUnknownEdition,
// ErrUnknownScope and ErrUnknownScheme for unknown input; ErrNotMember
// (ReasonNotMember and ReasonNotScopeMember), ErrNotOwner and ErrArchived
// (with ErrPermissionDenied), ErrUnknownOrganization, and ErrUnavailable
// for the service's own reasons.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	msg := d.explain()
	switch d.Reason {
	case ReasonEditionGated, ReasonRoleNotInEdition:
		return fmt.Errorf("%w: %w: %s", ErrPermissionDenied, ErrEditionGated, msg)
	case ReasonImmutableRole, ReasonImmutableTarget:
		return fmt.Errorf("%w: %w: %s", ErrInvariant, ErrImmutableRole, msg)
	case ReasonExternalRole:
		return fmt.Errorf("%w: %w: %s", ErrPermissionDenied, ErrNotAssignable, msg)
	case ReasonUnknownCapability:
		return fmt.Errorf("%w: %s", ErrUnknownCapability, msg)
	case ReasonUnknownRole, ReasonUnknownTarget, ReasonUnknownNewRole:
		return fmt.Errorf("%w: %s", ErrUnknownRole, msg)
	case ReasonUnknownEdition:
		return fmt.Errorf("%w: %s", ErrUnknownEdition, msg)
	case ReasonUnknownScope:
		return fmt.Errorf("%w: %s", ErrUnknownScope, msg)
	case ReasonUnknownScheme:
		return fmt.Errorf("%w: %s", ErrUnknownScheme, msg)
	case ReasonActionNotOffered:
		return fmt.Errorf("%w: %w: %s", ErrPermissionDenied, ErrNotOffered, msg)
	case ReasonNotOwner:
		return fmt.Errorf("%w: %w: %s", ErrPermissionDenied, ErrNotOwner, msg)
	case ReasonUnknownOrganization:
		return fmt.Errorf("%w: %s", ErrUnknownOrganization, msg)
	case ReasonNotMember, ReasonNotScopeMember:
		return fmt.Errorf("%w: %w: %s", ErrPermissionDenied, ErrNotMember, msg)
	case ReasonArchived:
		return fmt.Errorf("%w: %w: %s", ErrPermissionDenied, ErrArchived, msg)
	case ReasonUnavailable:
		return fmt.Errorf("%w: %s", ErrUnavailable, msg)
	}
	return fmt.Errorf("%w: %s", ErrPermissionDenied, msg)
}
