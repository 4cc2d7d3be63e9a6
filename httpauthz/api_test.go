package httpauthz_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/orgauthz/orgauthz/org"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hzAPI is the management API mounted under /api on a host's server, next
// to a route of the host's own.
type hzAPI struct {
	*hzFixture
	api  *httpauthz.API
	base string
}

func newHZAPI(t testing.TB, f *hzFixture, opts httpauthz.APIOptions) *hzAPI {
	t.Helper()
	if opts.Guard == nil {
		opts.Guard = f.guard(t, httpauthz.Options{})
	}
	if opts.Prefix == "" {
		opts.Prefix = "/api"
	}
	api, err := httpauthz.NewAPI(opts)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle(strings.TrimSuffix(opts.Prefix, "/")+"/", api)
	mux.HandleFunc("GET /host", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("host")) })
	return &hzAPI{hzFixture: f, api: api, base: hzServe(t, mux)}
}

// do sends c to the API (its path relative to the prefix) and checks the
// exchange against the API's OpenAPI document.
func (e *hzAPI) do(t testing.TB, c hzCall) hzAnswer {
	t.Helper()
	req := hzRequest(t, e.base+"/api", c)
	resp, a := hzSend(t, req)
	// The OpenAPI checker (check_test.go) cannot decode JSON Lines yet: it
	// reads an export's body as one JSON value.
	if a.Header.Get("Content-Type") != "application/jsonl" {
		checkResponse(t, req, resp, a.Body)
	}
	return a
}

// refused sends c and checks that it is refused with status and reason.
func (e *hzAPI) refused(t testing.TB, c hzCall, status int, reason string) httpauthz.Problem {
	t.Helper()
	a := e.do(t, c)
	require.Equal(t, status, a.Status, "%s %s: %s", c.Method, c.Path, a)
	p := a.problem(t)
	assert.Equal(t, reason, p.Reason, "%s %s: %s", c.Method, c.Path, a)
	return p
}

// ok sends c, checks its status and decodes its JSON body into v.
func (e *hzAPI) ok(t testing.TB, c hzCall, status int, v any) hzAnswer {
	t.Helper()
	a := e.do(t, c)
	require.Equal(t, status, a.Status, "%s %s: %s", c.Method, c.Path, a)
	if v != nil {
		require.Equal(t, "application/json", a.Header.Get("Content-Type"))
		a.decode(t, v)
	}
	return a
}

func hzJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

type hzInvitationCreated struct {
	Invitation struct {
		ID     string `json:"id"`
		Email  string `json:"email"`
		Status string `json:"status"`
	} `json:"invitation"`
	Token string `json:"token"`
}

type hzKeyCreated struct {
	Key struct {
		ID      string `json:"id"`
		Display string `json:"display"`
	} `json:"key"`
	Secret string `json:"secret"`
}

type hzMemberPage struct {
	Members []org.Member `json:"members"`
	Next    string       `json:"next"`
}

