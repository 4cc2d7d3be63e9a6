// Package memstore is the reference store of orgauthz: it keeps every
// organization in memory, in one process, and keeps the whole contract of
// package store (storetest.Run asserts it).
//
// # Consistency
//
// Each organization has its own lock. Store.Update holds it exclusively
// for the whole of its function, Store.View and Store.Access share it; a
// small store-wide lock guards only the map of organizations and is never
// held while a function runs, so Updates of different organizations never
// wait on each other. Changes are made in place as a Tx makes them, each
// recording its inverse in an undo log; if the function fails, panics, or
// its context is done at commit, the log is played backwards and the
// organization is left exactly as it was, at a cost proportional to the
// changes made, not to the size of the organization.
//
// Waiting for an organization's lock does not watch the context: Update
// and View check it once they hold the lock, before calling fn.
//
// # Transactions and Close
//
// A Tx or Reader is valid only inside the function it was passed to; once
// that function has returned, its methods fail with an error matching
// store.ErrClosed. Close does not wait for running functions: after Close,
// the methods of a running Tx or Reader fail with store.ErrClosed too,
// and a running Update commits nothing and returns an error matching
// store.ErrClosed, unless its function returned an error of its own.
//
// # Deadlocks
//
// The organization's lock is not reentrant: a function passed to Update
// or View must not call Update, View, Access, KeyAccess or TouchAPIKey on
// the same organization (for the last two: with the ID of one of its API
// keys). It may call Organizations, Memberships, InvitationsTo and
// InvitationToken, which take no organization's lock, and any method on
// other organizations.
//
// # Listings and memory
//
// Members are kept compactly: each record a small value held by value in
// the organization's map under its principal ID, no heap object of its
// own and no pointer, its role a handle into a process-wide table of
// interned names (roles, schemes, editions: a handful, whatever the number
// of members), and a name or address, which most members do not have,
// kept apart for those that do;
// so that a store of millions of members gives the garbage collector few
// objects and pointers to mark. Their keys are also in sorted indexes
// (sorted chunks of keys, a one-level B+ tree), so that a page of a
// listing costs a binary search and the page, never a sort, and a change
// moves at most a chunk. Counts are kept as members change. A listing
// started with after "" starts at the first key. A listing ranged over
// inside an Update may run while its own Tx changes what it lists: it
// goes on past the last key it yielded, as things then stand. Each
// listing may be ranged over once; a second time it yields one error.
//
// An audit filter's Since and Until are truncated to the microsecond, as
// the times they are compared with were when stored.
//
// # Members by address, service principals, scope memberships
//
// An organization keeps two more indexes of its members: the principal
// ID of each non-empty Email (there is at most one: Tx.AddMember and
// Tx.UpdateMember refuse with store.ErrExists, changing nothing, an
// address another member has), for Reader.MemberByEmail; and the
// principal IDs of its service principals, in order, so that
// Reader.ServicePrincipals never steps over the other members. Both
// follow every change of a member, a change of its kind included, and a
// rollback restores them with the rest. Reader.MemberScopes seeks a
// principal's scope memberships, kept in order by kind, then scope ID, to
// the kind it asks for, and stops at the next one.
//
// # Memberships and addresses across organizations
//
// The store keeps two indexes across organizations, as last committed:
// the memberships of each principal, for Store.Memberships, and the
// Pending invitations to each address, for Store.InvitationsTo. Each
// lives behind a small lock of its own, like the ID spaces below, and is
// changed only when an Update ends, under the organization's lock, before
// anyone else may take it: a transaction notes the principals whose
// member records it added, changed or removed, and the invitations it
// created Pending or changed from or to Pending; a commit brings the
// organization's entries for those (and for every member and invitation
// its DeleteOrganization dropped) in line with what the organization
// then holds, at a cost proportional to them; a rollback leaves both
// indexes as they were. So an organization created and deleted within
// one Update leaves nothing in them, and one deleted leaves them when its
// Update commits.
//
// The index of memberships holds, under each principal ID, the
// organizations it belongs to, each with what a listing needs of its
// member record as committed (its role, whether it is external, when it
// joined), copied into the entry by value when the Update commits, so
// that an entry shares nothing a transaction changes. A principal of one
// organization (most are) has its entry by value, in one compact hash
// table; a principal of more, a sorted set of them, ordered by
// organization ID. The index of
// addresses holds, under each address, the Pending invitations to it, as
// committed, ordered by invitation ID, and under each of their IDs its
// address, so that a commit finds the entry it replaces. Neither listing
// takes an organization's lock: each copies a batch of entries out of its
// index under the index's lock, then yields them with the organization's
// record as last committed (see Store.Organizations), from which a
// membership takes the organization's name, scheme, edition and whether
// it is archived. So they never wait for a running Update, see none of
// its changes, even from inside it, and a page costs a lookup, a binary
// search and the page, whatever the size of the store. An organization's
// record is published before its first entries appear, and withdrawn
// after its last entries are gone. Updates of different organizations
// meet at an index only for the time their commits take to settle their
// entries there (for a DeleteOrganization, one per member or Pending
// invitation dropped).
//
// # Access
//
// Store.Access, the hot path of permission checks, reads a third
// store-wide index, of access: under each (organization, principal) pair
// of a member, what a check needs (the organization's scheme, edition and
// archived flag, the member's role, kind and external flag), packed in one
// word of handles and flags, with no pointer for the collector to mark.
// Organizations are interned in it: each organization with a member has a
// 32-bit handle, under its ID, in a table of organizations, small as they
// are few next to members, and the members' entries are kept under
// (handle, principal ID), placed by a hash of the organization's ID and
// the principal's, so that a check reads both tables at once; a handle is
// never given twice. Both tables are
// split in classes by the length of the ID and in shards by the key's
// hash, and hold their keys inline, every byte of them, with their word,
// in slots of an open-addressing table: 32 bytes for IDs of up to 20
// bytes, 48 up to 36 (the service's organization IDs, UUIDs), 64 up to
// 52, 144 up to 132 (every ID org.ValidateID accepts). So a check costs
// one probe of each table, a probe that misses every cache one or two
// lines (three for IDs past 52 bytes), and compares the IDs it was given
// byte for byte: no hash stands for a key. Writers of a shard hold a small lock of its own; readers
// take none (a seqlock: they probe between two reads of the shard's
// sequence number, and try again if a writer came in between), nor any
// organization's lock. Longer IDs, which only a caller that skips
// validation can give, are kept by their strings, in a map of the shard,
// read under its lock. It is settled at commit, as the index of
// memberships is, under the organization's lock, before the Update
// returns: for the principals whose member records the transaction
// changed, and for every member of the organization when it changed the
// organization's scheme, edition or archived flag, or started or ended its
// trial (a cost proportional to its members, paid by such a change
// alone). A rollback leaves it as it was. So Access answers as last
// committed, never from a state older than the caller's own last
// committed Update, and a pair it does not hold (or whose entry cannot be
// packed) is looked up again under the organization's lock, to tell a
// missing member from a missing organization.
//
// The word has no room for a trial (org.Organization's TrialEdition and
// TrialEndsAt): the members of an organization on trial have no entry, and
// Access reads them under the organization's lock, shared, as it reads a
// pair the index does not hold, with no Code (store.Access.Code is 0 with
// a trial). The index is settled for every member when a trial starts or
// ends (a change of either field to or from none), and an organization
// without a trial pays nothing for them: its members' entries are as
// they were, and a check of one allocates nothing. A commit settles its
// entries one at a time: while it does, Access may answer for one member
// as after it and for another as before; each answer is the member's
// state as of one commit, and once the Update has returned every answer
// is as after it.
//
// # Invitations
//
// An organization keeps its invitations by ID, with their IDs in a sorted
// index, and the Pending ones in two more: their IDs in order, so that a
// pendingOnly listing never steps over the others, and the one Pending
// invitation of each address. Addresses are compared byte for byte, as
// given: normalizing them is the caller's business.
//
// # IDs unique across the store
//
// Invitation IDs and API key IDs are unique across the store, each in a
// space of its own: an invitation and an API key may share an ID. The
// store keeps, for each space, one store-wide map from ID to
// organization, behind a small lock of its own, for
// Store.InvitationToken and Store.KeyAccess and for the uniqueness
// of IDs. Tx.CreateInvitation and Tx.CreateAPIKey reserve the ID in their
// space's map, atomically with checking that no one has it: an ID held by
// a committed record, or reserved by the running Update of another
// organization, fails with store.ErrExists. So of two Updates of
// different organizations creating one ID at the same time, the second to
// call the create fails at once, even if the first one's Update fails
// later; at most one commits. A reservation names its transaction and is
// no answer of InvitationToken, KeyAccess or TouchAPIKey, which see
// committed records only. When the Update ends the maps are settled under
// the organization's lock, before anyone else may take it: a commit turns
// its reservations into entries, removes the entries of the records the
// Update's DeleteOrganization dropped and, for invitations, puts in their
// entries the token hashes it created or changed (a cost proportional to
// those); a rollback drops its reservations and leaves every entry as it
// was. So InvitationToken answers from the invitation space alone: it
// takes no organization's lock and never waits for a running Update.
//
// Until that commit, the ID of a record dropped by DeleteOrganization is
// still held by a committed record: creating it again in the same Update,
// even after creating the organization again, fails with store.ErrExists.
// A record created and dropped within one Update was never committed, and
// its ID may be created again in it.
//
// # API keys
//
// An organization keeps its API keys by ID, with their IDs in a sorted
// index, and each owner's key IDs in one more, so that listing an owner's
// keys never steps over the others'. An Update that changes a key's owner
// moves it from one index to the other.
//
// Store.KeyAccess is the hot path of authentication: a lookup in the
// store-wide map of key IDs, then the key and its owner's member record
// read under the organization's lock, shared; it allocates only the copy
// of a key's Scope. Store.TouchAPIKey is a write: it takes the
// organization's lock exclusively, for the time it takes to compare and
// store one time, so it waits for a running Update of the organization
// and never loses a time to one, nor an Update's change to it.
//
// # Limits
//
// Times are kept as microseconds since the Unix epoch in an int64 for
// members and scope members (years -290307 to 294246).
package memstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// Store is an in-memory store.Store. All its methods may be called
// concurrently. The zero value is an empty store ready to use; New returns
// one too. A Store must not be copied after first use.
type Store struct {
	// mu guards orgs and ids. It is held only to find, add or remove an
	// entry, never while another lock is awaited or a function runs
	// (except the locks of the ID spaces and of the indexes across
	// organizations, by Close).
	mu   sync.RWMutex
	orgs map[string]*orgState
	ids  sortedSet[string, byString] // the keys of orgs, in order
	// invites and keys are the store-wide spaces of invitation IDs and of
	// API key IDs: two separate spaces, an ID in one says nothing about
	// the other.
	invites idSpace
	keys    idSpace
	// memberships and addresses are the store-wide indexes of the
	// organizations each principal belongs to and of the Pending
	// invitations to each address, as last committed.
	memberships membershipIndex
	addresses   addressIndex
	// access is the store-wide index of access, for Access, as last
	// committed.
	access accessIndex
	// closed is set under mu, and read with or without it.
	closed atomic.Bool
}

