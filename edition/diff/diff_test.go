package diff_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/edition/diff"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

func presets() []*edition.Scheme {
	return []*edition.Scheme{edition.Wherobots(), edition.AIEngine(), edition.UiPath(), edition.SoterAI()}
}

func TestCompareSameIsEmpty(t *testing.T) {
	t.Parallel()
	for _, s := range presets() {
		t.Run(s.ID(), func(t *testing.T) {
			t.Parallel()
			for _, r := range []diff.Report{diff.Compare(s, s), diff.Compare(s, rebuilt(t, s))} {
				assert.True(t, r.Empty(), "%+v", r)
				assert.False(t, r.Breaking())
				assert.False(t, r.Escalating())
				var b bytes.Buffer
				require.NoError(t, r.WriteText(&b))
				assert.Equal(t, "Scheme "+s.ID()+" ("+s.Name()+") → "+s.ID()+" ("+s.Name()+")\nNo changes.\n", b.String())
				b.Reset()
				require.NoError(t, r.WriteJSON(&b))
				var j map[string]any
				require.NoError(t, json.Unmarshal(b.Bytes(), &j))
				assert.Equal(t, true, j["empty"])
				assert.Equal(t, []any{}, j["cells"], "lists are [] when empty")
			}
		})
	}
}

// rebuilt builds s again from its Spec: an equal, distinct scheme.
func rebuilt(t *testing.T, s *edition.Scheme) *edition.Scheme {
	t.Helper()
	n, err := edition.NewScheme(s.Spec())
	require.NoError(t, err)
	return n
}

func allowed(r policy.Reason) diff.Outcome { return diff.Outcome{Allowed: true, Reason: r} }
func denied(r policy.Reason) diff.Outcome  { return diff.Outcome{Reason: r} }

const (
	holds      = policy.ReasonRoleHolds
	lacks      = policy.ReasonRoleLacks
	gated      = policy.ReasonEditionGated
	mayManage  = policy.ReasonMayManage
	immRole    = policy.ReasonImmutableRole
	immTarget  = policy.ReasonImmutableTarget
	restricts  = diff.Restricts
	relaxes    = diff.Relaxes
	neutral    = diff.Neutral
	wherobotsN = "Wherobots Cloud"
)

func cell(ed, r string, c role.Capability, o, n diff.Outcome, e diff.Effect) diff.CellChange {
	return diff.CellChange{Edition: ed, Role: r, Capability: c, Old: o, New: n, Effect: e}
}

func esc(kind diff.EscalationKind, ed, r string, c role.Capability) diff.Escalation {
	return diff.Escalation{Kind: kind, Edition: ed, Role: r, Capability: c}
}

func assignable(ed, assigner, given string, c role.Capability) diff.Escalation {
	return diff.Escalation{Kind: diff.EscalationAssignable, Edition: ed, Role: assigner, NewRole: given, Capability: c}
}

func manage(actor, action, target, newRole string, o, n diff.Outcome) diff.ManagementChange {
	return diff.ManagementChange{Edition: "standard", Actor: actor, Action: action, Target: target, NewRole: newRole, Old: o, New: n, Effect: effectOf(o, n)}
}

func effectOf(o, n diff.Outcome) diff.Effect {
	switch {
	case o.Allowed && !n.Allowed:
		return restricts
	case !o.Allowed && n.Allowed:
		return relaxes
	}
	return neutral
}

func escManage(actor, action, target, newRole string) diff.Escalation {
	return diff.Escalation{Kind: diff.EscalationManagement, Edition: "standard", Role: actor, Action: action, Target: target, NewRole: newRole}
}