func TestAPIErrorStatuses(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	ada := f.session("u-ada", "ada@example.com")
	bob := f.session("u-bob", "bob@example.com")

	// ada creates a Wherobots organization through the API.
	var created org.Organization
	a := e.ok(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: `{"name":"Acme","scheme":"wherobots"}`}, http.StatusCreated, &created)
	assert.Equal(t, "/api/orgs/"+created.ID, a.Header.Get("Location"))
	assert.Equal(t, "community", created.Edition)
	w := created.ID
	_, err := f.svc.Host().Provision(hzCtx, w, hzUser("u-bob"), "user")
	require.NoError(t, err)

	t.Run("400", func(t *testing.T) {
		for _, body := range []string{`{"name":`, `not json`, `[]`, ``} {
			e.refused(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: body}, http.StatusBadRequest, "bad-request")
		}
		p := e.refused(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: `{"name":"X","scheme":"wherobots","colour":"red"}`}, http.StatusBadRequest, "bad-request")
		assert.Contains(t, p.Detail, "colour", "an unknown field is named")
		p = e.refused(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: `{"name":"X","scheme":"wherobots"} {"name":"Y"}`}, http.StatusBadRequest, "bad-request")
		assert.Contains(t, p.Detail, "more than one JSON value")
		// Trailing white space is one value still.
		e.ok(t, hzCall{Method: "PATCH", Path: "/orgs/" + w, Session: ada, Body: "{\"name\":\"Acme Inc\"}\n\t "}, http.StatusOK, nil)

		// Cursors and limits.
		for _, q := range []string{"after=" + strings.Repeat("x", 200), "after=%01", "limit=abc", "limit=-1", "limit=5000"} {
			e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/members?" + q, Session: ada}, http.StatusBadRequest, "invalid-argument")
		}
		e.refused(t, hzCall{Method: "GET", Path: "/me/organizations?after=%7F", Session: ada}, http.StatusBadRequest, "invalid-argument")
		for _, q := range []string{"after=-1", "after=x", "limit=-1", "limit=1001", "limit=many", "since=yesterday", "until=2026-13-01T00:00:00Z"} {
			e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/audit?" + q, Session: ada}, http.StatusBadRequest, "invalid-argument")
		}
		e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/invitations?pending=maybe", Session: ada}, http.StatusBadRequest, "invalid-argument")

		// Bad values.
		e.refused(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: `{"name":"","scheme":"wherobots"}`}, http.StatusBadRequest, "invalid-name")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: `{"id":"has space","name":"X","scheme":"wherobots"}`}, http.StatusBadRequest, "invalid-id")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: `{"name":"X","scheme":"acme"}`}, http.StatusBadRequest, "unknown-scheme")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: `{"name":"X","scheme":"wherobots","edition":"gold"}`}, http.StatusBadRequest, "unknown-edition")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/invitations", Session: ada, Body: `{"email":"new@example.com","role":"root"}`}, http.StatusBadRequest, "unknown-role")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/invitations", Session: ada, Body: `{"email":"not an address","role":"user"}`}, http.StatusBadRequest, "invalid-email")
		e.refused(t, hzCall{Method: "POST", Path: "/invitations/preview", Body: `{"token":"nope"}`}, http.StatusBadRequest, "invalid-token")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/keys", Session: bob, Body: `{"name":"k","expiry":"forever"}`}, http.StatusBadRequest, "invalid-expiry")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/keys", Session: bob, Body: `{"name":"k","scope":["notebooks:start"]}`}, http.StatusBadRequest, "unknown-capability")
		e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/scopes/project", Session: ada}, http.StatusBadRequest, "unknown-scope")
	})

	t.Run("401", func(t *testing.T) {
		a := e.do(t, hzCall{Method: "GET", Path: "/me/organizations"})
		require.Equal(t, http.StatusUnauthorized, a.Status, "%s", a)
		assert.Equal(t, "unauthenticated", a.problem(t).Reason)
		assert.Equal(t, `Bearer realm="api"`, a.Header.Get("WWW-Authenticate"))
		e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + w, Key: hzUnknownKey(t)}, http.StatusUnauthorized, "invalid-key")
		e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + w, Session: "sess-forged"}, http.StatusUnauthorized, "invalid-session")
		// A public route refuses a bad credential too.
		e.refused(t, hzCall{Method: "POST", Path: "/invitations/preview", Session: "sess-forged", Body: `{"token":"x"}`}, http.StatusUnauthorized, "invalid-session")
	})

	t.Run("403", func(t *testing.T) {
		e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/invitations", Session: bob, Body: `{"email":"new@example.com"}`}, http.StatusForbidden, "permission-denied")
		e.refused(t, hzCall{Method: "PATCH", Path: "/orgs/" + w + "/members/u-ada", Session: bob, Body: `{"role":"user"}`}, http.StatusForbidden, "permission-denied")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/members", Session: ada, Body: `{"principal_id":"u-new","role":"user"}`}, http.StatusForbidden, "not-offered")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/transfer", Session: ada, Body: `{"to":"u-bob","step_down_to":"user"}`}, http.StatusForbidden, "not-offered")
		e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/audit", Session: ada}, http.StatusForbidden, "edition-gated")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/service-principals", Session: ada, Body: `{"name":"ci","role":"user"}`}, http.StatusForbidden, "edition-gated")
		// A caller who is not a member is told so, alike whether the
		// organization exists or not.
		stranger := f.session("u-stranger", "")
		for _, path := range []string{"", "/members", "/audit", "/keys/" + strings.Repeat("a", 16)} {
			method := "GET"
			if strings.HasPrefix(path, "/keys/") {
				method = "DELETE"
			}
			in := e.do(t, hzCall{Method: method, Path: "/orgs/" + w + path, Session: stranger})
			require.Equal(t, http.StatusForbidden, in.Status, "%s", in)
			assert.Equal(t, "not-member", in.problem(t).Reason)
			unknown := e.do(t, hzCall{Method: method, Path: "/orgs/no-such-org" + path, Session: stranger})
			assert.Equal(t, strings.ReplaceAll(string(in.Body), w, "ORG"), strings.ReplaceAll(string(unknown.Body), "no-such-org", "ORG"), path)
			hzAssertNoLeak(t, in, "u-ada", "u-bob", "Acme")
		}
		e.refused(t, hzCall{Method: "GET", Path: "/me/invitations", Session: f.session("u-ada", "")}, http.StatusForbidden, "permission-denied")

		z := f.newOrg(t, "wherobots", "professional", "u-ada")
		require.NoError(t, f.svc.Host().ArchiveOrganization(hzCtx, z))
		e.refused(t, hzCall{Method: "PATCH", Path: "/orgs/" + z, Session: ada, Body: `{"name":"Z"}`}, http.StatusForbidden, "archived")
		e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + z, Session: ada}, http.StatusOK, nil)
	})

	t.Run("404", func(t *testing.T) {
		e.refused(t, hzCall{Method: "DELETE", Path: "/orgs/" + w + "/invitations/no-such-invitation", Session: ada}, http.StatusNotFound, "not-found")
		ui := f.newOrg(t, "uipath", "", "u-ada")
		e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + ui + "/scopes/service/no-such-service", Session: ada}, http.StatusNotFound, "not-found")
		e.refused(t, hzCall{Method: "DELETE", Path: "/orgs/" + w + "/keys/" + strings.Repeat("a", 16), Session: ada}, http.StatusNotFound, "not-found")
		e.refused(t, hzCall{Method: "POST", Path: "/me/invitations/nope/accept", Session: ada}, http.StatusNotFound, "invitation-not-found")
		e.refused(t, hzCall{Method: "GET", Path: "/nothing/here", Session: ada}, http.StatusNotFound, "no-route")
		// The host's own routes are its own.
		assert.Equal(t, "host", string(hzDo(t, e.base, hzCall{Method: "GET", Path: "/host"}).Body))
	})

	t.Run("409", func(t *testing.T) {
		e.refused(t, hzCall{Method: "PATCH", Path: "/orgs/" + w + "/members/u-ada", Session: ada, Body: `{"role":"user"}`}, http.StatusConflict, "min-holders")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: `{"id":"` + w + `","name":"Again","scheme":"wherobots"}`}, http.StatusConflict, "exists")
		// Community has 5 seats: ada and bob hold two, three invitations
		// the rest.
		for i := range 3 {
			e.ok(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/invitations", Session: ada, Body: fmt.Sprintf(`{"email":"seat%d@example.com"}`, i)}, http.StatusCreated, nil)
		}
		p := e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/invitations", Session: ada, Body: `{"email":"sixth@example.com"}`}, http.StatusConflict, "seat-limit")
		assert.NotEmpty(t, p.Detail)

		// AI Engine adds members directly.
		ai := f.newOrg(t, "aiengine", "", "u-ada", "u-vic", "viewer")
		e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + ai + "/members", Session: ada, Body: `{"principal_id":"u-vic","role":"editor"}`}, http.StatusConflict, "already-member")
		e.ok(t, hzCall{Method: "POST", Path: "/orgs/" + ai + "/members", Session: ada, Body: `{"principal_id":"u-new","role":"editor"}`}, http.StatusCreated, nil)
		// UiPath's owner is immutable.
		ui := f.newOrg(t, "uipath", "", "u-ada", "u-uma", "administrator")
		e.refused(t, hzCall{Method: "PATCH", Path: "/orgs/" + ui + "/members/u-uma", Session: ada, Body: `{"role":"owner"}`}, http.StatusConflict, "immutable-role")
	})

	t.Run("413", func(t *testing.T) {
		small := newHZAPI(t, f, httpauthz.APIOptions{MaxBody: 256})
		big := `{"name":"` + strings.Repeat("x", 1000) + `","scheme":"wherobots"}`
		p := small.refused(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: big}, http.StatusRequestEntityTooLarge, "body-too-large")
		assert.Contains(t, p.Detail, "256")
		small.ok(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: `{"name":"Small","scheme":"wherobots"}`}, http.StatusCreated, nil)
		// The default is 64 KiB.
		huge := `{"name":"` + strings.Repeat("x", httpauthz.DefaultMaxBody) + `","scheme":"wherobots"}`
		e.refused(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: huge}, http.StatusRequestEntityTooLarge, "body-too-large")
	})

	t.Run("422", func(t *testing.T) {
		g := newHZFixture(t) // its own clock
		ge := newHZAPI(t, g, httpauthz.APIOptions{})
		gada := g.session("u-ada", "ada@example.com")
		o := g.newOrg(t, "wherobots", "community", "u-ada")
		var inv hzInvitationCreated
		ge.ok(t, hzCall{Method: "POST", Path: "/orgs/" + o + "/invitations", Session: gada, Body: `{"email":"cy@example.com"}`}, http.StatusCreated, &inv)
		require.NotEmpty(t, inv.Token)
		ge.refused(t, hzCall{Method: "POST", Path: "/invitations/accept", Session: g.session("u-mal", "mal@example.com"), Body: hzJSON(map[string]string{"token": inv.Token})},
			http.StatusUnprocessableEntity, "email-mismatch")
		g.clock.Advance(8 * 24 * time.Hour)
		ge.refused(t, hzCall{Method: "POST", Path: "/invitations/accept", Session: g.session("u-cy", "cy@example.com"), Body: hzJSON(map[string]string{"token": inv.Token})},
			http.StatusUnprocessableEntity, "invitation-expired")

		ai := g.newOrg(t, "aiengine", "", "u-ada", "u-oli", "owner", "u-vic", "editor")
		ge.refused(t, hzCall{Method: "POST", Path: "/orgs/" + ai + "/transfer", Session: gada, Body: `{"to":"u-oli","step_down_to":"editor"}`}, http.StatusUnprocessableEntity, "invalid-transfer")
		ge.refused(t, hzCall{Method: "POST", Path: "/orgs/" + ai + "/transfer", Session: gada, Body: `{"to":"u-vic","step_down_to":"owner"}`}, http.StatusUnprocessableEntity, "invalid-transfer")
		var m org.Member
		ge.ok(t, hzCall{Method: "POST", Path: "/orgs/" + ai + "/transfer", Session: gada, Body: `{"to":"u-vic","step_down_to":"editor"}`}, http.StatusOK, &m)
		assert.Equal(t, "owner", m.Role)
		assert.Equal(t, "u-vic", m.PrincipalID)
	})

	t.Run("503", func(t *testing.T) {
		g := newHZFixture(t)
		ge := newHZAPI(t, g, httpauthz.APIOptions{})
		o := g.newOrg(t, "wherobots", "professional", "u-ada")
		key, _ := g.key(t, o, "u-ada")
		sess := g.session("u-ada", "")
		require.NoError(t, g.st.Close())
		p := ge.refused(t, hzCall{Method: "GET", Path: "/orgs/" + o, Session: sess}, http.StatusServiceUnavailable, "unavailable")
		assert.Equal(t, "the request could not be served; try again", p.Detail, "a store error is not shown")
		p = ge.refused(t, hzCall{Method: "GET", Path: "/orgs/" + o, Key: key}, http.StatusServiceUnavailable, "unavailable")
		assert.NotContains(t, p.Detail, "memstore")
	})
}

