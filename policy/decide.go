package policy

import (
	"iter"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

// Decide answers whether a member holding role r, in an organization of
// edition ed, holds capability c under scheme s. The decision names the
// rule: the role holds it (allowed), lacks it, holds it but the edition
// gates it, or the role, capability, edition or scheme is unknown (denied).
// A role the edition does not offer holds nothing.
//
// Decide does not allocate. Hot paths that decide many times for the same
// edition and role resolve them once and call DecideAt.
func Decide(s *edition.Scheme, ed, r string, c role.Capability) Decision {
	if s == nil {
		return Decision{Reason: ReasonUnknownScheme}
	}
	e, ok := s.Edition(ed)
	if !ok {
		d := newDecision(s, kindCapability, 0)
		d.unknown(ReasonUnknownEdition, ed)
		return d
	}
	ri, ok := s.RoleIndex(r)
	if !ok {
		d := newDecision(s, kindCapability, 0)
		d.set(posEdition, e.Pos())
		d.unknown(ReasonUnknownRole, r)
		return d
	}
	ci, ok := s.Catalog().Index(c)
	if !ok {
		d := newDecision(s, kindCapability, 0)
		d.set(posEdition, e.Pos())
		d.set(posRole, ri)
		d.unknown(ReasonUnknownCapability, string(c))
		return d
	}
	return decision(s, e, ri, ci)
}

// DecideOwn is Decide for a capability exercised on a thing owned by
// someone: when c is one of the scheme's own-thing capabilities (Spec.Own),
// only the thing's owner is allowed (isOwner), and others are denied with
// ReasonNotOwner. For any other capability it is Decide.
func DecideOwn(s *edition.Scheme, ed, r string, c role.Capability, isOwner bool) Decision {
	d := Decide(s, ed, r, c)
	if d.Allowed && !isOwner {
		if ci, ok := s.Catalog().Index(c); ok && s.IsOwn(ci) {
			d.Allowed, d.Reason = false, ReasonNotOwner
		}
	}
	return d
}

// DecideAt is Decide over inputs resolved once, for hot paths: e from
// s.Edition, ri from s.RoleIndex and ci from s.Catalog().Index, all of the
// same scheme. It skips the three lookups that are most of Decide's cost.
// A nil scheme or edition, or a position out of range, is denied as
// unknown.
//
// DecideAt does not allocate.
func DecideAt(s *edition.Scheme, e *edition.Edition, ri, ci int) Decision {
	switch {
	case s == nil:
		return Decision{Reason: ReasonUnknownScheme}
	case e == nil:
		d := newDecision(s, kindCapability, 0)
		d.Reason = ReasonUnknownEdition
		return d
	case uint(ri) >= uint(s.Matrix().NumRoles()):
		d := newDecision(s, kindCapability, 0)
		d.set(posEdition, e.Pos())
		d.Reason = ReasonUnknownRole
		return d
	case uint(ci) >= uint(s.Catalog().Len()):
		d := newDecision(s, kindCapability, 0)
		d.set(posEdition, e.Pos())
		d.set(posRole, ri)
		d.Reason = ReasonUnknownCapability
		return d
	}
	return decision(s, e, ri, ci)
}

func decision(s *edition.Scheme, e *edition.Edition, ri, ci int) Decision {
	r := decideAt(s.Matrix(), e, ri, ci)
	return Decision{
		Allowed: r == ReasonRoleHolds,
		Reason:  r,
		src:     s,
		pos: uint64(e.Pos())<<posEdition | uint64(ri)<<posRole | noPos<<posTarget | noPos<<posNewRole |
			noPos<<posScope | uint64(ci)<<posCap | kindCapability<<posKind,
	}
}

// decideAt is the capability rule over resolved positions.
func decideAt(m *role.Matrix, e *edition.Edition, ri, ci int) Reason {
	switch {
	case !e.OffersRole(ri):
		return ReasonRoleNotInEdition
	case !m.Grants(ri).Has(ci):
		return ReasonRoleLacks
	case !e.OffersCapability(ci):
		return ReasonEditionGated
	}
	return ReasonRoleHolds
}

// Capabilities returns the set of capabilities (positions in the scheme's
// catalog) that a member holding role r has in an organization of edition
// ed: the role's row of the matrix, less what the edition gates. An unknown
// role or edition, or a role the edition does not offer, has none.
func Capabilities(s *edition.Scheme, ed, r string) role.Set {
	if s == nil {
		return role.Set{}
	}
	e, ok := s.Edition(ed)
	if !ok {
		return role.Set{}
	}
	ri, ok := s.RoleIndex(r)
	if !ok || !e.OffersRole(ri) {
		return role.Set{}
	}
	return s.Matrix().Grants(ri).Intersect(e.Capabilities())
}

// Row is one cell of a scheme's decision table: whether Role holds
// Capability in Edition.
type Row struct {
	Capability role.Capability
	Role       string
	Edition    string
	Allowed    bool
}

// Rows yields every cell of the scheme's decision table, capability by
// capability (catalog order), then role (matrix order, the external
// standing included), then edition (scheme order). Allowed is what Decide
// answers for the cell.
func Rows(s *edition.Scheme) iter.Seq[Row] {
	return func(yield func(Row) bool) {
		if s == nil {
			return
		}
		m := s.Matrix()
		eds := s.Editions()
		for ci, def := range m.Catalog().All() {
			for ri := range m.NumRoles() {
				for _, e := range eds {
					row := Row{Capability: def.ID, Role: m.Role(ri).ID, Edition: e.ID(), Allowed: decideAt(m, e, ri, ci) == ReasonRoleHolds}
					if !yield(row) {
						return
					}
				}
			}
		}
	}
}
