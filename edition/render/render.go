// Package render writes a scheme's tables for people and spreadsheets: the
// organization role × capability matrix of each edition, and the role ×
// capability matrix of each scope kind, as Markdown, HTML or CSV.
//
// Cells are what the policy package decides, in the style of the products'
// own role tables: ✅ (Allowed) where policy.Decide (or, for a scope,
// policy.DecideScope) allows, ❌ (Denied) where it denies, and — (NotOffered)
// in the column of a role that the edition does not offer. Rows are the
// capabilities in catalog order, named by their labels (their IDs when they
// have none); columns are the roles in the scheme's order, the external
// standing included, titled by their display names (IDs in CSV).
//
// Output is deterministic: the same scheme always renders to the same bytes.
// Nothing is written when an error is returned.
package render

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
)

// The cells of a rendered table.
const (
	// Allowed marks a cell policy allows.
	Allowed = "✅"
	// Denied marks a cell policy denies.
	Denied = "❌"
	// NotOffered marks every cell of a role the edition does not offer
	// (policy denies them with policy.ReasonRoleNotInEdition).
	NotOffered = "—"
)

// Format is an output format.
type Format int

// The formats.
const (
	// Markdown renders GitHub-flavoured Markdown: a heading per table, a
	// short description, and a pipe table with centred role columns.
	Markdown Format = iota
	// HTML renders a fragment: a <section> holding a heading, a short
	// description and a <table> per table, every text escaped. Each
	// decided cell carries its policy.Reason in a title attribute.
	HTML
	// CSV renders one table (RFC 4180, one header row) for all editions
	// or all scope kinds, with a column saying which each row is about.
	CSV
)

// ErrUnknownFormat is matched by errors about a Format that is none of the
// formats, or a name ParseFormat does not know.
var ErrUnknownFormat = errors.New("unknown format")

var formatNames = [...]string{Markdown: "markdown", HTML: "html", CSV: "csv"}

// String returns the format's name: "markdown", "html" or "csv".
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat returns the format named s: "markdown" (or "md"), "html" or
// "csv", in any case. Any other name is an error matching ErrUnknownFormat.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "markdown", "md":
		return Markdown, nil
	case "html":
		return HTML, nil
	case "csv":
		return CSV, nil
	}
	return 0, fmt.Errorf("%w %q: want markdown, html or csv", ErrUnknownFormat, s)
}

// MarshalText returns the format's name, so that a Format can be a flag
// (flag.TextVar) or a configuration value.
func (f Format) MarshalText() ([]byte, error) {
	if !f.valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnknownFormat, int(f))
	}
	return []byte(f.String()), nil
}

// UnmarshalText sets f from a name ParseFormat accepts.
func (f *Format) UnmarshalText(text []byte) error {
	g, err := ParseFormat(string(text))
	if err != nil {
		return err
	}
	*f = g
	return nil
}

func (f Format) valid() bool { return f >= Markdown && f <= CSV }

// document is what Matrix and Scopes render, whatever the format: a title
// and tables.
type document struct {
	title, id string
	class     string // the HTML class of the outer section
	empty     string // the sentence for a document without tables
	tables    []table
	editions  bool     // the tables have an Editions column (Matrix)
	csvFirst  string   // CSV: the column saying which table a row is of
	csvRoles  []string // CSV: the role columns, by ID
}

// table is one table: an edition's, or a scope kind's.
type table struct {
	id, title string   // what it is about (edition ID, scope kind) and its display name
	notes     []string // sentences describing it, plain text
	roles     []role.Role
	rows      []row
}

// row is one capability's row.
type row struct {
	def   role.Def
	marks map[string]mark // by role ID
	// offeredIn names the editions offering the capability ("all" when
	// every edition does), offeredIDs lists their IDs (Matrix only).
	offeredIn, offeredIDs string
}

type mark struct {
	text   string // Allowed, Denied or NotOffered
	reason policy.Reason
}

