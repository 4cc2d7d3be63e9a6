package policytest_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/policy/policytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that keeps what the helper reports, so the
// tests can check the report itself.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func wherobotsTable() []policy.Row {
	return slices.Collect(policy.Rows(edition.Wherobots()))
}

func TestAssertTablePasses(t *testing.T) {
	t.Parallel()
	rows := wherobotsTable()
	slices.Reverse(rows) // order does not matter
	rec := &recorder{TB: t}
	assert.True(t, policytest.AssertTable(rec, edition.Wherobots(), rows))
	assert.Empty(t, rec.errors)
}

func TestAssertTableReportsEveryCell(t *testing.T) {
	t.Parallel()
	rows := wherobotsTable()
	var flipped []string
	for i := range rows {
		// Flip two cells and drop one.
		if rows[i].Capability == "job_runs:create" && rows[i].Role == "user" && rows[i].Edition == "community" ||
			rows[i].Capability == "members:manage" && rows[i].Role == "admin" && rows[i].Edition == "enterprise" {
			rows[i].Allowed = !rows[i].Allowed
			flipped = append(flipped, string(rows[i].Capability))
		}
	}
	require.Len(t, flipped, 2)
	dropped := rows[0]
	rows = rows[1:]
	rows = append(rows, policy.Row{Capability: "rockets:launch", Role: "admin", Edition: "community", Allowed: true})

	rec := &recorder{TB: t}
	assert.False(t, policytest.AssertTable(rec, edition.Wherobots(), rows))
	require.Len(t, rec.errors, 1, "one failure for all cells")
	report := rec.errors[0]
	for _, want := range []string{
		`scheme "wherobots"`,
		"job_runs:create × user × community: want allowed, got denied",
		"members:manage × admin × enterprise: want denied, got allowed",
		fmt.Sprintf("%s × %s × %s: missing from the expected table", dropped.Capability, dropped.Role, dropped.Edition),
		"rockets:launch × admin × community: not a cell of the scheme",
		"-want +got",
	} {
		assert.Contains(t, report, want)
	}
}

func TestAssertTableDuplicateCell(t *testing.T) {
	t.Parallel()
	rows := wherobotsTable()
	rows = append(rows, rows[3])
	rec := &recorder{TB: t}
	assert.False(t, policytest.AssertTable(rec, edition.Wherobots(), rows))
	require.Len(t, rec.errors, 1)
	assert.Contains(t, rec.errors[0], "listed 2 times")
}

func TestAssertCells(t *testing.T) {
	t.Parallel()
	s := edition.SoterAI()
	rec := &recorder{TB: t}
	ok := policytest.AssertCells(rec, s, []policy.Row{
		{Capability: "members:invite", Role: "manager", Edition: "starter", Allowed: true},
		{Capability: "billing:manage", Role: "manager", Edition: "starter", Allowed: false},
		{Capability: "content:use", Role: "member", Edition: "enterprise", Allowed: true},
	})
	assert.True(t, ok)
	assert.Empty(t, rec.errors)

	ok = policytest.AssertCells(rec, s, []policy.Row{
		{Capability: "content:use", Role: "member", Edition: "starter", Allowed: true}, // member not offered
		{Capability: "billing:manage", Role: "owner", Edition: "starter", Allowed: true},
	})
	assert.False(t, ok)
	require.Len(t, rec.errors, 1)
	assert.Contains(t, rec.errors[0], "content:use × member × starter: want allowed, got denied")
	assert.False(t, strings.Contains(rec.errors[0], "billing:manage × owner"), "matching cells are not reported")
}
