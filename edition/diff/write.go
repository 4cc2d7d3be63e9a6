package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people: a header naming the schemes and
// saying whether the change is breaking and escalating, then a section per
// kind of change that has any: "Scheme", "Roles", "Capabilities",
// "Editions", "Trials", "Invariants", "Scopes" (a line per thing, "+"
// added, "-" removed, "~" changed, and an indented line per changed
// field), then the
// decisions that change: "Cells" and "Management" and "Operations" by
// edition, "Scope cells" by scope kind, "Eligibility" by edition and kind
// (a line per decision, old → new), and last "Escalations", each line
// marked "!!". A restricting change is tagged [restricts], a relaxing one
// [relaxes]. The output is deterministic.
func (r Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "Scheme %s (%s) → %s (%s)\n", r.Old.ID, r.Old.Name, r.New.ID, r.New.Name)
	if r.Empty() {
		fmt.Fprintln(tw, "No changes.")
	} else {
		fmt.Fprintf(tw, "Breaking: %s. Escalating: %s.\n", yesNo(r.Breaking(), 0), yesNo(r.Escalating(), len(r.Escalations)))
	}
	if len(r.Scheme) > 0 {
		fmt.Fprint(tw, "\nScheme\n")
		for _, f := range r.Scheme {
			fmt.Fprintf(tw, "  ~ %s\n", fieldText(f))
		}
	}
	changes(tw, "Roles", r.Roles, true)
	changes(tw, "Capabilities", r.Capabilities, true)
	changes(tw, "Editions", r.Editions, true)
	changes(tw, "Trials", r.Trials, true)
	changes(tw, "Invariants", r.Invariants, false)
	if len(r.Scopes) > 0 {
		fmt.Fprint(tw, "\nScopes\n")
		for _, sc := range r.Scopes {
			fmt.Fprintf(tw, "  %s %s%s\n", opMark(sc.Op), sc.Kind, removalTag(sc.Op, true))
			for _, f := range sc.Fields {
				fmt.Fprintf(tw, "      %s\n", fieldText(f))
			}
			for _, what := range []struct {
				name string
				list []Change
			}{{"role", sc.Roles}, {"capability", sc.Capabilities}} {
				for _, c := range what.list {
					fmt.Fprintf(tw, "      %s %s %s%s\n", opMark(c.Op), what.name, c.ID, removalTag(c.Op, true))
					for _, f := range c.Fields {
						fmt.Fprintf(tw, "          %s\n", fieldText(f))
					}
				}
			}
		}
	}
	type line struct {
		group string
		cols  []string
		e     Effect
	}
	section := func(title string, lines []line) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(tw, "\n%s\n", title)
		group := "\x00"
		for _, l := range lines {
			if l.group != group {
				group = l.group
				fmt.Fprintf(tw, "  %s\n", group)
			}
			fmt.Fprintf(tw, "    %s\t%s\n", strings.Join(l.cols, "\t"), effectTag(l.e))
		}
	}
	var ls []line
	for _, c := range r.Cells {
		ls = append(ls, line{"edition " + c.Edition, []string{c.Role, string(c.Capability), c.Old.String() + " → " + c.New.String()}, c.Effect})
	}
	section("Cells", ls)
	ls = nil
	for _, c := range r.ScopeCells {
		ls = append(ls, line{"scope " + c.Scope, []string{c.Role, string(c.Capability), c.Old.String() + " → " + c.New.String()}, c.Effect})
	}
	section("Scope cells", ls)
	ls = nil
	for _, c := range r.Eligibility {
		ls = append(ls, line{"edition " + c.Edition + ", scope " + c.Scope, []string{c.OrgRole, "as " + c.ScopeRole, c.Old.String() + " → " + c.New.String()}, c.Effect})
	}
	section("Eligibility", ls)
	ls = nil
	for _, c := range r.Management {
		what := c.Action
		switch {
		case c.Target != "" && c.NewRole != "":
			what += " " + c.Target + " → " + c.NewRole
		case c.Target != "":
			what += " " + c.Target
		case c.NewRole != "":
			what += " as " + c.NewRole
		}
		ls = append(ls, line{"edition " + c.Edition, []string{c.Actor, what, c.Old.String() + " → " + c.New.String()}, c.Effect})
	}
	section("Management", ls)
	ls = nil
	for _, c := range r.Operations {
		g := "edition " + c.Edition
		if c.Scope != "" {
			g = "scope " + c.Scope
		}
		ls = append(ls, line{g, []string{c.Role, c.Operation, c.Old.String() + " → " + c.New.String()}, c.Effect})
	}
	section("Operations", ls)
	if len(r.Escalations) > 0 {
		fmt.Fprint(tw, "\nEscalations\n")
		for _, e := range r.Escalations {
			fmt.Fprintf(tw, "  !! %s: %s\n", e.Kind, e.Detail)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// tabwriter pads the last column of a decision line when its effect
	// tag is empty; drop the trailing spaces.
	var out bytes.Buffer
	for _, l := range strings.SplitAfter(b.String(), "\n") {
		out.WriteString(strings.TrimRight(l, " \n"))
		if strings.HasSuffix(l, "\n") {
			out.WriteByte('\n')
		}
	}
	_, err := w.Write(out.Bytes())
	return err
}

func yesNo(b bool, n int) string {
	switch {
	case !b:
		return "no"
	case n > 0:
		return fmt.Sprintf("yes (%d)", n)
	}
	return "yes"
}

func changes(w io.Writer, title string, list []Change, removalRestricts bool) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", title)
	for _, c := range list {
		fmt.Fprintf(w, "  %s %s%s\n", opMark(c.Op), c.ID, removalTag(c.Op, removalRestricts))
		for _, f := range c.Fields {
			fmt.Fprintf(w, "      %s\n", fieldText(f))
		}
	}
}

