package invite

import (
	"fmt"
	"strings"
)

// Limits on an e-mail address, in bytes (RFC 5321, with its erratum on the
// total: a path of 256 octets less the angle brackets).
const (
	maxEmailLen  = 254
	maxLocalLen  = 64
	maxDomainLen = 253
	maxLabelLen  = 63
)

// NormalizeEmail returns the address s in the form invitations store and
// compare: white space around it (as unicode.IsSpace) trimmed and the
// whole address lower-cased. Addresses are compared case-insensitively,
// local part included, as the major providers do, although RFC 5321 leaves
// the local part's case to the receiving server. Nothing else is
// rewritten: dots and "+tags" in the local part are kept.
//
// It accepts only the common form of address, which is stricter than the
// RFCs:
//
//   - ASCII only: internationalized addresses (non-ASCII in the local part
//     or the domain) are not accepted; a domain may be given in its
//     "xn--" ASCII form. Non-ASCII is refused before lower-casing, so no
//     Unicode case mapping can turn a character into an ASCII one.
//   - Exactly one "@", at most 254 characters in all.
//   - A local part of 1 to 64 characters: letters, digits and
//     !#$%&'*+/=?^_`{|}~.- with no leading, trailing or doubled dot. Quoted
//     local parts ("john doe"@example.com) are not accepted, nor comments.
//   - A domain of at most 253 characters: at least two dot-separated labels
//     of 1 to 63 letters, digits and hyphens, none starting or ending with a
//     hyphen, the last not all digits. No trailing dot, no address literal
//     such as [192.0.2.1].
//
// Every refusal matches ErrInvalidEmail and says what is wrong; it quotes
// the address (as given, trimmed) unless the address is too long.
// NormalizeEmail is idempotent: a result it returns is accepted again and
// returned unchanged.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: the address is empty", ErrInvalidEmail)
	case len(s) > maxEmailLen:
		return "", fmt.Errorf("%w: the address is %d bytes long, at most %d", ErrInvalidEmail, len(s), maxEmailLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return "", invalidEmail(s, "has a non-ASCII character at offset %d (internationalized addresses are not accepted)", i)
		}
	}
	switch n := strings.Count(s, "@"); n {
	case 1:
	case 0:
		return "", invalidEmail(s, "has no %q", "@")
	default:
		return "", invalidEmail(s, "has %d %q, want exactly one", n, "@")
	}
	addr := strings.ToLower(s)
	local, domain, _ := strings.Cut(addr, "@")
	if why := checkLocal(local); why != "" {
		return "", invalidEmail(s, "%s", why)
	}
	if why := checkDomain(domain); why != "" {
		return "", invalidEmail(s, "%s", why)
	}
	return addr, nil
}

// checkLocal says what is wrong with the local part, or "".
func checkLocal(local string) string {
	switch {
	case local == "":
		return "has an empty local part"
	case len(local) > maxLocalLen:
		return fmt.Sprintf("has a local part of %d characters, at most %d", len(local), maxLocalLen)
	case local[0] == '.' || local[len(local)-1] == '.':
		return `has a local part that starts or ends with "."`
	case strings.Contains(local, ".."):
		return `has ".." in its local part`
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; !isAlnum(c) && !strings.ContainsRune("!#$%&'*+/=?^_`{|}~.-", rune(c)) {
			return fmt.Sprintf("has %q in its local part (letters, digits and !#$%%&'*+/=?^_`{|}~.- only)", rune(c))
		}
	}
	return ""
}

// checkDomain says what is wrong with the (lower-cased) domain, or "".
func checkDomain(domain string) string {
	switch {
	case domain == "":
		return "has an empty domain"
	case len(domain) > maxDomainLen: // implied by maxEmailLen; kept as the rule
		return fmt.Sprintf("has a domain of %d characters, at most %d", len(domain), maxDomainLen)
	}
	labels := strings.Split(domain, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return `has an empty label in its domain (a leading, trailing or doubled ".")`
		case len(l) > maxLabelLen:
			return fmt.Sprintf("has a domain label of %d characters, at most %d", len(l), maxLabelLen)
		case l[0] == '-' || l[len(l)-1] == '-':
			return `has a domain label that starts or ends with "-"`
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isAlnum(c) && c != '-' {
				return fmt.Sprintf("has %q in its domain (letters, digits, %q and %q only)", rune(c), "-", ".")
			}
		}
	}
	if len(labels) < 2 {
		return "has a domain of one label (want a name such as example.com)"
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "has a domain whose last label is all digits"
	}
	return ""
}

// invalidEmail returns an error matching ErrInvalidEmail that quotes the
// address and says why it is refused.
func invalidEmail(addr, format string, args ...any) error {
	return fmt.Errorf("%w: %q %s", ErrInvalidEmail, addr, fmt.Sprintf(format, args...))
}

// isAlnum reports whether c is an ASCII letter or digit; the address is
// lower-cased by then, but upper case is accepted here too.
func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
