package apikey_test

import (
	"crypto/sha256"
	"encoding/base32"
	"hash/crc32"
	"strconv"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const base32Lower = "abcdefghijklmnopqrstuvwxyz234567"

func isBase32Lower(s string) bool {
	return strings.Trim(s, base32Lower) == ""
}

// A well-formed key for the tables below. validSum was computed apart
// from this package (Python's zlib.crc32 of the text before it, written
// as a 7-digit base32 number).
const (
	validPrefix = "acme"
	validID     = "abcdefghijklmnop"
	validSecret = "mz4q7tkw2xr5vnb3hd6jsl3pyc7fg2ua"
	validSum    = "dbr7ghl"
	validBody   = validPrefix + "_" + validID + "_" + validSecret
	validKey    = validBody + validSum
	checksumErr = "checksum does not match"
)

// sumOf computes the checksum of body the long way round, apart from the
// package: the CRC-32 (IEEE) as a base-32 number (strconv's digits 0-9a-v
// mapped onto a-z2-7), padded on the left with the zero digit to 7.
func sumOf(body string) string {
	digits := strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 32)
	var b strings.Builder
	for range 7 - len(digits) {
		b.WriteByte(base32Lower[0])
	}
	for _, d := range digits {
		v, err := strconv.ParseUint(string(d), 32, 8)
		if err != nil {
			panic(err)
		}
		b.WriteByte(base32Lower[v])
	}
	return b.String()
}

// parts splits a revealed key into its prefix, ID, secret and checksum.
func parts(t *testing.T, key string) (prefix, id, secret, sum string) {
	t.Helper()
	prefix, rest, ok := strings.Cut(key, "_")
	require.True(t, ok, key)
	id, tail, ok := strings.Cut(rest, "_")
	require.True(t, ok, key)
	require.Len(t, tail, 39)
	return prefix, id, tail[:32], tail[32:]
}

func TestChecksumKnownAnswer(t *testing.T) {
	t.Parallel()
	// The CRC-32 check value: "123456789" gives 0xcbf43926.
	require.Equal(t, "df7iojg", sumOf("123456789"))
	require.Equal(t, validSum, sumOf(validBody))

	s, err := apikey.Parse(validPrefix, validKey)
	require.NoError(t, err)
	assert.Equal(t, validID, s.ID())
	assert.Equal(t, validKey, s.Reveal())
	assert.Equal(t, "acme_…7ghl", s.Display())
	raw, err := base32.StdEncoding.DecodeString(strings.ToUpper(validSecret))
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(raw), s.Hash())
}

func TestNewSecretRoundTrip(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"acme", "wb", "k9", "abcdefghijklmnop"} {
		t.Run(prefix, func(t *testing.T) {
			t.Parallel()
			ids := make(map[string]bool)
			hashes := make(map[[32]byte]bool)
			for range 200 {
				s, err := apikey.NewSecret(prefix)
				require.NoError(t, err)
				require.False(t, s.IsZero())

				key := s.Reveal()
				require.Len(t, key, len(prefix)+57)
				gotPrefix, id, secret, sum := parts(t, key)
				assert.Equal(t, prefix, gotPrefix)
				assert.Equal(t, s.ID(), id)
				require.Len(t, id, 16)
				require.True(t, isBase32Lower(id), id)
				require.True(t, isBase32Lower(secret), secret)
				require.Equal(t, sumOf(key[:len(key)-7]), sum)
				require.Contains(t, "abcd", sum[:1], "a CRC-32 has 32 bits: the first of 7 digits holds 2")
				assert.Equal(t, prefix+"_…"+key[len(key)-4:], s.Display())
				assert.Equal(t, s.Display(), s.String())

				// The hash is the SHA-256 of the secret's 20 decoded bytes.
				raw, err := base32.StdEncoding.DecodeString(strings.ToUpper(secret))
				require.NoError(t, err)
				require.Len(t, raw, 20)
				assert.Equal(t, sha256.Sum256(raw), s.Hash())
				assert.True(t, s.Matches(s.Hash()))

				back, err := apikey.Parse(prefix, key)
				require.NoError(t, err)
				assert.Equal(t, s.ID(), back.ID())
				assert.Equal(t, key, back.Reveal())
				assert.Equal(t, s.Hash(), back.Hash())
				assert.Equal(t, s.Display(), back.Display())
				assert.True(t, back.Matches(s.Hash()), "the parsed key does not match the original's hash")
				assert.True(t, s.Matches(back.Hash()))

				require.False(t, ids[id], "duplicate ID %s", id)
				require.False(t, hashes[s.Hash()], "duplicate secret")
				ids[id] = true
				hashes[s.Hash()] = true
			}
		})
	}
}