func TestCompareScenarios(t *testing.T) {
	t.Parallel()
	ref := func(s *edition.Scheme) diff.SchemeRef { return diff.SchemeRef{ID: s.ID(), Name: s.Name()} }
	w, ai, ui, so := ref(edition.Wherobots()), ref(edition.AIEngine()), ref(edition.UiPath()), ref(edition.SoterAI())
	tests := []struct {
		scenario             string
		want                 diff.Report
		breaking, escalating bool
	}{
		{"add-role", diff.Report{Old: w, New: w,
			Roles: []diff.Change{{Op: diff.Added, ID: "viewer", Fields: []diff.Field{
				{Name: "name", New: "Viewer", Effect: neutral},
				{Name: "rank", New: "1", Effect: neutral},
				{Name: "capabilities", Added: []string{"cloud:use", "notebook:start"}, Effect: neutral},
			}}},
		}, false, false},
		{"remove-role", diff.Report{Old: ai, New: ai,
			Roles: []diff.Change{{Op: diff.Removed, ID: "editor"}},
		}, true, false},
		{"grant", diff.Report{Old: w, New: w,
			Roles: []diff.Change{{Op: diff.Changed, ID: "user", Fields: []diff.Field{
				{Name: "capabilities", Added: []string{"billing:view"}, Effect: relaxes},
			}}},
			Cells: []diff.CellChange{
				cell("community", "user", "billing:view", denied(lacks), denied(gated), neutral),
				cell("professional", "user", "billing:view", denied(lacks), allowed(holds), relaxes),
				cell("enterprise", "user", "billing:view", denied(lacks), allowed(holds), relaxes),
			},
			Escalations: []diff.Escalation{
				esc(diff.EscalationCapability, "professional", "user", "billing:view"),
				assignable("professional", "admin", "user", "billing:view"),
				esc(diff.EscalationCapability, "enterprise", "user", "billing:view"),
				assignable("enterprise", "admin", "user", "billing:view"),
			},
		}, false, true},
		{"revoke", diff.Report{Old: w, New: w,
			Roles: []diff.Change{{Op: diff.Changed, ID: "user", Fields: []diff.Field{
				{Name: "capabilities", Removed: []string{"notebook:start"}, Effect: restricts},
			}}},
			Cells: []diff.CellChange{
				cell("community", "user", "notebook:start", allowed(holds), denied(lacks), restricts),
				cell("professional", "user", "notebook:start", allowed(holds), denied(lacks), restricts),
				cell("enterprise", "user", "notebook:start", allowed(holds), denied(lacks), restricts),
			},
		}, true, false},
		{"lower-seats", diff.Report{Old: w, New: w,
			Editions: []diff.Change{{Op: diff.Changed, ID: "community", Fields: []diff.Field{
				{Name: "seats", Old: "5 seats", New: "3 seats", Effect: restricts},
			}}},
		}, true, false},
		{"gate", diff.Report{Old: w, New: w,
			Capabilities: []diff.Change{{Op: diff.Changed, ID: "api_keys:revoke_others", Fields: []diff.Field{
				{Name: "editions", Removed: []string{"community"}, Effect: restricts},
			}}},
			Cells: []diff.CellChange{
				cell("community", "admin", "api_keys:revoke_others", allowed(holds), denied(gated), restricts),
			},
			Operations: []diff.OperationChange{
				{Edition: "community", Role: "admin", Operation: "keys.revoke_others", Old: allowed(holds), New: denied(gated), Effect: restricts},
			},
		}, true, false},
		{"invariant-max", diff.Report{Old: w, New: w,
			Invariants: []diff.Change{{Op: diff.Changed, ID: "admin", Fields: []diff.Field{
				{Name: "max", New: "2", Effect: restricts},
			}}},
		}, true, false},
		{"invariant-mutable", diff.Report{Old: ui, New: ui,
			Invariants: []diff.Change{{Op: diff.Changed, ID: "owner", Fields: []diff.Field{
				{Name: "immutable", Old: "true", New: "false", Effect: relaxes},
			}}},
			Management: []diff.ManagementChange{
				manage("owner", "invite", "", "owner", denied(immRole), allowed(mayManage)),
				manage("owner", "remove", "owner", "", denied(immTarget), allowed(mayManage)),
				manage("owner", "change-role", "owner", "owner", denied(immTarget), allowed(mayManage)),
				manage("owner", "change-role", "owner", "administrator", denied(immTarget), allowed(mayManage)),
				manage("owner", "change-role", "owner", "user", denied(immTarget), allowed(mayManage)),
				manage("owner", "change-role", "administrator", "owner", denied(immRole), allowed(mayManage)),
				manage("owner", "change-role", "user", "owner", denied(immRole), allowed(mayManage)),
				manage("administrator", "invite", "", "owner", denied(immRole), denied(policy.ReasonMayNotAssign)),
				manage("administrator", "remove", "owner", "", denied(immTarget), denied(policy.ReasonOutranked)),
				manage("administrator", "change-role", "owner", "owner", denied(immTarget), denied(policy.ReasonOutranked)),
				manage("administrator", "change-role", "owner", "administrator", denied(immTarget), denied(policy.ReasonOutranked)),
				manage("administrator", "change-role", "owner", "user", denied(immTarget), denied(policy.ReasonOutranked)),
				manage("administrator", "change-role", "administrator", "owner", denied(immRole), denied(policy.ReasonMayNotAssign)),
				manage("administrator", "change-role", "user", "owner", denied(immRole), denied(policy.ReasonMayNotAssign)),
			},
			Operations: []diff.OperationChange{
				{Edition: "standard", Role: "owner", Operation: "members.leave", Old: denied(immRole), New: allowed(policy.ReasonMayLeave), Effect: relaxes},
				{Edition: "standard", Role: "administrator", Operation: "organization.delete", Old: denied(policy.ReasonImmutableOwner), New: allowed(holds), Effect: relaxes},
			},
			Escalations: []diff.Escalation{
				escManage("owner", "invite", "", "owner"),
				escManage("owner", "remove", "owner", ""),
				escManage("owner", "change-role", "owner", "owner"),
				escManage("owner", "change-role", "owner", "administrator"),
				escManage("owner", "change-role", "owner", "user"),
				escManage("owner", "change-role", "administrator", "owner"),
				escManage("owner", "change-role", "user", "owner"),
				{Kind: diff.EscalationOperation, Edition: "standard", Role: "owner", Operation: "members.leave"},
				{Kind: diff.EscalationOperation, Edition: "standard", Role: "administrator", Operation: "organization.delete"},
			},
		}, false, true},
		{"split-role", diff.Report{Old: w, New: w,
			Roles: []diff.Change{
				{Op: diff.Changed, ID: "user", Fields: []diff.Field{
					{Name: "capabilities", Removed: []string{"job_runs:create", "raster_inference:use"}, Effect: restricts},
				}},
				{Op: diff.Added, ID: "analyst", Fields: []diff.Field{
					{Name: "name", New: "Analyst", Effect: neutral},
					{Name: "rank", New: "1", Effect: neutral},
					{Name: "capabilities", Added: []string{"cloud:use", "notebook:start", "integrations/s3:use", "api_keys:manage_own",
						"api_keys:authenticate", "job_runs:create", "support:contact", "raster_inference:use"}, Effect: neutral},
				}},
			},
			Cells: []diff.CellChange{
				cell("community", "user", "job_runs:create", denied(gated), denied(lacks), neutral),
				cell("community", "user", "raster_inference:use", denied(gated), denied(lacks), neutral),
				cell("professional", "user", "job_runs:create", allowed(holds), denied(lacks), restricts),
				cell("professional", "user", "raster_inference:use", allowed(holds), denied(lacks), restricts),
				cell("enterprise", "user", "job_runs:create", allowed(holds), denied(lacks), restricts),
				cell("enterprise", "user", "raster_inference:use", allowed(holds), denied(lacks), restricts),
			},
		}, true, false},
		{"add-capability", diff.Report{Old: w, New: w,
			Capabilities: []diff.Change{{Op: diff.Added, ID: "exports:run", Fields: []diff.Field{
				{Name: "label", New: "Run exports", Effect: neutral},
				{Name: "editions", Added: []string{"enterprise"}, Effect: neutral},
				{Name: "held by", Added: []string{"admin"}, Effect: neutral},
			}}},
			Cells: []diff.CellChange{
				cell("enterprise", "admin", "exports:run", denied(policy.ReasonUnknownCapability), allowed(holds), relaxes),
			},
			Escalations: []diff.Escalation{
				esc(diff.EscalationCapability, "enterprise", "admin", "exports:run"),
				assignable("enterprise", "admin", "admin", "exports:run"),
			},
		}, false, true},
		{"not-own", diff.Report{Old: w, New: w,
			Scheme: []diff.Field{{Name: "own", Removed: []string{"api_keys:manage_own"}, Effect: relaxes}},
			Escalations: []diff.Escalation{
				esc(diff.EscalationOwn, "community", "admin", "api_keys:manage_own"),
				esc(diff.EscalationOwn, "community", "user", "api_keys:manage_own"),
				esc(diff.EscalationOwn, "professional", "admin", "api_keys:manage_own"),
				esc(diff.EscalationOwn, "professional", "user", "api_keys:manage_own"),
				esc(diff.EscalationOwn, "enterprise", "admin", "api_keys:manage_own"),
				esc(diff.EscalationOwn, "enterprise", "user", "api_keys:manage_own"),
			},
		}, false, true},
		{"scope-grant", diff.Report{Old: ai, New: ai,
			Scopes: []diff.ScopeChange{{Op: diff.Changed, Kind: "project",
				Fields: []diff.Field{{Name: "default role", Old: "viewer", New: "editor", Effect: relaxes}},
				Roles: []diff.Change{{Op: diff.Changed, ID: "viewer", Fields: []diff.Field{
					{Name: "capabilities", Added: []string{"project/assets:manage"}, Effect: relaxes},
				}}},
			}},
			ScopeCells: []diff.ScopeCellChange{
				{Scope: "project", Role: "viewer", Capability: "project/assets:manage", Old: denied(lacks), New: allowed(holds), Effect: relaxes},
			},
			Escalations: []diff.Escalation{
				{Kind: diff.EscalationScopeCapability, Scope: "project", Role: "viewer", Capability: "project/assets:manage"},
				{Kind: diff.EscalationDefaultRole, Scope: "project", NewRole: "editor", Capability: "project/assets:manage"},
			},
		}, false, true},
		{"implicit-dropped", diff.Report{Old: so, New: so,
			Scopes: []diff.ScopeChange{{Op: diff.Changed, Kind: "workspace",
				Fields: []diff.Field{{Name: "implicit.manager", Old: "manager", Effect: restricts}},
			}},
		}, true, false},
		{"eligibility", diff.Report{Old: ai, New: ai,
			Scopes: []diff.ScopeChange{{Op: diff.Changed, Kind: "project",
				Fields: []diff.Field{{Name: "eligibility.owner", Old: "holding projects:be_owner", New: "holding projects:be_member", Effect: neutral}},
			}},
			Eligibility: []diff.EligibilityChange{
				{Edition: "standard", Scope: "project", OrgRole: "external", ScopeRole: "owner", Old: denied(policy.ReasonNotEligible), New: allowed(policy.ReasonEligible), Effect: relaxes},
			},
			Escalations: []diff.Escalation{
				{Kind: diff.EscalationEligibility, Edition: "standard", Scope: "project", Role: "external", NewRole: "owner"},
			},
		}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel()
			sc, ok := scenarios[tt.scenario]
			require.True(t, ok)
			got := diff.Compare(sc.build(t))
			// Details are sentences made of the other fields; the golden
			// files check their wording.
			opts := []cmp.Option{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(diff.Escalation{}, "Detail")}
			if d := cmp.Diff(tt.want, got, opts...); d != "" {
				t.Errorf("report (-want +got):\n%s", d)
			}
			for _, e := range got.Escalations {
				assert.NotEmpty(t, e.Detail)
			}
			assert.False(t, got.Empty())
			assert.Equal(t, tt.breaking, got.Breaking(), "Breaking")
			assert.Equal(t, tt.escalating, got.Escalating(), "Escalating")
		})
	}
}

