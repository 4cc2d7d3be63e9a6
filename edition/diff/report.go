// Package diff compares two schemes and reports what changes from one to
// the other: the definitions (roles, capabilities, editions, invariants,
// scope kinds and the scheme's own settings), and, decided by the policy
// package under each scheme, every answer that changes: capability cells,
// scope cells, scope eligibility, management decisions and operations on
// the organization. It flags what is breaking (something removed or
// restricted) and, distinctly, every escalation: anything the new scheme
// lets someone do that the old one did not.
//
// Roles, capabilities, editions and scope kinds are identified by ID: a
// renamed ID is one thing removed and another added. Decisions are
// compared only for editions, roles and scope kinds present in both
// schemes. A Report is deterministic: the same two schemes always give
// the same report, text and JSON.
package diff

import (
	"fmt"

	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
)

// Op says what happened to a thing: it was added, removed or changed.
type Op string

// The operations.
const (
	// Added: the thing is in the new scheme only.
	Added Op = "added"
	// Removed: the thing is in the old scheme only.
	Removed Op = "removed"
	// Changed: the thing is in both, and differs.
	Changed Op = "changed"
)

// Effect says which way a change moves what the scheme allows.
type Effect string

// The effects.
const (
	// Neutral: the change allows neither more nor less by itself (a name,
	// a rank, a capability a rule now names), or the decisions it moves
	// are reported on their own.
	Neutral Effect = "neutral"
	// Restricts: something that was allowed or available is no longer: a
	// cell allowed→denied, a capability revoked, an edition's seat limit
	// lowered, a minimum raised. A restricting change is breaking.
	Restricts Effect = "restricts"
	// Relaxes: something is allowed or available that was not. Where it
	// lets someone do more, the Report lists it among its Escalations too.
	Relaxes Effect = "relaxes"
)

// effectOf is the effect of a set change: Restricts when anything was
// removed, Relaxes when something was added and nothing removed.
func effectOf(added, removed int) Effect {
	switch {
	case removed > 0:
		return Restricts
	case added > 0:
		return Relaxes
	}
	return Neutral
}

// SchemeRef names one of the two schemes compared.
type SchemeRef struct {
	ID   string `json:"id"`   // the scheme's identifier
	Name string `json:"name"` // the scheme's display name
}

// Field is one changed attribute of a thing: either a value (Old → New,
// "" for none) or a set, of which Added and Removed list the members that
// came and went.
type Field struct {
	// Name names the attribute, e.g. "seats", "rank", "capabilities".
	Name string `json:"field"`
	// Old and New are the value before and after; "" means none.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"` // the value after; see Old
	// Added and Removed, for a set, list the members that came and went,
	// in the order of the scheme that has them.
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"` // the members that went; see Added
	// Effect says which way the change moves what the scheme allows.
	Effect Effect `json:"effect"`
}

// Change is a thing added, removed or changed: a role, a capability, an
// edition, an invariant (ID is then the role it constrains), or a scope
// kind's role or capability.
type Change struct {
	// Op says whether the thing was added, removed or changed.
	Op Op `json:"op"`
	// ID identifies the thing.
	ID string `json:"id"`
	// Fields are the attributes that differ. A removed thing has none; an
	// added thing lists its attributes, from "".
	Fields []Field `json:"fields,omitempty"`
}

// ScopeChange is a scope kind added, removed or changed.
type ScopeChange struct {
	// Op says whether the kind was added, removed or changed.
	Op Op `json:"op"`
	// Kind identifies the scope kind.
	Kind string `json:"kind"`
	// Fields are the kind's own attributes that differ (name, creator and
	// default roles, the capabilities governing it, eligibility rules,
	// implicit roles, external members).
	Fields []Field `json:"fields,omitempty"`
	// Roles are the changes to the kind's roles: name, rank,
	// capabilities, minimum holders.
	Roles []Change `json:"roles,omitempty"`
	// Capabilities are the changes to the kind's capabilities: label, and
	// for an added one the roles holding it.
	Capabilities []Change `json:"capabilities,omitempty"`
}

// Outcome is what a policy decision answered: allowed or not, and why.
type Outcome struct {
	// Allowed is the answer.
	Allowed bool `json:"allowed"`
	// Reason names the rule that decided. It is the zero Reason (JSON "")
	// only for an operation no capability governs and open to everyone
	// (keys.authenticate without a condition).
	Reason policy.Reason `json:"reason"`
}

