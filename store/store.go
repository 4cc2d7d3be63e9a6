// Package store is the persistence contract of orgauthz: what a store keeps
// (the records of package org) and how it keeps them consistent.
//
// The organization is the unit of consistency. Every change runs in one
// transaction that holds its organization exclusively (Store.Update), so an
// invariant checked inside it (the last admin, the seat limit) still holds
// when the change is written. Reads run in read-only views (Store.View);
// the hot paths of permission checks read through Store.Access and
// Store.ScopeAccess, and that of API keys through Store.KeyAccess.
//
// Stores decide nothing: every rule lives in package policy and is applied
// by the service in the root package. A store only keeps records, keeps
// them apart per organization, and keeps its promises below.
//
// # The contract every store keeps
//
//   - Errors: a missing record is ErrNotFound, a duplicate ErrExists, a
//     closed store ErrClosed, all matched with errors.Is and wrapped with
//     what was missing (except where a method allows the not-found
//     sentinel itself, unwrapped: Access, ScopeAccess, InvitationToken,
//     KeyAccess). A
//     context that is done fails the call with an error that matches
//     ctx.Err(). Backend errors are translated: no caller needs the
//     backend's packages to read one.
//   - Copies: records go in and come out by value, with their slices and
//     maps (an invitation's TokenHash, a key's Scope and Hash) copied; changing a record after passing it in, or one returned,
//     changes nothing stored. One exception: the Capabilities of a
//     ScopeAccess are shared, read-only, with the store (and its cache),
//     so that a scope check allocates nothing; a caller must not change
//     them.
//   - Times are kept to the microsecond, in UTC: a time read back equals
//     the time written truncated to microseconds.
//   - Concurrency: every method of Store may be called concurrently.
//     Updates of one organization are serialized; updates of different
//     organizations proceed independently. A Tx or Reader is valid only
//     inside the function it was passed to, and only on that goroutine.
//   - Listings are iter.Seq2 values, single use, in the order each method
//     states (IDs compare as bytes, as Go compares strings); an error ends
//     the listing (yielded once, with a zero record).
//     Listings take an "after" key and start just past it, so a caller
//     pages by passing the last key it saw.
//
// # What a store may do better
//
// A store whose every statement costs a round trip (a database over a
// network) may implement optional interfaces, which the service uses
// through the functions beside them, and which change no result:
// PrefetchingStore (UpdateWith, ViewWith) and Prefetcher (Prefetch) make
// the reads a function is about to make together; BulkCreator
// (CreateInvitations) creates many invitations at once; PendingCounter
// (CountPending) counts pending invitations without listing them;
// InvitationFinder (FindInvitation) reads an invitation with its
// organization in one lookup; TrialLister (TrialsEnding) lists the
// organizations whose trials end in a window, by an index of its own. Every function falls back to the methods of
// Store, Reader and Tx, so a store implementing none of them is complete.
//
// The package storetest asserts this contract; every store runs it.
package store

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
)

// Sentinel errors of the contract.
var (
	// ErrNotFound: the record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: a record with the same key already exists.
	ErrExists = errors.New("already exists")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
)

