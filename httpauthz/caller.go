package httpauthz

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/orgauthz/orgauthz"
)

// Via says how a request was authenticated.
type Via string

// The ways a request is authenticated.
const (
	// ViaAPIKey: an API key (Authorization: Bearer, or X-API-Key).
	ViaAPIKey Via = "api_key"
	// ViaSession: the host's own authentication (a session cookie, a
	// token of its identity provider), through a SessionFunc.
	ViaSession Via = "session"
)

// Caller is who a request acts as, and how it was authenticated.
type Caller struct {
	// PrincipalID is the principal the request acts as: the session's
	// user, or the API key's owner.
	PrincipalID string
	// Via says which authenticator authenticated the request.
	Via Via
	// Email is the address the host has verified for a session's user ("",
	// and never set for API keys). It is what InvitationsFor and the
	// by-ID answers to invitations trust.
	Email string
	// Key is the API key's authentication when Via is ViaAPIKey: its
	// organization, its ID and the capabilities it may use now.
	Key orgauthz.Authentication
}

// callerCtx carries a Caller by value: one allocation per request.
type callerCtx struct {
	context.Context
	c Caller
}

type callerKey struct{}

// Value returns the Caller for callerKey, and asks the parent otherwise.
func (cc *callerCtx) Value(key any) any {
	if key == (callerKey{}) {
		return &cc.c
	}
	return cc.Context.Value(key)
}

// WithCaller returns a copy of ctx carrying c, as Guard.Authenticate does;
// a host's handler tests use it to stand in for an authenticated request.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return &callerCtx{Context: ctx, c: c}
}

// CallerFrom returns the Caller that Guard.Authenticate put in ctx, and
// whether there is one.
func CallerFrom(ctx context.Context) (Caller, bool) {
	if c, ok := ctx.Value(callerKey{}).(*Caller); ok {
		return *c, true
	}
	return Caller{}, false
}

// An Authenticator authenticates a request by one kind of credential. It
// returns presented false when the request carries no credential of its
// kind; otherwise the Caller, or an error when the credential is bad (the
// request is then refused with 401, whatever else it carries). Its error
// is shown to the client only through Reason and Detail when it
// implements them (see AuthError); otherwise the client sees
// "invalid-credentials".
type Authenticator interface {
	Authenticate(r *http.Request) (c Caller, presented bool, err error)
}

// AuthError is an authentication failure that says what to tell the
// client: a short reason ("invalid-key", "session-expired") and a detail
// sentence. It must say nothing of which principals or keys exist.
type AuthError struct {
	Reason string
	Detail string
	// Status is 401 when zero; 403 for a credential that is valid but may
	// not be used (an archived organization), 503 when it could not be
	// checked.
	Status int
	// Err is the cause, for logs; it is never shown to the client.
	Err error
}

func (e *AuthError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *AuthError) Unwrap() error { return e.Err }

// Identity is what the host's own authentication of a request vouches for:
// the principal and, when the host verified one, its e-mail address.
type Identity struct {
	PrincipalID string
	Email       string
}

// SessionFunc is the host's own authentication of a request: its session
// cookie or token check. It returns ok false when the request presents no
// session at all, and an error when it presents one that is not valid
// (expired, forged): the request is refused with 401 then, even if it
// carries a valid API key too.
type SessionFunc func(r *http.Request) (id Identity, ok bool, err error)

// Session is an Authenticator over the host's SessionFunc.
func Session(fn SessionFunc) Authenticator { return sessionAuth{fn} }

type sessionAuth struct{ fn SessionFunc }

func (s sessionAuth) Authenticate(r *http.Request) (Caller, bool, error) {
	id, ok, err := s.fn(r)
	switch {
	case err != nil:
		var ae *AuthError
		if errors.As(err, &ae) {
			return Caller{}, true, err
		}
		return Caller{}, true, &AuthError{Reason: "invalid-session", Detail: "the session is not valid: sign in again", Err: err}
	case !ok:
		return Caller{}, false, nil
	case id.PrincipalID == "":
		return Caller{}, true, &AuthError{Reason: "invalid-session", Detail: "the session names no principal", Err: errors.New("SessionFunc returned ok with an empty principal ID")}
	}
	return Caller{PrincipalID: id.PrincipalID, Via: ViaSession, Email: id.Email}, true, nil
}

