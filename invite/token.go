package invite

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/orgauthz/orgauthz/internal/b32"
)

// The token format: "inv_" + ID + "_" + secret, both parts in lower-case
// base32 (RFC 4648 alphabet, a-z and 2-7) without padding.
const (
	tokenPrefix = "inv_"
	idBytes     = 10 // 80 bits
	idChars     = idBytes * 8 / 5
	secretBytes = 20 // 160 bits
	secretChars = secretBytes * 8 / 5
	tokenLen    = len(tokenPrefix) + idChars + 1 + secretChars
	// ParseToken refuses input longer than maxScan on its length alone,
	// without looking at it.
	maxScan  = 4 * tokenLen
	redacted = "REDACTED"
)

// Token is an invitation token: the invitation's ID and a secret. It is
// shown once, with Reveal, for the host to send; only its Hash is stored.
//
// A Token redacts its secret wherever it is printed: String, GoString,
// LogValue, MarshalJSON and MarshalText all leave it out, so fmt, log/slog
// and encoding/json never show it, nor does fmt when a Token sits in an
// unexported field. (Tools that walk values by reflection and follow
// pointers, such as debuggers and dumpers, can still reach it.) Compare a
// presented token with a stored hash with Matches: == on Tokens compares
// identity, not text.
//
// The zero Token is no token: IsZero reports true, Matches always false.
// A Token is immutable and safe for concurrent use.
type Token struct {
	id string
	// secret is two pointers away so that fmt never shows its bytes. fmt
	// cannot call String on a Token in another struct's unexported field;
	// it prints the fields instead, and shows a pointer below the top
	// level as an address. At the top level (a verb that does not suit a
	// pointer, such as %!t(...)) it follows one pointer, and finds another.
	secret **[secretBytes]byte
}

// NewID returns a fresh invitation ID: 80 random bits from crypto/rand,
// written as 16 characters of lower-case base32 without padding.
// It panics only if crypto/rand fails, which it does not on supported
// platforms.
func NewID() string {
	var b [idBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("invite: crypto/rand failed: " + err.Error())
	}
	return b32.Encode(b[:])
}

// NewToken returns a token with a fresh 160-bit secret (from crypto/rand)
// for the invitation id. It serves both a new invitation (with an id from
// NewID) and a resend, which rotates the secret and keeps the ID.
//
// The error matches ErrMalformedToken if id is not 16 characters of
// lower-case base32. NewToken panics only if crypto/rand fails.
func NewToken(id string) (Token, error) {
	if err := checkPart("invitation ID", id, 0, idChars); err != nil {
		return Token{}, err
	}
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("invite: crypto/rand failed: " + err.Error())
	}
	return newToken(id, b), nil
}

// ParseToken parses the text of a token, "inv_<id>_<secret>", as Reveal
// writes it. It accepts nothing else: no surrounding white space, no upper
// case, no padding.
//
// Every refusal matches ErrMalformedToken and says what is wrong (a part's
// length, the offset of a bad character) without repeating any of the
// input, so the error can be logged and shown.
func ParseToken(s string) (Token, error) {
	switch {
	case s == "":
		return Token{}, malformed("token is empty")
	case len(s) > maxScan:
		return Token{}, malformed("token is %d bytes long, want %d", len(s), tokenLen)
	case b32.IsSpace(s[0]) || b32.IsSpace(s[len(s)-1]):
		return Token{}, malformed("token has leading or trailing white space")
	case !strings.HasPrefix(s, tokenPrefix):
		if len(s) >= len(tokenPrefix) && strings.EqualFold(s[:len(tokenPrefix)], tokenPrefix) {
			return Token{}, malformed("token does not start with %q (tokens are lower case)", tokenPrefix)
		}
		return Token{}, malformed("token does not start with %q", tokenPrefix)
	}
	rest := s[len(tokenPrefix):]
	if n := strings.Count(rest, "_"); n != 1 {
		return Token{}, malformed("token has %d %q separators after %q, want 1", n, "_", tokenPrefix)
	}
	id, secret, _ := strings.Cut(rest, "_")
	if err := checkPart("ID part", id, len(tokenPrefix), idChars); err != nil {
		return Token{}, err
	}
	if err := checkPart("secret part", secret, len(tokenPrefix)+len(id)+1, secretChars); err != nil {
		return Token{}, err
	}
	var b [secretBytes]byte
	b32.Decode(b[:], secret)
	return newToken(id, b), nil
}

func newToken(id string, secret [secretBytes]byte) Token {
	p := &secret
	return Token{id: id, secret: &p}
}

// bytes returns the secret; t must not be zero.
func (t Token) bytes() []byte { return (*t.secret)[:] }

// ID returns the invitation's ID, or "" for the zero Token.
func (t Token) ID() string { return t.id }

// IsZero reports whether t is the zero Token.
func (t Token) IsZero() bool { return t.secret == nil }

// Reveal returns the token's full text, secret included, to send to the
// invitee once. It returns "" for the zero Token.
func (t Token) Reveal() string {
	if t.IsZero() {
		return ""
	}
	return tokenPrefix + t.id + "_" + b32.Encode(t.bytes())
}

// Hash returns the SHA-256 of the secret's 20 bytes (the 160 random bits,
// not their base32 text): 32 bytes, for the invitation's TokenHash. The ID
// is not part of it. Hash returns nil for the zero Token.
func (t Token) Hash() []byte {
	if t.IsZero() {
		return nil
	}
	h := sha256.Sum256(t.bytes())
	return h[:]
}

// Matches reports whether hash is the Hash of t's secret, comparing in
// constant time (crypto/subtle). It is false for the zero Token and for a
// hash that is not 32 bytes long.
func (t Token) Matches(hash []byte) bool {
	if t.IsZero() || len(hash) != sha256.Size {
		return false
	}
	return subtle.ConstantTimeCompare(t.Hash(), hash) == 1
}

// String returns the token with its secret redacted, "inv_<id>_REDACTED",
// or "" for the zero Token.
func (t Token) String() string {
	if t.IsZero() {
		return ""
	}
	return tokenPrefix + t.id + "_" + redacted
}

// GoString returns a Go-like form of t for %#v, without the secret:
// invite.Token{id: "<id>", secret: REDACTED}, or invite.Token{} for the
// zero Token.
func (t Token) GoString() string {
	if t.IsZero() {
		return "invite.Token{}"
	}
	return "invite.Token{id: " + strconv.Quote(t.id) + ", secret: " + redacted + "}"
}

// LogValue returns the redacted form of t (see String), for log/slog.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON returns the redacted form of t (see String) as a JSON
// string. There is no UnmarshalJSON: a token is read with ParseToken.
func (t Token) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// MarshalText returns the redacted form of t (see String). There is no
// UnmarshalText: a token is read with ParseToken.
func (t Token) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// malformed returns an error matching ErrMalformedToken. Callers must not
// pass any of the input they refuse.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedToken, fmt.Sprintf(format, args...))
}

// checkPart checks one part of the text as b32.CheckPart does, with this
// package's sentinel.
func checkPart(name, part string, base, want int) error {
	if msg := b32.CheckPart(name, part, base, want, "tokens"); msg != "" {
		return malformed("%s", msg)
	}
	return nil
}
