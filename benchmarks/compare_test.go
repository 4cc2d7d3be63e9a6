// Package benchmarks compares orgauthz with its in-process Go peer, casbin,
// on the same multi-tenant role check, measured side by side in one run.
//
// It is a module of its own so that the library's users never download
// casbin. Run it from this directory:
//
//	go test                                   # decisions agree (TestDecisions), seconds
//	go test -run TestPeerTable -table -timeout 0
//	                                          # the README table: medians of 5 rounds, all
//	                                          # three side by side per size, with ratios
//	go test -run '^$' -bench . -benchtime 1s -count 3 -timeout 0 | tee new.txt
//	                                          # the same as benchmarks, for benchstat
//
// TestPeerTable takes -table.rounds (5), -table.orgs (a comma-separated
// subset of the sizes) and -table.out (a file to write the Markdown to as
// well as printing it); every run, tests and benchmarks alike, takes -mix
// (4096), the number of checks the timed loops cycle through.
//
// The scenario: organizations of 10 members each (one admin, nine users)
// under the Wherobots role matrix (edition.Wherobots: roles admin and user,
// 18 capabilities), at 10, 100, 1,000, 10,000 and 100,000 organizations.
// Every organization is in edition "enterprise", which offers all 18
// capabilities, so no edition gating takes part: the decision is the
// role × capability matrix alone, which casbin's RBAC-with-domains model
// expresses exactly. Three implementations decide the same checks:
//
//   - orgauthz: Service.Check over store/memstore;
//   - casbin-cached: casbin.SyncedCachedEnforcer, its fastest configuration
//     (cache on, entries that never expire), warmed with every check of the
//     mix before it is timed, so that it is measured in its steady state;
//   - casbin: the plain casbin.Enforcer over the same model.
//
// Before anything is timed at a size, all three decide every check of the
// mix and 2,000 more drawn independently, the cached enforcer twice (once
// filling its cache, once answering from it), and the run fails unless
// every answer equals the matrix's.
package benchmarks

