package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"strconv"
	"strings"

	"github.com/orgauthz/orgauthz/internal/b32"
)

// ErrInvalidPrefix: a key prefix is not 2 to 16 characters of lower-case
// letters and digits starting with a letter (see ValidatePrefix). The
// error says what is wrong without repeating the prefix.
var ErrInvalidPrefix = errors.New("invalid API key prefix")

// The key format: prefix + "_" + id + "_" + secret + checksum, the last
// three in lower-case base32 (RFC 4648 alphabet, a-z and 2-7) without
// padding.
const (
	alphabet     = "abcdefghijklmnopqrstuvwxyz234567"
	minPrefix    = 2
	maxPrefix    = 16
	idBytes      = 10 // 80 bits
	idChars      = idBytes * 8 / 5
	secretBytes  = 20 // 160 bits
	secretChars  = secretBytes * 8 / 5
	sumChars     = 7 // 35 bits, for the 32 of a CRC-32
	tailChars    = secretChars + sumChars
	displayChars = 4
	// keyLen(prefix) is len(prefix) + fixedLen.
	fixedLen = 1 + idChars + 1 + tailChars
	redacted = "REDACTED"
)

// ValidatePrefix reports whether prefix can start a key string: 2 to 16
// characters, each a lower-case letter (a-z) or a digit (0-9), the first
// a letter. It has no "_", which separates the parts of a key.
//
// The error matches ErrInvalidPrefix and says what is wrong (the length,
// the offset of a bad character) without repeating the prefix.
func ValidatePrefix(prefix string) error {
	switch {
	case prefix == "":
		return invalidPrefix("prefix is empty")
	case len(prefix) > maxPrefix:
		return invalidPrefix("prefix is %d bytes long, want %d to %d characters", len(prefix), minPrefix, maxPrefix)
	}
	for i := 0; i < len(prefix); i++ {
		switch c := prefix[i]; {
		case 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9':
			if i == 0 {
				return invalidPrefix("prefix starts with a digit, want a letter")
			}
		case 'A' <= c && c <= 'Z':
			return invalidPrefix("prefix has an upper-case letter at offset %d (prefixes are lower case)", i)
		default:
			return invalidPrefix("prefix has a character other than a-z and 0-9 at offset %d", i)
		}
	}
	if len(prefix) < minPrefix {
		return invalidPrefix("prefix has %d character, want %d to %d", len(prefix), minPrefix, maxPrefix)
	}
	return nil
}

// Secret is a key string as issued: its prefix, its ID and a 160-bit
// secret. It is shown once, with Reveal, when the key is made; only its
// Hash and its Display form are stored, in the Key.
//
// A Secret redacts itself wherever it is printed: String, GoString,
// LogValue, MarshalJSON and MarshalText all give the display form or less,
// so fmt, log/slog and encoding/json never show the secret, nor does fmt
// when a Secret sits in an unexported field. (Tools that walk values by
// reflection and follow pointers, such as debuggers and dumpers, can
// still reach it.) Compare a presented key with a stored hash with
// Matches: == on Secrets compares identity, not text.
//
// The zero Secret is no key: IsZero reports true, Matches always false.
// A Secret is immutable and safe for concurrent use.
type Secret struct {
	prefix string
	id     string
	// secret is two pointers away so that fmt never shows its bytes. fmt
	// cannot call String on a Secret in another struct's unexported
	// field; it prints the fields instead, and shows a pointer below the
	// top level as an address. At the top level (a verb that does not
	// suit a pointer, such as %!t(...)) it follows one pointer, and finds
	// another. The checksum is not kept: it is computed from the secret.
	secret **[secretBytes]byte
}

// NewSecret returns a new key string for prefix: a fresh 80-bit ID and a
// fresh 160-bit secret, both from crypto/rand.
//
// The error matches ErrInvalidPrefix if ValidatePrefix refuses prefix.
// NewSecret panics only if crypto/rand fails, which it does not on
// supported platforms.
func NewSecret(prefix string) (Secret, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return Secret{}, err
	}
	var id [idBytes]byte
	var secret [secretBytes]byte
	if _, err := rand.Read(id[:]); err != nil {
		panic("apikey: crypto/rand failed: " + err.Error())
	}
	if _, err := rand.Read(secret[:]); err != nil {
		panic("apikey: crypto/rand failed: " + err.Error())
	}
	return newSecret(prefix, b32.Encode(id[:]), secret), nil
}

