// Package httpauthz is orgauthz over HTTP: middleware for policy checks
// for every kind of caller, and a management API a frontend can use.
//
// A Guard authenticates requests with the host's own authentication (its
// session or token check, a SessionFunc) and with orgauthz API keys, in
// the host's order, and puts the Caller in the request's context; every
// credential a request presents is checked, so a bad API key is refused
// even next to a valid session. Guard.Require and Guard.RequireScope then
// let a request through only if its caller holds a capability in the
// request's organization (taken from a path value, a header or a host
// function), checked with the service: a session's principal by its
// membership, an API key within its organization, its scope and its
// owner's current role. Requiring a capability no scheme defines fails
// when the route is built.
//
//	guard, _ := httpauthz.New(httpauthz.Options{
//		Service:        svc,
//		Authenticators: []httpauthz.Authenticator{httpauthz.Session(mySession), httpauthz.APIKeys(svc)},
//		Org:            httpauthz.PathOrg("org"),
//	})
//	mux.Handle("POST /orgs/{org}/jobs", guard.MustRequire("job_runs:create")(jobs))
//	http.ListenAndServe(addr, guard.Authenticate(mux))
//
// Refusals are RFC 9457 problem details (application/problem+json) with a
// stable reason: "unauthenticated", "invalid-key", "wrong-organization",
// "not-member", "edition-gated" (with the editions that offer the
// capability), "role-lacks" (with the capability and the role), ... They
// never tell whether other principals, organizations or keys exist.
//
// NewAPI returns the management API, an http.Handler to mount under a
// prefix, with its OpenAPI 3.1 document (see API).
package httpauthz
