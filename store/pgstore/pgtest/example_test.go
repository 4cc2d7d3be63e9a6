package pgtest_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// A package's tests share one cluster, which its TestMain stops after
// them, and each test takes a database of its own:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestQuery(t *testing.T) {
//		t.Parallel()
//		conn, err := pgx.Connect(t.Context(), pgtest.NewDatabase(t, ""))
//		...
//	}
//
// (The functions need a testing.M and a testing.T, so this example is
// compiled but not run: pgtest_test.go runs the same.)
func Example() {
	_ = func(m *testing.M) { pgtest.Main(m) }
	_ = func(t *testing.T) {
		t.Parallel()
		conn, err := pgx.Connect(t.Context(), pgtest.NewDatabase(t, ""))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(t.Context())
		var one int
		if err := conn.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil {
			t.Fatal(err)
		}
	}
}

// A test that crashes its server takes a durable cluster of its own, closed
// when the test ends; every commit acknowledged before the crash survives
// it.
func ExampleStartPrivate() {
	_ = func(t *testing.T) {
		c := pgtest.StartPrivate(t, pgtest.Options{Durable: true})
		connString := c.ConnString("postgres")
		// ... commit through connString ...
		if err := c.Stop("immediate"); err != nil {
			t.Fatal(err)
		}
		if err := c.Restart(); err != nil {
			t.Fatal(err)
		}
		// ... the commits are still there ...
		_ = connString
	}
}