// idSpace is a store-wide space of IDs that are unique across
// organizations (invitation IDs, API key IDs): it maps every ID in use to
// its holder, an organization's committed record or a reservation by the
// running Update that created it. Its lock may be taken while holding an
// organization's lock or the store's mu, and whoever holds it takes no
// other lock.
type idSpace struct {
	mu sync.RWMutex
	// ids is nil until the first ID, and after Close.
	ids map[string]idHolder
}

// idHolder is an entry of an idSpace: the organization that holds the ID,
// and the transaction that created it while that transaction runs (nil
// once it committed). The organization's entry stays in the store for as
// long as it holds committed IDs: a commit that leaves it without a record
// first removes them.
//
// In the space of invitation IDs, a committed entry also holds the
// invitation's TokenHash as last committed, in a copy of its own that is
// never changed: a commit that changes the hash puts a new entry.
type idHolder struct {
	st   *orgState
	tx   *tx
	hash []byte
}

// committed returns the entry of the organization holding id as last
// committed, or nil: a reservation is no answer.
func (sp *idSpace) committed(id string) *orgState {
	return sp.entry(id).st
}

// entry returns the committed entry of id, or the zero idHolder: a
// reservation is no answer.
func (sp *idSpace) entry(id string) idHolder {
	sp.mu.RLock()
	h := sp.ids[id]
	sp.mu.RUnlock()
	if h.tx != nil {
		return idHolder{}
	}
	return h
}

