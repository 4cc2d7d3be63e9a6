package httpauthz_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// The document is OpenAPI 3.1, builds into a model with every reference
// resolved, and is valid against the OpenAPI 3.1 schema.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	spec, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(spec) {
		t.Fatal("openapi.json is not valid JSON")
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatalf("parsing: %v", err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Errorf("openapi version %q, want 3.1.0", v)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("building the model: %v", err)
	}
	if n := model.Index.GetReferenceIndexErrors(); len(n) > 0 {
		t.Errorf("reference errors: %v", n)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("document: %s", e.Error())
			for _, f := range e.SchemaValidationErrors {
				t.Errorf("  %s", f.Error())
			}
		}
	}
	// The OpenAPI handler replaces the first `"url": "/"` with the prefix:
	// it must be the server's.
	var head struct {
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(spec, &head); err != nil {
		t.Fatal(err)
	}
	if len(head.Servers) != 1 || head.Servers[0].URL != "/" {
		t.Errorf("servers %+v, want one with url \"/\"", head.Servers)
	}
	if i, j := bytes.Index(spec, []byte(`"url": "/"`)), bytes.Index(spec, []byte(`"servers"`)); i < 0 || i < j {
		t.Errorf(`the first "url": "/" (at %d) is not the server's (at %d)`, i, j)
	}
}

// oaOperations returns the document's oaOperations as "METHOD /path", and
// for each its path parameters.
func oaOperations(t *testing.T) map[string][]string {
	t.Helper()
	spec, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			var names []string
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				if p.In == "path" {
					names = append(names, p.Name)
				}
			}
			out[strings.ToUpper(method)+" "+path] = names
		}
	}
	return out
}