import (
	"context"
	"flag"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist/cache"
	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// members is the size of every organization: one admin and nine users.
const members = 10

// sizes are the numbers of organizations measured.
var sizes = []int{10, 100, 1000, 10000, 100000}

// mixFlag is the number of checks in the fixed slice the timed loops cycle
// through, a power of two so that the loops wrap with a mask.
var mixFlag = flag.Int("mix", 4096, "number of checks the timed loops cycle through (a power of two)")

// mixLen returns -mix, failing tb unless it is a power of two.
func mixLen(tb testing.TB) int {
	n := *mixFlag
	if n <= 0 || bits.OnesCount(uint(n)) != 1 {
		tb.Fatalf("-mix=%d: the number of checks must be a power of two", n)
	}
	return n
}

// extraChecks is the number of checks, drawn independently of the timed
// mix, that are verified as well before anything is timed.
const extraChecks = 2000

var ctx = context.Background()

// orgID is the ID of the i-th organization.
func orgID(i int) string { return fmt.Sprintf("org-%06d", i) }

// memberID is the ID of the j-th member of the i-th organization.
func memberID(i, j int) string { return fmt.Sprintf("m-%07d", i*members+j) }

// roleOf is the role of the j-th member of an organization.
func roleOf(j int) string {
	if j == 0 {
		return "admin"
	}
	return "user"
}

// casbinModel is casbin's RBAC with domains, written for speed. The role
// assignments are per domain (g = member, role, organization); the
// permissions of a role are the same in every organization, as the matrix
// says, so the policy lines carry no domain, and one line per
// (role, capability) serves every organization.
//
// The domain is deliberately not matched with keyMatch against a "*" in the
// policy lines: a matcher containing keyMatch(r.dom, p.dom) makes casbin
// install a domain matching function in its role manager, which then visits
// every known domain for each grouping rule it adds, so that loading grows
// quadratically with the organizations (60 s at 10,000, hours at 100,000;
// this model loads 100,000 in seconds) and checks cost about twice as much.
// The cheap comparisons come first in the matcher: the expression
// short-circuits, so the role lookup g() runs only for the policy lines
// naming the requested capability, which halves the cost of a check
// against g() first.
const casbinModel = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.obj == p.obj && r.act == p.act && g(r.sub, p.sub, r.dom)
`

// casbinPolicies returns the p lines of the Wherobots matrix: one
// (role, resource, action) per cell the matrix allows, each capability
// "resource:action" split at its colon.
func casbinPolicies() [][]string {
	spec := edition.Wherobots().Spec()
	var rules [][]string
	for _, r := range slices.Sorted(func(yield func(string) bool) {
		for r := range spec.Matrix {
			if !yield(r) {
				return
			}
		}
	}) {
		for _, c := range spec.Matrix[r] {
			obj, act, ok := strings.Cut(string(c), ":")
			if !ok {
				panic("capability without a colon: " + c)
			}
			rules = append(rules, []string{r, obj, act})
		}
	}
	return rules
}

// loadOrgauthz populates a memory store through the service, as the root
// module's BenchmarkCheck does: CreateOrganization makes the admin, and
// Provision adds the nine users.
func loadOrgauthz(tb testing.TB, orgs int) (*orgauthz.Service, *memstore.Store) {
	tb.Helper()
	st := memstore.New()
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range orgs {
		id := orgID(i)
		admin := org.Principal{ID: memberID(i, 0), Kind: org.User}
		if _, err := svc.CreateOrganization(ctx, admin, orgauthz.NewOrganization{ID: id, Name: "Org", Edition: "enterprise"}); err != nil {
			tb.Fatal(err)
		}
		for j := 1; j < members; j++ {
			if _, err := svc.Host().Provision(ctx, id, org.Principal{ID: memberID(i, j), Kind: org.User}, roleOf(j)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return svc, st
}

// casbinLoader is what fillCasbin needs of an enforcer: both
// *casbin.Enforcer and *casbin.SyncedCachedEnforcer have it.
type casbinLoader interface {
	GetModel() model.Model
	BuildRoleLinks() error
}

// newCasbinModel parses casbinModel.
func newCasbinModel(tb testing.TB) model.Model {
	tb.Helper()
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// fillCasbin loads the state into an enforcer's in-memory model, with no
// adapter: the policy lines and the grouping lines (member, role,
// organization) are added to the model in bulk and the role links built
// once, which is what LoadPolicy does with an adapter and the fastest way
// measured (AddGroupingPolicies, which updates the role links
// incrementally, took longer).
func fillCasbin(tb testing.TB, e casbinLoader, orgs int) {
	tb.Helper()
	if err := e.GetModel().AddPolicies("p", "p", casbinPolicies()); err != nil {
		tb.Fatal(err)
	}
	groups := make([][]string, 0, orgs*members)
	for i := range orgs {
		id := orgID(i)
		for j := range members {
			groups = append(groups, []string{memberID(i, j), roleOf(j), id})
		}
	}
	if err := e.GetModel().AddPolicies("g", "g", groups); err != nil {
		tb.Fatal(err)
	}
	if err := e.BuildRoleLinks(); err != nil {
		tb.Fatal(err)
	}
}

// loadCasbin builds a plain enforcer holding orgs organizations.
func loadCasbin(tb testing.TB, orgs int) *casbin.Enforcer {
	tb.Helper()
	e, err := casbin.NewEnforcer(newCasbinModel(tb))
	if err != nil {
		tb.Fatal(err)
	}
	fillCasbin(tb, e, orgs)
	return e
}

// cachedEnforcer is a casbin.SyncedCachedEnforcer with a handle on its
// decision cache, so that the verification can count the cache's hits.
type cachedEnforcer struct {
	*casbin.SyncedCachedEnforcer
	cache cache.Cache // casbin's own cache.SyncCache, which the enforcer uses
}

// loadCasbinCached builds a SyncedCachedEnforcer holding orgs
// organizations, in its fastest configuration: the cache enabled (it is by
// default; said explicitly), and cached decisions that never expire.
// SetExpireTime(0) is the fastest setting, not merely the longest: an entry
// set with a positive time to live makes every hit read the clock to check
// it (about 290 ns a hit against 345 ns with 24 hours, at 10,000
// organizations), while one set with 0 is returned as it is. The cache is
// casbin's own cache.SyncCache, the enforcer's default, created here so
// that the verification can look at it. The cache starts empty: warm it
// (verify does) before timing.
func loadCasbinCached(tb testing.TB, orgs int) *cachedEnforcer {
	tb.Helper()
	e, err := casbin.NewSyncedCachedEnforcer(newCasbinModel(tb))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := cache.NewSyncCache()
	if err != nil {
		tb.Fatal(err)
	}
	e.SetCache(c)
	e.EnableCache(true)
	e.SetExpireTime(0)
	fillCasbin(tb, e, orgs)
	return &cachedEnforcer{SyncedCachedEnforcer: e, cache: c}
}

// query is one (organization, member, capability) check, with the
// capability also split into casbin's object and action beforehand so that
// neither side pays for the other's representation inside the timed loop.
type query struct {
	org, member string
	cap         role.Capability
	obj, act    string
	want        bool // the decision the Wherobots matrix gives
}

// queries returns n checks spread over all orgs organizations, the same
// for every implementation: 70% a member of the organization (an admin one
// time in four) asking for any of the 18 capabilities, so users are denied
// the ten they lack; 15% a member of another organization; 10% an unknown
// member; 5% an unknown organization.
func queries(orgs, n int, seed uint64) []query {
	spec := edition.Wherobots().Spec()
	caps := spec.Capabilities
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	qs := make([]query, n)
	for k := range qs {
		i := rng.IntN(orgs)
		c := caps[rng.IntN(len(caps))].ID
		obj, act, _ := strings.Cut(string(c), ":")
		q := query{org: orgID(i), cap: c, obj: obj, act: act}
		switch p := rng.IntN(100); {
		case p < 70:
			// Admins one in four, so that both allow paths are frequent.
			j := 0
			if rng.IntN(4) != 0 {
				j = 1 + rng.IntN(members-1)
			}
			q.member = memberID(i, j)
			q.want = slices.Contains(spec.Matrix[roleOf(j)], c)
		case p < 85:
			other := (i + 1 + rng.IntN(max(orgs-1, 1))) % orgs
			if other == i {
				other = i + 1 // orgs == 1: a member of an organization that does not exist
			}
			q.member = memberID(other, rng.IntN(members))
		case p < 95:
			q.member = fmt.Sprintf("nobody-%d", k)
		default:
			q.org = fmt.Sprintf("org-missing-%d", k)
			q.member = memberID(i, rng.IntN(members))
		}
		qs[k] = q
	}
	return qs
}

// fixture is the state the three implementations hold for one size, the
// checks the timed loops cycle through, and what loading cost.
type fixture struct {
	orgs   int
	svc    *orgauthz.Service
	plain  *casbin.Enforcer
	cached *cachedEnforcer
	qs     []query
	loads  [3]loadCost // by impl
}

// loadCost is the time one load took and, when measured, the heap it holds.
type loadCost struct {
	took time.Duration
	held int64 // bytes; 0 when not measured
}

// impl names an implementation; the names are the sub-benchmarks'.
type impl int

const (
	implOrgauthz impl = iota
	implCached
	implPlain
)

// String returns the sub-benchmark name of the implementation.
func (i impl) String() string {
	return [...]string{"orgauthz", "casbin-cached", "casbin"}[i]
}

// buildFixture loads the three implementations with orgs organizations and
// verifies, before returning, that they decide every check of the mix, and
// extraChecks more, as the matrix does; the verification also warms the
// cached enforcer with the whole mix. With measureHeap, each load is
// bracketed by garbage collections to measure the heap it holds (slow at
// the largest sizes).
func buildFixture(tb testing.TB, orgs int, measureHeap bool) *fixture {
	tb.Helper()
	f := &fixture{orgs: orgs, qs: queries(orgs, mixLen(tb), 1)}
	measure := func(i impl, load func()) {
		var before uint64
		if measureHeap {
			before = heap()
		}
		start := time.Now()
		load()
		f.loads[i].took = time.Since(start)
		if measureHeap {
			f.loads[i].held = int64(heap()) - int64(before)
		}
		tb.Logf("orgs=%d: %v loaded in %v", orgs, i, f.loads[i].took.Round(time.Millisecond))
	}
	measure(implOrgauthz, func() { f.svc, _ = loadOrgauthz(tb, orgs) })
	measure(implPlain, func() { f.plain = loadCasbin(tb, orgs) })
	measure(implCached, func() { f.cached = loadCasbinCached(tb, orgs) })
	verify(tb, f, f.qs)
	verify(tb, f, queries(orgs, extraChecks, 2))
	return f
}

// countingCache counts the hits and misses of the cache it wraps. It is
// installed only while verifying, never while timing.
type countingCache struct {
	cache.Cache
	hits, misses int
}

// Get looks key up in the wrapped cache, counting a hit or a miss.
func (c *countingCache) Get(key string) (bool, error) {
	v, err := c.Cache.Get(key)
	if err == nil {
		c.hits++
	} else {
		c.misses++
	}
	return v, err
}

// verify fails tb if any implementation decides any of qs differently from
// the Wherobots matrix (and so from the others), or if qs lacks allowed or
// denied checks. The cached enforcer decides every check twice: the first
// pass fills its cache (or hits it, for a check decided before), and the
// second must be answered from the cache alone, every decision equal.
func verify(tb testing.TB, f *fixture, qs []query) {
	tb.Helper()
	counter := &countingCache{Cache: f.cached.cache}
	f.cached.SetCache(counter)
	defer f.cached.SetCache(f.cached.cache)

	allowed, denied, differ := 0, 0, 0
	check := func(pass int) {
		for _, q := range qs {
			cached, err := f.cached.Enforce(q.member, q.org, q.obj, q.act)
			if err != nil {
				tb.Fatalf("casbin-cached: Enforce(%q, %q, %q, %q): %v", q.member, q.org, q.obj, q.act, err)
			}
			d, plain := f.svc.Check(ctx, q.org, q.member, q.cap), cached
			if pass == 0 {
				if plain, err = f.plain.Enforce(q.member, q.org, q.obj, q.act); err != nil {
					tb.Fatalf("casbin: Enforce(%q, %q, %q, %q): %v", q.member, q.org, q.obj, q.act, err)
				}
			}
			if d.Allowed != q.want || plain != q.want || cached != q.want {
				if differ++; differ <= 10 {
					tb.Errorf("pass %d: %s %s %s: matrix %v, orgauthz %v, casbin %v, casbin-cached %v", pass, q.org, q.member, q.cap, q.want, d, plain, cached)
				}
			}
			if pass == 0 {
				if q.want {
					allowed++
				} else {
					denied++
				}
			}
		}
	}
	check(0)
	counter.hits, counter.misses = 0, 0
	check(1)
	if differ > 0 {
		tb.Fatalf("the implementations disagree on %d of %d checks", differ, 2*len(qs))
	}
	if counter.misses != 0 || counter.hits != len(qs) {
		tb.Fatalf("casbin-cached: second pass over %d checks: %d cache hits and %d misses; want all hits", len(qs), counter.hits, counter.misses)
	}
	if allowed == 0 || denied == 0 {
		tb.Fatalf("sample of %d checks has %d allowed and %d denied: it must have both", len(qs), allowed, denied)
	}
	tb.Logf("orgs=%d: verified %d checks (%d allowed, %d denied): orgauthz, casbin and casbin-cached (filling, then from its cache) all alike", f.orgs, len(qs), allowed, denied)
}

// TestDecisions checks that the three implementations agree with the
// matrix and with one another on every check of the mix and on extraChecks
// more, at every size up to 10,000 organizations (1,000 with -short). The
// largest size is verified by the benchmarks and TestPeerTable, before they
// time anything, rather than here, to keep go test quick.
func TestDecisions(t *testing.T) {
	limit := 10000
	if testing.Short() {
		limit = 1000
	}
	for _, orgs := range sizes {
		if orgs > limit {
			continue
		}
		t.Run(fmt.Sprintf("orgs=%d", orgs), func(t *testing.T) {
			buildFixture(t, orgs, false)
		})
	}
}

// BenchmarkCheck measures one authorization check, cycling through the same
// mix of checks spread over all organizations: orgauthz's Service.Check
// over the memory store, casbin's SyncedCachedEnforcer (warmed with the
// whole mix) and casbin's plain Enforcer. Sub-benchmarks are named
// orgs=N/{orgauthz,casbin-cached,casbin} for benchstat.
//
// The body of orgs=N runs once per process however large -count is (the
// testing package repeats the leaves), so each size's fixture is built
// once, verified, and released before the next size is loaded.
func BenchmarkCheck(b *testing.B) {
	for _, orgs := range sizes {
		b.Run(fmt.Sprintf("orgs=%d", orgs), func(b *testing.B) {
			f := buildFixture(b, orgs, false)
			for _, i := range []impl{implOrgauthz, implCached, implPlain} {
				b.Run(i.String(), f.bench(i))
			}
		})
	}
}

// settle prepares a comparable environment for a timed loop: a garbage
// collection and the return of the freed memory to the system, done now
// rather than by the runtime's background scavenger while the loop runs.
// Without it the plain enforcer's garbage (4 kB a check) was still being
// returned during the next loop: orgauthz's check at 100,000
// organizations, bound by memory latency, took 700 ns to 11 µs from one
// round to the next, and 660 to 790 ns with it.
func settle() { debug.FreeOSMemory() }

// bench returns the timed loop of implementation i over f's mix. Each
// implementation has a loop of its own, so that none pays for an indirect
// call the others do not; each settles first, untimed (b.Loop starts the
// timer).
func (f *fixture) bench(i impl) func(*testing.B) {
	qs, mask := f.qs, len(f.qs)-1
	switch i {
	case implOrgauthz:
		svc := f.svc
		return func(b *testing.B) {
			settle()
			b.ReportAllocs()
			allowed, k := 0, 0
			for b.Loop() {
				q := &qs[k]
				if svc.Check(ctx, q.org, q.member, q.cap).Allowed {
					allowed++
				}
				k = (k + 1) & mask
			}
			runtime.KeepAlive(allowed)
		}
	case implCached:
		enf := f.cached.SyncedCachedEnforcer
		return func(b *testing.B) {
			settle()
			b.ReportAllocs()
			allowed, k := 0, 0
			for b.Loop() {
				q := &qs[k]
				ok, err := enf.Enforce(q.member, q.org, q.obj, q.act)
				if err != nil {
					b.Fatal(err)
				}
				if ok {
					allowed++
				}
				k = (k + 1) & mask
			}
			runtime.KeepAlive(allowed)
		}
	default:
		enf := f.plain
		return func(b *testing.B) {
			settle()
			b.ReportAllocs()
			allowed, k := 0, 0
			for b.Loop() {
				q := &qs[k]
				ok, err := enf.Enforce(q.member, q.org, q.obj, q.act)
				if err != nil {
					b.Fatal(err)
				}
				if ok {
					allowed++
				}
				k = (k + 1) & mask
			}
			runtime.KeepAlive(allowed)
		}
	}
}

// BenchmarkLoad measures building each library's state from nothing
// (ns/op is the time to load all organizations) and the heap the state
// holds afterwards, after a garbage collection: "MB" in all, "B/member"
// per member, measured on the first load of each run (later loads are
// timed without the collections). orgauthz's state is what its service
// writes, the audit event of every addition included. casbin is loaded as
// a plain Enforcer; the SyncedCachedEnforcer loads the same way (it wraps
// one) and starts with an empty cache.
func BenchmarkLoad(b *testing.B) {
	for _, orgs := range sizes {
		b.Run(fmt.Sprintf("orgs=%d", orgs), func(b *testing.B) {
			b.Run("orgauthz", func(b *testing.B) {
				benchLoad(b, orgs, func() func() {
					_, st := loadOrgauthz(b, orgs)
					return func() { st.Close() }
				})
			})
			b.Run("casbin", func(b *testing.B) {
				benchLoad(b, orgs, func() func() {
					enf := loadCasbin(b, orgs)
					return func() { runtime.KeepAlive(enf) }
				})
			})
		})
	}
}

// benchLoad times load, which builds a state and returns a function that
// releases it, and reports the heap the first state built holds.
func benchLoad(b *testing.B, orgs int, load func() (release func())) {
	b.ReportAllocs()
	first := true
	for b.Loop() {
		var before uint64
		if first {
			b.StopTimer()
			before = heap()
			b.StartTimer()
		}
		release := load()
		if first {
			b.StopTimer()
			report(b, int64(heap())-int64(before), orgs)
			b.StartTimer()
			first = false
		}
		release()
	}
}

// report reports the heap held by a state of orgs organizations.
func report(b *testing.B, held int64, orgs int) {
	b.ReportMetric(float64(held)/1e6, "MB")
	b.ReportMetric(float64(held)/float64(orgs*members), "B/member")
}

// heap returns the bytes of live heap after a full collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
