package invite_test

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const base32Lower = "abcdefghijklmnopqrstuvwxyz234567"

func isBase32Lower(s string) bool {
	return strings.Trim(s, base32Lower) == ""
}

func TestNewID(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 1000 {
		id := invite.NewID()
		require.Len(t, id, 16)
		require.True(t, isBase32Lower(id), id)
		require.False(t, seen[id], "duplicate ID %s", id)
		seen[id] = true
		_, err := invite.NewToken(id)
		require.NoError(t, err, "NewToken refuses NewID's %s", id)
	}
}

func TestNewTokenRoundTrip(t *testing.T) {
	t.Parallel()
	for range 200 {
		id := invite.NewID()
		tok, err := invite.NewToken(id)
		require.NoError(t, err)
		require.False(t, tok.IsZero())
		assert.Equal(t, id, tok.ID())

		text := tok.Reveal()
		require.Len(t, text, 53)
		prefix, rest, _ := strings.Cut(text, "_")
		gotID, secret, _ := strings.Cut(rest, "_")
		assert.Equal(t, "inv", prefix)
		assert.Equal(t, id, gotID)
		require.Len(t, secret, 32)
		require.True(t, isBase32Lower(secret), secret)

		// The hash is the SHA-256 of the secret's 20 decoded bytes.
		raw, err := base32.StdEncoding.DecodeString(strings.ToUpper(secret))
		require.NoError(t, err)
		require.Len(t, raw, 20)
		want := sha256.Sum256(raw)
		assert.Equal(t, want[:], tok.Hash())

		back, err := invite.ParseToken(text)
		require.NoError(t, err)
		assert.Equal(t, id, back.ID())
		assert.Equal(t, text, back.Reveal())
		assert.Equal(t, tok.Hash(), back.Hash())
		assert.True(t, back.Matches(tok.Hash()), "parsed token does not match the original's hash")
		assert.True(t, tok.Matches(back.Hash()))
	}
}

func TestNewTokenRotates(t *testing.T) {
	t.Parallel()
	id := invite.NewID()
	a, err := invite.NewToken(id)
	require.NoError(t, err)
	b, err := invite.NewToken(id) // a resend
	require.NoError(t, err)
	assert.Equal(t, a.ID(), b.ID())
	assert.NotEqual(t, a.Reveal(), b.Reveal())
	assert.NotEqual(t, a.Hash(), b.Hash())
	assert.False(t, a.Matches(b.Hash()), "a rotated token matches the old hash")
	assert.False(t, b.Matches(a.Hash()))

	other, err := invite.NewToken(invite.NewID())
	require.NoError(t, err)
	assert.False(t, a.Matches(other.Hash()))
}

func TestMatchesRefuses(t *testing.T) {
	t.Parallel()
	tok, err := invite.NewToken(invite.NewID())
	require.NoError(t, err)
	h := tok.Hash()
	require.Len(t, h, 32)
	flipped := append([]byte(nil), h...)
	flipped[31] ^= 1
	cases := []struct {
		name string
		hash []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"short prefix of the hash", h[:31]},
		{"hash with a byte more", append(append([]byte(nil), h...), 0)},
		{"one bit flipped", flipped},
		{"all zero", make([]byte, 32)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.False(t, tok.Matches(c.hash))
		})
	}
	assert.True(t, tok.Matches(h))
	assert.Equal(t, h, tok.Hash(), "Matches changed nothing")
}

func TestZeroToken(t *testing.T) {
	t.Parallel()
	var z invite.Token
	assert.True(t, z.IsZero())
	assert.Equal(t, "", z.ID())
	assert.Equal(t, "", z.Reveal())
	assert.Equal(t, "", z.String())
	assert.Equal(t, "invite.Token{}", z.GoString())
	assert.Nil(t, z.Hash())
	assert.False(t, z.Matches(nil))
	assert.False(t, z.Matches(make([]byte, 32)))
	empty := sha256.Sum256(make([]byte, 20))
	assert.False(t, z.Matches(empty[:]))
	j, err := z.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, `""`, string(j))
}

func TestNewTokenBadID(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, id, says string }{
		{"empty", "", "has 0 characters, want 16"},
		{"short", "abcdefghijklmno", "has 15 characters, want 16"},
		{"long", "abcdefghijklmnopq", "has 17 characters, want 16"},
		{"upper case", "abcdEfghijklmnop", "upper-case letter at offset 4"},
		{"digit 0", "0bcdefghijklmnop", "outside the base32 alphabet (a-z, 2-7) at offset 0"},
		{"digit 1", "abcdefghijklmno1", "outside the base32 alphabet (a-z, 2-7) at offset 15"},
		{"digit 8", "abcdefgh8jklmnop", "at offset 8"},
		{"underscore", "abcdefgh_jklmnop", "at offset 8"},
		{"padding", "abcdefghijklmn==", "at offset 14"},
		{"space", "abcdefghijklmno ", "at offset 15"},
		{"non-ASCII", "abcdefghijklmné", "at offset 14"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := invite.NewToken(c.id)
			require.Error(t, err)
			assert.ErrorIs(t, err, invite.ErrMalformedToken)
			assert.Contains(t, err.Error(), "invitation ID has ")
			assert.Contains(t, err.Error(), c.says)
			assert.True(t, tok.IsZero())
		})
	}
}

