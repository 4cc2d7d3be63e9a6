package pgtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgauthz/orgauthz/store/pgstore"
)

// storeDBs are the databases of StoreDatabase: a migrated template, and
// the databases copied from it that no test uses now.
var storeDBs struct {
	mu       sync.Mutex
	template bool // created and migrated
	free     []string
}

// storeTemplate names the migrated template of StoreDatabase.
const storeTemplate = "orgauthz_template"

// StoreDatabase returns the connection string of an empty database of the
// shared cluster (see Shared) with the schema of package pgstore migrated:
// what a test of pgstore, or of a service over it, needs.
//
// Databases are reused, since creating one takes a few hundred
// milliseconds: when the test ends, after the cleanups it registered later
// (close its stores and pools there), the sessions left on the database
// are ended, its tables emptied, and it is handed to the next test that
// asks. A suite of many short tests creates as many databases as run at
// once.
func StoreDatabase(t testing.TB) string {
	t.Helper()
	c, name := storeDatabase(t)
	return c.ConnString(name)
}

// storeDatabase is StoreDatabase, returning the shared cluster and the
// database's name.
func storeDatabase(t testing.TB) (*Cluster, string) {
	t.Helper()
	c := Shared(t)
	name, err := takeStoreDatabase(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := emptyStoreDatabase(ctx, c, name); err != nil {
			t.Errorf("pgtest: emptying database %q: %v", name, err)
			return // not reused
		}
		storeDBs.mu.Lock()
		storeDBs.free = append(storeDBs.free, name)
		storeDBs.mu.Unlock()
	})
	return c, name
}

// takeStoreDatabase returns the name of a free database, made if need be.
func takeStoreDatabase(ctx context.Context, c *Cluster) (string, error) {
	storeDBs.mu.Lock()
	if n := len(storeDBs.free); n > 0 {
		name := storeDBs.free[n-1]
		storeDBs.free = storeDBs.free[:n-1]
		storeDBs.mu.Unlock()
		return name, nil
	}
	defer storeDBs.mu.Unlock() // held while the template is made
	if !storeDBs.template {
		conn, err := c.CreateDatabase(ctx, storeTemplate, "")
		if err != nil {
			return "", err
		}
		pool, err := pgxpool.New(ctx, conn)
		if err != nil {
			return "", err
		}
		err = pgstore.Migrate(ctx, pool)
		pool.Close()
		if err != nil {
			return "", fmt.Errorf("pgtest: migrating the template database: %w", err)
		}
		storeDBs.template = true
	}
	name := fmt.Sprintf("orgauthz_%d", databases.Add(1))
	if _, err := c.CreateDatabase(ctx, name, storeTemplate); err != nil {
		return "", err
	}
	return name, nil
}

// emptyStoreDatabase ends the sessions left on database name and empties
// its tables, but for the schema's version.
func emptyStoreDatabase(ctx context.Context, c *Cluster, name string) error {
	admin, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, c.ConnString(name))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, `DO $$
		DECLARE tables text;
		BEGIN
			SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') INTO tables
			FROM pg_tables WHERE schemaname = 'orgauthz' AND tablename <> 'schema_migrations';
			EXECUTE 'TRUNCATE ' || tables;
		END $$`)
	return err
}
