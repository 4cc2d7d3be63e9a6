package pgstore_test

import (
	"context"
	"testing"

	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
	"github.com/orgauthz/orgauthz/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newDatabase returns the connection string of an empty, migrated
// database of the shared cluster.
func newDatabase(t testing.TB) string {
	t.Helper()
	return pgtest.StoreDatabase(t)
}

// open returns a Store on database conn.
func open(t testing.TB, conn string, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, newDatabase(t), pgstore.Options{})
	})
}

func TestConformanceWithoutCache(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, newDatabase(t), pgstore.Options{DisableCache: true})
	})
}