// TestAPIMissingMemberIs404: the API's documentation promises 404 for "no
// such ... member", distinct from a caller who is not a member (403).
func TestAPIMissingMemberIs404(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	w := f.newOrg(t, "wherobots", "professional", "u-ada")
	ada := f.session("u-ada", "")
	for _, c := range []hzCall{
		{Method: "GET", Path: "/orgs/" + w + "/members/u-nobody", Session: ada},
		{Method: "PATCH", Path: "/orgs/" + w + "/members/u-nobody", Session: ada, Body: `{"role":"user"}`},
		{Method: "DELETE", Path: "/orgs/" + w + "/members/u-nobody", Session: ada},
	} {
		a := e.do(t, c)
		require.Equal(t, http.StatusNotFound, a.Status, "%s %s: %s", c.Method, c.Path, a)
		assert.Equal(t, "not-found", a.problem(t).Reason)
	}
}

func TestAPIKeyMayUse(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	a := f.newOrg(t, "wherobots", "professional", "u-ada", "u-bob", "user")
	b := f.newOrg(t, "wherobots", "professional", "u-bea", "u-ada", "admin")
	key, _ := f.key(t, a, "u-ada")
	scoped, _ := f.key(t, a, "u-ada", "members:manage", "cloud:use")

	var page hzMemberPage
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + a + "/members", Key: key}, http.StatusOK, &page)
	assert.Len(t, page.Members, 2)

	for _, c := range []hzCall{
		{Method: "GET", Path: "/me/organizations", Key: key},
		{Method: "GET", Path: "/me/invitations", Key: key},
		{Method: "POST", Path: "/orgs", Key: key, Body: `{"name":"By key","scheme":"wherobots"}`},
		{Method: "POST", Path: "/invitations/accept", Key: key, Body: `{"token":"x"}`},
		{Method: "POST", Path: "/invitations/preview", Key: key, Body: `{"token":"x"}`},
	} {
		e.refused(t, c, http.StatusForbidden, "session-required")
	}
	e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + a + "/members", Key: scoped}, http.StatusForbidden, "key-scope")
	e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + a + "/invitations", Key: scoped, Body: `{"email":"x@example.com"}`}, http.StatusForbidden, "key-scope")
	// ada is admin of B too, but her key is A's.
	e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + b + "/members", Key: key}, http.StatusForbidden, "wrong-organization")
	e.refused(t, hzCall{Method: "DELETE", Path: "/orgs/" + b, Key: key}, http.StatusForbidden, "wrong-organization")
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + b, Session: f.session("u-ada", "")}, http.StatusOK, nil)
	// Nothing was changed in B.
	_, err := f.svc.Organization(hzCtx, b, "u-bea")
	require.NoError(t, err)
}