// Store keeps organizations and everything in them.
//
// All methods may be called concurrently, and fail with ErrClosed after
// Close.
type Store interface {
	// Update runs fn in a read-write transaction on organization orgID,
	// which it holds exclusively until fn returns: other Updates of the same
	// organization wait, Updates of other organizations do not. If fn
	// returns nil (and ctx is not done) the changes are committed together;
	// if fn returns an error, panics, or ctx is done, none of them is, and
	// Update returns fn's error (or ctx.Err()) as it is, unwrapped, so the
	// caller's own sentinels survive. The organization need not exist yet:
	// fn may create it with Tx.CreateOrganization.
	Update(ctx context.Context, orgID string, fn func(ctx context.Context, tx Tx) error) error

	// View runs fn with a consistent read-only view of organization orgID:
	// fn sees either all of a concurrent Update's changes or none. It
	// returns fn's error as it is.
	View(ctx context.Context, orgID string, fn func(ctx context.Context, r Reader) error) error

	// Access returns what a permission check needs to know about principal
	// principalID in organization orgID, without a transaction. It fails
	// with an error matching ErrOrganizationNotFound when the organization
	// does not exist, and ErrMemberNotFound when the principal is not a
	// member of it (both match ErrNotFound); it may return these sentinels
	// themselves, so that a denial costs no allocation. It is the hot path:
	// a store should answer it from memory or a cache, and must never
	// answer from a state older than the caller's own last committed Update.
	Access(ctx context.Context, orgID, principalID string) (Access, error)

	// ScopeAccess returns, in one read, what a check of a scope
	// capability of principal principalID on scope resource (kind,
	// scopeID) of organization orgID needs: the principal's Access, whether
	// the resource exists, the principal's explicit role on it, and, when
	// that role is a custom role of the resource, its capabilities. It
	// fails as Access fails, with the same sentinels (which it may return
	// themselves, unwrapped), and keeps Access's promises: a hot path,
	// answered from memory or a cache, never from a state older than the
	// caller's own last committed Update. The answer is consistent: all of
	// it reflects one committed state. Its Capabilities are shared
	// read-only (see ScopeAccess).
	ScopeAccess(ctx context.Context, orgID, principalID, kind, scopeID string) (ScopeAccess, error)

	// Organizations lists the organizations, ordered by ID, starting after
	// the given ID ("" for the first).
	Organizations(ctx context.Context, after string) iter.Seq2[org.Organization, error]

	// Memberships lists the organizations principal principalID belongs
	// to, as a member or an external one, each with the principal's member
	// record, ordered by organization ID, starting after the given one
	// ("" for the first); as last committed. A principal that belongs to
	// none lists nothing. A store keeps an index by principal, so that a
	// page costs the same whatever the number of organizations and
	// members (an organization switcher asks it on every page view).
	Memberships(ctx context.Context, principalID, after string) iter.Seq2[org.Membership, error]

	// InvitationsTo lists the invitations addressed to email whose stored
	// status is Pending (expired or not), across organizations, each with
	// its organization's record, ordered by invitation ID, starting after
	// the given one; as last committed. The address is compared byte for
	// byte: normalizing it is the caller's business. A store keeps an
	// index by address.
	InvitationsTo(ctx context.Context, email, after string) iter.Seq2[AddressedInvitation, error]

	// InvitationToken returns, for invitation id, the organization that
	// holds it and the hash of its token's secret (its TokenHash), both as
	// last committed, in one lookup, or an error matching ErrNotFound: an
	// invitation created by an Update still running, or by one that
	// failed, is not found; one whose token a running Update rotates
	// answers with the hash it had before; one deleted with its
	// organization is found until that Update commits. Invitation IDs are
	// unique across the store, so a token alone finds its organization.
	//
	// It lets the service check a token's secret before it takes the
	// organization's lock, so it must not wait for a running Update of
	// the organization, and it should cost alike whether the invitation
	// is found or not: a store may return ErrNotFound itself, unwrapped,
	// so that an unknown ID allocates no error, as a known one allocates
	// no copy of its hash (ErrClosed and a done context are wrapped as
	// usual).
	InvitationToken(ctx context.Context, id string) (InvitationToken, error)

	// KeyAccess returns what authenticating API key id needs, as last
	// committed, without a transaction: the key, its organization, and its
	// owner's membership. It fails with an error matching ErrNotFound when
	// no organization holds the key; it may return ErrNotFound itself,
	// unwrapped, so that an unknown key ID costs no allocation, as a wrong
	// secret for a known one costs none. It is a hot path, like Access: a
	// store may answer it from a cache, under Access's promise (never
	// from a state older than the caller's own last committed Update, nor
	// one older than the caller's own last TouchAPIKey of the key); a
	// LastUsedAt written by another process's TouchAPIKey may then be seen
	// late.
	KeyAccess(ctx context.Context, id string) (KeyAccess, error)

	// TouchAPIKey records that key id was used at time t: its LastUsedAt
	// becomes t if t is later. It is not a transaction and writes no audit
	// event; ErrNotFound if no organization holds the key.
	TouchAPIKey(ctx context.Context, id string, t time.Time) error

	// Close releases the store. Calls after Close fail with ErrClosed;
	// Close itself is idempotent.
	Close() error
}

