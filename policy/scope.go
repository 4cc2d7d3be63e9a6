package policy

import (
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

// DecideScope answers whether a principal holding scope role r on a
// resource of the given kind (a project, service, workspace) holds scope
// capability c there. The decision names the rule as Decide's does;
// Decision.Scope returns the kind.
func DecideScope(s *edition.Scheme, kind, r string, c role.Capability) Decision {
	d, si, ok := scopeStart(s, kind)
	if !ok {
		return d
	}
	m := s.ScopeAt(si).Matrix()
	ri, ok := m.RoleIndex(r)
	if !ok {
		d.unknown(ReasonUnknownRole, r)
		return d
	}
	d.set(posRole, ri)
	ci, ok := m.Catalog().Index(c)
	if !ok {
		d.unknown(ReasonUnknownCapability, string(c))
		return d
	}
	d.set(posCap, ci)
	if !m.Grants(ri).Has(ci) {
		d.Reason = ReasonRoleLacks
		return d
	}
	d.Allowed, d.Reason = true, ReasonRoleHolds
	return d
}

// DecideScopeSet is DecideScope for a custom scope role, which is not in
// the scheme but holds the set of capabilities held (positions in the
// scope's catalog). Decision.Role returns "".
func DecideScopeSet(s *edition.Scheme, kind string, held role.Set, c role.Capability) Decision {
	d, si, ok := scopeStart(s, kind)
	if !ok {
		return d
	}
	ci, ok := s.ScopeAt(si).Matrix().Catalog().Index(c)
	if !ok {
		d.unknown(ReasonUnknownCapability, string(c))
		return d
	}
	d.set(posCap, ci)
	if held.Has(ci) {
		d.Allowed, d.Reason = true, ReasonRoleHolds
	} else {
		d.Reason = ReasonRoleLacks
	}
	return d
}

// NotScopeMember returns the decision for a principal who holds no role on
// a scope resource of the given kind: not a member of the resource, and
// given no implicit role there by its organization role. It denies with
// ReasonNotScopeMember, whose message names the kind ("not a member of the
// project") and whose error matches ErrNotMember. A nil scheme or an
// unknown kind is denied as DecideScope denies them. NotScopeMember does
// not allocate for a known kind.
func NotScopeMember(s *edition.Scheme, kind string) Decision {
	d, _, ok := scopeStart(s, kind)
	if !ok {
		return d
	}
	d.Reason = ReasonNotScopeMember
	return d
}

// Eligible answers whether a principal whose organization role is orgRole
// may hold scope role scopeRole on a resource of the given kind, in an
// organization of edition ed. A principal who is not a member of the
// organization is asked about with the scheme's external role, and is
// eligible only where the kind allows external members.
//
// The scope role's eligibility rule decides (AI Engine: a project owner
// must hold projects:be_owner, an editor or viewer projects:be_member); a
// capability the rule names must be held by the organization role in this
// edition.
func Eligible(s *edition.Scheme, ed, kind, orgRole, scopeRole string) Decision {
	if s == nil {
		return Decision{Reason: ReasonUnknownScheme}
	}
	d := newDecision(s, kindEligible, 0)
	e, ok := s.Edition(ed)
	if !ok {
		d.unknown(ReasonUnknownEdition, ed)
		return d
	}
	d.set(posEdition, e.Pos())
	si, ok := s.ScopeIndex(kind)
	if !ok {
		d.unknown(ReasonUnknownScope, kind)
		return d
	}
	d.set(posScope, si)
	sc := s.ScopeAt(si)
	oi, ok := s.RoleIndex(orgRole)
	if !ok {
		d.unknown(ReasonUnknownRole, orgRole)
		return d
	}
	d.set(posRole, oi)
	ri, ok := sc.Matrix().RoleIndex(scopeRole)
	if !ok {
		d.unknown(ReasonUnknownNewRole, scopeRole)
		return d
	}
	d.set(posNewRole, ri)
	if ci, ok := sc.EligibleCapability(ri); ok {
		d.set(posCap, ci)
	}
	switch {
	case s.IsExternal(oi) && !sc.AllowsExternal():
		d.Reason = ReasonNotEligible
	case !e.OffersRole(oi):
		d.Reason = ReasonRoleNotInEdition
	case !sc.EligibleRole(ri, oi):
		d.Reason = ReasonNotEligible
	default:
		if ci, ok := sc.EligibleCapability(ri); ok && decideAt(s.Matrix(), e, oi, ci) != ReasonRoleHolds {
			d.Reason = ReasonNotEligible
			return d
		}
		d.Allowed, d.Reason = true, ReasonEligible
	}
	return d
}

// scopeStart starts a scope decision about kind, looked up in s. When s is
// nil or the kind unknown, ok is false and the decision says which.
func scopeStart(s *edition.Scheme, kind string) (d Decision, si int, ok bool) {
	if s == nil {
		return Decision{Reason: ReasonUnknownScheme}, 0, false
	}
	d = newDecision(s, kindScope, 0)
	if si, ok = s.ScopeIndex(kind); !ok {
		d.unknown(ReasonUnknownScope, kind)
		return d, 0, false
	}
	d.set(posScope, si)
	return d, si, true
}
