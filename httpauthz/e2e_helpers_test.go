package httpauthz_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// The end-to-end harness: the management API and a product's routes on a
// real listener over PostgreSQL, a stub sign-in, and a client that checks
// every response (checkResponse, and a scan for secrets that must not be
// there).

// e2eKeyPrefix is the prefix of the test service's API keys.
const e2eKeyPrefix = "e2e"

// e2eSessionCookie and e2eSessionHeader carry the stub sign-in's e2eSession ID.
const (
	e2eSessionCookie = "e2e_session"
	e2eSessionHeader = "X-Session"
)

// e2eClock is the service's clock: the wall clock plus an offset that a
// test moves forward (invitations expire).
type e2eClock struct{ offset atomic.Int64 }

func (c *e2eClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *e2eClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// e2eSessions is the stub sign-in: POST /signin {"principal", "email"} issues
// an opaque random e2eSession ID, in a cookie and in the body, that stands
// for the principal and its verified address.
type e2eSessions struct {
	mu sync.Mutex
	m  map[string]httpauthz.Identity
}

func (s *e2eSessions) signin(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Principal string `json:"principal"`
		Email     string `json:"email"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || b.Principal == "" {
		http.Error(w, "want {\"principal\", \"email\"}", http.StatusBadRequest)
		return
	}
	id := rand.Text()
	s.mu.Lock()
	s.m[id] = httpauthz.Identity{PrincipalID: b.Principal, Email: b.Email}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: e2eSessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"session": id, "principal": b.Principal})
}

var errE2ENoSession = errors.New("no such session")

// identify is the SessionFunc: the e2eSession ID from the cookie or, failing
// that, the X-Session header.
func (s *e2eSessions) identify(r *http.Request) (httpauthz.Identity, bool, error) {
	id := r.Header.Get(e2eSessionHeader)
	if c, err := r.Cookie(e2eSessionCookie); err == nil {
		id = c.Value
	}
	if id == "" {
		return httpauthz.Identity{}, false, nil
	}
	s.mu.Lock()
	who, ok := s.m[id]
	s.mu.Unlock()
	if !ok {
		return httpauthz.Identity{}, true, errE2ENoSession
	}
	return who, true, nil
}

// e2eServer is the server under test and its client.
type e2eServer struct {
	srv   *httptest.Server
	svc   *orgauthz.Service
	clock *e2eClock

	mu      sync.Mutex
	secrets []e2eSecret
}

// e2eSecret is a secret the API handed out, once.
type e2eSecret struct {
	what, text string
}

// newE2EServer starts the server: NewAPI under /api and the product's routes,
// both with one Guard (the stub e2eSession, then API keys), over a pgstore.
func newE2EServer(t *testing.T) *e2eServer {
	t.Helper()
	st, err := pgstore.Open(t.Context(), pgtest.StoreDatabase(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := &e2eClock{}
	svc, err := orgauthz.New(st, orgauthz.Options{
		Schemes:   []*edition.Scheme{edition.Wherobots(), edition.AIEngine(), edition.SoterAI()},
		Clock:     clock.Now,
		KeyPrefix: e2eKeyPrefix,
	})
	if err != nil {
		t.Fatal(err)
	}
	ss := &e2eSessions{m: map[string]httpauthz.Identity{}}
	guard, err := httpauthz.New(httpauthz.Options{
		Service:        svc,
		Authenticators: []httpauthz.Authenticator{httpauthz.Session(ss.identify), httpauthz.APIKeys(svc)},
	})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpauthz.NewAPI(httpauthz.APIOptions{Guard: guard, Prefix: "/api"})
	if err != nil {
		t.Fatal(err)
	}
	// The product: who the caller is, on routes each needing a capability.
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := httpauthz.CallerFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(e2eAnswer{Org: r.PathValue("org"), Principal: c.PrincipalID, Via: string(c.Via)})
	})
	product := http.NewServeMux()
	product.Handle("POST /orgs/{org}/jobs", guard.MustRequire("job_runs:create")(whoami))
	product.Handle("GET /orgs/{org}/billing", guard.MustRequire("billing:view")(whoami))
	product.Handle("POST /orgs/{org}/projects/{project}/assets",
		guard.MustRequireScope(edition.ScopeProject, "project", "project/assets:manage")(whoami))

	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.HandleFunc("POST /signin", ss.signin)
	mux.Handle("/", guard.Authenticate(product))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &e2eServer{srv: srv, svc: svc, clock: clock}
}

// e2eAnswer is what the product's routes answer.
type e2eAnswer struct {
	Org       string `json:"org"`
	Principal string `json:"principal"`
	Via       string `json:"via"`
}

// A e2eSession is a signed-in principal.
type e2eSession struct {
	principal, email, id string
}

// signin signs principal in with a verified address ("" for none).
func (e *e2eServer) signin(t *testing.T, principal, email string) e2eSession {
	t.Helper()
	r := e.do(t, "POST", "/signin", e2eJSON(map[string]string{"principal": principal, "email": email})).want(t, http.StatusOK)
	var out struct{ Session, Principal string }
	r.decode(t, &out)
	var cookie string
	for _, c := range r.resp.Cookies() {
		if c.Name == e2eSessionCookie {
			cookie = c.Value
		}
	}
	if out.Session == "" || cookie != out.Session {
		t.Fatalf("sign-in: session %q, cookie %q", out.Session, cookie)
	}
	return e2eSession{principal: principal, email: email, id: out.Session}
}

// e2eCall is one request being built.
type e2eCall struct {
	method, path string
	body         []byte
	header       http.Header
	cookies      []*http.Cookie
}

type e2eOpt func(*e2eCall)

// as sends the e2eSession's cookie, as a browser does.
func e2eAs(s e2eSession) e2eOpt {
	return func(c *e2eCall) { c.cookies = append(c.cookies, &http.Cookie{Name: e2eSessionCookie, Value: s.id}) }
}

// asHeader sends the e2eSession in the X-Session header, as a native app
// does.
func e2eAsHeader(s e2eSession) e2eOpt { return e2eHeader(e2eSessionHeader, s.id) }

// bearer sends an API key in the Authorization header.
func e2eBearer(key string) e2eOpt { return e2eHeader("Authorization", "Bearer "+key) }

// apiKey sends an API key in the X-API-Key header.
func e2eXAPIKey(key string) e2eOpt { return e2eHeader("X-API-Key", key) }

func e2eHeader(k, v string) e2eOpt { return func(c *e2eCall) { c.header.Add(k, v) } }

// body sends v as JSON.
func e2eJSON(v any) e2eOpt {
	return func(c *e2eCall) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		c.body = b
	}
}

// raw sends s as the body, as it is.
func e2eRaw(s string) e2eOpt { return func(c *e2eCall) { c.body = []byte(s) } }

// e2eResult is a response, its body read.
type e2eResult struct {
	e2eCall *e2eCall
	resp    *http.Response
	body    []byte
}

// e2eHashPattern finds what must never be in a body: a key's hash or an
// invitation's token hash, by name.
var e2eHashPattern = regexp.MustCompile(`(?i)\b(token_)?hash\b`)

// do sends one request and checks the response: against the API's OpenAPI
// document (the management API's responses), and for secrets that must
// not be there: every secret handed out before (an API key after its
// creation response, an invitation token after its create or resend
// response) and any hash.
func (e *e2eServer) do(t *testing.T, method, path string, opts ...e2eOpt) e2eResult {
	t.Helper()
	c := &e2eCall{method: method, path: path, header: http.Header{}}
	for _, o := range opts {
		o(c)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.body == nil {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	if strings.HasPrefix(path, "/api/") {
		sent := req.Clone(t.Context())
		sent.Body = io.NopCloser(bytes.NewReader(c.body))
		resp.Body = io.NopCloser(bytes.NewReader(b))
		checkResponse(t, sent, resp, b)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))

	e.mu.Lock()
	known := append([]e2eSecret(nil), e.secrets...)
	e.mu.Unlock()
	for _, s := range known {
		if bytes.Contains(b, []byte(s.text)) {
			t.Errorf("%s %s: the body holds %s, shown once already:\n%s", method, path, s.what, b)
		}
	}
	if path != "/api/openapi.json" && e2eHashPattern.Match(b) {
		t.Errorf("%s %s: the body names a hash:\n%s", method, path, b)
	}
	return e2eResult{e2eCall: c, resp: resp, body: b}
}

// shown records a secret (an API key or an invitation token) that a
// response just showed: no later response may hold it, nor its secret
// part (the last "_"-separated part, whose first 32 characters are
// the random secret).
func (e *e2eServer) shown(t *testing.T, what, text string) {
	t.Helper()
	i := strings.LastIndex(text, "_")
	if i < 0 || len(text)-i-1 < 32 {
		t.Fatalf("%s %q has no secret part", what, text)
	}
	e.mu.Lock()
	e.secrets = append(e.secrets, e2eSecret{what: what, text: text[i+1 : i+1+32]})
	e.mu.Unlock()
}

func (r e2eResult) String() string {
	return r.e2eCall.method + " " + r.e2eCall.path + ": " + r.resp.Status + " " + strings.TrimSpace(string(r.body))
}

// want checks the status.
func (r e2eResult) want(t *testing.T, status int) e2eResult {
	t.Helper()
	if r.resp.StatusCode != status {
		t.Fatalf("%s; want %d", r, status)
	}
	return r
}

// decode reads the JSON body into v, refusing fields v does not have.
func (r e2eResult) decode(t *testing.T, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: decoding into %T: %v", r, v, err)
	}
}

// ok checks the status and that the body is JSON, and decodes it into v
// (if not nil).
func (r e2eResult) ok(t *testing.T, status int, v any) e2eResult {
	t.Helper()
	r.want(t, status)
	if ct := r.resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", r, ct)
	}
	if v != nil {
		r.decode(t, v)
	}
	return r
}

// problem checks that the response is a refusal with status and reason,
// an RFC 9457 problem document, and returns it.
func (r e2eResult) problem(t *testing.T, status int, reason string) httpauthz.Problem {
	t.Helper()
	r.want(t, status)
	if ct := r.resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: Content-Type %q, want application/problem+json", r, ct)
	}
	var p httpauthz.Problem
	r.decode(t, &p)
	if p.Status != status || p.Reason != reason || p.Type != "about:blank" || p.Title != http.StatusText(status) || p.Detail == "" {
		t.Fatalf("%s; want a problem with status %d and reason %q, a type, title and detail", r, status, reason)
	}
	if status == http.StatusUnauthorized && !strings.HasPrefix(r.resp.Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("%s: 401 without a Bearer challenge (WWW-Authenticate %q)", r, r.resp.Header.Get("WWW-Authenticate"))
	}
	return p
}
