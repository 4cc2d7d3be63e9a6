package invite_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/orgauthz/orgauthz/invite"
)

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"alice@example.com",
		"Alice.Smith+tag@Example.COM",
		"  carol@example.com\r\n",
		"\u00a0carol@example.com\u2003",
		"!#$%&'*+/=?^_`{|}~-@example.com",
		"a@b.c",
		"x@xn--bcher-kva.example",
		"",
		" ",
		"alice",
		"alice@",
		"@example.com",
		"alice@@example.com",
		`"john doe"@example.com`,
		".alice@example.com",
		"al..ice@example.com",
		"alice@localhost",
		"alice@192.0.2.1",
		"alice@[192.0.2.1]",
		"alice@-example.com",
		"alice@example.com.",
		"josé@example.com",
		"\u212aelvin@example.com",
		"alice@exa mple.com",
		"alice@example.com\nbcc@evil.example",
		strings.Repeat("l", 64) + "@" + strings.Repeat("d", 63) + ".com",
		strings.Repeat("l", 65) + "@example.com",
		"a@" + strings.Repeat("d", 64) + ".com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := invite.NormalizeEmail(s)
		if err != nil {
			if !errors.Is(err, invite.ErrInvalidEmail) {
				t.Fatalf("NormalizeEmail(%q): error %v does not match ErrInvalidEmail", s, err)
			}
			if out != "" {
				t.Fatalf("NormalizeEmail(%q) = %q with error %v", s, out, err)
			}
			return
		}
		again, err := invite.NormalizeEmail(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeEmail(%q) = %q, which gives %q, %v", s, out, again, err)
		}
		if want := strings.ToLower(strings.TrimSpace(s)); out != want {
			t.Fatalf("NormalizeEmail(%q) = %q, want only trimmed and lower-cased: %q", s, out, want)
		}
		if strings.ContainsFunc(out, unicode.IsUpper) {
			t.Fatalf("NormalizeEmail(%q) = %q has upper case", s, out)
		}
		if strings.ContainsFunc(out, unicode.IsSpace) {
			t.Fatalf("NormalizeEmail(%q) = %q has white space", s, out)
		}
		if n := strings.Count(out, "@"); n != 1 {
			t.Fatalf("NormalizeEmail(%q) = %q has %d @", s, out, n)
		}
		for _, r := range out {
			if r < '!' || r > '~' {
				t.Fatalf("NormalizeEmail(%q) = %q has %q, not printable ASCII", s, out, r)
			}
		}
		if len(out) > 254 {
			t.Fatalf("NormalizeEmail(%q) = %q is %d bytes long", s, out, len(out))
		}
	})
}

func FuzzParseToken(f *testing.F) {
	tok, err := invite.NewToken("abcdefghijklmnop")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		tok.Reveal(),
		validText,
		"inv_" + validID + "_" + strings.Repeat("a", 32),
		"inv_" + strings.Repeat("7", 16) + "_" + strings.Repeat("2", 32),
		"",
		"inv_",
		"inv__",
		" " + validText,
		validText + "\n",
		strings.ToUpper(validText),
		"INV_" + validID + "_" + validSecret,
		validID + "_" + validSecret,
		"inv_" + validID + validSecret,
		validText + "_",
		"inv_" + validText,
		"inv_" + validID + "_" + validSecret[1:],
		validText + "a",
		validText + "====",
		"inv_" + validID + "_" + validSecret[:31] + "1",
		"inv_" + validID + "_" + validSecret[:30] + "é",
		"inv_" + validID + "_" + validSecret[:31] + "\xff",
		"inv_" + validID + "%5F" + validSecret,
		strings.Repeat("inv_", 60),
		"malformed invitation token",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := invite.ParseToken(s)
		if err == nil {
			if tok.IsZero() {
				t.Fatalf("ParseToken(%q) gave the zero Token and no error", s)
			}
			if got := tok.Reveal(); got != s {
				t.Fatalf("ParseToken(%q).Reveal() = %q", s, got)
			}
			if len(tok.ID()) != 16 || len(tok.Hash()) != 32 || !tok.Matches(tok.Hash()) {
				t.Fatalf("ParseToken(%q): ID %q, hash of %d bytes", s, tok.ID(), len(tok.Hash()))
			}
			if strings.Contains(tok.String(), s[len(s)-32:]) {
				t.Fatalf("ParseToken(%q).String() = %q shows the secret", s, tok.String())
			}
		} else {
			if !errors.Is(err, invite.ErrMalformedToken) {
				t.Fatalf("ParseToken(%q): error %v does not match ErrMalformedToken", s, err)
			}
			if !tok.IsZero() {
				t.Fatalf("ParseToken(%q) gave a token and error %v", s, err)
			}
		}
		msg := errText(err)
		// The message depends on the input's shape only (length, where the
		// separators are, which kind of character is where), never on its
		// content: an input of the same shape with other characters gets
		// the same message.
		other := sameShape(s)
		otherMsg := errText(parseErr(other))
		if otherMsg != msg {
			t.Fatalf("the message depends on the content:\nParseToken(%q): %s\nParseToken(%q): %s", s, msg, other, otherMsg)
		}
		// So a message that contains the input does so by coincidence (the
		// input is a piece of the message's fixed text, such as
		// "malformed invitation token") only if it also contains it for an
		// input of the same shape and different content.
		if len(s) >= 8 && strings.Contains(msg, s) && (other == s || !strings.Contains(otherMsg, s)) {
			t.Fatalf("ParseToken(%q): the error repeats the input: %s", s, msg)
		}
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// sameShape returns s with every byte after the first four (where the
// "inv_" prefix is checked) replaced by the next byte of its class: a-z,
// A-Z, 2-7, the other digits, ASCII white space, and every other byte.
// "_" is kept: it is the separator.
func sameShape(s string) string {
	b := []byte(s)
	for i := 4; i < len(b); i++ {
		b[i] = nextInClass(b[i])
	}
	return string(b)
}

func nextInClass(c byte) byte {
	cycle := func(set string) byte {
		i := strings.IndexByte(set, c)
		return set[(i+1)%len(set)]
	}
	for _, set := range []string{"abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "234567", "0189", " \t\n\v\f\r"} {
		if strings.IndexByte(set, c) >= 0 {
			return cycle(set)
		}
	}
	if c == '_' {
		return c
	}
	for n := c + 1; ; n++ {
		if n != '_' && !isClassed(n) {
			return n
		}
	}
}

func isClassed(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(" \t\n\v\f\r", c) >= 0
}

func parseErr(s string) error {
	_, err := invite.ParseToken(s)
	return err
}
