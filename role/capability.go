package role

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrInvalidCapability is matched by every error about a malformed
// capability ID.
var ErrInvalidCapability = errors.New("invalid capability ID")

// ErrInvalidRole is matched by every error about a malformed role.
var ErrInvalidRole = errors.New("invalid role")

// ErrInvalidID is matched by every error about another malformed
// identifier: a scheme, edition or scope kind (see ValidateName).
var ErrInvalidID = errors.New("invalid ID")

// MaxIDLen is the longest capability or role ID accepted, in bytes.
const MaxIDLen = 128

// Capability is a capability ID of the form resource:action, such as
// "job_runs:create" or "organization/settings:manage".
//
// The resource is one or more segments separated by "/", the action one
// segment; each segment starts with a lower-case letter followed by
// lower-case letters, digits or underscores.
type Capability string

// Validate reports whether c is a well-formed capability ID. The error
// matches ErrInvalidCapability and names the ID and what is wrong with it.
func (c Capability) Validate() error {
	if why := c.problem(); why != "" {
		return fmt.Errorf("%w %s: %s", ErrInvalidCapability, QuoteName(string(c)), why)
	}
	return nil
}

func (c Capability) problem() string {
	s := string(c)
	switch {
	case s == "":
		return "empty"
	case len(s) > MaxIDLen:
		return fmt.Sprintf("longer than %d bytes", MaxIDLen)
	}
	res, act, ok := strings.Cut(s, ":")
	if !ok {
		return `missing ":" between resource and action`
	}
	if strings.Contains(act, ":") {
		return `more than one ":"`
	}
	if res == "" {
		return "empty resource"
	}
	if act == "" {
		return "empty action"
	}
	for _, seg := range strings.Split(res, "/") {
		if why := segmentProblem(seg); why != "" {
			return "resource " + why
		}
	}
	if why := segmentProblem(act); why != "" {
		return "action " + why
	}
	return ""
}

// segmentProblem describes what is wrong with one segment of an ID, or
// returns "".
func segmentProblem(seg string) string {
	if seg == "" {
		return `has an empty segment (doubled or trailing "/")`
	}
	for i := 0; i < len(seg); i++ {
		b := seg[i]
		switch {
		case b >= 'a' && b <= 'z':
		case i > 0 && (b >= '0' && b <= '9' || b == '_'):
		case b >= 'A' && b <= 'Z':
			return fmt.Sprintf("segment %q has upper-case %q (IDs are lower case)", seg, rune(b))
		case i == 0:
			return fmt.Sprintf("segment %q must start with a letter a-z", seg)
		default:
			r, _ := utf8.DecodeRuneInString(seg[i:])
			if why := ForbiddenInName(r); why != "" {
				return fmt.Sprintf("segment %s has %s %U (allowed: a-z, 0-9, _)", QuoteName(seg), why, r)
			}
			return fmt.Sprintf("segment %q has %q (allowed: a-z, 0-9, _)", seg, r)
		}
	}
	return ""
}

// Resource returns the part of c before the colon, or "" when there is none.
func (c Capability) Resource() string {
	res, _, _ := strings.Cut(string(c), ":")
	return res
}

// Action returns the part of c after the colon, or "" when there is none.
func (c Capability) Action() string {
	_, act, _ := strings.Cut(string(c), ":")
	return act
}

// Def is a capability in a catalog: its ID and a human label, such as the
// row title a product's documentation gives it.
type Def struct {
	ID Capability
	// Label may hold no character ForbiddenInName refuses (NewCatalog
	// checks); empty means none.
	Label string
}

// Role is a role an organization member (or a scope member) can hold.
type Role struct {
	// ID is the stable identifier stored with members, e.g. "admin".
	// It follows the segment rule of capability IDs: a lower-case letter,
	// then lower-case letters, digits or underscores.
	ID string
	// Name is the display name, e.g. "Admin". It defaults to ID. It may hold
	// no character ForbiddenInName refuses (NewMatrix checks).
	Name string
	// Rank orders roles: a higher rank outranks a lower one. Management rules
	// compare ranks; ranks need not be distinct.
	Rank int
}

// Title returns the role's display name, or its ID when it has none.
func (r Role) Title() string {
	if r.Name != "" {
		return r.Name
	}
	return r.ID
}

// ValidateName reports whether id is a well-formed identifier of the given
// kind ("scheme", "edition", "scope kind", ...): the rule of role IDs. The
// error matches ErrInvalidID and names the kind, the ID and what is wrong.
func ValidateName(kind, id string) error {
	why := ""
	switch {
	case id == "":
		why = "empty"
	case len(id) > MaxIDLen:
		why = fmt.Sprintf("longer than %d bytes", MaxIDLen)
	default:
		why = segmentProblem(id)
	}
	if why != "" {
		return fmt.Errorf("%w: %s %s: %s", ErrInvalidID, kind, QuoteName(id), why)
	}
	return nil
}

// ValidateID reports whether id is a well-formed role ID. The error matches
// ErrInvalidRole and says what is wrong.
func ValidateID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty ID", ErrInvalidRole)
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("%w %q: longer than %d bytes", ErrInvalidRole, id, MaxIDLen)
	}
	if why := segmentProblem(id); why != "" {
		return fmt.Errorf("%w %s: %s", ErrInvalidRole, QuoteName(id), why)
	}
	return nil
}
