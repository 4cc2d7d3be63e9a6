package schemefile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/schemefile"
)

// base is a valid scheme; each case below changes it a little. Line
// numbers are in the comments.
const base = `id: notes
roles:
  - {id: editor, rank: 2}
  - {id: reader, rank: 1}
capabilities:
  - {id: 'notes:read'}
  - {id: 'notes:write'}
  - {id: 'members:invite'}
matrix:
  editor: [notes:read, notes:write, members:invite]
  reader: [notes:read]
editions:
  - {id: free, seats: {max: 3}}
  - {id: pro}
capability_editions:
  notes:write: [free, pro]
creator_role: editor
invite_role: reader
invariants:
  - {role: editor, min: 1}
management:
  invite: members:invite
`

//  1 id: notes
//  2 roles:
//  3   - {id: editor, rank: 2}
//  4   - {id: reader, rank: 1}
//  5 capabilities:
//  6   - {id: 'notes:read'}
//  7   - {id: 'notes:write'}
//  8   - {id: 'members:invite'}
//  9 matrix:
// 10   editor: [notes:read, notes:write, members:invite]
// 11   reader: [notes:read]
// 12 editions:
// 13   - {id: free, seats: {max: 3}}
// 14   - {id: pro}
// 15 capability_editions:
// 16   notes:write: [free, pro]
// 17 creator_role: editor
// 18 invite_role: reader
// 19 invariants:
// 20   - {role: editor, min: 1}
// 21 management:
// 22   invite: members:invite

const scope = `scopes:
  - kind: doc
    roles: [{id: owner, rank: 2}, {id: viewer, rank: 1}]
    capabilities: [{id: 'doc:edit'}]
    matrix: {owner: ['doc:edit']}
    creator_role: owner
    create: notes:write
    eligibility:
      - {scope_role: owner, org_roles: [editor]}
    implicit: {editor: owner}
`

// 23 scopes:
// 24   - kind: doc
// 25     roles: [{id: owner, rank: 2}, {id: viewer, rank: 1}]
// 26     capabilities: [{id: 'doc:edit'}]
// 27     matrix: {owner: ['doc:edit']}
// 28     creator_role: owner
// 29     create: notes:write
// 30     eligibility:
// 31       - {scope_role: owner, org_roles: [editor]}
// 32     implicit: {editor: owner}

// trials returns a trials section of one trial, at lines 23 and 24:
//
//	23 trials:
//	24   - {edition: pro, max_duration: 720h, from: [free]}
func trials(ed, max, from string) string {
	return "trials:\n  - {edition: " + ed + ", max_duration: " + max + ", from: " + from + "}\n"
}

func TestBaseBuilds(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{base, base + scope, base + trials("pro", "720h", "[free]") + "organization: {trial: members:invite}\n"} {
		s, err := schemefile.Build("notes.yaml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if s.ID() != "notes" {
			t.Errorf("ID %q", s.ID())
		}
	}
}

// change applies old→new replacements to doc; each old must be there.
func change(t *testing.T, doc string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(doc, pairs[i]) {
			t.Fatalf("%q is not in the document", pairs[i])
		}
		doc = strings.Replace(doc, pairs[i], pairs[i+1], 1)
	}
	return doc
}

type errCase struct {
	name      string
	doc       string
	line, col int
	msg       string  // the error's message holds it
	is        []error // and it matches these, besides ErrInvalid
}

func checkErr(t *testing.T, file string, tt errCase, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", tt.name)
	}
	if !errors.Is(err, schemefile.ErrInvalid) {
		t.Errorf("%s: %v does not match ErrInvalid", tt.name, err)
	}
	for _, target := range tt.is {
		if !errors.Is(err, target) {
			t.Errorf("%s: %v does not match %v", tt.name, err, target)
		}
	}
	var e *schemefile.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: %T is no *Error", tt.name, err)
	}
	if e.File != file || e.Line != tt.line || e.Column != tt.col {
		t.Errorf("%s: at %s:%d:%d, want %s:%d:%d (%v)", tt.name, e.File, e.Line, e.Column, file, tt.line, tt.col, err)
	}
	if !strings.HasPrefix(err.Error(), file+":") || !strings.Contains(err.Error(), tt.msg) {
		t.Errorf("%s: %q, want file:line:col and %q", tt.name, err, tt.msg)
	}
}

