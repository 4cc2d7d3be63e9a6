// Package orgauthz is the service a host holds to run its customers'
// organizations and answer "may this principal do this here?".
//
// A Service puts the pure rules of package policy over a store.Store: each
// operation is one store transaction that loads what it needs, asks policy,
// and writes the change together with its audit event, so an invariant
// checked (the last admin, the seat limit) still holds when the change is
// written. Check, CheckScope and CheckOwn answer permission questions on
// the hot path; they deny by default and fail closed.
//
// # Arguments, always in one order
//
// Every call about an organization takes the context, then the
// organization, then the principal it is about or who acts, then what:
//
//	svc.Check(ctx, orgID, principalID, capability)
//	svc.ChangeRole(ctx, orgID, actor, principalID, newRole)
//	svc.Host().RemoveMember(ctx, orgID, principalID)
//
// The host's own authority (support and back-office actions no member could
// make) is a separate value, Service.Host, never an empty actor.
//
// Every refusal is an error matching the sentinels below with errors.Is;
// its message names the rule. Bad input (an empty name, an unknown role or
// edition) gets a clear error and changes nothing.
package orgauthz

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/internal/strindex"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

// Errors. Most are the policy, store and org packages' own sentinels, named
// here so that one import finds them all; errors.Is matches either name.
var (
	// ErrPermissionDenied: the actor's role does not allow the operation.
	ErrPermissionDenied = policy.ErrPermissionDenied
	// ErrInvariant is matched by every invariant violation: ErrMinHolders
	// (the last admin or owner), ErrMaxHolders, ErrSeatLimit,
	// ErrImmutableRole, and edition refusals of a change.
	ErrInvariant     = policy.ErrInvariant
	ErrMinHolders    = policy.ErrMinHolders
	ErrMaxHolders    = policy.ErrMaxHolders
	ErrSeatLimit     = policy.ErrSeatLimit
	ErrImmutableRole = policy.ErrImmutableRole
	// ErrEditionGated: the edition does not offer the capability or role.
	ErrEditionGated = policy.ErrEditionGated
	// ErrNotMember: the principal is not a member of the organization (or
	// of the scope resource). Where the member an operation is about does
	// not exist (not the actor), the error also matches ErrNotFound.
	ErrNotMember = policy.ErrNotMember
	// ErrArchived: the organization is archived; it can only be read or
	// deleted.
	ErrArchived = policy.ErrArchived
	// ErrUnknownOrganization: there is no such organization.
	ErrUnknownOrganization = policy.ErrUnknownOrganization
	// ErrUnknownRole, ErrUnknownEdition, ErrUnknownScheme, ErrUnknownScope
	// and ErrUnknownCapability: the input names something the scheme does
	// not define.
	ErrUnknownRole       = policy.ErrUnknownRole
	ErrUnknownEdition    = policy.ErrUnknownEdition
	ErrUnknownScheme     = policy.ErrUnknownScheme
	ErrUnknownScope      = policy.ErrUnknownScope
	ErrUnknownCapability = policy.ErrUnknownCapability
	// ErrNotFound: a scope resource, custom role or member asked for does
	// not exist. ErrExists: it exists already.
	ErrNotFound = store.ErrNotFound
	ErrExists   = store.ErrExists
	// ErrInvalidName, ErrInvalidID and ErrInvalidSettings: malformed input.
	ErrInvalidName     = org.ErrInvalidName
	ErrInvalidID       = org.ErrInvalidID
	ErrInvalidSettings = org.ErrInvalidSettings
	// ErrNotOffered: the scheme offers no such action (a direct add in
	// Wherobots, which adds members by invitation only; an ownership
	// transfer in a scheme without owners). It also matches
	// ErrPermissionDenied.
	ErrNotOffered = policy.ErrNotOffered
	// ErrInvalidTransfer: an ownership transfer that hands nothing over
	// (see TransferOwnership).
	ErrInvalidTransfer = policy.ErrInvalidTransfer
	// ErrAlreadyMember: the principal is a member already, or an address
	// is the one a member joined with.
	ErrAlreadyMember = errors.New("already a member")
	// ErrInvalidArgument: another argument is out of range (a page size, a
	// seat override).
	ErrInvalidArgument = errors.New("invalid argument")
)

