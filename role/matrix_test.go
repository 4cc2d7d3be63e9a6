package role_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/role"
)

// The test matrix, written out by hand:
//
//	                               owner  admin  viewer  guest
//	job_runs:create                  ✅     ✅      ❌      ❌
//	job_runs:read                    ✅     ✅      ✅      ❌
//	organization/settings:manage     ✅     ❌      ❌      ❌
//
// viewer has no Name (its title is its ID); guest has no grants entry.
func matrixDefs() []role.Def {
	return []role.Def{
		{ID: "job_runs:create", Label: "Create job runs"},
		{ID: "job_runs:read", Label: "View job runs"},
		{ID: "organization/settings:manage"},
	}
}

func matrixRoles() []role.Role {
	return []role.Role{
		{ID: "owner", Name: "Owner", Rank: 30},
		{ID: "admin", Name: "Admin", Rank: 20},
		{ID: "viewer", Rank: 10},
		{ID: "guest", Name: "Guest", Rank: 0},
	}
}

func matrixGrants() map[string][]role.Capability {
	return map[string][]role.Capability{
		"owner":  {"job_runs:create", "job_runs:read", "organization/settings:manage"},
		"admin":  {"job_runs:read", "job_runs:create"},
		"viewer": {"job_runs:read"},
	}
}

func testMatrix(t testing.TB) *role.Matrix {
	t.Helper()
	m, err := role.NewMatrix(mustCatalog(t, matrixDefs()...), matrixRoles(), matrixGrants())
	require.NoError(t, err)
	require.NotNil(t, m)
	return m
}

// wantHolds is the matrix above, cell by cell.
var wantHolds = map[string]map[role.Capability]bool{
	"owner":  {"job_runs:create": true, "job_runs:read": true, "organization/settings:manage": true},
	"admin":  {"job_runs:create": true, "job_runs:read": true, "organization/settings:manage": false},
	"viewer": {"job_runs:create": false, "job_runs:read": true, "organization/settings:manage": false},
	"guest":  {"job_runs:create": false, "job_runs:read": false, "organization/settings:manage": false},
}

func TestMatrixHoldsEveryCell(t *testing.T) {
	t.Parallel()
	m := testMatrix(t)
	for roleID, row := range wantHolds {
		for c, want := range row {
			t.Run(roleID+"/"+string(c), func(t *testing.T) {
				t.Parallel()
				assert.Equal(t, want, m.Holds(roleID, c))
			})
		}
	}
}

func TestMatrixHoldsUnknown(t *testing.T) {
	t.Parallel()
	m := testMatrix(t)
	tests := []struct {
		rule   string
		roleID string
		c      role.Capability
	}{
		{"unknown role", "superuser", "job_runs:read"},
		{"empty role", "", "job_runs:read"},
		{"role ID in another case", "Owner", "job_runs:read"},
		{"role title is not an ID", "Admin", "job_runs:read"},
		{"unknown capability", "owner", "job_runs:delete"},
		{"empty capability", "owner", ""},
		{"malformed capability", "owner", "Job_runs:read"},
		{"both unknown", "superuser", "job_runs:delete"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			assert.False(t, m.Holds(tt.roleID, tt.c))
		})
	}
}

func TestMatrixAccessors(t *testing.T) {
	t.Parallel()
	caps := mustCatalog(t, matrixDefs()...)
	m, err := role.NewMatrix(caps, matrixRoles(), matrixGrants())
	require.NoError(t, err)

	assert.Same(t, caps, m.Catalog())
	assert.Equal(t, 4, m.NumRoles())
	assert.Equal(t, matrixRoles(), m.Roles())
	for i, r := range matrixRoles() {
		assert.Equal(t, r, m.Role(i))
		got, ok := m.RoleIndex(r.ID)
		assert.True(t, ok, "RoleIndex(%q)", r.ID)
		assert.Equal(t, i, got, "RoleIndex(%q)", r.ID)
	}
	for _, id := range []string{"", "Owner", "superuser", "owne", "owners"} {
		_, ok := m.RoleIndex(id)
		assert.False(t, ok, "RoleIndex(%q)", id)
	}
	assert.Panics(t, func() { _ = m.Role(4) })
	assert.Panics(t, func() { _ = m.Role(-1) })

	// Grants by position; positions are those of the catalog.
	wantGrants := []role.Set{setOf(0, 1, 2), setOf(0, 1), setOf(1), {}}
	for i, want := range wantGrants {
		assert.Equal(t, want, m.Grants(i), "Grants(%d) of %s", i, m.Role(i).ID)
	}
}