func TestAPICrossOriginProtection(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	ada := f.session("u-ada", "")
	body := `{"name":"Acme","scheme":"wherobots"}`

	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "https://evil.example"},
	} {
		e.refused(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: body, Header: h}, http.StatusForbidden, "cross-origin")
		e.refused(t, hzCall{Method: "DELETE", Path: "/orgs/whatever", Session: ada, Header: h}, http.StatusForbidden, "cross-origin")
	}
	// Nothing was created.
	var mine struct {
		Memberships []org.Membership `json:"memberships"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/me/organizations", Session: ada}, http.StatusOK, &mine)
	assert.Empty(t, mine.Memberships)
	// Without browser headers (servers, API keys), and from the same origin.
	e.ok(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: body}, http.StatusCreated, nil)
	e.ok(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: body, Header: map[string]string{"Sec-Fetch-Site": "same-origin"}}, http.StatusCreated, nil)
	e.ok(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: body, Header: map[string]string{"Sec-Fetch-Site": "none"}}, http.StatusCreated, nil)
	// Safe methods pass from anywhere.
	e.ok(t, hzCall{Method: "GET", Path: "/me/organizations", Session: ada, Header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, http.StatusOK, nil)
}

func TestAPIPagination(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	w := f.newOrg(t, "wherobots", "enterprise", "u-ada", "u-bob", "user", "u-cyd", "user", "u-dot", "admin")
	ada := f.session("u-ada", "")

	var got []string
	path := "/orgs/" + w + "/members?limit=1"
	for range 10 {
		var page hzMemberPage
		e.ok(t, hzCall{Method: "GET", Path: path, Session: ada}, http.StatusOK, &page)
		require.Len(t, page.Members, 1)
		got = append(got, page.Members[0].PrincipalID)
		if page.Next == "" {
			break
		}
		assert.Equal(t, page.Members[0].PrincipalID, page.Next)
		path = "/orgs/" + w + "/members?limit=1&after=" + page.Next
	}
	assert.Equal(t, []string{"u-ada", "u-bob", "u-cyd", "u-dot"}, got)

	// The same over the caller's organizations.
	for range 3 {
		f.newOrg(t, "wherobots", "", "u-ada")
	}
	var ids []string
	path = "/me/organizations?limit=2"
	for range 10 {
		var page struct {
			Memberships []org.Membership `json:"memberships"`
			Next        string           `json:"next"`
		}
		e.ok(t, hzCall{Method: "GET", Path: path, Session: ada}, http.StatusOK, &page)
		for _, m := range page.Memberships {
			ids = append(ids, m.OrgID)
		}
		if page.Next == "" {
			break
		}
		path = "/me/organizations?limit=2&after=" + page.Next
	}
	assert.Len(t, ids, 4)
	assert.IsIncreasing(t, ids)

	// The audit trail pages by sequence number.
	var first struct {
		Events []org.AuditEvent `json:"events"`
		Next   int64            `json:"next"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/audit?limit=2", Session: ada}, http.StatusOK, &first)
	require.Len(t, first.Events, 2)
	require.Equal(t, first.Events[1].Seq, first.Next)
	var second struct {
		Events []org.AuditEvent `json:"events"`
	}
	e.ok(t, hzCall{Method: "GET", Path: fmt.Sprintf("/orgs/%s/audit?limit=2&after=%d", w, first.Next), Session: ada}, http.StatusOK, &second)
	require.NotEmpty(t, second.Events)
	assert.Greater(t, second.Events[0].Seq, first.Next)
}

