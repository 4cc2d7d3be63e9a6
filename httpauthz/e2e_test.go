package httpauthz_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The API's response bodies that are not records of the root packages.
type (
	e2eInvitationCreated struct {
		Invitation invite.Invitation `json:"invitation"`
		Token      string            `json:"token"`
	}
	e2eJoined struct {
		Member       org.Member       `json:"member"`
		Organization org.Organization `json:"organization"`
	}
	e2eKeyCreated struct {
		Key    apikey.Key `json:"key"`
		Secret string     `json:"secret"`
	}
	e2eKeyView struct {
		apikey.Key
		Status apikey.Status `json:"status"`
	}
	e2eKeyPage struct {
		Keys []e2eKeyView `json:"keys"`
		Next string       `json:"next,omitempty"`
	}
	e2eAuditPage struct {
		Events []org.AuditEvent `json:"events"`
		Next   int64            `json:"next,omitempty"`
	}
)

// TestE2EOrganizationLife drives organizations' whole lives through the
// management API and a product's guarded routes with net/http's client,
// over PostgreSQL: sign-in, organizations in three schemes, invitations
// (by token and by ID), roles, seats, service principals and API keys,
// projects and workspaces, an ownership transfer, the audit trail,
// leaving, archiving and deleting, and the refusals on the way, each with
// its problem document.
func TestE2EOrganizationLife(t *testing.T) {
	t.Parallel()
	e := newE2EServer(t)
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, f) {
			t.FailNow() // the later steps build on this one
		}
	}

	var (
		ada, gil, eve, hal, ivy, kim e2eSession
		acme                         string // a Wherobots professional organization, its ID chosen by the service
		gilToAcme, gilToLab          e2eInvitationCreated
		gilToSoter                   e2eInvitationCreated
		spID                         string // a service principal of acme
		spKey, adaKey, scopedKey     e2eKeyCreated
		gilKey                       e2eKeyCreated
		project                      string // a project of lab
	)

	step("openapi", func(t *testing.T) {
		r := e.do(t, "GET", "/api/openapi.json").want(t, http.StatusOK)
		var doc struct {
			OpenAPI string                     `json:"openapi"`
			Servers []struct{ URL string }     `json:"servers"`
			Paths   map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(r.body, &doc); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(doc.OpenAPI, "3.1") || len(doc.Servers) == 0 || doc.Servers[0].URL != "/api" || doc.Paths["/orgs/{org}/members"] == nil {
			t.Errorf("openapi %q, servers %v, %d paths", doc.OpenAPI, doc.Servers, len(doc.Paths))
		}
	})

	step("sign in", func(t *testing.T) {
		ada = e.signin(t, "ada", "ada@example.com")
		gil = e.signin(t, "gil", "gil@example.com")
		eve = e.signin(t, "eve", "eve@example.com")
		hal = e.signin(t, "hal", "hal@example.com")
		ivy = e.signin(t, "ivy", "ivy@example.com")
		kim = e.signin(t, "kim", "kim@example.com")
	})

	step("no or bad credentials", func(t *testing.T) {
		p := e.do(t, "GET", "/api/me/organizations").problem(t, 401, "unauthenticated")
		if !strings.Contains(p.Detail, "Authorization: Bearer") {
			t.Errorf("detail %q does not say how to authenticate", p.Detail)
		}
		e.do(t, "GET", "/api/me/organizations", e2eBearer("e2e_notakey")).problem(t, 401, "invalid-key")
		e.do(t, "GET", "/api/me/organizations", e2eAs(e2eSession{id: "forged"})).problem(t, 401, "invalid-session")
		e.do(t, "GET", "/api/me/organizations", e2eAsHeader(e2eSession{id: "forged"})).problem(t, 401, "invalid-session")
		e.do(t, "POST", "/orgs/acme/jobs").problem(t, 401, "unauthenticated")
		r := e.do(t, "POST", "/orgs/acme/jobs", e2eXAPIKey("e2e_notakey"))
		r.problem(t, 401, "invalid-key")
		if got := r.resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("WWW-Authenticate %q, want an invalid_token challenge", got)
		}
	})

	step("create organizations", func(t *testing.T) {
		var mp orgauthz.MembershipPage
		e.do(t, "GET", "/api/me/organizations", e2eAs(ada)).ok(t, 200, &mp)
		if len(mp.Memberships) != 0 || mp.Next != "" {
			t.Errorf("a new user's organizations: %+v", mp)
		}

		var o org.Organization
		r := e.do(t, "POST", "/api/orgs", e2eAs(ada), e2eJSON(map[string]string{"name": "Acme", "scheme": "wherobots", "edition": "professional"})).ok(t, 201, &o)
		acme = o.ID
		if acme == "" || o.Name != "Acme" || o.Scheme != "wherobots" || o.Edition != "professional" || o.Archived || o.CreatedAt.IsZero() {
			t.Errorf("created %+v", o)
		}
		if loc := r.resp.Header.Get("Location"); loc != "/api/orgs/"+acme {
			t.Errorf("Location %q, want /api/orgs/%s", loc, acme)
		}
		for _, nb := range []map[string]string{
			{"id": "lab", "name": "Lab", "scheme": "aiengine"},
			{"id": "soter", "name": "Soter", "scheme": "soterai", "edition": "enterprise"},
			{"id": "free", "name": "Free", "scheme": "wherobots"},
		} {
			e.do(t, "POST", "/api/orgs", e2eAsHeader(ada), e2eJSON(nb)).ok(t, 201, &o)
			if o.ID != nb["id"] || o.Scheme != nb["scheme"] {
				t.Errorf("created %+v from %v", o, nb)
			}
		}
		if o.Edition != "community" {
			t.Errorf("a Wherobots organization starts in %q, want community", o.Edition)
		}
		e.do(t, "POST", "/api/orgs", e2eAs(eve), e2eJSON(map[string]string{"id": "lab", "name": "Mine", "scheme": "aiengine"})).problem(t, 409, "exists")

		var got org.Organization
		e.do(t, "GET", "/api/orgs/"+acme, e2eAs(ada)).ok(t, 200, &got)
		if got.ID != acme || got.Name != "Acme" || got.Edition != "professional" {
			t.Errorf("read %+v", got)
		}
		e.do(t, "GET", "/api/me/organizations", e2eAs(ada)).ok(t, 200, &mp)
		var ids []string
		for _, m := range mp.Memberships {
			ids = append(ids, m.OrgID)
		}
		want := e2eSorted(acme, "free", "lab", "soter")
		if !slices.Equal(ids, want) {
			t.Errorf("ada's organizations %v, want %v", ids, want)
		}
		for _, m := range mp.Memberships {
			wantRole := map[string]string{"wherobots": "admin", "aiengine": "owner", "soterai": "owner"}[m.Scheme]
			if m.Role != wantRole || m.External || m.Archived || m.OrgName == "" {
				t.Errorf("membership %+v", m)
			}
		}
		// Paged.
		var p1, p2 orgauthz.MembershipPage
		e.do(t, "GET", "/api/me/organizations?limit=3", e2eAs(ada)).ok(t, 200, &p1)
		if len(p1.Memberships) != 3 || p1.Next != want[2] {
			t.Fatalf("first page %+v", p1)
		}
		e.do(t, "GET", "/api/me/organizations?limit=3&after="+url.QueryEscape(p1.Next), e2eAs(ada)).ok(t, 200, &p2)
		if len(p2.Memberships) != 1 || p2.Memberships[0].OrgID != want[3] || p2.Next != "" {
			t.Errorf("second page %+v", p2)
		}
	})

	step("malformed requests", func(t *testing.T) {
		e.do(t, "POST", "/api/orgs", e2eAs(ada), e2eRaw(`{"name":"X","scheme":"wherobots","colour":"red"}`)).problem(t, 400, "bad-request")
		e.do(t, "POST", "/api/orgs", e2eAs(ada), e2eRaw(`{"name":`)).problem(t, 400, "bad-request")
		e.do(t, "POST", "/api/orgs", e2eAs(ada), e2eRaw(`{"name":"X","scheme":"wherobots"} {}`)).problem(t, 400, "bad-request")
		e.do(t, "POST", "/api/orgs", e2eAs(ada), e2eRaw(`["name"]`)).problem(t, 400, "bad-request")
		e.do(t, "POST", "/api/orgs", e2eAs(ada), e2eJSON(map[string]string{"name": "X", "scheme": "wherobots", "edition": "platinum"})).problem(t, 400, "unknown-edition")
		e.do(t, "POST", "/api/orgs", e2eAs(ada), e2eJSON(map[string]string{"name": "X", "scheme": "acme-cloud"})).problem(t, 400, "unknown-scheme")
		e.do(t, "POST", "/api/orgs", e2eAs(ada), e2eJSON(map[string]string{"name": "", "scheme": "wherobots"})).problem(t, 400, "invalid-name")
		p := e.do(t, "POST", "/api/orgs", e2eAs(ada), e2eJSON(map[string]string{"name": strings.Repeat("x", 70<<10), "scheme": "wherobots"})).problem(t, 413, "body-too-large")
		if !strings.Contains(p.Detail, strconv.Itoa(64<<10)) {
			t.Errorf("413 detail %q does not name the limit", p.Detail)
		}
		e.do(t, "GET", "/api/me/organizations?limit=many", e2eAs(ada)).problem(t, 400, "invalid-argument")
		e.do(t, "GET", "/api/me/organizations?after=%20", e2eAs(ada)).problem(t, 400, "invalid-argument")
		e.do(t, "GET", "/api/no/such/route", e2eAs(ada)).problem(t, 404, "no-route")
		e.do(t, "GET", "/api/orgs/lab/scopes/widget", e2eAs(ada)).problem(t, 400, "unknown-scope")
		// Nothing was created.
		var mp orgauthz.MembershipPage
		e.do(t, "GET", "/api/me/organizations", e2eAs(ada)).ok(t, 200, &mp)
		if len(mp.Memberships) != 4 {
			t.Errorf("ada has %d organizations, want 4", len(mp.Memberships))
		}
	})

	step("invite", func(t *testing.T) {
		r := e.do(t, "POST", "/api/orgs/"+acme+"/invitations", e2eAs(ada), e2eJSON(map[string]string{"email": "Gil@Example.COM"})).ok(t, 201, &gilToAcme)
		e.shown(t, "gil's invitation token to acme", gilToAcme.Token)
		inv := gilToAcme.Invitation
		if inv.Email != "gil@example.com" || inv.Role != "user" || inv.Status != invite.Pending || inv.InvitedBy != "ada" || inv.Sends != 1 ||
			!strings.HasPrefix(gilToAcme.Token, "inv_"+inv.ID+"_") || !inv.ExpiresAt.After(inv.CreatedAt) {
			t.Errorf("%s", r)
		}
		e.do(t, "POST", "/api/orgs/lab/invitations", e2eAs(ada), e2eJSON(map[string]string{"email": "gil@example.com", "role": "editor"})).ok(t, 201, &gilToLab)
		e.shown(t, "gil's invitation token to lab", gilToLab.Token)
		e.do(t, "POST", "/api/orgs/soter/invitations", e2eAs(ada), e2eJSON(map[string]string{"email": "gil@example.com", "role": "manager"})).ok(t, 201, &gilToSoter)
		e.shown(t, "gil's invitation token to soter", gilToSoter.Token)

		e.do(t, "POST", "/api/orgs/"+acme+"/invitations", e2eAs(ada), e2eJSON(map[string]string{"email": "not an address"})).problem(t, 400, "invalid-email")
		e.do(t, "POST", "/api/orgs/"+acme+"/invitations", e2eAs(ada), e2eJSON(map[string]string{"email": "x@example.com", "role": "wizard"})).problem(t, 400, "unknown-role")
		e.do(t, "POST", "/api/orgs/"+acme+"/invitations", e2eAs(eve), e2eJSON(map[string]string{"email": "x@example.com"})).problem(t, 403, "not-member")

		var ip orgauthz.InvitationPage
		e.do(t, "GET", "/api/orgs/"+acme+"/invitations?pending=true", e2eAs(ada)).ok(t, 200, &ip)
		if len(ip.Invitations) != 1 || ip.Invitations[0].ID != inv.ID || ip.Invitations[0].Status != invite.Pending {
			t.Errorf("acme's invitations %+v", ip)
		}
		e.do(t, "GET", "/api/orgs/"+acme+"/invitations?pending=maybe", e2eAs(ada)).problem(t, 400, "invalid-argument")
		e.do(t, "GET", "/api/orgs/"+acme+"/invitations", e2eAs(gil)).problem(t, 403, "not-member")
	})

	step("preview by token", func(t *testing.T) {
		var pv orgauthz.InvitationPreview
		e.do(t, "POST", "/api/invitations/preview", e2eJSON(map[string]string{"token": gilToAcme.Token})).ok(t, 200, &pv)
		if pv.ID != gilToAcme.Invitation.ID || pv.OrgID != acme || pv.OrgName != "Acme" || pv.Email != "gil@example.com" ||
			pv.Role != "user" || pv.RoleName != "User" || pv.InvitedBy != "ada" || pv.Status != invite.Pending {
			t.Errorf("preview %+v", pv)
		}
		// A wrong secret, a malformed token: alike.
		wrong := gilToAcme.Token[:len(gilToAcme.Token)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(gilToAcme.Token, "a")]
		e.do(t, "POST", "/api/invitations/preview", e2eJSON(map[string]string{"token": wrong})).problem(t, 400, "invalid-token")
		e.do(t, "POST", "/api/invitations/preview", e2eJSON(map[string]string{"token": "inv_nope"})).problem(t, 400, "invalid-token")
		e.do(t, "POST", "/api/invitations/preview", e2eRaw(`{"token":"x","extra":1}`)).problem(t, 400, "bad-request")
		// Anonymous is fine, a bad credential is not.
		e.do(t, "POST", "/api/invitations/preview", e2eAs(e2eSession{id: "forged"}), e2eJSON(map[string]string{"token": gilToAcme.Token})).problem(t, 401, "invalid-session")
		e.do(t, "POST", "/api/invitations/preview", e2eAs(eve), e2eJSON(map[string]string{"token": gilToAcme.Token})).ok(t, 200, nil)
	})

	step("accept", func(t *testing.T) {
		var ip orgauthz.InvitationPreviewPage
		e.do(t, "GET", "/api/me/invitations", e2eAs(gil)).ok(t, 200, &ip)
		var orgs []string
		for _, p := range ip.Invitations {
			orgs = append(orgs, p.OrgID)
		}
		slices.Sort(orgs)
		if want := e2eSorted(acme, "lab", "soter"); !slices.Equal(orgs, want) {
			t.Errorf("gil's invitations are to %v, want %v", orgs, want)
		}
		e.do(t, "GET", "/api/me/invitations", e2eAs(eve)).ok(t, 200, &ip)
		if len(ip.Invitations) != 0 {
			t.Errorf("eve's invitations %+v", ip)
		}
		nomail := e.signin(t, "nomail", "")
		e.do(t, "GET", "/api/me/invitations", e2eAs(nomail)).problem(t, 403, "permission-denied")

		// Refusals first: another address, someone else's ID, no e2eSession.
		e.do(t, "POST", "/api/invitations/accept", e2eAs(eve), e2eJSON(map[string]string{"token": gilToAcme.Token})).problem(t, 422, "email-mismatch")
		e.do(t, "POST", "/api/me/invitations/"+gilToLab.Invitation.ID+"/accept", e2eAs(eve)).problem(t, 404, "invitation-not-found")
		e.do(t, "POST", "/api/me/invitations/nosuchinvitation/accept", e2eAs(gil)).problem(t, 404, "invitation-not-found")
		e.do(t, "POST", "/api/invitations/accept", e2eJSON(map[string]string{"token": gilToAcme.Token})).problem(t, 401, "unauthenticated")

		var j e2eJoined
		e.do(t, "POST", "/api/invitations/accept", e2eAs(gil), e2eJSON(map[string]string{"token": gilToAcme.Token})).ok(t, 200, &j)
		if j.Member.PrincipalID != "gil" || j.Member.Role != "user" || j.Member.Email != "gil@example.com" || j.Member.Kind != org.User || j.Organization.ID != acme {
			t.Errorf("gil joined %+v", j)
		}
		e.do(t, "POST", "/api/invitations/accept", e2eAs(gil), e2eJSON(map[string]string{"token": gilToAcme.Token})).problem(t, 422, "invitation-accepted")

		e.do(t, "POST", "/api/me/invitations/"+gilToLab.Invitation.ID+"/accept", e2eAs(gil)).ok(t, 200, &j)
		if j.Member.Role != "editor" || j.Organization.ID != "lab" {
			t.Errorf("gil joined %+v", j)
		}
		e.do(t, "POST", "/api/invitations/accept", e2eAsHeader(gil), e2eJSON(map[string]string{"token": gilToSoter.Token})).ok(t, 200, &j)
		if j.Member.Role != "manager" || j.Organization.ID != "soter" {
			t.Errorf("gil joined %+v", j)
		}

		var mp orgauthz.MembershipPage
		e.do(t, "GET", "/api/me/organizations", e2eAs(gil)).ok(t, 200, &mp)
		if len(mp.Memberships) != 3 {
			t.Errorf("gil's organizations %+v", mp)
		}
		e.do(t, "GET", "/api/me/invitations", e2eAs(gil)).ok(t, 200, &ip)
		if len(ip.Invitations) != 0 {
			t.Errorf("gil's invitations after accepting: %+v", ip)
		}
		// Inviting a member's address again is a conflict.
		e.do(t, "POST", "/api/orgs/"+acme+"/invitations", e2eAs(ada), e2eJSON(map[string]string{"email": "gil@example.com"})).problem(t, 409, "already-member")
	})

	step("decline", func(t *testing.T) {
		var ic e2eInvitationCreated
		e.do(t, "POST", "/api/orgs/"+acme+"/invitations", e2eAs(ada), e2eJSON(map[string]string{"email": "ivy@example.com"})).ok(t, 201, &ic)
		e.shown(t, "ivy's invitation token", ic.Token)
		e.do(t, "POST", "/api/invitations/decline", e2eJSON(map[string]string{"token": ic.Token})).want(t, 204)
		var pv orgauthz.InvitationPreview
		e.do(t, "POST", "/api/invitations/preview", e2eJSON(map[string]string{"token": ic.Token})).ok(t, 200, &pv)
		if pv.Status != invite.Declined {
			t.Errorf("a declined invitation previews as %q", pv.Status)
		}
		e.do(t, "POST", "/api/invitations/accept", e2eAs(ivy), e2eJSON(map[string]string{"token": ic.Token})).problem(t, 422, "invitation-declined")
	})

	step("roles", func(t *testing.T) {
		var m org.Member
		e.do(t, "PATCH", "/api/orgs/"+acme+"/members/gil", e2eAs(ada), e2eJSON(map[string]string{"role": "admin"})).ok(t, 200, &m)
		if m.PrincipalID != "gil" || m.Role != "admin" {
			t.Errorf("changed %+v", m)
		}
		e.do(t, "GET", "/api/orgs/"+acme+"/members/gil", e2eAs(gil)).ok(t, 200, &m)
		if m.Role != "admin" {
			t.Errorf("gil is %q", m.Role)
		}
		e.do(t, "PATCH", "/api/orgs/"+acme+"/members/gil", e2eAs(gil), e2eJSON(map[string]string{"role": "user"})).ok(t, 200, &m)
		if m.Role != "user" {
			t.Errorf("changed %+v", m)
		}
		p := e.do(t, "PATCH", "/api/orgs/"+acme+"/members/ada", e2eAs(ada), e2eJSON(map[string]string{"role": "user"})).problem(t, 409, "min-holders")
		if !strings.Contains(p.Detail, "admin") {
			t.Errorf("the last admin's refusal %q does not name the role", p.Detail)
		}
		e.do(t, "PATCH", "/api/orgs/"+acme+"/members/ada", e2eAs(gil), e2eJSON(map[string]string{"role": "user"})).problem(t, 403, "permission-denied")
		e.do(t, "PATCH", "/api/orgs/"+acme+"/members/gil", e2eAs(ada), e2eJSON(map[string]string{"role": "wizard"})).problem(t, 400, "unknown-role")
		e.do(t, "PATCH", "/api/orgs/"+acme+"/members/gil", e2eAs(eve), e2eJSON(map[string]string{"role": "admin"})).problem(t, 403, "not-member")
		e.do(t, "GET", "/api/orgs/"+acme+"/members/nobody", e2eAs(ada)).problem(t, 404, "not-found")
		e.do(t, "PATCH", "/api/orgs/"+acme+"/members/nobody", e2eAs(ada), e2eJSON(map[string]string{"role": "admin"})).problem(t, 404, "not-found")
		e.do(t, "POST", "/api/orgs/"+acme+"/members", e2eAs(ada), e2eJSON(map[string]string{"principal_id": "hal"})).problem(t, 403, "not-offered")

		var mp orgauthz.MemberPage
		e.do(t, "GET", "/api/orgs/"+acme+"/members", e2eAs(gil)).ok(t, 200, &mp)
		if len(mp.Members) != 2 || mp.Members[0].PrincipalID != "ada" || mp.Members[1].PrincipalID != "gil" {
			t.Errorf("acme's members %+v", mp)
		}
		e.do(t, "GET", "/api/orgs/"+acme+"/members", e2eAs(eve)).problem(t, 403, "not-member")
	})

	step("guarded product routes", func(t *testing.T) {
		var pa e2eAnswer
		e.do(t, "GET", "/orgs/"+acme+"/billing", e2eAs(ada)).ok(t, 200, &pa)
		if pa != (e2eAnswer{Org: acme, Principal: "ada", Via: "session"}) {
			t.Errorf("billing answered %+v", pa)
		}
		p := e.do(t, "GET", "/orgs/"+acme+"/billing", e2eAs(gil)).problem(t, 403, "role-lacks")
		if p.Capability != "billing:view" || p.Role != "user" {
			t.Errorf("role-lacks %+v", p)
		}
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eAsHeader(gil)).ok(t, 200, &pa)
		p = e.do(t, "POST", "/orgs/free/jobs", e2eAs(ada)).problem(t, 403, "edition-gated")
		if p.Capability != "job_runs:create" || !slices.Equal(p.Editions, []string{"professional", "enterprise"}) || !strings.Contains(p.Detail, "community") {
			t.Errorf("edition-gated %+v", p)
		}
		// Not a member, and no such organization: alike.
		a := e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eAs(eve)).problem(t, 403, "not-member")
		b := e.do(t, "POST", "/orgs/nosuchorg/jobs", e2eAs(eve)).problem(t, 403, "not-member")
		if a.Capability != "" || a.Role != "" || b.Capability != "" || b.Role != "" {
			t.Errorf("not-member problems say too much: %+v, %+v", a, b)
		}
		// The management API's own edition gate.
		e.do(t, "POST", "/api/orgs/free/service-principals", e2eAs(ada), e2eJSON(map[string]string{"name": "ci", "role": "user"})).problem(t, 403, "edition-gated")
		e.do(t, "GET", "/api/orgs/free/audit", e2eAs(ada)).problem(t, 403, "edition-gated")
	})

	step("seats", func(t *testing.T) {
		var s orgauthz.Seats
		e.do(t, "GET", "/api/orgs/"+acme+"/seats", e2eAs(gil)).ok(t, 200, &s)
		if s != (orgauthz.Seats{Members: 2, Pending: 0, InUse: 2, Limit: 10, Source: orgauthz.SeatsFromEdition, Edition: "professional"}) {
			t.Errorf("seats %+v", s)
		}
		e.do(t, "PUT", "/api/orgs/"+acme+"/seats", e2eAs(gil), e2eJSON(map[string]int{"override": 3})).problem(t, 403, "permission-denied")
		e.do(t, "PUT", "/api/orgs/"+acme+"/seats", e2eAs(ada), e2eJSON(map[string]int{"override": 3})).ok(t, 200, &s)
		if s.Limit != 3 || s.Source != orgauthz.SeatsFromOverride || s.InUse != 2 {
			t.Errorf("seats %+v", s)
		}
		var hi e2eInvitationCreated
		e.do(t, "POST", "/api/orgs/"+acme+"/invitations", e2eAs(ada), e2eJSON(map[string]string{"email": "hal@example.com"})).ok(t, 201, &hi)
		e.shown(t, "hal's invitation token", hi.Token)
		e.do(t, "GET", "/api/orgs/"+acme+"/seats", e2eAs(ada)).ok(t, 200, &s)
		if s.Members != 2 || s.Pending != 1 || s.InUse != 3 {
			t.Errorf("seats %+v", s)
		}
		e.do(t, "POST", "/api/orgs/"+acme+"/invitations", e2eAs(ada), e2eJSON(map[string]string{"email": "max@example.com"})).problem(t, 409, "seat-limit")
		e.do(t, "POST", "/api/orgs/"+acme+"/service-principals", e2eAs(ada), e2eJSON(map[string]string{"name": "ci", "role": "user"})).problem(t, 409, "seat-limit")
		e.do(t, "PUT", "/api/orgs/"+acme+"/seats", e2eAs(ada), e2eJSON(map[string]int{"override": 2})).problem(t, 409, "seat-limit")

		// Revoking frees the seat, and the token is dead.
		e.do(t, "DELETE", "/api/orgs/"+acme+"/invitations/"+hi.Invitation.ID, e2eAs(ada)).want(t, 204)
		e.do(t, "POST", "/api/invitations/accept", e2eAs(hal), e2eJSON(map[string]string{"token": hi.Token})).problem(t, 422, "invitation-revoked")
		e.do(t, "DELETE", "/api/orgs/"+acme+"/invitations/nosuchinvitation", e2eAs(ada)).problem(t, 404, "not-found")
		e.do(t, "PUT", "/api/orgs/"+acme+"/seats", e2eAs(ada), e2eJSON(map[string]int{"override": 0})).ok(t, 200, &s)
		if s.Limit != 10 || s.Source != orgauthz.SeatsFromEdition || s.InUse != 2 {
			t.Errorf("seats %+v", s)
		}
		// Community's five seats are fixed.
		e.do(t, "PUT", "/api/orgs/free/seats", e2eAs(ada), e2eJSON(map[string]int{"override": 7})).problem(t, 422, "invalid-seat-override")
	})

	step("service principals and keys", func(t *testing.T) {
		var sp org.Member
		e.do(t, "POST", "/api/orgs/"+acme+"/service-principals", e2eAs(ada), e2eJSON(map[string]string{"name": "ci", "role": "user"})).ok(t, 201, &sp)
		spID = sp.PrincipalID
		if spID == "" || sp.Kind != org.ServicePrincipal || sp.Name != "ci" || sp.Role != "user" {
			t.Errorf("created %+v", sp)
		}
		e.do(t, "POST", "/api/orgs/"+acme+"/service-principals", e2eAs(ada), e2eJSON(map[string]string{"name": "ci", "role": "user"})).problem(t, 409, "exists")
		e.do(t, "POST", "/api/orgs/"+acme+"/service-principals", e2eAs(gil), e2eJSON(map[string]string{"name": "mine", "role": "user"})).problem(t, 403, "permission-denied")
		var mp orgauthz.MemberPage
		e.do(t, "GET", "/api/orgs/"+acme+"/service-principals", e2eAs(gil)).ok(t, 200, &mp)
		if len(mp.Members) != 1 || mp.Members[0].PrincipalID != spID {
			t.Errorf("service principals %+v", mp)
		}

		mk := func(who e2eSession, nb map[string]any, what string) e2eKeyCreated {
			t.Helper()
			var kc e2eKeyCreated
			e.do(t, "POST", "/api/orgs/"+acme+"/keys", e2eAs(who), e2eJSON(nb)).ok(t, 201, &kc)
			e.shown(t, what, kc.Secret)
			if !strings.HasPrefix(kc.Secret, e2eKeyPrefix+"_"+kc.Key.ID+"_") || kc.Key.Display == "" || strings.Contains(kc.Key.Display, kc.Secret[len(kc.Secret)-12:]) ||
				kc.Key.ExpiresAt.IsZero() || !kc.Key.RevokedAt.IsZero() {
				t.Errorf("key %+v", kc.Key)
			}
			return kc
		}
		spKey = mk(ada, map[string]any{"name": "deploy", "owner": spID, "expiry": "30d"}, "the service principal's key")
		if spKey.Key.OwnerID != spID || spKey.Key.CreatedBy != "ada" || spKey.Key.ExpiresAt.Sub(spKey.Key.CreatedAt) != 30*24*time.Hour {
			t.Errorf("the service principal's key %+v", spKey.Key)
		}
		adaKey = mk(ada, map[string]any{"name": "laptop"}, "ada's key")
		scopedKey = mk(ada, map[string]any{"name": "jobs only", "scope": []string{"job_runs:create"}}, "ada's scoped key")
		if !slices.Equal(scopedKey.Key.Scope, []role.Capability{"job_runs:create"}) {
			t.Errorf("scoped key %+v", scopedKey.Key)
		}
		gilKey = mk(gil, map[string]any{"name": "gil's"}, "gil's key")

		e.do(t, "POST", "/api/orgs/"+acme+"/keys", e2eAs(gil), e2eJSON(map[string]any{"name": "x", "owner": spID})).problem(t, 403, "permission-denied")
		e.do(t, "POST", "/api/orgs/"+acme+"/keys", e2eAs(gil), e2eJSON(map[string]any{"name": "x", "scope": []string{"billing:view"}})).problem(t, 403, "permission-denied")
		e.do(t, "POST", "/api/orgs/"+acme+"/keys", e2eAs(ada), e2eJSON(map[string]any{"name": "x", "expiry": "forever"})).problem(t, 400, "invalid-expiry")
		e.do(t, "POST", "/api/orgs/"+acme+"/keys", e2eAs(ada), e2eJSON(map[string]any{"name": "x", "scope": []string{"notebooks:start"}})).problem(t, 400, "unknown-capability")

		var kp e2eKeyPage
		e.do(t, "GET", "/api/orgs/"+acme+"/keys", e2eAs(ada)).ok(t, 200, &kp)
		if ids := e2eKeyIDs(kp); !slices.Equal(ids, e2eSorted(adaKey.Key.ID, scopedKey.Key.ID)) {
			t.Errorf("ada's keys %v", ids)
		}
		e.do(t, "GET", "/api/orgs/"+acme+"/keys?owner="+spID, e2eAs(ada)).ok(t, 200, &kp)
		if ids := e2eKeyIDs(kp); !slices.Equal(ids, []string{spKey.Key.ID}) {
			t.Errorf("the service principal's keys %v", ids)
		}
		e.do(t, "GET", "/api/orgs/"+acme+"/keys?all=true", e2eAs(ada)).ok(t, 200, &kp)
		if ids := e2eKeyIDs(kp); !slices.Equal(ids, e2eSorted(spKey.Key.ID, adaKey.Key.ID, scopedKey.Key.ID, gilKey.Key.ID)) {
			t.Errorf("all keys %v", ids)
		}
		for _, k := range kp.Keys {
			if k.Status != apikey.Active || k.Display == "" || k.Hash != nil {
				t.Errorf("listed %+v", k)
			}
		}
		e.do(t, "GET", "/api/orgs/"+acme+"/keys?all=true", e2eAs(gil)).problem(t, 403, "permission-denied")
		e.do(t, "GET", "/api/orgs/"+acme+"/keys?owner=ada", e2eAs(gil)).problem(t, 403, "permission-denied")
	})

	step("keys at work", func(t *testing.T) {
		var pa e2eAnswer
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eBearer(spKey.Secret)).ok(t, 200, &pa)
		if pa != (e2eAnswer{Org: acme, Principal: spID, Via: "api_key"}) {
			t.Errorf("jobs answered %+v", pa)
		}
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eXAPIKey(spKey.Secret)).ok(t, 200, nil)
		p := e.do(t, "GET", "/orgs/"+acme+"/billing", e2eBearer(spKey.Secret)).problem(t, 403, "role-lacks")
		if p.Capability != "billing:view" || p.Role != "user" {
			t.Errorf("role-lacks %+v", p)
		}
		e.do(t, "POST", "/orgs/free/jobs", e2eBearer(spKey.Secret)).problem(t, 403, "wrong-organization")
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eBearer(scopedKey.Secret)).ok(t, 200, nil)
		p = e.do(t, "GET", "/orgs/"+acme+"/billing", e2eBearer(scopedKey.Secret)).problem(t, 403, "key-scope")
		if p.Capability != "billing:view" {
			t.Errorf("key-scope %+v", p)
		}
		e.do(t, "GET", "/orgs/"+acme+"/billing", e2eBearer(adaKey.Secret)).ok(t, 200, nil)

		// The management API: an unscoped key acts as its owner in its own
		// organization, nowhere else, and not for the owner's own view.
		var mp orgauthz.MemberPage
		e.do(t, "GET", "/api/orgs/"+acme+"/members", e2eBearer(adaKey.Secret)).ok(t, 200, &mp)
		e.do(t, "GET", "/api/orgs/"+acme+"/members", e2eBearer(scopedKey.Secret)).problem(t, 403, "key-scope")
		e.do(t, "GET", "/api/orgs/lab", e2eBearer(adaKey.Secret)).problem(t, 403, "wrong-organization")
		e.do(t, "GET", "/api/me/organizations", e2eBearer(adaKey.Secret)).problem(t, 403, "session-required")
		e.do(t, "POST", "/api/orgs", e2eBearer(adaKey.Secret), e2eJSON(map[string]string{"name": "ByKey", "scheme": "wherobots"})).problem(t, 403, "session-required")
		e.do(t, "GET", "/api/orgs/"+acme+"/audit", e2eBearer(spKey.Secret)).problem(t, 403, "permission-denied")

		// Every credential presented is checked.
		e.do(t, "GET", "/api/orgs/"+acme+"/members", e2eAs(ada), e2eBearer("e2e_notakey")).problem(t, 401, "invalid-key")
		e.do(t, "GET", "/api/orgs/"+acme+"/members", e2eAs(e2eSession{id: "forged"}), e2eBearer(adaKey.Secret)).problem(t, 401, "invalid-session")
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eAsHeader(e2eSession{id: "forged"}), e2eBearer(spKey.Secret)).problem(t, 401, "invalid-session")
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eAs(gil), e2eXAPIKey("e2e_notakey")).problem(t, 401, "invalid-key")

		// Revoked: refused at once, listed as revoked.
		e.do(t, "DELETE", "/api/orgs/"+acme+"/keys/"+spKey.Key.ID, e2eAs(gil)).problem(t, 403, "permission-denied")
		e.do(t, "DELETE", "/api/orgs/"+acme+"/keys/"+spKey.Key.ID, e2eAs(ada)).want(t, 204)
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eBearer(spKey.Secret)).problem(t, 401, "key-revoked")
		e.do(t, "GET", "/api/orgs/"+acme+"/members", e2eBearer(spKey.Secret)).problem(t, 401, "key-revoked")
		e.do(t, "DELETE", "/api/orgs/"+acme+"/keys/nosuchkey", e2eAs(ada)).problem(t, 404, "not-found")
		var kp e2eKeyPage
		e.do(t, "GET", "/api/orgs/"+acme+"/keys?owner="+spID, e2eAs(ada)).ok(t, 200, &kp)
		if len(kp.Keys) != 1 || kp.Keys[0].Status != apikey.Revoked || kp.Keys[0].RevokedAt.IsZero() {
			t.Errorf("the revoked key is listed as %+v", kp.Keys)
		}
		// Anyone revokes its own.
		e.do(t, "DELETE", "/api/orgs/"+acme+"/keys/"+gilKey.Key.ID, e2eAs(gil)).want(t, 204)
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eBearer(gilKey.Secret)).problem(t, 401, "key-revoked")
	})

	step("projects", func(t *testing.T) {
		var s org.Scope
		e.do(t, "POST", "/api/orgs/lab/scopes/project", e2eAs(ada), e2eJSON(map[string]string{"name": "Churn"})).ok(t, 201, &s)
		project = s.ID
		if project == "" || s.Kind != "project" || s.Name != "Churn" || s.CreatedBy != "ada" {
			t.Errorf("created %+v", s)
		}
		assets := "/orgs/lab/projects/" + project + "/assets"
		e.do(t, "POST", assets, e2eAs(ada)).ok(t, 200, nil)
		p := e.do(t, "POST", assets, e2eAs(gil)).problem(t, 403, "not-scope-member")
		if !strings.Contains(p.Detail, project) {
			t.Errorf("not-scope-member detail %q", p.Detail)
		}
		e.do(t, "POST", "/orgs/lab/projects/nosuchproject/assets", e2eAs(gil)).problem(t, 403, "not-scope-member")
		e.do(t, "POST", assets, e2eAs(eve)).problem(t, 403, "not-member")

		var sm org.ScopeMember
		e.do(t, "PUT", "/api/orgs/lab/scopes/project/"+project+"/members/gil", e2eAs(ada), e2eJSON(map[string]string{"role": "viewer"})).ok(t, 200, &sm)
		if sm.PrincipalID != "gil" || sm.Role != "viewer" || sm.ScopeID != project || sm.Kind != "project" {
			t.Errorf("added %+v", sm)
		}
		p = e.do(t, "POST", assets, e2eAs(gil)).problem(t, 403, "role-lacks")
		if p.Capability != "project/assets:manage" || p.Role != "viewer" {
			t.Errorf("role-lacks %+v", p)
		}
		e.do(t, "PUT", "/api/orgs/lab/scopes/project/"+project+"/members/gil", e2eAs(gil), e2eJSON(map[string]string{"role": "owner"})).problem(t, 403, "permission-denied")
		e.do(t, "PUT", "/api/orgs/lab/scopes/project/"+project+"/members/gil", e2eAs(ada), e2eJSON(map[string]string{"role": "editor"})).ok(t, 200, &sm)
		var pa e2eAnswer
		e.do(t, "POST", assets, e2eAs(gil)).ok(t, 200, &pa)
		if pa.Principal != "gil" {
			t.Errorf("assets answered %+v", pa)
		}
		// An outsider joins the project alone: an external member.
		e.do(t, "PUT", "/api/orgs/lab/scopes/project/"+project+"/members/eve", e2eAs(ada), e2eJSON(map[string]string{"role": "viewer"})).ok(t, 200, &sm)
		e.do(t, "POST", assets, e2eAs(eve)).problem(t, 403, "role-lacks")
		var m org.Member
		e.do(t, "GET", "/api/orgs/lab/members/eve", e2eAs(ada)).ok(t, 200, &m)
		if !m.External || m.Role != "external" {
			t.Errorf("eve in lab %+v", m)
		}

		var smp orgauthz.ScopeMemberPage
		e.do(t, "GET", "/api/orgs/lab/scopes/project/"+project+"/members", e2eAs(gil)).ok(t, 200, &smp)
		if len(smp.Members) != 3 {
			t.Errorf("project members %+v", smp)
		}
		var mine orgauthz.ScopeMembershipPage
		e.do(t, "GET", "/api/orgs/lab/me/scopes/project", e2eAs(gil)).ok(t, 200, &mine)
		if len(mine.Memberships) != 1 || mine.Memberships[0].Scope.ID != project || mine.Memberships[0].Member.Role != "editor" {
			t.Errorf("gil's projects %+v", mine)
		}
		var sp orgauthz.ScopePage
		e.do(t, "GET", "/api/orgs/lab/scopes/project", e2eAs(gil)).ok(t, 200, &sp)
		if len(sp.Scopes) != 1 || sp.Scopes[0].ID != project {
			t.Errorf("gil sees projects %+v", sp)
		}
		e.do(t, "GET", "/api/orgs/lab/scopes/project/"+project, e2eAs(gil)).ok(t, 200, &s)
		e.do(t, "PUT", "/api/orgs/lab/scopes/project/"+project+"/members/ada", e2eAs(ada), e2eJSON(map[string]string{"role": "editor"})).problem(t, 409, "min-holders")

		// Off the project again.
		e.do(t, "DELETE", "/api/orgs/lab/scopes/project/"+project+"/members/gil", e2eAs(ada)).want(t, 204)
		e.do(t, "POST", assets, e2eAs(gil)).problem(t, 403, "not-scope-member")
		e.do(t, "GET", "/api/orgs/lab/scopes/project/"+project, e2eAs(gil)).problem(t, 403, "not-member")
	})

	step("workspaces and ownership", func(t *testing.T) {
		var s org.Scope
		e.do(t, "POST", "/api/orgs/soter/scopes/workspace", e2eAs(ada), e2eJSON(map[string]string{"name": "Safety"})).ok(t, 201, &s)
		var sp orgauthz.ScopePage
		e.do(t, "GET", "/api/orgs/soter/scopes/workspace", e2eAs(gil)).ok(t, 200, &sp)
		if len(sp.Scopes) != 1 || sp.Scopes[0].ID != s.ID {
			t.Errorf("a manager sees workspaces %+v", sp)
		}
		e.do(t, "GET", "/api/orgs/soter/scopes/workspace/nosuchworkspace", e2eAs(ada)).problem(t, 404, "not-found")

		// hal joins as a member, so that there is someone to hand over to
		// who is not the owner.
		var ic e2eInvitationCreated
		e.do(t, "POST", "/api/orgs/soter/invitations", e2eAs(gil), e2eJSON(map[string]string{"email": "hal@example.com"})).ok(t, 201, &ic)
		e.shown(t, "hal's invitation token to soter", ic.Token)
		if ic.Invitation.Role != "member" {
			t.Errorf("SoterAI's default invitation role is %q, want member", ic.Invitation.Role)
		}
		e.do(t, "POST", "/api/me/invitations/"+ic.Invitation.ID+"/accept", e2eAs(hal)).ok(t, 200, nil)

		e.do(t, "POST", "/api/orgs/soter/transfer", e2eAs(gil), e2eJSON(map[string]string{"to": "hal", "step_down_to": "manager"})).problem(t, 403, "permission-denied")
		e.do(t, "POST", "/api/orgs/soter/transfer", e2eAs(ada), e2eJSON(map[string]string{"to": "eve", "step_down_to": "manager"})).problem(t, 404, "not-found")
		e.do(t, "POST", "/api/orgs/soter/transfer", e2eAs(ada), e2eJSON(map[string]string{"to": "hal", "step_down_to": "wizard"})).problem(t, 400, "unknown-role")
		var m org.Member
		e.do(t, "POST", "/api/orgs/soter/transfer", e2eAs(ada), e2eJSON(map[string]string{"to": "gil", "step_down_to": "manager"})).ok(t, 200, &m)
		if m.PrincipalID != "gil" || m.Role != "owner" {
			t.Errorf("the new owner %+v", m)
		}
		e.do(t, "GET", "/api/orgs/soter/members/ada", e2eAs(gil)).ok(t, 200, &m)
		if m.Role != "manager" {
			t.Errorf("the old owner is %q", m.Role)
		}
		// A manager never touches an owner.
		e.do(t, "PATCH", "/api/orgs/soter/members/gil", e2eAs(ada), e2eJSON(map[string]string{"role": "member"})).problem(t, 403, "permission-denied")
		e.do(t, "POST", "/api/orgs/soter/transfer", e2eAs(gil), e2eJSON(map[string]string{"to": "gil", "step_down_to": "manager"})).problem(t, 422, "invalid-transfer")
		e.do(t, "POST", "/api/orgs/"+acme+"/transfer", e2eAs(ada), e2eJSON(map[string]string{"to": "gil", "step_down_to": "user"})).problem(t, 403, "not-offered")

		var ap e2eAuditPage
		e.do(t, "GET", "/api/orgs/soter/audit?actor=ada", e2eAs(gil)).ok(t, 200, &ap)
		last := ap.Events[len(ap.Events)-1]
		if last.Action != orgauthz.AuditOwnershipTransfer || last.Target != "gil" || last.RoleAfter != "owner" {
			t.Errorf("the transfer is audited as %+v", last)
		}
		e.do(t, "GET", "/api/orgs/soter/audit", e2eAs(ada)).problem(t, 403, "permission-denied")
	})

	step("expired invitation", func(t *testing.T) {
		var ic e2eInvitationCreated
		e.do(t, "POST", "/api/orgs/"+acme+"/invitations", e2eAs(ada), e2eJSON(map[string]string{"email": "kim@example.com"})).ok(t, 201, &ic)
		e.shown(t, "kim's first invitation token", ic.Token)
		var short e2eKeyCreated
		e.do(t, "POST", "/api/orgs/"+acme+"/keys", e2eAs(ada), e2eJSON(map[string]string{"name": "today only", "expiry": "1d"})).ok(t, 201, &short)
		e.shown(t, "ada's one-day key", short.Secret)
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eBearer(short.Secret)).ok(t, 200, nil)

		e.clock.Advance(orgauthz.DefaultInvitationTTL + time.Hour)

		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eBearer(short.Secret)).problem(t, 401, "key-expired")
		var kp e2eKeyPage
		e.do(t, "GET", "/api/orgs/"+acme+"/keys", e2eAs(ada)).ok(t, 200, &kp)
		for _, k := range kp.Keys {
			if k.ID == short.Key.ID && k.Status != apikey.Expired {
				t.Errorf("GET /api/orgs/{org}/keys lists a key the service refuses as expired as %q", k.Status)
			}
		}

		var pv orgauthz.InvitationPreview
		e.do(t, "POST", "/api/invitations/preview", e2eJSON(map[string]string{"token": ic.Token})).ok(t, 200, &pv)
		if pv.Status != invite.Expired {
			t.Errorf("an expired invitation previews as %q", pv.Status)
		}
		e.do(t, "POST", "/api/invitations/accept", e2eAs(kim), e2eJSON(map[string]string{"token": ic.Token})).problem(t, 422, "invitation-expired")
		var ip orgauthz.InvitationPreviewPage
		e.do(t, "GET", "/api/me/invitations", e2eAs(kim)).ok(t, 200, &ip)
		if len(ip.Invitations) != 0 {
			t.Errorf("kim is offered %+v", ip)
		}
		var page orgauthz.InvitationPage
		e.do(t, "GET", "/api/orgs/"+acme+"/invitations?pending=true", e2eAs(ada)).ok(t, 200, &page)
		if len(page.Invitations) != 1 || page.Invitations[0].ID != ic.Invitation.ID || page.Invitations[0].Status != invite.Expired {
			t.Errorf("pending invitations %+v", page)
		}

		// Sent again: a new token, the old one dead.
		var again e2eInvitationCreated
		e.do(t, "POST", "/api/orgs/"+acme+"/invitations/"+ic.Invitation.ID+"/resend", e2eAs(ada)).ok(t, 200, &again)
		e.shown(t, "kim's second invitation token", again.Token)
		if again.Invitation.ID != ic.Invitation.ID || again.Invitation.Sends != 2 || again.Invitation.Status != invite.Pending || again.Token == ic.Token {
			t.Errorf("resent %+v", again.Invitation)
		}
		e.do(t, "POST", "/api/invitations/preview", e2eJSON(map[string]string{"token": ic.Token})).problem(t, 400, "invalid-token")
		var j e2eJoined
		e.do(t, "POST", "/api/invitations/accept", e2eAs(kim), e2eJSON(map[string]string{"token": again.Token})).ok(t, 200, &j)
		if j.Member.PrincipalID != "kim" || j.Organization.ID != acme {
			t.Errorf("kim joined %+v", j)
		}
	})

	step("audit", func(t *testing.T) {
		var all e2eAuditPage
		e.do(t, "GET", "/api/orgs/"+acme+"/audit", e2eAs(ada)).ok(t, 200, &all)
		if len(all.Events) == 0 || all.Next != 0 {
			t.Fatalf("audit %+v", all)
		}
		actions := map[string]bool{}
		for i, ev := range all.Events {
			actions[ev.Action] = true
			if ev.Seq != int64(i+1) || ev.OrgID != acme || ev.Time.IsZero() {
				t.Errorf("event %d: %+v", i, ev)
			}
		}
		for _, a := range []string{
			orgauthz.AuditOrganizationCreate, orgauthz.AuditInvitationCreate, orgauthz.AuditInvitationAccept,
			orgauthz.AuditInvitationDecline, orgauthz.AuditInvitationRevoke, orgauthz.AuditInvitationResend,
			orgauthz.AuditMemberRole, orgauthz.AuditOrganizationSeats, orgauthz.AuditServicePrincipalCreate,
			orgauthz.AuditKeyCreate, orgauthz.AuditKeyRevoke,
		} {
			if !actions[a] {
				t.Errorf("no %s event in %v", a, actions)
			}
		}
		if ev := all.Events[0]; ev.Action != orgauthz.AuditOrganizationCreate || ev.Actor != "ada" {
			t.Errorf("the first event %+v", ev)
		}

		var p1, p2 e2eAuditPage
		e.do(t, "GET", "/api/orgs/"+acme+"/audit?limit=3", e2eAs(ada)).ok(t, 200, &p1)
		if len(p1.Events) != 3 || p1.Next != 3 {
			t.Fatalf("first page %+v", p1)
		}
		e.do(t, "GET", "/api/orgs/"+acme+"/audit?limit=3&after=3", e2eAs(ada)).ok(t, 200, &p2)
		if len(p2.Events) != 3 || p2.Events[0].Seq != 4 {
			t.Errorf("second page %+v", p2)
		}
		var gils e2eAuditPage
		e.do(t, "GET", "/api/orgs/"+acme+"/audit?actor=gil", e2eAs(ada)).ok(t, 200, &gils)
		if len(gils.Events) == 0 {
			t.Error("no events of gil's")
		}
		for _, ev := range gils.Events {
			if ev.Actor != "gil" {
				t.Errorf("actor=gil listed %+v", ev)
			}
		}
		e.do(t, "GET", "/api/orgs/"+acme+"/audit?limit=1001", e2eAs(ada)).problem(t, 400, "invalid-argument")
		e.do(t, "GET", "/api/orgs/"+acme+"/audit?since=yesterday", e2eAs(ada)).problem(t, 400, "invalid-argument")
		e.do(t, "GET", "/api/orgs/"+acme+"/audit", e2eAs(gil)).problem(t, 403, "permission-denied")
		e.do(t, "GET", "/api/orgs/"+acme+"/audit/export", e2eAs(gil)).problem(t, 403, "permission-denied")

		// The export: JSON Lines, every event, each line an AuditEvent.
		r := e.do(t, "GET", "/api/orgs/"+acme+"/audit/export", e2eAs(ada)).want(t, 200)
		if ct := r.resp.Header.Get("Content-Type"); ct != "application/jsonl" {
			t.Errorf("export Content-Type %q", ct)
		}
		var exported []org.AuditEvent
		sc := bufio.NewScanner(bytes.NewReader(r.body))
		for sc.Scan() {
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.DisallowUnknownFields()
			var ev org.AuditEvent
			if err := dec.Decode(&ev); err != nil {
				t.Fatalf("export line %d %q: %v", len(exported)+1, sc.Text(), err)
			}
			exported = append(exported, ev)
		}
		if len(exported) != len(all.Events) {
			t.Fatalf("exported %d events, listed %d", len(exported), len(all.Events))
		}
		for i := range exported {
			if !exported[i].Time.Equal(all.Events[i].Time) {
				t.Errorf("event %d: exported %+v, listed %+v", i, exported[i], all.Events[i])
			}
			exported[i].Time = all.Events[i].Time
			if exported[i] != all.Events[i] {
				t.Errorf("event %d: exported %+v, listed %+v", i, exported[i], all.Events[i])
			}
		}
	})

	step("leave", func(t *testing.T) {
		e.do(t, "POST", "/api/orgs/"+acme+"/leave", e2eAs(gil)).want(t, 204)
		e.do(t, "GET", "/api/orgs/"+acme, e2eAs(gil)).problem(t, 403, "not-member")
		var mp orgauthz.MembershipPage
		e.do(t, "GET", "/api/me/organizations", e2eAs(gil)).ok(t, 200, &mp)
		for _, m := range mp.Memberships {
			if m.OrgID == acme {
				t.Errorf("gil still lists acme: %+v", m)
			}
		}
		e.do(t, "POST", "/api/orgs/"+acme+"/leave", e2eAs(ada)).problem(t, 409, "min-holders")
		e.do(t, "POST", "/api/orgs/"+acme+"/leave", e2eAs(eve)).problem(t, 403, "not-member")
	})

	step("archive", func(t *testing.T) {
		e.do(t, "POST", "/api/orgs/"+acme+"/archive", e2eAs(kim)).problem(t, 403, "permission-denied")
		var o org.Organization
		e.do(t, "POST", "/api/orgs/"+acme+"/archive", e2eAs(ada)).ok(t, 200, &o)
		if !o.Archived {
			t.Errorf("archived %+v", o)
		}
		e.do(t, "GET", "/api/orgs/"+acme, e2eAs(kim)).ok(t, 200, &o)
		var mp orgauthz.MembershipPage
		e.do(t, "GET", "/api/me/organizations", e2eAs(ada)).ok(t, 200, &mp)
		for _, m := range mp.Memberships {
			if m.Archived != (m.OrgID == acme) {
				t.Errorf("membership %+v", m)
			}
		}
		e.do(t, "POST", "/api/orgs/"+acme+"/invitations", e2eAs(ada), e2eJSON(map[string]string{"email": "late@example.com"})).problem(t, 403, "archived")
		e.do(t, "PATCH", "/api/orgs/"+acme+"/members/kim", e2eAs(ada), e2eJSON(map[string]string{"role": "admin"})).problem(t, 403, "archived")
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eAs(ada)).problem(t, 403, "archived")
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eBearer(adaKey.Secret)).problem(t, 403, "archived")
		e.do(t, "GET", "/api/orgs/"+acme+"/audit?limit=1", e2eAs(ada)).ok(t, 200, nil)
	})

	step("delete", func(t *testing.T) {
		e.do(t, "DELETE", "/api/orgs/"+acme, e2eAs(kim)).problem(t, 403, "permission-denied")
		e.do(t, "DELETE", "/api/orgs/"+acme, e2eAs(ada)).want(t, 204)
		// Gone: answered as for an organization one is not in, so that the
		// API tells no one which organizations exist.
		e.do(t, "GET", "/api/orgs/"+acme, e2eAs(ada)).problem(t, 403, "not-member")
		e.do(t, "DELETE", "/api/orgs/"+acme, e2eAs(ada)).problem(t, 403, "not-member")
		e.do(t, "GET", "/api/orgs/nosuchorg/members", e2eAs(ada)).problem(t, 403, "not-member")
		e.do(t, "POST", "/orgs/"+acme+"/jobs", e2eBearer(adaKey.Secret)).problem(t, 401, "invalid-key")
		var mp orgauthz.MembershipPage
		e.do(t, "GET", "/api/me/organizations", e2eAs(ada)).ok(t, 200, &mp)
		if len(mp.Memberships) != 3 {
			t.Errorf("ada's organizations after the deletion %+v", mp)
		}
		e.do(t, "GET", "/api/me/organizations", e2eAs(kim)).ok(t, 200, &mp)
		if len(mp.Memberships) != 0 {
			t.Errorf("kim's organizations after the deletion %+v", mp)
		}
	})

	// Independent of the life above: they run together once it is over.
	t.Run("cross-site requests", func(t *testing.T) {
		t.Parallel()
		zed := e.signin(t, "zed", "zed@example.com")
		// Refused by the API's http.CrossOriginProtection, with a problem.
		refused := func(r e2eResult) {
			t.Helper()
			r.problem(t, 403, "cross-origin")
		}
		refused(e.do(t, "POST", "/api/orgs", e2eAs(zed), e2eHeader("Sec-Fetch-Site", "cross-site"), e2eJSON(map[string]string{"name": "Forged", "scheme": "wherobots"})))
		refused(e.do(t, "POST", "/api/orgs", e2eAs(zed), e2eHeader("Origin", "https://evil.example"), e2eJSON(map[string]string{"name": "Forged", "scheme": "wherobots"})))
		refused(e.do(t, "DELETE", "/api/orgs/free", e2eAs(ada), e2eHeader("Sec-Fetch-Site", "cross-site")))
		refused(e.do(t, "POST", "/api/invitations/preview", e2eHeader("Sec-Fetch-Site", "cross-site"), e2eJSON(map[string]string{"token": "inv_x"})))
		var mp orgauthz.MembershipPage
		e.do(t, "GET", "/api/me/organizations", e2eAs(zed), e2eHeader("Sec-Fetch-Site", "cross-site")).ok(t, 200, &mp)
		if len(mp.Memberships) != 0 {
			t.Errorf("a cross-site request created %+v", mp)
		}
		e.do(t, "POST", "/api/orgs", e2eAs(zed), e2eHeader("Sec-Fetch-Site", "same-origin"), e2eJSON(map[string]string{"name": "Mine", "scheme": "wherobots"})).ok(t, 201, nil)
		e.do(t, "POST", "/api/orgs", e2eAs(zed), e2eHeader("Origin", e.srv.URL), e2eJSON(map[string]string{"name": "Mine too", "scheme": "wherobots"})).ok(t, 201, nil)
	})
}

func e2eKeyIDs(kp e2eKeyPage) []string {
	var ids []string
	for _, k := range kp.Keys {
		ids = append(ids, k.ID)
	}
	return ids
}

func e2eSorted(s ...string) []string {
	slices.Sort(s)
	return s
}