func TestNewMatrixAccepts(t *testing.T) {
	t.Parallel()
	caps := mustCatalog(t, matrixDefs()...)
	tests := []struct {
		rule   string
		roles  []role.Role
		grants map[string][]role.Capability
	}{
		{"no roles", nil, nil},
		{"roles without grants", matrixRoles(), nil},
		{"empty grant list", matrixRoles(), map[string][]role.Capability{"owner": {}}},
		{"equal ranks", []role.Role{{ID: "a", Rank: 1}, {ID: "b", Rank: 1}}, nil},
		{"rank zero", []role.Role{{ID: "a"}}, nil},
		{"a capability granted twice", []role.Role{{ID: "a"}}, map[string][]role.Capability{"a": {"job_runs:read", "job_runs:read"}}},
		{"exactly MaxRoles roles", manyRoles(role.MaxRoles), nil},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			m, err := role.NewMatrix(caps, tt.roles, tt.grants)
			require.NoError(t, err)
			require.Equal(t, len(tt.roles), m.NumRoles())
			for i, r := range tt.roles {
				got, ok := m.RoleIndex(r.ID)
				require.True(t, ok, "RoleIndex(%q)", r.ID)
				require.Equal(t, i, got)
				want, err := caps.Set(tt.grants[r.ID]...)
				require.NoError(t, err)
				require.Equal(t, want, m.Grants(i), "role %q", r.ID)
			}
		})
	}
}

// manyRoles returns n well-formed roles with distinct IDs.
func manyRoles(n int) []role.Role {
	roles := make([]role.Role, n)
	for i := range roles {
		roles[i] = role.Role{ID: fmt.Sprintf("role%d", i), Rank: i}
	}
	return roles
}

