package httpauthz_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/orgauthz/orgauthz/role"
)

// hzDiscard is a minimal ResponseWriter: it keeps the status and drops
// the body, so that a benchmark measures the middleware alone.
type hzDiscard struct {
	h      http.Header
	status int
	n      int
}

func (d *hzDiscard) Header() http.Header         { return d.h }
func (d *hzDiscard) WriteHeader(status int)      { d.status = status }
func (d *hzDiscard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

func (d *hzDiscard) reset() {
	clear(d.h)
	d.status, d.n = 0, 0
}

var hzNoop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// BenchmarkGuard measures the middleware's overhead per request over
// memstore: Authenticate then Require of a capability the caller holds,
// in front of a handler that does nothing. The session's SessionFunc is
// trivial, so the host's own authentication costs nothing; the path value
// is set on the request as a ServeMux would, so the mux costs nothing
// either.
func BenchmarkGuard(b *testing.B) {
	f := newHZFixture(b)
	orgID := f.newOrg(b, "wherobots", "professional", "u-ada", "u-bob", "user")
	key, _ := f.key(b, orgID, "u-bob")
	ai := f.newOrg(b, "aiengine", "", "u-ada", "u-vic", "viewer")
	proj, err := f.svc.CreateScope(hzCtx, ai, "u-ada", edition.ScopeProject, "Lab")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.svc.AddScopeMember(hzCtx, ai, "u-ada", edition.ScopeProject, proj.ID, hzUser("u-vic"), "editor"); err != nil {
		b.Fatal(err)
	}
	bob := httpauthz.Identity{PrincipalID: "u-bob"}
	trivial := httpauthz.Session(func(r *http.Request) (httpauthz.Identity, bool, error) {
		if r.Header.Get("Authorization") != "" {
			return httpauthz.Identity{}, false, nil
		}
		return bob, true, nil
	})
	vic := httpauthz.Session(func(*http.Request) (httpauthz.Identity, bool, error) {
		return httpauthz.Identity{PrincipalID: "u-vic"}, true, nil
	})

	run := func(b *testing.B, auths []httpauthz.Authenticator, mw func(*httpauthz.Guard) func(http.Handler) http.Handler, r *http.Request) {
		g, err := httpauthz.New(httpauthz.Options{Service: f.svc, Authenticators: auths})
		if err != nil {
			b.Fatal(err)
		}
		h := g.Authenticate(mw(g)(hzNoop))
		w := &hzDiscard{h: http.Header{}}
		h.ServeHTTP(w, r) // the key's last-used time is written once, here
		if w.status != 0 {
			b.Fatalf("refused: %d", w.status)
		}
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
		if w.status != 0 {
			b.Fatalf("refused: %d", w.status)
		}
	}
	require := func(c role.Capability) func(*httpauthz.Guard) func(http.Handler) http.Handler {
		return func(g *httpauthz.Guard) func(http.Handler) http.Handler { return g.MustRequire(c) }
	}
	jobs := func(auth string) *http.Request {
		r := httptest.NewRequest("POST", "/orgs/"+orgID+"/jobs", nil)
		r.SetPathValue("org", orgID)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}

	b.Run("session", func(b *testing.B) {
		run(b, []httpauthz.Authenticator{trivial}, require("job_runs:create"), jobs(""))
	})
	b.Run("key", func(b *testing.B) {
		run(b, []httpauthz.Authenticator{httpauthz.APIKeys(f.svc)}, require("job_runs:create"), jobs("Bearer "+key))
	})
	// A host's usual Guard, both authenticators, and either credential.
	b.Run("session-of-both", func(b *testing.B) {
		run(b, []httpauthz.Authenticator{trivial, httpauthz.APIKeys(f.svc)}, require("job_runs:create"), jobs(""))
	})
	b.Run("key-of-both", func(b *testing.B) {
		run(b, []httpauthz.Authenticator{trivial, httpauthz.APIKeys(f.svc)}, require("job_runs:create"), jobs("Bearer "+key))
	})
	// RequireScope, for comparison.
	b.Run("scope-session", func(b *testing.B) {
		r := httptest.NewRequest("GET", "/orgs/"+ai+"/projects/"+proj.ID+"/assets", nil)
		r.SetPathValue("org", ai)
		r.SetPathValue("project", proj.ID)
		run(b, []httpauthz.Authenticator{vic}, func(g *httpauthz.Guard) func(http.Handler) http.Handler {
			return g.MustRequireScope(edition.ScopeProject, "project", "project/assets:manage")
		}, r)
	})
}

// BenchmarkAPIMembers measures GET /orgs/{org}/members?limit=20 through
// the management API's handler over memstore, for an organization of 50
// members, with a trivial SessionFunc.
func BenchmarkAPIMembers(b *testing.B) {
	f := newHZFixture(b)
	var members []string
	for i := range 49 {
		members = append(members, fmt.Sprintf("u-%03d", i), "user")
	}
	orgID := f.newOrg(b, "wherobots", "enterprise", "u-ada", members...)
	ada := httpauthz.Identity{PrincipalID: "u-ada"}
	g, err := httpauthz.New(httpauthz.Options{Service: f.svc, Authenticators: []httpauthz.Authenticator{
		httpauthz.Session(func(*http.Request) (httpauthz.Identity, bool, error) { return ada, true, nil }),
	}})
	if err != nil {
		b.Fatal(err)
	}
	api, err := httpauthz.NewAPI(httpauthz.APIOptions{Guard: g, Prefix: "/api"})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api/orgs/"+orgID+"/members?limit=20", nil)
	w := &hzDiscard{h: http.Header{}}
	api.ServeHTTP(w, r)
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		api.ServeHTTP(w, r)
	}
	if w.status != http.StatusOK || w.n < 20*50 {
		b.Fatalf("status %d, %d bytes", w.status, w.n)
	}
}
