package httpauthz_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store/memstore"
	"github.com/stretchr/testify/require"
)

var hzCtx = context.Background()

// hzClock is a settable clock for the service; tests never sleep.
type hzClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *hzClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *hzClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// hzAIEngineWithKeys is the AI Engine preset with API keys that any member
// may make: the preset sets no key capabilities (it offers no keys), and
// the scope tests need keys of project members.
func hzAIEngineWithKeys(t testing.TB) *edition.Scheme {
	t.Helper()
	sp := edition.AIEngine().Spec()
	sp.Keys = edition.KeyCapabilities{Own: "projects:be_member"}
	s, err := edition.NewScheme(sp)
	require.NoError(t, err)
	return s
}

// hzFixture is a service over a new memstore with the four presets (AI
// Engine with keys), a settable clock, and the host's sessions: a session
// is a random ID in the "sid" cookie that names an identity.
type hzFixture struct {
	svc   *orgauthz.Service
	st    *memstore.Store
	clock *hzClock

	mu       sync.Mutex
	sessions map[string]httpauthz.Identity
}

func newHZFixture(t testing.TB) *hzFixture {
	t.Helper()
	return newHZFixtureAt(t, time.Now().UTC().Truncate(time.Second))
}

// newHZFixtureAt is newHZFixture with the service's clock set to now.
func newHZFixtureAt(t testing.TB, now time.Time) *hzFixture {
	t.Helper()
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	f := &hzFixture{st: st, clock: &hzClock{now: now}, sessions: map[string]httpauthz.Identity{}}
	svc, err := orgauthz.New(st, orgauthz.Options{
		Schemes: []*edition.Scheme{edition.Wherobots(), hzAIEngineWithKeys(t), edition.UiPath(), edition.SoterAI()},
		Clock:   f.clock.Now,
	})
	require.NoError(t, err)
	f.svc = svc
	return f
}

func hzUser(id string) org.Principal { return org.Principal{ID: id, Kind: org.User} }

// newOrg creates an organization of the scheme and edition whose creator
// is creator, and provisions the given members (id, role, id, role...).
func (f *hzFixture) newOrg(t testing.TB, scheme, ed, creator string, members ...string) string {
	t.Helper()
	o, err := f.svc.CreateOrganization(hzCtx, hzUser(creator), orgauthz.NewOrganization{Name: "Acme " + scheme, Scheme: scheme, Edition: ed})
	require.NoError(t, err)
	for i := 0; i+1 < len(members); i += 2 {
		_, err := f.svc.Host().Provision(hzCtx, o.ID, hzUser(members[i]), members[i+1])
		require.NoError(t, err, "provision %s as %s", members[i], members[i+1])
	}
	return o.ID
}

// key makes an API key of actor's own in orgID and returns its key string
// and ID.
func (f *hzFixture) key(t testing.TB, orgID, actor string, scope ...role.Capability) (secret, id string) {
	t.Helper()
	k, s, err := f.svc.CreateAPIKey(hzCtx, orgID, actor, orgauthz.NewKey{Name: actor + " key", Scope: scope})
	require.NoError(t, err)
	return s.Reveal(), k.ID
}

// session signs principal in and returns the session ID.
func (f *hzFixture) session(principal, email string) string {
	sid := "sess-" + hzRandomHex(16)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions[sid] = httpauthz.Identity{PrincipalID: principal, Email: email}
	return sid
}

// endSession signs a session out: it is refused from then on.
func (f *hzFixture) endSession(sid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, sid)
}

// sessionFunc is the host's authentication: the "sid" cookie names a
// session. Its errors never name the session.
func (f *hzFixture) sessionFunc(r *http.Request) (httpauthz.Identity, bool, error) {
	c, err := r.Cookie("sid")
	if err != nil {
		return httpauthz.Identity{}, false, nil
	}
	f.mu.Lock()
	id, ok := f.sessions[c.Value]
	f.mu.Unlock()
	if !ok {
		return httpauthz.Identity{}, true, errors.New("unknown or ended session")
	}
	return id, true, nil
}

// guard returns a Guard over the hzFixture's service with the session first,
// then API keys.
func (f *hzFixture) guard(t testing.TB, opts httpauthz.Options) *httpauthz.Guard {
	t.Helper()
	opts.Service = f.svc
	if opts.Authenticators == nil {
		opts.Authenticators = []httpauthz.Authenticator{httpauthz.Session(f.sessionFunc), httpauthz.APIKeys(f.svc)}
	}
	g, err := httpauthz.New(opts)
	require.NoError(t, err)
	return g
}

func hzRandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// hzCall is one request: its credentials are a session ID (the "sid"
// cookie) and an API key (Authorization: Bearer), either optional.
type hzCall struct {
	Method, Path, Body string
	Session, Key       string
	Header             map[string]string
}

// hzAnswer is a response, read whole.
type hzAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

func (a hzAnswer) String() string { return fmt.Sprintf("%d %s", a.Status, a.Body) }

// problem decodes the hzAnswer as problem details, checking their media
// type and the fields every problem has.
func (a hzAnswer) problem(t testing.TB) httpauthz.Problem {
	t.Helper()
	require.Equal(t, "application/problem+json", a.Header.Get("Content-Type"), "%s", a)
	var p httpauthz.Problem
	dec := json.NewDecoder(strings.NewReader(string(a.Body)))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&p), "%s", a)
	require.Equal(t, a.Status, p.Status, "%s", a)
	require.Equal(t, "about:blank", p.Type)
	require.Equal(t, http.StatusText(a.Status), p.Title)
	require.NotEmpty(t, p.Reason, "%s", a)
	require.NotEmpty(t, p.Detail, "%s", a)
	return p
}

// decode decodes a JSON hzAnswer into v.
func (a hzAnswer) decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(a.Body, v), "%s", a)
}

func hzRequest(t testing.TB, base string, c hzCall) *http.Request {
	t.Helper()
	var body io.Reader
	if c.Body != "" {
		body = strings.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(hzCtx, c.Method, base+c.Path, body)
	require.NoError(t, err)
	if c.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Session != "" {
		req.AddCookie(&http.Cookie{Name: "sid", Value: c.Session})
	}
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	for k, v := range c.Header {
		req.Header.Set(k, v)
	}
	return req
}

// do sends c to the server at base over real HTTP.
func hzDo(t testing.TB, base string, c hzCall) hzAnswer {
	t.Helper()
	_, a := hzRoundTrip(t, base, c)
	return a
}

func hzRoundTrip(t testing.TB, base string, c hzCall) (*http.Request, hzAnswer) {
	t.Helper()
	req := hzRequest(t, base, c)
	_, a := hzSend(t, req)
	return req, a
}

// hzSend sends req and reads its response whole.
func hzSend(t testing.TB, req *http.Request) (*http.Response, hzAnswer) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, hzAnswer{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// serve starts a server over 127.0.0.1, closed when the test ends.
func hzServe(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
