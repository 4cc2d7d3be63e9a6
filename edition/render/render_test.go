package render_test

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/edition/render"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

func presets() []*edition.Scheme {
	return []*edition.Scheme{edition.Wherobots(), edition.AIEngine(), edition.UiPath(), edition.SoterAI()}
}

var formats = []struct {
	f   render.Format
	ext string
}{{render.Markdown, "md"}, {render.HTML, "html"}, {render.CSV, "csv"}}

type renderFunc func(io.Writer, *edition.Scheme, render.Format) error

// checkGolden compares got with testdata/name, or rewrites it under
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to write the golden file")
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		scheme *edition.Scheme
		fn     renderFunc
	}{
		{"wherobots_matrix", edition.Wherobots(), render.Matrix},
		{"wherobots_scopes", edition.Wherobots(), render.Scopes},
		{"soterai_matrix", edition.SoterAI(), render.Matrix},
		{"aiengine_scopes", edition.AIEngine(), render.Scopes},
	}
	for _, c := range cases {
		for _, f := range formats {
			name := c.name + "." + f.ext
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var b bytes.Buffer
				require.NoError(t, c.fn(&b, c.scheme, f.f))
				checkGolden(t, name, b.Bytes())
				var again bytes.Buffer
				require.NoError(t, c.fn(&again, c.scheme, f.f))
				assert.Equal(t, b.String(), again.String(), "output is deterministic")
			})
		}
	}
}

// readCSV parses rendered CSV into its header and records.
func readCSV(t *testing.T, data []byte) (header []string, records [][]string) {
	t.Helper()
	all, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, all)
	return all[0], all[1:]
}

// TestMatrixCSVAgreesWithDecide parses every preset's matrix back from CSV
// and checks each cell against policy.Decide: ✅ exactly where it allows,
// — exactly where the edition does not offer the role, ❌ elsewhere. Every
// cell of the decision table (policy.Rows) is found once.
func TestMatrixCSVAgreesWithDecide(t *testing.T) {
	t.Parallel()
	for _, s := range presets() {
		t.Run(s.ID(), func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			require.NoError(t, render.Matrix(&b, s, render.CSV))
			header, records := readCSV(t, b.Bytes())
			roles := s.Roles()
			require.Len(t, header, 3+len(roles)+1)
			assert.Equal(t, []string{"edition", "capability", "label"}, header[:3])
			assert.Equal(t, "offered_in", header[len(header)-1])
			roleCols := header[3 : 3+len(roles)]
			for i, r := range roles {
				assert.Equal(t, r.ID, roleCols[i])
			}
			require.Len(t, records, len(s.Editions())*s.Catalog().Len())
			seen := map[policy.Row]bool{}
			for _, rec := range records {
				ed, c := rec[0], role.Capability(rec[1])
				ci, ok := s.Catalog().Index(c)
				require.True(t, ok, "capability %q", c)
				assert.Equal(t, s.Catalog().Def(ci).Label, rec[2])
				for i, id := range roleCols {
					d := policy.Decide(s, ed, id, c)
					cell := rec[3+i]
					switch {
					case d.Allowed:
						assert.Equal(t, render.Allowed, cell, "%s %s %s: %v", ed, id, c, d)
					case d.Reason == policy.ReasonRoleNotInEdition:
						assert.Equal(t, render.NotOffered, cell, "%s %s %s: %v", ed, id, c, d)
					default:
						assert.Equal(t, render.Denied, cell, "%s %s %s: %v", ed, id, c, d)
					}
					seen[policy.Row{Capability: c, Role: id, Edition: ed, Allowed: cell == render.Allowed}] = true
				}
				var offered []string
				for _, e := range s.Editions() {
					if e.OffersCapability(ci) {
						offered = append(offered, e.ID())
					}
				}
				assert.Equal(t, strings.Join(offered, " "), rec[len(rec)-1])
			}
			n := 0
			for row := range policy.Rows(s) {
				n++
				assert.True(t, seen[row], "decision table cell %+v not rendered as such", row)
			}
			assert.Equal(t, n, len(seen))
		})
	}
}

// TestScopesCSVAgreesWithDecideScope does the same for every scope kind of
// every preset, against policy.DecideScope.
func TestScopesCSVAgreesWithDecideScope(t *testing.T) {
	t.Parallel()
	for _, s := range presets() {
		t.Run(s.ID(), func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			require.NoError(t, render.Scopes(&b, s, render.CSV))
			header, records := readCSV(t, b.Bytes())
			assert.Equal(t, []string{"scope", "capability", "label"}, header[:3])
			cells := 0
			for _, rec := range records {
				sc, ok := s.Scope(rec[0])
				require.True(t, ok, "scope kind %q", rec[0])
				for i, id := range header[3:] {
					cell := rec[3+i]
					if _, ok := sc.Matrix().RoleIndex(id); !ok {
						assert.Empty(t, cell, "%s has no role %q", sc.Kind(), id)
						continue
					}
					d := policy.DecideScope(s, sc.Kind(), id, role.Capability(rec[1]))
					want := render.Denied
					if d.Allowed {
						want = render.Allowed
					}
					assert.Equal(t, want, cell, "%s %s %s: %v", sc.Kind(), id, rec[1], d)
					cells++
				}
			}
			want := 0
			for _, sc := range s.Scopes() {
				want += sc.Matrix().NumRoles() * sc.Matrix().Catalog().Len()
			}
			assert.Equal(t, want, cells)
		})
	}
}