// Every route of the API is an operation of the document, and every
// operation of the document (but the document's own) is a route.
func TestOpenAPIRoutesMatchDocument(t *testing.T) {
	ops := oaOperations(t)
	routes := map[string]bool{}
	for _, rt := range oaNewAPI(t, "").api.Routes() {
		routes[rt.Method+" "+rt.Path] = true
	}
	var missing, extra []string
	for r := range routes {
		if _, ok := ops[r]; !ok {
			missing = append(missing, r)
		}
	}
	for op := range ops {
		if !routes[op] && op != "GET /openapi.json" {
			extra = append(extra, op)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("routes the document lacks:\n\t%s", strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("oaOperations of the document that are no route:\n\t%s", strings.Join(extra, "\n\t"))
	}
	if _, ok := ops["GET /openapi.json"]; !ok {
		t.Error("the document lacks GET /openapi.json")
	}
	// Each operation declares exactly the path parameters its template has.
	for op, declared := range ops {
		_, path, _ := strings.Cut(op, " ")
		var want []string
		for seg := range strings.SplitSeq(path, "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				want = append(want, seg[1:len(seg)-1])
			}
		}
		slices.Sort(want)
		got := slices.Sorted(slices.Values(declared))
		if !slices.Equal(got, want) {
			t.Errorf("%s declares path parameters %v, want %v", op, got, want)
		}
	}
}

// The API serves the document with its prefix as the server URL.
func TestOpenAPIDocumentServed(t *testing.T) {
	for _, tc := range []struct{ prefix, url string }{{"/api", "/api"}, {"", "/"}} {
		t.Run("prefix="+tc.prefix, func(t *testing.T) {
			ta := oaNewAPI(t, tc.prefix)
			status, body := ta.call(t, "GET", "/openapi.json", nil)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			var doc struct {
				OpenAPI string `json:"openapi"`
				Servers []struct {
					URL string `json:"url"`
				} `json:"servers"`
				Paths map[string]any `json:"paths"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatalf("the served document is not JSON: %v", err)
			}
			if len(doc.Servers) == 0 || doc.Servers[0].URL != tc.url {
				t.Errorf("servers %+v, want servers[0].url %q", doc.Servers, tc.url)
			}
			if doc.OpenAPI != "3.1.0" || len(doc.Paths) == 0 {
				t.Errorf("openapi %q with %d paths", doc.OpenAPI, len(doc.Paths))
			}
		})
	}
}

// The component schemas accept the records' golden JSON forms.
func TestOpenAPIDocumentSchemasMatchGoldenRecords(t *testing.T) {
	dc, err := oaChecker()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := oaServedDocument("/api")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	for file, schema := range map[string]string{
		"../org/testdata/organization.json":          "Organization",
		"../org/testdata/member.json":                "Member",
		"../org/testdata/membership.json":            "Membership",
		"../org/testdata/scope.json":                 "Scope",
		"../org/testdata/scope_member.json":          "ScopeMember",
		"../org/testdata/scope_membership.json":      "ScopeMembership",
		"../org/testdata/scope_role.json":            "ScopeRole",
		"../org/testdata/audit_event.json":           "AuditEvent",
		"../invite/testdata/invitation.json":         "Invitation",
		"../invite/testdata/invitation_pending.json": "Invitation",
		"../apikey/testdata/key.json":                "APIKeyRecord",
		"../apikey/testdata/key_active.json":         "APIKeyRecord",
		"../testdata/invitation_page.json":           "InvitationPage",
		"../testdata/invitation_preview.json":        "InvitationPreview",
		"../testdata/invitation_preview_page.json":   "InvitationPreviewPage",
		"../testdata/membership_page.json":           "MembershipPage",
		"../testdata/seats.json":                     "Seats",
		"../testdata/seats_unlimited.json":           "Seats",
	} {
		data, err := os.ReadFile(filepath.FromSlash(file))
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		sp := model.Model.Components.Schemas.GetOrZero(schema)
		if sp == nil {
			t.Errorf("no schema %s", schema)
			continue
		}
		if ok, errs := dc.schemas.ValidateSchemaBytes(sp.Schema(), data); !ok {
			for _, e := range errs {
				t.Errorf("%s as %s: %s", file, schema, e.Error())
			}
		}
	}
}

// oaAPI is the management API over memstore, served on 127.0.0.1.
type oaAPI struct {
	api    *httpauthz.API
	svc    *orgauthz.Service
	srv    *httptest.Server
	prefix string
}

// oaSession is the host's session for the tests: X-Test-User names the
// principal and X-Test-Email its verified address.
func oaSession(r *http.Request) (httpauthz.Identity, bool, error) {
	u := r.Header.Get("X-Test-User")
	if u == "" {
		return httpauthz.Identity{}, false, nil
	}
	return httpauthz.Identity{PrincipalID: u, Email: r.Header.Get("X-Test-Email")}, true, nil
}

func oaNewAPI(t *testing.T, prefix string) *oaAPI {
	t.Helper()
	svc, err := orgauthz.New(memstore.New(), orgauthz.Options{
		Schemes: []*edition.Scheme{edition.Wherobots(), edition.AIEngine(), edition.UiPath()},
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := httpauthz.New(httpauthz.Options{
		Service:        svc,
		Authenticators: []httpauthz.Authenticator{httpauthz.Session(oaSession), httpauthz.APIKeys(svc)},
	})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpauthz.NewAPI(httpauthz.APIOptions{Guard: g, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &oaAPI{api: api, svc: svc, srv: srv, prefix: prefix}
}

// call sends a request to path (under the prefix) with body (a string is
// sent as it is, anything else as JSON) and headers as name, value pairs,
// checks the exchange against the document, and returns the status and
// body.
func (ta *oaAPI) call(t *testing.T, method, path string, body any, headers ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ta.srv.URL+ta.prefix+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := ta.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	checkResponse(t, req, resp, data)
	return resp.StatusCode, data
}

func oaAs(user string) []string { return []string{"X-Test-User", user} }

func oaAsWithEmail(user, email string) []string {
	return []string{"X-Test-User", user, "X-Test-Email", email}
}

// expect calls and fails unless the status is want; it decodes a JSON body
// into out, if given.
func (ta *oaAPI) expect(t *testing.T, want int, method, path string, body any, out any, headers ...string) []byte {
	t.Helper()
	status, data := ta.call(t, method, path, body, headers...)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return data
}

// oaReason returns a problem body's reason.
func oaReason(t *testing.T, data []byte) string {
	t.Helper()
	var p httpauthz.Problem
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("not a problem: %v: %s", err, data)
	}
	return p.Reason
}

// The validator accepts what the API answers: a tour of the routes over
// memstore, successes and refusals, with the API at the root and under
// "/api".
func TestOpenAPIExchangesMatchDocument(t *testing.T) {
	for _, prefix := range []string{"/api", ""} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			ta := oaNewAPI(t, prefix)
			ada, bob := oaAs("ada"), oaAsWithEmail("bob", "bob@example.com")

			// Organizations.
			ta.expect(t, 201, "POST", "/orgs", map[string]any{"id": "acme", "name": "Acme", "scheme": "wherobots", "edition": "professional", "settings": map[string]string{"region": "eu"}}, nil, ada...)
			ta.expect(t, 200, "GET", "/orgs/acme", nil, nil, ada...)
			ta.expect(t, 200, "PATCH", "/orgs/acme", map[string]any{"name": "Acme Inc", "settings": nil}, nil, ada...)
			ta.expect(t, 200, "GET", "/orgs/acme/seats", nil, nil, ada...)
			ta.expect(t, 200, "PUT", "/orgs/acme/seats", map[string]any{"override": 8}, nil, ada...)
			ta.expect(t, 200, "GET", "/me/organizations", nil, nil, ada...)
			ta.expect(t, 200, "GET", "/me/organizations?limit=1", nil, nil, oaAs("nobody")...) // an empty page

			// Invitations: by organization, by token, by the invitee's address.
			var created struct {
				Invitation struct{ ID string } `json:"invitation"`
				Token      string              `json:"token"`
			}
			ta.expect(t, 201, "POST", "/orgs/acme/invitations", map[string]any{"email": "bob@example.com"}, &created, ada...)
			ta.expect(t, 200, "POST", "/invitations/preview", map[string]any{"token": created.Token}, nil)
			ta.expect(t, 200, "GET", "/orgs/acme/invitations?pending=true", nil, nil, ada...)
			ta.expect(t, 200, "POST", "/orgs/acme/invitations/"+created.Invitation.ID+"/resend", nil, &created, ada...)
			ta.expect(t, 200, "GET", "/me/invitations", nil, nil, bob...)
			ta.expect(t, 200, "POST", "/me/invitations/"+created.Invitation.ID+"/accept", nil, nil, bob...)
			ta.expect(t, 200, "GET", "/orgs/acme/members", nil, nil, ada...)
			ta.expect(t, 200, "GET", "/orgs/acme/members/bob", nil, nil, ada...)
			ta.expect(t, 200, "PATCH", "/orgs/acme/members/bob", map[string]any{"role": "admin"}, nil, ada...)
			ta.expect(t, 200, "PATCH", "/orgs/acme/members/bob", map[string]any{"role": "user"}, nil, ada...)
			ta.expect(t, 200, "POST", "/orgs/acme/invitations/bulk", map[string]any{"emails": []string{"cy@example.com", "not an address"}}, nil, ada...)
			var bulk struct {
				Results []struct {
					Invitation struct{ ID string } `json:"invitation"`
				} `json:"results"`
			}
			ta.expect(t, 200, "POST", "/orgs/acme/invitations/bulk", map[string]any{"emails": []string{"dee@example.com"}, "role": "user"}, &bulk, ada...)
			ta.expect(t, 204, "DELETE", "/orgs/acme/invitations/"+bulk.Results[0].Invitation.ID, nil, nil, ada...)
			var dee struct{ Token string }
			ta.expect(t, 201, "POST", "/orgs/acme/invitations", map[string]any{"email": "eve@example.com"}, &dee, ada...)
			ta.expect(t, 204, "POST", "/invitations/decline", map[string]any{"token": dee.Token}, nil)

			// Service principals and keys.
			var sp struct {
				PrincipalID string `json:"principal_id"`
			}
			ta.expect(t, 201, "POST", "/orgs/acme/service-principals", map[string]any{"name": "ci", "role": "user"}, &sp, ada...)
			ta.expect(t, 200, "GET", "/orgs/acme/service-principals", nil, nil, ada...)
			ta.expect(t, 200, "PATCH", "/orgs/acme/service-principals/"+sp.PrincipalID, map[string]any{"name": "ci2"}, nil, ada...)
			var key struct {
				Key    struct{ ID string } `json:"key"`
				Secret string              `json:"secret"`
			}
			ta.expect(t, 201, "POST", "/orgs/acme/keys", map[string]any{"name": "laptop", "expiry": "30d", "scope": []string{"job_runs:create"}}, &key, ada...)
			ta.expect(t, 201, "POST", "/orgs/acme/keys", map[string]any{"name": "ci", "owner": sp.PrincipalID}, nil, ada...)
			var full struct {
				Secret string `json:"secret"`
			}
			ta.expect(t, 201, "POST", "/orgs/acme/keys", map[string]any{"name": "full"}, &full, ada...)
			ta.expect(t, 200, "GET", "/orgs/acme/keys", nil, nil, "Authorization", "Bearer "+full.Secret)
			ta.expect(t, 200, "GET", "/orgs/acme/keys?owner="+sp.PrincipalID, nil, nil, "X-API-Key", full.Secret)
			ta.expect(t, 204, "DELETE", "/orgs/acme/keys/"+key.Key.ID, nil, nil, ada...)
			ta.expect(t, 200, "GET", "/orgs/acme/keys?all=true", nil, nil, ada...)
			ta.expect(t, 204, "DELETE", "/orgs/acme/service-principals/"+sp.PrincipalID, nil, nil, ada...)

			// The audit trail.
			ta.expect(t, 200, "GET", "/orgs/acme/audit?limit=2", nil, nil, ada...)
			ta.expect(t, 200, "GET", "/orgs/acme/audit?after=1000&actor=ada", nil, nil, ada...) // an empty page
			ta.expect(t, 200, "GET", "/orgs/acme/audit/export?since=2000-01-01T00:00:00Z", nil, nil, ada...)

			// Scopes, direct addition and ownership transfer (AI Engine).
			ta.expect(t, 201, "POST", "/orgs", map[string]any{"id": "lab", "name": "Lab", "scheme": "aiengine"}, nil, ada...)
			ta.expect(t, 201, "POST", "/orgs/lab/members", map[string]any{"principal_id": "cy", "role": "editor"}, nil, ada...)
			var project struct{ ID string }
			ta.expect(t, 201, "POST", "/orgs/lab/scopes/project", map[string]any{"name": "Churn"}, &project, ada...)
			ta.expect(t, 200, "GET", "/orgs/lab/scopes/project", nil, nil, ada...)
			ta.expect(t, 200, "GET", "/orgs/lab/scopes/project/"+project.ID, nil, nil, ada...)
			ta.expect(t, 200, "PUT", "/orgs/lab/scopes/project/"+project.ID+"/members/cy", map[string]any{"role": "editor"}, nil, ada...)
			ta.expect(t, 200, "PUT", "/orgs/lab/scopes/project/"+project.ID+"/members/xavier", map[string]any{}, nil, ada...)
			ta.expect(t, 200, "GET", "/orgs/lab/scopes/project/"+project.ID+"/members", nil, nil, ada...)
			ta.expect(t, 200, "GET", "/orgs/lab/me/scopes/project", nil, nil, oaAs("cy")...)
			ta.expect(t, 403, "GET", "/orgs/lab/me/scopes/project?principal=xavier", nil, nil, oaAs("cy")...) // another's, without the right to see every project
			ta.expect(t, 204, "DELETE", "/orgs/lab/scopes/project/"+project.ID+"/members/xavier", nil, nil, ada...)
			ta.expect(t, 204, "DELETE", "/orgs/lab/scopes/project/"+project.ID, nil, nil, ada...)
			ta.expect(t, 200, "POST", "/orgs/lab/transfer", map[string]any{"to": "cy", "step_down_to": "editor"}, nil, ada...)
			ta.expect(t, 204, "POST", "/orgs/lab/leave", nil, nil, ada...)

			// Custom scope roles (UiPath).
			ta.expect(t, 201, "POST", "/orgs", map[string]any{"id": "ui", "name": "UI", "scheme": "uipath"}, nil, ada...)
			var svcScope struct{ ID string }
			ta.expect(t, 201, "POST", "/orgs/ui/scopes/service", map[string]any{"name": "Orchestrator"}, &svcScope, ada...)
			ta.expect(t, 200, "PUT", "/orgs/ui/scopes/service/"+svcScope.ID+"/roles/operator", map[string]any{"name": "Operator", "capabilities": []string{"service:access"}}, nil, ada...)

			// Refusals.
			if r := oaReason(t, ta.expect(t, 401, "GET", "/orgs/acme", nil, nil)); r != "unauthenticated" {
				t.Errorf("401 reason %q", r)
			}
			ta.expect(t, 401, "GET", "/orgs/acme", nil, nil, "Authorization", "Bearer oak_nope")
			if r := oaReason(t, ta.expect(t, 403, "PATCH", "/orgs/acme", map[string]any{"name": "Mine"}, nil, bob...)); r != "permission-denied" {
				t.Errorf("403 reason %q", r)
			}
			ta.expect(t, 403, "GET", "/orgs/acme", nil, nil, oaAs("mallory")...)
			ta.expect(t, 403, "GET", "/me/organizations", nil, nil, "Authorization", "Bearer "+full.Secret)
			ta.expect(t, 403, "GET", "/me/invitations", nil, nil, ada...) // no verified address
			// An organization that does not exist answers as one the caller
			// is not in: the API tells no one which organizations exist.
			if r := oaReason(t, ta.expect(t, 403, "GET", "/orgs/nope", nil, nil, ada...)); r != "not-member" {
				t.Errorf("403 reason %q", r)
			}
			ta.expect(t, 404, "GET", "/orgs/acme/members/nobody", nil, nil, ada...)
			ta.expect(t, 404, "DELETE", "/orgs/acme/keys/nokey", nil, nil, ada...)
			if r := oaReason(t, ta.expect(t, 409, "POST", "/orgs", map[string]any{"id": "acme", "name": "Again", "scheme": "wherobots"}, nil, ada...)); r != "exists" {
				t.Errorf("409 reason %q", r)
			}
			ta.expect(t, 409, "PATCH", "/orgs/acme/members/ada", map[string]any{"role": "user"}, nil, ada...) // the last admin
			ta.expect(t, 422, "POST", "/invitations/accept", map[string]any{"token": created.Token}, nil, bob...)
			ta.expect(t, 400, "POST", "/orgs", map[string]any{"name": "X", "colour": "red"}, nil, ada...)
			ta.expect(t, 400, "POST", "/orgs", "{not json", nil, ada...)
			ta.expect(t, 400, "GET", "/orgs/acme/members?limit=many", nil, nil, ada...)
			ta.expect(t, 413, "POST", "/orgs", `{"name": "`+strings.Repeat("x", httpauthz.DefaultMaxBody)+`"}`, nil, ada...)
			if r := oaReason(t, ta.expect(t, 404, "GET", "/no/such/route", nil, nil, ada...)); r != "no-route" {
				t.Errorf("no-route reason %q", r)
			}
			ta.expect(t, 404, "PUT", "/orgs/acme", map[string]any{}, nil, ada...)

			// Last: archiving and deleting.
			ta.expect(t, 200, "POST", "/orgs/acme/archive", nil, nil, ada...)
			ta.expect(t, 403, "PUT", "/orgs/acme/edition", map[string]any{"edition": "enterprise"}, nil, ada...)
			ta.expect(t, 204, "DELETE", "/orgs/acme", nil, nil, ada...)
		})
	}
}

// oaFakeTB records what checkResponse reports instead of failing.
type oaFakeTB struct {
	testing.TB
	errors []string
}

func (f *oaFakeTB) Helper() {}

func (f *oaFakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

// checkResponse refuses responses that disagree with the document.
func TestOpenAPICheckRejectsWrongResponses(t *testing.T) {
	get := func(path string) *http.Request {
		r, err := http.NewRequest("GET", "http://127.0.0.1"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	response := func(status int, contentType, body string) *http.Response {
		h := http.Header{}
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
	}
	good := `{"id":"acme","name":"Acme","scheme":"wherobots","edition":"community","seat_override":0,"archived":false,"created_at":"2025-05-01T09:30:00Z"}`
	problem := `{"type":"about:blank","title":"Not Found","status":404,"detail":"no","reason":"unknown-organization"}`
	for _, tc := range []struct {
		name        string
		path        string
		resp        *http.Response
		body        string
		wantRefusal bool
	}{
		{"good", "/api/orgs/acme", response(200, "application/json", good), good, false},
		{"good at the root", "/orgs/acme", response(200, "application/json", good), good, false},
		{"good problem", "/api/orgs/acme", response(404, "application/problem+json", problem), problem, false},
		{"missing required field", "/api/orgs/acme", nil, strings.Replace(good, `"name":"Acme",`, "", 1), true},
		{"unknown field", "/api/orgs/acme", nil, strings.Replace(good, `"archived"`, `"colour":"red","archived"`, 1), true},
		{"wrong type", "/api/orgs/acme", nil, strings.Replace(good, `"seat_override":0`, `"seat_override":"0"`, 1), true},
		{"null array", "/api/orgs/acme/members", nil, `{"members":null}`, true},
		{"bad time", "/api/orgs/acme", nil, strings.Replace(good, "2025-05-01T09:30:00Z", "yesterday", 1), true},
		{"undocumented status", "/api/orgs/acme", response(418, "application/json", good), good, true},
		{"problem as plain JSON", "/api/orgs/acme", response(404, "application/json", problem), problem, true},
		{"problem missing reason", "/api/orgs/acme", response(404, "application/problem+json", `{"type":"about:blank","title":"Not Found","status":404,"detail":"no"}`), "", true},
		{"no route answered 200", "/api/nothing", response(200, "application/json", `{}`), `{}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := tc.resp
			if resp == nil {
				resp = response(200, "application/json", tc.body)
			}
			body := tc.body
			if body == "" {
				b, _ := io.ReadAll(resp.Body)
				body = string(b)
			}
			f := &oaFakeTB{TB: t}
			checkResponse(f, get(tc.path), resp, []byte(body))
			switch {
			case tc.wantRefusal && len(f.errors) == 0:
				t.Errorf("checkResponse accepted it")
			case !tc.wantRefusal && len(f.errors) > 0:
				t.Errorf("checkResponse refused it: %s", strings.Join(f.errors, "\n"))
			}
			for _, e := range f.errors {
				t.Log(e)
			}
		})
	}
}

// checkResponse checks requests too, unless the API called them malformed.
func TestOpenAPICheckRejectsWrongRequests(t *testing.T) {
	org := `{"id":"acme","name":"Acme","scheme":"wherobots","edition":"community","seat_override":0,"archived":false}`
	for _, tc := range []struct {
		name, body  string
		status      int
		wantRefusal bool
	}{
		{"good", `{"name":"Acme"}`, 201, false},
		{"unknown field, answered 201", `{"name":"Acme","colour":"red"}`, 201, true},
		{"missing name, answered 201", `{}`, 201, true},
		{"unknown field, answered 400", `{"name":"Acme","colour":"red"}`, 400, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", "http://127.0.0.1/api/orgs", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			body, ct := org, "application/json"
			if tc.status == 400 {
				body, ct = `{"type":"about:blank","title":"Bad Request","status":400,"detail":"no","reason":"bad-request"}`, "application/problem+json"
			}
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {ct}}}
			f := &oaFakeTB{TB: t}
			checkResponse(f, req, resp, []byte(body))
			if got := len(f.errors) > 0; got != tc.wantRefusal {
				t.Errorf("refused %v, want %v: %v", got, tc.wantRefusal, f.errors)
			}
			for _, e := range f.errors {
				t.Log(e)
			}
		})
	}
}