// Options configure a Service. The zero value is not enough: at least one
// scheme is required.
type Options struct {
	// Schemes are the schemes organizations may use, by ID.
	Schemes []*edition.Scheme
	// Clock returns the current time, for records and audit events; nil
	// means time.Now.
	Clock func() time.Time
	// NewID returns a fresh ID for organizations and scope resources that
	// the caller does not name; nil means 128 random bits in base32.
	NewID func() string
	// InvitationTTL is how long an invitation stays valid: from
	// MinInvitationTTL (1 hour) to MaxInvitationTTL (30 days); 0 means
	// DefaultInvitationTTL (7 days).
	InvitationTTL time.Duration
	// MaxBulkInvite caps the addresses of one BulkInvite; 0 means
	// DefaultMaxBulkInvite (20).
	MaxBulkInvite int
	// AcceptAnyAddress turns off the check that the principal accepting an
	// invitation has the invited address as its verified address. Turn it
	// off only where the host has already bound the token to the invitee.
	AcceptAnyAddress bool
	// KeyPrefix is the prefix of the API keys the service issues and
	// accepts (see apikey.ValidatePrefix); "" means DefaultKeyPrefix.
	KeyPrefix string
	// MaxKeyExpiry, if set, caps the lifetime of new API keys.
	MaxKeyExpiry time.Duration
	// KeyTouch is how often, at most, a key's last-used time is written;
	// 0 means DefaultKeyTouch (a minute).
	KeyTouch time.Duration
}

// Service runs organizations over a store. It is safe for concurrent use.
type Service struct {
	st        store.Store
	schemes   []*edition.Scheme
	schemeIx  *strindex.Index
	codes     codeCache // see resolve
	clock     func() time.Time
	newID     func() string
	ttl       time.Duration
	maxBulk   int
	acceptAny bool

	keyPrefix    string
	maxKeyExpiry time.Duration
	keyTouch     time.Duration
}

// New returns a Service over st. It refuses a nil store, no scheme, a nil
// scheme, two schemes with one ID, and options out of range.
func New(st store.Store, opts Options) (*Service, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidArgument)
	}
	ttl := opts.InvitationTTL
	switch {
	case ttl == 0:
		ttl = DefaultInvitationTTL
	case ttl < MinInvitationTTL || ttl > MaxInvitationTTL:
		return nil, fmt.Errorf("%w: InvitationTTL %v, want %v to %v", ErrInvalidArgument, ttl, MinInvitationTTL, MaxInvitationTTL)
	}
	maxBulk := opts.MaxBulkInvite
	switch {
	case maxBulk == 0:
		maxBulk = DefaultMaxBulkInvite
	case maxBulk < 0:
		return nil, fmt.Errorf("%w: MaxBulkInvite %d", ErrInvalidArgument, maxBulk)
	}
	if len(opts.Schemes) == 0 {
		return nil, fmt.Errorf("%w: no scheme: give Options.Schemes at least one", ErrUnknownScheme)
	}
	s := &Service{st: st, clock: opts.Clock, newID: opts.NewID, ttl: ttl, maxBulk: maxBulk, acceptAny: opts.AcceptAnyAddress,
		keyPrefix: opts.KeyPrefix, maxKeyExpiry: opts.MaxKeyExpiry, keyTouch: opts.KeyTouch}
	if s.keyPrefix == "" {
		s.keyPrefix = DefaultKeyPrefix
	}
	if err := apikey.ValidatePrefix(s.keyPrefix); err != nil {
		return nil, fmt.Errorf("%w: KeyPrefix: %w", ErrInvalidArgument, err)
	}
	if s.maxKeyExpiry < 0 || s.keyTouch < 0 {
		return nil, fmt.Errorf("%w: negative MaxKeyExpiry or KeyTouch", ErrInvalidArgument)
	}
	if s.keyTouch == 0 {
		s.keyTouch = DefaultKeyTouch
	}
	ids := make([]string, len(opts.Schemes))
	for i, sch := range opts.Schemes {
		if sch == nil {
			return nil, fmt.Errorf("%w: Options.Schemes[%d] is nil", ErrUnknownScheme, i)
		}
		for _, prev := range ids[:i] {
			if prev == sch.ID() {
				return nil, fmt.Errorf("%w: two schemes with ID %q", ErrExists, sch.ID())
			}
		}
		ids[i] = sch.ID()
	}
	s.schemes = append([]*edition.Scheme(nil), opts.Schemes...)
	s.schemeIx = strindex.New(ids)
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.newID == nil {
		s.newID = randomID
	}
	return s, nil
}

// Schemes returns the schemes the service was given, in the order given.
// The slice is new on each call.
func (s *Service) Schemes() []*edition.Scheme { return slices.Clone(s.schemes) }

// Scheme returns the scheme with the given ID.
func (s *Service) Scheme(id string) (*edition.Scheme, bool) {
	i, ok := s.schemeIx.Lookup(id)
	if !ok {
		return nil, false
	}
	return s.schemes[i], true
}

