package orgauthz_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// The PostgreSQL tests share one private server per test binary.
func TestMain(m *testing.M) { pgtest.Main(m) }

// openPG returns a store over a new, empty database of the test's, closed
// when the test ends.
func openPG(t testing.TB, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	return openPGOn(t, pgtest.StoreDatabase(t), opts)
}

// openPGOn returns a store over database conn, closed when the test ends:
// two of them over one database are two replicas.
func openPGOn(t testing.TB, conn string, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(t.Context(), conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// storeEnv is a store the service's tests run on.
type storeEnv struct {
	kind string // "memstore" or "pgstore"
	// newFixture returns a fixture whose store holds nothing of the
	// other fixtures' (a new memstore; for PostgreSQL, one store per
	// test, on which each fixture's IDs are its own).
	newFixture func(t testing.TB) *fixture
}

// forEachStore runs test once per kind of store, in parallel subtests named
// after the kinds.
func forEachStore(t *testing.T, test func(t *testing.T, env storeEnv)) {
	t.Helper()
	t.Run("memstore", func(t *testing.T) {
		t.Parallel()
		test(t, storeEnv{"memstore", newFixture})
	})
	t.Run("pgstore", func(t *testing.T) {
		t.Parallel()
		var once sync.Once
		var st store.Store
		var n atomic.Int64
		test(t, storeEnv{"pgstore", func(ft testing.TB) *fixture {
			once.Do(func() { st = openPG(t, pgstore.Options{}) })
			return newFixtureOn(ft, st, fmt.Sprintf("f%d-", n.Add(1)))
		}})
	})
}

// forEachStoreAndStandby is forEachStore, and once more over pgstore with
// a streaming hot standby configured, so that the reads a standby may
// answer (Views, listings, misses of the cache) go to it whenever it has
// replayed what they need.
func forEachStoreAndStandby(t *testing.T, test func(t *testing.T, env storeEnv)) {
	t.Helper()
	forEachStore(t, test)
	t.Run("pgstore+standby", func(t *testing.T) {
		t.Parallel()
		var once sync.Once
		var st store.Store
		var n atomic.Int64
		test(t, storeEnv{"pgstore", func(ft testing.TB) *fixture {
			once.Do(func() {
				primary, standby := pgtest.StoreDatabaseWithStandby(t)
				st = openPGOn(t, primary, pgstore.Options{ReplicaURLs: []string{standby}, ReplicaPoll: 5 * time.Millisecond})
			})
			return newFixtureOn(ft, st, fmt.Sprintf("f%d-", n.Add(1)))
		}})
	})
}