// NewSecretFor returns a new key string for prefix with the given ID and a
// fresh 160-bit secret from crypto/rand. It serves tests and tools that
// need a key of a known ID (such as a key that names a stored key but has
// the wrong secret, or an example with stable output); a host making keys
// uses NewSecret, whose IDs are random.
//
// The error matches ErrInvalidPrefix if ValidatePrefix refuses prefix, and
// ErrMalformedKey if id is not 16 characters of lower-case base32; it
// does not repeat id. NewSecretFor panics only if crypto/rand fails.
func NewSecretFor(prefix, id string) (Secret, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return Secret{}, err
	}
	if err := checkPart("key ID", id, 0, idChars); err != nil {
		return Secret{}, err
	}
	var secret [secretBytes]byte
	if _, err := rand.Read(secret[:]); err != nil {
		panic("apikey: crypto/rand failed: " + err.Error())
	}
	return newSecret(prefix, id, secret), nil
}

// Parse parses a key string of the given prefix, as Reveal writes it:
// "<prefix>_<id>_<secret><checksum>", where id is 16 characters, and the
// secret part that follows the second "_" is 39: the secret's 32 and the
// checksum's 7. It accepts nothing else: no surrounding white space, no
// upper case, no padding.
//
// Parse checks the key's shape, then its checksum, before it decodes
// anything: a mistyped, truncated or corrupted key is refused here,
// without asking the store. A key that passes has a well-formed ID to
// look up, and the Secret to compare with the stored hash (Matches).
//
// Every refusal of s matches ErrMalformedKey and says what is wrong (a
// part's length, the offset of a bad character, a checksum that does not
// match) without repeating any of s, so the error can be logged and
// shown. If prefix itself is invalid, the error matches ErrInvalidPrefix
// instead.
func Parse(prefix, s string) (Secret, error) {
	id, secret, err := parse(prefix, s)
	if err != nil {
		return Secret{}, err
	}
	return newSecret(prefix, id, secret), nil
}

// ParseHash is Parse for servers that only compare: it checks s exactly as
// Parse does, and returns the key's ID and the SHA-256 of its secret (what
// Key.Hash stores), without keeping the secret or allocating. Compare the
// hash with the stored one in constant time (crypto/subtle).
func ParseHash(prefix, s string) (id string, hash [sha256.Size]byte, err error) {
	id, secret, err := parse(prefix, s)
	if err != nil {
		return "", hash, err
	}
	hash = sha256.Sum256(secret[:])
	clear(secret[:])
	return id, hash, nil
}

// parse checks s and returns its ID and decoded secret. It allocates only
// to report an error.
func parse(prefix, s string) (id string, secret [secretBytes]byte, err error) {
	if err := ValidatePrefix(prefix); err != nil {
		return "", secret, err
	}
	want := len(prefix) + fixedLen
	switch {
	case s == "":
		return "", secret, malformed("key is empty")
	case len(s) > 4*want:
		// Refused on its length alone, without looking at it.
		return "", secret, malformed("key is %d bytes long, want %d", len(s), want)
	case b32.IsSpace(s[0]) || b32.IsSpace(s[len(s)-1]):
		return "", secret, malformed("key has leading or trailing white space")
	case len(s) <= len(prefix) || s[:len(prefix)] != prefix || s[len(prefix)] != '_':
		head := prefix + "_"
		if len(s) >= len(head) && strings.EqualFold(s[:len(head)], head) {
			return "", secret, malformed("key does not start with %q (keys are lower case)", head)
		}
		return "", secret, malformed("key does not start with %q", head)
	}
	headLen := len(prefix) + 1
	rest := s[headLen:]
	if n := strings.Count(rest, "_"); n != 1 {
		return "", secret, malformed("key has %d %q separators after %q, want 1", n, "_", prefix+"_")
	}
	id, tail, _ := strings.Cut(rest, "_")
	if err := checkPart("ID part", id, headLen, idChars); err != nil {
		return "", secret, err
	}
	if err := checkPart("secret part", tail, headLen+len(id)+1, tailChars); err != nil {
		return "", secret, err
	}
	// The checksum is public (anyone can compute it from the text before
	// it), so it need not be compared in constant time.
	body, sum := s[:len(s)-sumChars], s[len(s)-sumChars:]
	if c := checksumChars(body); string(c[:]) != sum {
		return "", secret, malformed("checksum does not match")
	}
	b32.Decode(secret[:], tail[:secretChars])
	return id, secret, nil
}

