package httpauthz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
)

// DefaultMaxBody is the largest request body the management API reads
// when APIOptions.MaxBody is zero: 64 KiB.
const DefaultMaxBody = 64 << 10

// APIOptions configure the management API.
type APIOptions struct {
	// Guard authenticates the API's requests. Required. Its Org function
	// is not used: the API's routes name their organization in the path.
	Guard *Guard
	// Prefix is the path the host mounts the API under, e.g. "/api": every
	// route starts with it, and the OpenAPI document names it as the
	// server's URL. "" mounts the API at the root.
	Prefix string
	// MaxBody caps request bodies; 0 means DefaultMaxBody.
	MaxBody int64
}

// API is the management API: an http.Handler, to mount under
// APIOptions.Prefix, that serves what the service offers (organizations
// and the caller's view of them, members, invitations, service principals,
// API keys, scopes and the audit trail) as JSON, with the records' stable
// JSON forms, and answers refusals with RFC 9457 problem details mapped
// from the service's sentinels:
//
//	400 bad input (malformed JSON, unknown fields, invalid names, IDs,
//	    addresses, cursors, unknown roles, editions, kinds)
//	401 no or bad credentials
//	403 the caller may not (permission-denied, not-member,
//	    edition-gated, not-offered, archived)
//	404 no such resource, member, invitation or key (an organization
//	    the caller is not in, existing or not, is 403 not-member)
//	409 a conflict: already a member, exists, an invariant (the last
//	    admin, the seat limit, an immutable role)
//	413 a body over the limit
//	422 a rule refuses a well-formed request (an invitation expired,
//	    revoked, declined or accepted; an address that is not the one
//	    invited; an ownership transfer that hands nothing over)
//	503 the store failed
//
// Listings are paged by cursor (?after=&limit=, "next" in the page).
// Unsafe methods from browsers are protected against cross-site requests
// with http.CrossOriginProtection: a cross-origin browser request is
// refused with 403, while requests without browser headers (API keys,
// servers) pass. GET {prefix}/openapi.json serves the API's OpenAPI 3.1
// document. A secret (an invitation token, an API key) appears only in
// the one response that creates it.
//
// The API authenticates its own requests with its Guard, and serves some
// routes to anonymous callers (an invitation's preview and decline by
// token), so mount it beside the host's authenticated routes, not behind
// Guard.Authenticate:
//
//	mux.Handle("/api/", api)                          // APIOptions{Prefix: "/api"}
//	mux.Handle("/", guard.Authenticate(productRoutes))
//
// An API key acts as its owner on the routes of its own organization
// only, and only when it has no scope of its own (a scope lists the
// product's capabilities, which management actions are not). What would
// outlive the key needs a signed-in session: creating keys and service
// principals, transferring ownership, deleting the organization; so do
// the caller's own view (/me/...), creating organizations and answering
// invitations, whose routes trust the session's verified address. A
// session acts as a person: a service principal that shares its ID is no
// member for it.
//
// Organization IDs are chosen by the caller of POST /orgs, so its 409
// tells whether an ID is taken; every other answer about an organization
// the caller is not in is the same 403 not-member, whether it exists or
// not.
type API struct {
	svc     *orgauthz.Service
	guard   *Guard
	prefix  string
	maxBody int64
	mux     *http.ServeMux
	h       http.Handler
}

