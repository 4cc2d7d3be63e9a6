package role_test

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/role"
)

// model is the reference a Set is checked against: the positions it holds.
type model map[int]bool

func (m model) sorted() []int {
	out := make([]int, 0, len(m))
	for i, in := range m {
		if in {
			out = append(out, i)
		}
	}
	sort.Ints(out)
	return out
}

// setOf builds a Set from positions.
func setOf(positions ...int) role.Set {
	var s role.Set
	for _, i := range positions {
		s = s.With(i)
	}
	return s
}

// collect returns the positions s.All yields, in the order it yields them.
func collect(s role.Set) []int {
	out := []int{}
	for i := range s.All() {
		out = append(out, i)
	}
	return out
}

// requireMatches checks every observable property of s against m.
func requireMatches(t *testing.T, m model, s role.Set) {
	t.Helper()
	for i := 0; i < role.MaxCapabilities; i++ {
		require.Equal(t, m[i], s.Has(i), "Has(%d)", i)
	}
	want := m.sorted()
	require.Equal(t, len(want), s.Len(), "Len")
	require.Equal(t, len(want) == 0, s.Empty(), "Empty")
	require.Equal(t, want, collect(s), "All")
}

// randomPosition favours the word boundaries, where bit arithmetic goes
// wrong first.
func randomPosition(r *rand.Rand) int {
	edges := [...]int{0, 1, 62, 63, 64, 65, 127, 128, 191, 192, 254, 255}
	if r.IntN(4) == 0 {
		return edges[r.IntN(len(edges))]
	}
	return r.IntN(role.MaxCapabilities)
}

func TestSetMatchesModelUnderWithAndWithout(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(20240601, 7))
	m := model{}
	var s role.Set
	requireMatches(t, m, s)
	for step := 0; step < 20000; step++ {
		i := randomPosition(r)
		if r.IntN(3) == 0 {
			s = s.Without(i)
			delete(m, i)
		} else {
			s = s.With(i)
			m[i] = true
		}
		require.Equal(t, m[i], s.Has(i), "step %d, position %d", step, i)
		if step%250 == 0 {
			requireMatches(t, m, s)
		}
		if r.IntN(1000) == 0 { // start again from empty now and then
			m, s = model{}, role.Set{}
		}
	}
	requireMatches(t, m, s)
}

// randomPair returns a random set and its model, with about density
// positions out of 256.
func randomPair(r *rand.Rand, density int) (model, role.Set) {
	m := model{}
	var s role.Set
	for n := r.IntN(density + 1); n > 0; n-- {
		i := randomPosition(r)
		m[i] = true
		s = s.With(i)
	}
	return m, s
}

func TestSetAlgebraMatchesModel(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(99, 1))
	for round := 0; round < 500; round++ {
		ma, a := randomPair(r, 1+r.IntN(300))
		mb, b := randomPair(r, 1+r.IntN(300))
		if round%5 == 0 { // make b a superset of a now and then
			for i := range ma {
				mb[i] = true
				b = b.With(i)
			}
		}
		union, inter, minus := model{}, model{}, model{}
		subset := true
		for i := 0; i < role.MaxCapabilities; i++ {
			if ma[i] || mb[i] {
				union[i] = true
			}
			if ma[i] && mb[i] {
				inter[i] = true
			}
			if ma[i] && !mb[i] {
				minus[i] = true
				subset = false
			}
		}
		requireMatches(t, union, a.Union(b))
		requireMatches(t, inter, a.Intersect(b))
		requireMatches(t, minus, a.Minus(b))
		require.Equal(t, subset, a.SubsetOf(b), "round %d", round)
		require.True(t, a.SubsetOf(a.Union(b)), "round %d", round)
		require.True(t, a.Intersect(b).SubsetOf(a), "round %d", round)
		require.Equal(t, a.Union(b), b.Union(a), "union commutes")
		require.Equal(t, a.Intersect(b), b.Intersect(a), "intersection commutes")
		require.True(t, a.Minus(b).Intersect(b).Empty(), "round %d", round)
	}
}

func TestSetOutOfRangePositions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		pos  int
	}{
		{"just past the end", role.MaxCapabilities},
		{"far past the end", 1000},
		{"one word past the end", role.MaxCapabilities + 64},
		{"minus one", -1},
		{"minus a word", -64},
		{"most negative int", math.MinInt},
		{"largest int", math.MaxInt},
	}
	full := setOf()
	for i := 0; i < role.MaxCapabilities; i++ {
		full = full.With(i)
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			for _, s := range []role.Set{{}, setOf(0, 63, 255), full} {
				assert.False(t, s.Has(tt.pos), "Has is false")
				assert.Equal(t, s, s.Without(tt.pos), "Without is a no-op")
				assert.Panics(t, func() { _ = s.With(tt.pos) }, "With panics")
			}
		})
	}
}