func TestNewSecretFor(t *testing.T) {
	t.Parallel()
	a, err := apikey.NewSecretFor(validPrefix, validID)
	require.NoError(t, err)
	b, err := apikey.NewSecretFor(validPrefix, validID)
	require.NoError(t, err)
	assert.Equal(t, validID, a.ID())
	assert.Equal(t, validID, b.ID())
	assert.NotEqual(t, a.Reveal(), b.Reveal(), "the secret is fresh each time")
	assert.NotEqual(t, a.Hash(), b.Hash())
	assert.False(t, a.Matches(b.Hash()), "same ID, other secret")
	for _, s := range []apikey.Secret{a, b} {
		back, err := apikey.Parse(validPrefix, s.Reveal())
		require.NoError(t, err)
		assert.Equal(t, validID, back.ID())
		assert.True(t, back.Matches(s.Hash()))
	}

	// A fresh key's ID is accepted.
	fresh, err := apikey.NewSecret("wb")
	require.NoError(t, err)
	again, err := apikey.NewSecretFor("wb", fresh.ID())
	require.NoError(t, err)
	assert.Equal(t, fresh.ID(), again.ID())

	_, err = apikey.NewSecretFor("A", validID)
	assert.ErrorIs(t, err, apikey.ErrInvalidPrefix)
}

func TestNewSecretForBadID(t *testing.T) {
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
		{"a whole key", validKey, "at offset 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := apikey.NewSecretFor(validPrefix, c.id)
			require.Error(t, err)
			assert.ErrorIs(t, err, apikey.ErrMalformedKey)
			assert.Contains(t, err.Error(), "key ID has ")
			assert.Contains(t, err.Error(), c.says)
			assertNotEchoed(t, err.Error(), c.id)
			assert.True(t, s.IsZero())
		})
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	s, err := apikey.NewSecret(validPrefix)
	require.NoError(t, err)
	other, err := apikey.NewSecret(validPrefix)
	require.NoError(t, err)
	h := s.Hash()
	flipped := h
	flipped[31] ^= 1
	firstFlipped := h
	firstFlipped[0] ^= 0x80
	cases := []struct {
		name string
		hash [32]byte
		want bool
	}{
		{"own hash", h, true},
		{"own hash, parsed again", mustParse(t, s.Reveal()).Hash(), true},
		{"another key's hash", other.Hash(), false},
		{"last bit flipped", flipped, false},
		{"first bit flipped", firstFlipped, false},
		{"all zero", [32]byte{}, false},
		{"hash of the key's text", sha256.Sum256([]byte(s.Reveal())), false},
		{"hash of the ID", sha256.Sum256([]byte(s.ID())), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, s.Matches(c.hash))
		})
	}
	assert.Equal(t, h, s.Hash(), "Matches changed nothing")
	assert.False(t, other.Matches(h))
}

func mustParse(t *testing.T, key string) apikey.Secret {
	t.Helper()
	s, err := apikey.Parse(validPrefix, key)
	require.NoError(t, err)
	return s
}

func TestZeroSecret(t *testing.T) {
	t.Parallel()
	var z apikey.Secret
	assert.True(t, z.IsZero())
	assert.Equal(t, "", z.ID())
	assert.Equal(t, "", z.Reveal())
	assert.Equal(t, "", z.Display())
	assert.Equal(t, "", z.String())
	assert.Equal(t, "apikey.Secret{}", z.GoString())
	assert.Equal(t, [32]byte{}, z.Hash())
	assert.False(t, z.Matches([32]byte{}))
	assert.False(t, z.Matches(sha256.Sum256(make([]byte, 20))))
	assert.False(t, z.Matches(mustParse(t, validKey).Hash()))
	j, err := z.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, `""`, string(j))
	txt, err := z.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "", string(txt))
	assert.Equal(t, "", z.LogValue().String())
}

