package memstore

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// The store-wide index of access, for Store.Access: under each
// (organization, principal) pair with a member record, as last committed,
// what a permission check needs of it, packed by value in one word: the
// organization's scheme, edition and archived flag and the member's role,
// kind and external flag, the strings as handles into the table of
// interned names. It is settled when an Update commits, like the index of
// memberships (see indexes.go): for every principal whose member record
// the transaction added, changed or removed (or its DeleteOrganization
// dropped), and for every member of the organization when the commit
// changed the organization's scheme, edition or archived flag. A rollback
// leaves it as it was. A member whose entry cannot be packed (a handle
// past 16 bits, a kind past 2) has none, and Access finds it under the
// organization's lock instead.
//
// It is split in shards, each behind a small lock of its own, chosen by
// the key's hash, so that checks from many cores share no lock and a
// commit holds one shard at a time. A key whose two IDs fit in
// inlineIDs bytes together is kept inline, in a 32-byte slot of an open
// addressing table (linear probing, at most 80% full, grown by a quarter
// at a time once large, as a strTable is), two slots to a cache line,
// with the entry's word: a probe that misses every cache
// costs one line, and no pointer is followed. Longer keys are kept by
// their strings, in a Go map of the shard.

// inlineIDs is how many bytes of IDs an inline key holds: the
// organization ID's bytes, then the principal ID's, zero padded; their
// lengths are in the slot's word.
const inlineIDs = 24

// accessKey is an inline key, its bytes read as little-endian words.
type accessKey [inlineIDs / 8]uint64

// longKey is the key of a pair whose IDs do not fit inline.
type longKey struct{ org, principal string }

// The layout of an entry's word.
const (
	wLenBits      = 5 // an inline key's lengths, 0 in the map of long keys
	wOrgLen       = 0
	wPrincipalLen = wOrgLen + wLenBits
	wKind         = wPrincipalLen + wLenBits // 2 bits
	wExternal     = wKind + 2
	wArchived     = wExternal + 1
	wScheme       = wArchived + 1 // 16 bits each
	wEdition      = wScheme + 16
	wRole         = wEdition + 16
	wUsed         = 63 // set in every entry: a zero word is an empty slot

	wLens      = 1<<(2*wLenBits) - 1
	handleMax  = 1<<16 - 1
	kindMax    = 3
	maxLoadNum = 4 // a table is at most 4/5 full
	maxLoadDen = 5
	minSlots   = 16
)