func TestSetOperations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule      string
		a, b      role.Set
		union     []int
		intersect []int
		minus     []int
		subset    bool
	}{
		{"both empty", setOf(), setOf(), nil, nil, nil, true},
		{"empty is a subset of anything", setOf(), setOf(3, 200), []int{3, 200}, nil, nil, true},
		{"non-empty is not a subset of empty", setOf(5), setOf(), []int{5}, nil, []int{5}, false},
		{"equal sets", setOf(0, 64, 255), setOf(255, 64, 0), []int{0, 64, 255}, []int{0, 64, 255}, nil, true},
		{"disjoint in different words", setOf(1, 65), setOf(129, 193), []int{1, 65, 129, 193}, nil, []int{1, 65}, false},
		{"overlap across words", setOf(63, 64, 128), setOf(64, 128, 192), []int{63, 64, 128, 192}, []int{64, 128}, []int{63}, false},
		{"proper subset", setOf(10, 250), setOf(10, 100, 250), []int{10, 100, 250}, []int{10, 250}, nil, true},
		{"differs only in the last word", setOf(0, 255), setOf(0, 254), []int{0, 254, 255}, []int{0}, []int{255}, false},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, setOf(tt.union...), tt.a.Union(tt.b), "Union")
			assert.Equal(t, setOf(tt.intersect...), tt.a.Intersect(tt.b), "Intersect")
			assert.Equal(t, setOf(tt.minus...), tt.a.Minus(tt.b), "Minus")
			assert.Equal(t, tt.subset, tt.a.SubsetOf(tt.b), "SubsetOf")
		})
	}
}

func TestSetLenAndEmpty(t *testing.T) {
	t.Parallel()
	all := make([]int, role.MaxCapabilities)
	for i := range all {
		all[i] = i
	}
	tests := []struct {
		rule  string
		s     role.Set
		len   int
		empty bool
	}{
		{"zero set is empty", role.Set{}, 0, true},
		{"one position", setOf(7), 1, false},
		{"adding twice counts once", setOf(7, 7), 1, false},
		{"one position in each word", setOf(0, 64, 128, 192), 4, false},
		{"last position", setOf(255), 1, false},
		{"every position", setOf(all...), role.MaxCapabilities, false},
		{"added then removed is empty", setOf(200).Without(200), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.len, tt.s.Len())
			assert.Equal(t, tt.empty, tt.s.Empty())
		})
	}
}

func TestSetAll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		s    role.Set
		want []int
	}{
		{"empty yields nothing", role.Set{}, []int{}},
		{"increasing order whatever the insertion order", setOf(255, 3, 130, 64, 0, 63), []int{0, 3, 63, 64, 130, 255}},
		{"word boundaries", setOf(63, 64, 127, 128, 191, 192), []int{63, 64, 127, 128, 191, 192}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, collect(tt.s))
		})
	}

	t.Run("early break is honoured", func(t *testing.T) {
		t.Parallel()
		s := setOf(2, 70, 140, 250)
		for stopAfter := 1; stopAfter <= 4; stopAfter++ {
			var got []int
			for i := range s.All() {
				got = append(got, i)
				if len(got) == stopAfter {
					break // a yield after this would panic in a range-over-func loop
				}
			}
			assert.Equal(t, []int{2, 70, 140, 250}[:stopAfter], got)
		}
	})
}

func TestSetValueSemantics(t *testing.T) {
	t.Parallel()

	t.Run("With returns a new set and leaves the receiver unchanged", func(t *testing.T) {
		t.Parallel()
		s := setOf(1)
		u := s.With(100)
		assert.True(t, u.Has(100))
		assert.False(t, s.Has(100))
		assert.Equal(t, 1, s.Len())
	})

	t.Run("Without returns a new set and leaves the receiver unchanged", func(t *testing.T) {
		t.Parallel()
		s := setOf(1, 100)
		u := s.Without(100)
		assert.False(t, u.Has(100))
		assert.True(t, s.Has(100))
		assert.Equal(t, 2, s.Len())
	})

	t.Run("operations leave both operands unchanged", func(t *testing.T) {
		t.Parallel()
		a, b := setOf(1, 2, 200), setOf(2, 3, 201)
		a0, b0 := a, b
		_ = a.Union(b)
		_ = a.Intersect(b)
		_ = a.Minus(b)
		_ = a.SubsetOf(b)
		assert.Equal(t, a0, a)
		assert.Equal(t, b0, b)
	})

	t.Run("assignment copies the contents", func(t *testing.T) {
		t.Parallel()
		s := setOf(5)
		c := s
		c = c.With(6)
		assert.False(t, s.Has(6))
		assert.True(t, c.Has(6))
	})
}

func TestSetEquality(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule  string
		a, b  role.Set
		equal bool
	}{
		{"zero sets are equal", role.Set{}, role.Set{}, true},
		{"insertion order does not matter", setOf(1, 64, 255), setOf(255, 1, 64), true},
		{"added then removed equals zero", setOf(9, 190).Without(9).Without(190), role.Set{}, true},
		{"different positions in the same word differ", setOf(1), setOf(2), false},
		{"same bit in different words differ", setOf(1), setOf(65), false},
		{"extra position differs", setOf(1, 2), setOf(1), false},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.equal, tt.a == tt.b)
			assert.Equal(t, tt.equal, tt.b == tt.a)
			// Sets are comparable, so they can key a map.
			m := map[role.Set]int{tt.a: 1}
			_, found := m[tt.b]
			assert.Equal(t, tt.equal, found)
		})
	}
}
