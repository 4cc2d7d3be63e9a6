package edition_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

// TestWherobotsMatrixMatchesSeedTable renders the Wherobots role matrix for
// the 16 rows of the product's role table and compares it, cell for cell,
// with that table. testdata/wherobots_seed_table.md is copied verbatim from
// the product's documentation (the seed document); it is not generated, so
// there is no -update flag: if this test fails, the preset is wrong.
func TestWherobotsMatrixMatchesSeedTable(t *testing.T) {
	t.Parallel()
	seed, err := os.ReadFile("testdata/wherobots_seed_table.md")
	if err != nil {
		t.Fatal(err)
	}
	order := []role.Capability{
		"cloud:use", "notebook:start", "organization:create", "organization/settings:manage",
		"integrations/s3:create", "integrations/s3:use", "members:manage", "roles:modify",
		"service_principals:create", "service_principals/api_keys:add", "api_keys:revoke_others",
		"api_keys:manage_own", "api_keys:authenticate", "job_runs:create", "support:contact",
		"raster_inference:use",
	}
	var out bytes.Buffer
	if err := edition.Wherobots().Matrix().Render(&out, role.RenderOptions{Order: order}); err != nil {
		t.Fatal(err)
	}
	want, got := markdownCells(string(seed)), markdownCells(out.String())
	if len(want) != 17 {
		t.Fatalf("seed table has %d rows, want a header and 16 rows", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rendered matrix differs from the seed's table (-seed +rendered):\n%s", diff)
	}
}

// markdownCells parses a Markdown table into trimmed cells, row by row,
// skipping the alignment row, so that column padding does not matter.
func markdownCells(table string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(strings.TrimSuffix(line, "|"), "|")
		cells := strings.Split(line, "|")
		alignment := true
		for i, c := range cells {
			cells[i] = strings.TrimSpace(c)
			if strings.Trim(cells[i], ":-") != "" {
				alignment = false
			}
		}
		if !alignment {
			rows = append(rows, cells)
		}
	}
	return rows
}
