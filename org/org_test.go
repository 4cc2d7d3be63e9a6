package org_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	ok := []string{"Acme", "Ünïcode Ltd.", "a", strings.Repeat("é", org.MaxNameLen), "Two  spaces inside",
		"Café Zürich", "東京", "🚀 Launch", "❤️ Love", "شركة", "חברה", "Ελλάδα", "Straße", "Ωmega & Co.", "x\uFFFDy"}
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
		{"payroll\u202e\u2066gpj.exe\u200b", `project name "payroll\u202e\u2066gpj.exe\u200b" has format character U+202E`},
		{"Ac\u200bme", "format character U+200B"},
		{"Acme\u200b", "format character U+200B"}, // not space: TrimSpace keeps it
		{"\ufeffAcme", "format character U+FEFF"},
		{"Ac\u00adme", "format character U+00AD"},
		{"👨\u200d👩\u200d👧 Family", "format character U+200D"}, // ZWJ sequences are refused
		{"🏳\ufe0f\u200d🌈", "format character U+200D"},
		{"Ac\u2028me", "line separator U+2028"},
		{"Ac\u2029me", "paragraph separator U+2029"},
		{"Acme\u2028", "leading or trailing space"}, // U+2028 is white space
		{"Ac\ue000me", "private-use character U+E000"},
		{"Ac\U000F0001me", "private-use character U+F0001"},
		{"Ac\ufdd0me", "noncharacter U+FDD0"},
		{"Ac\uffffme", "noncharacter U+FFFF"},
		{"\u3164", `project name "\u3164" has invisible character U+3164`}, // looks blank
		{"Ac\u034fme", "invisible character U+034F"},
	}
	for _, b := range bad {
		err := org.ValidateName("project", b.name)
		require.Error(t, err, "%q", b.name)
		assert.ErrorIs(t, err, org.ErrInvalidName)
		assert.Contains(t, err.Error(), "project name")
		assert.Contains(t, err.Error(), b.says)
		assertNoRawForbidden(t, err.Error())
	}
}

// assertNoRawForbidden checks that msg shows no refused character as it is.
func assertNoRawForbidden(t *testing.T, msg string) {
	t.Helper()
	for _, r := range msg {
		if why := role.ForbiddenInName(r); why != "" {
			t.Errorf("message %q holds a raw %s %U", msg, why, r)
		}
	}
}

// TestValidateNameRefusesEveryFormatCharacter goes through every code
// point of category Cf, alone, inside a name and at either end.
func TestValidateNameRefusesEveryFormatCharacter(t *testing.T) {
	t.Parallel()
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !unicode.Is(unicode.Cf, r) {
			continue
		}
		n++
		c := string(r)
		for _, name := range []string{c, "Ac" + c + "me", c + "Acme", "Acme" + c} {
			err := org.ValidateName("organization", name)
			if !assert.ErrorIs(t, err, org.ErrInvalidName, "%U in %q", r, name) {
				continue
			}
			msg := err.Error()
			assert.Contains(t, msg, fmt.Sprintf("has format character %U", r))
			assert.NotContains(t, msg, c, "%U must not be shown raw", r)
		}
	}
	assert.Greater(t, n, 150, "the Cf category has some 170 code points")
}

// TestValidateNameRefusesEveryForbiddenRune checks every code point
// role.ForbiddenInName refuses, and that every other one (but the spaces,
// which only may not lead or trail) is accepted inside a name.
func TestValidateNameRefusesEveryForbiddenRune(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.Is(unicode.Cs, r) {
			continue // not representable in valid UTF-8
		}
		err := org.ValidateName("organization", "A"+string(r)+"B")
		if why := role.ForbiddenInName(r); why != "" {
			if assert.ErrorIs(t, err, org.ErrInvalidName, "%U", r) {
				assert.Contains(t, err.Error(), fmt.Sprintf("has %s %U", why, r))
			}
		} else if err != nil {
			t.Errorf("%U: %v", r, err)
		}
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
	assert.Equal(t, "service_principal", org.ServicePrincipal.String())
	assert.Equal(t, "Kind(9)", org.Kind(9).String())
}

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	assert.NoError(t, org.ValidateSettings(nil))
	assert.NoError(t, org.ValidateSettings(map[string]string{"region": "eu", "empty": ""}))
	// Keys may be any readable text; values are the host's own data.
	assert.NoError(t, org.ValidateSettings(map[string]string{"région 東京 🚀": "x", "banner": "line 1\nline 2 \u202e"}))
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
		{map[string]string{"re\u202egion": "eu"}, `key "re\u202egion" has format character U+202E`},
		{map[string]string{"region\u200b": "eu"}, "format character U+200B"},
		{map[string]string{"a\nb": "v"}, "control character U+000A"},
		{map[string]string{"\u3164": "v"}, `key "\u3164" has invisible character U+3164`},
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

func TestValidateTrial(t *testing.T) {
	t.Parallel()
	ends := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, org.ValidateTrial("", time.Time{}), "no trial")
	require.NoError(t, org.ValidateTrial("enterprise", ends), "a trial")
	require.NoError(t, org.ValidateTrial("enterprise", time.Unix(1, 0)), "a trial that ended long ago is still valid")
	for _, b := range []struct {
		edition string
		endsAt  time.Time
		says    string
	}{
		{"enterprise", time.Time{}, "no end"},
		{"", ends, "no edition"},
		{"bad edition", ends, "trial edition"},
		{strings.Repeat("e", org.MaxIDLen+1), ends, "trial edition"},
	} {
		err := org.ValidateTrial(b.edition, b.endsAt)
		require.ErrorIs(t, err, org.ErrInvalidTrial, "%q %v", b.edition, b.endsAt)
		assert.Contains(t, err.Error(), b.says)
	}
	o := org.Organization{ID: "acme", TrialEdition: "enterprise", TrialEndsAt: ends}
	c := o.Clone()
	assert.Equal(t, o, c, "Clone keeps the trial")
}
