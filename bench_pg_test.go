package orgauthz_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// BenchmarkCheckPostgres measures Service.Check over pgstore, on a
// database of the shared test cluster holding 100 organizations × 10
// members, the checks rotating over all 1,000 members:
//
//   - cache: the default Options, the read cache on; it is filled before
//     timing, so this is a check answered from memory. Goal: ≤ 200 ns/op.
//   - nocache: Options.DisableCache, every check one query over the pool
//     (a Unix socket to a local server): what a cache miss costs.
//
// Each runs on one goroutine (serial) and on GOMAXPROCS (parallel).
func BenchmarkCheckPostgres(b *testing.B) {
	conn := pgtest.StoreDatabase(b)
	_, pairs := populateOn(b, openPGOn(b, conn, pgstore.Options{DisableCache: true}), 100, 10)
	for _, variant := range []struct {
		name string
		opts pgstore.Options
	}{
		{"cache", pgstore.Options{}},
		{"nocache", pgstore.Options{DisableCache: true}},
	} {
		// A store of its own over the populated database, as a replica
		// that starts after the data is there.
		svc, err := orgauthz.New(openPGOn(b, conn, variant.opts), orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
		if err != nil {
			b.Fatal(err)
		}
		order := make([]int, len(pairs))
		for i, p := range pairs { // fills the cache, and warms the pool
			if d := svc.Check(ctx, p[0], p[1], "cloud:use"); !d.Allowed {
				b.Fatalf("%s in %s: %v", p[1], p[0], d)
			}
			order[i] = i
		}
		benchChecks(b, variant.name, svc, pairs, order)
	}
}

// BenchmarkChangeRolePostgres measures Service.ChangeRole over pgstore:
// the creator of an organization promotes a member to admin, then demotes
// it to user, and so on; each change is one transaction that locks the
// organization's row, checks the invariants, updates the member and writes
// an audit event. It reports changes per second besides ns/op:
//
//   - serial: one goroutine, one organization;
//   - parallel/own-org: 2×GOMAXPROCS goroutines, each changing a member of
//     an organization of its own, so that none waits for another's lock;
//   - parallel/one-org: as many goroutines, each changing a member of its
//     own in one shared organization, so that they serialize on its lock.
//
// The pool has max(4, NumCPU) connections, pgxpool's default.
func BenchmarkChangeRolePostgres(b *testing.B) {
	goroutines := 2 * runtime.GOMAXPROCS(0)
	// Organization i has members user-1 … user-goroutines besides its
	// creator, user-0.
	svc, _ := populateOn(b, openPG(b, pgstore.Options{}), goroutines, goroutines+1)
	roles := [2]string{"admin", "user"}
	opsPerSecond := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	}
	// toggle changes principal's role in orgID to roles[k&1].
	toggle := func(orgID, principal string, k int) error {
		_, err := svc.ChangeRole(ctx, orgID, "user-0", principal, roles[k&1])
		return err
	}
	// demote makes principal a user again, whatever it is.
	demote := func(b *testing.B, orgID, principal string) {
		if _, err := svc.ChangeRole(ctx, orgID, "user-0", principal, "user"); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		k := 0
		for b.Loop() {
			if err := toggle("org-00000", "user-1", k); err != nil {
				b.Fatal(err)
			}
			k++
		}
		opsPerSecond(b)
		demote(b, "org-00000", "user-1")
	})
	parallel := func(b *testing.B, target func(g int) (orgID, principal string)) {
		b.ReportAllocs()
		b.SetParallelism(2)
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			orgID, principal := target(int(next.Add(1)-1) % goroutines)
			for k := 0; pb.Next(); k++ {
				if err := toggle(orgID, principal, k); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		opsPerSecond(b)
		for g := range goroutines {
			orgID, principal := target(g)
			demote(b, orgID, principal)
		}
	}
	b.Run("parallel/own-org", func(b *testing.B) {
		parallel(b, func(g int) (string, string) { return fmt.Sprintf("org-%05d", g), "user-1" })
	})
	b.Run("parallel/one-org", func(b *testing.B) {
		parallel(b, func(g int) (string, string) { return "org-00000", fmt.Sprintf("user-%d", g+1) })
	})
}