func TestValidatePrefix(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"ab", "acme", "wb", "k9", "a0", "x1y2z3", "abcdefghijklmnop", "a123456789012345", "inv"} {
		assert.NoError(t, apikey.ValidatePrefix(p), p)
	}
	cases := []struct{ name, in, says string }{
		{"empty", "", "prefix is empty"},
		{"one letter", "a", "prefix has 1 character, want 2 to 16"},
		{"seventeen", "abcdefghijklmnopq", "prefix is 17 bytes long, want 2 to 16 characters"},
		{"long", strings.Repeat("a", 1000), "prefix is 1000 bytes long"},
		{"digit first", "1abc", "prefix starts with a digit, want a letter"},
		{"digit alone", "7", "prefix starts with a digit"},
		{"upper case", "Acme", "prefix has an upper-case letter at offset 0 (prefixes are lower case)"},
		{"upper case inside", "acMe", "upper-case letter at offset 2"},
		{"underscore", "ac_me", "prefix has a character other than a-z and 0-9 at offset 2"},
		{"trailing underscore", "acme_", "at offset 4"},
		{"hyphen", "ac-me", "at offset 2"},
		{"space", "acme ", "at offset 4"},
		{"leading space", " acme", "at offset 0"},
		{"dot", "a.b", "at offset 1"},
		{"NUL", "ab\x00", "at offset 2"},
		{"non-ASCII", "acmé", "at offset 3"},
		{"invalid UTF-8", "ab\xff", "at offset 2"},
		{"Kelvin sign", "\u212aey", "at offset 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := apikey.ValidatePrefix(c.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, apikey.ErrInvalidPrefix)
			assert.NotErrorIs(t, err, apikey.ErrMalformedKey)
			assert.Contains(t, err.Error(), c.says)
			if len(c.in) >= 3 {
				assert.NotContains(t, err.Error(), c.in, "the error repeats the prefix")
			}

			// NewSecret and Parse refuse the prefix the same way.
			s, err2 := apikey.NewSecret(c.in)
			assert.True(t, s.IsZero())
			assert.Equal(t, err, err2)
			s, err2 = apikey.Parse(c.in, validKey)
			assert.True(t, s.IsZero())
			assert.Equal(t, err, err2)
		})
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	_, err := apikey.Parse(validPrefix, validKey)
	require.NoError(t, err, "the base of the table is well-formed")
	tail := validSecret + validSum
	cases := []struct{ name, in, says string }{
		{"empty", "", "key is empty"},
		{"space only", " ", "leading or trailing white space"},
		{"leading space", " " + validKey, "leading or trailing white space"},
		{"trailing newline", validKey + "\n", "leading or trailing white space"},
		{"trailing CRLF", validKey + "\r\n", "leading or trailing white space"},
		{"leading tab", "\t" + validKey, "leading or trailing white space"},
		{"oversized", validKey + strings.Repeat("a", 1000), "key is 1061 bytes long, want 61"},
		{"oversized junk", strings.Repeat("acme_", 100), "key is 500 bytes long, want 61"},
		{"just over the scan limit", validKey + strings.Repeat("a", 3*61+1), "key is 245 bytes long, want 61"},
		{"no prefix", validID + "_" + tail, `does not start with "acme_"`},
		{"other prefix", "wb_" + validID + "_" + tail, `does not start with "acme_"`},
		{"longer prefix", "acmex_" + validID + "_" + tail, `does not start with "acme_"`},
		{"shorter prefix", "acm_" + validID + "_" + tail, `does not start with "acme_"`},
		{"prefix without separator", "acme" + validID + "_" + tail, `does not start with "acme_"`},
		{"prefix alone, short", "ac", `does not start with "acme_"`},
		{"hyphen after prefix", "acme-" + validID + "_" + tail, `does not start with "acme_"`},
		{"upper-case prefix", "ACME_" + validID + "_" + tail, `does not start with "acme_" (keys are lower case)`},
		{"all upper case", strings.ToUpper(validKey), "(keys are lower case)"},
		{"prefix alone", "acme_", `0 "_" separators after "acme_", want 1`},
		{"no separator", "acme_" + validID + tail, `0 "_" separators after "acme_", want 1`},
		{"hyphen separator", "acme_" + validID + "-" + tail, `0 "_" separators`},
		{"URL-escaped separator", "acme_" + validID + "%5F" + tail, `0 "_" separators`},
		{"extra separator at the end", validKey + "_", `2 "_" separators`},
		{"extra separator before the checksum", validBody + "_" + validSum, `2 "_" separators`},
		{"extra separator inside", "acme_" + validID + "_" + tail[:10] + "_" + tail[10:], `2 "_" separators`},
		{"doubled separator", "acme_" + validID + "__" + tail, `2 "_" separators`},
		{"doubled prefix", "acme_" + validKey, `2 "_" separators`},
		{"empty ID", "acme__" + tail, "ID part has 0 characters, want 16"},
		{"empty secret", "acme_" + validID + "_", "secret part has 0 characters, want 39"},
		{"short ID", "acme_" + validID[1:] + "_" + tail, "ID part has 15 characters, want 16"},
		{"long ID", "acme_" + validID + "a_" + tail, "ID part has 17 characters, want 16"},
		{"no checksum", validBody, "secret part has 32 characters, want 39"},
		{"short checksum", validKey[:len(validKey)-1], "secret part has 38 characters, want 39"},
		{"long secret", validKey + "a", "secret part has 40 characters, want 39"},
		{"padded secret", validKey + "=", "secret part has a character outside the base32 alphabet (a-z, 2-7) at offset 61"},
		{"upper-case ID letter", "acme_abcDefghijklmnop_" + tail, "ID part has an upper-case letter at offset 8 (keys are lower case)"},
		{"upper-case secret", "acme_" + validID + "_" + strings.ToUpper(tail), "secret part has an upper-case letter at offset 22"},
		{"upper-case checksum", validBody + strings.ToUpper(validSum), "secret part has an upper-case letter at offset 54"},
		{"digit 1 in secret", "acme_" + validID + "_" + tail[:38] + "1", "secret part has a character outside the base32 alphabet (a-z, 2-7) at offset 60"},
		{"digit 0 in ID", "acme_0bcdefghijklmnop_" + tail, "ID part has a character outside the base32 alphabet (a-z, 2-7) at offset 5"},
		{"digits 8 and 9", "acme_" + validID + "_" + "89" + tail[2:], "at offset 22"},
		{"inner space", "acme_" + validID + "_" + tail[:16] + " " + tail[17:], "at offset 38"},
		{"NUL", validKey[:60] + "\x00", "at offset 60"},
		{"non-ASCII", validKey[:59] + "é", "at offset 59"},
		{"invalid UTF-8", validKey[:60] + "\xff", "at offset 60"},
		{"base64 characters", validKey[:60] + "+", "at offset 60"},
		{"wrong checksum", validBody + "aaaaaaa", checksumErr},
		{"checksum of another body", validBody + sumOf("acme_"+validID+"_"+validSecret[1:]+"a"), checksumErr},
		{"checksum without the prefix", validBody + sumOf(validBody[len("acme_"):]), checksumErr},
		{"checksum of the secret alone", validBody + sumOf(validSecret), checksumErr},
		{"checksum with a first digit above d", validBody + "g" + validSum[1:], checksumErr},
		{"key of another prefix", "wbx_" + validID + "_" + validSecret + sumOf("wbx_"+validID+"_"+validSecret), `does not start with "acme_"`},
		{"prefix changed, checksum kept", "abcd" + validKey[4:], `does not start with "acme_"`},
		{"ID swapped with a run of the secret", "acme_" + validSecret[:16] + "_" + validID + validSecret[16:] + validSum, checksumErr},
		{"ID and secret swapped", "acme_" + validSecret[:16] + "_" + validSecret[16:] + validID + validSum, checksumErr},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := apikey.Parse(validPrefix, c.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, apikey.ErrMalformedKey)
			assert.NotErrorIs(t, err, apikey.ErrInvalidPrefix)
			assert.True(t, s.IsZero())
			assert.Contains(t, err.Error(), c.says)
			assertNotEchoed(t, err.Error(), c.in)
		})
	}
}

