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

		// Refusals are the invariant, an actor demoted or removed before
		// it acted, or a target already gone; nothing else.
		race(t, 2*len(names), func(i int) error {
			name := names[i/2]
			if i%2 == 0 {
				_, err := f.svc.ChangeRole(ctx, name, id, name, "user")
				return err
			}
			return f.svc.RemoveMember(ctx, name, id, names[(i/2+1)%len(names)])
		}, orgauthz.ErrMinHolders, orgauthz.ErrPermissionDenied, orgauthz.ErrNotMember)
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
		ok := race(t, 20, func(i int) error {
			_, err := f.svc.Provision(ctx, id, user(fmt.Sprintf("p%d", i)), "user")
			return err
		}, orgauthz.ErrSeatLimit)
		assert.Equal(t, 3, ok, "round %d: exactly the free seats are taken", round)
		assert.Equal(t, 5, counts(t, f, id).Members)
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
