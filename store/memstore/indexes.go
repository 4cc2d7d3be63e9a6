package memstore

import (
	"context"
	"iter"
	"strings"
	"sync"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// The store-wide indexes across organizations: the memberships of each
// principal and the Pending invitations to each address, as last
// committed. Each has a small lock of its own, which may be taken while
// holding an organization's lock or the store's mu; whoever holds it
// takes no other lock. A transaction changes neither: it notes what it
// changed (touched), and when it commits, the index is settled under the
// organization's lock from what the organization then holds, at a cost
// proportional to those notes; a rollback leaves the index as it was.

// touched is what a transaction did that a store-wide index must follow
// at commit: the keys of the records it added, changed or removed, and
// the records its DeleteOrganization calls dropped. A key may be noted
// more than once; settling it again changes nothing.
type touched[V any] struct {
	ids     []string
	dropped []map[string]V
}

func (c *touched[V]) empty() bool { return len(c.ids) == 0 && len(c.dropped) == 0 }

// each calls f with every key noted, dropped ones included.
func (c *touched[V]) each(f func(id string)) {
	for _, id := range c.ids {
		f(id)
	}
	for _, dropped := range c.dropped {
		for id := range dropped {
			f(id)
		}
	}
}

// membership is an entry of the index of memberships: an organization and
// what a listing of memberships needs of the principal's member record in
// it (role, external, joined), by value, as last committed: a commit
// copies them in from the organization's record, so that the index shares
// nothing with the organization a running transaction changes. The
// organization's own fields come from its record as last committed
// (orgState.pub).
type membership struct {
	st       *orgState
	joined   int64  // JoinedAt in microseconds since the Unix epoch
	role     uint32 // a handle of interned
	external bool
}

func newMembership(st *orgState, m *member) membership {
	return membership{st: st, role: m.role, joined: m.joined, external: m.external}
}

// byOrg orders memberships by organization ID. A principal has at most one
// entry per organization, and an organization's entries leave the index
// (at the commit that deletes it) before another entry can take its ID.
type byOrg struct{}

func (byOrg) compare(a, b membership) int { return strings.Compare(a.st.id, b.st.id) }

// membershipIndex is the store-wide index of memberships, by principal.
// Most principals belong to one organization: their entry is kept by value
// in one, at the cost of a slot of a compact hash table (see strTable). A
// principal of two or more has a sorted set of its entries in many instead
// (never both).
type membershipIndex struct {
	mu     sync.RWMutex
	one    strTable[membership]
	many   map[string]*sortedSet[membership, byOrg]
	closed bool
}

// put adds, or replaces, principal p's entry for e's organization.
func (x *membershipIndex) put(p string, e membership) {
	if set := x.many[p]; set != nil {
		set.put(e)
		return
	}
	old, ok := x.one.get(p)
	if !ok || old.st == e.st {
		x.one.put(p, e)
		return
	}
	x.one.delete(p)
	set := new(sortedSet[membership, byOrg])
	set.insert(old)
	set.insert(e)
	if x.many == nil {
		x.many = make(map[string]*sortedSet[membership, byOrg])
	}
	x.many[p] = set
}

// remove drops principal p's entry for organization st, if it has one.
func (x *membershipIndex) remove(p string, st *orgState) {
	if set := x.many[p]; set != nil {
		set.delete(membership{st: st})
		switch set.len() {
		case 0:
			delete(x.many, p)
		case 1:
			e, _ := set.at(pos{})
			delete(x.many, p)
			x.one.put(p, e)
		}
		return
	}
	if old, ok := x.one.get(p); ok && old.st == st {
		x.one.delete(p)
	}
}

// settle brings the entries of organization st in line with its member
// records have, for every principal c notes.
func (x *membershipIndex) settle(st *orgState, have map[string]member, c *touched[member]) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return
	}
	c.each(func(p string) {
		if m, ok := have[p]; ok {
			x.put(p, newMembership(st, &m))
		} else {
			x.remove(p, st)
		}
	})
}

// page copies into buf principal p's first entries past organization ID
// after (from it, when inclusive), in order, and returns how many; false
// if the store is closed.
func (x *membershipIndex) page(p, after string, inclusive bool, buf []membership) (int, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return 0, false
	}
	if set := x.many[p]; set != nil {
		return set.read(set.seekFunc(func(e membership) int { return strings.Compare(e.st.id, after) }, inclusive), buf), true
	}
	if e, ok := x.one.get(p); ok && len(buf) > 0 {
		if d := strings.Compare(e.st.id, after); d > 0 || inclusive && d == 0 {
			buf[0] = e
			return 1, true
		}
	}
	return 0, true
}

func (x *membershipIndex) close() {
	x.mu.Lock()
	x.one, x.many, x.closed = strTable[membership]{}, nil, true
	x.mu.Unlock()
}

// addressed is an entry of the index of addresses: a Pending invitation
// as last committed and the organization that holds it. The record is the
// one stored when that transaction committed, which no one changes (a
// change stores a new one), its TokenHash included.
type addressed struct {
	st  *orgState
	inv invite.Invitation
}

// byInvitation orders entries by invitation ID, which is unique across
// the store.
type byInvitation struct{}

func (byInvitation) compare(a, b addressed) int { return strings.Compare(a.inv.ID, b.inv.ID) }

// addressIndex is the store-wide index of the Pending invitations, by
// address: to holds those of each address in order, and at the address of
// each of them, so that a commit finds the entry it replaces.
type addressIndex struct {
	mu     sync.RWMutex
	to     map[string]*sortedSet[addressed, byInvitation]
	at     map[string]string
	closed bool
}

