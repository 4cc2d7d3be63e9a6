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
//
// # JSON
//
// An Invitation marshals with encoding/json to the form its doc lists, and
// unmarshals back from it, following the convention package org describes:
// snake_case names, its Status as a word ("pending", "accepted",
// "revoked", "declined", "expired"), RFC 3339 times omitted when zero. Its
// TokenHash is never marshaled, nor unmarshaled: the JSON of an invitation
// is safe to show to anyone who may see the invitation. A Token marshals
// redacted.
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

// Status is an invitation's state. It marshals to JSON and text as its
// String: "pending", "accepted", "revoked", "declined" or "expired" (the
// zero Status as "").
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

// ErrUnknownStatus: a Status that is none of the states nor zero was
// marshaled, or text other than their names and "" was unmarshaled into a
// Status.
var ErrUnknownStatus = errors.New("unknown invitation status")

// MarshalText returns the status's name, e.g. "pending", or "" for the
// zero Status; it fails, matching ErrUnknownStatus, for any other value.
func (s Status) MarshalText() ([]byte, error) {
	switch s {
	case 0:
		return []byte{}, nil
	case Pending, Accepted, Revoked, Declined, Expired:
		return []byte(s.String()), nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnknownStatus, uint8(s))
}

// UnmarshalText sets s from a status's name ("pending", "accepted",
// "revoked", "declined", "expired"), or "" for the zero Status. Any other
// text fails, matching ErrUnknownStatus, and leaves s unchanged; names are
// matched exactly.
func (s *Status) UnmarshalText(text []byte) error {
	for st := Pending; st <= Expired; st++ {
		if string(text) == st.String() {
			*s = st
			return nil
		}
	}
	if len(text) == 0 {
		*s = 0
		return nil
	}
	if len(text) > 32 {
		return fmt.Errorf("%w: %q… (%d bytes)", ErrUnknownStatus, text[:32], len(text))
	}
	return fmt.Errorf("%w: %q", ErrUnknownStatus, text)
}

// Invitation invites an e-mail address into an organization with a role.
//
// JSON: {"id", "email", "role", "status", "invited_by", "created_at",
// "expires_at", "updated_at", "accepted_by" (optional), "declined_by"
// (optional), "sends"}; never the TokenHash. "status" is the Status field
// as it is: a host showing what an invitation is now sets Status to
// StatusAt(now) before marshaling, so that one past its expiry reads
// "expired".
type Invitation struct {
	ID    string `json:"id"`
	Email string `json:"email"` // normalized
	Role  string `json:"role"`
	// Status is Pending, Accepted, Revoked or Declined as stored; use
	// StatusAt for what it is at a given time.
	Status Status `json:"status"`
	// TokenHash is the SHA-256 of the token's secret (Token.Hash); the
	// token itself is never stored.
	TokenHash []byte    `json:"-"`
	InvitedBy string    `json:"invited_by"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// UpdatedAt is when the status or token last changed.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// AcceptedBy is the principal who accepted it.
	AcceptedBy string `json:"accepted_by,omitempty"`
	// DeclinedBy is the principal who declined it, when it was signed in;
	// "" for a decline through the link alone (and while not declined).
	DeclinedBy string `json:"declined_by,omitempty"`
	// Sends counts how many times it was sent: 1, plus one per resend.
	Sends int `json:"sends"`
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
