package orgauthz_test

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// populate creates orgs organizations of members members each through the
// service, over a new memstore, as a service names them: each
// organization's ID is the service's own (26 characters of base32), and
// member j of organization i is principal(i, j), member 0 the creator and
// an admin, the others users. It returns the service and the
// (organization, member) pairs, as copies of their own, as a request's IDs
// would be: no check is answered by finding the very strings the store
// was given.
func populate(b *testing.B, orgs, members int, principal func(i, j int) string) (*orgauthz.Service, [][2]string) {
	b.Helper()
	st := memstore.New()
	b.Cleanup(func() { st.Close() })
	return populateIDs(b, st, orgs, members, func(int) string { return "" }, principal)
}

// populateOn is populate over store st, which the caller closes, with
// organizations named org-00000, org-00001, ... and members user-0,
// user-1, ...
func populateOn(b *testing.B, st store.Store, orgs, members int) (*orgauthz.Service, [][2]string) {
	b.Helper()
	return populateIDs(b, st, orgs, members, func(i int) string { return fmt.Sprintf("org-%05d", i) }, userID)
}

// userID is the principal ID of member j of a populated organization:
// user-j, in every organization.
func userID(_, j int) string { return fmt.Sprintf("user-%d", j) }

// uuidID is the principal ID of member j of organization i, in the shape
// of a UUID (36 characters), as many identity providers give them: one of
// its own for every member of every organization.
func uuidID(i, j int) string {
	r := mrand.New(mrand.NewPCG(uint64(i), uint64(j)))
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&(1<<48-1))
}

// populateIDs creates orgs organizations of members members each through
// the service, over st, which the caller closes: organization i has ID
// orgID(i) ("" for one the service makes), its member j principal ID
// principal(i, j), member 0 the creator and an admin, the others users,
// all in the Wherobots preset's enterprise edition. It returns the service
// and the (organization, member) pairs, as copies of their own (see
// populate).
func populateIDs(b *testing.B, st store.Store, orgs, members int, orgID func(i int) string, principal func(i, j int) string) (*orgauthz.Service, [][2]string) {
	b.Helper()
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		b.Fatal(err)
	}
	pairs := make([][2]string, 0, orgs*members)
	for i := range orgs {
		o, err := svc.CreateOrganization(ctx, user(principal(i, 0)), orgauthz.NewOrganization{ID: orgID(i), Name: "Org", Edition: "enterprise"})
		if err != nil {
			b.Fatal(err)
		}
		// The pairs of an organization share one copy of its ID, as they
		// shared its string before copies: not the store's own.
		id, asked := o.ID, strings.Clone(o.ID)
		pairs = append(pairs, [2]string{asked, principal(i, 0)})
		for j := 1; j < members; j++ {
			p := principal(i, j)
			if _, err := svc.Host().Provision(ctx, id, user(p), "user"); err != nil {
				b.Fatal(err)
			}
			pairs = append(pairs, [2]string{asked, strings.Clone(p)})
		}
	}
	return svc, pairs
}

// BenchmarkCheck measures the hot path over the memory store holding
// 10,000 organizations × 10 members, named as a service names them (see
// populate; BenchmarkCheckUUID names the members by UUIDs), on two access
// patterns:
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
	benchCheck(b, userID)
}

// BenchmarkCheckUUID is BenchmarkCheck with members whose principal IDs
// are UUIDs, 36 characters each.
func BenchmarkCheckUUID(b *testing.B) {
	benchCheck(b, uuidID)
}

