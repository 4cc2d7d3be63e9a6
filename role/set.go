package role

import (
	"iter"
	"math/bits"
)

// MaxCapabilities is the most capabilities one catalog (and so one Set) can
// hold.
const MaxCapabilities = 256

// Set is a set of capability positions in a Catalog, as a fixed-size bitset.
// The zero Set is empty. Sets are values: copying one copies its contents,
// and == compares contents.
//
// A Set is four words held in four fields rather than an array, so the
// compiler keeps it in registers and testing a bit costs a load or two.
type Set struct {
	w0, w1, w2, w3 uint64
}

// word returns the word holding position i, and false if i is out of
// range.
func (s Set) word(i int) (uint64, bool) {
	switch uint(i) >> 6 {
	case 0:
		return s.w0, true
	case 1:
		return s.w1, true
	case 2:
		return s.w2, true
	case 3:
		return s.w3, true
	}
	return 0, false
}

// ptr returns a pointer to the word holding position i, or nil.
func (s *Set) ptr(i int) *uint64 {
	switch uint(i) >> 6 {
	case 0:
		return &s.w0
	case 1:
		return &s.w1
	case 2:
		return &s.w2
	case 3:
		return &s.w3
	}
	return nil
}

// Has reports whether position i is in s. Out-of-range positions are never
// in a set.
func (s Set) Has(i int) bool {
	w, ok := s.word(i)
	return ok && w&(1<<(uint(i)&63)) != 0
}

// With returns s with position i added. It panics if i is out of range.
func (s Set) With(i int) Set {
	p := s.ptr(i)
	if p == nil {
		panic("role: Set position out of range")
	}
	*p |= 1 << (uint(i) & 63)
	return s
}

// Without returns s with position i removed.
func (s Set) Without(i int) Set {
	if p := s.ptr(i); p != nil {
		*p &^= 1 << (uint(i) & 63)
	}
	return s
}

// Union returns the positions in s or t.
func (s Set) Union(t Set) Set {
	return Set{s.w0 | t.w0, s.w1 | t.w1, s.w2 | t.w2, s.w3 | t.w3}
}

// Intersect returns the positions in both s and t.
func (s Set) Intersect(t Set) Set {
	return Set{s.w0 & t.w0, s.w1 & t.w1, s.w2 & t.w2, s.w3 & t.w3}
}

// Minus returns the positions in s but not in t.
func (s Set) Minus(t Set) Set {
	return Set{s.w0 &^ t.w0, s.w1 &^ t.w1, s.w2 &^ t.w2, s.w3 &^ t.w3}
}

// SubsetOf reports whether every position in s is in t.
func (s Set) SubsetOf(t Set) bool { return s.Minus(t) == Set{} }

// Len returns the number of positions in s.
func (s Set) Len() int {
	return bits.OnesCount64(s.w0) + bits.OnesCount64(s.w1) + bits.OnesCount64(s.w2) + bits.OnesCount64(s.w3)
}

// Empty reports whether s has no positions.
func (s Set) Empty() bool { return s == Set{} }

// All yields the positions in s in increasing order.
func (s Set) All() iter.Seq[int] {
	return func(yield func(int) bool) {
		for wi, w := range [...]uint64{s.w0, s.w1, s.w2, s.w3} {
			for w != 0 {
				b := bits.TrailingZeros64(w)
				if !yield(wi*64 + b) {
					return
				}
				w &^= 1 << uint(b)
			}
		}
	}
}
