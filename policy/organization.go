package policy

import (
	"github.com/orgauthz/orgauthz/edition"
)

// CanDeleteOrganization answers whether a member holding role actor, in an
// organization of edition ed, may archive or delete the organization.
//
// The actor's role must hold the capability that governs deletion,
// s.OrgCapabilities().Delete, in this edition, as Decide answers for it
// (ReasonRoleLacks, ReasonEditionGated, ReasonRoleNotInEdition otherwise;
// ReasonActionNotOffered when the scheme names no such capability, so that
// nobody may). The external standing never may (ReasonExternalRole).
//
// And when the scheme has an immutable role (UiPath's owner: the person
// who signed up, whom nobody can remove or edit), only its holder may:
// any other role is denied with ReasonImmutableOwner, even one holding the
// capability (UiPath's administrators hold organization_settings:delete).
// Deleting the organization removes every member at once, the owner
// included; letting anyone but the owner do it would do to the owner, at
// one stroke, what the immutable role forbids everyone to do to it one
// member at a time. The host, acting on its own authority, is not asked.
//
// An allowed decision gives ReasonRoleHolds and names the capability. It
// does not allocate, but on an unknown input.
func CanDeleteOrganization(s *edition.Scheme, ed, actor string) Decision {
	if s == nil {
		return Decision{Reason: ReasonUnknownScheme}
	}
	d, e, ai, ok := resolve(s, kindCapability, 0, ed, actor)
	if !ok {
		return d
	}
	c := s.OrgCapabilities().Delete
	ci, ok := s.Catalog().Index(c)
	if c == "" || !ok {
		// NewScheme refuses a Delete capability not in the catalog, so
		// only the empty one is met here.
		d.Reason = ReasonActionNotOffered
		return d
	}
	d.set(posCap, ci)
	if s.IsExternal(ai) {
		d.Reason = ReasonExternalRole
		return d
	}
	if d.Reason = decideAt(s.Matrix(), e, ai, ci); d.Reason != ReasonRoleHolds {
		return d
	}
	if owner, ok := s.RoleIndex(s.CreatorRole()); ok && s.Immutable(owner) && ai != owner {
		d.Reason = ReasonImmutableOwner
		return d
	}
	d.Allowed = true
	return d
}
