package policy

import (
	"fmt"
	"slices"

	"github.com/orgauthz/orgauthz/edition"
)

// Counts are an organization's head counts before a change.
type Counts struct {
	// Seats is the number of seats in use: members, plus pending
	// invitations where the host holds a seat for them.
	Seats int
	// Holders counts, by role ID, the members holding each role.
	Holders map[string]int
}

// Change is the effect of one operation on an organization's head counts.
//
//	add a member as r          Change{Seats: 1, Gain: r}
//	invite (seat held)         Change{Seats: 1}
//	accept an invitation as r  Change{Seats: 1, Gain: r}, with Counts
//	                           excluding the invitation being accepted
//	remove a member holding r  Change{Seats: -1, Lose: r}
//	change a role from a to b  Change{Lose: a, Gain: b}
//	revoke an invitation       Change{Seats: -1}
type Change struct {
	// Seats is the change in seats in use.
	Seats int
	// Lose is the role that loses a holder, or "".
	Lose string
	// Gain is the role that gains a holder, or "".
	Gain string
}

// SeatLimit returns the number of seats an organization of edition ed with
// the given seat override has; 0 means unlimited.
func SeatLimit(s *edition.Scheme, ed string, override int) (int, error) {
	e, err := lookupEdition(s, ed)
	if err != nil {
		return 0, err
	}
	return e.Seats().Limit(override), nil
}

// CheckChange reports whether change ch, applied to an organization of
// edition ed (with seat override) whose head counts are c, keeps every
// invariant of scheme s. It checks only what the change makes worse, so an
// organization already past a limit (say, after its override was lowered)
// can still shrink:
//   - seats: taking seats must not exceed the limit (ErrSeatLimit);
//   - a role losing a holder must keep its minimum (ErrMinHolders: the last
//     admin or owner);
//   - a role gaining a holder must stay within its maximum (ErrMaxHolders)
//     and be offered by the edition (ErrEditionGated).
//
// Every violation matches ErrInvariant and its own sentinel, and its
// message names the invariant and the numbers. Unknown editions and roles
// match ErrUnknownEdition and ErrUnknownRole.
func CheckChange(s *edition.Scheme, ed string, override int, c Counts, ch Change) error {
	e, err := lookupEdition(s, ed)
	if err != nil {
		return err
	}
	if ch.Seats > 0 {
		if limit := e.Seats().Limit(override); limit > 0 && c.Seats+ch.Seats > limit {
			return fmt.Errorf("%w: %w: edition %q allows %d seats and %d are in use", ErrInvariant, ErrSeatLimit, ed, limit, c.Seats)
		}
	}
	if ch.Lose == ch.Gain {
		if ch.Lose != "" {
			if _, err := lookupRole(s, ch.Lose); err != nil {
				return err
			}
		}
		return nil // no holder changes
	}
	if ch.Lose != "" {
		ri, err := lookupRole(s, ch.Lose)
		if err != nil {
			return err
		}
		if min := s.MinHolders(ri); c.Holders[ch.Lose]-1 < min {
			return fmt.Errorf("%w: %w: at least %d member(s) must hold %q, and this would leave %d", ErrInvariant, ErrMinHolders, min, ch.Lose, max(c.Holders[ch.Lose]-1, 0))
		}
	}
	if ch.Gain != "" {
		ri, err := lookupRole(s, ch.Gain)
		if err != nil {
			return err
		}
		if max := s.MaxHolders(ri); max > 0 && c.Holders[ch.Gain]+1 > max {
			return fmt.Errorf("%w: %w: at most %d member(s) may hold %q, and %d already do", ErrInvariant, ErrMaxHolders, max, ch.Gain, c.Holders[ch.Gain])
		}
		if !e.OffersRole(ri) {
			return fmt.Errorf("%w: %w: edition %q does not offer role %q", ErrInvariant, ErrEditionGated, ed, ch.Gain)
		}
	}
	return nil
}

// CheckEdition reports whether an organization with head counts c and seat
// override may move to edition to. It refuses, with an error matching
// ErrInvariant, when the seats in use exceed the new edition's limit
// (ErrSeatLimit) or members hold roles the new edition does not offer
// (ErrEditionGated); the message says how many.
func CheckEdition(s *edition.Scheme, to string, override int, c Counts) error {
	e, err := lookupEdition(s, to)
	if err != nil {
		return err
	}
	if limit := e.Seats().Limit(override); limit > 0 && c.Seats > limit {
		return fmt.Errorf("%w: %w: edition %q allows %d seats but %d are in use; free %d first", ErrInvariant, ErrSeatLimit, to, limit, c.Seats, c.Seats-limit)
	}
	roles := make([]string, 0, len(c.Holders))
	for r, n := range c.Holders {
		if n > 0 {
			roles = append(roles, r)
		}
	}
	slices.Sort(roles)
	for _, r := range roles {
		ri, err := lookupRole(s, r)
		if err != nil {
			return err
		}
		if !e.OffersRole(ri) {
			return fmt.Errorf("%w: %w: edition %q does not offer role %q, which %d member(s) hold; change their role first", ErrInvariant, ErrEditionGated, to, r, c.Holders[r])
		}
	}
	return nil
}

// CheckSeatOverride reports whether an organization of edition ed may carry
// its own seat limit n (0 clears it). It refuses a negative n, and any n > 0
// where the edition's limit is fixed; the error matches ErrSeatOverride.
func CheckSeatOverride(s *edition.Scheme, ed string, n int) error {
	e, err := lookupEdition(s, ed)
	if err != nil {
		return err
	}
	switch {
	case n < 0:
		return fmt.Errorf("%w: %d is negative", ErrSeatOverride, n)
	case n > 0 && !e.Seats().Overridable:
		return fmt.Errorf("%w: edition %q has a fixed limit (%s)", ErrSeatOverride, ed, e.Seats())
	}
	return nil
}

func lookupEdition(s *edition.Scheme, ed string) (*edition.Edition, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: no scheme", ErrUnknownScheme)
	}
	e, ok := s.Edition(ed)
	if !ok {
		return nil, fmt.Errorf("%w %q in scheme %q", ErrUnknownEdition, ed, s.ID())
	}
	return e, nil
}

func lookupRole(s *edition.Scheme, r string) (int, error) {
	ri, ok := s.RoleIndex(r)
	if !ok {
		return 0, fmt.Errorf("%w %q in scheme %q", ErrUnknownRole, r, s.ID())
	}
	return ri, nil
}