// NewAPI returns the management API.
func NewAPI(opts APIOptions) (*API, error) {
	if opts.Guard == nil {
		return nil, errors.New("httpauthz: APIOptions.Guard is required")
	}
	prefix := strings.TrimSuffix(opts.Prefix, "/")
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		return nil, fmt.Errorf("httpauthz: APIOptions.Prefix %q must start with /", opts.Prefix)
	}
	if opts.MaxBody < 0 {
		return nil, fmt.Errorf("httpauthz: negative APIOptions.MaxBody %d", opts.MaxBody)
	}
	a := &API{svc: opts.Guard.svc, guard: opts.Guard, prefix: prefix, maxBody: opts.MaxBody, mux: http.NewServeMux()}
	if a.maxBody == 0 {
		a.maxBody = DefaultMaxBody
	}
	for _, rt := range routes {
		a.mux.Handle(rt.Method+" "+prefix+rt.Path, a.wrap(rt))
	}
	a.mux.HandleFunc("GET "+prefix+"/openapi.json", a.serveOpenAPI)
	a.mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, Problem{Status: http.StatusNotFound, Reason: "no-route", Detail: "no route " + r.Method + " " + r.URL.Path})
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.guard.logRefusal(r, "cross-origin request refused")
		writeProblem(w, Problem{Status: http.StatusForbidden, Reason: "cross-origin", Detail: "a cross-origin request from a browser may not change anything"})
	}))
	a.h = cop.Handler(a.mux)
	return a, nil
}

// ServeHTTP serves the API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }

// Route is one route of the API: a method and a Go 1.22 pattern, relative
// to the prefix.
type Route struct {
	Method, Path string
	// Public routes serve anonymous requests too (an invitation token is
	// their credential).
	Public bool
}

// Routes returns the API's routes, the OpenAPI document's aside.
func (a *API) Routes() []Route {
	out := make([]Route, len(routes))
	for i, rt := range routes {
		out[i] = Route{Method: rt.Method, Path: rt.Path, Public: rt.public}
	}
	return out
}

type route struct {
	Method, Path string
	public       bool
	// sessionOnly routes refuse API keys: what they make would outlive
	// the key that made it.
	sessionOnly bool
	serve       func(a *API, w http.ResponseWriter, r *http.Request, c Caller) error
}

// wrap authenticates a route's requests and turns its error into a
// problem.
func (a *API) wrap(rt route) http.Handler {
	serve := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := CallerFrom(r.Context())
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, a.maxBody)
		}
		if c.Via == ViaAPIKey {
			if p := keyMayUse(rt, r, c); p != nil {
				a.guard.logRefusal(r, "management action refused", slog.String("org", r.PathValue("org")), slog.String("reason", p.Reason), slog.Int("status", p.Status))
				writeProblem(w, *p)
				return
			}
		}
		if p := a.isMember(rt, r, c); p != nil {
			a.guard.logRefusal(r, "management action refused", slog.String("org", r.PathValue("org")), slog.String("reason", p.Reason), slog.Int("status", p.Status))
			writeProblem(w, *p)
			return
		}
		if err := rt.serve(a, w, r, c); err != nil {
			p := errorProblem(err)
			if p.Status == http.StatusForbidden || p.Status == http.StatusConflict || p.Status == http.StatusUnprocessableEntity {
				a.guard.logRefusal(r, "management action refused", slog.String("org", r.PathValue("org")), slog.String("reason", p.Reason), slog.Int("status", p.Status))
			}
			writeProblem(w, p)
		}
	})
	if rt.public {
		return a.guard.Optional(serve)
	}
	return a.guard.Authenticate(serve)
}

// isMember refuses, on the routes of an organization, a caller that is not
// one of its members, alike whether the organization exists or not: the
// answers of the API tell no one which organizations exist.
func (a *API) isMember(rt route, r *http.Request, c Caller) *Problem {
	if !strings.HasPrefix(rt.Path, "/orgs/{org}") || c.PrincipalID == "" {
		return nil
	}
	orgID := r.PathValue("org")
	var d policy.Decision
	if c.Via == ViaAPIKey {
		d = a.svc.Check(r.Context(), orgID, c.PrincipalID, membershipProbe) // the key's owner, of either kind
	} else {
		d = a.svc.CheckPrincipal(r.Context(), orgID, org.Principal{ID: c.PrincipalID, Kind: org.User}, membershipProbe) // a session is a person
	}
	switch d.Reason {
	case policy.ReasonUnknownOrganization, policy.ReasonNotMember:
		return &Problem{Status: http.StatusForbidden, Reason: "not-member", Detail: fmt.Sprintf("the caller is not a member of organization %q", orgID)}
	case policy.ReasonUnavailable:
		return &Problem{Status: http.StatusServiceUnavailable, Reason: "unavailable", Detail: "the request could not be served; try again"}
	}
	return nil
}

