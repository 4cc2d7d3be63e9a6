package memstore

import (
	"encoding/binary"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// The store-wide index of access, for Store.Access: under each
// (organization, principal) pair with a member record, as last committed,
// what a permission check needs of it, by value and without pointers:
// the organization's scheme, edition and archived flag and the member's
// role, kind and external flag, the strings as small handles into the
// store's table of names. It is settled when an Update commits, like the
// index of memberships (see indexes.go): for every principal whose member
// record the transaction added, changed or removed (or its
// DeleteOrganization dropped), and for every member of the organization
// when the commit changed the organization's scheme, edition or archived
// flag. A rollback leaves it as it was.
//
// It is split in shards, each behind a small lock of its own, chosen by
// the key's hash, so that checks from many cores share no lock and a
// commit holds one shard at a time. A key whose two IDs fit in
// accessKeyLen bytes is kept inline, in a fixed array, so that a probe
// compares it where the entry is, without following a pointer; longer
// ones are kept by their strings, in a second map of the shard.

// accessKeyLen is the size of an inline key: two length bytes, then the
// organization ID's bytes, then the principal ID's, zero padded.
const accessKeyLen = 32

type accessKey [accessKeyLen]byte

// longKey is the key of a pair whose IDs do not fit inline.
type longKey struct{ org, principal string }

// inlineKey returns the inline key of (orgID, principalID), or false if
// the IDs do not fit. The lengths make it unique: no two pairs share one.
func inlineKey(orgID, principalID string) (k accessKey, ok bool) {
	if len(orgID)+len(principalID) > accessKeyLen-2 {
		return k, false
	}
	k[0], k[1] = byte(len(orgID)), byte(len(principalID))
	copy(k[2:], orgID)
	copy(k[2+len(orgID):], principalID)
	return k, true
}

// accessEntry is what the index holds of one member: handles into the
// store's names, and flags.
type accessEntry struct {
	scheme, edition, role uint32
	kind                  org.Kind
	external, archived    bool
}

const accessShardBits = 6

// accessShard is one shard of the index, alone on its cache line (as far
// as its fields go), so that readers of different shards do not contend.
type accessShard struct {
	mu    sync.RWMutex
	short map[accessKey]accessEntry
	long  map[longKey]accessEntry
	_     [64 - 24 - 16]byte
}

// accessIndex is the store-wide index of access.
type accessIndex struct {
	shards [1 << accessShardBits]accessShard
	closed atomic.Bool
}

var longSeed = maphash.MakeSeed()

// shardOf returns the shard of an inline key.
func (x *accessIndex) shardOf(k *accessKey) *accessShard {
	h := binary.LittleEndian.Uint64(k[0:]) ^ binary.LittleEndian.Uint64(k[8:])*0x9e3779b97f4a7c15 ^
		binary.LittleEndian.Uint64(k[16:])*0xc2b2ae3d27d4eb4f ^ binary.LittleEndian.Uint64(k[24:])*0x165667b19e3779f9
	h *= 0xff51afd7ed558ccd
	return &x.shards[h>>(64-accessShardBits)]
}

func (x *accessIndex) shardOfLong(k longKey) *accessShard {
	return &x.shards[maphash.Comparable(longSeed, k)>>(64-accessShardBits)]
}

// get returns the entry of (orgID, principalID), if there is one.
func (x *accessIndex) get(orgID, principalID string) (accessEntry, bool) {
	if k, ok := inlineKey(orgID, principalID); ok {
		sh := x.shardOf(&k)
		sh.mu.RLock()
		e, ok := sh.short[k]
		sh.mu.RUnlock()
		return e, ok
	}
	lk := longKey{orgID, principalID}
	sh := x.shardOfLong(lk)
	sh.mu.RLock()
	e, ok := sh.long[lk]
	sh.mu.RUnlock()
	return e, ok
}

// put adds, or replaces, the entry of (orgID, principalID).
func (x *accessIndex) put(orgID, principalID string, e accessEntry) {
	if k, ok := inlineKey(orgID, principalID); ok {
		sh := x.shardOf(&k)
		sh.mu.Lock()
		if !x.closed.Load() {
			if sh.short == nil {
				sh.short = make(map[accessKey]accessEntry)
			}
			sh.short[k] = e
		}
		sh.mu.Unlock()
		return
	}
	lk := longKey{orgID, principalID}
	sh := x.shardOfLong(lk)
	sh.mu.Lock()
	if !x.closed.Load() {
		if sh.long == nil {
			sh.long = make(map[longKey]accessEntry)
		}
		sh.long[lk] = e
	}
	sh.mu.Unlock()
}

// remove drops the entry of (orgID, principalID), if there is one.
func (x *accessIndex) remove(orgID, principalID string) {
	if k, ok := inlineKey(orgID, principalID); ok {
		sh := x.shardOf(&k)
		sh.mu.Lock()
		delete(sh.short, k)
		sh.mu.Unlock()
		return
	}
	lk := longKey{orgID, principalID}
	sh := x.shardOfLong(lk)
	sh.mu.Lock()
	delete(sh.long, lk)
	sh.mu.Unlock()
}

// settle brings the entries of organization st in line with what it
// holds, d, for every principal c notes, and for every member when all is
// set. It runs at commit, under the organization's lock.
func (x *accessIndex) settle(st *orgState, d *orgData, c *touched[member], all bool) {
	if x.closed.Load() {
		return
	}
	var base accessEntry
	if d.rec != nil {
		base = accessEntry{scheme: interned.intern(d.rec.Scheme), edition: interned.intern(d.rec.Edition), archived: d.rec.Archived}
	}
	settleOne := func(p string) {
		m, ok := d.members[p]
		if !ok || d.rec == nil {
			x.remove(st.id, p)
			return
		}
		e := base
		e.role, e.kind, e.external = m.role, m.kind, m.external
		x.put(st.id, p, e)
	}
	if all && d.rec != nil {
		for p := range d.members {
			settleOne(p)
		}
	}
	c.each(settleOne)
}

func (x *accessIndex) close() {
	x.closed.Store(true)
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		sh.short, sh.long = nil, nil
		sh.mu.Unlock()
	}
}

