package invite_test

import (
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeEmailAccepts(t *testing.T) {
	t.Parallel()
	local64 := strings.Repeat("l", 64)
	label63 := strings.Repeat("d", 63)
	// A 254-character address: 64 + "@" + a 189-character domain.
	domain189 := strings.Repeat("d", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("d", 57) + ".com"
	require.Len(t, local64+"@"+domain189, 254)
	cases := []struct{ name, in, want string }{
		{"plain", "alice@example.com", "alice@example.com"},
		{"mixed case", "Alice.Smith@Example.COM", "alice.smith@example.com"},
		{"upper case", "BOB@EXAMPLE.ORG", "bob@example.org"},
		{"surrounding spaces", "  carol@example.com  ", "carol@example.com"},
		{"surrounding tab and newline", "\tcarol@example.com\r\n", "carol@example.com"},
		{"surrounding no-break space", "\u00a0carol@example.com\u00a0", "carol@example.com"},
		{"plus tag kept", "Dave+Invites@example.com", "dave+invites@example.com"},
		{"dots kept", "d.a.v.e@gmail.com", "d.a.v.e@gmail.com"},
		{"subdomain", "eve@mail.eu.example.co.uk", "eve@mail.eu.example.co.uk"},
		{"all the specials", "!#$%&'*+/=?^_`{|}~-@example.com", "!#$%&'*+/=?^_`{|}~-@example.com"},
		{"digits", "123@456.example", "123@456.example"},
		{"one-letter parts", "a@b.c", "a@b.c"},
		{"hyphen inside labels", "x@my-host.ex-ample.com", "x@my-host.ex-ample.com"},
		{"double hyphen (punycode)", "x@xn--bcher-kva.example", "x@xn--bcher-kva.example"},
		{"digit top-level label mixed", "x@example.c0m", "x@example.c0m"},
		{"digit-first top-level label", "x@example.1a", "x@example.1a"},
		{"64-character local part", local64 + "@example.com", local64 + "@example.com"},
		{"63-character label", "x@" + label63 + ".com", "x@" + label63 + ".com"},
		{"254 characters", local64 + "@" + strings.ToUpper(domain189), local64 + "@" + domain189},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := invite.NormalizeEmail(c.in)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
			again, err := invite.NormalizeEmail(got)
			require.NoError(t, err, "not idempotent")
			assert.Equal(t, got, again, "not idempotent")
		})
	}
}

func TestNormalizeEmailRefuses(t *testing.T) {
	t.Parallel()
	local65 := strings.Repeat("l", 65)
	label64 := strings.Repeat("d", 64)
	cases := []struct{ name, in, says string }{
		{"empty", "", "the address is empty"},
		{"white space only", " \t\n", "the address is empty"},
		{"too long", "a@" + strings.Repeat("d", 300) + ".com", "the address is 306 bytes long, at most 254"},
		{"255 characters", strings.Repeat("l", 64) + "@" + strings.Repeat(strings.Repeat("d", 62)+".", 3) + "d", "the address is 255 bytes long, at most 254"},
		{"no @", "alice.example.com", `has no "@"`},
		{"two @", "alice@home@example.com", `has 2 "@", want exactly one`},
		{"quoted local part", `"alice@home"@example.com`, `has 2 "@"`},
		{"quoted local part with space", `"john doe"@example.com`, `has '"' in its local part`},
		{"empty local part", "@example.com", "has an empty local part"},
		{"local part of 65", local65 + "@example.com", "has a local part of 65 characters, at most 64"},
		{"leading dot", ".alice@example.com", `has a local part that starts or ends with "."`},
		{"trailing dot", "alice.@example.com", `has a local part that starts or ends with "."`},
		{"doubled dot", "al..ice@example.com", `has ".." in its local part`},
		{"space inside", "al ice@example.com", `has ' ' in its local part`},
		{"comma", "al,ice@example.com", `has ',' in its local part`},
		{"parenthesis comment", "alice(work)@example.com", `has '(' in its local part`},
		{"angle brackets", "Alice <alice@example.com>", `has ' ' in its local part`},
		{"backslash", `al\ice@example.com`, `has '\\' in its local part`},
		{"NUL", "al\x00ice@example.com", `has '\x00' in its local part`},
		{"DEL", "al\x7fice@example.com", `has '\x7f' in its local part`},
		{"non-ASCII local part", "josé@example.com", "has a non-ASCII character at offset 3 (internationalized addresses are not accepted)"},
		{"non-ASCII domain", "jose@exämple.com", "non-ASCII character at offset 7"},
		{"Kelvin sign (lower-cases to k)", "\u212aelvin@example.com", "non-ASCII character at offset 0"},
		{"fullwidth @", "alice\uff20example.com", "non-ASCII"},
		{"invalid UTF-8", "ali\xffce@example.com", "non-ASCII character at offset 3"},
		{"empty domain", "alice@", "has an empty domain"},
		{"one-label domain", "alice@localhost", "has a domain of one label"},
		{"leading dot in domain", "alice@.example.com", "has an empty label in its domain"},
		{"trailing dot in domain", "alice@example.com.", "has an empty label in its domain"},
		{"doubled dot in domain", "alice@example..com", "has an empty label in its domain"},
		{"label of 64", "alice@" + label64 + ".com", "has a domain label of 64 characters, at most 63"},
		{"leading hyphen", "alice@-example.com", `has a domain label that starts or ends with "-"`},
		{"trailing hyphen", "alice@example-.com", `has a domain label that starts or ends with "-"`},
		{"hyphen top-level label", "alice@example.-com", `starts or ends with "-"`},
		{"underscore in domain", "alice@ex_ample.com", `has '_' in its domain (letters, digits, "-" and "." only)`},
		{"space in domain", "alice@exa mple.com", `has ' ' in its domain`},
		{"address literal", "alice@[192.0.2.1]", `has '[' in its domain`},
		{"IPv4 address", "alice@192.0.2.1", "has a domain whose last label is all digits"},
		{"all-digit top-level label", "alice@example.123", "last label is all digits"},
		{"port", "alice@example.com:25", `has ':' in its domain`},
		{"inner newline", "alice@example.com\nbcc@evil.example", `has 2 "@"`},
		{"header injection", "alice@example.com\r\nBcc: x", `has '\r' in its domain`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := invite.NormalizeEmail(c.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, invite.ErrInvalidEmail)
			assert.Empty(t, got)
			assert.Contains(t, err.Error(), c.says)
		})
	}
}
