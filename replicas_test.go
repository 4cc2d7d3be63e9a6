package orgauthz_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// TestReplicas runs the races of concurrency_test.go across two replicas:
// two services, each on a store of its own with a pool of its own, over
// one PostgreSQL database. Half of the racing changes go through each;
// every invariant holds across them as within one, for 200 rounds.
func TestReplicas(t *testing.T) {
	t.Parallel()
	conn := pgtest.StoreDatabase(t)
	a := openPGOn(t, conn, pgstore.Options{})
	b := openPGOn(t, conn, pgstore.Options{})
	var n atomic.Int64
	newFixture := func(t testing.TB) *fixture { return newFixtureOn(t, a, fmt.Sprintf("r%d-", n.Add(1))) }
	replica := func(f *fixture) *fixture {
		g := newFixtureOn(t, b, "replica-")
		g.clock = f.clock
		return g
	}
	const rounds = 200
	for _, tt := range []struct {
		name string
		race func(t *testing.T, rounds int, newFixture func(testing.TB) *fixture, replica func(*fixture) *fixture)
	}{
		{"LastAdmin", testConcurrentDemotions},
		{"Seats", testConcurrentAdditions},
		{"AcceptOneToken", testConcurrentAcceptOfOneToken},
		{"AcceptsForTheLastSeat", testConcurrentAcceptsForTheLastSeat},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.race(t, rounds, newFixture, replica)
		})
	}
}