func TestAPIAuditExport(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	w := f.newOrg(t, "wherobots", "professional", "u-ada", "u-bob", "user")
	ada := f.session("u-ada", "")
	e.ok(t, hzCall{Method: "PATCH", Path: "/orgs/" + w + "/members/u-bob", Session: ada, Body: `{"role":"admin"}`}, http.StatusOK, nil)

	var listed struct {
		Events []org.AuditEvent `json:"events"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/audit", Session: ada}, http.StatusOK, &listed)
	require.NotEmpty(t, listed.Events)

	a := e.do(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/audit/export", Session: ada})
	require.Equal(t, http.StatusOK, a.Status, "%s", a)
	assert.Equal(t, "application/jsonl", a.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", a.Header.Get("Cache-Control"))
	var exported []org.AuditEvent
	sc := bufio.NewScanner(bytes.NewReader(a.Body))
	for sc.Scan() {
		var ev org.AuditEvent
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&ev), "line %q", sc.Text())
		assert.False(t, dec.More(), "one JSON value per line")
		exported = append(exported, ev)
	}
	require.NoError(t, sc.Err())
	assert.True(t, bytes.HasSuffix(a.Body, []byte("\n")))
	assert.Equal(t, listed.Events, exported)
	assert.Equal(t, "member.role", exported[len(exported)-1].Action)

	// Filtered by actor, and refused with a problem before the first byte.
	a = e.do(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/audit/export?actor=u-nobody", Session: ada})
	require.Equal(t, http.StatusOK, a.Status, "%s", a)
	assert.Empty(t, a.Body)
	assert.Equal(t, "application/jsonl", a.Header.Get("Content-Type"))
	e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/audit/export", Session: f.session("u-cyd", "")}, http.StatusForbidden, "not-member")
	c := f.newOrg(t, "wherobots", "community", "u-ada")
	e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + c + "/audit/export", Session: ada}, http.StatusForbidden, "edition-gated")
}

func TestAPISecretsOnlyInTheirResponses(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	w := f.newOrg(t, "wherobots", "professional", "u-ada")
	ada := f.session("u-ada", "ada@example.com")

	var inv hzInvitationCreated
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/invitations", Session: ada, Body: `{"email":"cy@example.com","role":"user"}`}, http.StatusCreated, &inv)
	require.NotEmpty(t, inv.Token)
	assert.Equal(t, "pending", inv.Invitation.Status)
	var resent hzInvitationCreated
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/invitations/" + inv.Invitation.ID + "/resend", Session: ada}, http.StatusOK, &resent)
	require.NotEmpty(t, resent.Token)
	assert.NotEqual(t, inv.Token, resent.Token, "a resend rotates the token")
	var bulk struct {
		Results []struct {
			Email string             `json:"email"`
			Token string             `json:"token"`
			Error *httpauthz.Problem `json:"error"`
		} `json:"results"`
	}
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/invitations/bulk", Session: ada, Body: `{"emails":["dee@example.com","not an address"],"role":"user"}`}, http.StatusOK, &bulk)
	require.Len(t, bulk.Results, 2)
	require.NotEmpty(t, bulk.Results[0].Token)
	require.NotNil(t, bulk.Results[1].Error)
	assert.Equal(t, "invalid-email", bulk.Results[1].Error.Reason)
	assert.Equal(t, http.StatusBadRequest, bulk.Results[1].Error.Status)

	var k hzKeyCreated
	ka := e.ok(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/keys", Session: ada, Body: `{"name":"laptop","expiry":"30d"}`}, http.StatusCreated, &k)
	require.NotEmpty(t, k.Secret)
	assert.Equal(t, 1, strings.Count(string(ka.Body), k.Secret))
	assert.NotContains(t, k.Key.Display, k.Secret)
	// The key works.
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + w, Key: k.Secret}, http.StatusOK, nil)

	secrets := map[string]string{"invitation token": inv.Token, "resent token": resent.Token, "bulk token": bulk.Results[0].Token, "key": k.Secret}
	// The secret parts too: what follows the ID in each.
	for name, s := range secrets {
		if i := strings.LastIndex(s, "_"); i > 0 && len(s)-i > 8 {
			secrets[name+" secret"] = s[i+1:]
		}
	}
	cy := f.session("u-cy", "cy@example.com")
	for _, c := range []hzCall{
		{Method: "GET", Path: "/orgs/" + w + "/invitations", Session: ada},
		{Method: "GET", Path: "/orgs/" + w + "/invitations?pending=true", Session: ada},
		{Method: "GET", Path: "/orgs/" + w + "/keys", Session: ada},
		{Method: "GET", Path: "/orgs/" + w + "/keys?all=true", Session: ada},
		{Method: "GET", Path: "/orgs/" + w + "/keys?owner=u-ada", Session: ada},
		{Method: "GET", Path: "/orgs/" + w + "/audit", Session: ada},
		{Method: "GET", Path: "/orgs/" + w + "/audit/export", Session: ada},
		{Method: "GET", Path: "/orgs/" + w + "/members", Session: ada},
		{Method: "GET", Path: "/orgs/" + w + "/seats", Session: ada},
		{Method: "GET", Path: "/orgs/" + w, Key: k.Secret},
		{Method: "GET", Path: "/me/invitations", Session: cy},
		{Method: "POST", Path: "/invitations/preview", Body: hzJSON(map[string]string{"token": resent.Token})},
		{Method: "POST", Path: "/invitations/accept", Session: cy, Body: hzJSON(map[string]string{"token": inv.Token})}, // the old token is dead
		{Method: "POST", Path: "/invitations/accept", Session: cy, Body: hzJSON(map[string]string{"token": resent.Token})},
		{Method: "GET", Path: "/orgs/" + w + "/members", Session: ada},
		{Method: "DELETE", Path: "/orgs/" + w + "/keys/" + k.Key.ID, Session: ada},
		{Method: "GET", Path: "/orgs/" + w + "/keys?all=true", Session: ada},
		{Method: "GET", Path: "/orgs/" + w + "/audit/export", Session: ada},
		{Method: "GET", Path: "/orgs/" + w, Key: k.Secret}, // revoked
	} {
		a := e.do(t, c)
		assert.Less(t, a.Status, 500, "%s %s: %s", c.Method, c.Path, a)
		for name, s := range secrets {
			assert.NotContains(t, string(a.Body), s, "%s %s shows the %s", c.Method, c.Path, name)
		}
		for _, v := range a.Header {
			for name, s := range secrets {
				assert.NotContains(t, strings.Join(v, " "), s, "%s %s: a header shows the %s", c.Method, c.Path, name)
			}
		}
	}
	// The listing shows the key's status and display form.
	var keys struct {
		Keys []struct {
			ID      string `json:"id"`
			Display string `json:"display"`
			Status  string `json:"status"`
		} `json:"keys"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/keys", Session: ada}, http.StatusOK, &keys)
	require.Len(t, keys.Keys, 1)
	assert.Equal(t, k.Key.ID, keys.Keys[0].ID)
	assert.Equal(t, k.Key.Display, keys.Keys[0].Display)
	assert.Equal(t, "revoked", keys.Keys[0].Status)
}

// TestAPIStatusesAtTheServiceClock: the statuses the API shows (an
// invitation's, a key's) are the service's, at its clock (Options.Clock),
// not the wall clock's.
func TestAPIStatusesAtTheServiceClock(t *testing.T) {
	t.Parallel()
	f := newHZFixtureAt(t, time.Date(2020, 1, 1, 9, 0, 0, 0, time.UTC))
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	w := f.newOrg(t, "wherobots", "professional", "u-ada")
	ada := f.session("u-ada", "")
	var inv hzInvitationCreated
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/invitations", Session: ada, Body: `{"email":"cy@example.com"}`}, http.StatusCreated, &inv)
	var k hzKeyCreated
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/" + w + "/keys", Session: ada, Body: `{"name":"laptop"}`}, http.StatusCreated, &k)
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + w, Key: k.Secret}, http.StatusOK, nil) // the service says the key is live
	var keys struct {
		Keys []struct {
			Status string `json:"status"`
		} `json:"keys"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/keys", Session: ada}, http.StatusOK, &keys)
	require.Len(t, keys.Keys, 1)
	var listed struct {
		Invitations []struct {
			Status string `json:"status"`
		} `json:"invitations"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + w + "/invitations", Session: ada}, http.StatusOK, &listed)
	require.Len(t, listed.Invitations, 1)
	assert.Equal(t, "pending", listed.Invitations[0].Status, "the service's listing")

	assert.Equal(t, "pending", inv.Invitation.Status)
	assert.Equal(t, "active", keys.Keys[0].Status)
}

