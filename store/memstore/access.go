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
// changed the organization's scheme, edition or archived flag, or started
// or ended its trial. A rollback leaves it as it was. A member whose entry
// cannot be packed (a handle past 16 bits, a kind past 2) has none, and
// Access finds it under the organization's lock instead; so has none
// every member of an organization on trial (see onTrial), whose trial
// edition and end have no room in the word.
//
// It is two tables. The first interns organizations: under each
// organization ID with at least one entry, a handle of 32 bits, given
// when the organization's first entry is settled and dropped with its
// last one; handles are never given twice, so an entry found under a
// handle is one of that organization's (once all 2^32-1 have been given,
// an organization new to the index gets none, and Access reads it under
// its lock). The second holds the entries, keyed by (handle, principal
// ID) but placed by the hash of (place, principal ID), the organization's
// place being the low bits of the hash of its own key (see orgPlaces): a
// check finds the slots it reads in both tables from the IDs alone, and
// reads them together, comparing the member's key with the handle once
// the first gives it. So a check that misses the caches waits for the
// two reads at once, not one after the other: one probe of each table.
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

// shortWords is the words of the longest inline key of the first three
// classes, those of nearly every ID: a lookup of such a key builds it in
// a shortKey, which costs less to clear than an accessKey.
const shortWords = 7

type shortKey [shortWords]uint64

// makeKey builds the inline key of (a, id), which fits, and returns its
// words, k[:keyWords(len(id))]. It reads the ID a word at a time, the
// last, partial word by a load that overlaps the one before.
func makeKey(k []uint64, a uint32, id string) []uint64 {
	n := len(id)
	if n < 4 {
		w := uint64(a)
		for j := range n {
			w |= uint64(id[j]) << (32 + 8*j)
		}
		k[0] = w
		return k[:1]
	}
	k[0] = uint64(a) | uint64(le32(id))<<32
	i, off := 1, 4
	for ; off+8 <= n; off += 8 {
		k[i] = le64(id[off:])
		i++
	}
	if r := n - off; r > 0 {
		if n >= 8 {
			k[i] = le64(id[n-8:]) >> (8 * (8 - r))
		} else {
			k[i] = uint64(le32(id[n-4:]) >> (8 * (4 - r)))
		}
		i++
	}
	return k[:i]
}

// le32 and le64 read the first 4 and 8 bytes of s as a little-endian
// number.
func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
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
	// places holds the place of each organization with a handle, by its
	// handle, for the writers of the table of members.
	places orgPlaces
	// last is the last handle given: handles are never given twice.
	last   atomic.Uint32
	closed atomic.Bool
}

// orgPlaces maps the handle of each organization with one to its place,
// the low 32 bits of the hash of its key in the table of organizations
// (see orgPlace): an entry of the table of members is placed by the hash
// of (place, principal ID) and keyed by (handle, principal ID), so that a
// check finds both its slots from the IDs it is given, and reads them at
// once, before it knows the handle; a writer that moves an entry of the
// table of members (to grow it, or to shift it back over one removed)
// finds its place here by its handle. A place is set before the
// organization's first entry and dropped after its last.
type orgPlaces struct {
	mu sync.RWMutex
	m  map[uint32]uint32
}

// of returns the place of the organization of handle a; with no map (a
// table keyed otherwise, as the table of organizations), a itself.
func (p *orgPlaces) of(a uint32) uint32 {
	if p == nil {
		return a
	}
	p.mu.RLock()
	pl := p.m[a]
	p.mu.RUnlock()
	return pl
}

func (p *orgPlaces) set(a, pl uint32) {
	p.mu.Lock()
	if p.m == nil {
		p.m = make(map[uint32]uint32)
	}
	p.m[a] = pl
	p.mu.Unlock()
}

func (p *orgPlaces) drop(a uint32) {
	p.mu.Lock()
	delete(p.m, a)
	p.mu.Unlock()
}