func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// Now returns the time at the service's clock (Options.Clock), in UTC, to
// the microsecond: the time statuses of invitations and keys are read at.
func (s *Service) Now() time.Time { return s.now() }

// KeyPrefix returns the prefix of the service's API keys
// (Options.KeyPrefix, or DefaultKeyPrefix).
func (s *Service) KeyPrefix() string { return s.keyPrefix }

func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("orgauthz: crypto/rand failed: " + err.Error())
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// state is what an operation loads before asking policy: the organization,
// its scheme and edition, and the acting member.
type state struct {
	o   org.Organization
	sch *edition.Scheme
	// edID and ed are the edition that decides: the trial's while it
	// runs, else the organization's own (o.Edition, the base edition).
	edID  string
	ed    *edition.Edition
	actor org.Member
	// tally, when set, holds the head counts as a bulk operation's
	// changes left them (see bulk.go); bulk collects the invitations it
	// creates.
	tally *tally
	bulk  *bulkInvites
}

// decide asks whether the actor holds capability c ("" means nobody may).
func (st *state) decide(c role.Capability) error {
	if c == "" {
		return fmt.Errorf("%w: scheme %q offers no capability for this operation", ErrPermissionDenied, st.sch.ID())
	}
	return st.actorDecision(c).Err()
}

func (st *state) actorDecision(c role.Capability) policy.Decision {
	return policy.Decide(st.sch, st.edID, st.actor.Role, c)
}

// load reads the organization, its scheme and the actor. A mutating
// operation is refused on an archived organization.
func (s *Service) load(ctx context.Context, r store.Reader, orgID, actorID string, mutating bool) (*state, error) {
	st, err := s.loadOrg(ctx, r, orgID, mutating)
	if err != nil {
		return nil, err
	}
	m, err := r.Member(ctx, actorID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: principal %q is not a member of organization %q", ErrNotMember, actorID, orgID)
		}
		return nil, err
	}
	st.actor = m
	return st, nil
}

// loadOrg reads the organization and its scheme, for the host: the state
// it returns has no actor.
func (s *Service) loadOrg(ctx context.Context, r store.Reader, orgID string, mutating bool) (*state, error) {
	o, err := r.Organization(ctx)
	if err != nil {
		return nil, s.orgErr(orgID, err)
	}
	sch, ok := s.Scheme(o.Scheme)
	if !ok {
		return nil, fmt.Errorf("%w: organization %q uses scheme %q, which this service was not given", ErrUnknownScheme, orgID, o.Scheme)
	}
	st, err := s.stateOf(o, sch)
	if err != nil {
		return nil, err
	}
	if mutating && o.Archived {
		return nil, fmt.Errorf("%w: organization %q can only be read or deleted", ErrArchived, orgID)
	}
	return st, nil
}

// stateOf returns the state of organization o, of scheme sch, with the
// edition that decides now (see trials.go).
func (s *Service) stateOf(o org.Organization, sch *edition.Scheme) (*state, error) {
	id := EffectiveEdition(o, s.now())
	e, ok := sch.Edition(id)
	if !ok {
		return nil, fmt.Errorf("%w: organization %q has edition %q, which scheme %q does not define", ErrUnknownEdition, o.ID, id, sch.ID())
	}
	return &state{o: o, sch: sch, edID: id, ed: e}, nil
}

func (s *Service) orgErr(orgID string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w %q", ErrUnknownOrganization, orgID)
	}
	return err
}

// update runs fn in a transaction on orgID after loading the state for the
// actor; archived organizations are refused.
func (s *Service) update(ctx context.Context, orgID, actorID string, fn func(ctx context.Context, tx store.Tx, st *state) error) error {
	return s.updateReading(ctx, orgID, actorID, nil, fn)
}

// updateReading is update, naming the reads fn is about to make beyond the
// actor (see prefetch.go).
func (s *Service) updateReading(ctx context.Context, orgID, actorID string, rs reads, fn func(ctx context.Context, tx store.Tx, st *state) error) error {
	if err := org.ValidateID("organization", orgID); err != nil {
		return err
	}
	return store.UpdateWith(ctx, s.st, orgID, readsMember(actorID).and(rs).forStore(ctx), func(ctx context.Context, tx store.Tx) error {
		st, err := s.load(ctx, tx, orgID, actorID, true)
		if err != nil {
			return err
		}
		return fn(ctx, tx, st)
	})
}

// view runs fn in a read-only view of orgID after loading the state for the
// actor.
func (s *Service) view(ctx context.Context, orgID, actorID string, fn func(ctx context.Context, r store.Reader, st *state) error) error {
	return s.viewReading(ctx, orgID, actorID, nil, fn)
}

