package httpauthz_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hzWhoami is the caller a handler sees.
type hzWhoami struct {
	Anonymous bool   `json:"anonymous,omitempty"`
	Principal string `json:"principal,omitempty"`
	Via       string `json:"via,omitempty"`
	Email     string `json:"email,omitempty"`
	KeyOrg    string `json:"key_org,omitempty"`
	KeyID     string `json:"key_id,omitempty"`
}

// hzWhoamiHandler answers with the request's Caller.
var hzWhoamiHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := httpauthz.CallerFrom(r.Context())
	out := hzWhoami{Anonymous: !ok}
	if ok {
		out = hzWhoami{Principal: c.PrincipalID, Via: string(c.Via), Email: c.Email, KeyOrg: c.Key.OrgID, KeyID: c.Key.KeyID}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
})

// hzGuardRoutes are a host's routes behind g.Authenticate.
func hzGuardRoutes(g *httpauthz.Guard) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /whoami", hzWhoamiHandler)
	mux.Handle("GET /orgs/{org}/billing", g.MustRequire("billing:view")(hzWhoamiHandler))
	mux.Handle("POST /orgs/{org}/jobs", g.MustRequire("job_runs:create")(hzWhoamiHandler))
	mux.Handle("GET /orgs/{org}/notebooks", g.MustRequire("notebook:start")(hzWhoamiHandler))
	mux.Handle("GET /billing", g.MustRequire("billing:view")(hzWhoamiHandler)) // a route without an organization
	mux.Handle("GET /orgs/{org}/projects/{project}/assets", g.MustRequireScope(edition.ScopeProject, "project", "project/assets:manage")(hzWhoamiHandler))
	return g.Authenticate(mux)
}

func (a hzAnswer) caller(t testing.TB) hzWhoami {
	t.Helper()
	require.Equal(t, http.StatusOK, a.Status, "%s", a)
	var w hzWhoami
	a.decode(t, &w)
	return w
}

// hzUnknownKey is a key string with a valid checksum that no key
// of the service has.
func hzUnknownKey(t testing.TB) string {
	t.Helper()
	s, err := apikey.NewSecret(orgauthz.DefaultKeyPrefix)
	require.NoError(t, err)
	return s.Reveal()
}

// hzAssertNoLeak checks that a refusal's body names none of the given
// principals, key IDs and key strings.
func hzAssertNoLeak(t testing.TB, a hzAnswer, others ...string) {
	t.Helper()
	for _, s := range others {
		assert.NotContains(t, string(a.Body), s, "the refusal names %q", s)
	}
}

