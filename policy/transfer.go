package policy

import (
	"fmt"

	"github.com/orgauthz/orgauthz/edition"
)

// CheckTransfer answers whether ownership of an organization of scheme s in
// edition ed may pass from a member holding role from to a member holding
// role to, the old owner stepping down to role stepDown, in one change: to
// gains the scheme's owner role (edition.Management.Owner) and from takes
// stepDown. byHost says the host asks, on its own authority; otherwise
// from's holder asks itself.
//
// It refuses, each with an error naming the rule:
//   - a scheme with no owner role (ErrNotOffered);
//   - from not the owner role (ErrPermissionDenied), or to already holding
//     it (ErrInvalidTransfer: there is nothing to hand over);
//   - an immutable owner role, unless byHost (ErrInvariant and
//     ErrImmutableRole: UiPath's owner cannot hand over, only the host can
//     move it);
//   - stepDown unknown (ErrUnknownRole), the owner role itself, or the
//     external standing (ErrInvalidTransfer), immutable (ErrImmutableRole),
//     or not offered by the edition (ErrEditionGated);
//   - a change of head counts the invariants refuse: to's old role loses a
//     holder and stepDown gains one (see CheckChange), with counts c.
//
// The owner role's own count does not change, so its minimum and maximum
// (UiPath: exactly one) hold throughout.
func CheckTransfer(s *edition.Scheme, ed string, c Counts, from, to, stepDown string, byHost bool) error {
	if s == nil {
		return fmt.Errorf("%w: no scheme", ErrUnknownScheme)
	}
	owner, ok := s.OwnerRole()
	if !ok {
		return fmt.Errorf("%w: %w: scheme %q has no owner role to hand over", ErrPermissionDenied, ErrNotOffered, s.ID())
	}
	oi, _ := s.RoleIndex(owner)
	if _, err := lookupRole(s, to); err != nil {
		return err
	}
	switch {
	case from != owner:
		return fmt.Errorf("%w: only the holder of %q hands ownership over, and the member from whom it would pass holds %q", ErrPermissionDenied, owner, from)
	case to == owner:
		return fmt.Errorf("%w: the new owner holds %q already", ErrInvalidTransfer, owner)
	case s.Immutable(oi) && !byHost:
		return fmt.Errorf("%w: %w: role %q is immutable: no member may hand it over, only the host", ErrInvariant, ErrImmutableRole, owner)
	}
	si, err := lookupRole(s, stepDown)
	switch {
	case err != nil:
		return err
	case stepDown == owner:
		return fmt.Errorf("%w: the old owner must step down to a role other than %q", ErrInvalidTransfer, owner)
	case s.IsExternal(si):
		return fmt.Errorf("%w: %q is a standing, not a role to step down to", ErrInvalidTransfer, stepDown)
	case s.Immutable(si):
		return fmt.Errorf("%w: %w: role %q is never given", ErrInvariant, ErrImmutableRole, stepDown)
	}
	e, err := lookupEdition(s, ed)
	if err != nil {
		return err
	}
	if !e.OffersRole(si) {
		return fmt.Errorf("%w: %w: edition %q does not offer role %q", ErrInvariant, ErrEditionGated, ed, stepDown)
	}
	return CheckChange(s, ed, 0, c, Change{Lose: to, Gain: stepDown})
}
