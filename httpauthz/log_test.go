package httpauthz_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hzLockedBuffer is a bytes.Buffer that the servers' goroutines write to
// while the test reads it.
type hzLockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *hzLockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *hzLockedBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "%s", sc.Text())
		m["_line"] = sc.Text()
		out = append(out, m)
	}
	return out
}

func TestLogsNeverHoldSecrets(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	var buf hzLockedBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	g := f.guard(t, httpauthz.Options{Logger: logger})
	guardBase := hzServe(t, hzGuardRoutes(g))
	e := newHZAPI(t, f, httpauthz.APIOptions{Guard: g})

	a := f.newOrg(t, "wherobots", "professional", "u-ada", "u-bob", "user")
	b := f.newOrg(t, "wherobots", "professional", "u-bea")
	c := f.newOrg(t, "wherobots", "community", "u-cal", "u-cyd", "user")
	ai := f.newOrg(t, "aiengine", "", "u-ada", "u-vic", "viewer")
	proj, err := f.svc.CreateScope(hzCtx, ai, "u-ada", edition.ScopeProject, "Lab")
	require.NoError(t, err)

	adaKey, _ := f.key(t, a, "u-ada")
	bobKey, _ := f.key(t, a, "u-bob")
	cydKey, _ := f.key(t, c, "u-cyd")
	scoped, _ := f.key(t, a, "u-ada", "cloud:use")
	vicKey, _ := f.key(t, ai, "u-vic")
	revoked, revokedID := f.key(t, a, "u-bob")
	require.NoError(t, f.svc.RevokeAPIKey(hzCtx, a, "u-bob", revokedID))
	k, s, err := f.svc.CreateAPIKey(hzCtx, a, "u-bob", orgauthz.NewKey{Name: "short", ExpiresIn: time.Hour})
	require.NoError(t, err)
	expired := s.Reveal()
	_ = k
	// An invitation, expired by the time it is accepted.
	_, tok, err := f.svc.Invite(hzCtx, a, "u-ada", "cy@example.com", "user")
	require.NoError(t, err)
	token := tok.Reveal()
	f.clock.Advance(8 * 24 * time.Hour)
	unknownKey := hzUnknownKey(t)

	ada := f.session("u-ada", "ada@example.com")
	bob := f.session("u-bob", "bob@example.com")
	cyd := f.session("u-cyd", "")
	cy := f.session("u-cy", "cy@example.com")
	stranger := f.session("u-stranger", "")
	ended := f.session("u-bob", "bob@example.com")
	f.endSession(ended)
	forged := "sess-" + hzRandomHex(16)

	type want struct{ msg, reason string }
	var wants []want
	guard := func(c hzCall, status int, w want) {
		t.Helper()
		got := hzDo(t, guardBase, c)
		require.Equal(t, status, got.Status, "%s %s: %s", c.Method, c.Path, got)
		require.Equal(t, w.reason, got.problem(t).Reason)
		wants = append(wants, w)
	}
	api := func(c hzCall, status int, w want) {
		t.Helper()
		e.refused(t, c, status, w.reason)
		wants = append(wants, w)
	}
	const authn, req, mgmt = "authentication refused", "requirement refused", "management action refused"

	// Failed authentications.
	guard(hzCall{Method: "GET", Path: "/whoami", Key: unknownKey}, 401, want{authn, "invalid-key"})
	guard(hzCall{Method: "GET", Path: "/whoami", Key: "oak_" + hzRandomHex(20)}, 401, want{authn, "invalid-key"})
	guard(hzCall{Method: "GET", Path: "/whoami", Key: expired, Session: ada}, 401, want{authn, "key-expired"})
	guard(hzCall{Method: "GET", Path: "/whoami", Header: map[string]string{"X-API-Key": revoked}}, 401, want{authn, "key-revoked"})
	guard(hzCall{Method: "GET", Path: "/whoami", Session: ended}, 401, want{authn, "invalid-session"})
	guard(hzCall{Method: "GET", Path: "/whoami", Session: forged, Key: adaKey}, 401, want{authn, "invalid-session"})
	api(hzCall{Method: "GET", Path: "/orgs/" + a, Key: expired}, 401, want{authn, "key-expired"})
	api(hzCall{Method: "POST", Path: "/invitations/preview", Session: forged, Body: hzJSON(map[string]string{"token": token})}, 401, want{authn, "invalid-session"})

	// Refused requirements.
	guard(hzCall{Method: "GET", Path: "/orgs/" + a + "/billing", Session: bob}, 403, want{req, "role-lacks"})
	guard(hzCall{Method: "GET", Path: "/orgs/" + a + "/billing", Key: bobKey}, 403, want{req, "role-lacks"})
	guard(hzCall{Method: "GET", Path: "/orgs/" + b + "/billing", Key: adaKey}, 403, want{req, "wrong-organization"})
	guard(hzCall{Method: "GET", Path: "/orgs/" + a + "/billing", Key: scoped}, 403, want{req, "key-scope"})
	guard(hzCall{Method: "POST", Path: "/orgs/" + c + "/jobs", Key: cydKey}, 403, want{req, "edition-gated"})
	guard(hzCall{Method: "POST", Path: "/orgs/" + c + "/jobs", Session: cyd}, 403, want{req, "edition-gated"})
	guard(hzCall{Method: "GET", Path: "/orgs/" + a + "/billing", Session: stranger}, 403, want{req, "not-member"})
	guard(hzCall{Method: "GET", Path: "/billing", Session: ada}, 400, want{req, "missing-organization"})
	guard(hzCall{Method: "GET", Path: "/orgs/" + ai + "/projects/" + proj.ID + "/assets", Key: vicKey}, 403, want{req, "not-scope-member"})

	// Refused management actions.
	api(hzCall{Method: "POST", Path: "/orgs/" + a + "/invitations", Session: bob, Body: `{"email":"x@example.com"}`}, 403, want{mgmt, "permission-denied"})
	api(hzCall{Method: "GET", Path: "/orgs/" + a + "/members", Key: scoped}, 403, want{mgmt, "key-scope"})
	api(hzCall{Method: "GET", Path: "/orgs/" + b + "/members", Key: adaKey}, 403, want{mgmt, "wrong-organization"})
	api(hzCall{Method: "GET", Path: "/me/organizations", Key: adaKey}, 403, want{mgmt, "session-required"})
	api(hzCall{Method: "PATCH", Path: "/orgs/" + a + "/members/u-ada", Session: ada, Body: `{"role":"user"}`}, 409, want{mgmt, "min-holders"})
	api(hzCall{Method: "POST", Path: "/invitations/accept", Session: cy, Body: hzJSON(map[string]string{"token": token})}, 422, want{mgmt, "invitation-expired"})
	api(hzCall{Method: "GET", Path: "/orgs/" + c + "/audit", Session: f.session("u-cal", "")}, 403, want{mgmt, "edition-gated"})

	lines := buf.lines(t)
	for _, w := range wants {
		found := false
		for _, l := range lines {
			if l["msg"] == w.msg && l["reason"] == w.reason {
				found = true
				assert.Equal(t, "WARN", l["level"])
				assert.NotEmpty(t, l["path"])
				assert.NotEmpty(t, l["method"])
				break
			}
		}
		assert.True(t, found, "no %q line with reason %q", w.msg, w.reason)
	}
	// Requirements say what was required, and of whom.
	for _, l := range lines {
		if l["msg"] == req && l["reason"] == "wrong-organization" {
			assert.Equal(t, b, l["org"])
			assert.Equal(t, "billing:view", l["capability"])
			assert.Equal(t, "u-ada", l["principal"])
			assert.Equal(t, "api_key", l["via"])
		}
	}

	secrets := map[string]string{
		"ada's key": adaKey, "bob's key": bobKey, "cyd's key": cydKey, "scoped key": scoped, "vic's key": vicKey,
		"revoked key": revoked, "expired key": expired, "unknown key": unknownKey, "invitation token": token,
		"ada's session": ada, "bob's session": bob, "cyd's session": cyd, "cy's session": cy,
		"stranger's session": stranger, "ended session": ended, "forged session": forged,
	}
	for name, s := range secrets {
		if i := strings.LastIndex(s, "_"); i > 0 && len(s)-i > 8 {
			secrets[name+" (secret part)"] = s[i+1:]
		}
	}
	require.NotEmpty(t, lines)
	for _, l := range lines {
		for name, s := range secrets {
			assert.NotContains(t, l["_line"], s, "a log line holds the %s", name)
		}
		assert.NotContains(t, l["_line"], "Bearer")
		assert.NotContains(t, l["_line"], "sid=")
	}
	// Allowed requests are not logged.
	n := len(lines)
	require.Equal(t, http.StatusOK, hzDo(t, guardBase, hzCall{Method: "GET", Path: "/orgs/" + a + "/billing", Key: adaKey}).Status)
	e.ok(t, hzCall{Method: "GET", Path: "/orgs/" + a + "/members", Session: ada}, http.StatusOK, nil)
	assert.Len(t, buf.lines(t), n)
}