// TestFormErrors: errors of the file's form, from Parse (and so Build).
func TestFormErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []errCase{
		{name: "syntax error", doc: change(t, base, "members:invite]\n", "members:invite]]\n"),
			line: 10, col: 52, msg: "YAML syntax error: did not find expected key"},
		{name: "syntax error: unterminated string", doc: change(t, base, "id: notes", `id: "notes`),
			line: 1, col: 5, msg: "YAML syntax error: found unexpected end of stream"},
		{name: "syntax error: bad indentation", doc: change(t, base, "invite_role: reader", " invite_role: reader"),
			line: 18, col: 13, msg: "YAML syntax error: mapping values are not allowed in this context"},
		{name: "syntax error: tab", doc: change(t, base, "  reader: [notes:read]", "\treader: [notes:read]"),
			line: 11, col: 1, msg: "YAML syntax error: found character that cannot start any token"},
		{name: "unknown field", doc: change(t, base, "{id: editor, rank: 2}", "{id: editor, rank: 2, colour: red}"),
			line: 3, col: 27, msg: `roles[0]: unknown field "colour" (known: id, name, rank)`},
		{name: "unknown field, a typo", doc: change(t, base, "invite_role:", "invite_rol:"),
			line: 18, col: 1, msg: `top level: unknown field "invite_rol" (did you mean "invite_role"?)`},
		{name: "wrong type", doc: change(t, base, "{max: 3}", "{max: three}"),
			line: 13, col: 29, msg: `editions[0].seats.max: want an integer, got the string "three"`},
		{name: "wrong type: a list for a mapping", doc: change(t, base, "  invite: members:invite", "  - members:invite"),
			line: 22, col: 3, msg: "management: want a mapping, got a list"},
		{name: "wrong type: a number for a string", doc: change(t, base, "id: notes", "id: 42"),
			line: 1, col: 5, msg: "id: want a string, got the integer 42 (quote it to make it a string)"},
		{name: "wrong type: yes for a boolean", doc: change(t, base, "{max: 3}", "{max: 3, overridable: yes}"),
			line: 13, col: 45, msg: `editions[0].seats.overridable: want true or false, got the string "yes"`},
		{name: "duplicate key", doc: change(t, base, "invite_role: reader\n", "invite_role: reader\ncreator_role: reader\n"),
			line: 19, col: 1, msg: `top level: duplicate key "creator_role" (first at line 17, column 1)`},
		{name: "duplicate key in the matrix", doc: change(t, base, "  reader: [notes:read]\n", "  reader: [notes:read]\n  editor: []\n"),
			line: 12, col: 3, msg: `matrix: duplicate key "editor" (first at line 10, column 3)`},
		{name: "a second document", doc: base + "---\nid: other\n",
			line: 23, col: 1, msg: "a second YAML document"},
		{name: "empty", doc: "# nothing\n", line: 2, col: 1, msg: "empty file"},
		{name: "merge key", doc: base + "keys: {<<: {own: 'notes:read'}}\n",
			line: 23, col: 8, msg: "keys: merge keys (<<) are not supported"},
		{name: "custom tag", doc: change(t, base, "id: notes", "id: !secret notes"),
			line: 1, col: 5, msg: "id: tag !secret is not supported"},
		{name: "malformed duration", doc: base + trials("pro", "30d", "[free]"),
			line: 24, col: 34, msg: `trials[0].max_duration: "30d" is not a duration`},
		{name: "duration as a number", doc: base + trials("pro", "720", "[free]"),
			line: 24, col: 34, msg: `trials[0].max_duration: want a duration ("720h"), got the integer 720`},
	} {
		_, err := schemefile.Parse("notes.yaml", []byte(tt.doc))
		checkErr(t, "notes.yaml", tt, err)
		_, err = schemefile.Build("notes.yaml", []byte(tt.doc))
		checkErr(t, "notes.yaml", tt, err)
	}
}

