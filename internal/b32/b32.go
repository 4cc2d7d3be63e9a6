// Package b32 holds what invitation tokens and API keys share: lower-case
// base32 (RFC 4648 alphabet, no padding) for their random parts, checked
// and decoded without allocating and without ever quoting the text it
// refuses.
package b32

import (
	"encoding/base32"
	"fmt"
	"strings"
)

// Encode writes b, a multiple of 5 bytes long, in lower-case base32.
func Encode(b []byte) string {
	return strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

// CheckPart checks that part, which starts at offset base of the text it
// came from, is want characters of lower-case base32. It returns "" or a
// description of the fault that names offsets and lengths, never
// characters, so that a secret is never echoed; noun names what the text
// is ("keys", "tokens") in the advice about case.
func CheckPart(name, part string, base, want int, noun string) string {
	for i := 0; i < len(part); i++ {
		switch c := part[i]; {
		case 'a' <= c && c <= 'z', '2' <= c && c <= '7':
		case 'A' <= c && c <= 'Z':
			return fmt.Sprintf("%s has an upper-case letter at offset %d (%s are lower case)", name, base+i, noun)
		default:
			return fmt.Sprintf("%s has a character outside the base32 alphabet (a-z, 2-7) at offset %d", name, base+i)
		}
	}
	if len(part) != want {
		return fmt.Sprintf("%s has %d characters, want %d", name, len(part), want)
	}
	return ""
}

// Decode decodes src, lower-case base32 that CheckPart has accepted, into
// dst, which must hold len(src)*5/8 bytes. It does not allocate.
func Decode(dst []byte, src string) {
	var acc uint64
	bits, j := 0, 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		v := uint64(c - 'a')
		if c <= '7' {
			v = uint64(c-'2') + 26
		}
		acc = acc<<5 | v
		if bits += 5; bits >= 8 {
			bits -= 8
			dst[j] = byte(acc >> uint(bits))
			j++
		}
	}
}

// IsSpace reports whether c is ASCII white space.
func IsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
