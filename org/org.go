// Package org holds the records of an organization's life (the
// organization, its members, its scope resources and their members, custom
// scope roles, audit events) and their own validation.
//
// Records are plain values. Their slices and maps are owned by whoever
// holds the record: stores copy them in and out (see Clone methods).
//
// # JSON
//
// Every record marshals with encoding/json to a stable, documented form
// that a host may put in its responses as it is, and unmarshals back from
// it (each type's doc lists its fields). One convention holds across the
// records of this package and of packages invite, apikey and policy:
//
//   - Field names are lower-case snake_case. A record's own ID is "id",
//     its own kind "kind" (a Member's is its principal's) and its name
//     "name"; a reference to another record says what it names:
//     "principal_id", "scope_kind" and "scope_id" (a scope resource),
//     "created_by" and "invited_by" (principals). Records nested in
//     another are named for their type: "organization", "member", "scope".
//   - Kinds and statuses are words: a Kind is "user" or
//     "service_principal" (see Kind.MarshalText). The zero value of such a
//     word type marshals as "" and "" unmarshals to it; an unknown value
//     fails to marshal and an unknown word fails to unmarshal.
//   - Times are RFC 3339 strings (time.Time's own encoding), omitted when
//     zero.
//   - Fields a record always has are always present, even when empty;
//     optional strings (documented as such) and empty slices and maps are
//     omitted. Booleans and numbers are always present.
//   - No JSON holds a secret or a hash: the hashes that invitations and API
//     keys keep are neither marshaled nor unmarshaled.
//
// AuditEvent keeps the names it has always had ("org", "actor", ...).
package org

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgauthz/orgauthz/role"
)

// Validation errors. Each error the Validate functions return matches one
// of them and names the value and what is wrong with it.
var (
	// ErrInvalidName: an organization, scope or other record's name is
	// empty, too long, has leading or trailing space, or holds a control,
	// format or other invisible character (see ValidateName).
	ErrInvalidName = errors.New("invalid name")
	// ErrInvalidID: a principal, organization or scope ID is empty, too long
	// or holds characters other than printable ASCII.
	ErrInvalidID = errors.New("invalid ID")
	// ErrInvalidSettings: too many settings, a key or value out of bounds,
	// or a key holding a control, format or other invisible character.
	ErrInvalidSettings = errors.New("invalid settings")
	// ErrInvalidTrial: an organization's trial edition is set without the
	// time its trial ends, or the time without the edition (see
	// ValidateTrial).
	ErrInvalidTrial = errors.New("invalid trial")
)

// Limits on record fields.
const (
	MaxNameLen         = 200 // characters (runes) in a name
	MaxIDLen           = 128 // bytes in an ID
	MaxSettings        = 64  // entries in Organization.Settings
	MaxSettingKeyLen   = 64  // bytes in a settings key
	MaxSettingValueLen = 4096
)

// Kind is the kind of a principal. It marshals to JSON and text as its
// String: "user" or "service_principal" (the zero Kind as "").
type Kind uint8

// The kinds of principal.
const (
	// User is a person.
	User Kind = iota + 1
	// ServicePrincipal is a non-human member, such as a CI system.
	ServicePrincipal
)

