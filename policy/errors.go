package policy

import (
	"errors"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

// Sentinel errors. Every error this package returns matches one or more of
// them with errors.Is; messages name the rule and the values involved.
var (
	// ErrPermissionDenied: the actor's role does not allow the operation
	// (it lacks the capability, or the target or role is beyond its reach).
	ErrPermissionDenied = errors.New("permission denied")
	// ErrEditionGated: the organization's edition does not offer the
	// capability or role. Capability decisions refused this way also match
	// ErrPermissionDenied.
	ErrEditionGated = errors.New("not offered in this edition")
	// ErrNotAssignable: the role is a standing (the external role) that is
	// never given, invited or managed.
	ErrNotAssignable = errors.New("role is not assignable")
	// ErrInvariant is matched by every invariant violation below.
	ErrInvariant = errors.New("invariant violated")
	// ErrMinHolders: the change would leave fewer holders of a role than
	// its minimum (the last admin or owner).
	ErrMinHolders = errors.New("too few holders of role")
	// ErrMaxHolders: the change would give a role more holders than its
	// maximum.
	ErrMaxHolders = errors.New("too many holders of role")
	// ErrSeatLimit: the change would take more seats than the edition (or
	// the organization's override) allows.
	ErrSeatLimit = errors.New("seat limit reached")
	// ErrImmutableRole: the role can never be given, taken or removed.
	ErrImmutableRole = errors.New("immutable role")
	// ErrSeatOverride: the seat override is negative, or the edition's
	// limit cannot be overridden.
	ErrSeatOverride = errors.New("invalid seat override")
	// ErrNotOffered: the scheme offers no such action at all (Wherobots
	// adds members only by invitation, so it offers no direct add); no
	// role or edition would allow it. It also matches ErrPermissionDenied.
	ErrNotOffered = errors.New("action not offered by the scheme")
	// ErrInvalidTransfer: an ownership transfer names a new owner that
	// holds the owner role already, or a role to step down to that is the
	// owner role or the external standing (see CheckTransfer).
	ErrInvalidTransfer = errors.New("invalid ownership transfer")
	// ErrNotOwner: the capability acts on one's own things only.
	ErrNotOwner = errors.New("not the owner")
	// ErrNotMember: the principal is not a member of the organization (or
	// scope).
	ErrNotMember = errors.New("not a member")
	// ErrArchived: the organization is archived.
	ErrArchived = errors.New("organization archived")
	// ErrUnknownOrganization: there is no such organization.
	ErrUnknownOrganization = errors.New("unknown organization")
	// ErrUnavailable: a decision could not be made because the store failed
	// or the context ended; the answer is deny.
	ErrUnavailable = errors.New("decision unavailable")
)

// The unknown-input sentinels live with the types they are about; they are
// listed here so one import finds them all.
var (
	// ErrUnknownRole is role.ErrUnknownRole.
	ErrUnknownRole = role.ErrUnknownRole
	// ErrUnknownCapability is role.ErrUnknownCapability.
	ErrUnknownCapability = role.ErrUnknownCapability
	// ErrUnknownEdition is edition.ErrUnknownEdition.
	ErrUnknownEdition = edition.ErrUnknownEdition
	// ErrUnknownScope is edition.ErrUnknownScope.
	ErrUnknownScope = edition.ErrUnknownScope
	// ErrUnknownScheme is edition.ErrUnknownScheme.
	ErrUnknownScheme = edition.ErrUnknownScheme
)
