package apikey_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/apikey"
)

// wellFormed is the shape of a key of prefix "acme"; with a checksum that
// sumOf agrees with, it is a key.
var wellFormed = regexp.MustCompile(`^acme_[a-z2-7]{16}_[a-z2-7]{39}$`)

func FuzzParse(f *testing.F) {
	made, err := apikey.NewSecret(validPrefix)
	if err != nil {
		f.Fatal(err)
	}
	tail := validSecret + validSum
	other := "acme_" + strings.Repeat("7", 16) + "_" + strings.Repeat("2", 32)
	for _, s := range []string{
		made.Reveal(),
		validKey,
		validBody,
		other + sumOf(other),
		other + "aaaaaaa",
		validBody + "aaaaaaa",
		validBody + "g" + validSum[1:],
		"",
		"acme_",
		"acme__",
		"acme__" + tail,
		" " + validKey,
		validKey + "\n",
		strings.ToUpper(validKey),
		"ACME_" + validID + "_" + tail,
		"wb_" + validID + "_" + tail,
		validID + "_" + tail,
		"acme_" + validID + tail,
		validKey + "_",
		"acme_" + validKey,
		validKey[:len(validKey)-1],
		validKey + "a",
		validKey + "=",
		validKey[:60] + "1",
		validKey[:59] + "é",
		validKey[:60] + "\xff",
		"acme_" + validID + "%5F" + tail,
		strings.Repeat("acme_", 60),
		"malformed API key",
		"malformed API key: checksum does not match",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := apikey.Parse(validPrefix, s)
		accept := wellFormed.MatchString(s) && sumOf(s[:len(s)-7]) == s[len(s)-7:]
		if (err == nil) != accept {
			t.Fatalf("Parse(%q): error %v, but the format says accept = %v", s, err, accept)
		}
		if err == nil {
			if key.IsZero() {
				t.Fatalf("Parse(%q) gave the zero Secret and no error", s)
			}
			if got := key.Reveal(); got != s {
				t.Fatalf("Parse(%q).Reveal() = %q", s, got)
			}
			if key.ID() != s[5:21] || !key.Matches(key.Hash()) {
				t.Fatalf("Parse(%q): ID %q", s, key.ID())
			}
			if want := "acme_…" + s[len(s)-4:]; key.Display() != want || key.String() != want {
				t.Fatalf("Parse(%q): Display %q, String %q, want %q", s, key.Display(), key.String(), want)
			}
			if strings.Contains(key.GoString(), s[22:30]) {
				t.Fatalf("Parse(%q).GoString() = %q shows the secret", s, key.GoString())
			}
		} else {
			if !errors.Is(err, apikey.ErrMalformedKey) {
				t.Fatalf("Parse(%q): error %v does not match ErrMalformedKey", s, err)
			}
			if !key.IsZero() {
				t.Fatalf("Parse(%q) gave a Secret and error %v", s, err)
			}
		}
		// The message depends on the input's shape only (length, where the
		// separators are, which kind of character is where), never on its
		// content: an input of the same shape with other characters gets
		// the same message. The exception is the checksum, which is a
		// function of the content: acceptance and "checksum does not
		// match" count as one outcome here.
		msg := outcome(err)
		same := sameShape(s)
		sameMsg := outcome(parseErr(same))
		if sameMsg != msg {
			t.Fatalf("the message depends on the content:\nParse(%q): %s\nParse(%q): %s", s, msg, same, sameMsg)
		}
		// So a message that contains the input does so by coincidence (the
		// input is a piece of the message's fixed text, such as
		// "malformed API key") only if it also contains it for an input of
		// the same shape and different content.
		if len(s) >= 8 && strings.Contains(msg, s) && (same == s || !strings.Contains(sameMsg, s)) {
			t.Fatalf("Parse(%q): the error repeats the input: %s", s, msg)
		}
	})
}

// outcome is the text of err, with acceptance and a checksum that does
// not match both written as "shape ok".
func outcome(err error) string {
	if err == nil || strings.HasSuffix(err.Error(), ": "+checksumErr) {
		return "shape ok"
	}
	return err.Error()
}

// sameShape returns s with every byte after the first five (where the
// "acme_" prefix is checked) replaced by the next byte of its class: a-z,
// A-Z, 2-7, the other digits, ASCII white space, and every other byte.
// "_" is kept: it is the separator.
func sameShape(s string) string {
	b := []byte(s)
	for i := len("acme_"); i < len(b); i++ {
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
	_, err := apikey.Parse(validPrefix, s)
	return err
}
