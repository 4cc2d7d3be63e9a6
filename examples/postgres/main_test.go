package main

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// The tests run against a private PostgreSQL server (see pgtest).
func TestMain(m *testing.M) { pgtest.Main(m) }

// TestRun runs the example three times at once on a new, empty database,
// as replicas starting together would (each migrates), then once more, and
// checks that each printed the expected decisions and left nothing behind.
func TestRun(t *testing.T) {
	url := pgtest.NewDatabase(t, "")
	outs := make([]strings.Builder, 4)
	errs := make([]error, len(outs))
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { errs[i] = run(t.Context(), url, &outs[i]) })
	}
	wg.Wait()
	errs[3] = run(t.Context(), url, &outs[3])

	orgLine := regexp.MustCompile(`(?m)^organization (acme-[a-z2-7]{8}) created by ada \(admin\), edition professional$`)
	ids := map[string]bool{}
	for i, out := range outs {
		got := out.String()
		if errs[i] != nil {
			t.Fatalf("run %d: %v\n%s", i, errs[i], got)
		}
		m := orgLine.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("run %d: no organization created:\n%s", i, got)
		}
		ids[m[1]] = true
		for _, want := range []string{
			fmt.Sprintf("schema migrated to version %d\n", pgstore.SchemaVersion),
			"bob provisioned as user\n",
			`bob job_runs:create  allowed (role-holds): role "user" holds "job_runs:create" in edition "professional"`,
			`bob billing:view     denied (role-lacks): role "user" lacks "billing:view"`,
			`ada billing:view     allowed (role-holds): role "admin" holds "billing:view"`,
			`eve job_runs:create  denied (not-member)`,
			"ada promotes bob to admin\n" +
				`  bob billing:view     allowed (role-holds): role "admin" holds "billing:view" in edition "professional"`,
			"organization " + m[1] + " deleted\n",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("run %d: output lacks %q:\n%s", i, want, got)
			}
		}
	}
	if len(ids) != len(outs) {
		t.Errorf("%d runs used %d organization IDs: %v", len(outs), len(ids), ids)
	}

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for _, table := range []string{"organizations", "members", "audit"} {
		var n int
		if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM orgauthz."+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows left in orgauthz.%s", n, table)
		}
	}
}