func outcome(d policy.Decision) Outcome { return Outcome{Allowed: d.Allowed, Reason: d.Reason} }

// String returns e.g. "allowed (role-holds)" or "denied (edition-gated)".
func (o Outcome) String() string {
	v := "denied"
	if o.Allowed {
		v = "allowed"
	}
	r := o.Reason.String()
	if o.Reason == 0 {
		r = "no condition"
	}
	return v + " (" + r + ")"
}

// effect is the effect of an outcome going from o to n.
func effect(o, n Outcome) Effect {
	switch {
	case o.Allowed && !n.Allowed:
		return Restricts
	case !o.Allowed && n.Allowed:
		return Relaxes
	}
	return Neutral
}

// CellChange is a cell of the organization matrix whose policy.Decide
// outcome changes: whether Role holds Capability in Edition. Editions and
// roles are those of both schemes; a capability of one scheme only is
// listed where its cell changes between allowed and denied (a role losing
// a removed capability, or holding an added one).
type CellChange struct {
	Edition    string          `json:"edition"`    // the edition's ID
	Role       string          `json:"role"`       // the organization role's ID
	Capability role.Capability `json:"capability"` // the capability
	Old        Outcome         `json:"old"`        // policy.Decide under the old scheme
	New        Outcome         `json:"new"`        // policy.Decide under the new scheme
	// Effect is Restricts for allowed→denied, Relaxes for denied→allowed,
	// Neutral for a change of reason alone.
	Effect Effect `json:"effect"`
}

// ScopeCellChange is a cell of a scope kind's matrix whose
// policy.DecideScope outcome changes: whether scope role Role holds scope
// capability Capability on a resource of kind Scope. Kinds and roles are
// those of both schemes; capabilities as for CellChange.
type ScopeCellChange struct {
	Scope      string          `json:"scope"`      // the scope kind
	Role       string          `json:"role"`       // the scope role's ID
	Capability role.Capability `json:"capability"` // the scope capability
	Old        Outcome         `json:"old"`        // policy.DecideScope under the old scheme
	New        Outcome         `json:"new"`        // policy.DecideScope under the new scheme
	Effect     Effect          `json:"effect"`     // as for CellChange
}

// EligibilityChange is a policy.Eligible outcome that changes: whether a
// principal of organization role OrgRole, in an organization of Edition,
// may hold scope role ScopeRole on a resource of kind Scope.
type EligibilityChange struct {
	Edition   string  `json:"edition"`    // the edition's ID
	Scope     string  `json:"scope"`      // the scope kind
	OrgRole   string  `json:"org_role"`   // the organization role (or external standing)
	ScopeRole string  `json:"scope_role"` // the scope role
	Old       Outcome `json:"old"`        // policy.Eligible under the old scheme
	New       Outcome `json:"new"`        // policy.Eligible under the new scheme
	Effect    Effect  `json:"effect"`     // as for CellChange
}

// ManagementChange is a policy.CanManage outcome that changes: whether a
// member holding role Actor, in an organization of Edition, may perform
// Action (an edition.Action's name: "invite", "add", "remove",
// "change-role") on a member holding Target (remove, change-role; else "")
// giving NewRole (invite, add, change-role; else "").
type ManagementChange struct {
	Edition string  `json:"edition"`            // the edition's ID
	Actor   string  `json:"actor"`              // the acting member's role
	Action  string  `json:"action"`             // the action's name
	Target  string  `json:"target,omitempty"`   // the role of the member acted on
	NewRole string  `json:"new_role,omitempty"` // the role to give
	Old     Outcome `json:"old"`                // policy.CanManage under the old scheme
	New     Outcome `json:"new"`                // policy.CanManage under the new scheme
	Effect  Effect  `json:"effect"`             // as for CellChange
}

