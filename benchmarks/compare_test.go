// Package benchmarks compares orgauthz with its in-process Go peer, casbin,
// on the same multi-tenant role check, measured side by side in one run.
//
// It is a module of its own so that the library's users never download
// casbin: run it from this directory with
//
//	go test -run '^$' -bench . -benchtime 2s -count 3 -timeout 0
//
// The scenario: organizations of 10 members each (one admin, nine users)
// under the Wherobots role matrix (edition.Wherobots: roles admin and user,
// 18 capabilities). Every organization is in edition "enterprise", which
// offers all 18 capabilities, so no edition gating takes part: the decision
// is the role × capability matrix alone, which casbin's RBAC-with-domains
// model expresses exactly.
package benchmarks

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// members is the size of every organization: one admin and nine users.
const members = 10

// sizes are the numbers of organizations measured.
var sizes = []int{10, 1000, 10000, 100000}

// casbinMaxOrgs bounds the sizes casbin is loaded at. With keyMatch on the
// domain, casbin's role manager visits every known domain for every
// grouping rule it adds, so loading grows about quadratically: 0.24 s for
// 1,000 organizations, 3.5 s for 3,000, 60 s for 10,000 on the machine
// measured; 100,000 organizations did not load within 4 minutes and would
// take hours at that rate. Above this bound the casbin sub-benchmarks are
// skipped with a message saying why; -casbin.maxorgs=100000 runs them.
var casbinMaxOrgs = flag.Int("casbin.maxorgs", 10000, "skip casbin at sizes above this many organizations")

// skipCasbin skips b, saying why, when casbin is not loaded at orgs.
func skipCasbin(b *testing.B, orgs int) {
	if orgs > *casbinMaxOrgs {
		b.Skipf("casbin not loaded at %d organizations: loading grows about quadratically with the number of domains under keyMatch (60 s at 10,000; hours at 100,000); -casbin.maxorgs=%d runs it", orgs, orgs)
	}
}

var ctx = context.Background()

func orgID(i int) string       { return fmt.Sprintf("org-%06d", i) }
func memberID(i, j int) string { return fmt.Sprintf("m-%07d", i*members+j) }

// roleOf is the role of the j-th member of an organization.
func roleOf(j int) string {
	if j == 0 {
		return "admin"
	}
	return "user"
}