func TestGuardAuthenticate(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	orgA := f.newOrg(t, "wherobots", "professional", "u-ada", "u-bob", "user")
	adaSession := f.session("u-ada", "ada@example.com")
	bobKey, bobKeyID := f.key(t, orgA, "u-bob")
	revoked, revokedID := f.key(t, orgA, "u-bob")
	require.NoError(t, f.svc.RevokeAPIKey(hzCtx, orgA, "u-bob", revokedID))
	ended := f.session("u-ada", "ada@example.com")
	f.endSession(ended)

	sessionFirst := hzServe(t, hzGuardRoutes(f.guard(t, httpauthz.Options{})))
	keyFirst := hzServe(t, hzGuardRoutes(f.guard(t, httpauthz.Options{
		Authenticators: []httpauthz.Authenticator{httpauthz.APIKeys(f.svc), httpauthz.Session(f.sessionFunc)},
	})))
	orders := map[string]string{"session first": sessionFirst, "key first": keyFirst}

	for name, base := range orders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// A session alone.
			got := hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Session: adaSession}).caller(t)
			assert.Equal(t, hzWhoami{Principal: "u-ada", Via: "session", Email: "ada@example.com"}, got)
			// A key alone, by Authorization and by X-API-Key.
			want := hzWhoami{Principal: "u-bob", Via: "api_key", KeyOrg: orgA, KeyID: bobKeyID}
			assert.Equal(t, want, hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Key: bobKey}).caller(t))
			assert.Equal(t, want, hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Header: map[string]string{"X-API-Key": bobKey}}).caller(t))
			assert.Equal(t, want, hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Header: map[string]string{"Authorization": "bearer  " + bobKey + " "}}).caller(t),
				"the scheme is case-insensitive and the key trimmed")

			// A bad key next to a valid session is refused, whatever the order.
			for _, bad := range []struct{ key, reason string }{
				{orgauthz.DefaultKeyPrefix + "_not-a-key", "invalid-key"},
				{hzUnknownKey(t), "invalid-key"},
				{bobKey[:len(bobKey)-1] + hzFlipLast(bobKey), "invalid-key"}, // a bad checksum
				{revoked, "key-revoked"},
			} {
				a := hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Session: adaSession, Key: bad.key})
				require.Equal(t, http.StatusUnauthorized, a.Status, "%s", a)
				assert.Equal(t, bad.reason, a.problem(t).Reason)
				assert.Equal(t, `Bearer realm="api", error="invalid_token"`, a.Header.Get("WWW-Authenticate"))
				assert.Equal(t, "no-store", a.Header.Get("Cache-Control"))
				hzAssertNoLeak(t, a, bad.key, bobKeyID, revokedID, "u-bob", "u-ada")
			}
			// A bad session next to a valid key, likewise.
			for _, sid := range []string{ended, "sess-forged"} {
				a := hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Session: sid, Key: bobKey})
				require.Equal(t, http.StatusUnauthorized, a.Status, "%s", a)
				assert.Equal(t, "invalid-session", a.problem(t).Reason)
				assert.Equal(t, `Bearer realm="api", error="invalid_token"`, a.Header.Get("WWW-Authenticate"))
				hzAssertNoLeak(t, a, sid, "u-bob", "u-ada")
			}

			// No credential at all; a scheme other than Bearer is none.
			for _, h := range []map[string]string{nil, {"Authorization": "Basic dTpw"}, {"Authorization": "Bearer "}, {"X-API-Key": "  "}} {
				a := hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Header: h})
				require.Equal(t, http.StatusUnauthorized, a.Status, "%v: %s", h, a)
				assert.Equal(t, "unauthenticated", a.problem(t).Reason)
				assert.Equal(t, `Bearer realm="api"`, a.Header.Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("both valid: the host's order decides", func(t *testing.T) {
		t.Parallel()
		c := hzCall{Method: "GET", Path: "/whoami", Session: adaSession, Key: bobKey}
		assert.Equal(t, hzWhoami{Principal: "u-ada", Via: "session", Email: "ada@example.com"}, hzDo(t, sessionFirst, c).caller(t))
		assert.Equal(t, hzWhoami{Principal: "u-bob", Via: "api_key", KeyOrg: orgA, KeyID: bobKeyID}, hzDo(t, keyFirst, c).caller(t))
		// And the winner is the one checked: ada's session holds billing:view, bob's key does not.
		c.Path = "/orgs/" + orgA + "/billing"
		assert.Equal(t, http.StatusOK, hzDo(t, sessionFirst, c).Status)
		a := hzDo(t, keyFirst, c)
		require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
		assert.Equal(t, "role-lacks", a.problem(t).Reason)
	})

	t.Run("archived organization key", func(t *testing.T) {
		t.Parallel()
		orgZ := f.newOrg(t, "wherobots", "professional", "u-zed")
		zedKey, zedKeyID := f.key(t, orgZ, "u-zed")
		require.NoError(t, f.svc.Host().ArchiveOrganization(hzCtx, orgZ))
		for _, base := range orders {
			a := hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Key: zedKey})
			require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
			assert.Equal(t, "archived", a.problem(t).Reason)
			assert.Empty(t, a.Header.Get("WWW-Authenticate"), "a 403 is no challenge")
			hzAssertNoLeak(t, a, zedKey, zedKeyID, "u-zed")
		}
	})

	t.Run("an outer Guard's caller is kept", func(t *testing.T) {
		t.Parallel()
		g := f.guard(t, httpauthz.Options{})
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/whoami", nil)
		req = req.WithContext(httpauthz.WithCaller(req.Context(), httpauthz.Caller{PrincipalID: "u-ada", Via: httpauthz.ViaSession}))
		g.Authenticate(hzWhoamiHandler).ServeHTTP(rec, req)
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Contains(t, rec.Body.String(), `"principal":"u-ada"`)
	})
}

// hzFlipLast returns a character other than s's last.
func hzFlipLast(s string) string {
	if strings.HasSuffix(s, "a") {
		return "b"
	}
	return "a"
}

func TestGuardNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	_, err := httpauthz.New(httpauthz.Options{})
	assert.Error(t, err)
	_, err = httpauthz.New(httpauthz.Options{Service: f.svc, Authenticators: []httpauthz.Authenticator{nil}})
	assert.ErrorContains(t, err, "Authenticators[0]")
	// No authenticators means API keys alone.
	g, err := httpauthz.New(httpauthz.Options{Service: f.svc})
	require.NoError(t, err)
	orgA := f.newOrg(t, "wherobots", "professional", "u-ada")
	key, _ := f.key(t, orgA, "u-ada")
	base := hzServe(t, hzGuardRoutes(g))
	assert.Equal(t, "api_key", hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Key: key}).caller(t).Via)
	a := hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Session: f.session("u-ada", "")})
	assert.Equal(t, http.StatusUnauthorized, a.Status, "a session is no credential to a Guard without a SessionFunc")
}

func TestGuardSessionFuncContract(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	fns := map[string]httpauthz.SessionFunc{
		"empty principal": func(*http.Request) (httpauthz.Identity, bool, error) { return httpauthz.Identity{}, true, nil },
		"host reason": func(*http.Request) (httpauthz.Identity, bool, error) {
			return httpauthz.Identity{}, true, &httpauthz.AuthError{Reason: "session-expired", Detail: "sign in again"}
		},
	}
	want := map[string]string{"empty principal": "invalid-session", "host reason": "session-expired"}
	for name, fn := range fns {
		g := f.guard(t, httpauthz.Options{Authenticators: []httpauthz.Authenticator{httpauthz.Session(fn)}})
		rec := httptest.NewRecorder()
		g.Authenticate(hzWhoamiHandler).ServeHTTP(rec, httptest.NewRequest("GET", "/whoami", nil))
		assert.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assert.Contains(t, rec.Body.String(), `"reason":"`+want[name]+`"`, name)
	}
	// An Authenticator's own error, not an AuthError, is "invalid-credentials".
	g := f.guard(t, httpauthz.Options{Authenticators: []httpauthz.Authenticator{hzFailing{}}})
	rec := httptest.NewRecorder()
	g.Authenticate(hzWhoamiHandler).ServeHTTP(rec, httptest.NewRequest("GET", "/whoami", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Body.String(), `"reason":"invalid-credentials"`)
	assert.NotContains(t, rec.Body.String(), "secret cause")
}

type hzFailing struct{}

func (hzFailing) Authenticate(*http.Request) (httpauthz.Caller, bool, error) {
	return httpauthz.Caller{}, true, hzErrSecretCause
}

var hzErrSecretCause = &hzCauseError{}

type hzCauseError struct{}

func (*hzCauseError) Error() string { return "secret cause" }

func TestGuardOptional(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	orgA := f.newOrg(t, "wherobots", "professional", "u-ada")
	key, _ := f.key(t, orgA, "u-ada")
	g := f.guard(t, httpauthz.Options{})
	base := hzServe(t, g.Optional(hzWhoamiHandler))

	assert.Equal(t, hzWhoami{Anonymous: true}, hzDo(t, base, hzCall{Method: "GET", Path: "/"}).caller(t))
	assert.Equal(t, "u-ada", hzDo(t, base, hzCall{Method: "GET", Path: "/", Session: f.session("u-ada", "")}).caller(t).Principal)
	assert.Equal(t, "api_key", hzDo(t, base, hzCall{Method: "GET", Path: "/", Key: key}).caller(t).Via)
	for _, c := range []hzCall{
		{Method: "GET", Path: "/", Key: "oak_bad"},
		{Method: "GET", Path: "/", Key: hzUnknownKey(t)},
		{Method: "GET", Path: "/", Session: "sess-forged"},
	} {
		a := hzDo(t, base, c)
		require.Equal(t, http.StatusUnauthorized, a.Status, "%s", a)
		assert.Contains(t, []string{"invalid-key", "invalid-session"}, a.problem(t).Reason)
	}
}

func TestGuardRequireOrganization(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	orgA := f.newOrg(t, "wherobots", "professional", "u-ada", "u-bob", "user")
	orgB := f.newOrg(t, "wherobots", "professional", "u-bea")
	adaKey, adaKeyID := f.key(t, orgA, "u-ada")
	bobKey, _ := f.key(t, orgA, "u-bob")
	ada := f.session("u-ada", "")
	g := f.guard(t, httpauthz.Options{})
	base := hzServe(t, hzGuardRoutes(g))

	t.Run("PathOrg", func(t *testing.T) {
		assert.Equal(t, "u-ada", hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgA + "/billing", Session: ada}).caller(t).Principal)
		assert.Equal(t, "u-ada", hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgA + "/billing", Key: adaKey}).caller(t).Principal)
	})

	t.Run("a key of A on B's route", func(t *testing.T) {
		// The Issue: ada is admin in A and holds billing:view there; her
		// key of A must not pass on B's route.
		a := hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgB + "/billing", Key: adaKey})
		require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
		p := a.problem(t)
		assert.Equal(t, "wrong-organization", p.Reason)
		assert.Empty(t, p.Capability)
		assert.Empty(t, p.Role)
		hzAssertNoLeak(t, a, adaKey, adaKeyID, "u-ada", "u-bea")
		// Not even when ada is an admin of B too: the key is A's.
		_, err := f.svc.Host().Provision(hzCtx, orgB, hzUser("u-ada"), "admin")
		require.NoError(t, err)
		a = hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgB + "/billing", Key: adaKey})
		require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
		assert.Equal(t, "wrong-organization", a.problem(t).Reason)
		// While her session passes there.
		assert.Equal(t, http.StatusOK, hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgB + "/billing", Session: ada}).Status)
		// And an unknown organization is "wrong-organization" too.
		a = hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/no-such-org/billing", Key: adaKey})
		assert.Equal(t, "wrong-organization", a.problem(t).Reason)
	})

	t.Run("not a member", func(t *testing.T) {
		cyd := f.session("u-cyd", "cyd@example.com")
		member := hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgB + "/billing", Session: cyd})
		require.Equal(t, http.StatusForbidden, member.Status, "%s", member)
		p := member.problem(t)
		assert.Equal(t, "not-member", p.Reason)
		assert.Empty(t, p.Capability, "a non-member learns nothing of the organization's capabilities")
		assert.Empty(t, p.Role)
		assert.Empty(t, p.Editions)
		hzAssertNoLeak(t, member, "u-bea", "u-ada", "professional")
		unknown := hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/no-such-org/billing", Session: cyd})
		require.Equal(t, http.StatusForbidden, unknown.Status, "%s", unknown)
		assert.Equal(t,
			strings.ReplaceAll(string(member.Body), orgB, "ORG"),
			strings.ReplaceAll(string(unknown.Body), "no-such-org", "ORG"),
			"an unknown organization and one the caller is not in hzAnswer alike")
		assert.Equal(t, hzComparable(member.Header), hzComparable(unknown.Header))
		// An archived one too.
		orgZ := f.newOrg(t, "wherobots", "professional", "u-zed")
		require.NoError(t, f.svc.Host().ArchiveOrganization(hzCtx, orgZ))
		archived := hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgZ + "/billing", Session: cyd})
		assert.Equal(t,
			strings.ReplaceAll(string(member.Body), orgB, "ORG"),
			strings.ReplaceAll(string(archived.Body), orgZ, "ORG"))
		// Its members are told it is archived.
		a := hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgZ + "/billing", Session: f.session("u-zed", "")})
		require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
		assert.Equal(t, "archived", a.problem(t).Reason)
	})

	t.Run("no organization in the route", func(t *testing.T) {
		// A key is checked in its own organization.
		assert.Equal(t, "u-ada", hzDo(t, base, hzCall{Method: "GET", Path: "/billing", Key: adaKey}).caller(t).Principal)
		a := hzDo(t, base, hzCall{Method: "GET", Path: "/billing", Key: bobKey})
		require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
		assert.Equal(t, "role-lacks", a.problem(t).Reason)
		// A session is refused.
		a = hzDo(t, base, hzCall{Method: "GET", Path: "/billing", Session: ada})
		require.Equal(t, http.StatusBadRequest, a.Status, "%s", a)
		assert.Equal(t, "missing-organization", a.problem(t).Reason)
	})

	t.Run("HeaderOrg", func(t *testing.T) {
		hg := f.guard(t, httpauthz.Options{Org: httpauthz.HeaderOrg("X-Org")})
		hbase := hzServe(t, hzGuardRoutes(hg))
		in := func(o string) map[string]string { return map[string]string{"X-Org": o} }
		assert.Equal(t, "u-ada", hzDo(t, hbase, hzCall{Method: "GET", Path: "/billing", Session: ada, Header: in(orgA)}).caller(t).Principal)
		assert.Equal(t, "u-ada", hzDo(t, hbase, hzCall{Method: "GET", Path: "/billing", Session: ada, Header: in(" " + orgA + " ")}).caller(t).Principal, "the header is trimmed")
		assert.Equal(t, "u-ada", hzDo(t, hbase, hzCall{Method: "GET", Path: "/billing", Key: adaKey, Header: in(orgA)}).caller(t).Principal)
		a := hzDo(t, hbase, hzCall{Method: "GET", Path: "/billing", Key: adaKey, Header: in(orgB)})
		require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
		assert.Equal(t, "wrong-organization", a.problem(t).Reason)
		a = hzDo(t, hbase, hzCall{Method: "GET", Path: "/billing", Session: f.session("u-cyd", ""), Header: in(orgA)})
		require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
		assert.Equal(t, "not-member", a.problem(t).Reason)
		// No header: the key's own organization; a session is refused.
		assert.Equal(t, "u-ada", hzDo(t, hbase, hzCall{Method: "GET", Path: "/billing", Key: adaKey}).caller(t).Principal)
		a = hzDo(t, hbase, hzCall{Method: "GET", Path: "/billing", Session: ada})
		require.Equal(t, http.StatusBadRequest, a.Status, "%s", a)
		assert.Equal(t, "missing-organization", a.problem(t).Reason)
		// The path value is not the HeaderOrg guard's organization.
		a = hzDo(t, hbase, hzCall{Method: "GET", Path: "/orgs/" + orgA + "/billing", Session: ada, Header: in(orgB)})
		require.Equal(t, http.StatusOK, a.Status, "%s", a) // ada is admin of B (provisioned above)
	})
}

