package memstore

import (
	"hash/maphash"
	"math"
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
// It is two tables. The first interns organizations: under each
// organization ID with at least one entry, a handle of 32 bits, given
// when the organization's first entry is settled and dropped with its
// last one; handles are never given twice, so an entry found under a
// handle is one of that organization's (once all 2^32-1 have been given,
// an organization new to the index gets none, and Access reads it under
// its lock). The second holds the entries, under (handle, principal ID). A check looks the organization up in the
// first, small as organizations are few next to members, then the member
// in the second: one probe of each.
//
// Each table is split in classes by the length of the key's ID, and each
// class in shards, chosen by the key's hash, each behind a small lock of
// its own, so that checks from many cores share no lock and a commit
// holds one shard at a time. A shard of class c is an open addressing
// table (linear probing, at most 80% full, grown by a quarter at a time
// once large, as a strTable is) of slots of strides[c] words: the entry's
// word, then the key inline, the handle's 4 bytes and then the ID's,
// zero padded, its length in the word (the table of organizations keys
// them by handle 0). So a probe that misses every cache costs one or two
// lines (three past 52 bytes), and no pointer is followed: slots of 32 bytes
// (IDs up to 20 bytes), 48 (up to 36: the service's organization IDs,
// UUIDs), 64 (up to 52) and 144 (up to 132, past org.MaxIDLen). Longer
// keys, which only a caller of the store who skips validation can make,
// are kept by their strings, in a Go map of the shard.

// strides are the words of a slot of each class; a class holds the keys
// whose IDs fit in its slots, and no shorter class's.
var strides = [nClasses]int{4, 6, 8, 18}

const (
	nClasses = 4
	// maxKeyWords is the words of the longest inline key.
	maxKeyWords = 17
	// maxInline is the longest ID kept inline.
	maxInline = 8*maxKeyWords - 4
)

// classes holds the class of the keys of IDs of each length kept inline.
var classes = func() (cs [maxInline + 1]uint8) {
	for n := range cs {
		for c := nClasses - 1; c >= 0 && n <= 8*(strides[c]-1)-4; c-- {
			cs[n] = uint8(c)
		}
	}
	return cs
}()

// class returns the class of keys whose ID is n bytes long, or nClasses
// if they are kept in the maps of long keys.
func class(n int) int {
	if n > maxInline {
		return nClasses
	}
	return int(classes[n])
}

// accessKey is an inline key, built for a lookup: the handle's 4 bytes,
// then the ID's, zero padded, read as little-endian words.
type accessKey [maxKeyWords]uint64

// makeKey builds the inline key of (a, id), which fits, and returns its
// words.
func makeKey(k *accessKey, a uint32, id string) int {
	n := len(id)
	w := uint64(a)
	for j := range min(4, n) {
		w |= uint64(id[j]) << (32 + 8*j)
	}
	k[0] = w
	i := 1
	for off := 4; off < n; off += 8 {
		if off+8 <= n {
			b := id[off : off+8]
			k[i] = uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
				uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		} else {
			w := uint64(0)
			for j := range n - off {
				w |= uint64(id[off+j]) << (8 * j)
			}
			k[i] = w
		}
		i++
	}
	return i
}

// keyWords is the words of the inline key of an ID n bytes long.
func keyWords(n int) int { return (4 + n + 7) / 8 }

// longKey is the key of a pair whose ID does not fit inline.
type longKey struct {
	a  uint32
	id string
}

// The layout of an entry's word.
const (
	wLenBits  = 8 // the length of the key's ID, 0 in the maps of long keys
	wLen      = 0
	wKind     = wLen + wLenBits // 2 bits
	wExternal = wKind + 2
	wArchived = wExternal + 1
	wScheme   = wArchived + 1 // 16 bits each
	wEdition  = wScheme + 16
	wRole     = wEdition + 16
	wHandle   = 16 // in the table of organizations: the handle, 32 bits
	wUsed     = 63 // set in every entry: a zero word is an empty slot

	wLens      = 1<<wLenBits - 1
	handleMax  = 1<<16 - 1
	kindMax    = 3
	maxLoadNum = 4 // a table is at most 4/5 full
	maxLoadDen = 5
	minSlots   = 16
)

// pack returns the word of an entry, without its length, or false if it
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

// orgWord returns the word of handle h in the table of organizations.
func orgWord(h uint32) uint64 { return 1<<wUsed | uint64(h)<<wHandle }

const accessShardBits = 6

// accessShard is one shard of a class of a table.
//
// Writers hold mu and change the slots in place, under a sequence number
// made odd for the time of the change; readers of inline keys take no
// lock: they read the sequence number, probe the slots as last published
// with atomic loads, and read the number again, trying again if it
// changed or was odd (a seqlock). Slots that outgrow their table are
// moved to a new one, published whole. Long keys are read under mu,
// shared.
type accessShard struct {
	seq   atomic.Uint64
	tab   atomic.Pointer[accessSlots] // slots, for readers
	mu    sync.RWMutex
	slots []uint64 // the slots, stride words each; guarded by mu
	n     int      // used slots, guarded by mu
	long  map[longKey]uint64
	// Two shards share no cache line: a writer of one does not slow the
	// readers of the next.
	_ [128 - 80]byte
}

// accessSlots is a shard's table as published to readers: its slots, and
// how many.
type accessSlots struct {
	n     int
	slots []uint64
}

// accessTable is one of the index's two tables: its classes, and in the
// last one the maps of long keys.
type accessTable struct {
	shards [nClasses + 1][1 << accessShardBits]accessShard
}

// accessIndex is the store-wide index of access.
type accessIndex struct {
	orgs    accessTable // (0, organization ID): orgWord(handle)
	members accessTable // (handle, principal ID): the entry's word
	// last is the last handle given: handles are never given twice.
	last   atomic.Uint32
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

// hashWords returns the hash of inline key k, the words of the key of an
// ID n bytes long, seeded per process: its top bits choose the shard, the
// others the first slot probed (see home).
func hashWords(k []uint64, n int) uint64 {
	h := accessSeeds[0] ^ uint64(n)
	for i := 0; i < len(k); i += 2 {
		var b uint64
		if i+1 < len(k) {
			b = k[i+1]
		}
		h = mix(k[i]^accessSeeds[1], b^h^accessSeeds[2])
	}
	return mix(h, accessSeeds[3])
}

// hashLong returns the hash of a long key, as hashWords does of an inline
// one.
func hashLong(a uint32, id string) uint64 {
	return mix(maphash.String(accessSeed, id)^uint64(a), accessSeeds[3])
}

// home returns the first slot of hash h in a table of n slots.
func home(h uint64, n int) int {
	hi, _ := bits.Mul64(h<<accessShardBits, uint64(n))
	return int(hi)
}

func (t *accessTable) shard(c int, h uint64) *accessShard {
	return &t.shards[c][h>>(64-accessShardBits)]
}

// get returns the word of the entry of (orgID, principalID), or 0.
func (x *accessIndex) get(orgID, principalID string) uint64 {
	o := x.orgs.get(0, orgID)
	if o == 0 {
		return 0
	}
	return x.members.get(uint32(o>>wHandle), principalID)
}

// get returns the word of the entry of (a, id), or 0.
func (t *accessTable) get(a uint32, id string) uint64 {
	c := class(len(id))
	if c == nClasses {
		sh := t.shard(c, hashLong(a, id))
		sh.mu.RLock()
		w := sh.long[longKey{a, id}]
		sh.mu.RUnlock()
		return w
	}
	var k accessKey
	kw := makeKey(&k, a, id)
	h := hashWords(k[:kw], len(id))
	return t.shard(c, h).find(strides[c], h, &k, len(id))
}

// find returns the word of inline key k, of an ID n bytes long, or 0,
// without a lock (see accessShard).
func (sh *accessShard) find(stride int, h uint64, k *accessKey, n int) uint64 {
	for try := 0; ; try++ {
		if seq := sh.seq.Load(); seq&1 == 0 {
			w := probe(sh.tab.Load(), stride, h, k, n)
			if sh.seq.Load() == seq {
				return w
			}
		}
		if try > 2 {
			runtime.Gosched() // a writer is changing the table
		}
	}
}

// probeHook, if set, is called by probe at each slot whose word it has
// read and found to be of a key of the right length, before it reads the
// key: a test's way into the moment between the two.
var probeHook func()

// probe looks for inline key k, of an ID n bytes long, in table t of
// slots of stride words. A table a writer changes meanwhile may answer
// wrong, never loop forever nor read out of its slot: the caller tries
// again.
func probe(t *accessSlots, stride int, h uint64, k *accessKey, n int) uint64 {
	if t == nil || t.n == 0 {
		return 0
	}
	slots, ns := t.slots, t.n
	kw := keyWords(n)
	for i, c := home(h, ns), 0; c < ns; c++ {
		s := slots[i*stride : i*stride+stride]
		w := atomic.LoadUint64(&s[0])
		if w == 0 {
			return 0
		}
		if w&wLens == uint64(n) {
			if probeHook != nil {
				probeHook()
			}
			if keyEqual(s[1:], k, kw) {
				return w
			}
		}
		if i++; i == ns {
			i = 0
		}
	}
	return 0
}

// keyEqual reports whether key words s are those of k, of kw words.
func keyEqual(s []uint64, k *accessKey, kw int) bool {
	for j := range kw {
		if atomic.LoadUint64(&s[j]) != k[j] {
			return false
		}
	}
	return true
}

// set puts word w (0: none) under (a, id), unless closed is set. The
// caller holds the lock of the organization the key is of.
func (t *accessTable) set(a uint32, id string, w uint64, closed *atomic.Bool) {
	c := class(len(id))
	if c == nClasses {
		sh := t.shard(c, hashLong(a, id))
		lk := longKey{a, id}
		sh.mu.Lock()
		if w == 0 {
			delete(sh.long, lk)
		} else if !closed.Load() {
			if sh.long == nil {
				sh.long = make(map[longKey]uint64)
			}
			sh.long[lk] = w
		}
		sh.mu.Unlock()
		return
	}
	var k accessKey
	kw := makeKey(&k, a, id)
	h := hashWords(k[:kw], len(id))
	sh, stride := t.shard(c, h), strides[c]
	sh.mu.Lock()
	sh.seq.Add(1)
	if w == 0 {
		sh.delete(stride, h, &k, len(id))
	} else if !closed.Load() {
		sh.put(stride, h, &k, w|uint64(len(id)))
	}
	sh.seq.Add(1)
	sh.mu.Unlock()
}

// slot returns slot i of the shard's table.
func (sh *accessShard) slot(stride, i int) []uint64 {
	return sh.slots[i*stride : i*stride+stride]
}

// matches reports whether slot s holds the inline key k of an ID n bytes
// long. The caller holds mu.
func matches(s []uint64, k *accessKey, n int) bool {
	if s[0]&wLens != uint64(n) {
		return false
	}
	for j := range keyWords(n) {
		if s[1+j] != k[j] {
			return false
		}
	}
	return true
}

// slotHash returns the hash of the key in used slot s.
func slotHash(s []uint64) uint64 {
	n := int(s[0] & wLens)
	return hashWords(s[1:1+keyWords(n)], n)
}

// put adds, or replaces, the entry of inline key k of an ID n bytes long
// (w holds n).
func (sh *accessShard) put(stride int, h uint64, k *accessKey, w uint64) {
	ns := len(sh.slots) / stride
	if (sh.n+1)*maxLoadDen > ns*maxLoadNum {
		m := 2 * ns
		if ns >= 1024 {
			m = ns + ns/4
		}
		sh.resize(stride, max(minSlots, m))
		ns = len(sh.slots) / stride
	}
	n := int(w & wLens)
	for i := home(h, ns); ; {
		s := sh.slot(stride, i)
		if s[0] == 0 {
			for j := range keyWords(n) {
				atomic.StoreUint64(&s[1+j], k[j])
			}
			atomic.StoreUint64(&s[0], w)
			sh.n++
			return
		}
		if matches(s, k, n) {
			atomic.StoreUint64(&s[0], w)
			return
		}
		if i++; i == ns {
			i = 0
		}
	}
}

// delete removes the entry of inline key k of an ID n bytes long, if
// there is one, shifting back the entries after it that may move closer
// to their first slot, so that no probe stops short of an entry.
func (sh *accessShard) delete(stride int, h uint64, k *accessKey, n int) {
	ns := len(sh.slots) / stride
	if ns == 0 {
		return
	}
	i := home(h, ns)
	for {
		s := sh.slot(stride, i)
		if s[0] == 0 {
			return
		}
		if matches(s, k, n) {
			break
		}
		if i++; i == ns {
			i = 0
		}
	}
	for j := (i + 1) % ns; sh.slot(stride, j)[0] != 0; j = (j + 1) % ns {
		s := sh.slot(stride, j)
		hj := home(slotHash(s), ns)
		// Entry j may move to i unless its first slot is in (i, j],
		// cyclically.
		if (j-hj+ns)%ns >= (j-i+ns)%ns {
			d := sh.slot(stride, i)
			for x := range d {
				atomic.StoreUint64(&d[x], s[x])
			}
			i = j
		}
	}
	d := sh.slot(stride, i)
	for x := range d {
		atomic.StoreUint64(&d[x], 0)
	}
	sh.n--
	if ns > minSlots && sh.n*4 < ns {
		sh.resize(stride, max(minSlots, 2*sh.n))
	}
}

// resize moves the entries to a table of n slots.
func (sh *accessShard) resize(stride, n int) {
	old := sh.slots
	sh.slots = make([]uint64, n*stride)
	for o := 0; o < len(old); o += stride {
		s := old[o : o+stride]
		if s[0] == 0 {
			continue
		}
		for i := home(slotHash(s), n); ; {
			if d := sh.slot(stride, i); d[0] == 0 {
				copy(d, s)
				break
			}
			if i++; i == n {
				i = 0
			}
		}
	}
	sh.tab.Store(&accessSlots{n, sh.slots}) // readers never see sh.slots change
}

// newHandle returns a handle never given before, or 0 once all have been.
func (x *accessIndex) newHandle() uint32 {
	for {
		h := x.last.Load()
		if h == math.MaxUint32 {
			return 0
		}
		if x.last.CompareAndSwap(h, h+1) {
			return h + 1
		}
	}
}

// settle brings the entries of organization st in line with what it
// holds, d, for every principal c notes, and for every member when all is
// set. It runs at commit, under the organization's lock. The organization
// has a handle, and an entry in the table of organizations, from its
// first entry to its last: the entries of its members are settled after
// it gets its handle, and before it loses it.
func (x *accessIndex) settle(st *orgState, d *orgData, c *touched[member], all bool) {
	if x.closed.Load() {
		return
	}
	live := d.rec != nil && len(d.members) > 0
	if live && st.handle == 0 {
		if st.handle = x.newHandle(); st.handle != 0 {
			x.orgs.set(0, st.id, orgWord(st.handle), &x.closed)
		}
	}
	if st.handle == 0 {
		return // no entry to settle: Access reads under the lock
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
		x.members.set(st.handle, p, w, &x.closed)
	}
	if all && d.rec != nil {
		for p := range d.members {
			settleOne(p)
		}
	}
	c.each(settleOne)
	if !live {
		// Every entry it had was of a member c notes: all are gone.
		x.orgs.set(0, st.id, 0, &x.closed)
		st.handle = 0
	}
}

func (x *accessIndex) close() {
	x.closed.Store(true)
	for _, t := range []*accessTable{&x.orgs, &x.members} {
		for c := range t.shards {
			for i := range t.shards[c] {
				sh := &t.shards[c][i]
				sh.mu.Lock()
				sh.seq.Add(1)
				sh.tab.Store(nil)
				sh.slots, sh.n, sh.long = nil, 0, nil
				sh.seq.Add(1)
				sh.mu.Unlock()
			}
		}
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