// TestCompareReversed checks that a change and its reverse mirror each
// other: what one adds the other removes, a restricting cell change
// relaxes the other way, and escalations come from relaxing changes only.
func TestCompareReversed(t *testing.T) {
	t.Parallel()
	for name, sc := range scenarios {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o, n := sc.build(t)
			fwd, back := diff.Compare(o, n), diff.Compare(n, o)
			require.Len(t, back.Cells, len(fwd.Cells))
			for i, c := range fwd.Cells {
				r := back.Cells[i]
				assert.Equal(t, c.Old, r.New)
				assert.Equal(t, c.New, r.Old)
			}
			require.Len(t, back.Management, len(fwd.Management))
			assert.Len(t, back.Roles, len(fwd.Roles))
			assert.Len(t, back.Capabilities, len(fwd.Capabilities))
			assert.Len(t, back.Editions, len(fwd.Editions))
			for _, c := range fwd.Cells {
				if c.Effect == diff.Relaxes {
					assert.True(t, fwd.Escalating())
					assert.True(t, back.Breaking())
				}
			}
			for i, m := range fwd.Management {
				assert.Equal(t, m.Old, back.Management[i].New)
				if m.Effect == diff.Relaxes {
					assert.True(t, fwd.Escalating())
					assert.Equal(t, diff.Restricts, back.Management[i].Effect)
				}
			}
		})
	}
}

