package httpauthz

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
)

// ErrUnknownCapability: a route requires a capability that no scheme of
// the service defines (a typo, such as "notebooks:start" for
// "notebook:start"). Require returns it when the route is built.
var ErrUnknownCapability = orgauthz.ErrUnknownCapability

// OrgFunc finds the organization a request is about; "" when it names
// none.
type OrgFunc func(r *http.Request) string

// PathOrg takes the organization from the path value name of a Go 1.22
// pattern: PathOrg("org") for "/orgs/{org}/...".
func PathOrg(name string) OrgFunc { return func(r *http.Request) string { return r.PathValue(name) } }

// HeaderOrg takes the organization from a request header.
func HeaderOrg(name string) OrgFunc {
	return func(r *http.Request) string { return strings.TrimSpace(r.Header.Get(name)) }
}

// Options configure a Guard.
type Options struct {
	// Service answers the checks. Required.
	Service *orgauthz.Service
	// Authenticators authenticate requests, in the host's order: the first
	// that finds a valid credential names the caller. Every credential a
	// request presents is checked, so a bad API key is refused even when a
	// valid session comes first. nil means APIKeys(Service) alone.
	Authenticators []Authenticator
	// Org finds a request's organization; nil means PathOrg("org").
	Org OrgFunc
	// Logger, if set, receives the security-relevant events: refused
	// authentications (with their reason) and refused requirements. It
	// never receives a key, token or secret, nor any header or body.
	Logger *slog.Logger
}

// Guard is HTTP middleware for policy checks: it authenticates requests
// (Authenticate), then lets through only those whose caller holds a
// capability in the request's organization (Require, RequireScope). A
// Guard is safe for concurrent use.
type Guard struct {
	svc   *orgauthz.Service
	auths []Authenticator
	org   OrgFunc
	log   *slog.Logger
}

// New returns a Guard. It refuses Options without a Service.
func New(opts Options) (*Guard, error) {
	if opts.Service == nil {
		return nil, errors.New("httpauthz: Options.Service is required")
	}
	g := &Guard{svc: opts.Service, auths: opts.Authenticators, org: opts.Org, log: opts.Logger}
	if g.auths == nil {
		g.auths = []Authenticator{APIKeys(opts.Service)}
	}
	for i, a := range g.auths {
		if a == nil {
			return nil, fmt.Errorf("httpauthz: Options.Authenticators[%d] is nil", i)
		}
	}
	if g.org == nil {
		g.org = PathOrg("org")
	}
	return g, nil
}

// authenticate runs the authenticators; presented false when the request
// carries no credential at all.
func (g *Guard) authenticate(r *http.Request) (Caller, bool, *AuthError) {
	var found Caller
	ok := false
	for _, a := range g.auths {
		c, presented, err := a.Authenticate(r)
		if !presented {
			continue
		}
		if err != nil {
			var ae *AuthError
			if !errors.As(err, &ae) {
				ae = &AuthError{Reason: "invalid-credentials", Detail: "the request's credentials are not valid", Err: err}
			}
			return Caller{}, true, ae
		}
		if !ok {
			found, ok = c, true
		}
	}
	return found, ok, nil
}

// Authenticate is middleware that authenticates every request and passes
// it on with its Caller in the context (CallerFrom). A request without
// credentials, or with a bad one, is answered 401 with a WWW-Authenticate
// challenge; a valid key that may not be used (an archived organization),
// 403. Bodies are RFC 9457 problem details naming the reason.
func (g *Guard) Authenticate(next http.Handler) http.Handler {
	return g.authenticateThen(next, false)
}

// Optional is Authenticate for routes that serve anonymous requests too
// (an invitation's preview): a request without credentials passes on
// without a Caller; one with a bad credential is still refused.
func (g *Guard) Optional(next http.Handler) http.Handler {
	return g.authenticateThen(next, true)
}

func (g *Guard) authenticateThen(next http.Handler, optional bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := CallerFrom(r.Context()); ok {
			next.ServeHTTP(w, r) // authenticated by an outer Guard
			return
		}
		c, presented, ae := g.authenticate(r)
		switch {
		case ae != nil:
			status := ae.Status
			if status == 0 {
				status = http.StatusUnauthorized
			}
			g.logRefusal(r, "authentication refused", slog.String("reason", ae.Reason), slog.Any("cause", ae.Err))
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
			}
			writeProblem(w, Problem{Status: status, Reason: ae.Reason, Detail: ae.Detail})
			return
		case !presented && optional:
			next.ServeHTTP(w, r)
			return
		case !presented:
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			writeProblem(w, Problem{Status: http.StatusUnauthorized, Reason: "unauthenticated",
				Detail: "the request carries no credentials: sign in, or send an API key as \"Authorization: Bearer <key>\""})
			return
		}
		next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), c)))
	})
}

