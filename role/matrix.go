package role

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/orgauthz/orgauthz/internal/strindex"
)

// MaxRoles is the most roles one matrix can hold.
const MaxRoles = 64

// Matrix is an immutable role × capability table: which role holds which
// capability of a catalog. Capabilities not granted are denied.
//
// A Matrix is safe for concurrent use.
type Matrix struct {
	caps   *Catalog
	roles  []Role
	idx    *strindex.Index
	grants []Set // by role position
}

// NewMatrix returns the matrix over caps and roles in which each role holds
// exactly the capabilities grants lists for its ID. It refuses a malformed
// or duplicate role ID, a role name ValidateDisplayName refuses (the error
// matches ErrInvalidRole and ErrInvalidName), a grant to a role not in
// roles, a capability not in caps, and more than MaxRoles roles; the error
// names the fault. A role with
// no entry in grants holds nothing. A nil catalog is refused as
// ErrUnknownCapability: it knows no capability.
func NewMatrix(caps *Catalog, roles []Role, grants map[string][]Capability) (*Matrix, error) {
	if caps == nil {
		return nil, fmt.Errorf("%w: nil capability catalog", ErrUnknownCapability)
	}
	if len(roles) > MaxRoles {
		return nil, fmt.Errorf("%w roles: %d, at most %d", ErrTooMany, len(roles), MaxRoles)
	}
	m := &Matrix{caps: caps, roles: append([]Role(nil), roles...), grants: make([]Set, len(roles))}
	keys := make([]string, len(roles))
	pos := make(map[string]int, len(roles))
	for i, r := range roles {
		if err := ValidateID(r.ID); err != nil {
			return nil, err
		}
		if _, dup := pos[r.ID]; dup {
			return nil, fmt.Errorf("%w: role %q is listed twice", ErrDuplicate, r.ID)
		}
		if r.Rank < 0 {
			return nil, fmt.Errorf("%w %q: negative rank %d", ErrInvalidRole, r.ID, r.Rank)
		}
		if err := ValidateDisplayName("name", r.Name); err != nil {
			return nil, fmt.Errorf("%w %q: %w", ErrInvalidRole, r.ID, err)
		}
		pos[r.ID] = i
		keys[i] = r.ID
	}
	// Sorted, so that of several faults the same one is always reported.
	for _, id := range slices.Sorted(maps.Keys(grants)) {
		list := grants[id]
		i, ok := pos[id]
		if !ok {
			if err := ValidateID(id); err != nil {
				return nil, fmt.Errorf("matrix row: %w", err)
			}
			return nil, fmt.Errorf("%w %q: the matrix grants it capabilities but it is not a defined role", ErrUnknownRole, id)
		}
		s, err := caps.Set(list...)
		if err != nil {
			return nil, fmt.Errorf("matrix row for role %q: %w", id, err)
		}
		m.grants[i] = s
	}
	m.idx = strindex.New(keys)
	return m, nil
}

// Catalog returns the matrix's capability catalog.
func (m *Matrix) Catalog() *Catalog { return m.caps }

// Roles returns a copy of the matrix's roles, in order.
func (m *Matrix) Roles() []Role { return append([]Role(nil), m.roles...) }

// NumRoles returns the number of roles.
func (m *Matrix) NumRoles() int { return len(m.roles) }

// Role returns the role at position i. It panics if i is out of range.
func (m *Matrix) Role(i int) Role { return m.roles[i] }

// RoleIndex returns the position of the role with the given ID, and whether
// there is one.
func (m *Matrix) RoleIndex(id string) (int, bool) { return m.idx.Lookup(id) }

// Grants returns the capabilities held by the role at position i.
func (m *Matrix) Grants(i int) Set { return m.grants[i] }

// Holds reports whether the role with ID roleID holds the capability c.
// Unknown roles and capabilities hold nothing.
func (m *Matrix) Holds(roleID string, c Capability) bool {
	r, ok := m.idx.Lookup(roleID)
	if !ok {
		return false
	}
	ci, ok := m.caps.Index(c)
	return ok && m.grants[r].Has(ci)
}