// TestSchemeErrors: errors of edition.NewScheme, at the node they are
// about, NewScheme's error wrapped.
func TestSchemeErrors(t *testing.T) {
	t.Parallel()
	invalid := edition.ErrInvalidScheme
	withScope := base + scope
	for _, tt := range []errCase{
		{name: "matrix names an unknown role", doc: change(t, base, "  reader: [notes:read]", "  raeder: [notes:read]"),
			line: 11, col: 3, msg: `unknown role "raeder"`, is: []error{invalid, role.ErrUnknownRole}},
		{name: "gate names an unknown edition", doc: change(t, base, "[free, pro]", "[free, premium]"),
			line: 16, col: 23, msg: `names edition "premium"`, is: []error{invalid, edition.ErrUnknownEdition}},
		{name: "invariant on an unknown role", doc: change(t, base, "{role: editor, min: 1}", "{role: editr, min: 1}"),
			line: 20, col: 12, msg: `names role "editr"`, is: []error{invalid, role.ErrUnknownRole}},
		{name: "gate names an unknown capability", doc: change(t, base, "  notes:write: [free, pro]", "  notes:delete: [free, pro]"),
			line: 16, col: 3, msg: `names capability "notes:delete"`, is: []error{invalid, role.ErrUnknownCapability}},
		{name: "matrix row names an unknown capability", doc: change(t, base, "  reader: [notes:read]", "  reader: [notes:read, notes:delete]"),
			line: 11, col: 24, msg: `unknown capability "notes:delete"`, is: []error{invalid, role.ErrUnknownCapability}},
		{name: "malformed capability", doc: change(t, base, "{id: 'notes:write'}", "{id: 'Notes:write'}"),
			line: 7, col: 10, msg: `invalid capability ID "Notes:write"`, is: []error{invalid, role.ErrInvalidCapability}},
		{name: "duplicate capability", doc: change(t, base, "{id: 'notes:write'}", "{id: 'notes:read'}"),
			line: 7, col: 10, msg: `capability "notes:read" is listed twice`, is: []error{invalid, role.ErrDuplicate}},
		{name: "duplicate role", doc: change(t, base, "{id: reader, rank: 1}", "{id: editor, rank: 1}"),
			line: 4, col: 10, msg: `role "editor" is listed twice`, is: []error{invalid, role.ErrDuplicate}},
		{name: "negative rank", doc: change(t, base, "{id: reader, rank: 1}", "{id: reader, rank: -1}"),
			line: 4, col: 24, msg: "negative rank", is: []error{invalid, role.ErrInvalidRole}},
		{name: "label with a bidirectional override", doc: change(t, base, "{id: 'notes:read'}", "{id: 'notes:read', label: \"Read\u202e\"}"),
			line: 6, col: 31, msg: "format character", is: []error{invalid, role.ErrInvalidName}},
		{name: "no creator role", doc: change(t, base, "creator_role: editor\n", ""),
			line: 1, col: 1, msg: "CreatorRole is required", is: []error{invalid}},
		{name: "unknown creator role", doc: change(t, base, "creator_role: editor", "creator_role: boss"),
			line: 17, col: 15, msg: `CreatorRole names role "boss"`, is: []error{invalid, role.ErrUnknownRole}},
		{name: "unknown invite capability", doc: change(t, base, "invite: members:invite", "invite: members:add"),
			line: 22, col: 11, msg: `names capability "members:add"`, is: []error{invalid, role.ErrUnknownCapability}},
		{name: "escalation", doc: change(t, base, "  - {id: 'members:invite'}", "  - {id: 'members:invite'}\n  - {id: 'notes:export'}",
			"  reader: [notes:read]", "  reader: [notes:read, notes:export]"),
			line: 12, col: 24, msg: `role "editor" may give role "reader", which holds "notes:export"`, is: []error{invalid}},
		{name: "unknown default edition", doc: base + "default_edition: gold\n",
			line: 23, col: 18, msg: `DefaultEdition names edition "gold"`, is: []error{invalid, edition.ErrUnknownEdition}},
		{name: "duplicate edition", doc: change(t, base, "{id: pro}", "{id: free}"),
			line: 14, col: 10, msg: `edition "free" is listed twice`, is: []error{invalid, role.ErrDuplicate}},
		{name: "negative seats", doc: change(t, base, "{max: 3}", "{max: -3}"),
			line: 13, col: 29, msg: "negative seat limit", is: []error{invalid}},
		{name: "minimum on another role", doc: change(t, base, "{role: editor, min: 1}", "{role: reader, min: 1}"),
			line: 20, col: 25, msg: "a minimum of 1 holders", is: []error{invalid}},
		{name: "two invariants", doc: change(t, base, "  - {role: editor, min: 1}", "  - {role: editor, min: 1}\n  - {role: editor, max: 3}"),
			line: 21, col: 12, msg: `two invariants on role "editor"`, is: []error{invalid, role.ErrDuplicate}},
		{name: "rule assigns an unknown role", doc: base + "  rules:\n    - {actor: editor, assign: [reader, writer]}\n",
			line: 24, col: 40, msg: `names role "writer"`, is: []error{invalid, role.ErrUnknownRole}},
		{name: "rule for an unknown actor", doc: base + "  rules:\n    - {actor: boss, assign: [reader]}\n",
			line: 24, col: 15, msg: `names role "boss"`, is: []error{invalid, role.ErrUnknownRole}},
		{name: "rule above its rank", doc: base + "  rules:\n    - {actor: reader, manage: [editor]}\n",
			line: 24, col: 32, msg: `act on role "editor", above its own rank`, is: []error{invalid}},
		{name: "unknown organization capability", doc: base + "organization: {audit: 'audit:read'}\n",
			line: 23, col: 23, msg: `Organization.Audit names capability "audit:read"`, is: []error{invalid, role.ErrUnknownCapability}},
		{name: "unknown key capability", doc: base + "keys:\n  revoke_others: 'keys:revoke'\n",
			line: 24, col: 18, msg: `Keys.RevokeOthers names capability`, is: []error{invalid, role.ErrUnknownCapability}},
		{name: "unknown own capability", doc: base + "own: ['notes:read', 'notes:own']\n",
			line: 23, col: 21, msg: `Own names capability "notes:own"`, is: []error{invalid, role.ErrUnknownCapability}},
		{name: "trial of an unknown edition", doc: base + trials("gold", "720h", "[free]"),
			line: 24, col: 15, msg: `Trials names edition "gold"`, is: []error{invalid, edition.ErrUnknownEdition}},
		{name: "trial from an unknown edition", doc: base + trials("pro", "720h", "[free, gold]"),
			line: 24, col: 53, msg: `trial of edition "pro": From names edition "gold"`, is: []error{invalid, edition.ErrUnknownEdition}},
		{name: "trial from an edition twice", doc: base + trials("pro", "720h", "[free, free]"),
			line: 24, col: 53, msg: `From lists edition "free" twice`, is: []error{invalid, role.ErrDuplicate}},
		{name: "trial from itself", doc: base + trials("pro", "720h", "[pro]"),
			line: 24, col: 47, msg: `From lists the trialled edition itself`, is: []error{invalid}},
		{name: "trial too long", doc: base + trials("pro", "9000h", "[free]"),
			line: 24, col: 34, msg: `trial of edition "pro": MaxDuration 9000h0m0s exceeds`, is: []error{invalid}},
		{name: "two trials of an edition", doc: base + trials("pro", "720h", "[free]") + "  - {edition: pro, max_duration: 1h}\n",
			line: 25, col: 15, msg: `two trials of edition "pro"`, is: []error{invalid, role.ErrDuplicate}},
		{name: "unknown trial capability", doc: base + "organization: {trial: 'trials:start'}\n",
			line: 23, col: 23, msg: `Organization.Trial names capability "trials:start"`, is: []error{invalid, role.ErrUnknownCapability}},
		{name: "external role ranked", doc: base + "external_role: reader\n",
			line: 4, col: 24, msg: `external role "reader" has rank 1`, is: []error{invalid}},
		{name: "scope: unknown creator role", doc: change(t, withScope, "creator_role: owner", "creator_role: ownr"),
			line: 28, col: 19, msg: `scope "doc" CreatorRole names role "ownr"`, is: []error{invalid, role.ErrUnknownRole}},
		{name: "scope: unknown create capability", doc: change(t, withScope, "create: notes:write", "create: docs:create"),
			line: 29, col: 13, msg: `scope "doc" Create names capability "docs:create"`, is: []error{invalid, role.ErrUnknownCapability}},
		{name: "scope: matrix names an unknown role", doc: change(t, withScope, "matrix: {owner:", "matrix: {boss:"),
			line: 27, col: 14, msg: `scope "doc" matrix: unknown role "boss"`, is: []error{invalid, role.ErrUnknownRole}},
		{name: "scope: eligibility names an unknown organization role", doc: change(t, withScope, "org_roles: [editor]", "org_roles: [editor, admin]"),
			line: 31, col: 49, msg: `names role "admin"`, is: []error{invalid, role.ErrUnknownRole}},
		{name: "scope: implicit scope role unknown", doc: change(t, withScope, "implicit: {editor: owner}", "implicit: {editor: master}"),
			line: 32, col: 24, msg: `names role "master"`, is: []error{invalid, role.ErrUnknownRole}},
		{name: "scope: implicit organization role unknown", doc: change(t, withScope, "implicit: {editor: owner}", "implicit: {boss: owner}"),
			line: 32, col: 16, msg: `names role "boss"`, is: []error{invalid, role.ErrUnknownRole}},
		{name: "scope: creator not eligible", doc: change(t, withScope, "org_roles: [editor]", "org_roles: [reader]"),
			line: 31, col: 22, msg: `organization role "editor" may create one but is not eligible`, is: []error{invalid}},
		{name: "scope: duplicate kind", doc: withScope + "  - {kind: doc, roles: [{id: r}], creator_role: r, create: 'notes:write'}\n",
			line: 33, col: 12, msg: `scope kind "doc" is listed twice`, is: []error{invalid, role.ErrDuplicate}},
		{name: "scope: external without an external role", doc: withScope + "    allow_external: true\n",
			line: 33, col: 21, msg: "allows external members", is: []error{invalid}},
	} {
		_, err := schemefile.Parse("notes.yaml", []byte(tt.doc))
		if err != nil {
			t.Fatalf("%s: Parse: %v", tt.name, err)
		}
		_, err = schemefile.Build("notes.yaml", []byte(tt.doc))
		checkErr(t, "notes.yaml", tt, err)
	}
}