// Matrix writes the organization matrix of s: one table per edition, in
// the scheme's order. Rows are the capabilities in catalog order; there is
// a column per role (the external standing included); a cell is Allowed
// where policy.Decide allows the role the capability in that edition,
// Denied where it denies, and NotOffered throughout the column of a role
// the edition does not offer, which the table's description also names.
// A column Editions marks the edition-gated capabilities: it says "all"
// for a capability every edition offers, and otherwise lists the editions
// that offer it.
//
// Markdown and HTML describe each edition by its seat limit, whether it
// is the default, and its trial if it may be trialled ("may be trialled
// for up to 30 days from Starter"), and add the capability's ID in a last
// column.
//
// CSV has one header row, edition,capability,label, a column per role
// (its ID), then offered_in (the IDs of the editions offering the
// capability, always listed, separated by spaces); and a row per edition
// and capability, in that order. The columns are positional: a role's ID
// may equal a fixed column's name.
func Matrix(w io.Writer, s *edition.Scheme, f Format) error {
	if err := check(s, f); err != nil {
		return err
	}
	roles := s.Roles()
	doc := document{title: s.Name(), id: s.ID(), class: "orgauthz-matrix", editions: true, csvFirst: "edition"}
	for _, r := range roles {
		doc.csvRoles = append(doc.csvRoles, r.ID)
	}
	eds := s.Editions()
	for _, e := range eds {
		t := table{id: e.ID(), title: e.Name(), roles: roles}
		note := e.Seats().String()
		note = strings.ToUpper(note[:1]) + note[1:] // "Unlimited seats"
		if e == s.DefaultEdition() {
			note += "; the default edition"
		}
		if tr, ok := s.Trial(e.ID()); ok {
			note += "; " + trialText(s, tr)
		}
		t.notes = append(t.notes, note+".")
		var missing []string
		for ri, r := range roles {
			if !e.OffersRole(ri) {
				missing = append(missing, r.Title())
			}
		}
		if len(missing) > 0 {
			t.notes = append(t.notes, fmt.Sprintf("Not offered in this edition: %s (%s).", strings.Join(missing, ", "), NotOffered))
		}
		for ci, def := range s.Catalog().All() {
			rw := row{def: def, marks: make(map[string]mark, len(roles))}
			for ri, r := range roles {
				d := policy.DecideAt(s, e, ri, ci)
				m := mark{text: Denied, reason: d.Reason}
				switch {
				case d.Allowed:
					m.text = Allowed
				case d.Reason == policy.ReasonRoleNotInEdition:
					m.text = NotOffered
				}
				rw.marks[r.ID] = m
			}
			var names, ids []string
			for _, o := range eds {
				if o.OffersCapability(ci) {
					names, ids = append(names, o.Name()), append(ids, o.ID())
				}
			}
			rw.offeredIn, rw.offeredIDs = "all", strings.Join(ids, " ")
			if len(ids) < len(eds) {
				rw.offeredIn = strings.Join(names, ", ")
			}
			t.rows = append(t.rows, rw)
		}
		doc.tables = append(doc.tables, t)
	}
	return write(w, doc, f)
}

// trialText describes trial t of s, e.g. "may be trialled for up to 30
// days from Starter".
func trialText(s *edition.Scheme, t edition.TrialSpec) string {
	const day = 24 * time.Hour
	d := t.MaxDuration
	var dur string
	switch {
	case d == day:
		dur = "1 day"
	case d%day == 0:
		dur = fmt.Sprintf("%d days", d/day)
	case d == time.Hour:
		dur = "1 hour"
	case d%time.Hour == 0:
		dur = fmt.Sprintf("%d hours", d/time.Hour)
	default:
		dur = d.String()
	}
	from := "any other edition"
	if len(t.From) > 0 {
		names := make([]string, len(t.From))
		for i, id := range t.From {
			names[i] = id
			if e, ok := s.Edition(id); ok {
				names[i] = e.Name()
			}
		}
		from = strings.Join(names, " or ")
		if len(names) > 2 {
			from = strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
		}
	}
	return "may be trialled for up to " + dur + " from " + from
}