// OperationChange is a change in who may perform an operation the scheme
// governs by a capability of its choosing (edition.OrgCapabilities,
// edition.KeyCapabilities, and the capabilities of its scope kinds). The
// outcome is policy.Decide's for the capability governing the operation
// under each scheme (policy.CanDeleteOrganization for
// organization.delete), denied with policy.ReasonActionNotOffered when
// none does; keys.authenticate without a capability is a condition
// nobody fails (allowed, reason ""). Two more are the membership rules
// that answer for a role rather than a pair of roles: members.leave
// (policy.CanLeave) and members.remove_external
// (policy.CanRemoveExternal).
//
// Operations on the organization are decided for organization roles, per
// edition: organization.settings, organization.edition,
// organization.delete, organization.audit, organization.trial,
// keys.service_principals,
// keys.service_principal_keys, keys.own, keys.revoke_others,
// members.leave, members.remove_external, keys.authenticate, and for each
// scope kind in both schemes
// scope.<kind>.create, .delete, .manage_members and .view; Scope is then
// "". Operations inside a resource are decided for the kind's own roles
// by policy.DecideScope, with Edition "" and Scope the kind:
// scope.<kind>.delete_in_scope, .manage_members_in_scope and
// .custom_roles.
type OperationChange struct {
	Edition   string  `json:"edition,omitempty"` // the edition's ID; "" inside a resource
	Scope     string  `json:"scope,omitempty"`   // the scope kind, inside a resource; else ""
	Role      string  `json:"role"`              // the organization role, or inside a resource the scope role
	Operation string  `json:"operation"`         // the operation's name, e.g. "organization.delete"
	Old       Outcome `json:"old"`               // the outcome under the old scheme
	New       Outcome `json:"new"`               // the outcome under the new scheme
	Effect    Effect  `json:"effect"`            // as for CellChange
}

// EscalationKind says what an Escalation lets someone do.
type EscalationKind string

// The kinds of escalation.
const (
	// EscalationCapability: organization role Role holds Capability in
	// Edition, which it did not (a CellChange denied→allowed).
	EscalationCapability EscalationKind = "capability"
	// EscalationAssignable: role Role may give role NewRole in Edition,
	// and NewRole now holds Capability: whoever holds Role can now hand
	// the capability out. (NewScheme refuses a scheme in which a role may
	// give a role holding something it lacks itself, so Role holds it
	// too.)
	EscalationAssignable EscalationKind = "assignable"
	// EscalationManagement: a member holding Role may perform Action on
	// Target giving NewRole in Edition, which it could not (a
	// ManagementChange denied→allowed).
	EscalationManagement EscalationKind = "management"
	// EscalationScopeCapability: scope role Role of kind Scope holds
	// Capability, which it did not (a ScopeCellChange denied→allowed).
	EscalationScopeCapability EscalationKind = "scope-capability"
	// EscalationEligibility: organization role Role may hold scope role
	// NewRole of kind Scope in Edition, which it could not (an
	// EligibilityChange denied→allowed).
	EscalationEligibility EscalationKind = "eligibility"
	// EscalationImplicitRole: organization role Role holds scope
	// Capability on every resource of kind Scope without being added to
	// it, through its implicit scope role NewRole, which it did not.
	EscalationImplicitRole EscalationKind = "implicit-role"
	// EscalationOperation: a member holding Role (a scope role when Scope
	// is set) may perform Operation in Edition, which it could not (an
	// OperationChange denied→allowed).
	EscalationOperation EscalationKind = "operation"
	// EscalationDefaultRole: the role given when none is named (the
	// scheme's invitation role, or with Scope set that kind's default
	// role) is now NewRole, which holds Capability (in Edition, for the
	// organization) that the old default role did not.
	EscalationDefaultRole EscalationKind = "default-role"
	// EscalationTrial: a member holding Role, in an organization of base
	// edition Edition, may start a trial of edition Trial, which it could
	// not, and may change the edition under neither scheme: through the
	// trial its organization reaches an edition its members could not
	// move it to. A trial added or relaxed for roles that may change the
	// edition outright is no escalation: they could already move the
	// organization there for good.
	EscalationTrial EscalationKind = "trial"
	// EscalationOwn: Capability no longer acts on one's own things only
	// (edition.Spec.Own), so a member holding Role may exercise it on
	// others' things in Edition.
	EscalationOwn EscalationKind = "own"
)