func (g *Guard) logRefusal(r *http.Request, msg string, attrs ...slog.Attr) {
	if g.log == nil {
		return
	}
	base := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr)}
	if c, ok := CallerFrom(r.Context()); ok {
		base = append(base, slog.String("principal", c.PrincipalID), slog.String("via", string(c.Via)))
	}
	g.log.LogAttrs(r.Context(), slog.LevelWarn, msg, append(base, attrs...)...)
}

// defined reports whether some scheme of the service defines organization
// capability c.
func (g *Guard) defined(c role.Capability) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("httpauthz: require %q: %w", c, err)
	}
	var ids []string
	for _, s := range g.svc.Schemes() {
		if _, ok := s.Catalog().Index(c); ok {
			return nil
		}
		ids = append(ids, s.ID())
	}
	return fmt.Errorf("httpauthz: require %q: %w: no scheme of the service defines it (schemes %s)", c, ErrUnknownCapability, strings.Join(ids, ", "))
}

// Require returns middleware that lets a request through only if its
// caller (Authenticate must run first) holds capability c in the
// request's organization. It fails, when the route is built, if no scheme
// of the service defines c.
//
// A session's principal is checked with Service.Check. An API key must
// belong to the request's organization (otherwise 403, reason
// "wrong-organization"), and may use c only within its scope and its
// owner's current role. A route without an organization checks a key in
// its own organization; a session there is refused (400,
// "missing-organization"). A denial says why without telling whether
// other principals or keys exist: "edition-gated" names the editions that
// offer c, so a client can offer an upgrade; other denials name c and the
// caller's role.
func (g *Guard) Require(c role.Capability) (func(http.Handler) http.Handler, error) {
	if err := g.defined(c); err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			caller, ok := g.caller(w, r)
			if !ok {
				return
			}
			orgID := g.org(r)
			if p := g.check(r, caller, orgID, c); p != nil {
				g.logRefusal(r, "requirement refused", slog.String("org", orgID), slog.String("capability", string(c)), slog.String("reason", p.Reason))
				writeProblem(w, *p)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// MustRequire is Require for routes built at start-up: it panics where
// Require returns an error.
func (g *Guard) MustRequire(c role.Capability) func(http.Handler) http.Handler {
	mw, err := g.Require(c)
	if err != nil {
		panic(err)
	}
	return mw
}

// caller returns the request's Caller, or answers 401.
func (g *Guard) caller(w http.ResponseWriter, r *http.Request) (Caller, bool) {
	c, ok := CallerFrom(r.Context())
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		writeProblem(w, Problem{Status: http.StatusUnauthorized, Reason: "unauthenticated", Detail: "the request is not authenticated"})
	}
	return c, ok
}

// check decides an organization capability for caller in orgID, and
// returns the problem to answer when it is denied.
func (g *Guard) check(r *http.Request, caller Caller, orgID string, c role.Capability) *Problem {
	ctx := r.Context()
	if caller.Via == ViaAPIKey {
		var p *Problem
		if orgID, p = keyOrganization(caller, orgID); p != nil {
			return p
		}
		if caller.Key.Can(c) {
			return nil
		}
		// Why: the owner's role or edition, or else the key's own scope.
		if d := g.svc.Check(ctx, orgID, caller.PrincipalID, c); !d.Allowed {
			return decisionProblem(orgID, d)
		}
		return &Problem{Status: http.StatusForbidden, Reason: "key-scope", Capability: string(c),
			Detail: fmt.Sprintf("the API key's scope does not include %q", c)}
	}
	if orgID == "" {
		return &Problem{Status: http.StatusBadRequest, Reason: "missing-organization", Detail: "the route names no organization to check the session against"}
	}
	// A session is a person: never a service principal sharing its ID.
	d := g.svc.CheckPrincipal(ctx, orgID, org.Principal{ID: caller.PrincipalID, Kind: org.User}, c)
	if d.Allowed {
		return nil
	}
	return decisionProblem(orgID, d)
}

// keyOrganization returns the organization an API key's request is
// checked in (the route's, or the key's own on a route that names none),
// or the refusal of a key used on another organization's route.
func keyOrganization(caller Caller, orgID string) (string, *Problem) {
	switch orgID {
	case "":
		return caller.Key.OrgID, nil
	case caller.Key.OrgID:
		return orgID, nil
	}
	return "", wrongOrganization(orgID)
}

func wrongOrganization(orgID string) *Problem {
	return &Problem{Status: http.StatusForbidden, Reason: "wrong-organization",
		Detail: fmt.Sprintf("the API key belongs to another organization than %q", orgID)}
}

// decisionProblem turns a denial into the problem a client is shown.
func decisionProblem(orgID string, d policy.Decision) *Problem {
	p := &Problem{Status: http.StatusForbidden, Reason: d.Reason.String(), Capability: string(d.Capability()), Role: d.Role()}
	switch d.Reason {
	case policy.ReasonEditionGated:
		p.Editions = offering(d)
		p.Detail = fmt.Sprintf("edition %q does not offer %q; editions that do: %s", d.Edition(), d.Capability(), strings.Join(p.Editions, ", "))
	case policy.ReasonNotMember, policy.ReasonUnknownOrganization:
		// Alike for an unknown organization and one the caller is not in:
		// a denial does not tell which organizations exist.
		p.Reason, p.Role, p.Capability = "not-member", "", ""
		p.Detail = fmt.Sprintf("the caller is not a member of organization %q", orgID)
	case policy.ReasonArchived:
		p.Detail = fmt.Sprintf("organization %q is archived", orgID)
	case policy.ReasonUnavailable:
		p.Status, p.Detail = http.StatusServiceUnavailable, "the decision could not be made; try again"
	default:
		p.Detail = d.String()
	}
	return p
}

// offering returns the editions of d's scheme that offer d's capability.
func offering(d policy.Decision) []string {
	s := d.Scheme()
	if s == nil {
		return nil
	}
	ci, ok := s.Catalog().Index(d.Capability())
	if !ok {
		return nil
	}
	var out []string
	for _, e := range s.Editions() {
		if e.OffersCapability(ci) {
			out = append(out, e.ID())
		}
	}
	return out
}

// RequireScope returns middleware that lets a request through only if its
// caller holds scope capability c on the resource of kind kind (a
// project, service or workspace) whose ID is the path value idName of the
// route: RequireScope(edition.ScopeProject, "project",
// "project/assets:manage") for "/orgs/{org}/projects/{project}/...". It
// fails, when the route is built, if no scheme of the service has the kind
// with c among its scope capabilities.
//
// The check is Service.CheckScope, for a session's principal and an API
// key's owner alike; a key must belong to the request's organization, and
// a key with a scope of its own (which lists organization capabilities)
// may use no scope capability.
func (g *Guard) RequireScope(kind, idName string, c role.Capability) (func(http.Handler) http.Handler, error) {
	if err := g.scopeDefined(kind, c); err != nil {
		return nil, err
	}
	if idName == "" {
		return nil, fmt.Errorf("httpauthz: require %s %q: no path value names the resource", kind, c)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			caller, ok := g.caller(w, r)
			if !ok {
				return
			}
			orgID, id := g.org(r), r.PathValue(idName)
			if p := g.checkScope(r, caller, orgID, kind, id, c); p != nil {
				g.logRefusal(r, "requirement refused", slog.String("org", orgID), slog.String("scope", kind+"/"+id), slog.String("capability", string(c)), slog.String("reason", p.Reason))
				writeProblem(w, *p)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// MustRequireScope is RequireScope for routes built at start-up: it
// panics where RequireScope returns an error.
func (g *Guard) MustRequireScope(kind, idName string, c role.Capability) func(http.Handler) http.Handler {
	mw, err := g.RequireScope(kind, idName, c)
	if err != nil {
		panic(err)
	}
	return mw
}

func (g *Guard) scopeDefined(kind string, c role.Capability) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("httpauthz: require %s %q: %w", kind, c, err)
	}
	kindFound := false
	for _, s := range g.svc.Schemes() {
		sc, ok := s.Scope(kind)
		if !ok {
			continue
		}
		kindFound = true
		if _, ok := sc.Matrix().Catalog().Index(c); ok {
			return nil
		}
	}
	if !kindFound {
		return fmt.Errorf("httpauthz: require %s %q: %w: no scheme of the service has scope kind %q", kind, c, orgauthz.ErrUnknownScope, kind)
	}
	return fmt.Errorf("httpauthz: require %s %q: %w: no %s of the service's schemes defines it", kind, c, ErrUnknownCapability, kind)
}

func (g *Guard) checkScope(r *http.Request, caller Caller, orgID, kind, id string, c role.Capability) *Problem {
	if caller.Via == ViaAPIKey {
		var p *Problem
		if orgID, p = keyOrganization(caller, orgID); p != nil {
			return p
		}
		if caller.Key.Scoped {
			return &Problem{Status: http.StatusForbidden, Reason: "key-scope", Capability: string(c),
				Detail: fmt.Sprintf("the API key's scope lists organization capabilities only, not %s capability %q", kind, c)}
		}
	}
	if orgID == "" {
		return &Problem{Status: http.StatusBadRequest, Reason: "missing-organization", Detail: "the route names no organization to check the caller against"}
	}
	who := org.Principal{ID: caller.PrincipalID} // a key's owner, of either kind
	if caller.Via == ViaSession {
		who.Kind = org.User // a session is a person: never a service principal sharing its ID
	}
	d := g.svc.CheckScopePrincipal(r.Context(), orgID, who, kind, id, c)
	if d.Allowed {
		return nil
	}
	p := decisionProblem(orgID, d)
	if d.Reason == policy.ReasonNotScopeMember {
		// Alike whether the resource exists or not.
		p.Detail = fmt.Sprintf("the caller holds no role on %s %q", kind, id)
	}
	return p
}
