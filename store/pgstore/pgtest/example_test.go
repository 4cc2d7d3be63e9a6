package pgtest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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

// A standby shows what its primary commits once it has replayed it, and
// takes no writes. (A test takes them with StartPrivate and
// StartPrivateStandby, which close them when it ends.)
func ExampleCluster_StartStandby() {
	ctx := context.Background()
	primary, err := pgtest.Start(pgtest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer primary.Close()
	standby, err := primary.StartStandby()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer standby.Close()

	p, err := pgx.Connect(ctx, primary.ConnString("postgres"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close(ctx)
	if _, err := p.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"); err != nil {
		fmt.Println(err)
		return
	}
	if err := standby.WaitReplayed(ctx, primary); err != nil {
		fmt.Println(err)
		return
	}
	s, err := pgx.Connect(ctx, standby.ConnString("postgres"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close(ctx)
	var x int
	if err := s.QueryRow(ctx, "SELECT x FROM t").Scan(&x); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("the standby reads", x)
	_, err = s.Exec(ctx, "INSERT INTO t VALUES (1)")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		fmt.Println("the standby refuses writes:", pgErr.Code, pgErr.Message)
	}
	// Output:
	// the standby reads 42
	// the standby refuses writes: 25006 cannot execute INSERT in a read-only transaction
}
