package schemefile_test

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/schemefile"
)

// update makes TestPresetFiles write the preset files (go generate).
var update = flag.Bool("update", false, "rewrite presets/*.yaml from the Go presets")

type preset struct {
	fn     string // the function's name in package edition
	scheme *edition.Scheme
}

func presets() []preset {
	return []preset{
		{"Wherobots", edition.Wherobots()},
		{"AIEngine", edition.AIEngine()},
		{"UiPath", edition.UiPath()},
		{"SoterAI", edition.SoterAI()},
	}
}

// presetFile returns what presets/<id>.yaml holds: a header, then Marshal
// of the Go preset's Spec.
func presetFile(t *testing.T, p preset) []byte {
	t.Helper()
	body, err := schemefile.Marshal(p.scheme.Spec(), schemefile.YAML)
	if err != nil {
		t.Fatal(err)
	}
	header := fmt.Sprintf("# The %s preset (edition.%s) as a scheme file.\n"+
		"# Generated from the Go preset by `go generate` in schemefile/: do not edit.\n"+
		"# To start a scheme of your own from it, copy it and change the id.\n"+
		"# yaml-language-server: $schema=../scheme.schema.json\n", p.scheme.Name(), p.fn)
	return append([]byte(header), body...)
}

// TestPresetFiles checks that presets/ holds exactly the four presets, as
// generated from the Go presets (with -update, it writes them).
func TestPresetFiles(t *testing.T) {
	var want []string
	for _, p := range presets() {
		name := p.scheme.ID() + ".yaml"
		want = append(want, name)
		data := presetFile(t, p)
		if *update {
			if err := os.WriteFile(filepath.Join("presets", name), data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := fs.ReadFile(schemefile.Presets, name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("presets/%s is not what the Go preset generates; run go generate ./schemefile/\n%s", name, cmp.Diff(string(data), string(got)))
		}
	}
	entries, err := fs.ReadDir(schemefile.Presets, ".")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(want)
	if !*update && !slices.Equal(got, want) {
		t.Errorf("Presets holds %v, want %v", got, want)
	}
}

func buildPreset(t *testing.T, p preset) *edition.Scheme {
	t.Helper()
	name := p.scheme.ID() + ".yaml"
	data, err := fs.ReadFile(schemefile.Presets, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schemefile.Build(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// explained is a decision as compared: the verdict, the reason and its
// explanation.
func explained(d policy.Decision) string {
	return fmt.Sprintf("%v %v %s", d.Allowed, d.Reason, d)
}

// TestPresetsDecideAsGo builds each preset file and its Go preset and
// compares them on every decision: the whole decision table (policy.Rows),
// every management question (every edition, actor role, action, target
// role and new role, unknown ones included), the other organization
// questions, every scope decision and eligibility, and the Spec.
func TestPresetsDecideAsGo(t *testing.T) {
	t.Parallel()
	for _, p := range presets() {
		t.Run(p.scheme.ID(), func(t *testing.T) {
			t.Parallel()
			want, got := p.scheme, buildPreset(t, p)

			if diff := cmp.Diff(want.Spec(), got.Spec()); diff != "" {
				t.Errorf("Spec differs (-go +file):\n%s", diff)
			}
			wantRows, gotRows := slices.Collect(policy.Rows(want)), slices.Collect(policy.Rows(got))
			if len(wantRows) == 0 {
				t.Fatal("no rows")
			}
			if diff := cmp.Diff(wantRows, gotRows); diff != "" {
				t.Errorf("decision table differs (-go +file):\n%s", diff)
			}

			var roles []string
			for _, r := range want.Roles() {
				roles = append(roles, r.ID)
			}
			roles = append(roles, "", "nobody")
			var editions []string
			for _, e := range want.Editions() {
				editions = append(editions, e.ID())
			}
			editions = append(editions, "no_edition")
			asked := 0
			compare := func(what string, w, g policy.Decision) {
				t.Helper()
				asked++
				if explained(w) != explained(g) {
					t.Errorf("%s: go %s, file %s", what, explained(w), explained(g))
				}
			}
			for _, ed := range editions {
				for _, actor := range roles {
					for a := edition.Action(0); a <= edition.ActionChangeRole+1; a++ {
						for _, target := range roles {
							for _, newRole := range roles {
								what := fmt.Sprintf("CanManage(%s, %s, %v, %s, %s)", ed, actor, a, target, newRole)
								compare(what, policy.CanManage(want, ed, actor, a, target, newRole), policy.CanManage(got, ed, actor, a, target, newRole))
							}
						}
					}
					compare("CanLeave", policy.CanLeave(want, ed, actor), policy.CanLeave(got, ed, actor))
					compare("CanRemoveExternal", policy.CanRemoveExternal(want, ed, actor), policy.CanRemoveExternal(got, ed, actor))
					compare("CanDeleteOrganization", policy.CanDeleteOrganization(want, ed, actor), policy.CanDeleteOrganization(got, ed, actor))
					for _, r := range roles {
						compare("CanAssign", policy.CanAssign(want, ed, actor, r), policy.CanAssign(got, ed, actor, r))
					}
				}
				wr, werr := policy.InviteRole(want, ed)
				gr, gerr := policy.InviteRole(got, ed)
				if wr != gr || fmt.Sprint(werr) != fmt.Sprint(gerr) {
					t.Errorf("InviteRole(%s): go %q, %v; file %q, %v", ed, wr, werr, gr, gerr)
				}
			}
			for _, sc := range want.Scopes() {
				kind := sc.Kind()
				scopeRoles := []string{"nobody"}
				for _, r := range sc.Matrix().Roles() {
					scopeRoles = append(scopeRoles, r.ID)
				}
				caps := []role.Capability{"no:capability"}
				for _, d := range sc.Matrix().Catalog().Defs() {
					caps = append(caps, d.ID)
				}
				for _, r := range scopeRoles {
					for _, c := range caps {
						compare("DecideScope", policy.DecideScope(want, kind, r, c), policy.DecideScope(got, kind, r, c))
					}
					for _, ed := range editions {
						for _, orgRole := range roles {
							compare("Eligible", policy.Eligible(want, ed, kind, orgRole, r), policy.Eligible(got, ed, kind, orgRole, r))
						}
					}
				}
			}
			t.Logf("%d rows and %d other decisions alike", len(gotRows), asked)
		})
	}
}

// TestPresetsRoundTrip marshals each Go preset's Spec in both formats and
// parses it back: the Spec is the same, deep-equal, with no normalization
// (Marshal keeps nil and empty apart, and Spec() has the defaulted names
// NewScheme filled in, which the file then holds).
func TestPresetsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range presets() {
		for _, f := range []schemefile.Format{schemefile.YAML, schemefile.JSON} {
			spec := p.scheme.Spec()
			data, err := schemefile.Marshal(spec, f)
			if err != nil {
				t.Fatal(err)
			}
			for range 20 { // maps iterate in random order: the bytes must not
				again, _ := schemefile.Marshal(p.scheme.Spec(), f)
				if !bytes.Equal(again, data) {
					t.Fatalf("%s %v: Marshal is not deterministic", p.scheme.ID(), f)
				}
			}
			name := p.scheme.ID() + map[schemefile.Format]string{schemefile.YAML: ".yaml", schemefile.JSON: ".json"}[f]
			parsed, err := schemefile.Parse(name, data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if diff := cmp.Diff(spec, parsed); diff != "" {
				t.Errorf("%s: round trip differs (-go +parsed):\n%s", name, diff)
			}
			built, err := schemefile.Build(name, data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if diff := cmp.Diff(slices.Collect(policy.Rows(p.scheme)), slices.Collect(policy.Rows(built))); diff != "" {
				t.Errorf("%s: decision table differs:\n%s", name, diff)
			}
		}
	}
}
