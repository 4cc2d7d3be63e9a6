package storetest_test

import (
	"testing"

	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
	"github.com/orgauthz/orgauthz/store/storetest"
)

// A store's own test file runs the suite, giving it a fresh, empty store per
// subtest. (Run needs the test's *testing.T, so this example is compiled
// but not run: memstore_test.go runs exactly this.)
func ExampleRun() {
	_ = func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
	}
}