// checkGolden compares got with testdata/name, or rewrites it under
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to write the golden file")
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"grant", "split-role", "invariant-mutable"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := diff.Compare(scenarios[name].build(t))
			var text, js bytes.Buffer
			require.NoError(t, r.WriteText(&text))
			require.NoError(t, r.WriteJSON(&js))
			checkGolden(t, name+".txt.golden", text.Bytes())
			checkGolden(t, name+".json.golden", js.Bytes())

			// The JSON reads back into a Report equal to the one written.
			var back diff.Report
			require.NoError(t, json.Unmarshal(js.Bytes(), &back))
			if d := cmp.Diff(r, back, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("JSON round trip (-written +read):\n%s", d)
			}
			assert.NotContains(t, text.String(), " \n", "no trailing spaces")
		})
	}
}

func TestDifferentSchemes(t *testing.T) {
	t.Parallel()
	// Two unrelated schemes: everything but what they share by ID is
	// added or removed, and nothing panics.
	for _, o := range presets() {
		for _, n := range presets() {
			r := diff.Compare(o, n)
			assert.Equal(t, o.ID() == n.ID(), r.Empty(), "%s → %s", o.ID(), n.ID())
			var b bytes.Buffer
			require.NoError(t, r.WriteText(&b))
			require.NoError(t, r.WriteJSON(&b))
		}
	}
	r := diff.Compare(edition.AIEngine(), edition.SoterAI())
	assert.True(t, r.Breaking())
	assert.Contains(t, r.Scheme, diff.Field{Name: "id", Old: "aiengine", New: "soterai", Effect: neutral})
	assert.Contains(t, r.Editions, diff.Change{Op: diff.Removed, ID: "standard"})
	assert.Contains(t, r.Scopes, diff.ScopeChange{Op: diff.Removed, Kind: "project"})
	assert.Empty(t, r.Cells, "no edition in common")
}

