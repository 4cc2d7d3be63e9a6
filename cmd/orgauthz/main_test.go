package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/schemefile"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

var update = flag.Bool("update", false, "rewrite the golden files and testdata/wherobots-split.yaml")

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	wherobots = "../../schemefile/presets/wherobots.yaml"
	split     = "testdata/wherobots-split.yaml"
	broken    = "testdata/broken.yaml"
)

// splitSpec is the Wherobots scheme with its user role split in two,
// developer (paid editions) and analyst, community's seats down to 3,
// raster_inference:use renamed inference:use.
func splitSpec() edition.Spec {
	sp := edition.Wherobots().Spec()
	sp.Roles = []role.Role{sp.Roles[0], {ID: "developer", Name: "Developer", Rank: 1}, {ID: "analyst", Name: "Analyst", Rank: 1}}
	rename := func(cs []role.Capability) []role.Capability {
		out := slices.Clone(cs)
		for i, c := range out {
			if c == "raster_inference:use" {
				out[i] = "inference:use"
			}
		}
		return out
	}
	for i, d := range sp.Capabilities {
		if d.ID == "raster_inference:use" {
			sp.Capabilities[i].ID = "inference:use"
		}
	}
	sp.Matrix = map[string][]role.Capability{
		"admin":     rename(sp.Matrix["admin"]),
		"developer": rename(sp.Matrix["user"]),
		"analyst":   {"cloud:use", "notebook:start", "integrations/s3:use", "support:contact"},
	}
	gates := map[role.Capability][]string{}
	for c, eds := range sp.CapabilityEditions {
		gates[rename([]role.Capability{c})[0]] = eds
	}
	sp.CapabilityEditions = gates
	sp.RoleEditions = map[string][]string{"developer": {"professional", "enterprise"}}
	sp.Editions[0].Seats = edition.Seats(3)
	sp.InviteRole = "analyst"
	return sp
}

func TestSplitFile(t *testing.T) {
	if *update {
		b, err := schemefile.Marshal(splitSpec(), schemefile.YAML)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(split, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := schemefile.Load(split)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := edition.NewScheme(splitSpec()); err != nil {
		t.Fatal(err)
	}
	if s.ID() != "wherobots" {
		t.Errorf("scheme %q", s.ID())
	}
}

// golden compares got with testdata/name.golden (rewriting it with
// -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s: output differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// cli runs the command and returns its exit code, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCommands(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"validate", []string{"validate", wherobots, split}, exitOK},
		{"validate-broken", []string{"validate", wherobots, broken}, exitFound},
		{"validate-missing", []string{"validate", "testdata/no-such-file.yaml"}, exitError},
		{"render-markdown", []string{"render", wherobots}, exitOK},
		{"render-html", []string{"render", "-format", "html", split}, exitOK},
		{"render-csv", []string{"render", "-format", "csv", wherobots}, exitOK},
		{"render-aiengine", []string{"render", "../../schemefile/presets/aiengine.yaml"}, exitOK},
		{"explain-allowed", []string{"explain", wherobots, "professional", "user", "job_runs:create"}, exitOK},
		{"explain-gated", []string{"explain", wherobots, "community", "user", "job_runs:create"}, exitFound},
		{"explain-unknown", []string{"explain", wherobots, "community", "ghost", "cloud:use"}, exitFound},
		{"diff-same", []string{"diff", wherobots, wherobots}, exitOK},
		{"diff-split", []string{"diff", wherobots, split}, exitFound},
		{"diff-split-allowed", []string{"diff", "-allow-breaking", "-allow-escalation", wherobots, split}, exitOK},
		{"diff-split-json", []string{"diff", "-json", wherobots, split}, exitFound},
		{"usage", []string{}, exitError},
		{"unknown-command", []string{"frobnicate"}, exitError},
		{"explain-usage", []string{"explain", wherobots}, exitError},
		{"render-bad-format", []string{"render", "-format", "pdf", wherobots}, exitError},
		{"plan-usage", []string{"plan", "-database-url", ""}, exitError},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := cli(t, c.args...)
			if code != c.code {
				t.Errorf("orgauthz %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(c.args, " "), code, c.code, out, errOut)
			}
			golden(t, c.name, "$ orgauthz "+strings.Join(c.args, " ")+"\n"+out+"--- stderr\n"+errOut)
		})
	}
}

// plan against a real PostgreSQL store: organizations made with the
// Wherobots preset, planned against the split scheme.
func TestPlan(t *testing.T) {
	conn := pgtest.StoreDatabase(t)
	st, err := pgstore.Open(t.Context(), conn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, o := range []struct{ id, ed string }{{"acme", "community"}, {"globex", "enterprise"}} {
		if _, err := svc.CreateOrganization(ctx, org.Principal{ID: "creator-" + o.id, Kind: org.User}, orgauthz.NewOrganization{ID: o.id, Name: o.id, Scheme: "wherobots", Edition: o.ed}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"u1", "u2", "u3"} {
		if _, err := svc.Host().Provision(ctx, "acme", org.Principal{ID: p, Kind: org.User}, "user"); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := cli(t, "plan", "-database-url", conn, split)
	if code != exitFound {
		t.Errorf("plan: exit %d, want %d\n%s%s", code, exitFound, out, errOut)
	}
	golden(t, "plan-split", out+"--- stderr\n"+errOut)
	code, out, errOut = cli(t, "plan", "-database-url", conn, wherobots)
	if code != exitOK {
		t.Errorf("plan against the schemes the store was made with: exit %d, want %d\n%s%s", code, exitOK, out, errOut)
	}
	golden(t, "plan-same", out+"--- stderr\n"+errOut)
	code, _, errOut = cli(t, "plan", "-database-url", conn, broken)
	if code != exitError || errOut == "" {
		t.Errorf("plan with an invalid scheme: exit %d, stderr %q", code, errOut)
	}
}
