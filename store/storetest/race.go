package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/store"
)

// idRace runs the rounds of a race between the Updates of two
// organizations that create a record with the same store-wide ID
// (testInvitationRace, testKeyRace).
//
// Each Update keeps its transaction open until the other's create has
// returned, so that each create meets the other's uncommitted one. A store
// whose create waits for the other transaction instead would wait for
// ever: after waiting a second once in vain, the rounds stop waiting.
type idRace struct {
	orgs        [2]string
	what        string      // "key", "invitation": for messages
	createWaits atomic.Bool // the store's create waits for the other Update
}

// round runs one round for ID id: both Updates call create. In one round of
// four, one of them fails on its own after creating. It returns the
// organization whose Update committed the ID, or "", after failing the test
// if both committed it, if neither did though neither failed on its own,
// or if an Update failed with anything but ErrExists.
func (r *idRace) round(t *testing.T, s store.Store, round int, id string, create func(ctx context.Context, tx store.Tx, orgID string) error) string {
	t.Helper()
	const overlap = time.Second
	boom := errors.New("boom")
	failing := -1
	if round%4 == 3 {
		failing = round / 4 % 2
	}
	orgs := r.orgs
	started := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	created := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	var errs [2]error
	var wg sync.WaitGroup
	for i, orgID := range orgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(t.Context(), orgID, func(ctx context.Context, tx store.Tx) error {
				close(started[i])
				if round%2 == 0 { // create once both have started, or at once
					select {
					case <-started[1-i]:
					case <-time.After(patience):
						return fmt.Errorf("the Update of %s did not start while the one of %s ran", orgs[1-i], orgID)
					}
				}
				err := create(ctx, tx, orgID)
				close(created[i])
				if !r.createWaits.Load() {
					select {
					case <-created[1-i]:
					case <-time.After(overlap):
						r.createWaits.Store(true)
					}
				}
				if err != nil {
					return err
				}
				if i == failing {
					return boom
				}
				return nil
			})
		}()
	}
	wg.Wait()
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil:
			if winner != "" {
				t.Fatalf("round %d: the Updates of both %s and %s committed %s %s", round, winner, orgs[i], r.what, id)
			}
			winner = orgs[i]
		case i == failing && err == boom:
		case !errors.Is(err, store.ErrExists):
			t.Fatalf("round %d: the Update of %s returned %v, want nil or an error matching ErrExists", round, orgs[i], err)
		}
	}
	if winner == "" && failing < 0 {
		t.Fatalf("round %d: neither Update committed %s %s (%v)", round, r.what, id, errs)
	}
	return winner
}
