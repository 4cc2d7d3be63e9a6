package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
	"github.com/orgauthz/orgauthz/store/storetest"
)

// The conformance suite, its races included, holds with a standby
// configured: the reads a standby may answer go to it whenever it has
// replayed what they need.
func TestConformanceWithStandby(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		primary, standby := pgtest.StoreDatabaseWithStandby(t)
		return open(t, primary, pgstore.Options{ReplicaURLs: []string{standby}, ReplicaPoll: 5 * time.Millisecond})
	})
}

func TestConformanceWithStandbyWithoutCache(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		primary, standby := pgtest.StoreDatabaseWithStandby(t)
		return open(t, primary, pgstore.Options{DisableCache: true, ReplicaURLs: []string{standby}, ReplicaPoll: 5 * time.Millisecond})
	})
}

// replicaPair is a private primary and its streaming standby, with one
// migrated database, for tests that pause, stop and restart the standby.
type replicaPair struct {
	primary, standby         *pgtest.Cluster
	primaryConn, standbyConn string
}

func newReplicaPair(t testing.TB) *replicaPair {
	t.Helper()
	ctx := t.Context()
	p := pgtest.StartPrivate(t, pgtest.Options{})
	conn, err := p.CreateDatabase(ctx, "app", "")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	err = pgstore.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := pgtest.StartPrivateStandby(t, p)
	if err := s.WaitReplayed(ctx, p); err != nil {
		t.Fatal(err)
	}
	return &replicaPair{primary: p, standby: s, primaryConn: conn, standbyConn: s.ConnString("app")}
}

// caughtUp waits until the standby has replayed everything and st's poller
// has seen it up and current, so that st's next read goes to it.
func (rp *replicaPair) caughtUp(t *testing.T, st *pgstore.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), bound)
	defer cancel()
	if err := rp.standby.WaitReplayed(ctx, rp.primary); err != nil {
		t.Fatal(err)
	}
	before := st.ReplicaStats().Standby
	deadline := time.Now().Add(bound)
	for i := 0; ; i++ {
		// A read of an organization nobody writes, by a principal of its
		// own (so never cached): once the standby has answered one, the
		// poller has seen it current.
		_, _ = st.Access(t.Context(), "probe-org", fmt.Sprint("nobody-", i))
		if st.ReplicaStats().Standby > before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby answered no read within %v: %+v", bound, st.ReplicaStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pause pauses the standby's replay until resume, or the end of the test.
func (rp *replicaPair) pause(t *testing.T) {
	t.Helper()
	if err := rp.standby.PauseReplay(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rp.standby.ResumeReplay(context.Background()) })
}

