// Package strindex maps a small, fixed set of strings to their positions,
// faster than a Go map for the short identifiers orgauthz resolves on its hot
// paths (capability IDs, role IDs, edition IDs).
//
// A lookup hashes at most two 8-byte words of the key and, for keys of up to
// 16 bytes, verifies a candidate by comparing those words instead of calling
// the runtime's string comparison. Longer keys are verified with an ordinary
// string comparison. An Index is immutable after New and safe for concurrent
// use.
package strindex

import "math/bits"

// slot is one cell of the open-addressing table. n is the key's length plus
// one, so the zero slot is empty.
type slot struct {
	a, b uint64
	n    int
	pos  int
	key  string
}

// Index maps each of a fixed set of distinct strings to its position in the
// slice given to New.
type Index struct {
	slots []slot
	shift uint
	seed  uint64
	small []slot // used instead of slots for a few keys: scanned in order
}

// smallMax is the most keys scanned linearly; a scan of a few precomputed
// words beats hashing for the handful of roles or editions a scheme has.
const smallMax = 8

// New returns an Index over keys. Keys must be distinct; a duplicate maps to
// its first position.
func New(keys []string) *Index {
	if len(keys) <= smallMax {
		ix := &Index{small: make([]slot, 0, len(keys))}
	next:
		for pos, k := range keys {
			for _, s := range ix.small {
				if s.key == k {
					continue next
				}
			}
			a, b := words(k)
			ix.small = append(ix.small, slot{a: a, b: b, n: len(k) + 1, pos: pos, key: k})
		}
		return ix
	}
	size := 8
	for size < 4*len(keys) {
		size <<= 1
	}
	shift := uint(64 - bits.TrailingZeros(uint(size)))
	// Try a handful of odd multipliers and keep the one with the fewest
	// displaced keys, so most lookups resolve in a single probe.
	best := &Index{}
	bestCost := -1
	seed := uint64(0x9E3779B97F4A7C15)
	for try := 0; try < 32 && bestCost != 0; try++ {
		ix := &Index{slots: make([]slot, size), shift: shift, seed: seed}
		cost := 0
		for pos, k := range keys {
			cost += ix.insert(k, pos)
		}
		if bestCost < 0 || cost < bestCost {
			best, bestCost = ix, cost
		}
		seed += 0x6A09E667F3BCC909 // stays odd: both constants are odd + even
		seed |= 1
	}
	return best
}

// insert places k and returns how many slots it was displaced by.
func (ix *Index) insert(k string, pos int) int {
	a, b := words(k)
	mask := uint64(len(ix.slots) - 1)
	i := ix.hash(a, b, len(k))
	for d := 0; ; d++ {
		s := &ix.slots[i]
		if s.n == 0 {
			*s = slot{a: a, b: b, n: len(k) + 1, pos: pos, key: k}
			return d
		}
		if s.n == len(k)+1 && s.key == k {
			return d // duplicate: keep the first position
		}
		i = (i + 1) & mask
	}
}

// Lookup returns the position of k, and whether k is in the index.
func (ix *Index) Lookup(k string) (int, bool) {
	// words(k), written out: the call and its spills cost a third of a
	// lookup.
	var a, b uint64
	switch n := len(k); {
	case n >= 8:
		a, b = load(k, 0), load(k, n-8)
	case n >= 4:
		a = load4(k, 0) | load4(k, n-4)<<32
	case n > 0:
		a = uint64(k[0]) | uint64(k[n/2])<<8 | uint64(k[n-1])<<16
	}
	n := len(k) + 1
	if len(ix.slots) == 0 {
		for i := range ix.small {
			s := &ix.small[i]
			if s.n == n && s.a == a && s.b == b && (n <= 17 || s.key == k) {
				return s.pos, true
			}
		}
		return 0, false
	}
	mask := uint64(len(ix.slots) - 1)
	for i := ix.hash(a, b, len(k)); ; i = (i + 1) & mask {
		s := &ix.slots[i]
		if s.n == 0 {
			return 0, false
		}
		if s.n == n && s.a == a && s.b == b && (n <= 17 || s.key == k) {
			return s.pos, true
		}
	}
}

func (ix *Index) hash(a, b uint64, n int) uint64 {
	return ((a ^ bits.RotateLeft64(b, 31) ^ uint64(n)) * ix.seed) >> ix.shift
}

// words packs k into two words that, together with its length, identify it
// exactly when len(k) <= 16: the first eight bytes and the last eight
// (overlapping for shorter keys); for keys shorter than eight, the first and
// last four bytes, or all of them.
func words(k string) (a, b uint64) {
	n := len(k)
	if n >= 8 {
		return load(k, 0), load(k, n-8)
	}
	if n >= 4 {
		return load4(k, 0) | load4(k, n-4)<<32, 0
	}
	if n > 0 {
		return uint64(k[0]) | uint64(k[n/2])<<8 | uint64(k[n-1])<<16, 0
	}
	return 0, 0
}

// load4 reads four bytes of s at i as a little-endian word.
func load4(s string, i int) uint64 {
	s = s[i : i+4]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
}

// load reads eight bytes of s at i as a little-endian word; the compiler
// merges the byte loads into one.
func load(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
