package role

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidName is matched by every error about a malformed display name:
// a role's Name, a capability's Label, and (through package edition) the
// display names of schemes, editions and scope kinds. It is distinct from
// ErrInvalidID, which is about identifiers.
var ErrInvalidName = errors.New("invalid display name")

// ForbiddenInName returns what kind of character r is when no human-readable
// name may hold it, and "" when r is allowed. Every name orgauthz accepts
// (organization, member, scope and role names, capability labels, scheme,
// edition and scope kind display names, settings keys) refuses:
//   - control characters (Cc), tabs and line feeds included;
//   - format characters (Cf): the bidirectional embeddings, overrides and
//     isolates (U+202A..U+202E, U+2066..U+2069) and marks (U+200E, U+200F,
//     U+061C), the zero-width space, joiners and non-joiner (U+200B..U+200D),
//     the word joiner and invisible operators (U+2060..U+2064), the byte
//     order mark (U+FEFF), the soft hyphen (U+00AD), tag characters, and
//     the rest of the category. They are invisible, so they let two names
//     that look the same differ, or reorder what a reader sees
//     ("payroll\u202egpj.exe" displays as "payrollexe.jpg"). This refuses
//     emoji sequences joined by U+200D (family and profession emoji, the
//     rainbow flag) and tag sequences (subdivision flags) as well, and the
//     zero-width non-joiner some scripts (Persian) use: those names must be
//     written without them. A single emoji ("🚀"), and an emoji with a
//     variation selector ("❤️"), are allowed;
//   - the line and paragraph separators U+2028 and U+2029 (Zl, Zp), which
//     break a name over lines;
//   - private-use characters (Co), whose look depends on the font at hand;
//   - noncharacters (U+FDD0..U+FDEF and the last two code points of every
//     plane), reserved for a program's internal use;
//   - the other default-ignorable code points that are not format
//     characters (the Hangul fillers U+115F, U+1160, U+3164 and U+FFA0, the
//     combining grapheme joiner U+034F, ...), which render as nothing and so
//     make a name look blank;
//   - surrogates, which valid UTF-8 never holds.
//
// Unassigned code points are allowed: which code points are assigned
// depends on the Unicode version Go was built with, and a name accepted by
// one build must not be refused by the next.
func ForbiddenInName(r rune) string {
	switch {
	case unicode.IsControl(r):
		return "control character"
	case unicode.Is(unicode.Cf, r):
		return "format character"
	case r == '\u2028':
		return "line separator"
	case r == '\u2029':
		return "paragraph separator"
	case unicode.Is(unicode.Co, r):
		return "private-use character"
	case unicode.Is(unicode.Noncharacter_Code_Point, r):
		return "noncharacter"
	case unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return "invisible character"
	case unicode.Is(unicode.Cs, r):
		return "surrogate"
	}
	return ""
}

// QuoteName returns s quoted for an error message, as %q quotes it, except
// that every character ForbiddenInName refuses is escaped, even where %q
// would print it as it is (the Hangul fillers): a message about a refused
// name always shows what is wrong with it.
func QuoteName(s string) string {
	var b strings.Builder
	start := 0
	flush := func(end int) {
		q := strconv.Quote(s[start:end])
		b.WriteString(q[1 : len(q)-1])
	}
	b.WriteByte('"')
	for i, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) || ForbiddenInName(r) == "" {
			continue
		}
		flush(i)
		if r <= 0xffff {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		start = i + utf8.RuneLen(r)
	}
	flush(len(s))
	b.WriteByte('"')
	return b.String()
}

// ValidateDisplayName reports whether name is an acceptable display name
// for the given kind of thing ("role name", "capability label", "scheme
// name", ...): valid UTF-8 holding no character ForbiddenInName refuses.
// The empty name is accepted: where a display name is optional, empty
// means none (a role's Title falls back to its ID). The error matches
// ErrInvalidName, names the kind and the name (quoted, its invisible
// characters escaped) and the first refused character by its code point.
func ValidateDisplayName(kind, name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: %s %s is not valid UTF-8", ErrInvalidName, kind, QuoteName(name))
	}
	for _, r := range name {
		if why := ForbiddenInName(r); why != "" {
			return fmt.Errorf("%w: %s %s has %s %U", ErrInvalidName, kind, QuoteName(name), why, r)
		}
	}
	return nil
}