// ErrOrganizationNotFound and ErrMemberNotFound refine ErrNotFound for
// Access and for the service, which must tell "no such organization" from
// "not a member". Both also match ErrNotFound.
var (
	ErrOrganizationNotFound = &notFound{"organization not found"}
	ErrMemberNotFound       = &notFound{"member not found"}
)

type notFound struct{ msg string }

func (e *notFound) Error() string { return e.msg }

// Is makes the refinements match ErrNotFound.
func (e *notFound) Is(target error) bool { return target == ErrNotFound }

// Access is what a permission check needs: the organization's scheme,
// editions and standing, and the principal's role in it.
type Access struct {
	Scheme string
	// Edition is the organization's base edition (org.Organization's).
	Edition string
	// TrialEdition and TrialEndsAt are the organization's trial, as its
	// record holds it (org.Organization's fields): the edition on trial
	// ("" for none) and the first instant it no longer applies (zero for
	// none). The store never compares TrialEndsAt with a clock: the
	// caller decides which edition applies.
	TrialEdition string
	TrialEndsAt  time.Time
	Archived     bool
	Role         string
	Kind         org.Kind
	External     bool
	// Code, unless 0, stands for the triple (Scheme, Edition, Role): a
	// store gives one triple one code for as long as it is open, and two
	// triples two codes, so that a caller may remember what it derives
	// from a triple (the scheme, edition and role it resolves the strings
	// to) under the code, and skip the lookups of the strings next time.
	// A store need not give codes; 0 says it gave none. A store gives
	// none (Code is 0) whenever TrialEdition is not "": the code stands
	// for the base triple only, so that a caller's cache keyed by codes
	// never takes what it derived for an organization on trial for one
	// on the base edition, or the other way round.
	Code uint64
}

// ScopeAccess is what a scope permission check needs (Store.ScopeAccess):
// the principal's standing in the organization and on one scope resource.
type ScopeAccess struct {
	// Access is the principal's Access in the organization.
	Access Access
	// ScopeFound says the scope resource exists. The fields below are
	// zero when it does not.
	ScopeFound bool
	// ScopeMember says the principal holds an explicit role on the
	// resource, ScopeRole.
	ScopeMember bool
	ScopeRole   string
	// CustomRole says ScopeRole names a custom role of the resource,
	// whose capabilities are Capabilities (nil when it has none). The
	// slice is shared with the store, read-only: it is the one exception
	// to the copy rule, so that a scope check allocates nothing; a caller
	// must not change it. A store never changes it either: a change of
	// the role stores a new slice.
	CustomRole   bool
	Capabilities []role.Capability
}

// KeyAccess is what authenticating an API key needs.
type KeyAccess struct {
	OrgID string
	// KeyID, OwnerID, Hash, Scope, ExpiresAt, RevokedAt and LastUsedAt are
	// the key's. Scope is a copy (nil when the key has no scope).
	KeyID      string
	OwnerID    string
	Hash       [32]byte
	Scope      []role.Capability
	ExpiresAt  time.Time
	RevokedAt  time.Time
	LastUsedAt time.Time
	// Owner is the owner's Access, valid when OwnerFound: false when the
	// owner is no longer a member.
	Owner      Access
	OwnerFound bool
}

// InvitationToken is what checking an invitation token needs before its
// organization is locked: where the invitation is, and the hash its
// token's secret must match. It holds the hash by value, so that reading
// it allocates nothing.
type InvitationToken struct {
	// OrgID is the organization that holds the invitation.
	OrgID string
	// Hash is the invitation's TokenHash, which invite.Token.Hash makes
	// 32 bytes long (a SHA-256), and HashOK reports that it is. A stored
	// TokenHash of any other length, or none, which no token can match,
	// gives HashOK false and a zero Hash: it is never truncated or padded.
	Hash   [32]byte
	HashOK bool
}

// AddressedInvitation is one entry of InvitationsTo: a pending invitation
// and the organization that holds it.
type AddressedInvitation struct {
	Organization org.Organization
	Invitation   invite.Invitation
}

