package orgauthz_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// These tests and benchmarks measure CheckScope and Authenticate over
// pgstore's read cache: the statements a miss and a hit cost, the
// allocations of a hit, and how a key revoked (or whose owner changed) on
// one replica is refused on another.

// scopeCase is one scope check of scopeFixture.
type scopeCase struct {
	name, orgID, principal, kind, id string
	c                                role.Capability
	allowed                          bool
	reason                           policy.Reason
}

// scopeFixture creates, through f, a UiPath organization with a service
// whose creator, ann, holds its built-in role; ursula holds a custom role
// there, al holds nothing but is an administrator of the organization, and
// the creator (its owner) reaches it implicitly; and returns the checks
// that tell them apart, the denials included.
func scopeFixture(t testing.TB, f *fixture) []scopeCase {
	t.Helper()
	id := f.newOrg(t, "uipath", "", "ann", "administrator", "al", "administrator", "ursula", "user")
	svc, err := f.svc.CreateScope(ctx, id, "ann", edition.ScopeService, "Orchestrator")
	require.NoError(t, err)
	_, err = f.svc.DefineScopeRole(ctx, id, "creator", edition.ScopeService, svc.ID, orgauthz.ScopeRoleDef{ID: "ops", Capabilities: []role.Capability{"service:access", "service/jobs:manage"}})
	require.NoError(t, err)
	_, err = f.svc.AddScopeMember(ctx, id, "creator", edition.ScopeService, svc.ID, user("ursula"), "ops")
	require.NoError(t, err)
	return []scopeCase{
		{"built-in role", id, "ann", edition.ScopeService, svc.ID, "service:access", true, policy.ReasonRoleHolds},
		{"custom role", id, "ursula", edition.ScopeService, svc.ID, "service/jobs:manage", true, policy.ReasonRoleHolds},
		{"custom role lacks", id, "ursula", edition.ScopeService, svc.ID, "service/robots:manage", false, policy.ReasonRoleLacks},
		{"implicit role", id, "creator", edition.ScopeService, svc.ID, "service/robots:manage", true, policy.ReasonRoleHolds},
		{"no role there", id, "al", edition.ScopeService, svc.ID, "service:access", false, policy.ReasonNotScopeMember},
		{"no such resource", id, "ann", edition.ScopeService, "nope", "service:access", false, policy.ReasonNotScopeMember},
		{"not a member", id, "stranger", edition.ScopeService, svc.ID, "service:access", false, policy.ReasonNotMember},
		{"no such organization", "nowhere", "ann", edition.ScopeService, svc.ID, "service:access", false, policy.ReasonUnknownOrganization},
	}
}

// check runs c's scope check on svc, and fails the test unless it decides
// as c says.
func (c scopeCase) check(t testing.TB, svc *orgauthz.Service) {
	d := svc.CheckScope(ctx, c.orgID, c.principal, c.kind, c.id, c.c)
	if d.Allowed != c.allowed || d.Reason != c.reason {
		t.Fatalf("%s: CheckScope(%s, %s, %s) = %v, want allowed %v, %v", c.name, c.principal, c.id, c.c, d, c.allowed, c.reason)
	}
}

// tracedStore returns a pgstore over a new database whose pool traces its
// statements in q, the raw connection string, and a plain connection.
func tracedStore(t *testing.T, opts pgstore.Options) (*pgstore.Store, *statements, string) {
	t.Helper()
	conn := pgtest.StoreDatabase(t)
	cfg, err := pgxpool.ParseConfig(conn)
	require.NoError(t, err)
	q := &statements{}
	cfg.ConnConfig.Tracer = q
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st, err := pgstore.New(t.Context(), pool, opts)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st, q, conn
}

// fences numbers the fence organizations of settle.
var fences atomic.Int64

