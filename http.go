package orgauthz

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/orgauthz/orgauthz/role"
)

// authKey is the context key of the Authentication the middleware stores.
type authKey struct{}

// WithAuthentication returns a copy of ctx carrying a, as Middleware does;
// handlers' tests use it to stand in for an authenticated request.
func WithAuthentication(ctx context.Context, a Authentication) context.Context {
	return context.WithValue(ctx, authKey{}, a)
}

// AuthenticationFrom returns the Authentication that Middleware put in
// ctx, and whether there is one.
func AuthenticationFrom(ctx context.Context) (Authentication, bool) {
	a, ok := ctx.Value(authKey{}).(Authentication)
	return a, ok
}

// Middleware authenticates every request by its API key, taken from the
// Authorization header ("Bearer <key>") or, failing that, the X-API-Key
// header, and passes it on with the Authentication in its context (see
// AuthenticationFrom). A request without a key, or with one that is
// malformed, unknown, wrong, revoked or expired, is answered 401 with a
// WWW-Authenticate challenge; an archived organization or a key owner
// lacking the scheme's authenticate capability 403; a store failure 503.
// Bodies are RFC 9457 problem details (application/problem+json) naming the
// reason, and never tell whether a key ID exists.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := requestKey(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			problem(w, http.StatusUnauthorized, "missing-key", "the request carries no API key: send it as \"Authorization: Bearer <key>\" or \"X-API-Key: <key>\"")
			return
		}
		a, err := s.Authenticate(r.Context(), key)
		if err != nil {
			status, reason, detail := authProblem(err)
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
			}
			problem(w, status, reason, detail)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithAuthentication(r.Context(), a)))
	})
}

// requestKey returns the API key a request carries.
func requestKey(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, key, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(key) != "" {
			return strings.TrimSpace(key), true
		}
	}
	if k := strings.TrimSpace(r.Header.Get("X-API-Key")); k != "" {
		return k, true
	}
	return "", false
}

// authProblem maps an Authenticate error to a status, a reason and a
// detail that reveal nothing about which keys exist.
func authProblem(err error) (int, string, string) {
	switch {
	case errors.Is(err, ErrKeyExpired):
		return http.StatusUnauthorized, "key-expired", "the API key has expired"
	case errors.Is(err, ErrKeyRevoked):
		return http.StatusUnauthorized, "key-revoked", "the API key was revoked"
	case errors.Is(err, ErrInvalidKey):
		return http.StatusUnauthorized, "invalid-key", "the API key is not valid"
	case errors.Is(err, ErrArchived):
		return http.StatusForbidden, "archived", "the organization is archived"
	case errors.Is(err, ErrPermissionDenied):
		return http.StatusForbidden, "permission-denied", "the key's owner may not use API keys"
	}
	return http.StatusServiceUnavailable, "unavailable", "the key could not be checked; try again"
}

// Require returns middleware that lets a request through only if the API
// key that Middleware authenticated may use capability c: otherwise 403,
// naming the capability; or 401 if the request was not authenticated at
// all (Middleware must run first).
func Require(c role.Capability) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, ok := AuthenticationFrom(r.Context())
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
				problem(w, http.StatusUnauthorized, "missing-key", "the request is not authenticated")
				return
			}
			if !a.Can(c) {
				problem(w, http.StatusForbidden, "permission-denied", "the API key may not use "+string(c))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// problem writes an RFC 9457 problem details response.
func problem(w http.ResponseWriter, status int, reason, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
		Reason string `json:"reason"`
	}{"about:blank", http.StatusText(status), status, detail, reason})
}