func opMark(op Op) string {
	switch op {
	case Added:
		return "+"
	case Removed:
		return "-"
	}
	return "~"
}

func removalTag(op Op, restricts bool) string {
	if op == Removed && restricts {
		return "  " + effectTag(Restricts)
	}
	return ""
}

func effectTag(e Effect) string {
	if e == Neutral || e == "" {
		return ""
	}
	return "[" + string(e) + "]"
}

// fieldText renders a field, e.g. "seats: 5 seats → 3 seats  [restricts]"
// or "capabilities: +billing:view  [relaxes]".
func fieldText(f Field) string {
	var s string
	if f.Added != nil || f.Removed != nil {
		var parts []string
		for _, x := range f.Added {
			parts = append(parts, "+"+x)
		}
		for _, x := range f.Removed {
			parts = append(parts, "-"+x)
		}
		s = f.Name + ": " + strings.Join(parts, " ")
	} else {
		s = f.Name + ": " + none(f.Old) + " → " + none(f.New)
	}
	if t := effectTag(f.Effect); t != "" {
		s += "  " + t
	}
	return s
}

func none(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// MarshalJSON writes the report as a JSON object: "old" and "new" (each
// {"id", "name"}), "empty", "breaking" and "escalating" (what the methods
// of the same names answer), then every list of Report under its JSON
// name, each always present ([] when empty). Within a list, empty
// optional members are omitted. HTML characters are not escaped.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	p := plain(r)
	p.Scheme = nonNil(p.Scheme)
	p.Roles = nonNil(p.Roles)
	p.Capabilities = nonNil(p.Capabilities)
	p.Editions = nonNil(p.Editions)
	p.Trials = nonNil(p.Trials)
	p.Invariants = nonNil(p.Invariants)
	p.Scopes = nonNil(p.Scopes)
	p.Cells = nonNil(p.Cells)
	p.ScopeCells = nonNil(p.ScopeCells)
	p.Eligibility = nonNil(p.Eligibility)
	p.Management = nonNil(p.Management)
	p.Operations = nonNil(p.Operations)
	p.Escalations = nonNil(p.Escalations)
	j := struct {
		Old        SchemeRef `json:"old"`
		New        SchemeRef `json:"new"`
		Empty      bool      `json:"empty"`
		Breaking   bool      `json:"breaking"`
		Escalating bool      `json:"escalating"`
		plain
	}{r.Old, r.New, r.Empty(), r.Breaking(), r.Escalating(), p}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// WriteJSON writes the report's JSON (see MarshalJSON), indented by two
// spaces and ended by a newline.
func (r Report) WriteJSON(w io.Writer) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
