package memstore

import (
	"hash/maphash"
	"math/bits"
)

// strTable is a hash table from strings to values of V, for the large
// store-wide indexes: open addressing with linear probing over one slice
// of slots per part, each slot holding its key and value together, kept
// at most 4/5 full and grown by a quarter at a time once large, so that a
// million entries take about 1.4 slots each (a Go map of that size may
// hold as few as one entry per two slots). It is split in parts by the
// key's hash, so that growing moves one part at a time. The zero V marks
// an empty slot: a table never holds it.
//
// The zero value is an empty table. It is not safe for concurrent use.
type strTable[V comparable] struct {
	parts [1 << strTableBits]strPart[V]
	n     int
}

const strTableBits = 6

type strPart[V comparable] struct {
	slots []strSlot[V]
	n     int
}

type strSlot[V comparable] struct {
	k string
	v V
}

var strSeed = maphash.MakeSeed()

// locate returns the part of key k and its first slot in a part of n
// slots.
func (t *strTable[V]) locate(k string) (*strPart[V], uint64) {
	h := maphash.String(strSeed, k)
	return &t.parts[h>>(64-strTableBits)], h << strTableBits
}

// home returns the first slot of hash h (as locate returns it) in p.
func (p *strPart[V]) home(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(p.slots)))
	return int(hi)
}

func (t *strTable[V]) len() int { return t.n }

// get returns the value of k, or false.
func (t *strTable[V]) get(k string) (V, bool) {
	var zero V
	p, h := t.locate(k)
	if len(p.slots) == 0 {
		return zero, false
	}
	for i := p.home(h); ; {
		s := &p.slots[i]
		if s.v == zero {
			return zero, false
		}
		if s.k == k {
			return s.v, true
		}
		if i++; i == len(p.slots) {
			i = 0
		}
	}
}

// put sets the value of k to v, which must not be the zero V.
func (t *strTable[V]) put(k string, v V) {
	var zero V
	p, h := t.locate(k)
	if (p.n+1)*5 > len(p.slots)*4 {
		n := 2 * len(p.slots)
		if len(p.slots) >= 1024 {
			n = len(p.slots) + len(p.slots)/4
		}
		p.resize(max(8, n))
	}
	for i := p.home(h); ; {
		s := &p.slots[i]
		if s.v == zero {
			*s = strSlot[V]{k, v}
			p.n++
			t.n++
			return
		}
		if s.k == k {
			s.v = v
			return
		}
		if i++; i == len(p.slots) {
			i = 0
		}
	}
}

// delete removes k, if the table holds it, shifting back the entries
// after it that may move closer to their first slot, so that no probe
// stops short of an entry.
func (t *strTable[V]) delete(k string) {
	var zero V
	p, h := t.locate(k)
	n := len(p.slots)
	if n == 0 {
		return
	}
	i := p.home(h)
	for {
		s := &p.slots[i]
		if s.v == zero {
			return
		}
		if s.k == k {
			break
		}
		if i++; i == n {
			i = 0
		}
	}
	for j := (i + 1) % n; p.slots[j].v != zero; j = (j + 1) % n {
		s := &p.slots[j]
		_, hj := t.locate(s.k)
		// Entry j may move to i unless its first slot is in (i, j],
		// cyclically.
		if (j-p.home(hj)+n)%n >= (j-i+n)%n {
			p.slots[i] = *s
			i = j
		}
	}
	p.slots[i] = strSlot[V]{}
	p.n--
	t.n--
	if n > 8 && p.n*4 < n {
		p.resize(max(8, 2*p.n))
	}
}

// resize moves the entries of p to n slots.
func (p *strPart[V]) resize(n int) {
	var zero V
	old := p.slots
	p.slots = make([]strSlot[V], n)
	for _, s := range old {
		if s.v == zero {
			continue
		}
		h := maphash.String(strSeed, s.k) << strTableBits
		for i := p.home(h); ; {
			if p.slots[i].v == zero {
				p.slots[i] = s
				break
			}
			if i++; i == n {
				i = 0
			}
		}
	}
}

// each calls f with every entry, in no order.
func (t *strTable[V]) each(f func(k string, v V)) {
	var zero V
	for pi := range t.parts {
		for _, s := range t.parts[pi].slots {
			if s.v != zero {
				f(s.k, s.v)
			}
		}
	}
}