// Scopes writes the matrix of each of the scheme's scope kinds, in the
// scheme's order: rows are the kind's capabilities in catalog order, a
// column per scope role, and a cell Allowed where policy.DecideScope
// allows the role the capability, Denied where it denies. Scope decisions
// do not depend on the edition. A scheme without scope kinds renders a
// sentence saying so (CSV: the header row alone).
//
// Markdown and HTML describe each kind (its creator and default roles,
// the holders each resource must keep, the organization roles that hold a
// scope role on every resource, who is eligible for which role, whether
// principals outside the organization may be added) and add the
// capability's ID in a last column.
//
// CSV has one header row, scope,capability,label, then a column per scope
// role ID of all the kinds (in order of first appearance); and a row per
// kind and capability, which leaves empty the columns of roles its kind
// does not have.
func Scopes(w io.Writer, s *edition.Scheme, f Format) error {
	if err := check(s, f); err != nil {
		return err
	}
	doc := document{
		title: s.Name() + ": scopes", id: s.ID(), class: "orgauthz-scopes",
		empty: "The scheme has no scope kinds.", csvFirst: "scope",
	}
	seen := map[string]bool{}
	for _, sc := range s.Scopes() {
		m := sc.Matrix()
		t := table{id: sc.Kind(), title: sc.Name(), notes: scopeNotes(s, sc), roles: m.Roles()}
		for _, r := range t.roles {
			if !seen[r.ID] {
				seen[r.ID] = true
				doc.csvRoles = append(doc.csvRoles, r.ID)
			}
		}
		for _, def := range m.Catalog().All() {
			rw := row{def: def, marks: make(map[string]mark, len(t.roles))}
			for _, r := range t.roles {
				d := policy.DecideScope(s, sc.Kind(), r.ID, def.ID)
				mk := mark{text: Denied, reason: d.Reason}
				if d.Allowed {
					mk.text = Allowed
				}
				rw.marks[r.ID] = mk
			}
			t.rows = append(t.rows, rw)
		}
		doc.tables = append(doc.tables, t)
	}
	return write(w, doc, f)
}

func check(s *edition.Scheme, f Format) error {
	if s == nil {
		return fmt.Errorf("render: %w: nil scheme", edition.ErrUnknownScheme)
	}
	if !f.valid() {
		return fmt.Errorf("render: %w: %d", ErrUnknownFormat, int(f))
	}
	return nil
}

// scopeNotes describes a scope kind in a few plain sentences.
func scopeNotes(s *edition.Scheme, sc *edition.Scope) []string {
	m := sc.Matrix()
	title := func(id string) string {
		i, _ := m.RoleIndex(id)
		return m.Role(i).Title()
	}
	notes := []string{fmt.Sprintf("A resource's creator gets %s; a principal added without a role named gets %s.", title(sc.CreatorRole()), title(sc.DefaultRole()))}
	var min []string
	for i, r := range m.Roles() {
		if n := sc.MinHolders(i); n > 0 {
			min = append(min, fmt.Sprintf("%d %s", n, r.Title()))
		}
	}
	if len(min) > 0 {
		notes = append(notes, "Each resource keeps at least "+strings.Join(min, ", ")+".")
	}
	orgRoles := s.Roles()
	var implicit []string
	for oi, or := range orgRoles {
		if ri, ok := sc.ImplicitRole(oi); ok {
			implicit = append(implicit, fmt.Sprintf("%s as %s", or.Title(), m.Role(ri).Title()))
		}
	}
	if len(implicit) > 0 {
		notes = append(notes, "On every resource without being added: "+strings.Join(implicit, ", ")+".")
	}
	var elig []string
	for ri, r := range m.Roles() {
		var cond []string
		if ci, ok := sc.EligibleCapability(ri); ok {
			cond = append(cond, "an organization role holding "+string(s.Catalog().Def(ci).ID))
		}
		var only []string
		for oi, or := range orgRoles {
			if sc.EligibleRole(ri, oi) {
				only = append(only, or.Title())
			}
		}
		if len(only) < len(orgRoles) {
			cond = append(cond, "only "+strings.Join(only, ", "))
		}
		if len(cond) > 0 {
			elig = append(elig, r.Title()+" needs "+strings.Join(cond, " and "))
		}
	}
	if len(elig) > 0 {
		notes = append(notes, strings.Join(elig, "; ")+".")
	}
	if sc.AllowsExternal() {
		i, _ := s.RoleIndex(s.ExternalRole())
		notes = append(notes, fmt.Sprintf("Principals outside the organization may be added; they stand as %s in it.", orgRoles[i].Title()))
	}
	return notes
}

func labelOf(d role.Def) string {
	if d.Label != "" {
		return d.Label
	}
	return string(d.ID)
}