func newSecret(prefix, id string, secret [secretBytes]byte) Secret {
	p := &secret
	return Secret{prefix: prefix, id: id, secret: &p}
}

// bytes returns the secret; s must not be zero.
func (s Secret) bytes() []byte { return (*s.secret)[:] }

// ID returns the key's ID, 16 characters of lower-case base32, or "" for
// the zero Secret. It is not secret: it names the key for lookup.
func (s Secret) ID() string { return s.id }

// IsZero reports whether s is the zero Secret.
func (s Secret) IsZero() bool { return s.secret == nil }

// Reveal returns the full key string, secret and checksum included, to
// show its owner once. It returns "" for the zero Secret.
func (s Secret) Reveal() string {
	if s.IsZero() {
		return ""
	}
	body := s.prefix + "_" + s.id + "_" + b32.Encode(s.bytes())
	return body + checksum(body)
}

// Hash returns the SHA-256 of the secret's 20 bytes (the 160 random bits,
// not their base32 text), for the Key's Hash. Neither the prefix, nor the
// ID, nor the checksum is part of it. Hash returns the zero array for the
// zero Secret.
func (s Secret) Hash() [sha256.Size]byte {
	if s.IsZero() {
		return [sha256.Size]byte{}
	}
	return sha256.Sum256(s.bytes())
}

// Matches reports whether hash is the Hash of s's secret, comparing in
// constant time (crypto/subtle). It is false for the zero Secret.
func (s Secret) Matches(hash [sha256.Size]byte) bool {
	if s.IsZero() {
		return false
	}
	h := s.Hash()
	return subtle.ConstantTimeCompare(h[:], hash[:]) == 1
}

// Display returns the redacted form of the key shown in listings, the
// Key's Display: the prefix, "_…" and the key string's last four
// characters, e.g. "acme_…x7qa". Those four are the end of the checksum,
// none of the secret's characters. Display returns "" for the zero
// Secret.
func (s Secret) Display() string {
	if s.IsZero() {
		return ""
	}
	body := s.prefix + "_" + s.id + "_" + b32.Encode(s.bytes())
	return s.prefix + "_…" + checksum(body)[sumChars-displayChars:]
}

// String returns the display form of s (see Display), or "" for the zero
// Secret.
func (s Secret) String() string { return s.Display() }

// GoString returns a Go-like form of s for %#v, without the secret:
// apikey.Secret{id: "<id>", display: "<display>", secret: REDACTED}, or
// apikey.Secret{} for the zero Secret.
func (s Secret) GoString() string {
	if s.IsZero() {
		return "apikey.Secret{}"
	}
	return "apikey.Secret{id: " + strconv.Quote(s.id) + ", display: " + strconv.Quote(s.Display()) + ", secret: " + redacted + "}"
}

// LogValue returns the display form of s (see Display), for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON returns the display form of s (see Display) as a JSON
// string. There is no UnmarshalJSON: a key string is read with Parse.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText returns the display form of s (see Display). There is no
// UnmarshalText: a key string is read with Parse.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// checksum returns the CRC-32 (IEEE) of body as a 35-bit number in 7
// base32 digits, most significant first, padded with the zero digit "a":
// the first is one of a, b, c and d.
func checksum(body string) string {
	c := checksumChars(body)
	return string(c[:])
}

// checksumChars is the checksum of body, computed over the string in place
// (hash/crc32 takes only byte slices, which would copy body).
func checksumChars(body string) [sumChars]byte {
	c := ^uint32(0)
	for i := 0; i < len(body); i++ {
		c = crc32.IEEETable[byte(c)^body[i]] ^ c>>8
	}
	c = ^c
	var b [sumChars]byte
	for i := sumChars - 1; i >= 0; i-- {
		b[i] = alphabet[c&31]
		c >>= 5
	}
	return b
}

// malformed returns an error matching ErrMalformedKey. Callers must not
// pass any of the input they refuse.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedKey, fmt.Sprintf(format, args...))
}

// invalidPrefix returns an error matching ErrInvalidPrefix. Callers must
// not pass the prefix.
func invalidPrefix(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidPrefix, fmt.Sprintf(format, args...))
}

// checkPart checks one part of the text as b32.CheckPart does, with this
// package's sentinel.
func checkPart(name, part string, base, want int) error {
	if msg := b32.CheckPart(name, part, base, want, "keys"); msg != "" {
		return malformed("%s", msg)
	}
	return nil
}