// resume resumes the standby's replay.
func (rp *replicaPair) resume(t *testing.T) {
	t.Helper()
	if err := rp.standby.ResumeReplay(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// replicaOpts are the options of a Store reading from rp's standby, polling
// it often, and skipping it once 300 ms behind.
func (rp *replicaPair) opts(o pgstore.Options) pgstore.Options {
	o.ReplicaURLs = []string{rp.standbyConn}
	o.ReplicaPoll = 5 * time.Millisecond
	o.MaxReplicaLag = 300 * time.Millisecond
	return o
}

// A Store never reads older than its own last change: with the standby's
// replay paused, its Access (cached or not), Views and listings see
// every change it commits, answered by the primary;
// once the standby has replayed them, it answers again.
func TestReplicaReadYourWrites(t *testing.T) {
	t.Parallel()
	rp := newReplicaPair(t)
	ctx := t.Context()
	for _, cacheOff := range []bool{false, true} {
		t.Run(fmt.Sprintf("DisableCache=%v", cacheOff), func(t *testing.T) {
			st := openStore(t, rp.primaryConn, rp.opts(pgstore.Options{DisableCache: cacheOff}))
			orgID := fmt.Sprintf("ryw-%v", cacheOff)
			createOrg(t, st, orgID, member("alice", "admin"), member("bob", "member"))
			rp.caughtUp(t, st)
			mustAnswer(t, st, orgID, "bob", hasRole("member"), "before the pause")

			rp.pause(t)
			for i, role := range []string{"viewer", "admin", "member", "viewer"} {
				mustUpdate(t, st, orgID, func(ctx context.Context, tx store.Tx) error {
					m, err := tx.Member(ctx, "bob")
					if err != nil {
						return err
					}
					m.Role = role
					return tx.UpdateMember(ctx, m)
				})
				mustAnswer(t, st, orgID, "bob", hasRole(role), fmt.Sprintf("right after change %d", i))
				err := st.View(ctx, orgID, func(ctx context.Context, r store.Reader) error {
					m, err := r.Member(ctx, "bob")
					if err == nil && m.Role != role {
						err = fmt.Errorf("View: bob is %s, want %s", m.Role, role)
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				var roles []string
				for m, err := range st.Memberships(ctx, "bob", "") {
					if err != nil {
						t.Fatal(err)
					}
					if m.OrgID == orgID {
						roles = append(roles, m.Role)
					}
				}
				if !slices.Equal(roles, []string{role}) {
					t.Fatalf("Memberships of bob after change %d: roles %v, want [%s]", i, roles, role)
				}
			}
			// A new organization, made while the standby is behind, is
			// found at once.
			createOrg(t, st, orgID+"-new", member("carol", "admin"))
			mustAnswer(t, st, orgID+"-new", "carol", hasRole("admin"), "a new organization")
			rp.resume(t)
			rp.caughtUp(t, st)
			before := st.ReplicaStats().Standby
			mustAnswer(t, st, orgID, "alice", hasRole("admin"), "after the standby caught up")
			if cacheOff && st.ReplicaStats().Standby == before {
				t.Errorf("a read after the standby caught up went to the primary: %+v", st.ReplicaStats())
			}
		})
	}
}

// Another Store's change is seen once the standby has replayed it, and
// never cached stale: with replay paused, the change's notification makes
// this Store read from the primary (the standby is behind the fence), and
// what it caches is the new row, however long replay stays paused.
func TestReplicaOtherStoresChange(t *testing.T) {
	t.Parallel()
	rp := newReplicaPair(t)
	ctx := t.Context()
	reader := openStore(t, rp.primaryConn, rp.opts(pgstore.Options{CacheTTL: longTTL}))
	writer := openStore(t, rp.primaryConn, pgstore.Options{})
	createOrg(t, writer, "acme", member("alice", "admin"), member("bob", "member"))
	rp.caughtUp(t, reader)
	mustAnswer(t, reader, "acme", "bob", hasRole("member"), "before the change") // cached

	rp.pause(t)
	mustUpdate(t, writer, "acme", func(ctx context.Context, tx store.Tx) error {
		m, err := tx.Member(ctx, "bob")
		if err != nil {
			return err
		}
		m.Role = "viewer"
		return tx.UpdateMember(ctx, m)
	})
	// The standby still holds the old row; the notification drops the
	// cached one, and the read that fills the cache again is the
	// primary's.
	waitAnswer(t, reader, "acme", "bob", bound, hasRole("viewer"), hasRole("member"))
	for range 20 {
		mustAnswer(t, reader, "acme", "bob", hasRole("viewer"), "while the standby is behind")
		time.Sleep(10 * time.Millisecond)
	}
	// A listing and a View see it too.
	err := reader.View(ctx, "acme", func(ctx context.Context, r store.Reader) error {
		m, err := r.Member(ctx, "bob")
		if err == nil && m.Role != "viewer" {
			err = fmt.Errorf("View: bob is %s, want viewer", m.Role)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rp.resume(t)
	rp.caughtUp(t, reader)
	mustAnswer(t, reader, "acme", "bob", hasRole("viewer"), "after replay")

	// Without a cache the same Store reads the standby while it is within
	// MaxReplicaLag, so a change another Store makes is seen once
	// replayed, or, replay paused, once the standby is further behind than
	// MaxReplicaLag (then the primary answers).
	direct := openStore(t, rp.primaryConn, rp.opts(pgstore.Options{DisableCache: true}))
	rp.caughtUp(t, direct)
	rp.pause(t)
	mustUpdate(t, writer, "acme", func(ctx context.Context, tx store.Tx) error {
		m, err := tx.Member(ctx, "bob")
		if err != nil {
			return err
		}
		m.Role = "admin"
		return tx.UpdateMember(ctx, m)
	})
	took := waitAnswer(t, direct, "acme", "bob", bound, hasRole("admin"), hasRole("viewer"))
	if took > bound {
		t.Fatalf("the change was seen after %v", took)
	}
	rp.resume(t)
}

// A standby that stops is routed around (every read is answered, by the
// primary), and used again once it is back and has caught up.
func TestReplicaStoppedStandby(t *testing.T) {
	t.Parallel()
	rp := newReplicaPair(t)
	ctx := t.Context()
	st := openStore(t, rp.primaryConn, rp.opts(pgstore.Options{DisableCache: true}))
	createOrg(t, st, "acme", member("alice", "admin"))
	rp.caughtUp(t, st)

	if err := rp.standby.Stop("immediate"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(bound)
	for i := 0; ; i++ {
		mustAnswer(t, st, "acme", "alice", hasRole("admin"), fmt.Sprintf("read %d with the standby stopped", i))
		err := st.View(ctx, "acme", func(ctx context.Context, r store.Reader) error {
			_, err := r.Member(ctx, "alice")
			return err
		})
		if err != nil {
			t.Fatalf("View with the standby stopped: %v", err)
		}
		for _, err := range st.Organizations(ctx, "") {
			if err != nil {
				t.Fatalf("Organizations with the standby stopped: %v", err)
			}
		}
		if s := st.ReplicaStats(); len(s.Replicas) == 1 && !s.Replicas[0].Up && i > 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stopped standby is still up: %+v", st.ReplicaStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Changes made meanwhile are read back too.
	mustUpdate(t, st, "acme", func(ctx context.Context, tx store.Tx) error {
		return tx.AddMember(ctx, org.Member{PrincipalID: "bob", Kind: org.User, Role: "member"})
	})
	mustAnswer(t, st, "acme", "bob", hasRole("member"), "a change made with the standby stopped")

	if err := rp.standby.Restart(); err != nil {
		t.Fatal(err)
	}
	rp.caughtUp(t, st)
	before := st.ReplicaStats().Standby
	mustAnswer(t, st, "acme", "bob", hasRole("member"), "after the restart")
	if st.ReplicaStats().Standby == before {
		t.Errorf("the standby answered nothing after its restart: %+v", st.ReplicaStats())
	}
}

// Options of replicas out of range are refused.
func TestReplicaOptions(t *testing.T) {
	conn := newDatabase(t)
	for _, o := range []pgstore.Options{
		{ReplicaURLs: []string{"postgres://"}, MaxReplicaLag: -time.Second},
		{ReplicaURLs: []string{"postgres://"}, ReplicaPoll: -time.Second},
		{ReplicaURLs: []string{"not a url ::"}},
		{Replicas: []*pgxpool.Pool{nil}},
	} {
		if s, err := pgstore.Open(t.Context(), conn, o); err == nil {
			s.Close()
			t.Errorf("Open with %+v: no error", o)
		}
	}
}