// Counts are an organization's head counts.
type Counts struct {
	// Members counts members that are not external.
	Members int
	// External counts external members.
	External int
	// Roles counts, by role ID, the members (external ones included, under
	// the external role) holding each role.
	Roles map[string]int
}

// AuditFilter selects audit events. Zero fields select everything.
type AuditFilter struct {
	// Since and Until bound the event time: Since <= Time < Until.
	Since, Until time.Time
	// Actor, if set, selects the events of one actor.
	Actor string
	// AfterSeq starts the listing just past this sequence number.
	AfterSeq int64
}

// Reader reads one organization. Every method fails with an error matching
// ErrOrganizationNotFound (and ErrNotFound) when the organization does not
// exist, unless it says otherwise.
type Reader interface {
	// Organization returns the organization.
	Organization(ctx context.Context) (org.Organization, error)
	// Member returns the member with the given principal ID, or an error
	// matching ErrMemberNotFound.
	Member(ctx context.Context, principalID string) (org.Member, error)
	// Members lists the members (external ones included), ordered by
	// principal ID, starting after the given one.
	Members(ctx context.Context, after string) iter.Seq2[org.Member, error]
	// MemberByEmail returns the member whose Email is email (compared byte
	// for byte; never "": an empty address finds no one), or an error
	// matching ErrMemberNotFound.
	MemberByEmail(ctx context.Context, email string) (org.Member, error)
	// ServicePrincipals lists the members of kind org.ServicePrincipal,
	// ordered by principal ID, starting after the given one, without
	// stepping over the other members.
	ServicePrincipals(ctx context.Context, after string) iter.Seq2[org.Member, error]
	// Counts returns the head counts.
	Counts(ctx context.Context) (Counts, error)

	// Scope returns a scope resource, or an error matching ErrNotFound.
	Scope(ctx context.Context, kind, id string) (org.Scope, error)
	// Scopes lists the scope resources of a kind, ordered by ID, starting
	// after the given one.
	Scopes(ctx context.Context, kind, after string) iter.Seq2[org.Scope, error]
	// ScopeMember returns a principal's membership of a scope resource, or
	// an error matching ErrNotFound.
	ScopeMember(ctx context.Context, kind, scopeID, principalID string) (org.ScopeMember, error)
	// ScopeMembers lists a resource's members, ordered by principal ID,
	// starting after the given one. A missing resource lists nothing.
	ScopeMembers(ctx context.Context, kind, scopeID, after string) iter.Seq2[org.ScopeMember, error]
	// PrincipalScopes lists every scope membership of one principal in the
	// organization, ordered by kind, then scope ID.
	PrincipalScopes(ctx context.Context, principalID string) iter.Seq2[org.ScopeMember, error]
	// MemberScopes lists one principal's explicit memberships of the
	// resources of one kind, each with its resource, ordered by scope ID,
	// starting after the given one, without stepping over the principal's
	// memberships of other kinds or other principals' ("my projects").
	MemberScopes(ctx context.Context, principalID, kind, after string) iter.Seq2[org.ScopeMembership, error]
	// ScopeRole returns a custom scope role, or an error matching
	// ErrNotFound.
	ScopeRole(ctx context.Context, kind, scopeID, roleID string) (org.ScopeRole, error)
	// ScopeRoles lists a resource's custom roles, ordered by role ID.
	ScopeRoles(ctx context.Context, kind, scopeID string) iter.Seq2[org.ScopeRole, error]

	// Audit lists the audit events the filter selects, ordered by Seq.
	Audit(ctx context.Context, f AuditFilter) iter.Seq2[org.AuditEvent, error]

	// Invitation returns an invitation of the organization, or an error
	// matching ErrNotFound.
	Invitation(ctx context.Context, id string) (invite.Invitation, error)
	// PendingInvitation returns the organization's invitation to address
	// email whose stored status is Pending (expired or not), or an error
	// matching ErrNotFound. There is at most one.
	PendingInvitation(ctx context.Context, email string) (invite.Invitation, error)
	// Invitations lists the organization's invitations, ordered by ID,
	// starting after the given one; with pendingOnly, only those whose
	// stored status is Pending.
	Invitations(ctx context.Context, after string, pendingOnly bool) iter.Seq2[invite.Invitation, error]

	// APIKey returns an API key of the organization, or an error matching
	// ErrNotFound.
	APIKey(ctx context.Context, id string) (apikey.Key, error)
	// APIKeys lists the organization's API keys, of one owner (or all when
	// ownerID is ""), ordered by ID, starting after the given one.
	APIKeys(ctx context.Context, ownerID, after string) iter.Seq2[apikey.Key, error]
}