// Escalation is one way in which the new scheme lets someone do more than
// the old one. Fields that do not apply to its Kind are empty.
type Escalation struct {
	Kind       EscalationKind  `json:"kind"`                 // what it lets someone do
	Edition    string          `json:"edition,omitempty"`    // the edition it applies in
	Scope      string          `json:"scope,omitempty"`      // the scope kind it applies to
	Role       string          `json:"role,omitempty"`       // who may do more: the holders of this role
	Capability role.Capability `json:"capability,omitempty"` // the capability gained
	Action     string          `json:"action,omitempty"`     // the management action now allowed
	Target     string          `json:"target,omitempty"`     // the role of the member it may now act on
	NewRole    string          `json:"new_role,omitempty"`   // the role it may now give, hold, or holds implicitly
	Operation  string          `json:"operation,omitempty"`  // the operation now allowed
	Trial      string          `json:"trial,omitempty"`      // the edition that may now be trialled
	// Detail says it in a sentence.
	Detail string `json:"detail"`
}

// Report is what changes from one scheme to another (see Compare). Every
// list is in a deterministic order: removed things first, in the old
// scheme's order, then the others in the new scheme's (invariants in the
// order of their roles); decisions by edition, then role, then capability
// (or action, target and new role), each in the new scheme's order.
type Report struct {
	// Old and New name the schemes compared.
	Old SchemeRef `json:"old"`
	New SchemeRef `json:"new"` // the new scheme; see Old

	// Scheme lists the changed settings of the scheme itself: id, name,
	// default edition, creator, invitation, external and owner roles, the
	// capabilities of management (management.invite, .add, .remove,
	// .change_role), its rules (management.rule.<role>.manage, .assign),
	// the capabilities governing the organization (organization.settings,
	// .edition, .delete, .audit, .trial) and keys (keys.service_principals,
	// .service_principal_keys, .own, .revoke_others, .authenticate), and
	// the own-things capabilities (own).
	Scheme []Field `json:"scheme"`
	// Roles lists organization roles added, removed or changed: name,
	// rank, capabilities (those of both schemes; an added capability's
	// holders are listed with it), editions offering it (those of both).
	Roles []Change `json:"roles"`
	// Capabilities lists organization capabilities added, removed or
	// changed: label, editions offering it (the edition gates, over the
	// editions of both), and for an added one the roles holding it.
	Capabilities []Change `json:"capabilities"`
	// Editions lists editions added, removed or changed: name and seat
	// limit; an added edition also lists the capabilities and roles it
	// does not offer.
	Editions []Change `json:"editions"`
	// Trials lists trials (edition.Spec.Trials) added, removed or changed,
	// by the edition trialled: "max duration" (lowered restricts, raised
	// relaxes) and "from", the base editions a trial may start from, an
	// empty From spelled out (of the editions of both; one gained relaxes,
	// one lost restricts). A trial removed is breaking; one added is not,
	// and is an escalation only as EscalationTrial says.
	Trials []Change `json:"trials"`
	// Invariants lists invariants added, removed or changed, by role: min,
	// max and immutable.
	Invariants []Change `json:"invariants"`
	// Scopes lists scope kinds added, removed or changed.
	Scopes []ScopeChange `json:"scopes"`

	// Cells lists the organization matrix cells whose decision changes.
	Cells []CellChange `json:"cells"`
	// ScopeCells lists the scope matrix cells whose decision changes.
	ScopeCells []ScopeCellChange `json:"scope_cells"`
	// Eligibility lists the scope eligibility decisions that change.
	Eligibility []EligibilityChange `json:"eligibility"`
	// Management lists the CanManage decisions that change, for every
	// edition, actor, action, target and new role of both schemes.
	Management []ManagementChange `json:"management"`
	// Operations lists the operation decisions that change.
	Operations []OperationChange `json:"operations"`

	// Escalations lists, distinctly, every way in which the new scheme
	// lets someone do more than the old one.
	Escalations []Escalation `json:"escalations"`
}

// Empty reports whether nothing changes: the two schemes define the same
// things and decide everything alike.
func (r Report) Empty() bool {
	return len(r.Scheme) == 0 && len(r.Roles) == 0 && len(r.Capabilities) == 0 &&
		len(r.Editions) == 0 && len(r.Trials) == 0 && len(r.Invariants) == 0 && len(r.Scopes) == 0 &&
		len(r.Cells) == 0 && len(r.ScopeCells) == 0 && len(r.Eligibility) == 0 &&
		len(r.Management) == 0 && len(r.Operations) == 0 && len(r.Escalations) == 0
}