// membershipProbe is a capability no scheme need define: a check of it
// answers whether the caller is a member before it answers anything else.
const membershipProbe role.Capability = "orgauthz:membership"

// keyMayUse refuses an API key where it would act beyond its
// organization or its scope: a key acts as its owner only on routes of its
// own organization, and only when it has no scope of its own (a scope
// lists capabilities of the product, which the management API's actions
// are not); the caller's own view and organization creation need a
// session.
func keyMayUse(rt route, r *http.Request, c Caller) *Problem {
	switch {
	case !strings.HasPrefix(rt.Path, "/orgs/{org}"):
		return &Problem{Status: http.StatusForbidden, Reason: "session-required", Detail: "this route acts for a signed-in person, not an API key"}
	case c.Key.OrgID != r.PathValue("org"):
		return wrongOrganization(r.PathValue("org"))
	case c.Key.Scoped:
		return &Problem{Status: http.StatusForbidden, Reason: "key-scope", Detail: "an API key with a scope of its own may not use the management API"}
	case rt.sessionOnly:
		// What a key makes here would outlive the key: a leaked key must
		// not mint keys or service principals, or give the organization away.
		return &Problem{Status: http.StatusForbidden, Reason: "session-required", Detail: "this action needs a signed-in person, not an API key"}
	}
	return nil
}

// errBody is a request body that cannot be read as what the route takes.
var errBody = errors.New("bad request body")

// errTooLarge is a request body over the limit.
var errTooLarge = errors.New("request body too large")

// decode reads r's JSON body into v: one JSON value, no unknown fields.
func decode(r *http.Request, v any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: at most %d bytes", errTooLarge, mbe.Limit)
		}
		return fmt.Errorf("%w: %v", errBody, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errBody, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: more than one JSON value", errBody)
	}
	return nil
}

// reply writes v as JSON with status.
func reply(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// pageOf reads ?after= and ?limit=.
func pageOf(r *http.Request) (orgauthz.Page, error) {
	q := r.URL.Query()
	p := orgauthz.Page{After: q.Get("after")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return p, fmt.Errorf("%w: limit %q is not a number", orgauthz.ErrInvalidArgument, l)
		}
		p.Limit = n
	}
	return p, nil
}