// Prefetcher is implemented by the Readers and Txs of a store whose reads
// cost a round trip each (a database over a network). Prefetch runs fn
// with a Reader that records the reads fn makes instead of making them:
// each returns a zero value, each listing yields nothing (its first page
// is recorded). The store then makes them all at once, and the same reads
// made next, through the Reader or Tx that Prefetch was called on, are
// answered from what it read (the Tx's own later writes included), until
// the function passed to Update or View returns.
//
// It is a hint: it changes no result, only the number of round trips. A
// caller calls it through the function Prefetch, which does nothing for a
// store that does not implement it.
type Prefetcher interface {
	Prefetch(ctx context.Context, fn func(r Reader)) error
}

// Prefetch tells r that the reads fn makes are about to be made, so that a
// Prefetcher may make them together; see Prefetcher. For any other Reader
// it does nothing. The error is the store's failure to read (the same
// reads would have failed), never that of a record not found.
func Prefetch(ctx context.Context, r Reader, fn func(r Reader)) error {
	if p, ok := r.(Prefetcher); ok {
		return p.Prefetch(ctx, fn)
	}
	return nil
}

// InvitationFinder is implemented by a store that reads an invitation and
// its organization together, in one statement: FindInvitation returns the
// invitation with ID id (in whichever organization holds it) and its
// organization's record, as last committed, or an error matching
// ErrNotFound. Use it through FindInvitation.
type InvitationFinder interface {
	FindInvitation(ctx context.Context, id string) (AddressedInvitation, error)
}

// FindInvitation returns invitation id with its organization, as last
// committed: in one lookup from an InvitationFinder, else by
// InvitationToken and a View of the organization it names. It fails with
// an error matching ErrNotFound when no organization holds the invitation.
func FindInvitation(ctx context.Context, s Store, id string) (AddressedInvitation, error) {
	if f, ok := s.(InvitationFinder); ok {
		return f.FindInvitation(ctx, id)
	}
	it, err := s.InvitationToken(ctx, id)
	if err != nil {
		return AddressedInvitation{}, err
	}
	var out AddressedInvitation
	err = s.View(ctx, it.OrgID, func(ctx context.Context, r Reader) error {
		o, err := r.Organization(ctx)
		if err != nil {
			return err
		}
		inv, err := r.Invitation(ctx, id)
		if err != nil {
			return err
		}
		out = AddressedInvitation{Organization: o, Invitation: inv}
		return nil
	})
	return out, err
}

// BulkCreator is implemented by a Tx that creates many invitations in a
// few statements. CreateInvitations creates invs as CreateInvitation
// creates each, in order, and fails as it would, naming the invitation;
// on failure it creates none of them. Use it through CreateInvitations.
type BulkCreator interface {
	CreateInvitations(ctx context.Context, invs []invite.Invitation) error
}

// CreateInvitations creates invs in tx: at once through a BulkCreator, else
// one by one (the first failure ends it, and fails the Update that tx
// belongs to, unless its function goes on).
func CreateInvitations(ctx context.Context, tx Tx, invs []invite.Invitation) error {
	if b, ok := tx.(BulkCreator); ok {
		return b.CreateInvitations(ctx, invs)
	}
	for _, inv := range invs {
		if err := tx.CreateInvitation(ctx, inv); err != nil {
			return err
		}
	}
	return nil
}

// PendingCounter is implemented by a Reader that counts the pending
// invitations without listing them: PendingInvitations returns the number
// of the organization's invitations whose stored status is Pending and
// that expire after at. Use it through CountPending.
type PendingCounter interface {
	PendingInvitations(ctx context.Context, at time.Time) (int, error)
}