// Column is an extra column of a rendered table.
type Column struct {
	// Title is the column's header.
	Title string
	// Cell returns the cell for a capability.
	Cell func(Def) string
}

// Label chooses how a rendered table names each capability.
type Label int

const (
	// LabelText names a capability by its label, or its ID when it has none.
	LabelText Label = iota
	// LabelID names a capability by its ID, in code style.
	LabelID
	// LabelIDAndText names a capability by its ID in code style followed by
	// its label.
	LabelIDAndText
)

// RenderOptions tunes Render. The zero value renders every capability in
// catalog order, every role in matrix order, labelled by text, under the
// header "Capability".
type RenderOptions struct {
	// Order lists the capabilities to render as rows, in order; nil means
	// the whole catalog in catalog order.
	Order []Capability
	// Roles lists the role IDs to render as columns, in order; nil means
	// every role in matrix order.
	Roles []string
	// Header is the first header cell; "" means "Capability".
	Header string
	// Label chooses how rows name their capability.
	Label Label
	// Extra columns are appended after the role columns.
	Extra []Column
}

// Render writes the matrix as a Markdown table: a header row naming the
// roles, an alignment row, then one row per capability with ✅ where the
// role holds it and ❌ where it does not. Cell text is escaped ("|" as
// "\|", line breaks as spaces) so it cannot break the table; an Extra
// column with a nil Cell renders empty cells. An unknown capability in
// opts.Order or role in opts.Roles is an error that names it, and nothing
// is written.
func (m *Matrix) Render(w io.Writer, opts RenderOptions) error {
	order := opts.Order
	if order == nil {
		order = make([]Capability, len(m.caps.defs))
		for i, d := range m.caps.defs {
			order[i] = d.ID
		}
	}
	rows := make([]int, len(order))
	for i, c := range order {
		ci, ok := m.caps.Index(c)
		if !ok {
			if err := c.Validate(); err != nil {
				return fmt.Errorf("render: %w", err)
			}
			return fmt.Errorf("render: %w %q", ErrUnknownCapability, c)
		}
		rows[i] = ci
	}
	cols := make([]int, 0, len(m.roles))
	if opts.Roles == nil {
		for i := range m.roles {
			cols = append(cols, i)
		}
	} else {
		for _, id := range opts.Roles {
			ri, ok := m.idx.Lookup(id)
			if !ok {
				return fmt.Errorf("render: %w %q", ErrUnknownRole, id)
			}
			cols = append(cols, ri)
		}
	}
	header := opts.Header
	if header == "" {
		header = "Capability"
	}
	var b strings.Builder
	b.WriteString("| " + cell(header) + " |")
	for _, ri := range cols {
		b.WriteString(" " + cell(m.roles[ri].Title()) + " |")
	}
	for _, x := range opts.Extra {
		b.WriteString(" " + cell(x.Title) + " |")
	}
	b.WriteString("\n|---|")
	for range cols {
		b.WriteString(":-:|")
	}
	for range opts.Extra {
		b.WriteString("---|")
	}
	b.WriteByte('\n')
	for _, ci := range rows {
		d := m.caps.defs[ci]
		b.WriteString("| " + cell(label(d, opts.Label)) + " |")
		for _, ri := range cols {
			if m.grants[ri].Has(ci) {
				b.WriteString(" ✅ |")
			} else {
				b.WriteString(" ❌ |")
			}
		}
		for _, x := range opts.Extra {
			v := ""
			if x.Cell != nil {
				v = x.Cell(d)
			}
			b.WriteString(" " + cell(v) + " |")
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell makes s safe inside a Markdown table cell: a "|" is escaped and line
// breaks become spaces.
func cell(s string) string {
	if !strings.ContainsAny(s, "|\r\n") {
		return s
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

func label(d Def, l Label) string {
	switch {
	case l == LabelID || l == LabelIDAndText && d.Label == "":
		return "`" + string(d.ID) + "`"
	case l == LabelIDAndText:
		return "`" + string(d.ID) + "` " + d.Label
	case d.Label == "":
		return string(d.ID)
	default:
		return d.Label
	}
}
