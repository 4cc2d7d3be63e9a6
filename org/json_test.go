package org_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
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

// roundTrip unmarshals v's JSON into a new value of its type and checks
// that it equals v.
func roundTrip[T any](t *testing.T, v T) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var back T
	require.NoError(t, json.Unmarshal(b, &back), "%s", b)
	assert.Equal(t, v, back, "round trip of %s", b)
}

var (
	t0 = time.Date(2025, 5, 1, 9, 30, 0, 0, time.UTC)
	t1 = time.Date(2025, 6, 2, 17, 4, 5, 123456000, time.UTC)
)

func fullOrganization() org.Organization {
	return org.Organization{
		ID: "acme", Name: "Acme Robotics", Scheme: "wherobots", Edition: "professional",
		TrialEdition: "enterprise", TrialStartedAt: t1, TrialEndsAt: t1.Add(14 * 24 * time.Hour),
		SeatOverride: 25, Settings: map[string]string{"region": "eu-west-1", "banner": "line 1\nline 2"},
		Archived: true, CreatedAt: t0, UpdatedAt: t1,
	}
}

func fullMember() org.Member {
	return org.Member{
		PrincipalID: "ada", Kind: org.User, Name: "Ada Lovelace", Role: "external", External: true,
		Email: "ada@example.com", JoinedAt: t1,
	}
}

// fullMembership is fullMember's membership of fullOrganization, as a
// principal's organizations list it.
func fullMembership() org.Membership {
	o, m := fullOrganization(), fullMember()
	return org.Membership{
		OrgID: o.ID, OrgName: o.Name, Scheme: o.Scheme, Edition: o.Edition, Archived: o.Archived,
		Role: m.Role, External: m.External, JoinedAt: m.JoinedAt,
	}
}

func fullScope() org.Scope {
	return org.Scope{Kind: "project", ID: "p-42", Name: "Rover", CreatedBy: "ada", CreatedAt: t0}
}

func fullScopeMember() org.ScopeMember {
	return org.ScopeMember{Kind: "project", ScopeID: "p-42", PrincipalID: "ci-bot", Role: "editor", AddedAt: t1}
}

// records returns every record type of the package, fully populated and
// zero, by golden file name.
func records() []struct {
	name string
	v    any
} {
	return []struct {
		name string
		v    any
	}{
		{"principal", org.Principal{ID: "ci-bot", Kind: org.ServicePrincipal}},
		{"principal_zero", org.Principal{}},
		{"organization", fullOrganization()},
		{"organization_zero", org.Organization{}},
		{"member", fullMember()},
		{"member_zero", org.Member{}},
		{"membership", fullMembership()},
		{"membership_zero", org.Membership{}},
		{"scope", fullScope()},
		{"scope_zero", org.Scope{}},
		{"scope_member", fullScopeMember()},
		{"scope_member_zero", org.ScopeMember{}},
		{"scope_membership", org.ScopeMembership{Scope: fullScope(), Member: fullScopeMember()}},
		{"scope_membership_zero", org.ScopeMembership{}},
		{"scope_role", org.ScopeRole{
			Kind: "service", ScopeID: "orchestrator", ID: "operator", Name: "Operator",
			Capabilities: []role.Capability{"service:access", "jobs:run"}, CreatedBy: "ada", CreatedAt: t0,
		}},
		{"scope_role_zero", org.ScopeRole{}},
		{"audit_event", org.AuditEvent{
			Seq: 7, OrgID: "acme", Time: t1, Actor: "ada", Action: "member.role.change",
			Target: "bob", RoleBefore: "user", RoleAfter: "admin", Detail: "promoted",
		}},
		{"audit_event_zero", org.AuditEvent{}},
	}
}

func TestJSONGolden(t *testing.T) {
	t.Parallel()
	for _, r := range records() {
		t.Run(r.name, func(t *testing.T) {
			checkGolden(t, r.name, r.v)
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, r := range records() {
		t.Run(r.name, func(t *testing.T) {
			b, err := json.Marshal(r.v)
			require.NoError(t, err)
			back := reflect.New(reflect.TypeOf(r.v))
			require.NoError(t, json.Unmarshal(b, back.Interface()), "%s", b)
			assert.Equal(t, r.v, back.Elem().Interface(), "round trip of %s", b)
		})
	}
	// Pointers and slices of records round-trip as the values do.
	roundTrip(t, []org.Member{fullMember(), {PrincipalID: "ci-bot", Kind: org.ServicePrincipal, Name: "deploy bot", Role: "member"}})
	roundTrip(t, &org.Membership{OrgID: "globex", OrgName: "Globex", Scheme: "wherobots", Edition: "community", Role: "member"})
	roundTrip(t, []org.Membership{fullMembership(), {}})
}

// TestJSONNames checks the convention on every record: snake_case names,
// times omitted when zero, and the fields that are always present.
func TestJSONNames(t *testing.T) {
	t.Parallel()
	for _, r := range records() {
		b, err := json.Marshal(r.v)
		require.NoError(t, err)
		var fields map[string]any
		require.NoError(t, json.Unmarshal(b, &fields))
		for k := range fields {
			assert.Equal(t, strings.ToLower(k), k, "%s: field %q", r.name, k)
			assert.NotContains(t, k, "-", "%s: field %q", r.name, k)
		}
		assert.NotContains(t, string(b), "0001-01-01", "%s: a zero time is marshaled", r.name)
	}
	b, err := json.Marshal(org.Member{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"principal_id":"","kind":"","role":"","external":false}`, string(b))
}

func TestKindText(t *testing.T) {
	t.Parallel()
	for k, word := range map[org.Kind]string{0: "", org.User: "user", org.ServicePrincipal: "service_principal"} {
		b, err := k.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, word, string(b))
		if k != 0 {
			assert.Equal(t, word, k.String(), "String and MarshalText agree")
		}
		got := org.Kind(99)
		require.NoError(t, got.UnmarshalText([]byte(word)))
		assert.Equal(t, k, got)
	}
	for _, k := range []org.Kind{3, 9, 255} {
		_, err := k.MarshalText()
		assert.ErrorIs(t, err, org.ErrUnknownKind, "kind %d", k)
		_, err = json.Marshal(org.Principal{ID: "x", Kind: k})
		assert.ErrorIs(t, err, org.ErrUnknownKind, "kind %d in a record", k)
	}
	for _, word := range []string{"service-principal", "User", "USER", " user", "user ", "ServicePrincipal", "1", "Kind(1)", strings.Repeat("x", 1000)} {
		k := org.User
		err := k.UnmarshalText([]byte(word))
		require.ErrorIs(t, err, org.ErrUnknownKind, "%q", word)
		assert.Equal(t, org.User, k, "a failed UnmarshalText leaves the kind as it was")
		assert.Less(t, len(err.Error()), 100, "the error does not repeat long text")
	}
	var m org.Member
	err := json.Unmarshal([]byte(`{"principal_id":"ada","kind":"robot"}`), &m)
	assert.ErrorIs(t, err, org.ErrUnknownKind)
	err = json.Unmarshal([]byte(`{"principal_id":"ada","kind":1}`), &m)
	var typeErr *json.UnmarshalTypeError
	assert.True(t, errors.As(err, &typeErr), "a kind is a word, not a number: %v", err)
}