// viewReading is view, naming the reads fn is about to make beyond the
// actor.
func (s *Service) viewReading(ctx context.Context, orgID, actorID string, rs reads, fn func(ctx context.Context, r store.Reader, st *state) error) error {
	if err := org.ValidateID("organization", orgID); err != nil {
		return err
	}
	return store.ViewWith(ctx, s.st, orgID, readsMember(actorID).and(rs).forStore(ctx), func(ctx context.Context, r store.Reader) error {
		st, err := s.load(ctx, r, orgID, actorID, false)
		if err != nil {
			return err
		}
		return fn(ctx, r, st)
	})
}

// hostUpdate is update on the host's authority: the state has no actor
// (its audit events have none), and fn applies the host's rules itself.
func (s *Service) hostUpdate(ctx context.Context, orgID string, fn func(ctx context.Context, tx store.Tx, st *state) error) error {
	return s.hostUpdateReading(ctx, orgID, nil, fn)
}

// hostUpdateReading is hostUpdate, naming the reads fn is about to make.
func (s *Service) hostUpdateReading(ctx context.Context, orgID string, rs reads, fn func(ctx context.Context, tx store.Tx, st *state) error) error {
	if err := org.ValidateID("organization", orgID); err != nil {
		return err
	}
	return store.UpdateWith(ctx, s.st, orgID, rs.forStore(ctx), func(ctx context.Context, tx store.Tx) error {
		st, err := s.loadOrg(ctx, tx, orgID, true)
		if err != nil {
			return err
		}
		return fn(ctx, tx, st)
	})
}

// hostView is view on the host's authority.
func (s *Service) hostView(ctx context.Context, orgID string, fn func(ctx context.Context, r store.Reader, st *state) error) error {
	return s.hostViewReading(ctx, orgID, nil, fn)
}

// hostViewReading is hostView, naming the reads fn is about to make.
func (s *Service) hostViewReading(ctx context.Context, orgID string, rs reads, fn func(ctx context.Context, r store.Reader, st *state) error) error {
	if err := org.ValidateID("organization", orgID); err != nil {
		return err
	}
	return store.ViewWith(ctx, s.st, orgID, rs.forStore(ctx), func(ctx context.Context, r store.Reader) error {
		st, err := s.loadOrg(ctx, r, orgID, false)
		if err != nil {
			return err
		}
		return fn(ctx, r, st)
	})
}

// The audit actions the service writes.
const (
	AuditOrganizationCreate  = "organization.create"
	AuditOrganizationUpdate  = "organization.update"
	AuditOrganizationEdition = "organization.edition"
	AuditOrganizationSeats   = "organization.seats"
	AuditOrganizationArchive = "organization.archive"
	AuditMemberAdd           = "member.add"
	AuditMemberRemove        = "member.remove"
	AuditMemberLeave         = "member.leave"
	AuditMemberRole          = "member.role"
	AuditScopeCreate         = "scope.create"
	AuditScopeDelete         = "scope.delete"
	AuditScopeMemberAdd      = "scope.member.add"
	AuditScopeMemberRole     = "scope.member.role"
	AuditScopeMemberRemove   = "scope.member.remove"
	AuditScopeRoleDefine     = "scope.role.define"
)

func (s *Service) audit(ctx context.Context, tx store.Tx, e org.AuditEvent) error {
	e.Time = s.now()
	_, err := tx.AppendAudit(ctx, e)
	return err
}

// seatRule says which seats a change competes for.
type seatRule uint8

const (
	// reserved: members and pending invitations, each of which holds a
	// seat. Adding, inviting and changing limits compete for these.
	reserved seatRule = iota
	// membersOnly: members alone. Accepting an invitation competes for
	// these: its own seat was reserved, and the reservations of other
	// invitations do not block it (they only stop new invitations).
	membersOnly
)

// counts returns the head counts in the form policy checks them, with the
// seats in use counted by rule: the members who are not external, plus
// (reserved) the pending invitations that have not expired.
func (s *Service) counts(ctx context.Context, r store.Reader, rule seatRule) (policy.Counts, error) {
	c, pending, err := s.heads(ctx, r, rule == reserved)
	if err != nil {
		return policy.Counts{}, err
	}
	return policy.Counts{Seats: c.Members + pending, Holders: c.Roles}, nil
}

// heads returns the head counts and, when withPending, the pending
// invitations that have not expired.
func (s *Service) heads(ctx context.Context, r store.Reader, withPending bool) (store.Counts, int, error) {
	c, err := r.Counts(ctx)
	if err != nil || !withPending {
		return c, 0, err
	}
	pending, err := store.CountPending(ctx, r, s.now())
	if err != nil {
		return store.Counts{}, 0, err
	}
	return c, pending, nil
}