// inlineKey returns the inline key of (orgID, principalID) and the word
// of its lengths, or false if the IDs do not fit.
func inlineKey(orgID, principalID string) (k accessKey, lens uint64, ok bool) {
	if len(orgID)+len(principalID) > inlineIDs {
		return k, 0, false
	}
	var b [inlineIDs]byte
	copy(b[:], orgID)
	copy(b[len(orgID):], principalID)
	for i := range k {
		k[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return k, uint64(len(orgID))<<wOrgLen | uint64(len(principalID))<<wPrincipalLen, true
}

// pack returns the word of an entry, without lengths, or false if it
// cannot be packed.
func pack(scheme, edition, role uint32, kind org.Kind, external, archived bool) (uint64, bool) {
	if scheme > handleMax || edition > handleMax || role > handleMax || kind > kindMax {
		return 0, false
	}
	w := uint64(1)<<wUsed | uint64(kind)<<wKind | uint64(scheme)<<wScheme | uint64(edition)<<wEdition | uint64(role)<<wRole
	if external {
		w |= 1 << wExternal
	}
	if archived {
		w |= 1 << wArchived
	}
	return w, true
}

// accessSlot is a slot of a shard's table: an empty one has w == 0.
// Readers load its words atomically, writers store them so (see
// accessShard).
type accessSlot struct {
	k accessKey
	w uint64
}

// store sets slot s to v, atomically word by word.
func (s *accessSlot) store(v accessSlot) {
	for i := range s.k {
		atomic.StoreUint64(&s.k[i], v.k[i])
	}
	atomic.StoreUint64(&s.w, v.w)
}

const accessShardBits = 6

// accessShard is one shard of the index.
//
// Writers hold mu and change the table in place, under a sequence number
// made odd for the time of the change; readers of inline keys take no
// lock: they read the sequence number, probe the table as last published
// with atomic loads, and read the number again, trying again if it
// changed or was odd (a seqlock). A table that outgrows its slots is
// replaced by a new one, published whole. Long keys are read under mu,
// shared.
type accessShard struct {
	seq   atomic.Uint64
	tab   atomic.Pointer[[]accessSlot] // slots, for readers
	mu    sync.RWMutex
	slots []accessSlot // guarded by mu
	n     int          // used slots, guarded by mu
	long  map[longKey]uint64
	// Two shards share no cache line: a writer of one does not slow the
	// readers of the next.
	_ [128 - 80]byte
}

// accessIndex is the store-wide index of access.
type accessIndex struct {
	shards [1 << accessShardBits]accessShard
	closed atomic.Bool
}

var (
	accessSeed  = maphash.MakeSeed()
	accessSeeds = [4]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64()}
)

// mix folds the 128-bit product of a and b into 64 bits.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hashKey returns the hash of an inline key, seeded per process: its top
// bits choose the shard, the others the first slot probed (see home).
func hashKey(k *accessKey, lens uint64) uint64 {
	h := mix(k[0]^accessSeeds[0], k[1]^accessSeeds[1]) ^ mix(k[2]^accessSeeds[2], lens^accessSeeds[3])
	return h * 0x9e3779b97f4a7c15
}

// home returns the first slot of hash h in a table of n slots.
func home(h uint64, n int) int {
	hi, _ := bits.Mul64(h<<accessShardBits, uint64(n))
	return int(hi)
}

func (sh *accessShard) home(h uint64) int { return home(h, len(sh.slots)) }

func (x *accessIndex) shard(h uint64) *accessShard {
	return &x.shards[h>>(64-accessShardBits)]
}

// get returns the word of the entry of (orgID, principalID), or 0.
func (x *accessIndex) get(orgID, principalID string) uint64 {
	k, lens, ok := inlineKey(orgID, principalID)
	if !ok {
		lk := longKey{orgID, principalID}
		sh := x.shard(maphash.Comparable(accessSeed, lk))
		sh.mu.RLock()
		w := sh.long[lk]
		sh.mu.RUnlock()
		return w
	}
	h := hashKey(&k, lens)
	return x.shard(h).find(h, &k, lens)
}

// find returns the word of inline key k, or 0, without a lock (see
// accessShard).
func (sh *accessShard) find(h uint64, k *accessKey, lens uint64) uint64 {
	for try := 0; ; try++ {
		if seq := sh.seq.Load(); seq&1 == 0 {
			w := probe(sh.tab.Load(), h, k, lens)
			if sh.seq.Load() == seq {
				return w
			}
		}
		if try > 2 {
			runtime.Gosched() // a writer is changing the table
		}
	}
}

// probe looks for inline key k in table t. A table a writer changes
// meanwhile may answer wrong, never loop forever: the caller tries again.
func probe(t *[]accessSlot, h uint64, k *accessKey, lens uint64) uint64 {
	if t == nil || len(*t) == 0 {
		return 0
	}
	slots := *t
	for i, c := home(h, len(slots)), 0; c < len(slots); c++ {
		s := &slots[i]
		w := atomic.LoadUint64(&s.w)
		if w == 0 {
			return 0
		}
		if w&wLens == lens && atomic.LoadUint64(&s.k[0]) == k[0] && atomic.LoadUint64(&s.k[1]) == k[1] && atomic.LoadUint64(&s.k[2]) == k[2] {
			return w
		}
		if i++; i == len(slots) {
			i = 0
		}
	}
	return 0
}

// set puts word w (0: none) under (orgID, principalID).
func (x *accessIndex) set(orgID, principalID string, w uint64) {
	k, lens, ok := inlineKey(orgID, principalID)
	if !ok {
		lk := longKey{orgID, principalID}
		sh := x.shard(maphash.Comparable(accessSeed, lk))
		sh.mu.Lock()
		if w == 0 {
			delete(sh.long, lk)
		} else if !x.closed.Load() {
			if sh.long == nil {
				sh.long = make(map[longKey]uint64)
			}
			sh.long[lk] = w
		}
		sh.mu.Unlock()
		return
	}
	h := hashKey(&k, lens)
	sh := x.shard(h)
	sh.mu.Lock()
	sh.seq.Add(1)
	if w == 0 {
		sh.delete(h, &k, lens)
	} else if !x.closed.Load() {
		sh.put(h, &k, w|lens)
	}
	sh.seq.Add(1)
	sh.mu.Unlock()
}

// put adds, or replaces, the entry of inline key k (w holds its lengths).
func (sh *accessShard) put(h uint64, k *accessKey, w uint64) {
	if (sh.n+1)*maxLoadDen > len(sh.slots)*maxLoadNum {
		n := 2 * len(sh.slots)
		if len(sh.slots) >= 1024 {
			n = len(sh.slots) + len(sh.slots)/4
		}
		sh.resize(max(minSlots, n))
	}
	lens := w & wLens
	for i := sh.home(h); ; {
		s := &sh.slots[i]
		if s.w == 0 {
			s.store(accessSlot{*k, w})
			sh.n++
			return
		}
		if s.w&wLens == lens && s.k == *k {
			atomic.StoreUint64(&s.w, w)
			return
		}
		if i++; i == len(sh.slots) {
			i = 0
		}
	}
}

// delete removes the entry of inline key k, if there is one, shifting
// back the entries after it that may move closer to their first slot,
// so that no probe stops short of an entry.
func (sh *accessShard) delete(h uint64, k *accessKey, lens uint64) {
	n := len(sh.slots)
	if n == 0 {
		return
	}
	i := sh.home(h)
	for {
		s := &sh.slots[i]
		if s.w == 0 {
			return
		}
		if s.w&wLens == lens && s.k == *k {
			break
		}
		if i++; i == n {
			i = 0
		}
	}
	for j := (i + 1) % n; sh.slots[j].w != 0; j = (j + 1) % n {
		s := &sh.slots[j]
		home := sh.home(hashKey(&s.k, s.w&wLens))
		// Entry j may move to i unless its first slot is in (i, j],
		// cyclically.
		if (j-home+n)%n >= (j-i+n)%n {
			sh.slots[i].store(*s)
			i = j
		}
	}
	sh.slots[i].store(accessSlot{})
	sh.n--
	if n > minSlots && sh.n*4 < n {
		sh.resize(max(minSlots, 2*sh.n))
	}
}

// resize moves the entries to a table of n slots.
func (sh *accessShard) resize(n int) {
	old := sh.slots
	sh.slots = make([]accessSlot, n)
	for _, s := range old {
		if s.w == 0 {
			continue
		}
		for i := sh.home(hashKey(&s.k, s.w&wLens)); ; {
			if sh.slots[i].w == 0 {
				sh.slots[i] = s
				break
			}
			if i++; i == n {
				i = 0
			}
		}
	}
	pub := sh.slots // a header of its own: readers never see sh.slots change
	sh.tab.Store(&pub)
}

// settle brings the entries of organization st in line with what it
// holds, d, for every principal c notes, and for every member when all is
// set. It runs at commit, under the organization's lock.
func (x *accessIndex) settle(st *orgState, d *orgData, c *touched[member], all bool) {
	if x.closed.Load() {
		return
	}
	var scheme, edition uint32
	if d.rec != nil {
		scheme, edition = interned.intern(d.rec.Scheme), interned.intern(d.rec.Edition)
	}
	settleOne := func(p string) {
		var w uint64
		if m, ok := d.members[p]; ok && d.rec != nil {
			w, _ = pack(scheme, edition, m.role, m.kind, m.external, d.rec.Archived)
		}
		x.set(st.id, p, w)
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
		sh.seq.Add(1)
		sh.tab.Store(nil)
		sh.slots, sh.n, sh.long = nil, 0, nil
		sh.seq.Add(1)
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
	mu   sync.RWMutex
	ix   map[string]uint32
	list atomic.Pointer[[]string] // list[h] is the string of handle h; list[0] is ""
}

// intern returns the handle of s, giving it one if it has none.
func (n *names) intern(s string) uint32 {
	// Nearly every call finds its string: Updates of different
	// organizations share the lock, not its exclusive side.
	n.mu.RLock()
	h, ok := n.ix[s]
	n.mu.RUnlock()
	if ok {
		return h
	}
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
	h = uint32(len(l))
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

// access returns the store.Access of entry word w.
func (n *names) access(w uint64) store.Access {
	l := *n.list.Load()
	return store.Access{
		Scheme:   l[w>>wScheme&handleMax],
		Edition:  l[w>>wEdition&handleMax],
		Archived: w&(1<<wArchived) != 0,
		Role:     l[w>>wRole&handleMax],
		Kind:     org.Kind(w >> wKind & kindMax),
		External: w&(1<<wExternal) != 0,
	}
}