// assertNotEchoed fails if msg repeats the input or shows any of the
// valid key's content: its ID, its secret or its checksum.
func assertNotEchoed(t *testing.T, msg, in string) {
	t.Helper()
	if len(in) >= 8 {
		assert.NotContains(t, msg, in, "the error repeats the input")
	}
	for _, part := range []string{validID, validSecret, validSum} {
		for i := 0; i+6 <= len(part); i++ {
			run := part[i : i+6]
			if strings.Contains(msg, run) || strings.Contains(msg, strings.ToUpper(run)) {
				t.Fatalf("the error shows %q of the key:\n%s", run, msg)
			}
		}
	}
}

// reason says why Parse must refuse key, which is validKey with the byte at
// offset i replaced by c.
func reason(i int, c byte) string {
	sep1, sep2 := len("acme"), len("acme_")+16
	switch {
	case (i == 0 || i == len(validKey)-1) && strings.IndexByte(" \t\n\v\f\r", c) >= 0:
		return "leading or trailing white space"
	case i < sep1 && c == validKey[i]-'a'+'A':
		return `does not start with "acme_" (keys are lower case)`
	case i <= sep1:
		return `does not start with "acme_"`
	case i == sep2:
		return `0 "_" separators`
	case c == '_':
		return `2 "_" separators`
	case strings.IndexByte(base32Lower, c) >= 0:
		return checksumErr
	case 'A' <= c && c <= 'Z':
		return "upper-case letter at offset " + strconv.Itoa(i)
	}
	return "outside the base32 alphabet (a-z, 2-7) at offset " + strconv.Itoa(i)
}

