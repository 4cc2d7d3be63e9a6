package role_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/role"
)

// jobDefs is a small catalog used across the tests: one entry without a
// label, one nested, two IDs that share their first and last eight bytes
// with another ("…settings:manage").
func jobDefs() []role.Def {
	return []role.Def{
		{ID: "job_runs:create", Label: "Create job runs"},
		{ID: "job_runs:read", Label: "View job runs"},
		{ID: "organization/settings:manage"},
		{ID: "organization/billing/settings:manage", Label: "Manage billing settings"},
		{ID: "integrations/s3:create", Label: "Connect S3"},
	}
}

func mustCatalog(t testing.TB, defs ...role.Def) *role.Catalog {
	t.Helper()
	c, err := role.NewCatalog(defs...)
	require.NoError(t, err)
	require.NotNil(t, c)
	return c
}

// manyDefs returns n distinct, well-formed defs of varied lengths (short
// ones, ones of 9 to 16 bytes and long nested ones), so that a catalog of
// them exercises every way the index compares keys.
func manyDefs(n int) []role.Def {
	defs := make([]role.Def, n)
	for i := range defs {
		var id string
		switch i % 3 {
		case 0:
			id = fmt.Sprintf("r%d:a", i) // 4 to 6 bytes
		case 1:
			id = fmt.Sprintf("res%d:act", i) // 8 to 10 bytes
		default:
			id = fmt.Sprintf("organization/area%d/settings:manage", i) // long
		}
		defs[i] = role.Def{ID: role.Capability(id), Label: fmt.Sprintf("Capability %d", i)}
	}
	return defs
}

func TestNewCatalogKeepsOrder(t *testing.T) {
	t.Parallel()
	defs := jobDefs()
	c := mustCatalog(t, defs...)
	require.Equal(t, len(defs), c.Len())
	assert.Equal(t, defs, c.Defs())
	for i, d := range defs {
		assert.Equal(t, d, c.Def(i), "Def(%d)", i)
	}
}

func TestNewCatalogEmpty(t *testing.T) {
	t.Parallel()
	c := mustCatalog(t)
	assert.Equal(t, 0, c.Len())
	assert.Empty(t, c.Defs())
	assert.True(t, c.Full().Empty())
	_, ok := c.Index("job_runs:create")
	assert.False(t, ok)
	assert.Empty(t, c.IDs(setOf(0, 1)))
}

func TestCatalogIndexFindsEveryEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		defs []role.Def
	}{
		{"single entry", jobDefs()[:1]},
		{"small catalog", jobDefs()},
		{"eight entries", manyDefs(8)},
		{"nine entries", manyDefs(9)},
		{"a hundred entries", manyDefs(100)},
		{"MaxCapabilities entries", manyDefs(role.MaxCapabilities)},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			c := mustCatalog(t, tt.defs...)
			for i, d := range tt.defs {
				got, ok := c.Index(d.ID)
				require.True(t, ok, "Index(%q)", d.ID)
				require.Equal(t, i, got, "Index(%q)", d.ID)
				// A copy of the ID that shares no memory with the catalog's.
				got, ok = c.Index(role.Capability(strings.Clone(string(d.ID))))
				require.True(t, ok)
				require.Equal(t, i, got)
			}
		})
	}
}

func TestCatalogIndexAbsent(t *testing.T) {
	t.Parallel()
	small := mustCatalog(t, jobDefs()...)
	large := mustCatalog(t, append(jobDefs(), manyDefs(40)...)...)
	tests := []struct {
		rule string
		id   role.Capability
	}{
		{"empty", ""},
		{"other action", "job_runs:delete"},
		{"other resource", "jobs:create"},
		{"prefix of an entry", "job_runs:creat"},
		{"entry with a suffix", "job_runs:creates"},
		{"different case", "Job_runs:create"},
		{"resource only", "job_runs"},
		{"same first and last eight bytes as an entry", "organization/payroll/settings:manage"},
		{"same length and ends as a long entry", "organization/billing/setxings:manage"},
		{"same first and last bytes as a short entry", "r0:b"},
		{"malformed", "job runs:create"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			for name, c := range map[string]*role.Catalog{"small": small, "large": large} {
				i, ok := c.Index(tt.id)
				assert.False(t, ok, "%s catalog: Index(%q) = %d, true", name, tt.id, i)
			}
		})
	}
}