// close drops every entry. The store is closed already.
func (sp *idSpace) close() {
	sp.mu.Lock()
	sp.ids = nil
	sp.mu.Unlock()
}

var _ store.Store = (*Store)(nil)

// New returns an empty store. It needs no configuration.
func New() *Store {
	return &Store{orgs: make(map[string]*orgState)}
}

// Update runs fn in a read-write transaction on organization orgID, as
// store.Store.Update says. Changes are made in place under the
// organization's exclusive lock and undone if fn returns an error,
// panics, or ctx is done when it returns; an organization that does not
// exist when Update ends leaves no entry behind.
func (s *Store) Update(ctx context.Context, orgID string, fn func(ctx context.Context, tx store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := s.lockForUpdate(orgID)
	if err != nil {
		return err
	}
	t := &tx{reader: reader{s: s, st: st, orgID: orgID}}
	committed := false
	defer func() {
		// Runs when fn returns, panics (the panic goes on once the
		// organization is restored) or exits its goroutine.
		t.done = true
		if !committed {
			t.rollback()
		}
		t.settle(committed)
		s.finish(st)
		st.mu.Unlock()
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := fn(ctx, t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return closedError("update organization %q", orgID)
	}
	committed = true
	return nil
}

// lockForUpdate returns the entry of organization id, adding one if there
// is none, locked exclusively.
func (s *Store) lockForUpdate(id string) (*orgState, error) {
	for {
		st, err := s.lookup(id)
		if err != nil {
			return nil, err
		}
		if st == nil {
			s.mu.Lock()
			if s.closed.Load() {
				s.mu.Unlock()
				return nil, closedError("update organization %q", id)
			}
			if s.orgs == nil {
				s.orgs = make(map[string]*orgState)
			}
			st = s.orgs[id]
			if st == nil {
				st = &orgState{id: id}
				s.orgs[id] = st
				s.ids.insert(id)
			}
			s.mu.Unlock()
		}
		st.mu.Lock()
		if !st.dead {
			return st, nil
		}
		// The entry was removed while we waited: look again.
		st.mu.Unlock()
	}
}

// finish publishes the organization's record as it now stands and, if the
// organization does not exist, removes its entry. st is locked
// exclusively.
func (s *Store) finish(st *orgState) {
	st.pub.Store(st.d.rec)
	if st.d.rec != nil {
		return
	}
	s.mu.Lock()
	if s.orgs[st.id] == st {
		delete(s.orgs, st.id)
		s.ids.delete(st.id)
	}
	st.dead = true
	s.mu.Unlock()
}

// lookup returns the entry of organization id, or nil.
func (s *Store) lookup(id string) (*orgState, error) {
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return nil, closedError("organization %q", id)
	}
	st := s.orgs[id]
	s.mu.RUnlock()
	return st, nil
}

// rlock returns the entry of organization id locked shared, or nil if the
// organization has none.
func (s *Store) rlock(id string) (*orgState, error) {
	for {
		st, err := s.lookup(id)
		if st == nil || err != nil {
			return nil, err
		}
		st.mu.RLock()
		if !st.dead {
			return st, nil
		}
		st.mu.RUnlock()
	}
}

// View runs fn with a read-only view of organization orgID, holding the
// organization's lock shared, so that fn sees all of an Update or none of
// it. If the organization does not exist, fn still runs, and the Reader's
// methods fail with store.ErrOrganizationNotFound. View returns fn's error
// as it is.
func (s *Store) View(ctx context.Context, orgID string, fn func(ctx context.Context, r store.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := s.rlock(orgID)
	if err != nil {
		return err
	}
	r := &reader{s: s, st: st, orgID: orgID}
	defer func() {
		r.done = true
		if st != nil {
			st.mu.RUnlock()
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn(ctx, r)
}

// Access returns what a permission check needs to know about principalID
// in orgID, from memory, without allocating, whether the member is found
// or not: a denial on the hot path costs no more than an answer, so the
// not-found errors are the sentinels themselves (store.ErrOrganizationNotFound,
// store.ErrMemberNotFound), which name no IDs.
//
// It answers from the store-wide index of access (see access.go), as last
// committed, taking no lock: one probe of the table of organizations for
// the organization's handle, and, at once (its slots are found from the
// IDs alone), one of the table of members, whose entry holds the answer
// by value. The index is settled when an Update
// commits, before the Update returns, so Access never answers from a state
// older than the caller's own last committed Update, and never sees a
// running Update's changes. A pair the index does not hold is looked up
// again under the organization's lock, shared, which waits for a running
// Update of the organization, to tell a missing organization from a
// missing member.
func (s *Store) Access(ctx context.Context, orgID, principalID string) (store.Access, error) {
	if err := ctx.Err(); err != nil {
		return store.Access{}, err
	}
	if w := s.access.get(orgID, principalID); w != 0 {
		if s.closed.Load() {
			return store.Access{}, closedError("organization %q", orgID)
		}
		return interned.access(w), nil
	}
	return s.accessLocked(orgID, principalID)
}

// accessLocked is Access read under the organization's lock.
func (s *Store) accessLocked(orgID, principalID string) (store.Access, error) {
	for {
		st, err := s.lookup(orgID)
		if err != nil {
			return store.Access{}, err
		}
		if st == nil {
			return store.Access{}, store.ErrOrganizationNotFound
		}
		st.mu.RLock()
		if st.dead {
			st.mu.RUnlock()
			continue
		}
		o := st.d.rec
		if o == nil {
			st.mu.RUnlock()
			return store.Access{}, store.ErrOrganizationNotFound
		}
		m, ok := st.d.members[principalID]
		if !ok {
			st.mu.RUnlock()
			return store.Access{}, store.ErrMemberNotFound
		}
		a := store.Access{
			Scheme: o.Scheme, Edition: o.Edition, TrialEdition: o.TrialEdition, TrialEndsAt: o.TrialEndsAt,
			Archived: o.Archived, Role: interned.str(m.role), Kind: m.kind, External: m.external,
		}
		st.mu.RUnlock()
		return a, nil
	}
}

// orgBatch is how many organizations Organizations takes from the index
// at a time, under the store-wide lock.
const orgBatch = 128

// Organizations lists the organizations, ordered by ID, starting after
// the given ID ("" for the first). Each record is the one last committed;
// the listing takes no organization's lock, so it may run inside an
// Update's function, and it sees organizations created or deleted while it
// runs if they lie ahead of it.
func (s *Store) Organizations(ctx context.Context, after string) iter.Seq2[org.Organization, error] {
	return once(func(yield func(org.Organization, error) bool) {
		batch := make([]*orgState, 0, orgBatch)
		last, inclusive := after, after == ""
		for {
			if err := ctx.Err(); err != nil {
				yield(org.Organization{}, err)
				return
			}
			batch = batch[:0]
			s.mu.RLock()
			if s.closed.Load() {
				s.mu.RUnlock()
				yield(org.Organization{}, closedError("list organizations"))
				return
			}
			for p := s.ids.seek(last, inclusive); len(batch) < orgBatch; p = s.ids.next(p) {
				id, ok := s.ids.at(p)
				if !ok {
					break
				}
				batch = append(batch, s.orgs[id])
			}
			s.mu.RUnlock()
			if len(batch) == 0 {
				return
			}
			for _, st := range batch {
				last, inclusive = st.id, false
				o := st.pub.Load()
				if o == nil {
					continue
				}
				if err := ctx.Err(); err != nil {
					yield(org.Organization{}, err)
					return
				}
				if !yield(o.Clone(), nil) {
					return
				}
			}
		}
	})
}

var _ store.TrialLister = (*Store)(nil)

// TrialsEnding lists the organizations whose trial ends in [from, to),
// ordered by (TrialEndsAt, ID), after the cursor, as last committed; see
// store.TrialLister. Its bounds and cursor are truncated to the
// microsecond, as the times they are compared with were when stored. It
// keeps no index of trials: it scans every
// organization's record as last committed, under the store-wide lock,
// shared (taking no organization's lock, so it may run inside an Update's
// function, and sees none of a running Update's changes), then sorts
// those it lists. So it costs the size of the store, once per listing.
func (s *Store) TrialsEnding(ctx context.Context, from, to time.Time, after store.TrialCursor) iter.Seq2[org.Organization, error] {
	from, to, after.EndsAt = normTime(from), normTime(to), normTime(after.EndsAt)
	return once(func(yield func(org.Organization, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(org.Organization{}, err)
			return
		}
		var found []*org.Organization
		s.mu.RLock()
		if s.closed.Load() {
			s.mu.RUnlock()
			yield(org.Organization{}, closedError("list trials"))
			return
		}
		for _, st := range s.orgs {
			// A published record is never changed: an Update stores a
			// new one.
			o := st.pub.Load()
			if o != nil && o.TrialEdition != "" && !o.TrialEndsAt.Before(from) && o.TrialEndsAt.Before(to) && after.Before(*o) {
				found = append(found, o)
			}
		}
		s.mu.RUnlock()
		slices.SortFunc(found, func(a, b *org.Organization) int {
			if c := a.TrialEndsAt.Compare(b.TrialEndsAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		for _, o := range found {
			if err := ctx.Err(); err != nil {
				yield(org.Organization{}, err)
				return
			}
			if !yield(o.Clone(), nil) {
				return
			}
		}
	})
}

// InvitationToken returns the organization that holds invitation id and
// the invitation's TokenHash, as last committed: an invitation created by
// an Update still running, or by one that failed, is not found, one whose
// hash a running Update changes has the hash it had, and one deleted with
// its organization is found until that Update commits. It reads the
// store-wide map of invitation IDs only, taking no organization's lock, so
// it never waits for an Update. It allocates nothing: an unknown ID is
// store.ErrNotFound itself, unwrapped, and a known one's hash is copied
// into the answer.
func (s *Store) InvitationToken(ctx context.Context, id string) (store.InvitationToken, error) {
	if err := ctx.Err(); err != nil {
		return store.InvitationToken{}, err
	}
	h := s.invites.entry(id)
	if s.closed.Load() {
		return store.InvitationToken{}, closedError("invitation %q", id)
	}
	if h.st == nil {
		return store.InvitationToken{}, store.ErrNotFound
	}
	it := store.InvitationToken{OrgID: h.st.id}
	if len(h.hash) == len(it.Hash) {
		it.Hash, it.HashOK = [len(it.Hash)]byte(h.hash), true
	}
	return it, nil
}

// KeyAccess returns what authenticating API key id needs, as last
// committed, from memory. It finds the key's organization in the
// store-wide map of key IDs, then reads the key and its owner's member
// record under the organization's lock, shared: so it waits for a running
// Update of that organization, and never sees a key before the Update
// that created it commits, nor after the one that deleted its
// organization does. It allocates nothing but the copy of the key's Scope
// (none when the key has no scope); an unknown key is store.ErrNotFound
// itself, unwrapped, so that it allocates nothing either. A key whose
// stored Hash is not 32 bytes long fails with an error of its own,
// matching no sentinel of package store: it is never truncated or padded.
func (s *Store) KeyAccess(ctx context.Context, id string) (a store.KeyAccess, err error) {
	if err := ctx.Err(); err != nil {
		return store.KeyAccess{}, err
	}
	var removed *orgState
	for {
		st := s.keys.committed(id)
		if s.closed.Load() {
			return store.KeyAccess{}, closedError("API key %q", id)
		}
		if st == nil || st == removed {
			return store.KeyAccess{}, store.ErrNotFound
		}
		st.mu.RLock()
		if st.dead {
			// Deleted (and its keys freed) while we waited: look again,
			// taking an entry that still names it for none.
			st.mu.RUnlock()
			removed = st
			continue
		}
		sk := st.d.keys[id]
		o := st.d.rec
		if sk == nil || o == nil {
			st.mu.RUnlock()
			return store.KeyAccess{}, store.ErrNotFound
		}
		if !sk.hashOK {
			n := len(sk.rec.Hash)
			st.mu.RUnlock()
			return store.KeyAccess{}, fmt.Errorf("memstore: API key %q of organization %q: stored hash is %d bytes long, want %d", id, st.id, n, keyHashLen)
		}
		// Filled field by field, in place: the result is large.
		k := &sk.rec
		a.OrgID, a.KeyID, a.OwnerID, a.Hash = st.id, k.ID, k.OwnerID, sk.hash
		a.ExpiresAt, a.RevokedAt, a.LastUsedAt = k.ExpiresAt, k.RevokedAt, k.LastUsedAt
		if len(k.Scope) > 0 {
			a.Scope = slices.Clone(k.Scope)
		}
		if m, ok := st.d.members[k.OwnerID]; ok {
			a.Owner.Scheme, a.Owner.Edition, a.Owner.Archived = o.Scheme, o.Edition, o.Archived
			a.Owner.TrialEdition, a.Owner.TrialEndsAt = o.TrialEdition, o.TrialEndsAt
			a.Owner.Role, a.Owner.Kind, a.Owner.External = interned.str(m.role), m.kind, m.external
			a.OwnerFound = true
		}
		st.mu.RUnlock()
		return a, nil
	}
}

// keyHashLen is the length of the hash KeyAccess returns.
const keyHashLen = len(store.KeyAccess{}.Hash)

// TouchAPIKey records that key id was used at time t: t, truncated to the
// microsecond, in UTC, becomes the key's LastUsedAt if it is later than
// the one stored; an earlier or equal time changes nothing. It is a
// write, outside any transaction and without an audit event: it takes the
// organization's lock exclusively, so it waits for a running Update or
// View of the organization (and an Update waits for it), and it can never
// interleave with an Update's read and write of the key. ctx is checked
// before and once the lock is held. A key not committed yet is not found.
func (s *Store) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t = normTime(t)
	var removed *orgState
	for {
		st := s.keys.committed(id)
		if s.closed.Load() {
			return closedError("API key %q", id)
		}
		if st == nil || st == removed {
			return keyNotFound(id)
		}
		st.mu.Lock()
		if st.dead {
			st.mu.Unlock()
			removed = st
			continue
		}
		err := ctx.Err()
		if err == nil && s.closed.Load() {
			err = closedError("API key %q", id)
		}
		if err == nil {
			if sk := st.d.keys[id]; sk == nil || st.d.rec == nil {
				err = keyNotFound(id)
			} else if t.After(sk.rec.LastUsedAt) {
				sk.rec.LastUsedAt = t // in place: see storedKey
			}
		}
		st.mu.Unlock()
		return err
	}
}

// Close releases the store's data. Calls after Close fail with an error
// matching store.ErrClosed, and so do the methods of a Tx or Reader still
// in use (see the package comment). Close is idempotent and always
// returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil
	}
	s.closed.Store(true)
	s.orgs = nil
	s.ids = sortedSet[string, byString]{}
	s.invites.close()
	s.keys.close()
	s.memberships.close()
	s.addresses.close()
	s.access.close()
	return nil
}

// once makes a listing single use: ranging over it again yields one error.
func once[V any](seq iter.Seq2[V, error]) iter.Seq2[V, error] {
	var used atomic.Bool
	return func(yield func(V, error) bool) {
		if used.Swap(true) {
			var zero V
			yield(zero, errors.New("memstore: listing ranged over twice (listings are single use)"))
			return
		}
		seq(yield)
	}
}

// Errors. Each matches a sentinel of package store and names what was
// missing.

func closedError(format string, args ...any) error {
	return fmt.Errorf("memstore: %s: %w", fmt.Sprintf(format, args...), store.ErrClosed)
}

func orgNotFound(orgID string) error {
	return fmt.Errorf("memstore: organization %q: %w", orgID, store.ErrOrganizationNotFound)
}

func keyNotFound(id string) error {
	return fmt.Errorf("memstore: API key %q: %w", id, store.ErrNotFound)
}

func memberNotFound(orgID, principalID string) error {
	return &missingMember{orgID, principalID}
}

// missingMember is the error of a principal that is not a member. It is
// formatted only when read: looking a principal up to find it missing
// (as adding one does first) costs one small allocation.
type missingMember struct{ orgID, principalID string }

func (e *missingMember) Error() string {
	return fmt.Sprintf("memstore: member %q of organization %q: %v", e.principalID, e.orgID, store.ErrMemberNotFound)
}

func (e *missingMember) Unwrap() error { return store.ErrMemberNotFound }

// lazyError is fmt.Errorf(format, args...), formatted only when read, for
// the errors of lookups that find nothing, which the service makes to
// learn that (an address with no member yet): its last argument is the
// error it wraps.
type lazyError struct {
	format string
	args   []any
}

func (e *lazyError) Error() string { return fmt.Errorf(e.format, e.args...).Error() }

func (e *lazyError) Unwrap() error { return e.args[len(e.args)-1].(error) }
