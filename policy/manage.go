package policy

import (
	"fmt"

	"github.com/orgauthz/orgauthz/edition"
)

// CanManage answers whether a member holding role actor, in an organization
// of edition ed, may perform management action a:
//   - ActionInvite and ActionAdd bring in a member with role newRole
//     (target is ignored);
//   - ActionRemove removes a member holding role target (newRole is
//     ignored);
//   - ActionChangeRole changes a member's role from target to newRole.
//
// The rules, in the order they are applied:
//  1. the scheme must offer the action, and the actor's role must hold the
//     capability it needs in this edition (AI Engine: only owners manage);
//     the external standing never manages;
//  2. a target holding an immutable role is neither removed nor re-roled
//     (UiPath's owner), and the external standing is no member to manage
//     (CanRemoveExternal answers for removing an external principal);
//  3. the target's role must be within the actor's reach: the rank rule
//     (rank at most the actor's own), narrowed by the scheme's rules
//     (SoterAI: managers never touch owners);
//  4. the new role must not be immutable (UiPath: the owner role is never
//     given) or the external standing, must be offered by the edition
//     (SoterAI: member only in enterprise), must be one the actor may give
//     (rank rule and rules), and must hold no capability the actor lacks.
//
// CanManage checks roles only: whether the change keeps the invariants on
// head counts (the last admin, seats) is CheckChange's question. It does
// not allocate.
func CanManage(s *edition.Scheme, ed, actor string, a edition.Action, target, newRole string) Decision {
	if s == nil {
		return Decision{Reason: ReasonUnknownScheme, pos: uint64(a) << posAction}
	}
	d, e, ai, ok := resolve(s, kindManage, a, ed, actor)
	if !ok {
		return d
	}
	ti, ni := -1, -1
	if a == edition.ActionRemove || a == edition.ActionChangeRole {
		if ti, ok = s.RoleIndex(target); !ok {
			d.unknown(ReasonUnknownTarget, target)
			return d
		}
		d.set(posTarget, ti)
	}
	if a == edition.ActionInvite || a == edition.ActionAdd || a == edition.ActionChangeRole {
		if ni, ok = s.RoleIndex(newRole); !ok {
			d.unknown(ReasonUnknownNewRole, newRole)
			return d
		}
		d.set(posNewRole, ni)
	}
	return manage(s, e, ai, a, ti, ni)
}

// CanManageAt is CanManage over inputs resolved once, for hot paths: e from
// s.Edition, and the actor's, target's and new role's positions from
// s.RoleIndex (target -1 for invite and add, newRole -1 for remove), all of
// the same scheme. A nil scheme or edition, or a position out of range, is
// denied as unknown.
//
// CanManageAt does not allocate.
func CanManageAt(s *edition.Scheme, e *edition.Edition, actor int, a edition.Action, target, newRole int) Decision {
	if s == nil {
		return Decision{Reason: ReasonUnknownScheme, pos: uint64(a) << posAction}
	}
	d := newDecision(s, kindManage, a)
	if e == nil {
		d.Reason = ReasonUnknownEdition
		return d
	}
	d.set(posEdition, e.Pos())
	n := uint(s.Matrix().NumRoles())
	if uint(actor) >= n {
		d.Reason = ReasonUnknownRole
		return d
	}
	d.set(posRole, actor)
	if a == edition.ActionRemove || a == edition.ActionChangeRole {
		if uint(target) >= n {
			d.Reason = ReasonUnknownTarget
			return d
		}
	} else {
		target = -1
	}
	if a == edition.ActionInvite || a == edition.ActionAdd || a == edition.ActionChangeRole {
		if uint(newRole) >= n {
			d.Reason = ReasonUnknownNewRole
			return d
		}
	} else {
		newRole = -1
	}
	return manage(s, e, actor, a, target, newRole)
}

// manage builds the decision for resolved positions; target and newRole
// are -1 where the action has none.
func manage(s *edition.Scheme, e *edition.Edition, ai int, a edition.Action, ti, ni int) Decision {
	r, ci := manageAt(s, e, ai, a, ti, ni)
	pos := uint64(e.Pos())<<posEdition | uint64(ai)<<posRole | noPos<<posScope | kindManage<<posKind
	pos |= uint64(ti)&noPos<<posTarget | uint64(ni)&noPos<<posNewRole | uint64(ci)&noCap<<posCap
	pos |= uint64(a) << posAction
	return Decision{Allowed: r == ReasonMayManage, Reason: r, pos: pos, src: s}
}

