// Package invite holds invitations: the record, its status and expiry,
// e-mail address normalization, and invitation tokens.
//
// A token is shown once, to the inviter, for the host to put in an accept
// link; only a hash of its secret is kept. A token has the form
//
//	inv_<id>_<secret>
//
// where id names the invitation (for lookup; 80 random bits, see NewID) and
// secret is 160 random bits, both in lower-case base32 without padding: 16
// and 32 characters, 53 in all. Token values redact themselves when printed
// or logged; Reveal returns the text to send.
package invite

import (
	"errors"
	"fmt"
	"time"
)

// Errors about addresses and tokens.
var (
	// ErrInvalidEmail: the address is malformed; the error says how.
	ErrInvalidEmail = errors.New("invalid e-mail address")
	// ErrMalformedToken: the text is not an invitation token (ParseToken),
	// or the ID is not an invitation ID (NewToken); the error says how,
	// without repeating the text.
	ErrMalformedToken = errors.New("malformed invitation token")
)

// Status is an invitation's state.
type Status uint8

// The states of an invitation. Pending is the only one that changes;
// Expired is never stored: a pending invitation past its expiry reads as
// Expired (see Invitation.StatusAt).
const (
	Pending Status = iota + 1
	Accepted
	Revoked
	Declined
	Expired
)

// String returns the status's name, e.g. "pending".
func (s Status) String() string {
	switch s {
	case Pending:
		return "pending"
	case Accepted:
		return "accepted"
	case Revoked:
		return "revoked"
	case Declined:
		return "declined"
	case Expired:
		return "expired"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Invitation invites an e-mail address into an organization with a role.
type Invitation struct {
	ID    string
	Email string // normalized
	Role  string
	// Status is Pending, Accepted, Revoked or Declined as stored; use
	// StatusAt for what it is at a given time.
	Status Status
	// TokenHash is the SHA-256 of the token's secret (Token.Hash); the
	// token itself is never stored.
	TokenHash []byte
	InvitedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UpdatedAt is when the status or token last changed.
	UpdatedAt time.Time
	// AcceptedBy is the principal who accepted it.
	AcceptedBy string
	// Sends counts how many times it was sent: 1, plus one per resend.
	Sends int
}

// StatusAt returns the invitation's status at time now: a pending
// invitation whose expiry has come is Expired.
func (inv Invitation) StatusAt(now time.Time) Status {
	if inv.Status == Pending && !now.Before(inv.ExpiresAt) {
		return Expired
	}
	return inv.Status
}

// Clone returns a copy of inv that shares nothing with it.
func (inv Invitation) Clone() Invitation {
	inv.TokenHash = append([]byte(nil), inv.TokenHash...)
	return inv
}