// hzComparable returns h without the headers that differ with the
// request's own path (Date, Content-Length).
func hzComparable(h http.Header) http.Header {
	h = h.Clone()
	h.Del("Date")
	h.Del("Content-Length")
	return h
}

func TestGuardRequireWithoutAuthenticate(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	g := f.guard(t, httpauthz.Options{})
	rec := httptest.NewRecorder()
	g.MustRequire("billing:view")(hzWhoamiHandler).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer realm="api"`, rec.Header().Get("WWW-Authenticate"))
	assert.Contains(t, rec.Body.String(), `"reason":"unauthenticated"`)
	rec = httptest.NewRecorder()
	g.MustRequireScope(edition.ScopeProject, "project", "project:view")(hzWhoamiHandler).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestGuardRequireIsValidated(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	g := f.guard(t, httpauthz.Options{})

	mw, err := g.Require("notebooks:start") // Wherobots has notebook:start
	assert.Nil(t, mw)
	require.ErrorIs(t, err, httpauthz.ErrUnknownCapability)
	require.ErrorIs(t, err, orgauthz.ErrUnknownCapability)
	assert.Contains(t, err.Error(), `"notebooks:start"`)
	assert.Contains(t, err.Error(), "wherobots")
	assert.PanicsWithError(t, err.Error(), func() { g.MustRequire("notebooks:start") })

	for _, c := range []role.Capability{"", "notebook", "Notebook:Start", "notebook:start:now", ":start", "a b:c"} {
		_, err := g.Require(c)
		assert.ErrorIs(t, err, role.ErrInvalidCapability, "%q", c)
		assert.Panics(t, func() { g.MustRequire(c) }, "%q", c)
	}
	// Every scheme's capabilities are known, scope capabilities are not
	// organization capabilities.
	for _, c := range []role.Capability{"notebook:start", "projects:create", "services:view", "workspaces:edit"} {
		_, err := g.Require(c)
		assert.NoError(t, err, c)
	}
	_, err = g.Require("project:view")
	assert.ErrorIs(t, err, httpauthz.ErrUnknownCapability)

	// RequireScope.
	_, err = g.RequireScope(edition.ScopeProject, "project", "project/assets:manage")
	assert.NoError(t, err)
	_, err = g.RequireScope("notebook", "id", "project:view")
	assert.ErrorIs(t, err, orgauthz.ErrUnknownScope)
	assert.Contains(t, err.Error(), `"notebook"`)
	_, err = g.RequireScope(edition.ScopeProject, "project", "workspace:use") // a workspace's
	assert.ErrorIs(t, err, httpauthz.ErrUnknownCapability)
	assert.Contains(t, err.Error(), `"workspace:use"`)
	_, err = g.RequireScope(edition.ScopeProject, "project", "projects:create") // an organization capability
	assert.ErrorIs(t, err, httpauthz.ErrUnknownCapability)
	_, err = g.RequireScope(edition.ScopeProject, "project", "Project:View")
	assert.ErrorIs(t, err, role.ErrInvalidCapability)
	_, err = g.RequireScope(edition.ScopeProject, "", "project:view")
	assert.Error(t, err)
	assert.Panics(t, func() { g.MustRequireScope("notebook", "id", "project:view") })
	assert.NotPanics(t, func() { g.MustRequireScope(edition.ScopeWorkspace, "ws", "workspace:use") })
}

func TestGuardDenials(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	orgA := f.newOrg(t, "wherobots", "professional", "u-ada", "u-bob", "user")
	orgC := f.newOrg(t, "wherobots", "community", "u-cal", "u-cyd", "user")
	adaKey, adaKeyID := f.key(t, orgA, "u-ada")
	adaScoped, adaScopedID := f.key(t, orgA, "u-ada", "cloud:use", "notebook:start")
	bobKey, bobKeyID := f.key(t, orgA, "u-bob")
	cydKey, cydKeyID := f.key(t, orgC, "u-cyd")
	calKey, calKeyID := f.key(t, orgC, "u-cal")
	secrets := []string{adaKey, adaKeyID, adaScoped, adaScopedID, bobKey, bobKeyID, cydKey, cydKeyID, calKey, calKeyID}
	base := hzServe(t, hzGuardRoutes(f.guard(t, httpauthz.Options{})))
	others := func(caller string) []string {
		var out []string
		for _, p := range []string{"u-ada", "u-bob", "u-cal", "u-cyd"} {
			if p != caller {
				out = append(out, p)
			}
		}
		return append(out, secrets...)
	}

	t.Run("edition-gated", func(t *testing.T) {
		for _, c := range []hzCall{
			{Method: "POST", Path: "/orgs/" + orgC + "/jobs", Session: f.session("u-cyd", "")},
			{Method: "POST", Path: "/orgs/" + orgC + "/jobs", Key: cydKey},
			{Method: "POST", Path: "/orgs/" + orgC + "/jobs", Session: f.session("u-cal", "")},
		} {
			a := hzDo(t, base, c)
			require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
			p := a.problem(t)
			assert.Equal(t, "edition-gated", p.Reason)
			assert.Equal(t, []string{"professional", "enterprise"}, p.Editions)
			assert.Equal(t, "job_runs:create", p.Capability)
			assert.Contains(t, p.Detail, `"community"`)
			hzAssertNoLeak(t, a, others("")...)
		}
		// The same route in a professional organization passes.
		assert.Equal(t, http.StatusOK, hzDo(t, base, hzCall{Method: "POST", Path: "/orgs/" + orgA + "/jobs", Key: bobKey}).Status)
	})

	t.Run("role-lacks", func(t *testing.T) {
		for _, c := range []hzCall{
			{Method: "GET", Path: "/orgs/" + orgA + "/billing", Session: f.session("u-bob", "")},
			{Method: "GET", Path: "/orgs/" + orgA + "/billing", Key: bobKey},
		} {
			a := hzDo(t, base, c)
			require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
			p := a.problem(t)
			assert.Equal(t, "role-lacks", p.Reason)
			assert.Equal(t, "billing:view", p.Capability)
			assert.Equal(t, "user", p.Role)
			assert.Empty(t, p.Editions)
			assert.Contains(t, p.Detail, `"billing:view"`)
			assert.Contains(t, p.Detail, `"user"`)
			hzAssertNoLeak(t, a, others("")...)
		}
	})

	t.Run("key-scope", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgA + "/notebooks", Key: adaScoped}).Status)
		a := hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgA + "/billing", Key: adaScoped})
		require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
		p := a.problem(t)
		assert.Equal(t, "key-scope", p.Reason)
		assert.Equal(t, "billing:view", p.Capability)
		assert.Contains(t, p.Detail, `"billing:view"`)
		hzAssertNoLeak(t, a, others("")...)
		// Her unscoped key and her session pass.
		assert.Equal(t, http.StatusOK, hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgA + "/billing", Key: adaKey}).Status)
	})

	t.Run("a demoted owner's key narrows at once", func(t *testing.T) {
		orgD := f.newOrg(t, "wherobots", "professional", "u-dan", "u-dot", "admin")
		dotKey, _ := f.key(t, orgD, "u-dot")
		assert.Equal(t, http.StatusOK, hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgD + "/billing", Key: dotKey}).Status)
		_, err := f.svc.ChangeRole(hzCtx, orgD, "u-dan", "u-dot", "user")
		require.NoError(t, err)
		a := hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgD + "/billing", Key: dotKey})
		require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
		assert.Equal(t, "role-lacks", a.problem(t).Reason)
	})
}

func TestGuardRequireScope(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	orgE := f.newOrg(t, "aiengine", "", "u-ada", "u-vic", "viewer", "u-nora", "viewer")
	orgF := f.newOrg(t, "aiengine", "", "u-fay")
	proj, err := f.svc.CreateScope(hzCtx, orgE, "u-ada", edition.ScopeProject, "Lab")
	require.NoError(t, err)
	_, err = f.svc.AddScopeMember(hzCtx, orgE, "u-ada", edition.ScopeProject, proj.ID, hzUser("u-vic"), "editor")
	require.NoError(t, err)
	vicKey, vicKeyID := f.key(t, orgE, "u-vic")
	vicScoped, vicScopedID := f.key(t, orgE, "u-vic", "projects:be_member")
	noraKey, noraKeyID := f.key(t, orgE, "u-nora")
	base := hzServe(t, hzGuardRoutes(f.guard(t, httpauthz.Options{})))
	assets := func(o, p string) string { return "/orgs/" + o + "/projects/" + p + "/assets" }
	secrets := []string{vicKey, vicKeyID, vicScoped, vicScopedID, noraKey, noraKeyID, "u-ada", "u-fay"}

	// A project member, by session and by an unscoped key.
	assert.Equal(t, "u-vic", hzDo(t, base, hzCall{Method: "GET", Path: assets(orgE, proj.ID), Session: f.session("u-vic", "")}).caller(t).Principal)
	assert.Equal(t, "api_key", hzDo(t, base, hzCall{Method: "GET", Path: assets(orgE, proj.ID), Key: vicKey}).caller(t).Via)

	// A member of the organization who is not in the project: alike
	// whether the project exists or not.
	nora := f.session("u-nora", "")
	for _, c := range []hzCall{
		{Method: "GET", Path: assets(orgE, proj.ID), Session: nora},
		{Method: "GET", Path: assets(orgE, proj.ID), Key: noraKey},
	} {
		inProject := hzDo(t, base, c)
		require.Equal(t, http.StatusForbidden, inProject.Status, "%s", inProject)
		assert.Equal(t, "not-scope-member", inProject.problem(t).Reason)
		hzAssertNoLeak(t, inProject, append(secrets, "u-vic", "Lab")...)
		c.Path = assets(orgE, "no-such-project")
		missing := hzDo(t, base, c)
		require.Equal(t, http.StatusForbidden, missing.Status, "%s", missing)
		assert.Equal(t,
			strings.ReplaceAll(string(inProject.Body), proj.ID, "ID"),
			strings.ReplaceAll(string(missing.Body), "no-such-project", "ID"),
			"a project the caller is not in and one that does not exist hzAnswer alike")
	}

	// A scoped key may use no scope capability, even its owner's.
	a := hzDo(t, base, hzCall{Method: "GET", Path: assets(orgE, proj.ID), Key: vicScoped})
	require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
	p := a.problem(t)
	assert.Equal(t, "key-scope", p.Reason)
	assert.Equal(t, "project/assets:manage", p.Capability)
	hzAssertNoLeak(t, a, secrets...)

	// A key on another organization's project.
	a = hzDo(t, base, hzCall{Method: "GET", Path: assets(orgF, proj.ID), Key: vicKey})
	require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
	assert.Equal(t, "wrong-organization", a.problem(t).Reason)

	// Someone who is in neither: not a member, alike for an unknown
	// organization.
	stranger := f.session("u-stranger", "")
	inOrg := hzDo(t, base, hzCall{Method: "GET", Path: assets(orgE, proj.ID), Session: stranger})
	require.Equal(t, http.StatusForbidden, inOrg.Status, "%s", inOrg)
	assert.Equal(t, "not-member", inOrg.problem(t).Reason)
	unknown := hzDo(t, base, hzCall{Method: "GET", Path: assets("no-such-org", proj.ID), Session: stranger})
	assert.Equal(t,
		strings.ReplaceAll(string(inOrg.Body), orgE, "ORG"),
		strings.ReplaceAll(string(unknown.Body), "no-such-org", "ORG"))

	// Editor is what the route needs: a viewer of the project is refused
	// by its role there.
	_, err = f.svc.AddScopeMember(hzCtx, orgE, "u-ada", edition.ScopeProject, proj.ID, hzUser("u-nora"), "viewer")
	require.NoError(t, err)
	a = hzDo(t, base, hzCall{Method: "GET", Path: assets(orgE, proj.ID), Session: nora})
	require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
	p = a.problem(t)
	assert.Equal(t, "role-lacks", p.Reason)
	assert.Equal(t, "project/assets:manage", p.Capability)
	assert.Equal(t, "viewer", p.Role)

	// No organization in the route: a session is refused.
	sg := f.guard(t, httpauthz.Options{Org: httpauthz.HeaderOrg("X-Org")})
	sbase := hzServe(t, hzGuardRoutes(sg))
	a = hzDo(t, sbase, hzCall{Method: "GET", Path: assets(orgE, proj.ID), Session: f.session("u-vic", "")})
	require.Equal(t, http.StatusBadRequest, a.Status, "%s", a)
	assert.Equal(t, "missing-organization", a.problem(t).Reason)
	// A key there is checked in its own organization.
	assert.Equal(t, http.StatusOK, hzDo(t, sbase, hzCall{Method: "GET", Path: assets(orgE, proj.ID), Key: vicKey}).Status)
}

// TestRequireScopeArchivedNonMember: an archived organization must not
// tell a caller who is not a member that it exists, as Require does not.
func TestGuardRequireScopeArchivedNonMember(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	orgE := f.newOrg(t, "aiengine", "", "u-ada")
	proj, err := f.svc.CreateScope(hzCtx, orgE, "u-ada", edition.ScopeProject, "Lab")
	require.NoError(t, err)
	require.NoError(t, f.svc.Host().ArchiveOrganization(hzCtx, orgE))
	base := hzServe(t, hzGuardRoutes(f.guard(t, httpauthz.Options{})))
	stranger := f.session("u-stranger", "")
	archived := hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgE + "/projects/" + proj.ID + "/assets", Session: stranger})
	unknown := hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/no-such-org/projects/" + proj.ID + "/assets", Session: stranger})
	require.Equal(t, http.StatusForbidden, archived.Status, "%s", archived)
	// Members are told it is archived.
	a := hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgE + "/projects/" + proj.ID + "/assets", Session: f.session("u-ada", "")})
	assert.Equal(t, "archived", a.problem(t).Reason)
	assert.Equal(t,
		strings.ReplaceAll(string(archived.Body), orgE, "ORG"),
		strings.ReplaceAll(string(unknown.Body), "no-such-org", "ORG"))
}

// TestGuardIdentityProviderBearer: a host whose own authentication is a
// bearer token of its identity provider (Via's "a token of its identity
// provider") and that accepts API keys too. A bearer token that is not an
// API key of the service (not of its key prefix) is the session's, not a
// bad API key.
func TestGuardIdentityProviderBearer(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	orgA := f.newOrg(t, "wherobots", "professional", "u-ada")
	key, _ := f.key(t, orgA, "u-ada")
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LWFkYSJ9.c2lnbmF0dXJl"
	idp := func(r *http.Request) (httpauthz.Identity, bool, error) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !strings.HasPrefix(tok, "eyJ") {
			return httpauthz.Identity{}, false, nil
		}
		if tok != jwt {
			return httpauthz.Identity{}, true, errors.New("bad signature")
		}
		return httpauthz.Identity{PrincipalID: "u-ada"}, true, nil
	}
	g := f.guard(t, httpauthz.Options{Authenticators: []httpauthz.Authenticator{httpauthz.Session(idp), httpauthz.APIKeys(f.svc)}})
	base := hzServe(t, hzGuardRoutes(g))
	// API keys work.
	assert.Equal(t, "api_key", hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Key: key}).caller(t).Via)
	a := hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Key: jwt})
	assert.Equal(t, hzWhoami{Principal: "u-ada", Via: "session"}, a.caller(t))
}

func TestGuardStoreFailure(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	orgA := f.newOrg(t, "wherobots", "professional", "u-ada")
	key, keyID := f.key(t, orgA, "u-ada")
	ada := f.session("u-ada", "")
	base := hzServe(t, hzGuardRoutes(f.guard(t, httpauthz.Options{})))
	require.NoError(t, f.st.Close())
	for _, c := range []hzCall{
		{Method: "GET", Path: "/orgs/" + orgA + "/billing", Session: ada},
		{Method: "GET", Path: "/orgs/" + orgA + "/billing", Key: key},
		{Method: "GET", Path: "/orgs/" + orgA + "/projects/p/assets", Session: ada},
	} {
		a := hzDo(t, base, c)
		require.Equal(t, http.StatusServiceUnavailable, a.Status, "%s", a)
		assert.Equal(t, "unavailable", a.problem(t).Reason)
		assert.Empty(t, a.Header.Get("WWW-Authenticate"))
		hzAssertNoLeak(t, a, "memstore", "closed", key, keyID)
	}
}
