package httpauthz_test

import (
	"net/http"
	"testing"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A request that carries two keys has both checked: a bad one is refused
// next to a good one, and two different good ones are ambiguous.
func TestGuardChecksEveryKeyPresented(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	orgA := f.newOrg(t, "wherobots", "professional", "u-ada", "u-bob", "user")
	ada, _ := f.key(t, orgA, "u-ada")
	bob, _ := f.key(t, orgA, "u-bob")
	base := hzServe(t, hzGuardRoutes(f.guard(t, httpauthz.Options{})))
	bad := hzUnknownKey(t)
	for _, c := range []struct {
		name           string
		header, bearer string
		status         int
		reason         string
	}{
		{"good header, bad bearer", ada, bad, http.StatusUnauthorized, "invalid-key"},
		{"bad header, good bearer", bad, ada, http.StatusUnauthorized, "invalid-key"},
		{"two different good keys", ada, bob, http.StatusUnauthorized, "ambiguous-credentials"},
	} {
		a := hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Key: c.bearer, Header: map[string]string{"X-API-Key": c.header}})
		require.Equal(t, c.status, a.Status, "%s: %s", c.name, a)
		assert.Equal(t, c.reason, a.problem(t).Reason, c.name)
	}
	same := hzDo(t, base, hzCall{Method: "GET", Path: "/whoami", Key: ada, Header: map[string]string{"X-API-Key": ada}})
	assert.Equal(t, "u-ada", same.caller(t).Principal, "the same key twice is one key")
}

// A session never acts as a service principal that shares its ID.
func TestSessionIsNeverAServicePrincipal(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	orgA := f.newOrg(t, "wherobots", "professional", "u-ada", "u-bob", "user")
	sp, err := f.svc.CreateServicePrincipal(hzCtx, orgA, "u-ada", "ci", "admin")
	require.NoError(t, err)
	impostor := f.session(sp.PrincipalID, "")
	base := hzServe(t, hzGuardRoutes(f.guard(t, httpauthz.Options{})))
	a := hzDo(t, base, hzCall{Method: "GET", Path: "/orgs/" + orgA + "/billing", Session: impostor})
	require.Equal(t, http.StatusForbidden, a.Status, "%s", a)
	assert.Equal(t, "not-member", a.problem(t).Reason)

	e := newHZAPI(t, f, httpauthz.APIOptions{})
	e.refused(t, hzCall{Method: "GET", Path: "/orgs/" + orgA + "/members", Session: impostor}, http.StatusForbidden, "not-member")
	e.refused(t, hzCall{Method: "PATCH", Path: "/orgs/" + orgA + "/members/u-bob", Body: `{"role":"admin"}`, Session: impostor}, http.StatusForbidden, "not-member")
	assert.Equal(t, "user", hzRoleOf(t, f, orgA, "u-bob"))
}

// A key may not make what would outlive it: keys, service principals, a
// new owner, the organization's end.
func TestKeysMayNotMintWhatOutlivesThem(t *testing.T) {
	t.Parallel()
	f := newHZFixture(t)
	orgW := f.newOrg(t, "wherobots", "professional", "u-wes")
	keyW, _ := f.key(t, orgW, "u-wes")
	e := newHZAPI(t, f, httpauthz.APIOptions{})
	for _, c := range []hzCall{
		{Method: "POST", Path: "/orgs/" + orgW + "/keys", Body: `{"name":"child","expiry":"4y"}`, Key: keyW},
		{Method: "POST", Path: "/orgs/" + orgW + "/service-principals", Body: `{"name":"bot","role":"admin"}`, Key: keyW},
		{Method: "DELETE", Path: "/orgs/" + orgW, Key: keyW},
	} {
		e.refused(t, c, http.StatusForbidden, "session-required")
	}
	keys, err := f.svc.AllAPIKeys(hzCtx, orgW, "u-wes", orgauthz.Page{})
	require.NoError(t, err)
	assert.Len(t, keys.Keys, 1, "no key was minted")
	// A session may.
	e.ok(t, hzCall{Method: "POST", Path: "/orgs/" + orgW + "/keys", Body: `{"name":"child","expiry":"30d"}`, Session: f.session("u-wes", "")}, http.StatusCreated, nil)
}

func hzRoleOf(t testing.TB, f *hzFixture, orgID, p string) string {
	t.Helper()
	m, err := f.svc.Host().Member(hzCtx, orgID, p)
	require.NoError(t, err)
	return m.Role
}
