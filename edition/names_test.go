package edition_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

// nameSites are the places of a Spec that hold a display name or label,
// each with a setter and the text its fault names.
var nameSites = []struct {
	site  string
	set   func(sp *edition.Spec, name string)
	is    []error // sentinels beyond ErrInvalidScheme and role.ErrInvalidName
	where string
}{
	{"scheme name", func(sp *edition.Spec, n string) { sp.Name = n }, nil, "scheme name"},
	{"role name", func(sp *edition.Spec, n string) { sp.Roles[stAdmin].Name = n }, []error{role.ErrInvalidRole}, `role "admin"`},
	{"external role name", func(sp *edition.Spec, n string) { sp.Roles[stGuest].Name = n }, []error{role.ErrInvalidRole}, `role "guest"`},
	{"capability label", func(sp *edition.Spec, n string) { sp.Capabilities[1].Label = n }, nil, `capability "members:invite"`},
	{"edition name", func(sp *edition.Spec, n string) { sp.Editions[1].Name = n }, nil, `edition "pro"`},
	{"scope name", func(sp *edition.Spec, n string) { sp.Scopes[0].Name = n }, nil, `scope "project"`},
	{"scope role name", func(sp *edition.Spec, n string) { sp.Scopes[0].Roles[1].Name = n }, []error{role.ErrInvalidRole}, `role "contributor"`},
	{"scope capability label", func(sp *edition.Spec, n string) { sp.Scopes[1].Capabilities[0].Label = n }, nil, `capability "board:use"`},
}

func TestNewSchemeRefusesInvisibleCharactersInNames(t *testing.T) {
	t.Parallel()
	bad := []struct{ name, says string }{
		{"payroll\u202e\u2066gpj.exe\u200b", `"payroll\u202e\u2066gpj.exe\u200b" has format character U+202E`},
		{"Ad\u200dmin", "format character U+200D"},
		{"\ufeffAdmin", "format character U+FEFF"},
		{"Ad\u00admin", "format character U+00AD"},
		{"two\u2028lines", "line separator U+2028"},
		{"two\u2029paras", "paragraph separator U+2029"},
		{"line\nbreak", "control character U+000A"},
		{"logo\uf8ff", "private-use character U+F8FF"},
		{"x\ufffe", "noncharacter U+FFFE"},
		{"\u3164", `"\u3164" has invisible character U+3164`},
		{"\xffAdmin", "not valid UTF-8"},
	}
	for _, site := range nameSites {
		for _, b := range bad {
			t.Run(site.site+"/"+b.says, func(t *testing.T) {
				t.Parallel()
				sp := schemeTestSpec()
				site.set(&sp, b.name)
				s, err := edition.NewScheme(sp)
				require.Error(t, err)
				assert.Nil(t, s)
				assert.ErrorIs(t, err, edition.ErrInvalidScheme)
				assert.ErrorIs(t, err, role.ErrInvalidName)
				for _, e := range site.is {
					assert.ErrorIs(t, err, e)
				}
				msg := err.Error()
				assert.True(t, strings.HasPrefix(msg, `invalid scheme "acme": `), msg)
				assert.Contains(t, msg, site.where)
				assert.Contains(t, msg, b.says)
				for _, r := range msg {
					assert.Empty(t, role.ForbiddenInName(r), "%U shown raw in %q", r, msg)
				}
			})
		}
	}
}

// TestNewSchemeRefusesEveryFormatCharacter puts every format character
// (Unicode category Cf) in the scheme's name and in a role's.
func TestNewSchemeRefusesEveryFormatCharacter(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !unicode.Is(unicode.Cf, r) {
			continue
		}
		for _, site := range nameSites[:2] {
			sp := schemeTestSpec()
			site.set(&sp, "A"+string(r)+"B")
			_, err := edition.NewScheme(sp)
			if assert.ErrorIs(t, err, role.ErrInvalidName, "%s %U", site.site, r) {
				assert.Contains(t, err.Error(), fmt.Sprintf("format character %U", r))
			}
		}
	}
}

func TestNewSchemeAcceptsReadableNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Café Zürich", "東京", "🚀 Launch", "❤️ Love", "Services > Users", "Ünïcode  two spaces", "مدير"} {
		for _, site := range nameSites {
			sp := schemeTestSpec()
			site.set(&sp, name)
			_, err := edition.NewScheme(sp)
			assert.NoError(t, err, "%s %q", site.site, name)
		}
	}
}