// settle waits until every notification sent so far has reached st's
// cache, so that none drops what is cached next: notifications arrive in
// commit order, so once a change of a fence organization made outside
// st is seen, every earlier one has been.
func settle(t testing.TB, st store.Store, conn string) {
	t.Helper()
	c, err := pgx.Connect(t.Context(), conn)
	require.NoError(t, err)
	defer c.Close(t.Context())
	fence := fmt.Sprintf("fence-%d", fences.Add(1))
	_, err = c.Exec(t.Context(), `INSERT INTO orgauthz.organizations (id, name, scheme, edition, seat_override, archived) VALUES ($1, 'Fence', 'none', 'none', 0, false)`, fence)
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := st.Access(t.Context(), fence, "nobody")
		if err == store.ErrMemberNotFound {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fence's notification did not come: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestQueryCountsOfScopeChecksAndKeys counts the statements of CheckScope
// and Authenticate over pgstore: a scope check that misses the cache is
// one statement, whatever it decides; one that hits it, none. An
// Authenticate that misses the key cache is one statement (and the touch
// of the key's last use, at most once a minute), one that hits it none;
// with Options.DisableKeyCache, every Authenticate is one statement.
func TestQueryCountsOfScopeChecksAndKeys(t *testing.T) {
	t.Parallel()
	during := func(q *statements, fn func()) []string {
		var out []string
		for _, s := range q.during(fn) {
			if !strings.HasPrefix(s, "LISTEN") {
				out = append(out, s)
			}
		}
		return out
	}

	t.Run("CheckScope", func(t *testing.T) {
		t.Parallel()
		for _, v := range []struct {
			name      string
			opts      pgstore.Options
			miss, hit int
		}{
			{"cache", pgstore.Options{CacheTTL: time.Hour}, 1, 0},
			{"nocache", pgstore.Options{DisableCache: true}, 1, 1},
		} {
			t.Run(v.name, func(t *testing.T) {
				st, q, conn := tracedStore(t, v.opts)
				f := newFixtureOn(t, st, "")
				cases := scopeFixture(t, f)
				if !v.opts.DisableCache {
					settle(t, st, conn)
				}
				seen := map[[4]string]bool{}
				for _, c := range cases {
					// The cache keeps what the store answers of a principal
					// and a resource, whatever the capability checked.
					pair := [4]string{c.orgID, c.principal, c.kind, c.id}
					first := during(q, func() { c.check(t, f.svc) })
					again := during(q, func() { c.check(t, f.svc) })
					t.Logf("%-22s first %d statement(s): %s; then %d", c.name, len(first), strings.Join(first, " | "), len(again))
					want := v.miss
					if seen[pair] {
						want = v.hit
					}
					seen[pair] = true
					assert.Len(t, first, want, "%s: the first check", c.name)
					assert.Len(t, again, v.hit, "%s: the second check", c.name)
				}
			})
		}
	})

	t.Run("Authenticate", func(t *testing.T) {
		t.Parallel()
		for _, v := range []struct {
			name                  string
			opts                  pgstore.Options
			first, again, touched int
		}{
			// first: the key read, and its first use recorded; again:
			// within the minute; touched: a minute later, when its use is
			// recorded again.
			{"cache", pgstore.Options{CacheTTL: time.Hour}, 2, 0, 1},
			{"nokeycache", pgstore.Options{CacheTTL: time.Hour, DisableKeyCache: true}, 2, 1, 2},
		} {
			t.Run(v.name, func(t *testing.T) {
				st, q, conn := tracedStore(t, v.opts)
				f := newFixtureOn(t, st, "")
				id := f.newOrg(t, "wherobots", "professional", "bob", "user")
				_, secret, err := f.svc.CreateAPIKey(ctx, id, "bob", orgauthz.NewKey{Name: "k"})
				require.NoError(t, err)
				settle(t, st, conn)
				auth := func() []string {
					return during(q, func() {
						a, err := f.svc.Authenticate(ctx, secret.Reveal())
						require.NoError(t, err)
						require.Equal(t, "bob", a.PrincipalID)
					})
				}
				first := auth()
				again := auth()
				f.clock.Advance(orgauthz.DefaultKeyTouch)
				touched := auth()
				for _, x := range []struct {
					what  string
					stmts []string
					want  int
				}{{"first", first, v.first}, {"again", again, v.again}, {"a minute later", touched, v.touched}} {
					t.Logf("Authenticate, %-14s %d statement(s): %s", x.what, len(x.stmts), strings.Join(x.stmts, " | "))
					assert.Len(t, x.stmts, x.want, x.what)
				}
			})
		}
	})
}

// TestCheckScopeAllocations: a scope check answered from memory
// (memstore) or from pgstore's cache allocates nothing, whatever it
// decides. (AllocsPerRun needs a test that is not parallel.)
func TestCheckScopeAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, v := range []struct {
		name string
		open func(t *testing.T) (store.Store, string)
	}{
		{"memstore", func(t *testing.T) (store.Store, string) { return memstore.New(), "" }},
		{"pgstore", func(t *testing.T) (store.Store, string) {
			conn := pgtest.StoreDatabase(t)
			return openPGOn(t, conn, pgstore.Options{CacheTTL: time.Hour}), conn
		}},
	} {
		t.Run(v.name, func(t *testing.T) {
			st, conn := v.open(t)
			defer st.Close()
			f := newFixtureOn(t, st, "")
			cases := scopeFixture(t, f)
			if conn != "" {
				settle(t, st, conn)
			}
			for _, c := range cases {
				c.check(t, f.svc) // fills the cache
				if n := testing.AllocsPerRun(200, func() { c.check(t, f.svc) }); n != 0 {
					t.Errorf("%s: CheckScope allocates %v times per check", c.name, n)
				}
			}
		})
	}
}

// BenchmarkCheckScope measures Service.CheckScope, the checks rotating
// over scopeFixture's (a built-in role, a custom role, an implicit role,
// and denials):
//
//   - memstore: from memory;
//   - pgstore/cache: the default Options, filled before timing: a check
//     answered from pgstore's read cache. Goal: ≤ 300 ns/op, 0 allocs;
//   - pgstore/nocache: Options.DisableCache, every check one query: what
//     a cache miss costs.
func BenchmarkCheckScope(b *testing.B) {
	for _, v := range []struct {
		name string
		open func(b *testing.B) (store.Store, string)
	}{
		{"memstore", func(b *testing.B) (store.Store, string) { return memstore.New(), "" }},
		{"pgstore/cache", func(b *testing.B) (store.Store, string) {
			conn := pgtest.StoreDatabase(b)
			return openPGOn(b, conn, pgstore.Options{}), conn
		}},
		{"pgstore/nocache", func(b *testing.B) (store.Store, string) {
			return openPG(b, pgstore.Options{DisableCache: true}), ""
		}},
	} {
		b.Run(v.name, func(b *testing.B) {
			st, conn := v.open(b)
			defer st.Close()
			f := newFixtureOn(b, st, "")
			cases := scopeFixture(b, f)
			if conn != "" {
				settle(b, st, conn)
			}
			for _, c := range cases {
				c.check(b, f.svc)
			}
			b.Run("serial", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					c := &cases[i]
					if d := f.svc.CheckScope(ctx, c.orgID, c.principal, c.kind, c.id, c.c); d.Allowed != c.allowed {
						b.Fatalf("%s: %v", c.name, d)
					}
					if i++; i == len(cases) {
						i = 0
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				var next atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					i := int(next.Add(1)) % len(cases)
					for pb.Next() {
						c := &cases[i]
						if d := f.svc.CheckScope(ctx, c.orgID, c.principal, c.kind, c.id, c.c); d.Allowed != c.allowed {
							b.Errorf("%s: %v", c.name, d)
							return
						}
						if i++; i == len(cases) {
							i = 0
						}
					}
				})
			})
		})
	}
}

