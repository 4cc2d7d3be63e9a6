package memstore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestSortedSet checks sortedSet against a sorted slice through random
// inserts and deletes, enough of them to split and merge chunks.
func TestSortedSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var s sortedSet[string, byString]
	var ref []string
	key := func() string { return fmt.Sprintf("k%05d", rng.IntN(8000)) }
	checkSet := func(step int) {
		t.Helper()
		var got []string
		s.each(func(k string) { got = append(got, k) })
		if !slices.Equal(got, ref) || s.len() != len(ref) {
			t.Fatalf("step %d: set holds %d keys (len %d), want %d", step, len(got), s.len(), len(ref))
		}
		for ci, c := range s.chunks {
			if len(c) == 0 || len(c) > chunkMax {
				t.Fatalf("step %d: chunk %d holds %d keys", step, ci, len(c))
			}
		}
		// seek, at and next agree with the reference from any key.
		probe := key()
		for _, inclusive := range []bool{false, true} {
			var walked []string
			for p := s.seek(probe, inclusive); ; p = s.next(p) {
				k, ok := s.at(p)
				if !ok {
					break
				}
				walked = append(walked, k)
			}
			i, found := slices.BinarySearch(ref, probe)
			if found && !inclusive {
				i++
			}
			if !slices.Equal(walked, ref[i:]) {
				t.Fatalf("step %d: seek(%q, %v) walks %d keys, want %d", step, probe, inclusive, len(walked), len(ref)-i)
			}
			// read copies what the walk yields, as much as fits.
			for _, size := range []int{0, 1, 7, chunkMax + 3, len(ref) + 1} {
				buf := make([]string, size)
				n := s.read(s.seek(probe, inclusive), buf)
				if want := walked[:min(size, len(walked))]; !slices.Equal(buf[:n], want) {
					t.Fatalf("step %d: read(seek(%q, %v)) into %d copies %d keys, want %d", step, probe, inclusive, size, n, len(want))
				}
			}
			if p, q := s.seek(probe, inclusive), s.seekFunc(func(k string) int { return strings.Compare(k, probe) }, inclusive); p != q {
				t.Fatalf("step %d: seek(%q, %v) = %v, seekFunc = %v", step, probe, inclusive, p, q)
			}
		}
	}
	for step := range 40_000 {
		k := key()
		i, found := slices.BinarySearch(ref, k)
		// Grow for the first half, then shrink, so chunks both split and merge.
		if rng.IntN(100) < 70 == (step < 20_000) {
			if s.insert(k) == found {
				t.Fatalf("step %d: insert(%q) = %v with the key there: %v", step, k, !found, found)
			}
			if !found {
				ref = slices.Insert(ref, i, k)
			}
		} else {
			if s.delete(k) != found {
				t.Fatalf("step %d: delete(%q) = %v with the key there: %v", step, k, !found, found)
			}
			if found {
				ref = slices.Delete(ref, i, i+1)
			}
		}
		if step%1000 == 0 {
			checkSet(step)
		}
	}
	checkSet(-1)
	for _, k := range slices.Clone(ref) {
		s.delete(k)
	}
	if s.len() != 0 || s.chunks != nil {
		t.Fatalf("emptied set: len %d, %d chunks", s.len(), len(s.chunks))
	}
}

// TestSortedSetPut: put replaces the key that compares equal, insert
// keeps it.
func TestSortedSetPut(t *testing.T) {
	var s sortedSet[kv, byKey]
	for i := range 2000 {
		if !s.put(kv{fmt.Sprintf("k%04d", i), "a"}) {
			t.Fatalf("put of new key %d reported it there", i)
		}
	}
	if s.put(kv{"k0042", "b"}) || s.insert(kv{"k0043", "b"}) {
		t.Fatal("put or insert of a key there reported it new")
	}
	for _, c := range []kv{{"k0042", "b"}, {"k0043", "a"}} {
		if got, _ := s.at(s.seek(kv{k: c.k}, true)); got != c {
			t.Errorf("at %s: %v, want %v", c.k, got, c)
		}
	}
	if s.len() != 2000 {
		t.Errorf("len %d, want 2000", s.len())
	}
}

// kv is a key k with a value v that takes no part in its order.
type kv struct{ k, v string }

type byKey struct{}

func (byKey) compare(a, b kv) int { return strings.Compare(a.k, b.k) }
