package edition

import (
	"errors"
	"fmt"

	"github.com/orgauthz/orgauthz/role"
)

// SeatLimit is an edition's limit on members (pending invitations count
// too, where a host uses them). The zero value is unlimited and cannot be
// overridden.
type SeatLimit struct {
	// Max is the number of seats; 0 means unlimited.
	Max int
	// Overridable says an organization may carry its own limit in place of
	// Max: Max is then only a default.
	Overridable bool
}

// Seats returns a fixed limit of n seats.
func Seats(n int) SeatLimit { return SeatLimit{Max: n} }

// DefaultSeats returns a limit of n seats that an organization may
// override. DefaultSeats(0) is unlimited unless overridden.
func DefaultSeats(n int) SeatLimit { return SeatLimit{Max: n, Overridable: true} }

// Unlimited returns a limit of no limit, which cannot be overridden.
func Unlimited() SeatLimit { return SeatLimit{} }

// Limit returns the seats an organization with the given override has: the
// override when the limit is overridable and override > 0, else Max.
// 0 means unlimited.
func (l SeatLimit) Limit(override int) int {
	if l.Overridable && override > 0 {
		return override
	}
	return l.Max
}

// String describes the limit, e.g. "5 seats" or "10 seats (overridable)".
func (l SeatLimit) String() string {
	s := "unlimited seats"
	if l.Max > 0 {
		s = fmt.Sprintf("%d seats", l.Max)
	}
	if l.Overridable {
		s += " (overridable)"
	}
	return s
}

// EditionSpec describes one edition of a scheme, for NewScheme.
type EditionSpec struct {
	// ID is the stable identifier stored with organizations.
	ID string
	// Name is the display name; it defaults to ID. It may hold no
	// character role.ForbiddenInName refuses.
	Name string
	// Seats is the edition's seat limit.
	Seats SeatLimit
}

// Edition is a built edition of a scheme: its seat limit and which of the
// scheme's capabilities and roles it offers. It is immutable.
type Edition struct {
	id, name string
	pos      int
	seats    SeatLimit
	caps     role.Set // capabilities the edition offers
	roles    uint64   // role positions the edition offers
}

// ID returns the edition's identifier.
func (e *Edition) ID() string { return e.id }

// Pos returns the edition's position in its scheme (see Scheme.EditionAt).
func (e *Edition) Pos() int { return e.pos }

// Name returns the edition's display name.
func (e *Edition) Name() string { return e.name }

// Seats returns the edition's seat limit.
func (e *Edition) Seats() SeatLimit { return e.seats }

// Capabilities returns the set of capability positions the edition offers.
func (e *Edition) Capabilities() role.Set { return e.caps }

// OffersCapability reports whether the edition offers the capability at
// position i of the scheme's catalog.
func (e *Edition) OffersCapability(i int) bool { return e.caps.Has(i) }

// OffersRole reports whether the edition offers the role at position i of
// the scheme's matrix.
func (e *Edition) OffersRole(i int) bool { return uint(i) < 64 && e.roles&(1<<uint(i)) != 0 }

// ErrUnknownEdition is matched by errors about an edition ID that the
// scheme at hand does not define.
var ErrUnknownEdition = errors.New("unknown edition")

// ErrUnknownScheme is matched by errors about a missing (nil) or unknown
// scheme.
var ErrUnknownScheme = errors.New("unknown scheme")

// ErrUnknownScope is matched by errors about a scope kind that the scheme at
// hand does not define.
var ErrUnknownScope = errors.New("unknown scope kind")