func TestCatalogDefsReturnsACopy(t *testing.T) {
	t.Parallel()
	c := mustCatalog(t, jobDefs()...)
	got := c.Defs()
	got[0] = role.Def{ID: "hacked:yes", Label: "Hacked"}
	got[1].Label = "changed"
	_ = append(got[:2], role.Def{ID: "appended:yes"})

	assert.Equal(t, jobDefs(), c.Defs())
	assert.Equal(t, role.Capability("job_runs:create"), c.Def(0).ID)
	_, ok := c.Index("hacked:yes")
	assert.False(t, ok)
}

func TestNewCatalogCopiesItsInput(t *testing.T) {
	t.Parallel()
	defs := jobDefs()
	c := mustCatalog(t, defs...)
	defs[0] = role.Def{ID: "hacked:yes", Label: "Hacked"}
	defs[2].Label = "changed"

	assert.Equal(t, jobDefs(), c.Defs())
	i, ok := c.Index("job_runs:create")
	assert.True(t, ok)
	assert.Equal(t, 0, i)
}

func TestCatalogDefPanicsOutOfRange(t *testing.T) {
	t.Parallel()
	c := mustCatalog(t, jobDefs()...)
	for _, i := range []int{-1, c.Len(), 256} {
		assert.Panics(t, func() { _ = c.Def(i) }, "Def(%d)", i)
	}
}

func TestCatalogAll(t *testing.T) {
	t.Parallel()
	defs := jobDefs()
	c := mustCatalog(t, defs...)

	t.Run("yields every position and def in order", func(t *testing.T) {
		t.Parallel()
		var positions []int
		var got []role.Def
		for i, d := range c.All() {
			positions = append(positions, i)
			got = append(got, d)
		}
		assert.Equal(t, []int{0, 1, 2, 3, 4}, positions)
		assert.Equal(t, defs, got)
	})

	t.Run("early break is honoured", func(t *testing.T) {
		t.Parallel()
		for stopAfter := 1; stopAfter <= len(defs); stopAfter++ {
			var got []role.Capability
			for _, d := range c.All() {
				got = append(got, d.ID)
				if len(got) == stopAfter {
					break // a yield after this would panic in a range-over-func loop
				}
			}
			want := make([]role.Capability, stopAfter)
			for i := range want {
				want[i] = defs[i].ID
			}
			assert.Equal(t, want, got)
		}
	})
}

func TestCatalogSet(t *testing.T) {
	t.Parallel()
	c := mustCatalog(t, jobDefs()...)
	tests := []struct {
		rule    string
		ids     []role.Capability
		want    role.Set
		wantErr error
		names   string // what the error message must name
	}{
		{rule: "no IDs is the empty set", ids: nil, want: role.Set{}},
		{rule: "one ID", ids: []role.Capability{"job_runs:read"}, want: setOf(1)},
		{rule: "positions follow the catalog", ids: []role.Capability{"integrations/s3:create", "job_runs:create"}, want: setOf(0, 4)},
		{rule: "a repeated ID counts once", ids: []role.Capability{"job_runs:read", "job_runs:read"}, want: setOf(1)},
		{rule: "every ID is the full set", ids: []role.Capability{
			"organization/billing/settings:manage", "organization/settings:manage",
			"job_runs:read", "job_runs:create", "integrations/s3:create",
		}, want: setOf(0, 1, 2, 3, 4)},
		{rule: "unknown ID", ids: []role.Capability{"job_runs:read", "job_runs:delete"},
			wantErr: role.ErrUnknownCapability, names: "job_runs:delete"},
		{rule: "first unknown ID is named", ids: []role.Capability{"reports:read", "job_runs:delete"},
			wantErr: role.ErrUnknownCapability, names: "reports:read"},
		{rule: "malformed ID", ids: []role.Capability{"job_runs:read", "Job_runs:Read"},
			wantErr: role.ErrInvalidCapability, names: "Job_runs:Read"},
		{rule: "empty ID is malformed", ids: []role.Capability{""},
			wantErr: role.ErrInvalidCapability},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			got, err := c.Set(tt.ids...)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			assert.Contains(t, err.Error(), tt.names)
			assert.Equal(t, role.Set{}, got, "the set returned with an error is empty")
			if tt.wantErr == role.ErrUnknownCapability {
				assert.NotErrorIs(t, err, role.ErrInvalidCapability, "a well-formed ID is not invalid")
			} else {
				assert.NotErrorIs(t, err, role.ErrUnknownCapability, "a malformed ID is reported as malformed")
			}
		})
	}
}