// settle brings the entries of organization st in line with the
// invitations it holds, have, for every invitation c notes: one whose
// stored status is Pending has an entry under its address, any other none.
func (x *addressIndex) settle(st *orgState, have map[string]invite.Invitation, c *touched[invite.Invitation]) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return
	}
	c.each(func(id string) {
		if email, ok := x.at[id]; ok {
			set := x.to[email]
			probe := addressed{inv: invite.Invitation{ID: id}}
			if e, ok := set.at(set.seek(probe, true)); ok && e.inv.ID == id && e.st == st {
				set.delete(probe)
				if set.len() == 0 {
					delete(x.to, email)
				}
				delete(x.at, id)
			}
		}
		inv, ok := have[id]
		if !ok || inv.Status != invite.Pending {
			return
		}
		if x.to == nil {
			x.to = make(map[string]*sortedSet[addressed, byInvitation])
			x.at = make(map[string]string)
		}
		set := x.to[inv.Email]
		if set == nil {
			set = new(sortedSet[addressed, byInvitation])
			x.to[inv.Email] = set
		}
		set.put(addressed{st, inv})
		x.at[id] = inv.Email
	})
}

// page copies into buf the first entries of address email past invitation
// ID after (from it, when inclusive), in order, and returns how many;
// false if the store is closed.
func (x *addressIndex) page(email, after string, inclusive bool, buf []addressed) (int, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return 0, false
	}
	set := x.to[email]
	if set == nil {
		return 0, true
	}
	return set.read(set.seekFunc(func(e addressed) int { return strings.Compare(e.inv.ID, after) }, inclusive), buf), true
}

func (x *addressIndex) close() {
	x.mu.Lock()
	x.to, x.at, x.closed = nil, nil, true
	x.mu.Unlock()
}

// Batches: how many entries a listing copies out of an index at a time,
// under its lock, into a buffer of its own (on its stack), before it
// yields them without the lock.
const (
	membershipBatch = 32
	addressedBatch  = 16
)

// Memberships lists the organizations principal principalID belongs to,
// each with the principal's standing in it, ordered by organization ID,
// starting after the given one, as last committed: it reads the
// store-wide index of memberships, settled when an Update commits, which
// holds the principal's role, external flag and joining time in each
// organization, and each organization's record as last committed, for
// its name, scheme, edition and archived flag, taking no organization's
// lock. So it never waits for a running Update, sees none of its
// changes, may be called inside an Update's function, and its cost does
// not depend on how many organizations or members the store holds: a
// lookup, a binary search and the page, with no allocation but the
// listing's own. Entries are copied out of the index a batch at a time;
// an organization deleted meanwhile is left out if its record is gone by
// the time the listing gets to it.
func (s *Store) Memberships(ctx context.Context, principalID, after string) iter.Seq2[org.Membership, error] {
	return once(func(yield func(org.Membership, error) bool) {
		var buf [membershipBatch]membership
		last, inclusive := after, after == ""
		for {
			if err := ctx.Err(); err != nil {
				yield(org.Membership{}, err)
				return
			}
			if s.closed.Load() {
				yield(org.Membership{}, closedError("memberships of %q", principalID))
				return
			}
			n, ok := s.memberships.page(principalID, last, inclusive, buf[:])
			if !ok {
				yield(org.Membership{}, closedError("memberships of %q", principalID))
				return
			}
			for i := range n {
				e := &buf[i]
				last, inclusive = e.st.id, false
				o := e.st.pub.Load()
				if o == nil {
					continue
				}
				if i > 0 {
					if err := ctx.Err(); err != nil {
						yield(org.Membership{}, err)
						return
					}
					if s.closed.Load() {
						yield(org.Membership{}, closedError("memberships of %q", principalID))
						return
					}
				}
				if !yield(org.Membership{OrgID: o.ID, OrgName: o.Name, Scheme: o.Scheme, Edition: o.Edition, Archived: o.Archived, Role: interned.str(e.role), External: e.external, JoinedAt: fromMicros(e.joined)}, nil) {
					return
				}
			}
			if n < len(buf) {
				return
			}
		}
	})
}

// InvitationsTo lists the invitations to address email whose stored
// status is Pending, across organizations, each with its organization's
// record, ordered by invitation ID, starting after the given one, as last
// committed: it reads the store-wide index of addresses, settled when an
// Update commits, taking no organization's lock, as Memberships does.
func (s *Store) InvitationsTo(ctx context.Context, email, after string) iter.Seq2[store.AddressedInvitation, error] {
	return once(func(yield func(store.AddressedInvitation, error) bool) {
		var buf [addressedBatch]addressed
		last, inclusive := after, after == ""
		for {
			if err := ctx.Err(); err != nil {
				yield(store.AddressedInvitation{}, err)
				return
			}
			if s.closed.Load() {
				yield(store.AddressedInvitation{}, closedError("invitations to %q", email))
				return
			}
			n, ok := s.addresses.page(email, last, inclusive, buf[:])
			if !ok {
				yield(store.AddressedInvitation{}, closedError("invitations to %q", email))
				return
			}
			for i := range n {
				e := &buf[i]
				last, inclusive = e.inv.ID, false
				o := e.st.pub.Load()
				if o == nil {
					continue
				}
				if i > 0 {
					if err := ctx.Err(); err != nil {
						yield(store.AddressedInvitation{}, err)
						return
					}
					if s.closed.Load() {
						yield(store.AddressedInvitation{}, closedError("invitations to %q", email))
						return
					}
				}
				if !yield(store.AddressedInvitation{Organization: o.Clone(), Invitation: invitationOut(e.inv)}, nil) {
					return
				}
			}
			if n < len(buf) {
				return
			}
		}
	})
}
