package memstore

import (
	"slices"
	"strings"
)

// chunkMax is the most keys a chunk of a sortedSet holds; a chunk that
// grows past it splits in two.
const chunkMax = 512

// ordering compares two keys: negative, zero or positive as a sorts
// before, with or after b. Implementations are empty structs, so a
// sortedSet carries no comparison function of its own.
type ordering[K any] interface {
	compare(a, b K) int
}

// byString orders strings as Go compares them: bytewise.
type byString struct{}

func (byString) compare(a, b string) int { return strings.Compare(a, b) }

// sortedSet is an ordered set of distinct keys, kept as a list of sorted
// chunks of at most chunkMax keys each (a one-level B+ tree). Finding a
// key takes two binary searches; inserting or deleting one moves at most
// chunkMax keys, so the set stays cheap to change at hundreds of thousands
// of keys, and a small set is a single short slice.
//
// The zero value is an empty set. It is not safe for concurrent use.
type sortedSet[K any, O ordering[K]] struct {
	chunks [][]K
	n      int
}

// pos is a position in a sortedSet: chunk ci, index i in it. A position
// past the last key has ci == len(chunks).
type pos struct{ ci, i int }

func (s *sortedSet[K, O]) len() int { return s.n }

// firstChunk returns the index of the first chunk whose last key is >= k
// (or > k when strict), or len(s.chunks) if there is none.
func (s *sortedSet[K, O]) firstChunk(k K, strict bool) int {
	var o O
	lo, hi := 0, len(s.chunks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := s.chunks[m]
		d := o.compare(c[len(c)-1], k)
		if d < 0 || strict && d == 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// bound returns the index of the first key of c that is >= k (or > k when
// strict), or len(c).
func bound[K any, O ordering[K]](c []K, k K, strict bool) int {
	var o O
	lo, hi := 0, len(c)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		d := o.compare(c[m], k)
		if d < 0 || strict && d == 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// insert adds k and reports whether it was not there yet.
func (s *sortedSet[K, O]) insert(k K) bool { return s.add(k, false) }

// put adds k, or replaces the key that compares equal to it, and reports
// whether no such key was there yet. It is for sets whose keys carry more
// than what they are ordered by.
func (s *sortedSet[K, O]) put(k K) bool { return s.add(k, true) }

// add adds k and reports whether it was not there yet; if it was, replace
// says whether k takes the place of the key there.
func (s *sortedSet[K, O]) add(k K, replace bool) bool {
	var o O
	ci := s.firstChunk(k, false)
	if ci == len(s.chunks) {
		if ci == 0 {
			s.chunks = [][]K{{k}}
			s.n = 1
			return true
		}
		ci-- // k sorts after every key: append it to the last chunk
	}
	c := s.chunks[ci]
	i := bound[K, O](c, k, false)
	if i < len(c) && o.compare(c[i], k) == 0 {
		if replace {
			c[i] = k
		}
		return false
	}
	c = slices.Insert(c, i, k)
	s.n++
	if len(c) <= chunkMax {
		s.chunks[ci] = c
		return true
	}
	half := len(c) / 2
	left := make([]K, half, chunkMax)
	right := make([]K, len(c)-half, chunkMax)
	copy(left, c[:half])
	copy(right, c[half:])
	s.chunks[ci] = left
	s.chunks = slices.Insert(s.chunks, ci+1, right)
	return true
}

// delete removes k and reports whether it was there.
func (s *sortedSet[K, O]) delete(k K) bool {
	var o O
	ci := s.firstChunk(k, false)
	if ci == len(s.chunks) {
		return false
	}
	c := s.chunks[ci]
	i := bound[K, O](c, k, false)
	if i == len(c) || o.compare(c[i], k) != 0 {
		return false
	}
	c = slices.Delete(c, i, i+1)
	s.n--
	switch {
	case len(c) == 0:
		s.chunks = slices.Delete(s.chunks, ci, ci+1)
		if len(s.chunks) == 0 {
			s.chunks = nil
		}
	case len(c) < chunkMax/4 && ci+1 < len(s.chunks) && len(c)+len(s.chunks[ci+1]) <= chunkMax:
		s.chunks[ci] = append(c, s.chunks[ci+1]...)
		s.chunks = slices.Delete(s.chunks, ci+1, ci+2)
	case len(c) < chunkMax/4 && ci > 0 && len(c)+len(s.chunks[ci-1]) <= chunkMax:
		s.chunks[ci-1] = append(s.chunks[ci-1], c...)
		s.chunks = slices.Delete(s.chunks, ci, ci+1)
	default:
		s.chunks[ci] = c
	}
	return true
}

// seek returns the position of the first key > k, or >= k when inclusive.
func (s *sortedSet[K, O]) seek(k K, inclusive bool) pos {
	ci := s.firstChunk(k, !inclusive)
	if ci == len(s.chunks) {
		return pos{ci: ci}
	}
	return pos{ci, bound[K, O](s.chunks[ci], k, !inclusive)}
}

// seekFunc returns the position of the first key for which cmp returns
// more than 0, or at least 0 when inclusive. cmp compares a key with the
// one sought, as O would (negative when the key sorts before it), so that
// a set may be searched by the part of its keys it is ordered by.
func (s *sortedSet[K, O]) seekFunc(cmp func(K) int, inclusive bool) pos {
	before := func(k K) bool {
		d := cmp(k)
		return d < 0 || !inclusive && d == 0
	}
	lo, hi := 0, len(s.chunks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c := s.chunks[m]; before(c[len(c)-1]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(s.chunks) {
		return pos{ci: lo}
	}
	c := s.chunks[lo]
	i, j := 0, len(c)
	for i < j {
		m := int(uint(i+j) >> 1)
		if before(c[m]) {
			i = m + 1
		} else {
			j = m
		}
	}
	return pos{lo, i}
}

// at returns the key at p, or false if p is past the last key.
func (s *sortedSet[K, O]) at(p pos) (K, bool) {
	if p.ci >= len(s.chunks) {
		var zero K
		return zero, false
	}
	return s.chunks[p.ci][p.i], true
}

// read copies into dst the keys from position p on, in order, as many as
// dst holds, and returns how many it copied. It copies a chunk's keys at
// a time, which is cheaper than key by key through at when keys are
// large.
func (s *sortedSet[K, O]) read(p pos, dst []K) int {
	n := 0
	for ci, i := p.ci, p.i; ci < len(s.chunks) && n < len(dst); ci, i = ci+1, 0 {
		n += copy(dst[n:], s.chunks[ci][i:])
	}
	return n
}

// next returns the position after p, which must hold a key.
func (s *sortedSet[K, O]) next(p pos) pos {
	p.i++
	if p.i >= len(s.chunks[p.ci]) {
		p.ci++
		p.i = 0
	}
	return p
}

// each calls f with every key in order.
func (s *sortedSet[K, O]) each(f func(K)) {
	for _, c := range s.chunks {
		for _, k := range c {
			f(k)
		}
	}
}
