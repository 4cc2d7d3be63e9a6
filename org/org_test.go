package org_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	ok := []string{"Acme", "Ünïcode Ltd.", "a", strings.Repeat("é", org.MaxNameLen), "Two  spaces inside"}
	for _, n := range ok {
		assert.NoError(t, org.ValidateName("organization", n), n)
	}
	bad := []struct{ name, says string }{
		{"", "empty"},
		{"   ", "empty"},
		{strings.Repeat("x", org.MaxNameLen+1), "201 characters long, at most 200"},
		{" Acme", "leading or trailing space"},
		{"Acme\t", "leading or trailing space"},
		{"Ac\x00me", "control character U+0000"},
		{"Ac\u0085me", "control character U+0085"},
		{"\xff", "not valid UTF-8"},
	}
	for _, b := range bad {
		err := org.ValidateName("project", b.name)
		require.Error(t, err, "%q", b.name)
		assert.ErrorIs(t, err, org.ErrInvalidName)
		assert.Contains(t, err.Error(), "project name")
		assert.Contains(t, err.Error(), b.says)
	}
}

func TestValidateID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"a", "org_01HX", "user@example.com", "x:y/z", strings.Repeat("i", org.MaxIDLen)} {
		assert.NoError(t, org.ValidateID("principal", id), id)
	}
	for _, b := range []struct{ id, says string }{
		{"", "empty"},
		{strings.Repeat("i", org.MaxIDLen+1), "129 bytes long"},
		{"has space", "byte 0x20 at 3"},
		{"tab\there", "byte 0x9"},
		{"ünï", "byte 0xc3 at 0"},
		{"del\x7f", "byte 0x7f"},
	} {
		err := org.ValidateID("principal", b.id)
		require.ErrorIs(t, err, org.ErrInvalidID, "%q", b.id)
		assert.Contains(t, err.Error(), b.says)
	}
}

func TestPrincipalValidate(t *testing.T) {
	t.Parallel()
	assert.NoError(t, org.Principal{ID: "ada", Kind: org.User}.Validate())
	assert.NoError(t, org.Principal{ID: "ci-bot", Kind: org.ServicePrincipal}.Validate())
	assert.ErrorIs(t, org.Principal{ID: "", Kind: org.User}.Validate(), org.ErrInvalidID)
	err := org.Principal{ID: "ada"}.Validate()
	assert.ErrorIs(t, err, org.ErrInvalidID)
	assert.Contains(t, err.Error(), "unknown kind 0")
	assert.Equal(t, "user", org.User.String())
	assert.Equal(t, "service-principal", org.ServicePrincipal.String())
	assert.Equal(t, "Kind(9)", org.Kind(9).String())
}

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	assert.NoError(t, org.ValidateSettings(nil))
	assert.NoError(t, org.ValidateSettings(map[string]string{"region": "eu", "empty": ""}))
	many := map[string]string{}
	for i := range org.MaxSettings + 1 {
		many[strings.Repeat("k", i%60+1)+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	for _, b := range []struct {
		s    map[string]string
		says string
	}{
		{many, "65 entries, at most 64"},
		{map[string]string{"": "v"}, `key ""`},
		{map[string]string{strings.Repeat("k", org.MaxSettingKeyLen+1): "v"}, "must be 1 to 64 bytes"},
		{map[string]string{"k": strings.Repeat("v", org.MaxSettingValueLen+1)}, "4097 bytes"},
		{map[string]string{"k": "\xff"}, "not valid UTF-8"},
	} {
		err := org.ValidateSettings(b.s)
		require.ErrorIs(t, err, org.ErrInvalidSettings)
		assert.Contains(t, err.Error(), b.says)
	}
}

func TestClones(t *testing.T) {
	t.Parallel()
	o := org.Organization{ID: "acme", Settings: map[string]string{"a": "1"}, CreatedAt: time.Unix(1, 0)}
	c := o.Clone()
	c.Settings["a"] = "2"
	assert.Equal(t, "1", o.Settings["a"])
	assert.Nil(t, org.Organization{}.Clone().Settings)

	r := org.ScopeRole{ID: "op", Capabilities: []role.Capability{"service:access"}}
	rc := r.Clone()
	rc.Capabilities[0] = "x:y"
	assert.Equal(t, role.Capability("service:access"), r.Capabilities[0])
	assert.False(t, errors.Is(org.ErrInvalidID, org.ErrInvalidName))
}