func benchCheck(b *testing.B, principal func(i, j int) string) {
	svc, pairs := populate(b, 10000, 10, principal)
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
//
// The requests are laid out in the order they are checked, their IDs'
// bytes side by side (copies, not the store's strings): a service checks
// the IDs of a request it has just parsed, which are in the CPU's caches,
// so the harness reads them in sequence, as the hardware prefetches, and
// what is measured is the store's and the service's work, whose own
// memory is scattered.
func benchChecks(b *testing.B, name string, svc *orgauthz.Service, pairs [][2]string, order []int) {
	reqs := requests(pairs, order)
	b.Run(name+"/serial", func(b *testing.B) {
		b.ReportAllocs()
		denied, i := 0, 0
		for b.Loop() {
			p := &reqs[i]
			if !svc.Check(ctx, p[0], p[1], "cloud:use").Allowed {
				denied++
			}
			if i++; i == len(reqs) {
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
			i := int(next.Add(1)*49999) % len(reqs) // each goroutine starts elsewhere
			for pb.Next() {
				p := &reqs[i]
				if !svc.Check(ctx, p[0], p[1], "cloud:use").Allowed {
					denied.Add(1)
				}
				if i++; i == len(reqs) {
					i = 0
				}
			}
		})
		if denied.Load() > 0 {
			b.Fatalf("%d checks denied", denied.Load())
		}
	})
}

// requests returns the pairs in the given order, their IDs copied side by
// side into one string, in that order.
func requests(pairs [][2]string, order []int) [][2]string {
	var sb strings.Builder
	for _, k := range order {
		sb.WriteString(pairs[k][0])
		sb.WriteString(pairs[k][1])
	}
	all := sb.String()
	reqs := make([][2]string, len(order))
	at := 0
	for n, k := range order {
		o, p := len(pairs[k][0]), len(pairs[k][1])
		reqs[n] = [2]string{all[at : at+o], all[at+o : at+o+p]}
		at += o + p
	}
	return reqs
}

// BenchmarkMemoryPerMember reports the heap a million members take: 100,000
// organizations of 10 members each, each organization's ID in the
// service's own format (26 characters of base32). "store" counts the
// records alone, written straight into the store, members named
// user-0000000 onwards; "store-uuid" the same with UUIDs for principal IDs
// (36 characters, so 32 bytes more of each ID's string alone); "service"
// counts what the service writes, the audit event of each addition
// included. The IDs' strings are made inside the measure, and counted.
// Goal: ≤ 300 B/member for the records.
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
	records := func(principal func(i, j int) string) func(st store.Store) {
		return func(st store.Store) {
			now := time.Now()
			for i := range orgs {
				id := serviceOrgID()
				err := st.Update(ctx, id, func(ctx context.Context, tx store.Tx) error {
					if err := tx.CreateOrganization(ctx, org.Organization{ID: id, Name: "Org", Scheme: "wherobots", Edition: "enterprise", CreatedAt: now, UpdatedAt: now}); err != nil {
						return err
					}
					for j := range members {
						r := "user"
						if j == 0 {
							r = "admin"
						}
						if err := tx.AddMember(ctx, org.Member{PrincipalID: principal(i, j), Kind: org.User, Role: r, JoinedAt: now}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("store", func(b *testing.B) {
		measure(b, records(func(i, j int) string { return fmt.Sprintf("user-%07d", i*members+j) }))
	})
	b.Run("store-uuid", func(b *testing.B) {
		measure(b, records(uuidID))
	})
	b.Run("service", func(b *testing.B) {
		measure(b, func(st store.Store) {
			svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
			if err != nil {
				b.Fatal(err)
			}
			for i := range orgs {
				o, err := svc.CreateOrganization(ctx, user(fmt.Sprintf("user-%07d", i*members)), orgauthz.NewOrganization{Name: "Org", Edition: "enterprise"})
				if err != nil {
					b.Fatal(err)
				}
				for j := 1; j < members; j++ {
					if _, err := svc.Host().Provision(ctx, o.ID, user(fmt.Sprintf("user-%07d", i*members+j)), "user"); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	})
}

// serviceOrgID returns a new organization ID in the format the service
// makes them when the caller names none (Options.NewID nil): 128 random
// bits in lower-case base32, 26 characters.
func serviceOrgID() string {
	var b [16]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestCheckDoesNotAllocate: over the memory store, Service.Check allocates
// nothing, on the allow path and on the paths that deny a known
// capability (the role lacks it, the edition gates it, no such member or
// organization, an archived organization), for organizations named by the
// service and members named briefly, by UUIDs, or at the greatest length
// an ID may have. (A capability the scheme does not know is denied with
// its name in the decision, which costs an allocation.)
func TestCheckDoesNotAllocate(t *testing.T) {
	st := memstore.New()
	defer st.Close()
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a-principal-named-at-length/", 5)[:org.MaxIDLen] // as long as they come
	o, err := svc.CreateOrganization(ctx, user("ada"), orgauthz.NewOrganization{Name: "A", Edition: "community"})
	if err != nil {
		t.Fatal(err)
	}
	archived, err := svc.CreateOrganization(ctx, user("ada"), orgauthz.NewOrganization{Name: "B", Edition: "community"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"bob", uuidID(1, 2), long} {
		if _, err := svc.Host().Provision(ctx, o.ID, user(p), "user"); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.ArchiveOrganization(ctx, archived.ID, "ada"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, org, who string
		c              role.Capability
		reason         policy.Reason
	}{
		{"admin holds", o.ID, "ada", "members:manage", policy.ReasonRoleHolds},
		{"user holds", o.ID, "bob", "cloud:use", policy.ReasonRoleHolds},
		{"UUID holds", o.ID, uuidID(1, 2), "cloud:use", policy.ReasonRoleHolds},
		{"long ID holds", o.ID, long, "cloud:use", policy.ReasonRoleHolds},
		{"user lacks", o.ID, "bob", "members:manage", policy.ReasonRoleLacks},
		{"edition gates", o.ID, "bob", "job_runs:create", policy.ReasonEditionGated},
		{"not a member", o.ID, "eve", "cloud:use", policy.ReasonNotMember},
		{"UUID not a member", o.ID, uuidID(1, 3), "cloud:use", policy.ReasonNotMember},
		{"unknown organization", serviceOrgID(), "bob", "cloud:use", policy.ReasonUnknownOrganization},
		{"archived", archived.ID, "ada", "cloud:use", policy.ReasonArchived},
	} {
		// IDs of their own, as a request's are.
		orgID, who := strings.Clone(c.org), strings.Clone(c.who)
		if d := svc.Check(ctx, orgID, who, c.c); d.Reason != c.reason {
			t.Errorf("%s: %v, want %v", c.name, d, c.reason)
			continue
		}
		if n := testing.AllocsPerRun(1000, func() { svc.Check(ctx, orgID, who, c.c) }); n != 0 {
			t.Errorf("%s: %v allocations per Check, want 0", c.name, n)
		}
	}
}