// validText is a well-formed token, for the malformed ones below.
const (
	validID     = "abcdefghijklmnop"
	validSecret = "qrstuvwxyz234567abcdefghijklmnop"
	validText   = "inv_" + validID + "_" + validSecret
)

func TestParseTokenMalformed(t *testing.T) {
	t.Parallel()
	_, err := invite.ParseToken(validText)
	require.NoError(t, err, "the base of the table is well-formed")
	cases := []struct{ name, in, says string }{
		{"empty", "", "token is empty"},
		{"space only", " ", "leading or trailing white space"},
		{"leading space", " " + validText, "leading or trailing white space"},
		{"trailing newline", validText + "\n", "leading or trailing white space"},
		{"trailing CRLF", validText + "\r\n", "leading or trailing white space"},
		{"leading tab", "\t" + validText, "leading or trailing white space"},
		{"oversized", validText + strings.Repeat("a", 1000), "token is 1053 bytes long, want 53"},
		{"oversized junk", strings.Repeat("inv_", 100), "token is 400 bytes long, want 53"},
		{"no prefix", validID + "_" + validSecret, `does not start with "inv_"`},
		{"other prefix", "key_" + validID + "_" + validSecret, `does not start with "inv_"`},
		{"prefix without separator", "inv" + validID + "_" + validSecret, `does not start with "inv_"`},
		{"prefix alone, short", "in", `does not start with "inv_"`},
		{"upper-case prefix", "INV_" + validID + "_" + validSecret, `does not start with "inv_" (tokens are lower case)`},
		{"all upper case", strings.ToUpper(validText), "(tokens are lower case)"},
		{"prefix alone", "inv_", `0 "_" separators after "inv_", want 1`},
		{"no separator", "inv_" + validID + validSecret, `0 "_" separators after "inv_", want 1`},
		{"extra separator at the end", validText + "_", `2 "_" separators`},
		{"extra separator inside", "inv_" + validID + "_" + validSecret[:10] + "_" + validSecret[10:], `2 "_" separators`},
		{"doubled separator", "inv_" + validID + "__" + validSecret, `2 "_" separators`},
		{"doubled prefix", "inv_" + validText, `2 "_" separators`},
		{"empty ID", "inv__" + validSecret, "ID part has 0 characters, want 16"},
		{"empty secret", "inv_" + validID + "_", "secret part has 0 characters, want 32"},
		{"short ID", "inv_" + validID[1:] + "_" + validSecret, "ID part has 15 characters, want 16"},
		{"long ID", "inv_" + validID + "a_" + validSecret, "ID part has 17 characters, want 16"},
		{"short secret", "inv_" + validID + "_" + validSecret[1:], "secret part has 31 characters, want 32"},
		{"long secret", validText + "a", "secret part has 33 characters, want 32"},
		{"padded secret", validText + "====", "secret part has a character outside the base32 alphabet (a-z, 2-7) at offset 53"},
		{"upper-case ID letter", "inv_abcDefghijklmnop_" + validSecret, "ID part has an upper-case letter at offset 7"},
		{"upper-case secret", "inv_" + validID + "_" + strings.ToUpper(validSecret), "secret part has an upper-case letter at offset 21"},
		{"digit 1 in secret", "inv_" + validID + "_" + validSecret[:31] + "1", "secret part has a character outside the base32 alphabet (a-z, 2-7) at offset 52"},
		{"digit 0 in ID", "inv_0bcdefghijklmnop_" + validSecret, "ID part has a character outside the base32 alphabet (a-z, 2-7) at offset 4"},
		{"digits 8 and 9", "inv_" + validID + "_" + "89" + validSecret[2:], "at offset 21"},
		{"hyphen separator", "inv_" + validID + "-" + validSecret, `0 "_" separators`},
		{"inner space", "inv_" + validID + "_" + validSecret[:16] + " " + validSecret[17:], "at offset 37"},
		{"NUL", "inv_" + validID + "_" + validSecret[:31] + "\x00", "at offset 52"},
		{"non-ASCII", "inv_" + validID + "_" + validSecret[:30] + "é", "at offset 51"},
		{"invalid UTF-8", "inv_" + validID + "_" + validSecret[:31] + "\xff", "at offset 52"},
		{"base64 characters", "inv_" + validID + "_" + validSecret[:31] + "+", "at offset 52"},
		{"URL-escaped separator", "inv_" + validID + "%5F" + validSecret, `0 "_" separators`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := invite.ParseToken(c.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, invite.ErrMalformedToken)
			assert.True(t, tok.IsZero())
			msg := err.Error()
			assert.Contains(t, msg, c.says)
			if len(c.in) >= 8 {
				assert.NotContains(t, msg, c.in, "the error repeats the input")
			}
			// Nothing of the content: neither part, nor a run of the secret.
			assert.NotContains(t, msg, validID[:8])
			assert.NotContains(t, msg, validSecret[:8])
			assert.NotContains(t, msg, strings.ToUpper(validSecret[:8]))
		})
	}
}