// APIKeys is an Authenticator of orgauthz API keys, taken from the
// Authorization header ("Bearer <key>") or, failing that, the X-API-Key
// header, and checked with Service.Authenticate. Its refusals never tell
// whether a key ID exists.
func APIKeys(svc *orgauthz.Service) Authenticator { return keyAuth{svc} }

type keyAuth struct{ svc *orgauthz.Service }

func (k keyAuth) Authenticate(r *http.Request) (Caller, bool, error) {
	keys, n := requestKeys(r, k.svc.KeyPrefix())
	if n == 0 {
		return Caller{}, false, nil
	}
	var c Caller
	for _, key := range keys[:n] {
		a, err := k.svc.Authenticate(r.Context(), key)
		if err != nil {
			return Caller{}, true, keyError(err) // every key presented must be good
		}
		if c.Via != "" && c.Key.KeyID != a.KeyID {
			return Caller{}, true, &AuthError{Reason: "ambiguous-credentials", Detail: "the request carries two different API keys: send one",
				Err: errors.New("the request carries two different keys")}
		}
		c = Caller{PrincipalID: a.PrincipalID, Via: ViaAPIKey, Key: a}
	}
	return c, true, nil
}

// maxKeys is how many different keys requestKeys reads from one request;
// Authenticate refuses a request with more than one anyway.
const maxKeys = 2

// requestKeys returns the different API keys a request carries (n of
// them): the X-API-Key header's, and every bearer token that starts with
// the service's key prefix (another bearer token, an identity provider's,
// is not a key: another Authenticator may take it). A third different key
// is not read: two are ambiguous already.
func requestKeys(r *http.Request, prefix string) (keys [maxKeys]string, n int) {
	add := func(key string) {
		for _, k := range keys[:n] {
			if k == key {
				return
			}
		}
		if n < maxKeys {
			keys[n] = key
			n++
		}
	}
	if k := strings.TrimSpace(r.Header.Get("X-Api-Key")); k != "" {
		add(k)
	}
	for _, h := range r.Header.Values("Authorization") {
		scheme, key, ok := strings.Cut(h, " ")
		key = strings.TrimSpace(key)
		if ok && strings.EqualFold(scheme, "Bearer") && len(key) > len(prefix) && key[len(prefix)] == '_' && strings.HasPrefix(key, prefix) {
			add(key)
		}
	}
	return keys, n
}

// keyError maps an Authenticate error to what the client is told, which
// reveals nothing about which keys exist.
func keyError(err error) *AuthError {
	switch {
	case errors.Is(err, orgauthz.ErrKeyExpired):
		return &AuthError{Reason: "key-expired", Detail: "the API key has expired", Err: err}
	case errors.Is(err, orgauthz.ErrKeyRevoked):
		return &AuthError{Reason: "key-revoked", Detail: "the API key was revoked", Err: err}
	case errors.Is(err, orgauthz.ErrInvalidKey):
		return &AuthError{Reason: "invalid-key", Detail: "the API key is not valid", Err: err}
	case errors.Is(err, orgauthz.ErrArchived):
		return &AuthError{Reason: "archived", Detail: "the key's organization is archived", Status: http.StatusForbidden, Err: err}
	case errors.Is(err, orgauthz.ErrPermissionDenied):
		return &AuthError{Reason: "permission-denied", Detail: "the key's owner may not use API keys", Status: http.StatusForbidden, Err: err}
	}
	return &AuthError{Reason: "unavailable", Detail: "the key could not be checked; try again", Status: http.StatusServiceUnavailable, Err: err}
}