func TestNewAPIRefusesBadOptions(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	g := f.guard(t, httpauthz.Options{})
	for _, opts := range []httpauthz.APIOptions{
		{},
		{Guard: g, Prefix: "api"},
		{Guard: g, MaxBody: -1},
	} {
		_, err := httpauthz.NewAPI(opts)
		assert.Error(t, err, "%+v", opts)
	}
	for _, prefix := range []string{"", "/", "/api/", "/v1/manage"} {
		api, err := httpauthz.NewAPI(httpauthz.APIOptions{Guard: g, Prefix: prefix})
		require.NoError(t, err, prefix)
		assert.NotEmpty(t, api.Routes())
	}
}

// TestAPILocationEscapesTheID: organization IDs are printable ASCII, "/",
// "?", "#" and "%" included, so the Location of a new organization must
// escape its ID to name it.
func TestAPILocationEscapesTheID(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	ada := f.session("u-ada", "")
	const id = "team/a?b#c%d"
	a := e.ok(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: hzJSON(map[string]string{"id": id, "name": "Odd", "scheme": "wherobots"})}, http.StatusCreated, nil)
	// The escaped path reaches the organization.
	var o org.Organization
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + url.PathEscape(id), Session: ada}, http.StatusOK, &o)
	assert.Equal(t, id, o.ID)
	assert.Equal(t, "/api/orgs/"+url.PathEscape(id), a.Header.Get("Location"))
}