// jsonBase is base as JSON, as Marshal writes it; its lines:
//
//	 1 {
//	 2   "id": "notes",
//	 3   "roles": [
//	 4     {"id": "editor", "rank": 2},
//	 5     {"id": "reader", "rank": 1}
//	 6   ],
//	 7   "capabilities": [
//	 8     {"id": "notes:read"},
//	 9     {"id": "notes:write"},
//	10     {"id": "members:invite"}
//	11   ],
//	12   "matrix": {
//	13     "editor": [
//	14       "notes:read",
//	15       "notes:write",
//	16       "members:invite"
//	17     ],
//	18     "reader": [
//	19       "notes:read"
//	20     ]
//	21   },
func jsonBase(t *testing.T) string {
	t.Helper()
	spec, err := schemefile.Parse("notes.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	data, err := schemefile.Marshal(spec, schemefile.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\n    \"reader\": [\n      \"notes:read\"\n    ]\n") {
		t.Fatalf("unexpected JSON:\n%s", data)
	}
	return string(data)
}

func TestJSONErrors(t *testing.T) {
	t.Parallel()
	doc := jsonBase(t)
	if _, err := schemefile.Build("notes.json", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []errCase{
		{name: "syntax error", doc: change(t, doc, `{"id": "reader", "rank": 1}`, `{"id": "reader", "rank": 1,}`),
			line: 5, col: 32, msg: "JSON syntax error: invalid character '}'"},
		{name: "YAML in a .json file", doc: base, line: 1, col: 1, msg: "JSON syntax error: invalid character 'i'"},
		{name: "unknown field", doc: change(t, doc, `"rank": 2}`, `"rank": 2, "colour": "red"}`),
			line: 4, col: 33, msg: `roles[0]: unknown field "colour"`},
		{name: "wrong type", doc: change(t, doc, `"rank": 2`, `"rank": "2"`),
			line: 4, col: 30, msg: `roles[0].rank: want an integer, got the string "2"`},
		{name: "wrong type: a fraction", doc: change(t, doc, `"rank": 2`, `"rank": 2.5`),
			line: 4, col: 30, msg: `roles[0].rank: want an integer, got the number 2.5`},
		{name: "duplicate key", doc: change(t, doc, `"id": "notes",`, `"id": "notes", "id": "notes",`),
			line: 2, col: 18, msg: `top level: duplicate key "id" (first at line 2, column 3)`},
		{name: "matrix names an unknown role", doc: change(t, doc, `"reader": [`, `"raeder": [`),
			line: 18, col: 5, msg: `unknown role "raeder"`, is: []error{edition.ErrInvalidScheme, role.ErrUnknownRole}},
	} {
		_, err := schemefile.Build("notes.json", []byte(tt.doc))
		checkErr(t, "notes.json", tt, err)
	}
	// A .json file is JSON: escapes YAML refuses are fine.
	spec, err := schemefile.Parse("notes.json", []byte(change(t, doc, `"id": "notes",`, `"id": "notes", "name": "\ud83d\ude80 \/ notes",`)))
	if err != nil || spec.Name != "🚀 / notes" {
		t.Errorf("Parse = %q, %v", spec.Name, err)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "notes.yaml")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("{\"id\": 1}"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := schemefile.Load(good)
	if err != nil || s.ID() != "notes" {
		t.Fatalf("Load = %v, %v", s, err)
	}
	_, err = schemefile.Load(bad)
	checkErr(t, bad, errCase{name: "Load", line: 1, col: 8, msg: "id: want a string"}, err)
	_, err = schemefile.Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, schemefile.ErrInvalid) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist and not ErrInvalid", err)
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	inner := errors.New("boom")
	e := &schemefile.Error{File: "a.yaml", Line: 3, Column: 7, Err: inner}
	if e.Error() != "a.yaml:3:7: boom" {
		t.Errorf("Error() = %q", e.Error())
	}
	if !errors.Is(e, inner) || !errors.Is(e, schemefile.ErrInvalid) || errors.Unwrap(e) != inner {
		t.Error("Error does not unwrap to Err, or does not match ErrInvalid")
	}
}

func TestMarshalUnknownFormat(t *testing.T) {
	t.Parallel()
	if _, err := schemefile.Marshal(edition.Spec{}, schemefile.Format(7)); err == nil {
		t.Error("Marshal(Format(7)) did not fail")
	}
	if _, err := schemefile.Marshal(edition.Spec{ID: "\xff"}, schemefile.YAML); err == nil {
		t.Error("Marshal of invalid UTF-8 did not fail")
	}
}