// errorProblem maps an error of the service to the problem a client sees.
// Store and other unexpected errors are not shown.
func errorProblem(err error) Problem {
	type m struct {
		target error
		status int
		reason string
	}
	for _, x := range []m{
		{errTooLarge, http.StatusRequestEntityTooLarge, "body-too-large"},
		{errBody, http.StatusBadRequest, "bad-request"},
		{policy.ErrSeatOverride, http.StatusUnprocessableEntity, "invalid-seat-override"},
		{orgauthz.ErrInvalidArgument, http.StatusBadRequest, "invalid-argument"},
		{orgauthz.ErrInvalidID, http.StatusBadRequest, "invalid-id"},
		{orgauthz.ErrInvalidName, http.StatusBadRequest, "invalid-name"},
		{orgauthz.ErrInvalidSettings, http.StatusBadRequest, "invalid-settings"},
		{orgauthz.ErrInvalidEmail, http.StatusBadRequest, "invalid-email"},
		{orgauthz.ErrInvalidToken, http.StatusBadRequest, "invalid-token"},
		{apikey.ErrInvalidExpiry, http.StatusBadRequest, "invalid-expiry"},
		{orgauthz.ErrUnknownRole, http.StatusBadRequest, "unknown-role"},
		{orgauthz.ErrUnknownEdition, http.StatusBadRequest, "unknown-edition"},
		{orgauthz.ErrUnknownScheme, http.StatusBadRequest, "unknown-scheme"},
		{orgauthz.ErrUnknownScope, http.StatusBadRequest, "unknown-scope"},
		{orgauthz.ErrUnknownCapability, http.StatusBadRequest, "unknown-capability"},
		{role.ErrInvalidCapability, http.StatusBadRequest, "invalid-capability"},
		{orgauthz.ErrUnknownOrganization, http.StatusNotFound, "unknown-organization"},
		{orgauthz.ErrInvitationNotFound, http.StatusNotFound, "invitation-not-found"},
		{orgauthz.ErrInvitationExpired, http.StatusUnprocessableEntity, "invitation-expired"},
		{orgauthz.ErrInvitationRevoked, http.StatusUnprocessableEntity, "invitation-revoked"},
		{orgauthz.ErrInvitationDeclined, http.StatusUnprocessableEntity, "invitation-declined"},
		{orgauthz.ErrInvitationAccepted, http.StatusUnprocessableEntity, "invitation-accepted"},
		{orgauthz.ErrEmailMismatch, http.StatusUnprocessableEntity, "email-mismatch"},
		{orgauthz.ErrInvalidTransfer, http.StatusUnprocessableEntity, "invalid-transfer"},
		{orgauthz.ErrKeyRevoked, http.StatusUnprocessableEntity, "key-revoked"},
		{orgauthz.ErrAlreadyMember, http.StatusConflict, "already-member"},
		{orgauthz.ErrMinHolders, http.StatusConflict, "min-holders"},
		{orgauthz.ErrMaxHolders, http.StatusConflict, "max-holders"},
		{orgauthz.ErrSeatLimit, http.StatusConflict, "seat-limit"},
		{orgauthz.ErrImmutableRole, http.StatusConflict, "immutable-role"},
		{orgauthz.ErrInvariant, http.StatusConflict, "invariant"},
		{orgauthz.ErrExists, http.StatusConflict, "exists"},
		{orgauthz.ErrNotFound, http.StatusNotFound, "not-found"},
		{orgauthz.ErrNotOffered, http.StatusForbidden, "not-offered"},
		{orgauthz.ErrArchived, http.StatusForbidden, "archived"},
		{orgauthz.ErrEditionGated, http.StatusForbidden, "edition-gated"},
		{orgauthz.ErrNotMember, http.StatusForbidden, "not-member"},
		{orgauthz.ErrPermissionDenied, http.StatusForbidden, "permission-denied"},
	} {
		if errors.Is(err, x.target) {
			return Problem{Status: x.status, Reason: x.reason, Detail: err.Error()}
		}
	}
	return Problem{Status: http.StatusServiceUnavailable, Reason: "unavailable", Detail: "the request could not be served; try again"}
}

func user(c Caller) org.Principal { return org.Principal{ID: c.PrincipalID, Kind: org.User} }

// The request bodies.
type (
	createOrgBody struct {
		ID       string            `json:"id"`
		Name     string            `json:"name"`
		Scheme   string            `json:"scheme"`
		Edition  string            `json:"edition"`
		Settings map[string]string `json:"settings"`
	}
	updateOrgBody struct {
		Name     *string           `json:"name"`
		Settings map[string]string `json:"settings"`
	}
	editionBody struct {
		Edition string `json:"edition"`
	}
	seatsBody struct {
		Override int `json:"override"`
	}
	transferBody struct {
		To         string `json:"to"`
		StepDownTo string `json:"step_down_to"`
	}
	roleBody struct {
		Role string `json:"role"`
	}
	addMemberBody struct {
		PrincipalID string   `json:"principal_id"`
		Kind        org.Kind `json:"kind"`
		Role        string   `json:"role"`
	}
	inviteBody struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	bulkInviteBody struct {
		Emails []string `json:"emails"`
		Role   string   `json:"role"`
	}
	tokenBody struct {
		Token string `json:"token"`
	}
	servicePrincipalBody struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	renameBody struct {
		Name string `json:"name"`
	}
	keyBody struct {
		Name      string            `json:"name"`
		Owner     string            `json:"owner"`
		Expiry    string            `json:"expiry"`
		ExpiresAt time.Time         `json:"expires_at,omitzero"`
		Scope     []role.Capability `json:"scope"`
	}
	scopeBody struct {
		Name string `json:"name"`
	}
	scopeMemberBody struct {
		Role string `json:"role"`
	}
	scopeRoleBody struct {
		Name         string            `json:"name"`
		Capabilities []role.Capability `json:"capabilities"`
	}
)