// write renders doc in format f to w, in one Write.
func write(w io.Writer, doc document, f Format) error {
	var b bytes.Buffer
	switch f {
	case Markdown:
		writeMarkdown(&b, doc)
	case HTML:
		writeHTML(&b, doc)
	case CSV:
		if err := writeCSV(&b, doc); err != nil {
			return fmt.Errorf("render: %w", err)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeMarkdown(b *bytes.Buffer, doc document) {
	fmt.Fprintf(b, "# %s (`%s`)\n", mdText(doc.title), doc.id)
	if len(doc.tables) == 0 {
		fmt.Fprintf(b, "\n%s\n", doc.empty)
	}
	for _, t := range doc.tables {
		fmt.Fprintf(b, "\n## %s (`%s`)\n\n", mdText(t.title), t.id)
		for _, n := range t.notes {
			b.WriteString("- " + mdText(n) + "\n")
		}
		b.WriteString("\n| Capability |")
		for _, r := range t.roles {
			b.WriteString(" " + mdCell(r.Title()) + " |")
		}
		if doc.editions {
			b.WriteString(" Editions |")
		}
		b.WriteString(" ID |\n|---|")
		for range t.roles {
			b.WriteString(":-:|")
		}
		if doc.editions {
			b.WriteString("---|")
		}
		b.WriteString("---|\n")
		for _, r := range t.rows {
			b.WriteString("| " + mdCell(labelOf(r.def)) + " |")
			for _, ro := range t.roles {
				b.WriteString(" " + r.marks[ro.ID].text + " |")
			}
			if doc.editions {
				b.WriteString(" " + mdCell(r.offeredIn) + " |")
			}
			b.WriteString(" `" + string(r.def.ID) + "` |\n")
		}
	}
}

// mdCell makes s safe inside a Markdown table cell: "|" is escaped and a
// line break becomes a space (display names and labels hold none: the
// role package refuses control characters).
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// mdText makes s safe as one line of Markdown text.
func mdText(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

func writeHTML(b *bytes.Buffer, doc document) {
	e := html.EscapeString
	fmt.Fprintf(b, "<section class=\"%s\" data-scheme=\"%s\">\n", doc.class, e(doc.id))
	fmt.Fprintf(b, "<h1>%s <code>%s</code></h1>\n", e(doc.title), e(doc.id))
	if len(doc.tables) == 0 {
		fmt.Fprintf(b, "<p>%s</p>\n", e(doc.empty))
	}
	for _, t := range doc.tables {
		fmt.Fprintf(b, "<section data-id=\"%s\">\n", e(t.id))
		fmt.Fprintf(b, "<h2>%s <code>%s</code></h2>\n", e(t.title), e(t.id))
		b.WriteString("<ul>\n")
		for _, n := range t.notes {
			fmt.Fprintf(b, "<li>%s</li>\n", e(n))
		}
		b.WriteString("</ul>\n<table>\n<thead>\n<tr><th scope=\"col\">Capability</th>")
		for _, r := range t.roles {
			fmt.Fprintf(b, "<th scope=\"col\">%s</th>", e(r.Title()))
		}
		if doc.editions {
			b.WriteString("<th scope=\"col\">Editions</th>")
		}
		b.WriteString("<th scope=\"col\">ID</th></tr>\n</thead>\n<tbody>\n")
		for _, r := range t.rows {
			fmt.Fprintf(b, "<tr><th scope=\"row\">%s</th>", e(labelOf(r.def)))
			for _, ro := range t.roles {
				m := r.marks[ro.ID]
				fmt.Fprintf(b, "<td title=\"%s\">%s</td>", e(m.reason.String()), m.text)
			}
			if doc.editions {
				fmt.Fprintf(b, "<td>%s</td>", e(r.offeredIn))
			}
			fmt.Fprintf(b, "<td><code>%s</code></td></tr>\n", e(string(r.def.ID)))
		}
		b.WriteString("</tbody>\n</table>\n</section>\n")
	}
	b.WriteString("</section>\n")
}

func writeCSV(b *bytes.Buffer, doc document) error {
	cw := csv.NewWriter(b)
	hdr := append([]string{doc.csvFirst, "capability", "label"}, doc.csvRoles...)
	if doc.editions {
		hdr = append(hdr, "offered_in")
	}
	if err := cw.Write(hdr); err != nil {
		return err
	}
	for _, t := range doc.tables {
		for _, r := range t.rows {
			rec := []string{t.id, string(r.def.ID), r.def.Label}
			for _, id := range doc.csvRoles {
				rec = append(rec, r.marks[id].text) // "" for a role the kind lacks
			}
			if doc.editions {
				rec = append(rec, r.offeredIDs)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