// TestAPIWalkthrough drives the routes a frontend uses, in order, checking
// each answer.
func TestAPIWalkthrough(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	ada := f.session("u-ada", "ada@example.com")
	bob := f.session("u-bob", "bob@example.com")

	var o org.Organization
	e.ok(t, hzCall{Method: "POST", Path: "/orgs", Session: ada, Body: `{"id":"acme","name":"Acme","scheme":"wherobots","edition":"professional","settings":{"region":"eu"}}`}, http.StatusCreated, &o)
	assert.Equal(t, map[string]string{"region": "eu"}, o.Settings)
	e.ok(t, hzCall{Method: "PATCH", Path: "/orgs/acme", Session: ada, Body: `{"name":"Acme Inc"}`}, http.StatusOK, &o)
	assert.Equal(t, "Acme Inc", o.Name)
	assert.Equal(t, map[string]string{"region": "eu"}, o.Settings, "settings are kept when not given")

	// Invite bob; he sees it, accepts it by ID, and sees the organization.
	var inv hzInvitationCreated
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/acme/invitations", Session: ada, Body: `{"email":"Bob@Example.com","role":"user"}`}, http.StatusCreated, &inv)
	assert.Equal(t, "bob@example.com", inv.Invitation.Email)
	var mine struct {
		Invitations []struct {
			ID    string `json:"id"`
			OrgID string `json:"org_id"`
		} `json:"invitations"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/me/invitations", Session: bob}, http.StatusOK, &mine)
	require.Len(t, mine.Invitations, 1)
	assert.Equal(t, "acme", mine.Invitations[0].OrgID)
	e.refused(t, hzCall{Method: "POST", Path: "/me/invitations/" + inv.Invitation.ID + "/accept", Session: f.session("u-mal", "mal@example.com")}, http.StatusNotFound, "invitation-not-found")
	var joined struct {
		Member       org.Member       `json:"member"`
		Organization org.Organization `json:"organization"`
	}
	e.ok(t, hzCall{Method: "POST", Path: "/me/invitations/" + inv.Invitation.ID + "/accept", Session: bob}, http.StatusOK, &joined)
	assert.Equal(t, "user", joined.Member.Role)
	assert.Equal(t, "acme", joined.Organization.ID)
	var ms struct {
		Memberships []org.Membership `json:"memberships"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/me/organizations", Session: bob}, http.StatusOK, &ms)
	require.Len(t, ms.Memberships, 1)
	assert.Equal(t, "user", ms.Memberships[0].Role)
	e.refused(t, hzCall{Method: "POST", Path: "/me/invitations/" + inv.Invitation.ID + "/accept", Session: bob}, http.StatusUnprocessableEntity, "invitation-accepted")

	// Seats and the edition.
	var seats struct {
		InUse int `json:"in_use"`
		Limit int `json:"limit"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/acme/seats", Session: bob}, http.StatusOK, &seats)
	assert.Equal(t, 2, seats.InUse)
	assert.Equal(t, 10, seats.Limit)
	e.ok(t, hzCall{Method: "PUT", Path: "/orgs/acme/seats", Session: ada, Body: `{"override":3}`}, http.StatusOK, &seats)
	assert.Equal(t, 3, seats.Limit)
	e.refused(t, hzCall{Method: "PUT", Path: "/orgs/acme/seats", Session: ada, Body: `{"override":1}`}, http.StatusConflict, "seat-limit")
	e.refused(t, hzCall{Method: "PUT", Path: "/orgs/acme/seats", Session: bob, Body: `{"override":5}`}, http.StatusForbidden, "permission-denied")
	e.ok(t, hzCall{Method: "PUT", Path: "/orgs/acme/edition", Session: ada, Body: `{"edition":"enterprise"}`}, http.StatusOK, &o)
	assert.Equal(t, "enterprise", o.Edition)

	// Roles.
	var m org.Member
	e.ok(t, hzCall{Method: "PATCH", Path: "/orgs/acme/members/u-bob", Session: ada, Body: `{"role":"admin"}`}, http.StatusOK, &m)
	assert.Equal(t, "admin", m.Role)
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/acme/members/u-bob", Session: ada}, http.StatusOK, &m)
	assert.Equal(t, "admin", m.Role)

	// A service principal with a key of its own.
	var sp org.Member
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/acme/service-principals", Session: ada, Body: `{"name":"ci","role":"user"}`}, http.StatusCreated, &sp)
	assert.Equal(t, org.ServicePrincipal, sp.Kind)
	e.ok(t, hzCall{Method: "PATCH", Path: "/orgs/acme/service-principals/" + sp.PrincipalID, Session: ada, Body: `{"name":"deploy"}`}, http.StatusOK, &sp)
	assert.Equal(t, "deploy", sp.Name)
	var spKey hzKeyCreated
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/acme/keys", Session: ada, Body: hzJSON(map[string]any{"name": "deploy", "owner": sp.PrincipalID, "expiry": "6mo"})}, http.StatusCreated, &spKey)
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/acme/members", Key: spKey.Secret}, http.StatusOK, nil)
	var sps hzMemberPage
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/acme/service-principals", Session: bob}, http.StatusOK, &sps)
	require.Len(t, sps.Members, 1)
	e.ok(t, hzCall{Method: "DELETE", Path: "/orgs/acme/service-principals/" + sp.PrincipalID, Session: ada}, http.StatusNoContent, nil)
	e.refused(t, hzCall{Method: "GET", Path: "/orgs/acme/members", Key: spKey.Secret}, http.StatusUnauthorized, "key-revoked")

	// bob leaves; ada, the last admin, may not.
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/acme/leave", Session: bob}, http.StatusNoContent, nil)
	e.refused(t, hzCall{Method: "GET", Path: "/orgs/acme", Session: bob}, http.StatusForbidden, "not-member")
	e.refused(t, hzCall{Method: "POST", Path: "/orgs/acme/leave", Session: ada}, http.StatusConflict, "min-holders")

	// Archive, then delete.
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/acme/archive", Session: ada}, http.StatusOK, &o)
	assert.True(t, o.Archived)
	e.refused(t, hzCall{Method: "POST", Path: "/orgs/acme/invitations", Session: ada, Body: `{"email":"x@example.com"}`}, http.StatusForbidden, "archived")
	e.ok(t, hzCall{Method: "DELETE", Path: "/orgs/acme", Session: ada}, http.StatusNoContent, nil)
	e.refused(t, hzCall{Method: "GET", Path: "/orgs/acme", Session: ada}, http.StatusForbidden, "not-member")
}

// TestAPIScopes drives an AI Engine organization's projects.
func TestAPIScopes(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	ai := f.newOrg(t, "aiengine", "", "u-ada", "u-vic", "viewer", "u-nora", "viewer")
	ada := f.session("u-ada", "")
	vic := f.session("u-vic", "")
	nora := f.session("u-nora", "")

	var s org.Scope
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/" + ai + "/scopes/project", Session: ada, Body: `{"name":"Lab"}`}, http.StatusCreated, &s)
	assert.Equal(t, "Lab", s.Name)
	e.refused(t, hzCall{Method: "POST", Path: "/orgs/" + ai + "/scopes/project", Session: vic, Body: `{"name":"Mine"}`}, http.StatusForbidden, "permission-denied")
	e.ok(t, hzCall{Method: "PUT", Path: "/orgs/" + ai + "/scopes/project/" + s.ID + "/members/u-vic", Session: ada, Body: `{"role":"editor"}`}, http.StatusOK, nil)
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + ai + "/scopes/project/" + s.ID, Session: vic}, http.StatusOK, nil)
	var members struct {
		Members []org.ScopeMember `json:"members"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + ai + "/scopes/project/" + s.ID + "/members", Session: vic}, http.StatusOK, &members)
	assert.Len(t, members.Members, 2)
	var my struct {
		Memberships []org.ScopeMembership `json:"memberships"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + ai + "/me/scopes/project", Session: vic}, http.StatusOK, &my)
	require.Len(t, my.Memberships, 1)
	var page struct {
		Scopes []org.Scope `json:"scopes"`
	}
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + ai + "/scopes/project", Session: nora}, http.StatusOK, &page)
	assert.Empty(t, page.Scopes, "nora is in no project")
	// A project nora is not in answers alike whether it exists or not.
	in := e.do(t, hzCall{Method: "GET", Path: "/orgs/" + ai + "/scopes/project/" + s.ID, Session: nora})
	out := e.do(t, hzCall{Method: "GET", Path: "/orgs/" + ai + "/scopes/project/no-such-project", Session: nora})
	require.Equal(t, http.StatusForbidden, in.Status, "%s", in)
	assert.Equal(t, in.Status, out.Status, "%s", out)
	assert.Equal(t, in.problem(t).Reason, out.problem(t).Reason)
	e.ok(t, hzCall{Method: "DELETE", Path: "/orgs/" + ai + "/scopes/project/" + s.ID + "/members/u-vic", Session: vic}, http.StatusNoContent, nil)
	e.ok(t, hzCall{Method: "DELETE", Path: "/orgs/" + ai + "/scopes/project/" + s.ID, Session: ada}, http.StatusNoContent, nil)
}