// TestParseEverySingleByteChange replaces each byte of a valid key by each
// other byte value: every change is refused, and one that keeps the key's
// shape (a base32 character for another, in the ID, the secret or the
// checksum) is refused by the checksum. CRC-32 catches every error within
// 32 consecutive bits, so no such change can slip through.
func TestParseEverySingleByteChange(t *testing.T) {
	t.Parallel()
	byChecksum := 0
	for i := range len(validKey) {
		for c := range 256 {
			if byte(c) == validKey[i] {
				continue
			}
			in := validKey[:i] + string([]byte{byte(c)}) + validKey[i+1:]
			s, err := apikey.Parse(validPrefix, in)
			if err == nil {
				t.Fatalf("offset %d, byte %#x: accepted", i, c)
			}
			want := reason(i, byte(c))
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("offset %d, byte %#x: got %q, want it to say %q", i, c, err, want)
			}
			if want == checksumErr {
				byChecksum++
			}
			if !s.IsZero() {
				t.Fatalf("offset %d, byte %#x: a Secret with the error", i, c)
			}
			assertNotEchoed(t, err.Error(), in)
		}
	}
	// 16 + 39 base32 characters, each replaced by the 31 others.
	assert.Equal(t, (16+39)*31, byChecksum)
}

// TestParseRandomKeysTypos repeats the checksum's part of the test above on
// fresh keys, and adds the other common typos: two neighbours swapped, a
// character dropped or doubled.
func TestParseRandomKeysTypos(t *testing.T) {
	t.Parallel()
	for range 20 {
		s, err := apikey.NewSecret(validPrefix)
		require.NoError(t, err)
		key := s.Reveal()
		first := len("acme_")
		for i := first; i < len(key); i++ {
			if key[i] == '_' {
				continue
			}
			for j := range len(base32Lower) {
				c := base32Lower[j]
				if c == key[i] {
					continue
				}
				_, err := apikey.Parse(validPrefix, key[:i]+string(c)+key[i+1:])
				require.ErrorIs(t, err, apikey.ErrMalformedKey)
				require.Contains(t, err.Error(), checksumErr, "offset %d", i)
			}
		}
		for i := 0; i+1 < len(key); i++ {
			if key[i] == key[i+1] {
				continue
			}
			swapped := key[:i] + string(key[i+1]) + string(key[i]) + key[i+2:]
			_, err := apikey.Parse(validPrefix, swapped)
			require.ErrorIs(t, err, apikey.ErrMalformedKey, "swap at %d", i)
			if i >= first && key[i] != '_' && key[i+1] != '_' {
				require.Contains(t, err.Error(), checksumErr, "swap at %d", i)
			}
		}
		for i := range len(key) {
			_, err := apikey.Parse(validPrefix, key[:i]+key[i+1:])
			require.ErrorIs(t, err, apikey.ErrMalformedKey, "drop at %d", i)
			_, err = apikey.Parse(validPrefix, key[:i]+key[i:i+1]+key[i:])
			require.ErrorIs(t, err, apikey.ErrMalformedKey, "double at %d", i)
		}
	}
}

// TestParseOtherPrefix: a key is valid for its own prefix only, even where
// one prefix starts another.
func TestParseOtherPrefix(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"ab", "abc", "abcd", "a1", "ab1"} {
		s, err := apikey.NewSecret(p)
		require.NoError(t, err)
		for _, q := range []string{"ab", "abc", "abcd", "a1", "ab1"} {
			got, err := apikey.Parse(q, s.Reveal())
			if p == q {
				require.NoError(t, err)
				assert.Equal(t, s.Reveal(), got.Reveal())
				continue
			}
			require.ErrorIs(t, err, apikey.ErrMalformedKey, "%s key as %s", p, q)
			assert.Contains(t, err.Error(), `does not start with "`+q+`_"`)
		}
	}
}