// BenchmarkAuthenticatePostgres measures Service.Authenticate of a good
// key over pgstore: from the key cache (the default) and, with
// Options.DisableKeyCache, reading the key each time.
func BenchmarkAuthenticatePostgres(b *testing.B) {
	conn := pgtest.StoreDatabase(b)
	for _, v := range []struct {
		name string
		opts pgstore.Options
	}{
		{"keycache", pgstore.Options{}},
		{"nokeycache", pgstore.Options{DisableKeyCache: true}},
	} {
		b.Run(v.name, func(b *testing.B) {
			st := openPGOn(b, conn, v.opts)
			// A prefix of its own each run (-count), on the shared database.
			f := newFixtureOn(b, st, fmt.Sprintf("%s-%d-", v.name, fences.Add(1)))
			id := f.newOrg(b, "wherobots", "professional", "bob", "user")
			_, secret, err := f.svc.CreateAPIKey(ctx, id, "bob", orgauthz.NewKey{Name: "k"})
			require.NoError(b, err)
			key := secret.Reveal()
			settle(b, st, conn)
			if _, err := f.svc.Authenticate(ctx, key); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.svc.Authenticate(ctx, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// replicaKeys is a key of bob's, made on replica A, and the services of
// both replicas.
type replicaKeys struct {
	a, b   *fixture
	orgID  string
	key    apikey.Key
	secret string
}

func newReplicaKeys(t *testing.T, opts pgstore.Options) replicaKeys {
	t.Helper()
	conn := pgtest.StoreDatabase(t)
	a := newFixtureOn(t, openPGOn(t, conn, opts), "a-")
	b := newFixtureOn(t, openPGOn(t, conn, opts), "b-")
	b.clock = a.clock
	id := a.newOrg(t, "wherobots", "professional", "bob", "admin", "ann", "admin")
	k, secret, err := a.svc.CreateAPIKey(ctx, id, "bob", orgauthz.NewKey{Name: "k"})
	require.NoError(t, err)
	rk := replicaKeys{a: a, b: b, orgID: id, key: k, secret: secret.Reveal()}
	// Both replicas know the key (and cache it, by default).
	for _, f := range []*fixture{a, b} {
		waitAuth(t, f, rk.secret, func(x authAnswer) bool { return x.err == nil }, nil)
	}
	return rk
}

// authAnswer is one answer of Authenticate.
type authAnswer struct {
	a   orgauthz.Authentication
	err error
}

// waitAuth polls f's Authenticate of key until want accepts its answer,
// failing the test after a generous bound, or at once on an answer
// meanwhile does not accept (nil accepts any); it returns how long that
// took.
func waitAuth(t *testing.T, f *fixture, key string, want, meanwhile func(authAnswer) bool) time.Duration {
	t.Helper()
	const bound = 10 * time.Second
	start := time.Now()
	for {
		a, err := f.svc.Authenticate(ctx, key)
		x := authAnswer{a, err}
		elapsed := time.Since(start)
		switch {
		case want(x):
			return elapsed
		case meanwhile != nil && !meanwhile(x):
			t.Fatalf("Authenticate = %+v, %v after %v: neither the answer awaited nor one allowed meanwhile", a, err, elapsed)
		case elapsed > bound:
			t.Fatalf("Authenticate = %+v, %v after %v: the answer awaited did not come", a, err, elapsed)
		}
		time.Sleep(time.Millisecond)
	}
}

func authOK(x authAnswer) bool { return x.err == nil }

func authRevoked(x authAnswer) bool { return errors.Is(x.err, orgauthz.ErrKeyRevoked) }

// TestAuthenticateAcrossReplicas: with the key cache on (the default), a
// key revoked on a replica is refused by that replica at once, and by
// another within the notification latency; so is a key whose owner is
// removed, and a key whose owner's role changes holds the new role's
// capabilities. With DisableKeyCache, every replica refuses a revoked key
// from the moment the revocation commits.
func TestAuthenticateAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		name string
		opts pgstore.Options
	}{
		{"keycache", pgstore.Options{CacheTTL: time.Hour}},
		{"nokeycache", pgstore.Options{CacheTTL: time.Hour, DisableKeyCache: true}},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			immediate := func(t *testing.T, f *fixture, key string, want func(authAnswer) bool, why string) {
				t.Helper()
				a, err := f.svc.Authenticate(ctx, key)
				if !want(authAnswer{a, err}) {
					t.Fatalf("%s: Authenticate = %+v, %v", why, a, err)
				}
			}
			// elsewhere waits for replica f with the key cache, and wants
			// the answer at once without.
			elsewhere := func(t *testing.T, f *fixture, key string, want, meanwhile func(authAnswer) bool, why string) {
				t.Helper()
				if v.opts.DisableKeyCache {
					immediate(t, f, key, want, why+", without the key cache")
					return
				}
				d := waitAuth(t, f, key, want, meanwhile)
				t.Logf("%s: after %v", why, d)
			}

			t.Run("Revocation", func(t *testing.T) {
				t.Parallel()
				rk := newReplicaKeys(t, v.opts)
				require.NoError(t, rk.a.svc.RevokeAPIKey(ctx, rk.orgID, "ann", rk.key.ID))
				immediate(t, rk.a, rk.secret, authRevoked, "the replica that revoked the key")
				elsewhere(t, rk.b, rk.secret, authRevoked, authOK, "the other replica")
				// And the other way round, with a key made on B.
				k, secret, err := rk.b.svc.CreateAPIKey(ctx, rk.orgID, "bob", orgauthz.NewKey{Name: "k2"})
				require.NoError(t, err)
				waitAuth(t, rk.a, secret.Reveal(), authOK, nil)
				require.NoError(t, rk.b.svc.RevokeAPIKey(ctx, rk.orgID, "bob", k.ID))
				immediate(t, rk.b, secret.Reveal(), authRevoked, "the replica that revoked the key")
				elsewhere(t, rk.a, secret.Reveal(), authRevoked, authOK, "the other replica")
			})
			t.Run("OwnerRemoved", func(t *testing.T) {
				t.Parallel()
				rk := newReplicaKeys(t, v.opts)
				require.NoError(t, rk.a.svc.RemoveMember(ctx, rk.orgID, "ann", "bob"))
				immediate(t, rk.a, rk.secret, authRevoked, "the replica that removed the owner")
				elsewhere(t, rk.b, rk.secret, authRevoked, authOK, "the other replica")
			})
			t.Run("OwnerRoleChanged", func(t *testing.T) {
				t.Parallel()
				rk := newReplicaKeys(t, v.opts)
				const adminOnly = "audit_logs:view" // an admin's, not a user's
				can := func(x authAnswer) bool { return x.err == nil && x.a.Can(adminOnly) }
				cannot := func(x authAnswer) bool { return x.err == nil && !x.a.Can(adminOnly) }
				immediate(t, rk.b, rk.secret, can, "an admin's key before the change")
				_, err := rk.a.svc.ChangeRole(ctx, rk.orgID, "ann", "bob", "user")
				require.NoError(t, err)
				immediate(t, rk.a, rk.secret, cannot, "the replica that demoted the owner")
				elsewhere(t, rk.b, rk.secret, cannot, can, "the other replica")
				_, err = rk.b.svc.ChangeRole(ctx, rk.orgID, "ann", "bob", "admin")
				require.NoError(t, err)
				immediate(t, rk.b, rk.secret, can, "the replica that promoted the owner")
				elsewhere(t, rk.a, rk.secret, can, cannot, "the other replica")
			})
		})
	}
}

// TestCheckScopeDeniesANonMemberFirst: a principal who is not a member of
// the organization is told so, as Check tells it, before anything about
// the organization (that it is archived, or that its scheme is unknown to
// the service) or the resource.
func TestCheckScopeDeniesANonMemberFirst(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		id := f.newOrg(t, "uipath", "", "ann", "administrator")
		sc, err := f.svc.CreateScope(ctx, id, "ann", edition.ScopeService, "Orchestrator")
		require.NoError(t, err)
		err = f.st.Update(ctx, id, func(ctx context.Context, tx store.Tx) error {
			o, err := tx.Organization(ctx)
			if err != nil {
				return err
			}
			o.Scheme, o.Archived = "unknown-scheme", true
			return tx.UpdateOrganization(ctx, o)
		})
		require.NoError(t, err)
		assert.Equal(t, policy.ReasonNotMember, f.svc.Check(ctx, id, "stranger", "service:access").Reason)
		assert.Equal(t, policy.ReasonNotMember, f.svc.CheckScope(ctx, id, "stranger", edition.ScopeService, sc.ID, "service:access").Reason)
		sp := org.Principal{ID: "ann", Kind: org.ServicePrincipal}
		assert.Equal(t, policy.ReasonNotMember, f.svc.CheckScopePrincipal(ctx, id, sp, edition.ScopeService, sc.ID, "service:access").Reason)
		// A member learns that the organization is archived, as Check
		// tells it, before that its scheme is unknown.
		assert.Equal(t, policy.ReasonArchived, f.svc.Check(ctx, id, "ann", "service:access").Reason)
		assert.Equal(t, policy.ReasonArchived, f.svc.CheckScope(ctx, id, "ann", edition.ScopeService, sc.ID, "service:access").Reason)
		assert.Equal(t, policy.ReasonArchived, f.svc.CheckScopePrincipal(ctx, id, user("ann"), edition.ScopeService, sc.ID, "service:access").Reason)
	})
}