// casbinModel is casbin's RBAC with domains, the domain matched with
// keyMatch so that one policy line per (role, capability) serves every
// organization.
const casbinModel = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && keyMatch(r.dom, p.dom) && r.obj == p.obj && r.act == p.act
`

// casbinPolicies returns the p lines of the Wherobots matrix: one
// (role, *, resource, action) per cell the matrix allows, each capability
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
			rules = append(rules, []string{r, "*", obj, act})
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

// loadCasbin builds an enforcer over casbin's in-memory model, with no
// adapter: the policy lines and the grouping lines (member, role,
// organization) are added to the model in bulk and the role links built
// once, which is what LoadPolicy does with an adapter and the fastest way
// measured (AddGroupingPolicies, which updates the role links
// incrementally, took longer).
func loadCasbin(tb testing.TB, orgs int) *casbin.Enforcer {
	tb.Helper()
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		tb.Fatal(err)
	}
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
	return e
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
// for both libraries: 70% a member of the organization (admin or user)
// asking for any of the 18 capabilities, so users are denied the ten they
// lack; 15% a member of another organization; 10% an unknown member; 5% an
// unknown organization.
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

// fixture is the state both libraries hold for one size, and the checks
// the timed loops cycle through.
type fixture struct {
	svc *orgauthz.Service
	enf *casbin.Enforcer
	qs  []query
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[int]*fixture{}
)

// nQueries is the length of the fixed slice of checks the timed loops
// cycle through; a power of two.
const nQueries = 4096

// fixtureFor builds (once per process, so -count does not rebuild it) the
// state of both libraries for orgs organizations, and verifies that they
// agree before anything is timed.
func fixtureFor(b *testing.B, orgs int) *fixture {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f, ok := fixtures[orgs]; ok {
		return f
	}
	start := time.Now()
	svc, _ := loadOrgauthz(b, orgs)
	b.Logf("orgs=%d: orgauthz loaded in %v", orgs, time.Since(start).Round(time.Millisecond))
	f := &fixture{svc: svc, qs: queries(orgs, nQueries, 1)}
	if orgs <= *casbinMaxOrgs {
		start = time.Now()
		f.enf = loadCasbin(b, orgs)
		b.Logf("orgs=%d: casbin loaded in %v", orgs, time.Since(start).Round(time.Millisecond))
	} else {
		b.Logf("orgs=%d: casbin not loaded (-casbin.maxorgs=%d); orgauthz verified against the matrix alone", orgs, *casbinMaxOrgs)
	}
	// The timed checks themselves, and another 2,000 drawn independently.
	verify(b, f, f.qs)
	verify(b, f, queries(orgs, 2000, 2))
	fixtures[orgs] = f
	return f
}

// verify fails the benchmark if either library decides any check
// differently from the Wherobots matrix (and so from the other), and if
// the sample lacks allowed or denied checks.
func verify(b *testing.B, f *fixture, qs []query) {
	b.Helper()
	allowed, denied, differ := 0, 0, 0
	for _, q := range qs {
		d := f.svc.Check(ctx, q.org, q.member, q.cap)
		ok := d.Allowed
		if f.enf != nil {
			var err error
			ok, err = f.enf.Enforce(q.member, q.org, q.obj, q.act)
			if err != nil {
				b.Fatalf("casbin: Enforce(%q, %q, %q, %q): %v", q.member, q.org, q.obj, q.act, err)
			}
		}
		if d.Allowed != ok || d.Allowed != q.want {
			if differ++; differ <= 10 {
				b.Errorf("%s %s %s: matrix %v, orgauthz %v, casbin %v", q.org, q.member, q.cap, q.want, d, ok)
			}
		}
		if ok {
			allowed++
		} else {
			denied++
		}
	}
	if differ > 0 {
		b.Fatalf("the libraries disagree on %d of %d checks", differ, len(qs))
	}
	if allowed == 0 || denied == 0 {
		b.Fatalf("sample of %d checks has %d allowed and %d denied: it must have both", len(qs), allowed, denied)
	}
	b.Logf("verified %d checks: %d allowed, %d denied, all alike", len(qs), allowed, denied)
}

// BenchmarkCheck measures one authorization check: orgauthz's Service.Check
// over the memory store against casbin's Enforce, cycling through the same
// 4,096 checks spread over all organizations.
func BenchmarkCheck(b *testing.B) {
	for _, orgs := range sizes {
		b.Run(fmt.Sprintf("orgs=%d", orgs), func(b *testing.B) {
			f := fixtureFor(b, orgs)
			b.Run("orgauthz", func(b *testing.B) {
				b.ReportAllocs()
				svc, qs := f.svc, f.qs
				allowed, i := 0, 0
				for b.Loop() {
					q := &qs[i]
					if svc.Check(ctx, q.org, q.member, q.cap).Allowed {
						allowed++
					}
					i = (i + 1) & (nQueries - 1)
				}
				runtime.KeepAlive(allowed)
			})
			b.Run("casbin", func(b *testing.B) {
				skipCasbin(b, orgs)
				b.ReportAllocs()
				enf, qs := f.enf, f.qs
				allowed, i := 0, 0
				for b.Loop() {
					q := &qs[i]
					ok, err := enf.Enforce(q.member, q.org, q.obj, q.act)
					if err != nil {
						b.Fatal(err)
					}
					if ok {
						allowed++
					}
					i = (i + 1) & (nQueries - 1)
				}
				runtime.KeepAlive(allowed)
			})
		})
	}
}

// BenchmarkLoad measures building each library's state from nothing
// (ns/op is the time to load all organizations) and the heap the state
// holds afterwards, after a garbage collection: "MB" in all, "B/member"
// per member, measured on the first load of each run (later loads are
// timed without the collections). orgauthz's state is what its service
// writes, the audit event of every addition included.
func BenchmarkLoad(b *testing.B) {
	for _, orgs := range sizes {
		b.Run(fmt.Sprintf("orgs=%d", orgs), func(b *testing.B) {
			b.Run("orgauthz", func(b *testing.B) {
				b.ReportAllocs()
				first := true
				for b.Loop() {
					var before uint64
					if first {
						b.StopTimer()
						before = heap()
						b.StartTimer()
					}
					svc, st := loadOrgauthz(b, orgs)
					if first {
						b.StopTimer()
						report(b, int64(heap())-int64(before), orgs)
						b.StartTimer()
						first = false
					}
					runtime.KeepAlive(svc)
					st.Close()
				}
			})
			b.Run("casbin", func(b *testing.B) {
				skipCasbin(b, orgs)
				b.ReportAllocs()
				first := true
				for b.Loop() {
					var before uint64
					if first {
						b.StopTimer()
						before = heap()
						b.StartTimer()
					}
					enf := loadCasbin(b, orgs)
					if first {
						b.StopTimer()
						report(b, int64(heap())-int64(before), orgs)
						b.StartTimer()
						first = false
					}
					runtime.KeepAlive(enf)
				}
			})
		})
	}
}

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
