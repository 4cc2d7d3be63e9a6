package orgauthz_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// populate creates orgs organizations of members members each through the
// service, over a new memstore: see populateOn.
func populate(b *testing.B, orgs, members int) (*orgauthz.Service, [][2]string) {
	b.Helper()
	st := memstore.New()
	b.Cleanup(func() { st.Close() })
	return populateOn(b, st, orgs, members)
}

// populateOn is populate over store st, which the caller closes: orgs
// organizations of members members each (user-0 the creator and an admin,
// user-1 onwards users), all in the Wherobots preset's enterprise edition,
// written through the service. It returns the service and the
// (organization, member) pairs.
func populateOn(b *testing.B, st store.Store, orgs, members int) (*orgauthz.Service, [][2]string) {
	b.Helper()
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		b.Fatal(err)
	}
	pairs := make([][2]string, 0, orgs*members)
	for i := range orgs {
		id := fmt.Sprintf("org-%05d", i)
		if _, err := svc.CreateOrganization(ctx, user("user-0"), orgauthz.NewOrganization{ID: id, Name: "Org", Edition: "enterprise"}); err != nil {
			b.Fatal(err)
		}
		pairs = append(pairs, [2]string{id, "user-0"})
		for j := 1; j < members; j++ {
			p := fmt.Sprintf("user-%d", j)
			if _, err := svc.Host().Provision(ctx, id, user(p), "user"); err != nil {
				b.Fatal(err)
			}
			pairs = append(pairs, [2]string{id, p})
		}
	}
	return svc, pairs
}

// BenchmarkCheck measures the hot path over the memory store holding
// 10,000 organizations × 10 members, on two access patterns:
//
//   - hot: the checks rotate over the 1,000 members of 100 active
//     organizations, a working set that stays in the CPU caches, as the
//     busy tenants of a service do;
//   - cold: every check goes to a different one of all 100,000 members, in a
//     scattered order, so nearly every memory access misses the caches.
//
// Goal: ≤ 100 ns/op and 0 allocs/op on the allow path. The cold pattern is
// bounded by memory latency: on the machines measured, one lookup of a
// random key in a plain Go map of 100,000 keys already takes ~150 ns.
func BenchmarkCheck(b *testing.B) {
	svc, pairs := populate(b, 10000, 10)
	hot := make([]int, 1000)
	for i := range hot {
		hot[i] = (i%100)*1000 + (i/100)%10 // organizations 0, 100, 200, ...
	}
	cold := make([]int, len(pairs))
	for i := range pairs {
		cold[i] = (i * 7919) % len(pairs)
	}
	benchChecks(b, "hot", svc, pairs, hot)
	benchChecks(b, "cold", svc, pairs, cold)
}

// benchChecks runs the sub-benchmarks name/serial and name/parallel of
// Service.Check: each operation checks the next pair of pairs in the given
// order, round and round, and every check must be allowed.
func benchChecks(b *testing.B, name string, svc *orgauthz.Service, pairs [][2]string, order []int) {
	b.Run(name+"/serial", func(b *testing.B) {
		b.ReportAllocs()
		denied, i := 0, 0
		for b.Loop() {
			p := pairs[order[i]]
			if !svc.Check(ctx, p[0], p[1], "cloud:use").Allowed {
				denied++
			}
			if i++; i == len(order) {
				i = 0
			}
		}
		if denied > 0 {
			b.Fatalf("%d checks denied", denied)
		}
	})
	b.Run(name+"/parallel", func(b *testing.B) {
		b.ReportAllocs()
		var next, denied atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1)*49999) % len(order) // each goroutine starts elsewhere
			for pb.Next() {
				p := pairs[order[i]]
				if !svc.Check(ctx, p[0], p[1], "cloud:use").Allowed {
					denied.Add(1)
				}
				if i++; i == len(order) {
					i = 0
				}
			}
		})
		if denied.Load() > 0 {
			b.Fatalf("%d checks denied", denied.Load())
		}
	})
}

// BenchmarkMemoryPerMember reports the heap a million members take: 100,000
// organizations of 10 members each. "store" counts the records alone,
// written straight into the store; "service" counts what the service
// writes, the audit event of each addition included. Goal: ≤ 300 B/member
// for the records.
func BenchmarkMemoryPerMember(b *testing.B) {
	const orgs, members = 100000, 10
	measure := func(b *testing.B, fill func(st store.Store)) {
		for b.Loop() {
			before := heap()
			st := memstore.New()
			fill(st)
			after := heap()
			b.ReportMetric(float64(after-before)/float64(orgs*members), "B/member")
			runtime.KeepAlive(st)
			st.Close()
		}
	}
	b.Run("store", func(b *testing.B) {
		measure(b, func(st store.Store) {
			now := time.Now()
			for i := range orgs {
				id := fmt.Sprintf("org-%06d", i)
				err := st.Update(ctx, id, func(ctx context.Context, tx store.Tx) error {
					if err := tx.CreateOrganization(ctx, org.Organization{ID: id, Name: "Org", Scheme: "wherobots", Edition: "enterprise", CreatedAt: now, UpdatedAt: now}); err != nil {
						return err
					}
					for j := range members {
						r := "user"
						if j == 0 {
							r = "admin"
						}
						if err := tx.AddMember(ctx, org.Member{PrincipalID: fmt.Sprintf("user-%07d", i*members+j), Kind: org.User, Role: r, JoinedAt: now}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("service", func(b *testing.B) {
		measure(b, func(st store.Store) {
			svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
			if err != nil {
				b.Fatal(err)
			}
			for i := range orgs {
				id := fmt.Sprintf("org-%06d", i)
				if _, err := svc.CreateOrganization(ctx, user(fmt.Sprintf("user-%07d", i*members)), orgauthz.NewOrganization{ID: id, Name: "Org", Edition: "enterprise"}); err != nil {
					b.Fatal(err)
				}
				for j := 1; j < members; j++ {
					if _, err := svc.Host().Provision(ctx, id, user(fmt.Sprintf("user-%07d", i*members+j)), "user"); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	})
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
