package orgauthz_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The races below run on every store (forEachStore) and across two
// replicas over one PostgreSQL database (TestReplicas). Each takes a maker
// of fixtures and a replica: the fixture whose service makes half of the
// racing changes, given the fixture that made the organization (the
// fixture itself on one store).

// sameService is the replica of a single service: itself.
func sameService(f *fixture) *fixture { return f }

// TestConcurrentDemotionsKeepAnAdmin is the last-admin race.
func TestConcurrentDemotionsKeepAnAdmin(t *testing.T) {
	t.Parallel()
	forEachStoreAndStandby(t, func(t *testing.T, env storeEnv) { testConcurrentDemotions(t, 200, env.newFixture, sameService) })
}

// testConcurrentDemotions: every admin of one organization at once demotes
// itself or removes another admin. Each change checks "at least one admin"
// inside its own transaction, so however the goroutines interleave the
// organization is never left without one.
func testConcurrentDemotions(t *testing.T, rounds int, newFixture func(testing.TB) *fixture, replica func(*fixture) *fixture) {
	const admins = 6
	for round := range rounds {
		f := newFixture(t)
		g := replica(f)
		names := []string{"creator"}
		var members []string
		for i := 1; i < admins; i++ {
			name := fmt.Sprintf("a%d", i)
			names = append(names, name)
			members = append(members, name, "admin")
		}
		id := f.newOrg(t, "wherobots", "enterprise", members...)

		// Refusals are the invariant, an actor demoted or removed before
		// it acted, or a target already gone; nothing else.
		race(t, 2*len(names), func(i int) error {
			name := names[i/2]
			svc := f.svc
			if i%4 >= 2 {
				svc = g.svc
			}
			if i%2 == 0 {
				_, err := svc.ChangeRole(ctx, id, name, name, "user")
				return err
			}
			return svc.RemoveMember(ctx, id, name, names[(i/2+1)%len(names)])
		}, orgauthz.ErrMinHolders, orgauthz.ErrPermissionDenied, orgauthz.ErrNotMember)
		c := counts(t, f, id)
		require.GreaterOrEqual(t, c.Roles["admin"], 1, "round %d: the organization lost its last admin", round)
		require.Equal(t, c.Members, c.Roles["admin"]+c.Roles["user"], "round %d: counts add up", round)
	}
}

// TestConcurrentAdditionsRespectSeats is the seat race.
func TestConcurrentAdditionsRespectSeats(t *testing.T) {
	t.Parallel()
	forEachStoreAndStandby(t, func(t *testing.T, env storeEnv) { testConcurrentAdditions(t, 50, env.newFixture, sameService) })
}

// testConcurrentAdditions provisions many principals at once into a
// community organization: exactly the free seats are taken.
func testConcurrentAdditions(t *testing.T, rounds int, newFixture func(testing.TB) *fixture, replica func(*fixture) *fixture) {
	for round := range rounds {
		f := newFixture(t)
		g := replica(f)
		id := f.newOrg(t, "wherobots", "community", "u0", "user") // 2 of 5 seats taken
		ok := race(t, 20, func(i int) error {
			svc := f.svc
			if i%2 == 1 {
				svc = g.svc
			}
			_, err := svc.Host().Provision(ctx, id, user(fmt.Sprintf("p%d", i)), "user")
			return err
		}, orgauthz.ErrSeatLimit)
		assert.Equal(t, 3, ok, "round %d: exactly the free seats are taken", round)
		assert.Equal(t, 5, counts(t, f, id).Members, "round %d", round)
	}
}

// TestConcurrentAcceptOfOneToken: many goroutines accept one token at once;
// exactly one membership results.
func TestConcurrentAcceptOfOneToken(t *testing.T) {
	t.Parallel()
	forEachStoreAndStandby(t, func(t *testing.T, env storeEnv) { testConcurrentAcceptOfOneToken(t, 50, env.newFixture, sameService) })
}

func testConcurrentAcceptOfOneToken(t *testing.T, rounds int, newFixture func(testing.TB) *fixture, replica func(*fixture) *fixture) {
	for round := range rounds {
		f := newFixture(t)
		g := replica(f)
		id := f.newOrg(t, "wherobots", "professional")
		_, tok, err := f.svc.Invite(ctx, id, "creator", "bob@example.com", "user")
		require.NoError(t, err)
		joined := race(t, 10, func(i int) error {
			svc := f.svc
			if i%2 == 1 {
				svc = g.svc
			}
			_, _, err := svc.AcceptInvitation(ctx, tok.Reveal(), user(fmt.Sprintf("bob%d", i)), "bob@example.com")
			return err
		}, orgauthz.ErrInvitationAccepted)
		assert.Equal(t, 1, joined, "round %d", round)
		assert.Equal(t, 2, counts(t, f, id).Members, "round %d", round)
	}
}

// TestConcurrentAcceptsForTheLastSeat: an organization with one free member
// seat and many pending invitations (written straight into the store, as an
// import or a lowered limit can leave it): accepted at once, exactly one
// gets the seat.
func TestConcurrentAcceptsForTheLastSeat(t *testing.T) {
	t.Parallel()
	forEachStoreAndStandby(t, func(t *testing.T, env storeEnv) {
		testConcurrentAcceptsForTheLastSeat(t, 50, env.newFixture, sameService)
	})
}

func testConcurrentAcceptsForTheLastSeat(t *testing.T, rounds int, newFixture func(testing.TB) *fixture, replica func(*fixture) *fixture) {
	for round := range rounds {
		f := newFixture(t)
		g := replica(f)
		id := f.newOrg(t, "wherobots", "community", "u1", "user", "u2", "user", "u3", "user") // 4 of 5 seats
		toks := make([]invite.Token, 10)
		now := f.clock.Now()
		require.NoError(t, f.st.Update(ctx, id, func(ctx context.Context, tx store.Tx) error {
			for i := range toks {
				tok, err := invite.NewToken(invite.NewID())
				if err != nil {
					return err
				}
				toks[i] = tok
				err = tx.CreateInvitation(ctx, invite.Invitation{ID: tok.ID(), Email: fmt.Sprintf("p%d@example.com", i), Role: "user", Status: invite.Pending,
					TokenHash: tok.Hash(), InvitedBy: "creator", CreatedAt: now, ExpiresAt: now.Add(time.Hour), UpdatedAt: now, Sends: 1})
				if err != nil {
					return err
				}
			}
			return nil
		}))
		joined := race(t, len(toks), func(i int) error {
			svc := f.svc
			if i%2 == 1 {
				svc = g.svc
			}
			_, _, err := svc.AcceptInvitation(ctx, toks[i].Reveal(), user(fmt.Sprintf("p%d", i)), fmt.Sprintf("p%d@example.com", i))
			return err
		}, orgauthz.ErrSeatLimit)
		assert.Equal(t, 1, joined, "round %d", round)
		assert.Equal(t, 5, counts(t, f, id).Members, "round %d", round)
	}
}

// race runs do(0) … do(n-1) in n goroutines released at once, and returns
// how many succeeded. An error that matches none of refusals fails the
// test.
func race(t *testing.T, n int, do func(i int) error, refusals ...error) int {
	t.Helper()
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = do(i)
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
next:
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		for _, r := range refusals {
			if errors.Is(err, r) {
				continue next
			}
		}
		t.Errorf("unexpected error: %v", err)
	}
	return ok
}
