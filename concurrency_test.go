package orgauthz_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/orgauthz/orgauthz"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentDemotionsKeepAnAdmin is the last-admin race: every admin of
// one organization at once demotes itself or removes another admin. Each
// change checks "at least one admin" inside its own transaction, so however
// the goroutines interleave the organization is never left without one.
func TestConcurrentDemotionsKeepAnAdmin(t *testing.T) {
	t.Parallel()
	const admins = 6
	for round := range 200 {
		f := newFixture(t)
		names := []string{"creator"}
		var members []string
		for i := 1; i < admins; i++ {
			name := fmt.Sprintf("a%d", i)
			names = append(names, name)
			members = append(members, name, "admin")
		}
		id := f.newOrg(t, "wherobots", "enterprise", members...)

		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 2*admins)
		for i, name := range names {
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				_, err := f.svc.ChangeRole(ctx, name, id, name, "user")
				errs <- err
			}()
			go func() {
				defer wg.Done()
				<-start
				errs <- f.svc.RemoveMember(ctx, name, id, names[(i+1)%len(names)])
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			// Refusals are the invariant, an actor demoted or removed before
			// it acted, or a target already gone; nothing else.
			if err != nil && !errors.Is(err, orgauthz.ErrMinHolders) && !errors.Is(err, orgauthz.ErrPermissionDenied) &&
				!errors.Is(err, orgauthz.ErrNotMember) {
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		c := counts(t, f, id)
		require.GreaterOrEqual(t, c.Roles["admin"], 1, "round %d: the organization lost its last admin", round)
		require.Equal(t, c.Members, c.Roles["admin"]+c.Roles["user"], "round %d: counts add up", round)
	}
}

// TestConcurrentAdditionsRespectSeats provisions many principals at once
// into a community organization: exactly the free seats are taken.
func TestConcurrentAdditionsRespectSeats(t *testing.T) {
	t.Parallel()
	for round := range 50 {
		f := newFixture(t)
		id := f.newOrg(t, "wherobots", "community", "u0", "user") // 2 of 5 seats taken
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, full := 0, 0
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := f.svc.Provision(ctx, id, user(fmt.Sprintf("p%d", i)), "user")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, orgauthz.ErrSeatLimit):
					full++
				default:
					t.Errorf("round %d: unexpected error %v", round, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		assert.Equal(t, 3, ok, "round %d: exactly the free seats are taken", round)
		assert.Equal(t, 17, full)
		assert.Equal(t, 5, counts(t, f, id).Members)
	}
}