// CountPending returns the number of r's invitations whose stored status
// is Pending and that expire after at: from a PendingCounter, else by
// listing them.
func CountPending(ctx context.Context, r Reader, at time.Time) (int, error) {
	if pc, ok := r.(PendingCounter); ok {
		return pc.PendingInvitations(ctx, at)
	}
	n := 0
	for inv, err := range r.Invitations(ctx, "", true) {
		if err != nil {
			return 0, err
		}
		if inv.ExpiresAt.After(at) {
			n++
		}
	}
	return n, nil
}

// TrialLister is implemented by a store that lists the organizations on
// trial by the time their trials end, for reminders: TrialsEnding lists
// the organizations whose TrialEdition is not "" and whose TrialEndsAt
// is in [from, to), ordered by (TrialEndsAt, ID), starting just past
// after (the TrialEndsAt and ID of the last one a caller saw; the zero
// TrialCursor starts at the first), as last committed. The bounds and the
// cursor's time are truncated to the microsecond, as stored times are; a
// zero bound is before every time. A store should keep an index of the
// organizations on trial, so that a page costs the same however many
// have none. Use it through TrialsEnding.
type TrialLister interface {
	TrialsEnding(ctx context.Context, from, to time.Time, after TrialCursor) iter.Seq2[org.Organization, error]
}

// TrialCursor is where a listing of TrialsEnding starts: just past the
// organization whose trial ends at EndsAt with ID ID, in the order of
// (TrialEndsAt, ID). The zero TrialCursor starts at the first.
type TrialCursor struct {
	EndsAt time.Time
	ID     string
}

