package role_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/role"
)

// The characters the issue names, listed by hand so that the test does not
// lean on the unicode tables the code uses.
var namedInvisibles = []struct {
	from, to rune
	why      string
}{
	{0x00ad, 0x00ad, "format character"}, // soft hyphen
	{0x061c, 0x061c, "format character"}, // Arabic letter mark
	{0x180e, 0x180e, "format character"}, // Mongolian vowel separator
	{0x200b, 0x200f, "format character"}, // zero-width space, non-joiner, joiner, LRM, RLM
	{0x202a, 0x202e, "format character"}, // bidi embeddings and overrides
	{0x2060, 0x2064, "format character"}, // word joiner, invisible operators
	{0x2066, 0x2069, "format character"}, // bidi isolates
	{0xfeff, 0xfeff, "format character"}, // byte order mark
	{0xe0001, 0xe0001, "format character"},
	{0xe0020, 0xe007f, "format character"}, // tags
	{0x2028, 0x2028, "line separator"},
	{0x2029, 0x2029, "paragraph separator"},
	{0x0000, 0x001f, "control character"},
	{0x007f, 0x009f, "control character"},
	{0xe000, 0xe000, "private-use character"},
	{0xf8ff, 0xf8ff, "private-use character"},
	{0xf0000, 0xf0000, "private-use character"},
	{0x10fffd, 0x10fffd, "private-use character"},
	{0xfdd0, 0xfdef, "noncharacter"},
	{0xfffe, 0xffff, "noncharacter"},
	{0x1fffe, 0x1ffff, "noncharacter"},
	{0x10fffe, 0x10ffff, "noncharacter"},
	{0x034f, 0x034f, "invisible character"}, // combining grapheme joiner
	{0x115f, 0x1160, "invisible character"}, // Hangul fillers
	{0x3164, 0x3164, "invisible character"},
	{0xffa0, 0xffa0, "invisible character"},
}

func TestForbiddenInNameNamedCharacters(t *testing.T) {
	t.Parallel()
	for _, c := range namedInvisibles {
		for r := c.from; r <= c.to; r++ {
			assert.Equal(t, c.why, role.ForbiddenInName(r), "%U", r)
		}
	}
}

// TestForbiddenInNameEveryRune goes through every code point and checks
// the answer against the classes the doc comment lists.
func TestForbiddenInNameEveryRune(t *testing.T) {
	t.Parallel()
	counts := map[string]int{}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		want := unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs,
			unicode.Noncharacter_Code_Point, unicode.Other_Default_Ignorable_Code_Point)
		why := role.ForbiddenInName(r)
		if (why != "") != want {
			t.Errorf("%U: ForbiddenInName = %q, want forbidden=%v", r, why, want)
		}
		if unicode.Is(unicode.Cf, r) && why != "format character" {
			t.Errorf("%U is a format character, but ForbiddenInName says %q", r, why)
		}
		counts[why]++
	}
	// Sanity: every class is met, and most of Unicode is allowed.
	for _, why := range []string{"control character", "format character", "line separator", "paragraph separator",
		"private-use character", "noncharacter", "invisible character", "surrogate"} {
		assert.Positive(t, counts[why], why)
	}
	assert.Greater(t, counts[""], 900_000)
}

