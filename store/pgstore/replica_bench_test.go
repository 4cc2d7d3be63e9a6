package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// benchPair is newReplicaPair for a benchmark: a private primary and
// standby, one migrated database, 100 organizations of 10 members.
func benchPair(b *testing.B) (primary, standby *pgtest.Cluster, primaryConn, standbyConn string) {
	b.Helper()
	rp := newReplicaPair(b)
	st := open(b, rp.primaryConn, pgstore.Options{DisableCache: true})
	for i := range 100 {
		var ms []string
		for j := range 10 {
			ms = append(ms, fmt.Sprint("m", j))
		}
		createOrgOf(b, st, fmt.Sprint("org-", i), ms)
	}
	st.Close()
	if err := rp.standby.WaitReplayed(context.Background(), rp.primary); err != nil {
		b.Fatal(err)
	}
	return rp.primary, rp.standby, rp.primaryConn, rp.standbyConn
}

func createOrgOf(b *testing.B, st store.Store, orgID string, members []string) {
	b.Helper()
	ms := []org.Member{member("admin", "admin")}
	for _, m := range members {
		ms = append(ms, member(m, "member"))
	}
	createOrg(b, st, orgID, ms...)
}

// BenchmarkReplicaAccessMiss measures Access with the cache off, so that
// every call is a read (the latency of a miss of the cache), on a local
// server over Unix sockets: "primary" with no standby configured;
// "standby" with one that is caught up, which answers nearly every read;
// "lagging" with the standby's replay paused after a change of the
// Store's own, so that every read needs the primary (it is tried on the
// standby first only while the poller has not yet seen it behind).
// standby-share is the share of the reads the standby answered.
func BenchmarkReplicaAccessMiss(b *testing.B) {
	primary, standby, pconn, sconn := benchPair(b)
	ctx := context.Background()
	run := func(b *testing.B, st *pgstore.Store) {
		before := st.ReplicaStats()
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Access(ctx, fmt.Sprint("org-", i%100), fmt.Sprint("m", i%10)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		after := st.ReplicaStats()
		n := (after.Standby - before.Standby) + (after.Primary - before.Primary) + (after.Retried - before.Retried)
		if n > 0 {
			b.ReportMetric(float64(after.Standby-before.Standby)/float64(n), "standby-share")
		}
	}
	b.Run("primary", func(b *testing.B) {
		run(b, openStore(b, pconn, pgstore.Options{DisableCache: true}))
	})
	opts := pgstore.Options{DisableCache: true, ReplicaURLs: []string{sconn}, ReplicaPoll: 5 * time.Millisecond}
	b.Run("standby", func(b *testing.B) {
		st := openStore(b, pconn, opts)
		waitStandby(b, st)
		run(b, st)
	})
	b.Run("lagging", func(b *testing.B) {
		st := openStore(b, pconn, opts)
		waitStandby(b, st)
		if err := standby.PauseReplay(ctx); err != nil {
			b.Fatal(err)
		}
		defer func() {
			if err := standby.ResumeReplay(ctx); err != nil {
				b.Fatal(err)
			}
			if err := standby.WaitReplayed(ctx, primary); err != nil {
				b.Fatal(err)
			}
		}()
		mustUpdate(b, st, "org-0", func(ctx context.Context, tx store.Tx) error {
			m, err := tx.Member(ctx, "m0")
			if err != nil {
				return err
			}
			m.Name = "changed"
			return tx.UpdateMember(ctx, m)
		})
		run(b, st)
	})
}

// BenchmarkReplicaVisibility measures how long after another Store's
// change commits a Store with a standby and its read cache first answers
// the new row (visible-ms), polling Access: "caught-up" with the standby
// replaying, "lagging" with its replay paused (the notification sends the
// read to the primary).
func BenchmarkReplicaVisibility(b *testing.B) {
	primary, standby, pconn, sconn := benchPair(b)
	ctx := context.Background()
	writer := openStore(b, pconn, pgstore.Options{DisableCache: true})
	reader := openStore(b, pconn, pgstore.Options{CacheTTL: time.Hour, ReplicaURLs: []string{sconn}, ReplicaPoll: 5 * time.Millisecond})
	waitStandby(b, reader)
	roles := []string{"admin", "member"}
	run := func(b *testing.B) {
		var total time.Duration
		n := 0
		for b.Loop() {
			want := roles[n%2]
			mustUpdate(b, writer, "org-1", func(ctx context.Context, tx store.Tx) error {
				m, err := tx.Member(ctx, "m1")
				if err != nil {
					return err
				}
				m.Role = want
				return tx.UpdateMember(ctx, m)
			})
			start := time.Now()
			for {
				a, err := reader.Access(ctx, "org-1", "m1")
				if err != nil {
					b.Fatal(err)
				}
				if a.Role == want {
					break
				}
				if time.Since(start) > bound {
					b.Fatalf("the change was not seen within %v", bound)
				}
			}
			total += time.Since(start)
			n++
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(n), "visible-ms")
	}
	b.Run("caught-up", run)
	b.Run("lagging", func(b *testing.B) {
		if err := standby.PauseReplay(ctx); err != nil {
			b.Fatal(err)
		}
		defer func() {
			if err := standby.ResumeReplay(ctx); err != nil {
				b.Fatal(err)
			}
			if err := standby.WaitReplayed(ctx, primary); err != nil {
				b.Fatal(err)
			}
		}()
		run(b)
	})
}

// waitStandby waits until the standby answers a read of st.
func waitStandby(b *testing.B, st *pgstore.Store) {
	b.Helper()
	deadline := time.Now().Add(bound)
	for i := 0; st.ReplicaStats().Standby == 0; i++ {
		_, _ = st.Access(context.Background(), "no-org", fmt.Sprint("p", i))
		if time.Now().After(deadline) {
			b.Fatalf("the standby answered nothing within %v: %+v", bound, st.ReplicaStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