func TestComparePanicsOnNil(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { diff.Compare(nil, edition.Wherobots()) })
	assert.Panics(t, func() { diff.Compare(edition.Wherobots(), nil) })
}

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "allowed (role-holds)", allowed(holds).String())
	assert.Equal(t, "denied (edition-gated)", denied(gated).String())
	assert.Equal(t, "allowed (no condition)", diff.Outcome{Allowed: true}.String())
}

// TestKeysAuthenticateCondition covers an operation that no capability
// governs: without Keys.Authenticate every key authenticates.
func TestKeysAuthenticateCondition(t *testing.T) {
	t.Parallel()
	o := edition.Wherobots()
	spec := o.Spec()
	spec.Keys.Authenticate = ""
	n, err := edition.NewScheme(spec)
	require.NoError(t, err)
	r := diff.Compare(o, n)
	assert.Equal(t, []diff.Field{{Name: "keys.authenticate", Old: "api_keys:authenticate", Effect: neutral}}, r.Scheme)
	require.Len(t, r.Operations, 6, "every role held api_keys:authenticate: only the reason changes")
	for _, op := range r.Operations {
		assert.Equal(t, diff.OperationChange{Edition: op.Edition, Role: op.Role, Operation: "keys.authenticate", Old: allowed(holds), New: diff.Outcome{Allowed: true}, Effect: neutral}, op)
	}
	assert.False(t, r.Escalating())
	var b bytes.Buffer
	require.NoError(t, diff.Compare(n, o).WriteText(&b))
	assert.True(t, strings.Contains(b.String(), "keys.authenticate: (none) → api_keys:authenticate"), b.String())
}