func TestNewMatrixRefuses(t *testing.T) {
	t.Parallel()
	caps := mustCatalog(t, matrixDefs()...)
	tests := []struct {
		rule    string
		caps    *role.Catalog
		roles   []role.Role
		grants  map[string][]role.Capability
		wantErr error    // nil: any error
		names   []string // what the message must contain
	}{
		{rule: "nil catalog", caps: nil, roles: matrixRoles(), grants: matrixGrants(),
			names: []string{"nil"}},
		{rule: "duplicate role", caps: caps,
			roles:   []role.Role{{ID: "owner"}, {ID: "admin"}, {ID: "owner", Name: "Owner again"}},
			wantErr: role.ErrDuplicate, names: []string{`"owner"`}},
		{rule: "malformed role ID: upper case", caps: caps,
			roles:   []role.Role{{ID: "owner"}, {ID: "Admin"}},
			wantErr: role.ErrInvalidRole, names: []string{"Admin"}},
		{rule: "malformed role ID: hyphen", caps: caps,
			roles:   []role.Role{{ID: "team-lead"}},
			wantErr: role.ErrInvalidRole, names: []string{"team-lead"}},
		{rule: "malformed role ID: empty", caps: caps,
			roles:   []role.Role{{ID: ""}},
			wantErr: role.ErrInvalidRole, names: []string{"empty"}},
		{rule: "negative rank", caps: caps,
			roles:   []role.Role{{ID: "owner", Rank: 1}, {ID: "banned", Rank: -1}},
			wantErr: role.ErrInvalidRole, names: []string{"banned", "negative"}},
		{rule: "grant to an undefined role", caps: caps,
			roles:   matrixRoles(),
			grants:  map[string][]role.Capability{"owner": {"job_runs:read"}, "auditor": {"job_runs:read"}},
			wantErr: role.ErrUnknownRole, names: []string{"auditor"}},
		{rule: "grant of an unknown capability", caps: caps,
			roles:   matrixRoles(),
			grants:  map[string][]role.Capability{"admin": {"job_runs:read", "job_runs:delete"}},
			wantErr: role.ErrUnknownCapability, names: []string{"admin", "job_runs:delete"}},
		{rule: "grant of a malformed capability", caps: caps,
			roles:   matrixRoles(),
			grants:  map[string][]role.Capability{"viewer": {"Job_runs:read"}},
			wantErr: role.ErrInvalidCapability, names: []string{"viewer", "Job_runs:read"}},
		{rule: "more than MaxRoles roles", caps: caps,
			roles:   manyRoles(role.MaxRoles + 1),
			wantErr: role.ErrTooMany, names: []string{fmt.Sprint(role.MaxRoles + 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			m, err := role.NewMatrix(tt.caps, tt.roles, tt.grants)
			require.Error(t, err)
			assert.Nil(t, m)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			for _, s := range tt.names {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestNewMatrixCopiesItsInputs(t *testing.T) {
	t.Parallel()
	caps := mustCatalog(t, matrixDefs()...)
	roles := matrixRoles()
	grants := matrixGrants()
	m, err := role.NewMatrix(caps, roles, grants)
	require.NoError(t, err)

	var before bytes.Buffer
	require.NoError(t, m.Render(&before, role.RenderOptions{}))

	// Mutate everything the caller handed over.
	grants["viewer"][0] = "organization/settings:manage"
	grants["admin"] = append(grants["admin"], "organization/settings:manage")
	grants["guest"] = []role.Capability{"job_runs:read"}
	delete(grants, "owner")
	roles[0] = role.Role{ID: "intruder", Name: "Intruder", Rank: 99}
	roles[2].Name = "Viewer"
	roles[3].Rank = 50

	for roleID, row := range wantHolds {
		for c, want := range row {
			assert.Equal(t, want, m.Holds(roleID, c), "Holds(%q, %q)", roleID, c)
		}
	}
	assert.Equal(t, matrixRoles(), m.Roles())
	assert.Equal(t, role.Role{ID: "owner", Name: "Owner", Rank: 30}, m.Role(0))
	_, ok := m.RoleIndex("intruder")
	assert.False(t, ok)

	var after bytes.Buffer
	require.NoError(t, m.Render(&after, role.RenderOptions{}))
	assert.Equal(t, before.String(), after.String())
}

func TestMatrixRolesReturnsACopy(t *testing.T) {
	t.Parallel()
	m := testMatrix(t)
	got := m.Roles()
	got[0].ID = "intruder"
	got[1].Name = "changed"
	got[2].Rank = -5

	assert.Equal(t, matrixRoles(), m.Roles())
	assert.Equal(t, "owner", m.Role(0).ID)
	i, ok := m.RoleIndex("owner")
	assert.True(t, ok)
	assert.Equal(t, 0, i)
	assert.True(t, m.Holds("owner", "organization/settings:manage"))
}

// The expected tables below are written by hand from the matrix drawn at the
// top of this file.

const defaultTable = "" +
	"| Capability | Owner | Admin | viewer | Guest |\n" +
	"|---|:-:|:-:|:-:|:-:|\n" +
	"| Create job runs | ✅ | ✅ | ❌ | ❌ |\n" +
	"| View job runs | ✅ | ✅ | ✅ | ❌ |\n" +
	"| organization/settings:manage | ✅ | ❌ | ❌ | ❌ |\n"

func TestRender(t *testing.T) {
	t.Parallel()
	m := testMatrix(t)
	tests := []struct {
		rule string
		opts role.RenderOptions
		want string
	}{
		{"zero options: every row and column, labels fall back to IDs", role.RenderOptions{}, defaultTable},
		{"order subset and reorder",
			role.RenderOptions{Order: []role.Capability{"organization/settings:manage", "job_runs:create"}},
			"| Capability | Owner | Admin | viewer | Guest |\n" +
				"|---|:-:|:-:|:-:|:-:|\n" +
				"| organization/settings:manage | ✅ | ❌ | ❌ | ❌ |\n" +
				"| Create job runs | ✅ | ✅ | ❌ | ❌ |\n"},
		{"empty order renders no rows",
			role.RenderOptions{Order: []role.Capability{}},
			"| Capability | Owner | Admin | viewer | Guest |\n" +
				"|---|:-:|:-:|:-:|:-:|\n"},
		{"roles subset and reorder",
			role.RenderOptions{Roles: []string{"viewer", "owner"}},
			"| Capability | viewer | Owner |\n" +
				"|---|:-:|:-:|\n" +
				"| Create job runs | ❌ | ✅ |\n" +
				"| View job runs | ✅ | ✅ |\n" +
				"| organization/settings:manage | ❌ | ✅ |\n"},
		{"empty roles renders no role columns",
			role.RenderOptions{Roles: []string{}},
			"| Capability |\n" +
				"|---|\n" +
				"| Create job runs |\n" +
				"| View job runs |\n" +
				"| organization/settings:manage |\n"},
		{"header",
			role.RenderOptions{Header: "Permission", Roles: []string{"guest"}},
			"| Permission | Guest |\n" +
				"|---|:-:|\n" +
				"| Create job runs | ❌ |\n" +
				"| View job runs | ❌ |\n" +
				"| organization/settings:manage | ❌ |\n"},
		{"label text is the default",
			role.RenderOptions{Label: role.LabelText, Roles: []string{"admin"}},
			"| Capability | Admin |\n" +
				"|---|:-:|\n" +
				"| Create job runs | ✅ |\n" +
				"| View job runs | ✅ |\n" +
				"| organization/settings:manage | ❌ |\n"},
		{"label ID in code style",
			role.RenderOptions{Label: role.LabelID, Roles: []string{"admin"}},
			"| Capability | Admin |\n" +
				"|---|:-:|\n" +
				"| `job_runs:create` | ✅ |\n" +
				"| `job_runs:read` | ✅ |\n" +
				"| `organization/settings:manage` | ❌ |\n"},
		{"label ID and text, ID alone when there is no label",
			role.RenderOptions{Label: role.LabelIDAndText, Roles: []string{"admin"}},
			"| Capability | Admin |\n" +
				"|---|:-:|\n" +
				"| `job_runs:create` Create job runs | ✅ |\n" +
				"| `job_runs:read` View job runs | ✅ |\n" +
				"| `organization/settings:manage` | ❌ |\n"},
		{"extra columns after the role columns",
			role.RenderOptions{
				Roles: []string{"owner", "viewer"},
				Extra: []role.Column{
					{Title: "Resource", Cell: func(d role.Def) string { return d.ID.Resource() }},
					{Title: "Action", Cell: func(d role.Def) string { return d.ID.Action() }},
				},
			},
			"| Capability | Owner | viewer | Resource | Action |\n" +
				"|---|:-:|:-:|---|---|\n" +
				"| Create job runs | ✅ | ❌ | job_runs | create |\n" +
				"| View job runs | ✅ | ✅ | job_runs | read |\n" +
				"| organization/settings:manage | ✅ | ❌ | organization/settings | manage |\n"},
		{"all options together",
			role.RenderOptions{
				Order:  []role.Capability{"job_runs:read"},
				Roles:  []string{"guest", "admin"},
				Header: "Can",
				Label:  role.LabelID,
				Extra:  []role.Column{{Title: "Notes", Cell: func(role.Def) string { return "-" }}},
			},
			"| Can | Guest | Admin | Notes |\n" +
				"|---|:-:|:-:|---|\n" +
				"| `job_runs:read` | ❌ | ✅ | - |\n"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			require.NoError(t, m.Render(&b, tt.opts))
			assert.Equal(t, tt.want, b.String())
		})
	}
}

func TestRenderRefusesUnknownNames(t *testing.T) {
	t.Parallel()
	m := testMatrix(t)
	tests := []struct {
		rule    string
		opts    role.RenderOptions
		wantErr error
		names   string
	}{
		{"unknown capability in order",
			role.RenderOptions{Order: []role.Capability{"job_runs:read", "job_runs:delete"}},
			role.ErrUnknownCapability, "job_runs:delete"},
		{"malformed capability in order",
			role.RenderOptions{Order: []role.Capability{"Job_runs:read"}},
			nil, "Job_runs:read"},
		{"unknown role in roles",
			role.RenderOptions{Roles: []string{"owner", "auditor"}},
			role.ErrUnknownRole, "auditor"},
		{"role title instead of ID",
			role.RenderOptions{Roles: []string{"Owner"}},
			role.ErrUnknownRole, "Owner"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			err := m.Render(&b, tt.opts)
			require.Error(t, err)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			assert.Contains(t, err.Error(), tt.names)
			assert.Zero(t, b.Len(), "nothing is written: %q", b.String())
		})
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestRenderReturnsWriterError(t *testing.T) {
	t.Parallel()
	m := testMatrix(t)
	errDiskFull := errors.New("disk full")
	err := m.Render(failingWriter{errDiskFull}, role.RenderOptions{})
	assert.ErrorIs(t, err, errDiskFull)
}

func TestNewMatrixGrantToMalformedRole(t *testing.T) {
	t.Parallel()
	grants := matrixGrants()
	grants["Bad Role"] = []role.Capability{"job_runs:read"}
	_, err := role.NewMatrix(mustCatalog(t, matrixDefs()...), matrixRoles(), grants)
	require.ErrorIs(t, err, role.ErrInvalidRole)
	assert.NotErrorIs(t, err, role.ErrUnknownRole)
	assert.Contains(t, err.Error(), `"Bad Role"`)
}

func TestNewMatrixReportsTheSameFaultEveryTime(t *testing.T) {
	t.Parallel()
	grants := matrixGrants()
	for _, r := range []string{"zed", "alpha", "mid"} {
		grants[r] = []role.Capability{"job_runs:read"}
	}
	var first string
	for i := range 20 {
		_, err := role.NewMatrix(mustCatalog(t, matrixDefs()...), matrixRoles(), grants)
		require.Error(t, err)
		if i == 0 {
			first = err.Error()
			assert.Contains(t, first, `"alpha"`, "faults are reported in sorted order")
		}
		assert.Equal(t, first, err.Error())
	}
}

func TestRenderMalformedCapabilityInOrder(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := testMatrix(t).Render(&out, role.RenderOptions{Order: []role.Capability{"Job:Create"}})
	require.ErrorIs(t, err, role.ErrInvalidCapability)
	assert.Zero(t, out.Len())
}

func TestRenderEscapesCells(t *testing.T) {
	t.Parallel()
	// Labels and role names hold no line breaks (NewCatalog and NewMatrix
	// refuse control characters), but headers and extra cells may.
	cat := mustCatalog(t, role.Def{ID: "a:b", Label: "read | write"})
	m, err := role.NewMatrix(cat, []role.Role{{ID: "r", Name: "R|S", Rank: 1}}, map[string][]role.Capability{"r": {"a:b"}})
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, m.Render(&out, role.RenderOptions{
		Header: "What|\nnow",
		Extra:  []role.Column{{Title: "Note", Cell: func(role.Def) string { return "x|y\r\nz" }}, {Title: "Empty"}},
	}))
	want := "| What\\| now | R\\|S | Note | Empty |\n" +
		"|---|:-:|---|---|\n" +
		"| read \\| write | ✅ | x\\|y z |  |\n"
	assert.Equal(t, want, out.String())
}