// The response bodies that are not records of their own.
type (
	// invitationCreated is an invitation with its token, shown once.
	invitationCreated struct {
		Invitation invite.Invitation `json:"invitation"`
		Token      string            `json:"token"`
	}
	bulkResult struct {
		Email      string             `json:"email"`
		Invitation *invite.Invitation `json:"invitation,omitempty"`
		Token      string             `json:"token,omitempty"`
		Error      *Problem           `json:"error,omitempty"`
	}
	bulkResults struct {
		Results []bulkResult `json:"results"`
	}
	keyCreated struct {
		Key    apikey.Key `json:"key"`
		Secret string     `json:"secret"`
	}
	keyView struct {
		apikey.Key
		Status apikey.Status `json:"status"`
	}
	keyPage struct {
		Keys []keyView `json:"keys"`
		Next string    `json:"next,omitempty"`
	}
	joined struct {
		Member       org.Member       `json:"member"`
		Organization org.Organization `json:"organization"`
	}
	auditPage struct {
		Events []org.AuditEvent `json:"events"`
		Next   int64            `json:"next,omitempty"`
	}
)

func (a *API) keys(kp orgauthz.KeyPage) keyPage {
	now := a.svc.Now()
	out := keyPage{Keys: make([]keyView, len(kp.Keys)), Next: kp.Next}
	for i, k := range kp.Keys {
		k.Hash = nil
		out.Keys[i] = keyView{Key: k, Status: k.StatusAt(now)}
	}
	return out
}

// public is an invitation as a response shows it: no hash, and its status
// at the service's clock.
func (a *API) public(inv invite.Invitation) invite.Invitation {
	inv.TokenHash = nil
	if inv.Status == invite.Pending && !a.svc.Now().Before(inv.ExpiresAt) {
		inv.Status = invite.Expired
	}
	return inv
}

