package role

import (
	"errors"
	"fmt"
	"iter"

	"github.com/orgauthz/orgauthz/internal/strindex"
)

// ErrDuplicate is matched by errors about an ID given twice.
var ErrDuplicate = errors.New("duplicate ID")

// ErrUnknownCapability is matched by errors about a capability ID that is
// well formed but not in the catalog at hand.
var ErrUnknownCapability = errors.New("unknown capability")

// ErrUnknownRole is matched by errors about a role ID that is well formed
// but not defined where it is used.
var ErrUnknownRole = errors.New("unknown role")

// ErrTooMany is matched by errors about a catalog or role list over its
// limit (MaxCapabilities, MaxRoles).
var ErrTooMany = errors.New("too many")

// Catalog is an ordered, immutable list of capabilities, each with a
// position: the bit it takes in a Set. Looking an ID up is fast (a few
// nanoseconds) and does not allocate.
//
// A Catalog is safe for concurrent use.
type Catalog struct {
	defs []Def
	idx  *strindex.Index
}

// NewCatalog returns a catalog of defs, in the given order. It refuses a
// malformed or duplicate ID, a label ValidateDisplayName refuses (the error
// matches ErrInvalidName), and more than MaxCapabilities entries.
func NewCatalog(defs ...Def) (*Catalog, error) {
	if len(defs) > MaxCapabilities {
		return nil, fmt.Errorf("%w capabilities: %d, at most %d", ErrTooMany, len(defs), MaxCapabilities)
	}
	seen := make(map[Capability]bool, len(defs))
	keys := make([]string, len(defs))
	for i, d := range defs {
		if err := d.ID.Validate(); err != nil {
			return nil, err
		}
		if seen[d.ID] {
			return nil, fmt.Errorf("%w: capability %q is listed twice", ErrDuplicate, d.ID)
		}
		if err := ValidateDisplayName("label", d.Label); err != nil {
			return nil, fmt.Errorf("capability %q: %w", d.ID, err)
		}
		seen[d.ID] = true
		keys[i] = string(d.ID)
	}
	return &Catalog{defs: append([]Def(nil), defs...), idx: strindex.New(keys)}, nil
}

// Len returns the number of capabilities in c.
func (c *Catalog) Len() int { return len(c.defs) }

// Index returns the position of id in c and whether it is there.
func (c *Catalog) Index(id Capability) (int, bool) {
	return c.idx.Lookup(string(id))
}

// Def returns the capability at position i. It panics if i is out of range.
func (c *Catalog) Def(i int) Def { return c.defs[i] }

// Defs returns a copy of the catalog's entries, in order.
func (c *Catalog) Defs() []Def { return append([]Def(nil), c.defs...) }

// All yields each position and capability, in order.
func (c *Catalog) All() iter.Seq2[int, Def] {
	return func(yield func(int, Def) bool) {
		for i, d := range c.defs {
			if !yield(i, d) {
				return
			}
		}
	}
}

// Set returns the set of the given IDs. The error matches
// ErrUnknownCapability and names the first ID not in c.
func (c *Catalog) Set(ids ...Capability) (Set, error) {
	var s Set
	for _, id := range ids {
		i, ok := c.Index(id)
		if !ok {
			if err := id.Validate(); err != nil {
				return Set{}, err
			}
			return Set{}, fmt.Errorf("%w %q", ErrUnknownCapability, id)
		}
		s = s.With(i)
	}
	return s, nil
}

// IDs returns the IDs of the positions in s, in catalog order. Positions
// beyond the catalog are ignored.
func (c *Catalog) IDs(s Set) []Capability {
	out := make([]Capability, 0, s.Len())
	for i := range s.All() {
		if i < len(c.defs) {
			out = append(out, c.defs[i].ID)
		}
	}
	return out
}

// Full returns the set of every capability in c.
func (c *Catalog) Full() Set {
	var s Set
	for i := range c.defs {
		s = s.With(i)
	}
	return s
}
