package policy_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// checkGolden compares v's JSON, indented by two spaces and ended by a
// newline, with testdata/name.json, or rewrites that file under -update.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".json")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to write the golden file")
	if !bytes.Equal(got, want) {
		t.Errorf("%s: JSON differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestDecisionJSONGolden(t *testing.T) {
	t.Parallel()
	w, so := edition.Wherobots(), edition.SoterAI()
	for name, d := range map[string]policy.Decision{
		"decision_allowed":  policy.Decide(w, "professional", "user", "job_runs:create"),
		"decision_gated":    policy.Decide(w, "community", "admin", "billing:view"),
		"decision_manage":   policy.CanChangeRole(so, "enterprise", "manager", "member", "manager"),
		"decision_scope":    policy.DecideScope(so, "workspace", "member", "workspace:use"),
		"decision_eligible": policy.Eligible(so, "enterprise", "workspace", "member", "manager"),
		"decision_unknown":  policy.Decide(w, "community", "root", "cloud:use"),
		"decision_zero":     {},
	} {
		t.Run(name, func(t *testing.T) { checkGolden(t, name, d) })
	}
}

// decisionJSON is what a client reads back from a Decision's JSON.
type decisionJSON struct {
	Allowed     bool          `json:"allowed"`
	Reason      policy.Reason `json:"reason"`
	Role        string        `json:"role"`
	Target      string        `json:"target"`
	NewRole     string        `json:"new_role"`
	Capability  string        `json:"capability"`
	Edition     string        `json:"edition"`
	ScopeKind   string        `json:"scope_kind"`
	Action      string        `json:"action"`
	Explanation string        `json:"explanation"`
}

// TestDecisionJSONMatchesAccessors checks, over every decision table of
// the presets and many management and scope decisions, that the JSON says
// what the accessors and String say, and nothing else.
func TestDecisionJSONMatchesAccessors(t *testing.T) {
	t.Parallel()
	var ds []policy.Decision
	for _, s := range []*edition.Scheme{edition.Wherobots(), edition.AIEngine(), edition.UiPath(), edition.SoterAI()} {
		for row := range policy.Rows(s) {
			ds = append(ds, policy.Decide(s, row.Edition, row.Role, row.Capability))
		}
		for _, ed := range []string{"community", "professional", "enterprise", "starter", "standard", "nope"} {
			for _, a := range []string{"admin", "owner", "manager", "member", "user", "external", "administrator", "root"} {
				ds = append(ds, policy.CanLeave(s, ed, a), policy.CanDeleteOrganization(s, ed, a), policy.CanRemoveExternal(s, ed, a))
				for _, b := range []string{"admin", "owner", "member", "user", "external", "nope"} {
					ds = append(ds, policy.CanInvite(s, ed, a, b), policy.CanRemove(s, ed, a, b), policy.CanAssign(s, ed, a, b),
						policy.CanChangeRole(s, ed, a, b, "user"), policy.Eligible(s, ed, "workspace", a, b), policy.Eligible(s, ed, "project", a, b))
				}
			}
		}
		for _, k := range []string{"workspace", "project", "service", "nope"} {
			ds = append(ds, policy.NotScopeMember(s, k), policy.DecideScope(s, k, "member", "workspace:use"), policy.DecideScope(s, k, "nope", "nope:nope"))
		}
	}
	ds = append(ds, policy.Decide(nil, "x", "y", "z:w"), policy.Decision{}, policy.Decision{Reason: policy.ReasonArchived},
		policy.Decision{Reason: policy.ReasonUnavailable}, policy.Decision{Reason: policy.ReasonNotMember})
	reasons := map[policy.Reason]bool{}
	for _, d := range ds {
		reasons[d.Reason] = true
		b, err := json.Marshal(d)
		require.NoError(t, err, d.String())
		var got decisionJSON
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&got), "%s", b)
		action := ""
		if d.Action() != 0 {
			action = d.Action().String()
		}
		assert.Equal(t, decisionJSON{
			Allowed: d.Allowed, Reason: d.Reason, Role: d.Role(), Target: d.Target(), NewRole: d.NewRole(),
			Capability: string(d.Capability()), Edition: d.Edition(), ScopeKind: d.Scope(), Action: action,
			Explanation: got.Explanation,
		}, got, "%s", b)
		verdict := "denied"
		if d.Allowed {
			verdict = "allowed"
		}
		assert.Equal(t, d.String(), verdict+" ("+d.Reason.String()+"): "+got.Explanation)
		var fields map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(b, &fields))
		assert.Contains(t, fields, "allowed")
		assert.Contains(t, fields, "reason")
		assert.Contains(t, fields, "explanation")
		for k, v := range fields {
			if k != "reason" { // always present: "" for the zero Decision
				assert.NotEqual(t, `""`, string(v), "%s: an empty %q is omitted", b, k)
			}
		}
		// Pointers marshal as values do.
		pb, err := json.Marshal(&d)
		require.NoError(t, err)
		assert.Equal(t, b, pb)
	}
	assert.Greater(t, len(reasons), 20, "the decisions cover most reasons")
}

func TestReasonText(t *testing.T) {
	t.Parallel()
	seen := map[string]policy.Reason{}
	for i := range 256 {
		r := policy.Reason(i)
		b, err := r.MarshalText()
		if i != 0 && strings.HasPrefix(r.String(), "Reason(") {
			assert.ErrorIs(t, err, policy.ErrUnknownReason, "reason %d", i)
			continue
		}
		require.NoError(t, err)
		if i == 0 {
			assert.Empty(t, b)
		} else {
			assert.Equal(t, r.String(), string(b))
			assert.NotContains(t, seen, string(b), "two reasons share a name")
			seen[string(b)] = r
		}
		back := policy.ReasonImmutableOwner
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, r, back)

		j, err := json.Marshal(r)
		require.NoError(t, err)
		assert.Equal(t, `"`+string(b)+`"`, string(j))
		require.NoError(t, json.Unmarshal(j, &back))
		assert.Equal(t, r, back)
	}
	assert.Len(t, seen, int(policy.ReasonImmutableOwner))
	for _, word := range []string{"Edition-Gated", "edition_gated", " role-holds", "role-holds ", "Reason(1)", "1", "denied", strings.Repeat("x", 1000)} {
		r := policy.ReasonArchived
		err := r.UnmarshalText([]byte(word))
		require.ErrorIs(t, err, policy.ErrUnknownReason, "%q", word)
		assert.Equal(t, policy.ReasonArchived, r, "a failed UnmarshalText leaves the reason as it was")
		assert.Less(t, len(err.Error()), 100, "the error does not repeat long text")
	}
	_, err := json.Marshal(policy.Decision{Reason: 200})
	assert.ErrorIs(t, err, policy.ErrUnknownReason)
}