// TestMarkdownAgreesWithDecide reads every preset's Markdown tables back
// and checks each cell against policy.Decide, the columns in role order.
func TestMarkdownAgreesWithDecide(t *testing.T) {
	t.Parallel()
	for _, s := range presets() {
		var b bytes.Buffer
		require.NoError(t, render.Matrix(&b, s, render.Markdown))
		tables := strings.Split(b.String(), "\n## ")[1:]
		require.Len(t, tables, len(s.Editions()))
		for ei, text := range tables {
			e := s.EditionAt(ei)
			var rows [][]string
			for _, line := range strings.Split(text, "\n") {
				if strings.HasPrefix(line, "| ") {
					rows = append(rows, strings.Split(strings.Trim(line, "| "), " | "))
				}
			}
			require.Len(t, rows, 1+s.Catalog().Len(), "%s %s", s.ID(), e.ID())
			for ci, def := range s.Catalog().All() {
				cells := rows[1+ci]
				assert.Equal(t, "`"+string(def.ID)+"`", cells[len(cells)-1])
				for ri, r := range s.Roles() {
					d := policy.Decide(s, e.ID(), r.ID, def.ID)
					assert.Equal(t, d.Allowed, cells[1+ri] == render.Allowed, "%s %s %s %s: %v", s.ID(), e.ID(), r.ID, def.ID, d)
				}
			}
		}
	}
}

// TestHTMLIsWellFormed parses every preset's HTML as XML (the fragments
// close every element and escape every text), and checks that a name
// holding markup is escaped.
func TestHTMLIsWellFormed(t *testing.T) {
	t.Parallel()
	spec := edition.Wherobots().Spec()
	spec.Name = `<script>alert("x")</script> & co`
	spec.Capabilities[0].Label = `a <b>|</b> "label"`
	spec.Roles[0].Name = `Admin <i>&</i>`
	hostile, err := edition.NewScheme(spec)
	require.NoError(t, err)
	for _, s := range append(presets(), hostile) {
		for _, fn := range []renderFunc{render.Matrix, render.Scopes} {
			var b bytes.Buffer
			require.NoError(t, fn(&b, s, render.HTML))
			d := xml.NewDecoder(&b)
			d.Strict = true
			depth := 0
			for {
				tok, err := d.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err, "%s", s.ID())
				switch tok.(type) {
				case xml.StartElement:
					depth++
				case xml.EndElement:
					depth--
				}
			}
			assert.Zero(t, depth)
		}
	}
	var b bytes.Buffer
	require.NoError(t, render.Matrix(&b, hostile, render.HTML))
	assert.NotContains(t, b.String(), "<script>")
	assert.Contains(t, b.String(), "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co")
	assert.Contains(t, b.String(), "<th scope=\"row\">a &lt;b&gt;|&lt;/b&gt; &#34;label&#34;</th>")

	b.Reset()
	require.NoError(t, render.Matrix(&b, hostile, render.Markdown))
	assert.Contains(t, b.String(), "| a <b>\\|</b> \"label\" |", "a pipe in a label is escaped in Markdown")
}

func TestErrors(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	for _, fn := range []renderFunc{render.Matrix, render.Scopes} {
		assert.ErrorIs(t, fn(&b, nil, render.Markdown), edition.ErrUnknownScheme)
		assert.ErrorIs(t, fn(&b, edition.Wherobots(), render.Format(7)), render.ErrUnknownFormat)
	}
	assert.Zero(t, b.Len(), "nothing is written on error")
}

func TestFormatNames(t *testing.T) {
	t.Parallel()
	for _, f := range formats {
		g, err := render.ParseFormat(strings.ToUpper(f.f.String()))
		require.NoError(t, err)
		assert.Equal(t, f.f, g)
		text, err := f.f.MarshalText()
		require.NoError(t, err)
		var h render.Format
		require.NoError(t, h.UnmarshalText(text))
		assert.Equal(t, f.f, h)
	}
	g, err := render.ParseFormat("md")
	require.NoError(t, err)
	assert.Equal(t, render.Markdown, g)
	_, err = render.ParseFormat("pdf")
	assert.ErrorIs(t, err, render.ErrUnknownFormat)
	_, err = render.Format(9).MarshalText()
	assert.ErrorIs(t, err, render.ErrUnknownFormat)
	assert.Equal(t, "Format(9)", render.Format(9).String())
	var h render.Format = render.CSV
	assert.Error(t, h.UnmarshalText([]byte("xls")))
	assert.Equal(t, render.CSV, h, "unchanged on error")
}
