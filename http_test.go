package orgauthz_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Reason string `json:"reason"`
}

// server serves one route behind the middleware: POST /jobs needs
// job_runs:create and says who asked.
func server(t testing.TB, svc *orgauthz.Service) http.Handler {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST /jobs", orgauthz.Require("job_runs:create")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, _ := orgauthz.AuthenticationFrom(r.Context())
		io.WriteString(w, "job created by "+a.PrincipalID)
	})))
	return svc.Middleware(mux)
}

func do(h http.Handler, method, path string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "professional", "bob", "user")
	_, bob, err := f.svc.CreateAPIKey(ctx, id, "bob", orgauthz.NewKey{Name: "b"})
	require.NoError(t, err)
	_, narrow, err := f.svc.CreateAPIKey(ctx, id, "bob", orgauthz.NewKey{Name: "n", Scope: []role.Capability{"cloud:use"}})
	require.NoError(t, err)
	h := server(t, f.svc)

	// Both headers work.
	w := do(h, "POST", "/jobs", http.Header{"Authorization": {"Bearer " + bob.Reveal()}})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "job created by bob", w.Body.String())
	w = do(h, "POST", "/jobs", http.Header{"X-Api-Key": {bob.Reveal()}})
	assert.Equal(t, http.StatusOK, w.Code)
	w = do(h, "POST", "/jobs", http.Header{"Authorization": {"bearer " + bob.Reveal()}})
	assert.Equal(t, http.StatusOK, w.Code, "the scheme is case-insensitive")

	problem := func(w *httptest.ResponseRecorder) problemBody {
		t.Helper()
		assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
		var p problemBody
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
		assert.Equal(t, w.Code, p.Status)
		assert.Equal(t, "about:blank", p.Type)
		assert.Equal(t, http.StatusText(w.Code), p.Title)
		return p
	}
	// No key: 401 with a challenge.
	w = do(h, "POST", "/jobs", nil)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, `Bearer realm="api"`, w.Header().Get("WWW-Authenticate"))
	assert.Equal(t, "missing-key", problem(w).Reason)
	w = do(h, "POST", "/jobs", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}})
	assert.Equal(t, http.StatusUnauthorized, w.Code, "not a bearer key")

	// Invalid keys: 401, and an unknown ID answers exactly as a wrong secret.
	other, err := apikey.NewSecret(orgauthz.DefaultKeyPrefix)
	require.NoError(t, err)
	wrong, err := apikey.NewSecretFor(orgauthz.DefaultKeyPrefix, bob.ID())
	require.NoError(t, err)
	wUnknown := do(h, "POST", "/jobs", http.Header{"Authorization": {"Bearer " + other.Reveal()}})
	wWrong := do(h, "POST", "/jobs", http.Header{"Authorization": {"Bearer " + wrong.Reveal()}})
	assert.Equal(t, http.StatusUnauthorized, wUnknown.Code)
	assert.Equal(t, `Bearer realm="api", error="invalid_token"`, wUnknown.Header().Get("WWW-Authenticate"))
	assert.Equal(t, "invalid-key", problem(wUnknown).Reason)
	assert.Equal(t, wUnknown.Body.String(), wWrong.Body.String())
	assert.Equal(t, wUnknown.Header(), wWrong.Header())
	assert.NotContains(t, wUnknown.Body.String(), other.ID())

	// Denied capability: 403 naming it.
	w = do(h, "POST", "/jobs", http.Header{"Authorization": {"Bearer " + narrow.Reveal()}})
	assert.Equal(t, http.StatusForbidden, w.Code)
	p := problem(w)
	assert.Equal(t, "permission-denied", p.Reason)
	assert.Contains(t, p.Detail, "job_runs:create")

	// Revoked: 401 saying so (the caller held the secret).
	k, err := f.svc.APIKeys(ctx, id, "bob", "", orgauthz.Page{})
	require.NoError(t, err)
	for _, key := range k.Keys {
		require.NoError(t, f.svc.RevokeAPIKey(ctx, id, "bob", key.ID))
	}
	w = do(h, "POST", "/jobs", http.Header{"Authorization": {"Bearer " + bob.Reveal()}})
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "key-revoked", problem(w).Reason)
}

func TestRequireWithoutMiddleware(t *testing.T) {
	t.Parallel()
	h := orgauthz.Require("x:y")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("reached the handler") }))
	w := do(h, "GET", "/", nil)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.True(t, strings.Contains(w.Body.String(), "not authenticated"))
	_, ok := orgauthz.AuthenticationFrom(ctx)
	assert.False(t, ok)
}

// BenchmarkMiddleware measures what the middleware (authentication and
// Require) adds to a bare handler. Goal: ≤ 1.5 µs/op of overhead.
func BenchmarkMiddleware(b *testing.B) {
	svc, err := orgauthz.New(memstore.New(), orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		b.Fatal(err)
	}
	o, err := svc.CreateOrganization(ctx, user("ada"), orgauthz.NewOrganization{Name: "A", Edition: "professional"})
	if err != nil {
		b.Fatal(err)
	}
	_, secret, err := svc.CreateAPIKey(ctx, o.ID, "ada", orgauthz.NewKey{Name: "k"})
	if err != nil {
		b.Fatal(err)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	wrapped := svc.Middleware(orgauthz.Require("job_runs:create")(bare))
	for _, h := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"middleware", wrapped}} {
		b.Run(h.name, func(b *testing.B) {
			req := httptest.NewRequest("POST", "/jobs", nil)
			req.Header.Set("Authorization", "Bearer "+secret.Reveal())
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.h.ServeHTTP(w, req)
			}
			if w.Code != http.StatusNoContent {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		})
	}
}