// names is a table of interned strings: the role strings of member
// records and of the index of memberships, and the scheme, edition and
// role strings of the index of access, each given a handle (from 1) the
// first time a member record is stored with it, or an entry settled with
// it, and kept for as long as the process runs: they are few, whatever
// the number of members (a service stores only the IDs of its schemes'
// editions and roles), so a member holds a 4-byte handle where it held a
// 16-byte string header, the organization's copy of the string aside, and
// the garbage collector has no pointer of it to mark. Handles are read
// without a lock, from a list published whole. One table serves every
// Store of the process.
var interned names

type names struct {
	mu   sync.Mutex
	ix   map[string]uint32
	list atomic.Pointer[[]string] // list[h] is the string of handle h; list[0] is ""
}

// intern returns the handle of s, giving it one if it has none.
func (n *names) intern(s string) uint32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if h, ok := n.ix[s]; ok {
		return h
	}
	var l []string
	if p := n.list.Load(); p != nil {
		l = *p
	} else {
		l = []string{""}
		n.ix = make(map[string]uint32)
	}
	s = strings.Clone(s) // keep no larger string alive
	h := uint32(len(l))
	l = append(l, s) // readers of the list published before read below len(l)-1 only
	n.list.Store(&l)
	n.ix[s] = h
	return h
}

// str returns the string of handle h.
func (n *names) str(h uint32) string {
	if p := n.list.Load(); p != nil {
		return (*p)[h]
	}
	return ""
}

// access returns the store.Access of entry e.
func (n *names) access(e accessEntry) store.Access {
	l := *n.list.Load()
	return store.Access{Scheme: l[e.scheme], Edition: l[e.edition], Archived: e.archived, Role: l[e.role], Kind: e.kind, External: e.external}
}