// TrialsEnding lists the organizations of s whose trial ends in [from,
// to), ordered by (TrialEndsAt, ID), after the cursor: from a
// TrialLister, else by listing every organization (Store.Organizations)
// and sorting those that qualify, which costs the size of the store.
func TrialsEnding(ctx context.Context, s Store, from, to time.Time, after TrialCursor) iter.Seq2[org.Organization, error] {
	if tl, ok := s.(TrialLister); ok {
		return tl.TrialsEnding(ctx, from, to, after)
	}
	from, to = from.Truncate(time.Microsecond), to.Truncate(time.Microsecond)
	after.EndsAt = after.EndsAt.Truncate(time.Microsecond)
	return func(yield func(org.Organization, error) bool) {
		var found []org.Organization
		for o, err := range s.Organizations(ctx, "") {
			if err != nil {
				yield(org.Organization{}, err)
				return
			}
			if o.TrialEdition != "" && !o.TrialEndsAt.Before(from) && o.TrialEndsAt.Before(to) && after.Before(o) {
				found = append(found, o)
			}
		}
		slices.SortFunc(found, func(a, b org.Organization) int {
			if c := a.TrialEndsAt.Compare(b.TrialEndsAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		for _, o := range found {
			if !yield(o, nil) {
				return
			}
		}
	}
}

// Before reports whether c comes before organization o in the order of
// TrialsEnding: whether a listing that starts after c lists o (the zero
// TrialCursor comes before every organization).
func (c TrialCursor) Before(o org.Organization) bool {
	if c == (TrialCursor{}) {
		return true
	}
	if d := c.EndsAt.Compare(o.TrialEndsAt); d != 0 {
		return d < 0
	}
	return c.ID < o.ID
}

// PrefetchingStore is implemented by a store whose Readers and Txs are
// Prefetchers. UpdatePrefetched is Update, and ViewPrefetched View, with
// the reads that reads makes (as Prefetcher records them) made in the
// same round trip as the statements that begin the transaction, before
// fn runs. Use them through UpdateWith and ViewWith.
type PrefetchingStore interface {
	UpdatePrefetched(ctx context.Context, orgID string, reads func(r Reader), fn func(ctx context.Context, tx Tx) error) error
	ViewPrefetched(ctx context.Context, orgID string, reads func(r Reader), fn func(ctx context.Context, r Reader) error) error
}

// UpdateWith is s.Update, telling a PrefetchingStore the reads fn is about
// to make first (reads may be nil).
func UpdateWith(ctx context.Context, s Store, orgID string, reads func(r Reader), fn func(ctx context.Context, tx Tx) error) error {
	if ps, ok := s.(PrefetchingStore); ok && reads != nil {
		return ps.UpdatePrefetched(ctx, orgID, reads, fn)
	}
	return s.Update(ctx, orgID, fn)
}

// ViewWith is s.View, telling a PrefetchingStore the reads fn is about to
// make first (reads may be nil).
func ViewWith(ctx context.Context, s Store, orgID string, reads func(r Reader), fn func(ctx context.Context, r Reader) error) error {
	if ps, ok := s.(PrefetchingStore); ok && reads != nil {
		return ps.ViewPrefetched(ctx, orgID, reads, fn)
	}
	return s.View(ctx, orgID, fn)
}

// Tx reads and changes one organization inside Store.Update. Changes are
// visible to the Tx's own reads at once, and to everyone else at commit.
type Tx interface {
	Reader

	// CreateOrganization creates the transaction's organization; o.ID must
	// be the ID Update was called with. It fails with ErrExists if the
	// organization exists.
	CreateOrganization(ctx context.Context, o org.Organization) error
	// UpdateOrganization replaces the organization's record (its ID
	// cannot change).
	UpdateOrganization(ctx context.Context, o org.Organization) error
	// DeleteOrganization deletes the organization and everything in it:
	// members, scopes, scope members, custom roles, invitations, API keys
	// and audit events.
	DeleteOrganization(ctx context.Context) error

	// AddMember adds a member; ErrExists if the principal is one, or if
	// m.Email is not empty and another member has it.
	AddMember(ctx context.Context, m org.Member) error
	// UpdateMember replaces a member's record; an error matching
	// ErrMemberNotFound if the principal is not one, ErrExists if m.Email
	// is not empty and another member has it.
	UpdateMember(ctx context.Context, m org.Member) error
	// RemoveMember removes a member's record (and nothing else); an error
	// matching ErrMemberNotFound if the principal is not one.
	RemoveMember(ctx context.Context, principalID string) error

	// CreateScope creates a scope resource; ErrExists if (kind, ID) exists.
	CreateScope(ctx context.Context, s org.Scope) error
	// DeleteScope deletes a scope resource with its members and custom
	// roles; ErrNotFound if it does not exist.
	DeleteScope(ctx context.Context, kind, id string) error
	// PutScopeMember adds or replaces a principal's membership of a scope
	// resource; ErrNotFound if the resource does not exist.
	PutScopeMember(ctx context.Context, m org.ScopeMember) error
	// RemoveScopeMember removes a membership; ErrNotFound if there is none.
	RemoveScopeMember(ctx context.Context, kind, scopeID, principalID string) error
	// PutScopeRole adds or replaces a custom role of a scope resource;
	// ErrNotFound if the resource does not exist.
	PutScopeRole(ctx context.Context, r org.ScopeRole) error
	// DeleteScopeRole deletes a custom role; ErrNotFound if there is none.
	DeleteScopeRole(ctx context.Context, kind, scopeID, roleID string) error

	// AppendAudit appends an event and returns the sequence number it was
	// given (the previous one plus 1, from 1). The event's OrgID is set to
	// the organization's.
	AppendAudit(ctx context.Context, e org.AuditEvent) (int64, error)

	// CreateInvitation adds an invitation. It fails with ErrExists if an
	// invitation with its ID exists anywhere in the store (committed, or in
	// this transaction), or if it is Pending and the organization has a
	// Pending invitation to the same address.
	CreateInvitation(ctx context.Context, inv invite.Invitation) error
	// UpdateInvitation replaces an invitation of the organization, found by
	// ID; ErrNotFound if there is none, ErrExists if it would give an
	// address a second Pending invitation.
	UpdateInvitation(ctx context.Context, inv invite.Invitation) error

	// CreateAPIKey adds an API key; ErrExists if a key with its ID exists
	// anywhere in the store (committed, or in this transaction). Key IDs,
	// like invitation IDs, are unique store-wide and become visible to
	// KeyAccess at commit.
	CreateAPIKey(ctx context.Context, k apikey.Key) error
	// UpdateAPIKey replaces an API key of the organization, found by ID;
	// ErrNotFound if there is none.
	UpdateAPIKey(ctx context.Context, k apikey.Key) error
}