// routes are the API's routes; the OpenAPI document lists the same.
var routes = []route{
	// The caller's view.
	{Method: "GET", Path: "/me/organizations", serve: (*API).myOrganizations},
	{Method: "GET", Path: "/me/invitations", serve: (*API).myInvitations},
	{Method: "POST", Path: "/me/invitations/{id}/accept", serve: (*API).acceptByID},
	{Method: "POST", Path: "/me/invitations/{id}/decline", serve: (*API).declineByID},

	// Invitations by token: the link's accept page.
	{Method: "POST", Path: "/invitations/preview", public: true, serve: (*API).previewInvitation},
	{Method: "POST", Path: "/invitations/accept", serve: (*API).acceptInvitation},
	{Method: "POST", Path: "/invitations/decline", public: true, serve: (*API).declineInvitation},

	// Organizations.
	{Method: "POST", Path: "/orgs", serve: (*API).createOrganization},
	{Method: "GET", Path: "/orgs/{org}", serve: (*API).organization},
	{Method: "PATCH", Path: "/orgs/{org}", serve: (*API).updateOrganization},
	{Method: "DELETE", Path: "/orgs/{org}", sessionOnly: true, serve: (*API).deleteOrganization},
	{Method: "PUT", Path: "/orgs/{org}/edition", serve: (*API).changeEdition},
	{Method: "GET", Path: "/orgs/{org}/seats", serve: (*API).seats},
	{Method: "PUT", Path: "/orgs/{org}/seats", serve: (*API).setSeats},
	{Method: "POST", Path: "/orgs/{org}/archive", serve: (*API).archive},
	{Method: "POST", Path: "/orgs/{org}/transfer", sessionOnly: true, serve: (*API).transfer},

	// Members.
	{Method: "GET", Path: "/orgs/{org}/members", serve: (*API).members},
	{Method: "POST", Path: "/orgs/{org}/members", serve: (*API).addMember},
	{Method: "GET", Path: "/orgs/{org}/members/{principal}", serve: (*API).member},
	{Method: "PATCH", Path: "/orgs/{org}/members/{principal}", serve: (*API).changeRole},
	{Method: "DELETE", Path: "/orgs/{org}/members/{principal}", serve: (*API).removeMember},
	{Method: "POST", Path: "/orgs/{org}/leave", serve: (*API).leave},

	// Invitations.
	{Method: "GET", Path: "/orgs/{org}/invitations", serve: (*API).invitations},
	{Method: "POST", Path: "/orgs/{org}/invitations", serve: (*API).invite},
	{Method: "POST", Path: "/orgs/{org}/invitations/bulk", serve: (*API).bulkInvite},
	{Method: "POST", Path: "/orgs/{org}/invitations/{id}/resend", serve: (*API).resend},
	{Method: "DELETE", Path: "/orgs/{org}/invitations/{id}", serve: (*API).revoke},

	// Service principals and API keys.
	{Method: "GET", Path: "/orgs/{org}/service-principals", serve: (*API).servicePrincipals},
	{Method: "POST", Path: "/orgs/{org}/service-principals", sessionOnly: true, serve: (*API).createServicePrincipal},
	{Method: "PATCH", Path: "/orgs/{org}/service-principals/{principal}", serve: (*API).renameServicePrincipal},
	{Method: "DELETE", Path: "/orgs/{org}/service-principals/{principal}", serve: (*API).deleteServicePrincipal},
	{Method: "GET", Path: "/orgs/{org}/keys", serve: (*API).keyList},
	{Method: "POST", Path: "/orgs/{org}/keys", sessionOnly: true, serve: (*API).createKey},
	{Method: "DELETE", Path: "/orgs/{org}/keys/{key}", serve: (*API).revokeKey},

	// Scopes.
	{Method: "GET", Path: "/orgs/{org}/scopes/{kind}", serve: (*API).scopes},
	{Method: "POST", Path: "/orgs/{org}/scopes/{kind}", serve: (*API).createScope},
	{Method: "GET", Path: "/orgs/{org}/scopes/{kind}/{id}", serve: (*API).scope},
	{Method: "DELETE", Path: "/orgs/{org}/scopes/{kind}/{id}", serve: (*API).deleteScope},
	{Method: "GET", Path: "/orgs/{org}/scopes/{kind}/{id}/members", serve: (*API).scopeMembers},
	{Method: "PUT", Path: "/orgs/{org}/scopes/{kind}/{id}/members/{principal}", serve: (*API).putScopeMember},
	{Method: "DELETE", Path: "/orgs/{org}/scopes/{kind}/{id}/members/{principal}", serve: (*API).removeScopeMember},
	{Method: "PUT", Path: "/orgs/{org}/scopes/{kind}/{id}/roles/{role}", serve: (*API).defineScopeRole},
	{Method: "GET", Path: "/orgs/{org}/me/scopes/{kind}", serve: (*API).myScopes},

	// The audit trail.
	{Method: "GET", Path: "/orgs/{org}/audit", serve: (*API).audit},
	{Method: "GET", Path: "/orgs/{org}/audit/export", serve: (*API).exportAudit},
}