func TestCatalogIDs(t *testing.T) {
	t.Parallel()
	c := mustCatalog(t, jobDefs()...)
	tests := []struct {
		rule string
		s    role.Set
		want []role.Capability
	}{
		{"empty set", role.Set{}, []role.Capability{}},
		{"one position", setOf(3), []role.Capability{"organization/billing/settings:manage"}},
		{"catalog order", setOf(4, 0, 2), []role.Capability{"job_runs:create", "organization/settings:manage", "integrations/s3:create"}},
		{"positions beyond the catalog are ignored", setOf(1, 5, 64, 255), []role.Capability{"job_runs:read"}},
		{"only positions beyond the catalog", setOf(5, 200), []role.Capability{}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, c.IDs(tt.s))
		})
	}

	t.Run("round trip with Set", func(t *testing.T) {
		t.Parallel()
		ids := []role.Capability{"job_runs:read", "integrations/s3:create"}
		s, err := c.Set(ids...)
		require.NoError(t, err)
		assert.Equal(t, ids, c.IDs(s))
	})
}

func TestCatalogFull(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		defs []role.Def
	}{
		{"empty catalog", nil},
		{"small catalog", jobDefs()},
		{"one word exactly", manyDefs(64)},
		{"one past a word", manyDefs(65)},
		{"MaxCapabilities entries", manyDefs(role.MaxCapabilities)},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			c := mustCatalog(t, tt.defs...)
			full := c.Full()
			want := make([]int, len(tt.defs))
			wantIDs := make([]role.Capability, len(tt.defs))
			for i, d := range tt.defs {
				want[i] = i
				wantIDs[i] = d.ID
			}
			assert.Equal(t, want, collect(full), "exactly positions 0..Len-1")
			assert.Equal(t, c.Len(), full.Len())
			assert.Equal(t, wantIDs, c.IDs(full))
		})
	}
}

func TestNewCatalogRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule    string
		defs    []role.Def
		wantErr error
		names   string
	}{
		{"duplicate ID, adjacent",
			[]role.Def{{ID: "job_runs:read"}, {ID: "job_runs:read", Label: "Again"}},
			role.ErrDuplicate, "job_runs:read"},
		{"duplicate ID, apart",
			append(jobDefs(), role.Def{ID: "organization/settings:manage"}),
			role.ErrDuplicate, "organization/settings:manage"},
		{"malformed ID",
			[]role.Def{{ID: "job_runs:read"}, {ID: "job-runs:create"}},
			role.ErrInvalidCapability, "job-runs:create"},
		{"empty ID",
			[]role.Def{{ID: ""}},
			role.ErrInvalidCapability, `""`},
		{"more than MaxCapabilities entries",
			manyDefs(role.MaxCapabilities + 1),
			role.ErrTooMany, fmt.Sprint(role.MaxCapabilities + 1)},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			c, err := role.NewCatalog(tt.defs...)
			require.ErrorIs(t, err, tt.wantErr)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tt.names)
		})
	}
}

func TestCatalogOfMaxCapabilities(t *testing.T) {
	t.Parallel()
	defs := manyDefs(role.MaxCapabilities)
	c := mustCatalog(t, defs...)
	require.Equal(t, role.MaxCapabilities, c.Len())

	ids := make([]role.Capability, len(defs))
	for i, d := range defs {
		ids[i] = d.ID
		got, ok := c.Index(d.ID)
		require.True(t, ok, "Index(%q)", d.ID)
		require.Equal(t, i, got)
		require.Equal(t, d, c.Def(i))
	}
	s, err := c.Set(ids...)
	require.NoError(t, err)
	assert.Equal(t, c.Full(), s)
	assert.Equal(t, role.MaxCapabilities, s.Len())
	assert.True(t, s.Has(role.MaxCapabilities-1))

	last, err := c.Set(defs[role.MaxCapabilities-1].ID)
	require.NoError(t, err)
	assert.Equal(t, setOf(role.MaxCapabilities-1), last)
	assert.Equal(t, []role.Capability{defs[role.MaxCapabilities-1].ID}, c.IDs(last))
}