// manageAt applies the management rules over resolved positions (target
// and new role -1 where the action has none). It returns the reason and the
// position of the capability the action needs (-1 if none).
func manageAt(s *edition.Scheme, e *edition.Edition, ai int, a edition.Action, ti, ni int) (Reason, int) {
	m := s.Matrix()
	ci, ok := s.ActionCapability(a)
	if !ok {
		return ReasonActionNotOffered, -1
	}
	if s.IsExternal(ai) {
		return ReasonExternalRole, ci
	}
	if r := decideAt(m, e, ai, ci); r != ReasonRoleHolds {
		return r, ci
	}
	if a == edition.ActionRemove || a == edition.ActionChangeRole {
		switch {
		case s.Immutable(ti):
			return ReasonImmutableTarget, ci
		case s.IsExternal(ti):
			return ReasonExternalRole, ci
		case !s.MayManage(ai, ti):
			return ReasonOutranked, ci
		}
	}
	if a != edition.ActionRemove {
		return assignAt(s, e, ai, ni), ci
	}
	return ReasonMayManage, ci
}

// assignAt is the rule for giving the role at position ni, by an actor
// holding the role at position ai.
func assignAt(s *edition.Scheme, e *edition.Edition, ai, ni int) Reason {
	switch {
	case s.Immutable(ni):
		return ReasonImmutableRole
	case s.IsExternal(ni):
		return ReasonExternalRole
	case !e.OffersRole(ni):
		return ReasonRoleNotInEdition
	case !s.MayAssign(ai, ni):
		return ReasonMayNotAssign
	case s.Exceeds(ai, ni):
		return ReasonEscalation
	}
	return ReasonMayManage
}

// CanAssign answers whether a member holding role actor may give role r,
// by the role rules of management alone: r must not be immutable or the
// external standing, must be offered by the edition, within the actor's
// reach, and hold nothing the actor lacks. It asks for no action's
// capability: operations governed by a capability of their own (creating a
// service principal) ask for it separately.
func CanAssign(s *edition.Scheme, ed, actor, r string) Decision {
	if s == nil {
		return Decision{Reason: ReasonUnknownScheme}
	}
	d, e, ai, ok := resolve(s, kindManage, 0, ed, actor)
	if !ok {
		return d
	}
	ni, ok := s.RoleIndex(r)
	if !ok {
		d.unknown(ReasonUnknownNewRole, r)
		return d
	}
	d.set(posNewRole, ni)
	switch {
	case s.IsExternal(ai):
		d.Reason = ReasonExternalRole
	case !e.OffersRole(ai):
		d.Reason = ReasonRoleNotInEdition
	default:
		d.Reason = assignAt(s, e, ai, ni)
	}
	d.Allowed = d.Reason == ReasonMayManage
	return d
}

// CanRemoveExternal answers whether a member holding role actor, in an
// organization of edition ed, may remove an external principal from the
// organization: one that belongs to it only through scope resources, with
// the scheme's external standing (AI Engine's External User), so that it
// loses every resource of the organization at once.
//
// The actor needs what removing a member needs, less the rank rule: the
// scheme must offer ActionRemove and the actor's role must hold its
// capability (s.ActionCapability(edition.ActionRemove)) in this edition
// (ReasonActionNotOffered, ReasonRoleNotInEdition, ReasonRoleLacks,
// ReasonEditionGated otherwise); the external standing itself never
// manages (ReasonExternalRole). The rank rule and the scheme's management
// rules do not apply: the external standing has rank 0, below every
// assignable role, and is no role a rule can name, so whoever may remove
// members may remove an external principal. Nor does CanManage's answer for
// the external role as a target, ReasonExternalRole, which says that the
// standing is never removed or re-roled as a member's role is; removing the
// principal altogether is this question. Allowed decisions give
// ReasonMayManage, with Action ActionRemove and Target the external role.
//
// The answer does not depend on whether s has an external standing: a
// scheme without one has no external principals to ask about, and a host
// that dropped its ExternalRole can still clean up the principals it had.
// CanRemoveExternal does not allocate, but on an unknown input.
func CanRemoveExternal(s *edition.Scheme, ed, actor string) Decision {
	a := edition.ActionRemove
	if s == nil {
		return Decision{Reason: ReasonUnknownScheme, pos: uint64(a) << posAction}
	}
	d, e, ai, ok := resolve(s, kindExternal, a, ed, actor)
	if !ok {
		return d
	}
	if x := s.ExternalRole(); x != "" {
		xi, _ := s.RoleIndex(x)
		d.set(posTarget, xi)
	}
	ci, ok := s.ActionCapability(a)
	if !ok {
		d.Reason = ReasonActionNotOffered
		return d
	}
	d.set(posCap, ci)
	if s.IsExternal(ai) {
		d.Reason = ReasonExternalRole
		return d
	}
	if d.Reason = decideAt(s.Matrix(), e, ai, ci); d.Reason == ReasonRoleHolds {
		d.Allowed, d.Reason = true, ReasonMayManage
	}
	return d
}