func TestValidateDisplayName(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "Org Owner", "Café Zürich", "東京", "🚀 Launch", "❤️ Love", "Services > Users",
		"read | write", "Ünïcode", "مدير", "מנהל", "Ελληνικά", "x\uFFFDy", "tab-free  double space"} {
		assert.NoError(t, role.ValidateDisplayName("role name", ok), "%q", ok)
	}
	tests := []struct {
		name, says string
	}{
		{"payroll\u202e\u2066gpj.exe\u200b", `role name "payroll\u202e\u2066gpj.exe\u200b" has format character U+202E`},
		{"👨\u200d👩\u200d👧", `has format character U+200D`}, // a ZWJ emoji sequence
		{"a\u00adb", `"a\u00adb" has format character U+00AD`},
		{"\ufeffAdmin", `has format character U+FEFF`},
		{"two\u2028lines", `"two\u2028lines" has line separator U+2028`},
		{"two\u2029paras", `has paragraph separator U+2029`},
		{"line\nbreak", `"line\nbreak" has control character U+000A`},
		{"tab\t", `has control character U+0009`},
		{"logo \uf8ff", `"logo \uf8ff" has private-use character U+F8FF`},
		{"x\ufdd0", `has noncharacter U+FDD0`},
		{"\u3164", `role name "\u3164" has invisible character U+3164`},
		{"\xff", `role name "\xff" is not valid UTF-8`},
	}
	for _, tt := range tests {
		err := role.ValidateDisplayName("role name", tt.name)
		require.ErrorIs(t, err, role.ErrInvalidName, "%q", tt.name)
		assert.Contains(t, err.Error(), tt.says)
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

func TestValidateDisplayNameEveryForbiddenRune(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		why := role.ForbiddenInName(r)
		if why == "" || unicode.Is(unicode.Cs, r) {
			continue // a surrogate cannot be put in a valid string
		}
		err := role.ValidateDisplayName("label", "A"+string(r)+"B")
		if !assert.ErrorIs(t, err, role.ErrInvalidName, "%U", r) {
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, fmt.Sprintf("%s %U", why, r)) || strings.ContainsRune(msg, r) {
			t.Errorf("%U: message %q must name it by code point and never hold it raw", r, msg)
		}
	}
}

func TestQuoteName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":               `""`,
		"Café":           `"Café"`,
		"a\u202eb":       `"a\u202eb"`,
		"\u3164":         `"\u3164"`,
		"x\u115fy\u034f": `"x\u115fy\u034f"`,
		"\U000f0000":     `"\U000f0000"`,
		"\xff\u3164":     `"\xff\u3164"`,
		"say \"hi\"\n":   `"say \"hi\"\n"`,
		"🚀":              `"🚀"`,
	} {
		assert.Equal(t, want, role.QuoteName(in), "%q", in)
	}
}

func TestNamesAndLabelsRefuseForbiddenCharacters(t *testing.T) {
	t.Parallel()
	_, err := role.NewCatalog(role.Def{ID: "a:b", Label: "Run\u202ejobs"})
	require.ErrorIs(t, err, role.ErrInvalidName)
	assert.Equal(t, `capability "a:b": invalid display name: label "Run\u202ejobs" has format character U+202E`, err.Error())
	_, err = role.NewCatalog(role.Def{ID: "a:b", Label: "Run jobs 🚀"})
	assert.NoError(t, err)

	cat := mustCatalog(t, role.Def{ID: "a:b"})
	_, err = role.NewMatrix(cat, []role.Role{{ID: "admin", Name: "Ad\u200bmin", Rank: 1}}, nil)
	require.ErrorIs(t, err, role.ErrInvalidName)
	require.ErrorIs(t, err, role.ErrInvalidRole)
	assert.Equal(t, `invalid role "admin": invalid display name: name "Ad\u200bmin" has format character U+200B`, err.Error())
	_, err = role.NewMatrix(cat, []role.Role{{ID: "admin", Name: "Administrateur·rice", Rank: 1}}, nil)
	assert.NoError(t, err)
}

// IDs are ASCII, so every forbidden character is refused in them already;
// the message names it by code point and never shows it raw.
func TestIDsNameForbiddenCharactersByCodePoint(t *testing.T) {
	t.Parallel()
	for _, r := range []rune{0x3164, 0x202e, 0x200b, 0x034f, 0xf8ff} {
		id := "ad" + string(r) + "min"
		for _, err := range []error{
			role.ValidateID(id),
			role.ValidateName("scheme", id),
			role.Capability("x:" + id).Validate(),
		} {
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf("%s %U", role.ForbiddenInName(r), r))
			assertNoRawForbidden(t, err.Error())
		}
	}
}