// Breaking reports whether something is removed or restricted: a role,
// capability, edition, trial, scope kind, scope role or scope capability removed,
// any field whose Effect is Restricts (a seat limit lowered, a minimum
// raised, a maximum lowered, a role made immutable, a capability revoked
// or gated out of an edition, ...), or any decision going from allowed to
// denied. An invariant removed is not breaking by itself: it relaxes.
func (r Report) Breaking() bool {
	for _, f := range r.Scheme {
		if f.Effect == Restricts {
			return true
		}
	}
	for _, list := range [][]Change{r.Roles, r.Capabilities, r.Editions, r.Trials} {
		if breakingChanges(list, true) {
			return true
		}
	}
	if breakingChanges(r.Invariants, false) {
		return true
	}
	for _, sc := range r.Scopes {
		if sc.Op == Removed || breakingFields(sc.Fields) || breakingChanges(sc.Roles, true) || breakingChanges(sc.Capabilities, true) {
			return true
		}
	}
	for _, c := range r.Cells {
		if c.Effect == Restricts {
			return true
		}
	}
	for _, c := range r.ScopeCells {
		if c.Effect == Restricts {
			return true
		}
	}
	for _, c := range r.Eligibility {
		if c.Effect == Restricts {
			return true
		}
	}
	for _, c := range r.Management {
		if c.Effect == Restricts {
			return true
		}
	}
	for _, c := range r.Operations {
		if c.Effect == Restricts {
			return true
		}
	}
	return false
}

func breakingChanges(list []Change, removal bool) bool {
	for _, c := range list {
		if removal && c.Op == Removed || breakingFields(c.Fields) {
			return true
		}
	}
	return false
}

func breakingFields(fs []Field) bool {
	for _, f := range fs {
		if f.Effect == Restricts {
			return true
		}
	}
	return false
}

// Escalating reports whether the new scheme lets someone do more than the
// old one: whether there are Escalations.
func (r Report) Escalating() bool { return len(r.Escalations) > 0 }

// describe returns a one-line description of e, for Detail.
func (e Escalation) describe() string {
	in := ""
	if e.Edition != "" {
		in = fmt.Sprintf(" in edition %q", e.Edition)
	}
	switch e.Kind {
	case EscalationCapability:
		return fmt.Sprintf("role %q gains %q%s", e.Role, e.Capability, in)
	case EscalationAssignable:
		return fmt.Sprintf("role %q may give role %q, which now holds %q%s", e.Role, e.NewRole, e.Capability, in)
	case EscalationManagement:
		return fmt.Sprintf("role %q may now %s%s", e.Role, actionText(e.Action, e.Target, e.NewRole), in)
	case EscalationScopeCapability:
		return fmt.Sprintf("%s role %q gains %q", e.Scope, e.Role, e.Capability)
	case EscalationEligibility:
		return fmt.Sprintf("organization role %q may now hold %s role %q%s", e.Role, e.Scope, e.NewRole, in)
	case EscalationImplicitRole:
		return fmt.Sprintf("organization role %q now holds %q on every %s, as %s role %q", e.Role, e.Capability, e.Scope, e.Scope, e.NewRole)
	case EscalationOperation:
		if e.Scope != "" {
			return fmt.Sprintf("%s role %q may now %s (%s)", e.Scope, e.Role, operationText(e.Operation), e.Operation)
		}
		return fmt.Sprintf("role %q may now %s (%s)%s", e.Role, operationText(e.Operation), e.Operation, in)
	case EscalationDefaultRole:
		if e.Scope != "" {
			return fmt.Sprintf("a principal added to a %s without a role named now gets %q, which holds %q", e.Scope, e.NewRole, e.Capability)
		}
		return fmt.Sprintf("an invitation naming no role now gives %q, which holds %q%s", e.NewRole, e.Capability, in)
	case EscalationOwn:
		return fmt.Sprintf("role %q may now use %q on others' things too%s", e.Role, e.Capability, in)
	case EscalationTrial:
		return fmt.Sprintf("role %q may now start a trial of edition %q%s, to which it may not change the edition", e.Role, e.Trial, in)
	}
	return string(e.Kind)
}

// actionText describes a management action, e.g. `change a member's role
// from "user" to "admin"`.
func actionText(action, target, newRole string) string {
	switch action {
	case "invite":
		return fmt.Sprintf("invite a member as %q", newRole)
	case "add":
		return fmt.Sprintf("add a member as %q", newRole)
	case "remove":
		return fmt.Sprintf("remove a member holding %q", target)
	case "change-role":
		return fmt.Sprintf("change a member's role from %q to %q", target, newRole)
	}
	return action
}