// String returns "user" or "service_principal", the words Kind marshals
// to, or "Kind(n)" for an unknown kind.
func (k Kind) String() string {
	switch k {
	case User:
		return "user"
	case ServicePrincipal:
		return "service_principal"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ErrUnknownKind: a Kind that is neither User, ServicePrincipal nor zero
// was marshaled, or text other than "user", "service_principal" and ""
// was unmarshaled into a Kind.
var ErrUnknownKind = errors.New("unknown principal kind")

// MarshalText returns "user", "service_principal", or "" for the zero
// Kind; it fails, matching ErrUnknownKind, for any other value.
func (k Kind) MarshalText() ([]byte, error) {
	switch k {
	case 0:
		return []byte{}, nil
	case User, ServicePrincipal:
		return []byte(k.String()), nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnknownKind, uint8(k))
}

// UnmarshalText sets k from "user", "service_principal", or "" (the zero
// Kind). Any other text fails, matching ErrUnknownKind, and leaves k
// unchanged; the words are matched exactly.
func (k *Kind) UnmarshalText(text []byte) error {
	switch string(text) {
	case "":
		*k = 0
	case "user":
		*k = User
	case "service_principal":
		*k = ServicePrincipal
	default:
		return fmt.Errorf("%w: %s", ErrUnknownKind, quoteWord(text))
	}
	return nil
}

// quoteWord quotes text for an error, cut short if long, so that an
// unmarshaled word can never flood a log.
func quoteWord(text []byte) string {
	const most = 32
	if len(text) > most {
		return fmt.Sprintf("%q… (%d bytes)", text[:most], len(text))
	}
	return fmt.Sprintf("%q", text)
}

// Principal is someone who acts: a user or a service principal, known by an
// ID the host assigns.
//
// JSON: {"id", "kind"}.
type Principal struct {
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
}

// Validate reports whether p has a valid ID and a known kind.
func (p Principal) Validate() error {
	if err := ValidateID("principal", p.ID); err != nil {
		return err
	}
	if p.Kind != User && p.Kind != ServicePrincipal {
		return fmt.Errorf("%w: principal %q has unknown kind %d", ErrInvalidID, p.ID, p.Kind)
	}
	return nil
}

// Organization is a customer's organization.
//
// JSON: {"id", "name", "scheme", "edition", "trial_edition" (optional),
// "trial_ends_at" (omitted when zero), "seat_override", "settings" (an
// object of strings; omitted when empty), "archived", "created_at",
// "updated_at"}.
type Organization struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Scheme string `json:"scheme"` // the scheme's ID
	// Edition is the ID of the organization's base edition: the one it is
	// on when it has no trial, and once its trial ends.
	Edition string `json:"edition"`
	// TrialEdition is the ID of the edition the organization is trying,
	// until TrialEndsAt; "" when it has no trial. It is optional.
	TrialEdition string `json:"trial_edition,omitempty"`
	// TrialStartedAt is when the trial started, which bounds how far it
	// may be extended; zero when it has no trial.
	TrialStartedAt time.Time `json:"trial_started_at,omitzero"`
	// TrialEndsAt is the first instant at which the trial no longer
	// applies: the trial edition applies before it, the base edition from
	// it on. It is zero when the organization has no trial, and set when
	// it has one (see ValidateTrial). Stores keep and return both fields
	// and never compare the time with a clock: deciding with the trial
	// edition or the base one is the service's business.
	TrialEndsAt time.Time `json:"trial_ends_at,omitzero"`
	// SeatOverride is the organization's own seat limit, where its edition
	// allows one; 0 means the edition's limit.
	SeatOverride int `json:"seat_override"`
	// Settings are the host's free-form settings.
	Settings map[string]string `json:"settings,omitempty"`
	// Archived organizations allow nothing until deleted.
	Archived  bool      `json:"archived"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Clone returns a copy of o that shares nothing with it.
func (o Organization) Clone() Organization {
	o.Settings = maps.Clone(o.Settings)
	return o
}

// Member is a principal's membership of an organization.
//
// JSON: {"principal_id", "kind", "name" (optional), "role", "external",
// "email" (optional), "joined_at"}.
type Member struct {
	PrincipalID string `json:"principal_id"`
	Kind        Kind   `json:"kind"`
	// Name is a display name; service principals have one, users need not.
	Name string `json:"name,omitempty"`
	// Role is the member's organization role. For an external member it is
	// the scheme's external role.
	Role string `json:"role"`
	// External marks a principal that belongs to scope resources of the
	// organization without being a member of it (AI Engine's External
	// User). External members take no seat.
	External bool `json:"external"`
	// Email is the normalized address the member was invited at, when it
	// joined by accepting an invitation; "" when it joined otherwise
	// (created the organization, was added or provisioned). Within an
	// organization no two members share a non-empty Email.
	Email    string    `json:"email,omitempty"`
	JoinedAt time.Time `json:"joined_at,omitzero"`
}

// Membership is one entry of a principal's organizations, what an
// organization switcher shows: the organization (its ID, name, scheme,
// edition and whether it is archived) and the principal's standing in it
// (its role, whether it is an external member, when it joined). It is
// compact on purpose, being read on every page view; the organization's
// whole record is Organization's.
//
// JSON: {"org_id", "org_name", "scheme", "edition", "archived", "role",
// "external", "joined_at"}.
type Membership struct {
	OrgID    string `json:"org_id"`
	OrgName  string `json:"org_name"`
	Scheme   string `json:"scheme"`
	Edition  string `json:"edition"`
	Archived bool   `json:"archived"`
	// Role is the principal's organization role: for an external member,
	// the scheme's external role.
	Role     string    `json:"role"`
	External bool      `json:"external"`
	JoinedAt time.Time `json:"joined_at,omitzero"`
}

// ScopeMembership is a principal's explicit membership of one scope
// resource, with the resource: one entry of a principal's projects,
// services or workspaces.
//
// JSON: {"scope" (a Scope), "member" (a ScopeMember)}.
type ScopeMembership struct {
	Scope  Scope       `json:"scope"`
	Member ScopeMember `json:"member"`
}

// Scope is a resource inside an organization that carries roles of its
// own: a project, a service, a workspace.
//
// JSON: {"kind", "id", "name", "created_by", "created_at"}.
type Scope struct {
	Kind      string    `json:"kind"` // the scheme's scope kind, e.g. "project"
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// ScopeMember is a principal's role on one scope resource.
//
// JSON: {"scope_kind", "scope_id", "principal_id", "role", "added_at"}.
type ScopeMember struct {
	Kind        string    `json:"scope_kind"` // the resource's scope kind
	ScopeID     string    `json:"scope_id"`
	PrincipalID string    `json:"principal_id"`
	Role        string    `json:"role"` // a scope role of the kind, or a custom role of the resource
	AddedAt     time.Time `json:"added_at,omitzero"`
}

// ScopeRole is a custom scope role defined on one resource (UiPath's custom
// service roles).
//
// JSON: {"scope_kind", "scope_id", "id", "name", "capabilities" (an array
// of capability IDs; omitted when empty), "created_by", "created_at"}.
type ScopeRole struct {
	Kind         string            `json:"scope_kind"` // the resource's scope kind
	ScopeID      string            `json:"scope_id"`
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Capabilities []role.Capability `json:"capabilities,omitempty"`
	CreatedBy    string            `json:"created_by"`
	CreatedAt    time.Time         `json:"created_at,omitzero"`
}

// Clone returns a copy of r that shares nothing with it.
func (r ScopeRole) Clone() ScopeRole {
	r.Capabilities = slices.Clone(r.Capabilities)
	return r
}

// AuditEvent records one change, written in the same transaction as the
// change. It never holds a secret.
//
// JSON: {"seq", "org", "time", "actor" (optional), "action", "target"
// (optional), "role_before" (optional), "role_after" (optional), "detail"
// (optional)}: the names it has always had (Service.ExportAudit writes
// them), which predate the convention for the other records.
type AuditEvent struct {
	// Seq numbers the organization's events from 1, in the order they were
	// written; the store assigns it.
	Seq   int64     `json:"seq"`
	OrgID string    `json:"org"`
	Time  time.Time `json:"time,omitzero"`
	// Actor is the principal who made the change; "" when the host made it
	// on its own authority.
	Actor string `json:"actor,omitempty"`
	// Action names the change, e.g. "member.role.change".
	Action string `json:"action"`
	// Target is what the change was made to: a principal ID, or
	// "kind/id" for a scope resource.
	Target     string `json:"target,omitempty"`
	RoleBefore string `json:"role_before,omitempty"`
	RoleAfter  string `json:"role_after,omitempty"`
	// Detail adds what else the change was about (an edition, a name).
	Detail string `json:"detail,omitempty"`
}

// ValidateName reports whether name is a valid name for the given kind of
// thing ("organization", "project", ...): 1 to MaxNameLen characters of
// valid UTF-8, no leading or trailing space, and none of the characters
// role.ForbiddenInName refuses: control characters, format characters
// (bidirectional overrides and isolates, zero-width spaces and joiners, the
// byte order mark, the soft hyphen, ...), line and paragraph separators,
// private-use characters, noncharacters and the other invisible
// (default-ignorable) characters such as the Hangul fillers. Emoji are
// allowed, but not emoji sequences joined by the zero-width joiner U+200D
// (family and profession emoji, the rainbow flag): refusing every format
// character is the safer rule, and such a name can be written with the
// single emoji instead.
//
// The error matches ErrInvalidName and names the first refused character
// by its code point (U+202E); the name is quoted with its invisible
// characters escaped, never shown raw.
func ValidateName(kind, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("%w: %s name is empty", ErrInvalidName, kind)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %s name %s is not valid UTF-8", ErrInvalidName, kind, role.QuoteName(name))
	case utf8.RuneCountInString(name) > MaxNameLen:
		return fmt.Errorf("%w: %s name is %d characters long, at most %d", ErrInvalidName, kind, utf8.RuneCountInString(name), MaxNameLen)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%w: %s name %s has leading or trailing space", ErrInvalidName, kind, role.QuoteName(name))
	}
	for _, r := range name {
		if why := role.ForbiddenInName(r); why != "" {
			return fmt.Errorf("%w: %s name %s has %s %U", ErrInvalidName, kind, role.QuoteName(name), why, r)
		}
	}
	return nil
}

// ValidateID reports whether id is a valid ID for the given kind of thing
// ("principal", "organization", ...): 1 to MaxIDLen bytes of printable
// ASCII other than space.
func ValidateID(kind, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: %s ID is empty", ErrInvalidID, kind)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: %s ID is %d bytes long, at most %d", ErrInvalidID, kind, len(id), MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return fmt.Errorf("%w: %s ID %q has byte %#x at %d (printable ASCII only, no space)", ErrInvalidID, kind, id, id[i], i)
		}
	}
	return nil
}

// ValidateSettings reports whether settings are within the limits: at
// most MaxSettings entries; keys of 1 to MaxSettingKeyLen bytes of valid
// UTF-8 holding none of the characters role.ForbiddenInName refuses (as in
// names: a key is shown to people, and two keys that look the same must be
// the same key); values of at most MaxSettingValueLen bytes of valid UTF-8,
// otherwise free-form (the host's own data: they may hold line breaks and
// any character).
func ValidateSettings(settings map[string]string) error {
	if len(settings) > MaxSettings {
		return fmt.Errorf("%w: %d entries, at most %d", ErrInvalidSettings, len(settings), MaxSettings)
	}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		v := settings[k]
		switch {
		case k == "" || len(k) > MaxSettingKeyLen:
			return fmt.Errorf("%w: key %s must be 1 to %d bytes", ErrInvalidSettings, role.QuoteName(k), MaxSettingKeyLen)
		case len(v) > MaxSettingValueLen:
			return fmt.Errorf("%w: value of %s is %d bytes, at most %d", ErrInvalidSettings, role.QuoteName(k), len(v), MaxSettingValueLen)
		case !utf8.ValidString(k) || !utf8.ValidString(v):
			return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidSettings, role.QuoteName(k))
		}
		for _, r := range k {
			if why := role.ForbiddenInName(r); why != "" {
				return fmt.Errorf("%w: key %s has %s %U", ErrInvalidSettings, role.QuoteName(k), why, r)
			}
		}
	}
	return nil
}

// ValidateTrial reports whether an organization's trial fields agree: a
// TrialEdition (an edition's ID, checked as IDs are) with a non-zero
// TrialEndsAt, or neither. It does not compare TrialEndsAt with the
// clock: a trial that has ended is still a valid record.
func ValidateTrial(edition string, endsAt time.Time) error {
	switch {
	case edition == "" && endsAt.IsZero():
		return nil
	case edition == "":
		return fmt.Errorf("%w: trial ends at %s but has no edition", ErrInvalidTrial, endsAt.UTC().Format(time.RFC3339Nano))
	case endsAt.IsZero():
		return fmt.Errorf("%w: trial of edition %q has no end", ErrInvalidTrial, edition)
	}
	if err := ValidateID("trial edition", edition); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTrial, err)
	}
	return nil
}
