// Package apikey holds API keys: the record, its status and expiry, and
// key strings (generation, checksum, parsing, hashing, redaction).
//
// A key string has the form
//
//	<prefix>_<id>_<secret><checksum>
//
// The prefix is the host's (e.g. "acme"), id names the key for lookup (16
// lower-case base32 characters), secret is 160 random bits (32 lower-case
// base32 characters), and checksum is the CRC-32 (IEEE) of everything
// before it, in 7 lower-case base32 characters, so that a scanner or a
// server can tell a real key from a typo without asking the store. Base32
// is the RFC 4648 alphabet in lower case (a-z, 2-7) without padding; the
// checksum is the CRC as a number in 7 base32 digits, most significant
// first, zero-padded on the left (the zero digit is "a", so the first is
// one of a-d). A key string is shown once, when the key is made; only a
// hash of its secret is kept.
//
// The prefix is the host's choice (ValidatePrefix). NewSecret makes a key
// string, Parse reads one back and checks its checksum, and
// Secret.Matches compares it with a stored hash; a Secret redacts itself
// wherever it is printed or logged. ExpiryPreset gives the lifetimes a
// host offers.
//
// # JSON
//
// A Key marshals with encoding/json to the form its doc lists, and
// unmarshals back from it, following the convention package org describes:
// snake_case names, RFC 3339 times omitted when zero. Its Hash is never
// marshaled, nor unmarshaled, and a Key never holds the key string, so the
// JSON of a key is safe for a listing. A Status marshals as a word
// ("active", "revoked", "expired"); a Key has no status field, since its
// status depends on the time (StatusAt): a host that shows one adds it
// alongside. A Secret marshals redacted, as its Display form.
package apikey

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/orgauthz/orgauthz/role"
)

// ErrMalformedKey: the text is not an API key of the expected prefix, or
// its checksum is wrong (see Parse). The error says how, without
// repeating the text.
var ErrMalformedKey = errors.New("malformed API key")

// Status is a key's state at a given time. It marshals to JSON and text as
// its String: "active", "revoked" or "expired" (the zero Status as "").
type Status uint8

// The states of a key.
const (
	Active Status = iota + 1
	Revoked
	Expired
)

// String returns "active", "revoked" or "expired".
func (s Status) String() string {
	switch s {
	case Active:
		return "active"
	case Revoked:
		return "revoked"
	case Expired:
		return "expired"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// ErrUnknownStatus: a Status that is none of the states nor zero was
// marshaled, or text other than their names and "" was unmarshaled into a
// Status.
var ErrUnknownStatus = errors.New("unknown API key status")

// MarshalText returns "active", "revoked", "expired", or "" for the zero
// Status; it fails, matching ErrUnknownStatus, for any other value.
func (s Status) MarshalText() ([]byte, error) {
	switch s {
	case 0:
		return []byte{}, nil
	case Active, Revoked, Expired:
		return []byte(s.String()), nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnknownStatus, uint8(s))
}

// UnmarshalText sets s from "active", "revoked", "expired", or "" (the
// zero Status). Any other text fails, matching ErrUnknownStatus, and
// leaves s unchanged; names are matched exactly.
func (s *Status) UnmarshalText(text []byte) error {
	switch string(text) {
	case "":
		*s = 0
	case "active":
		*s = Active
	case "revoked":
		*s = Revoked
	case "expired":
		*s = Expired
	default:
		if len(text) > 32 {
			return fmt.Errorf("%w: %q… (%d bytes)", ErrUnknownStatus, text[:32], len(text))
		}
		return fmt.Errorf("%w: %q", ErrUnknownStatus, text)
	}
	return nil
}

// Key is an API key's record. It never holds the key string.
//
// JSON: {"id", "name", "owner_id", "scope" (an array of capability IDs;
// omitted when empty: the key is limited only by its owner's role),
// "display", "created_by", "created_at", "expires_at", "revoked_at"
// (omitted while not revoked), "last_used_at" (omitted if never used)};
// never the Hash.
type Key struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// OwnerID is the principal the key acts as: a user (its own key) or a
	// service principal.
	OwnerID string `json:"owner_id"`
	// Scope, if not empty, limits the key to these capabilities; the key
	// can never do more than its owner's role allows at the time of use.
	Scope []role.Capability `json:"scope,omitempty"`
	// Hash is the SHA-256 of the key's secret, 32 bytes (Secret.Hash);
	// compare a presented key with it with Secret.Matches.
	Hash []byte `json:"-"`
	// Display is the redacted form shown in listings: the prefix and the
	// last four characters, e.g. "acme_…x7qa" (Secret.Display).
	Display   string    `json:"display"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt is when the key was revoked; zero while it is not.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// LastUsedAt is when the key last authenticated, to within the
	// service's throttle (a minute by default); zero if never.
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// StatusAt returns the key's status at time now: Revoked once RevokedAt
// is set, whatever the time; otherwise Expired from ExpiresAt on (a key is
// expired at exactly ExpiresAt, and a zero ExpiresAt counts as expired:
// fail closed); otherwise Active.
func (k Key) StatusAt(now time.Time) Status {
	switch {
	case !k.RevokedAt.IsZero():
		return Revoked
	case !now.Before(k.ExpiresAt):
		return Expired
	}
	return Active
}

// Clone returns a copy of k that shares nothing with it.
func (k Key) Clone() Key {
	k.Scope = slices.Clone(k.Scope)
	k.Hash = slices.Clone(k.Hash)
	return k
}