// orgPlace returns the place of organization id: the low bits of the hash
// of its key in the table of organizations.
func orgPlace(id string) uint32 {
	if class(len(id)) == nClasses {
		return uint32(hashLong(0, id))
	}
	var k accessKey
	return uint32(hashAt(makeKey(k[:], 0, id), len(id), 0))
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

// hashID returns the hash of the ID of inline key k, the words of the key
// of an ID n bytes long (its handle aside), seeded per process.
func hashID(k []uint64, n int) uint64 {
	h := accessSeeds[0] ^ uint64(n)
	w := k[0] &^ (1<<32 - 1)
	for i := 1; ; i += 2 {
		var b uint64
		if i < len(k) {
			b = k[i]
		}
		h = mix(w^accessSeeds[1], b^h^accessSeeds[2])
		if i+1 >= len(k) {
			break
		}
		w = k[i+1]
	}
	return h
}

// hashAt returns the hash that places inline key k, of an ID n bytes
// long, at place a: its top bits choose the shard, the others the first
// slot probed (see home). An entry of the table of organizations is
// placed at 0, one of a table keyed by handles at its handle, one of the
// table of members at the place of its organization (see orgPlaces). The
// hash of the ID does not wait for the place: a check computes the
// member's while it computes the organization's, then mixes the place in.
func hashAt(k []uint64, n int, a uint32) uint64 {
	return mix(hashID(k, n)^uint64(a), accessSeeds[3])
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
//
// When both IDs fit inline, it finds both shards and both first slots
// from the IDs alone, the member's by the organization's place, and reads
// the two tables under one retry loop: the loads of the member's slot do
// not wait for the organization's handle, only the comparison of its key
// does, so a check that misses the caches waits for about one miss, not
// two in a row.
func (x *accessIndex) get(orgID, principalID string) uint64 {
	co, cp := class(len(orgID)), class(len(principalID))
	if co < 3 && cp < 3 {
		var ko, kp shortKey
		return x.getInline(makeKey(ko[:], 0, orgID), makeKey(kp[:], 0, principalID), co, cp, len(orgID), len(principalID))
	}
	if co < nClasses && cp < nClasses {
		var ko, kp accessKey
		return x.getInline(makeKey(ko[:], 0, orgID), makeKey(kp[:], 0, principalID), co, cp, len(orgID), len(principalID))
	}
	o := x.orgs.get(0, orgID)
	if o == 0 {
		return 0
	}
	return x.members.getAt(orgPlace(orgID), uint32(o>>wHandle), principalID)
}

// getInline is get of inline keys ko of the organization, class co, of an
// ID no bytes long, and kp of the principal, class cp, np bytes, both
// with handle 0.
func (x *accessIndex) getInline(ko, kp []uint64, co, cp, no, np int) uint64 {
	ho, hp := hashAt(ko, no, 0), hashID(kp, np)
	hp = mix(hp^uint64(uint32(ho)), accessSeeds[3]) // hashAt(kp, np, place)
	so, sp := x.orgs.shard(co, ho), x.members.shard(cp, hp)
	for try := 0; ; try++ {
		seqo, seqp := so.seq.Load(), sp.seq.Load()
		if (seqo|seqp)&1 == 0 {
			to, tp := so.tab.Load(), sp.tab.Load()
			// Read the word of the member's first slot, then the
			// organization's, before either probe: both loads are in
			// flight at once, whatever the processor makes of the code
			// between them.
			touch(tp, strides[cp], hp)
			touch(to, strides[co], ho)
			o := probe(to, strides[co], ho, ko, no)
			w := uint64(0)
			if o != 0 {
				kp[0] = kp[0]&^(1<<32-1) | o>>wHandle&(1<<32-1)
				w = probe(tp, strides[cp], hp, kp, np)
			}
			if so.seq.Load() == seqo && sp.seq.Load() == seqp {
				return w
			}
		}
		if try > 2 {
			runtime.Gosched() // a writer is changing a table
		}
	}
}

// get returns the word of the entry of (a, id), or 0, in a table whose
// entries are placed by their keys' own hash (not the table of members).
func (t *accessTable) get(a uint32, id string) uint64 { return t.getAt(a, a, id) }

// getAt returns the word of the entry of (a, id), placed by the hash of
// (pl, id), or 0.
func (t *accessTable) getAt(pl, a uint32, id string) uint64 {
	c := class(len(id))
	if c == nClasses {
		sh := t.shard(c, hashLong(a, id))
		sh.mu.RLock()
		w := sh.long[longKey{a, id}]
		sh.mu.RUnlock()
		return w
	}
	var k accessKey
	kk := makeKey(k[:], a, id)
	h := hashAt(kk, len(id), pl)
	return t.shard(c, h).find(strides[c], h, kk, len(id))
}

// find returns the word of inline key k, of an ID n bytes long, or 0,
// without a lock (see accessShard).
func (sh *accessShard) find(stride int, h uint64, k []uint64, n int) uint64 {
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

// probe looks for inline key k, the words of the key of an ID n bytes
// long, in table t of slots of stride words. A table a writer changes
// meanwhile may answer wrong, never loop forever nor read out of its
// slot: the caller tries again.
func probe(t *accessSlots, stride int, h uint64, k []uint64, n int) uint64 {
	if t == nil || t.n == 0 || len(k) >= stride {
		return 0
	}
	slots, ns := t.slots, t.n
	for i, c := home(h, ns), 0; c < ns; c++ {
		o := i * stride
		if o+stride > len(slots) {
			return 0
		}
		s := slots[o : o+stride]
		w := atomic.LoadUint64(&s[0])
		if w == 0 {
			return 0
		}
		if w&wLens == uint64(n) {
			if probeHook != nil {
				probeHook()
			}
			if keyEqual(s[1:1+len(k)], k) {
				return w
			}
		}
		if i++; i == ns {
			i = 0
		}
	}
	return 0
}

// touch reads the word of the first slot of hash h in table t of slots
// of stride words, if it has slots, for the cache.
func touch(t *accessSlots, stride int, h uint64) {
	if t != nil && t.n > 0 {
		if o := home(h, t.n) * stride; o < len(t.slots) {
			atomic.LoadUint64(&t.slots[o])
		}
	}
}

// keyEqual reports whether key words s are those of k.
func keyEqual(s, k []uint64) bool {
	s = s[:len(k)]
	for j := range k {
		if atomic.LoadUint64(&s[j]) != k[j] {
			return false
		}
	}
	return true
}

// set puts word w (0: none) under (a, id), unless closed is set, in a
// table whose entries are placed by their keys' own hash. The caller
// holds the lock of the organization the key is of.
func (t *accessTable) set(a uint32, id string, w uint64, closed *atomic.Bool) {
	t.setAt(nil, a, a, id, w, closed)
}

// setAt is set in a table whose entries are placed by the hash of (their
// organization's place, their ID): pl is the place of a, and places
// those of every handle.
func (t *accessTable) setAt(places *orgPlaces, pl, a uint32, id string, w uint64, closed *atomic.Bool) {
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
	kk := makeKey(k[:], a, id)
	h := hashAt(kk, len(id), pl)
	sh, stride := t.shard(c, h), strides[c]
	sh.mu.Lock()
	sh.seq.Add(1)
	if w == 0 {
		sh.delete(stride, h, kk, len(id), places)
	} else if !closed.Load() {
		sh.put(stride, h, kk, w|uint64(len(id)), places)
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
func matches(s []uint64, k []uint64, n int) bool {
	if s[0]&wLens != uint64(n) {
		return false
	}
	for j := range k {
		if s[1+j] != k[j] {
			return false
		}
	}
	return true
}

// slotHash returns the hash that places the key in used slot s: of its
// handle's place in places.
func slotHash(s []uint64, places *orgPlaces) uint64 {
	n := int(s[0] & wLens)
	return hashAt(s[1:1+keyWords(n)], n, places.of(uint32(s[1])))
}

// put adds, or replaces, the entry of inline key k of an ID n bytes long
// (w holds n).
func (sh *accessShard) put(stride int, h uint64, k []uint64, w uint64, places *orgPlaces) {
	ns := len(sh.slots) / stride
	if (sh.n+1)*maxLoadDen > ns*maxLoadNum {
		m := 2 * ns
		if ns >= 1024 {
			m = ns + ns/4
		}
		sh.resize(stride, max(minSlots, m), places)
		ns = len(sh.slots) / stride
	}
	n := int(w & wLens)
	for i := home(h, ns); ; {
		s := sh.slot(stride, i)
		if s[0] == 0 {
			for j := range k {
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
func (sh *accessShard) delete(stride int, h uint64, k []uint64, n int, places *orgPlaces) {
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
		hj := home(slotHash(s, places), ns)
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
		sh.resize(stride, max(minSlots, 2*sh.n), places)
	}
}

// resize moves the entries to a table of n slots.
func (sh *accessShard) resize(stride, n int, places *orgPlaces) {
	old := sh.slots
	sh.slots = make([]uint64, n*stride)
	for o := 0; o < len(old); o += stride {
		s := old[o : o+stride]
		if s[0] == 0 {
			continue
		}
		for i := home(slotHash(s, places), n); ; {
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
			x.places.set(st.handle, orgPlace(st.id))
			x.orgs.set(0, st.id, orgWord(st.handle), &x.closed)
		}
	}
	if st.handle == 0 {
		return // no entry to settle: Access reads under the lock
	}
	pl := orgPlace(st.id)
	var scheme, edition uint32
	if d.rec != nil {
		scheme, edition = interned.intern(d.rec.Scheme), interned.intern(d.rec.Edition)
	}
	trial := onTrial(d.rec)
	settleOne := func(p string) {
		var w uint64
		if m, ok := d.members[p]; ok && d.rec != nil && !trial {
			w, _ = pack(scheme, edition, m.role, m.kind, m.external, d.rec.Archived)
		}
		x.members.setAt(&x.places, pl, st.handle, p, w, &x.closed)
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
		x.places.drop(st.handle)
		st.handle = 0
	}
}

// onTrial reports whether organization record o (nil: none) holds a trial
// (either field set, as a store that does not validate records may be
// given one without the other): the entries of its members cannot hold
// it, so it has none, and Access reads its members under its lock.
func onTrial(o *org.Organization) bool {
	return o != nil && (o.TrialEdition != "" || !o.TrialEndsAt.IsZero())
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
	x.places.mu.Lock()
	x.places.m = nil
	x.places.mu.Unlock()
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
		// The three handles: interned names are never dropped, so a
		// triple keeps its handles for the life of the process.
		Code: w >> wScheme & (1<<(3*16) - 1),
	}
}