// CanInvite is CanManage for ActionInvite.
func CanInvite(s *edition.Scheme, ed, actor, newRole string) Decision {
	return CanManage(s, ed, actor, edition.ActionInvite, "", newRole)
}

// CanAdd is CanManage for ActionAdd.
func CanAdd(s *edition.Scheme, ed, actor, newRole string) Decision {
	return CanManage(s, ed, actor, edition.ActionAdd, "", newRole)
}

// CanRemove is CanManage for ActionRemove.
func CanRemove(s *edition.Scheme, ed, actor, target string) Decision {
	return CanManage(s, ed, actor, edition.ActionRemove, target, "")
}

// CanChangeRole is CanManage for ActionChangeRole.
func CanChangeRole(s *edition.Scheme, ed, actor, target, newRole string) Decision {
	return CanManage(s, ed, actor, edition.ActionChangeRole, target, newRole)
}

// CanLeave answers whether a member holding role r may leave the
// organization of its own accord. Anyone may, except the holder of an
// immutable role; whether leaving keeps the invariants (the last admin) is
// CheckChange's question.
func CanLeave(s *edition.Scheme, ed, r string) Decision {
	if s == nil {
		return Decision{Reason: ReasonUnknownScheme}
	}
	d, _, ri, ok := resolve(s, kindManage, 0, ed, r)
	if !ok {
		return d
	}
	switch {
	case s.IsExternal(ri):
		d.Reason = ReasonExternalRole
	case s.Immutable(ri):
		d.Reason = ReasonImmutableRole
	default:
		d.Allowed, d.Reason = true, ReasonMayLeave
	}
	return d
}

// InviteRole returns the role an invitation carries when it names none: the
// scheme's default invitation role. If edition ed does not offer that role,
// the error matches ErrEditionGated and the invitation must name its role:
// orgauthz never falls back to a more powerful role.
func InviteRole(s *edition.Scheme, ed string) (string, error) {
	if s == nil {
		return "", fmt.Errorf("%w: no scheme", ErrUnknownScheme)
	}
	e, ok := s.Edition(ed)
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownEdition, ed)
	}
	r := s.InviteRole()
	ri, _ := s.RoleIndex(r)
	if !e.OffersRole(ri) {
		return "", fmt.Errorf("%w: edition %q does not offer the default invitation role %q: name the role to invite as", ErrEditionGated, ed, r)
	}
	return r, nil
}

// resolve starts a decision of the given kind about action a by a member
// holding role r in edition ed, with both looked up in s. When either is
// unknown, ok is false and the decision names it.
func resolve(s *edition.Scheme, kind uint64, a edition.Action, ed, r string) (d Decision, e *edition.Edition, ri int, ok bool) {
	d = newDecision(s, kind, a)
	if e, ok = s.Edition(ed); !ok {
		d.unknown(ReasonUnknownEdition, ed)
		return d, nil, 0, false
	}
	d.set(posEdition, e.Pos())
	if ri, ok = s.RoleIndex(r); !ok {
		d.unknown(ReasonUnknownRole, r)
		return d, e, 0, false
	}
	d.set(posRole, ri)
	return d, e, ri, true
}
