package orgauthz

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

// API-key errors. Authenticate fails with ErrInvalidKey alike for a
// malformed key, a bad checksum, an unknown key ID and a wrong secret, so
// its answer never tells whether a key ID exists; only a caller holding
// the right secret learns that the key was revoked or has expired.
var (
	ErrInvalidKey = errors.New("invalid API key")
	ErrKeyRevoked = errors.New("API key revoked")
	ErrKeyExpired = errors.New("API key expired")
	// ErrInvalidName also covers a service principal's name, which must be
	// 1 to 64 letters and digits.
)

// The audit actions of service principals and keys. They name keys by ID
// and display form, never by their secret.
const (
	AuditServicePrincipalCreate = "service_principal.create"
	AuditServicePrincipalRename = "service_principal.rename"
	AuditServicePrincipalDelete = "service_principal.delete"
	AuditKeyCreate              = "api_key.create"
	AuditKeyRevoke              = "api_key.revoke"
)

// DefaultKeyPrefix is the prefix of key strings when Options.KeyPrefix is
// not set.
const DefaultKeyPrefix = "oak"

// DefaultKeyTouch is how often, at most, a key's last-used time is written.
const DefaultKeyTouch = time.Minute

// validSPName reports whether name is a valid service principal name.
func validSPName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: service principal name %q must be 1 to 64 letters and digits", ErrInvalidName, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return fmt.Errorf("%w: service principal name %q has %q (letters and digits only)", ErrInvalidName, name, rune(c))
		}
	}
	return nil
}

// CreateServicePrincipal creates a service principal, a non-human member
// holding role r, named name (1 to 64 letters and digits, unique among the
// organization's service principals). The actor needs the scheme's service
// principal capability (Wherobots: admins, professional and enterprise
// only) and must be allowed to give r by the management rules. A service
// principal takes a seat.
func (s *Service) CreateServicePrincipal(ctx context.Context, orgID, actor, name, r string) (org.Member, error) {
	if err := validSPName(name); err != nil {
		return org.Member{}, err
	}
	var out org.Member
	p := org.Principal{ID: "sp-" + s.newID(), Kind: org.ServicePrincipal}
	rs := readsMember(p.ID).and(s.readsCounts).and(readsServicePrincipals)
	err := s.updateReading(ctx, orgID, actor, rs, func(ctx context.Context, tx store.Tx, st *state) error {
		if err := st.decide(st.sch.KeyCapabilities().ServicePrincipals); err != nil {
			return fmt.Errorf("create service principal %q in %q: %w", name, orgID, err)
		}
		if err := policy.CanAssign(st.sch, st.edID, st.actor.Role, r).Err(); err != nil {
			return fmt.Errorf("create service principal %q in %q: %w", name, orgID, err)
		}
		if err := uniqueSPName(ctx, tx, name, ""); err != nil {
			return err
		}
		var err error
		out, err = s.addMember(ctx, tx, st, p, r, "", org.AuditEvent{Actor: actor, Detail: "service principal " + name}, reserved)
		if err != nil {
			return err
		}
		out.Name = name
		if err := tx.UpdateMember(ctx, out); err != nil {
			return err
		}
		return s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditServicePrincipalCreate, Target: p.ID, RoleAfter: r, Detail: name})
	})
	return out, err
}

func uniqueSPName(ctx context.Context, r store.Reader, name, except string) error {
	for m, err := range r.ServicePrincipals(ctx, "") {
		if err != nil {
			return err
		}
		if m.Name == name && m.PrincipalID != except {
			return fmt.Errorf("service principal named %q: %w", name, ErrExists)
		}
	}
	return nil
}

// servicePrincipal reads a member that must be a service principal, within
// the reach of st's actor by the rank rule and the scheme's rules: the
// actor may act on a service principal only where it could manage a member
// of the same role.
func (s *Service) servicePrincipal(ctx context.Context, r store.Reader, st *state, id string) (org.Member, error) {
	m, err := s.member(ctx, r, st.o.ID, id)
	if err != nil {
		return org.Member{}, err
	}
	if m.Kind != org.ServicePrincipal {
		return org.Member{}, fmt.Errorf("%w: %q is not a service principal", ErrInvalidArgument, id)
	}
	ai, _ := st.sch.RoleIndex(st.actor.Role)
	ti, ok := st.sch.RoleIndex(m.Role)
	if !ok || st.sch.IsExternal(ai) || !st.sch.MayManage(ai, ti) {
		return org.Member{}, fmt.Errorf("%w: service principal %q holds %q, beyond the reach of %q (role %q)", ErrPermissionDenied, id, m.Role, st.actor.PrincipalID, st.actor.Role)
	}
	return m, nil
}

// RenameServicePrincipal renames a service principal; the actor needs the
// scheme's service principal capability.
func (s *Service) RenameServicePrincipal(ctx context.Context, orgID, actor, id, name string) (org.Member, error) {
	if err := validSPName(name); err != nil {
		return org.Member{}, err
	}
	var out org.Member
	err := s.updateReading(ctx, orgID, actor, readsMember(id).and(readsServicePrincipals), func(ctx context.Context, tx store.Tx, st *state) error {
		if err := st.decide(st.sch.KeyCapabilities().ServicePrincipals); err != nil {
			return fmt.Errorf("rename service principal %q: %w", id, err)
		}
		m, err := s.servicePrincipal(ctx, tx, st, id)
		if err != nil {
			return err
		}
		if err := uniqueSPName(ctx, tx, name, id); err != nil {
			return err
		}
		old := m.Name
		m.Name = name
		if err := tx.UpdateMember(ctx, m); err != nil {
			return err
		}
		out = m
		return s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditServicePrincipalRename, Target: id, Detail: fmt.Sprintf("%q -> %q", old, name)})
	})
	return out, err
}

// DeleteServicePrincipal deletes a service principal and revokes its keys
// at once. The actor needs the scheme's service principal capability.
func (s *Service) DeleteServicePrincipal(ctx context.Context, orgID, actor, id string) error {
	return s.updateReading(ctx, orgID, actor, s.readsMemberChange(id), func(ctx context.Context, tx store.Tx, st *state) error {
		if err := st.decide(st.sch.KeyCapabilities().ServicePrincipals); err != nil {
			return fmt.Errorf("delete service principal %q: %w", id, err)
		}
		m, err := s.servicePrincipal(ctx, tx, st, id)
		if err != nil {
			return err
		}
		// A service principal's deletion needs only the service principal
		// capability, not the authority over members that a takeover of
		// its resource roles rests on: those are handed on first.
		return s.removeMember(ctx, tx, st, m, AuditServicePrincipalDelete, false)
	})
}

// NewKey describes an API key to create.
type NewKey struct {
	// Name is required: 1 to org.MaxNameLen characters.
	Name string
	// Owner is the principal the key acts as: "" or the actor itself for
	// one's own key, or a service principal of the organization.
	Owner string
	// ExpiresIn is the key's lifetime (see apikey.ExpiryPreset for the
	// usual ones); ExpiresAt an exact expiry instead. Both zero means
	// apikey.DefaultExpiry (one year). Neither may exceed the service's
	// Options.MaxKeyExpiry.
	ExpiresIn time.Duration
	ExpiresAt time.Time
	// Scope, if not empty, limits the key to these capabilities, which the
	// actor must hold itself.
	Scope []role.Capability
}

// CreateAPIKey makes an API key and returns its record and its secret,
// shown this once: only a hash is kept. A key of one's own needs the
// scheme's own-key capability (Wherobots: api_keys:manage_own); a key of a
// service principal its service-principal-key capability. The scope may
// never exceed what the actor holds; at use, a key can do only what both
// its scope and its owner's current role allow.
func (s *Service) CreateAPIKey(ctx context.Context, orgID, actor string, nk NewKey) (apikey.Key, apikey.Secret, error) {
	if err := org.ValidateName("API key", nk.Name); err != nil {
		return apikey.Key{}, apikey.Secret{}, err
	}
	if nk.Owner == "" {
		nk.Owner = actor
	}
	var out apikey.Key
	var secret apikey.Secret
	err := s.updateReading(ctx, orgID, actor, readsMember(nk.Owner), func(ctx context.Context, tx store.Tx, st *state) error {
		kc := st.sch.KeyCapabilities()
		owner := st.actor
		if nk.Owner == actor {
			if err := st.decide(kc.Own); err != nil {
				return fmt.Errorf("create an API key in %q: %w", orgID, err)
			}
		} else {
			if err := st.decide(kc.ServicePrincipalKeys); err != nil {
				return fmt.Errorf("create an API key for %q: %w", nk.Owner, err)
			}
			var err error
			if owner, err = s.servicePrincipal(ctx, tx, st, nk.Owner); err != nil {
				return fmt.Errorf("create an API key for %q: %w (keys belong to their maker or to a service principal)", nk.Owner, err)
			}
		}
		now := s.now()
		expires, err := s.expiry(now, nk)
		if err != nil {
			return err
		}
		scope, err := st.sch.Catalog().Set(nk.Scope...)
		if err != nil {
			return fmt.Errorf("API key scope: %w", err)
		}
		held := policy.Capabilities(st.sch, st.edID, st.actor.Role)
		if extra := scope.Minus(held); !extra.Empty() {
			return fmt.Errorf("%w: the key's scope holds %q, which %q lacks", ErrPermissionDenied, st.sch.Catalog().IDs(extra), actor)
		}
		// What the key could do now: its owner's capabilities, within its
		// scope. Nobody makes a key that can do more than it can itself.
		effective := policy.Capabilities(st.sch, st.edID, owner.Role)
		if len(nk.Scope) > 0 {
			effective = effective.Intersect(scope)
		}
		if extra := effective.Minus(held); !extra.Empty() {
			return fmt.Errorf("%w: a key of %q (role %q) would hold %q, which %q lacks: give the key a scope within your own capabilities", ErrPermissionDenied, nk.Owner, owner.Role, st.sch.Catalog().IDs(extra), actor)
		}
		if secret, err = apikey.NewSecret(s.keyPrefix); err != nil {
			return err
		}
		h := secret.Hash()
		out = apikey.Key{
			ID: secret.ID(), Name: nk.Name, OwnerID: nk.Owner, Scope: slices.Clone(nk.Scope), Hash: h[:],
			Display: secret.Display(), CreatedBy: actor, CreatedAt: now, ExpiresAt: expires,
		}
		if err := tx.CreateAPIKey(ctx, out); err != nil {
			return err
		}
		return s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditKeyCreate, Target: nk.Owner,
			Detail: fmt.Sprintf("key %s (%s) %q, expires %s", out.ID, out.Display, out.Name, expires.Format(time.RFC3339))})
	})
	if err != nil {
		return apikey.Key{}, apikey.Secret{}, err
	}
	out.Hash = nil
	return out, secret, nil
}

func (s *Service) expiry(now time.Time, nk NewKey) (time.Time, error) {
	switch {
	case !nk.ExpiresAt.IsZero() && nk.ExpiresIn != 0:
		return time.Time{}, fmt.Errorf("%w: give ExpiresIn or ExpiresAt, not both", ErrInvalidArgument)
	case nk.ExpiresIn < 0:
		return time.Time{}, fmt.Errorf("%w: negative ExpiresIn %v", ErrInvalidArgument, nk.ExpiresIn)
	}
	at := nk.ExpiresAt.UTC().Truncate(time.Microsecond)
	switch {
	case nk.ExpiresIn > 0:
		at = now.Add(nk.ExpiresIn)
	case at.IsZero():
		at = now.Add(apikey.DefaultExpiry)
	}
	if !at.After(now) {
		return time.Time{}, fmt.Errorf("%w: the key would expire at %s, which is not in the future", ErrInvalidArgument, at.Format(time.RFC3339))
	}
	if s.maxKeyExpiry > 0 && at.Sub(now) > s.maxKeyExpiry {
		return time.Time{}, fmt.Errorf("%w: the key would live %v, at most %v", ErrInvalidArgument, at.Sub(now), s.maxKeyExpiry)
	}
	return at, nil
}

// mayReachKeys reports whether the actor may list and revoke the keys of
// owner: its own always; a service principal's with the
// service-principal-key capability or the revoke-others one; another
// member's with the revoke-others one.
func (s *Service) mayReachKeys(ctx context.Context, r store.Reader, st *state, owner string) error {
	if owner == st.actor.PrincipalID {
		return nil
	}
	kc := st.sch.KeyCapabilities()
	if m, err := r.Member(ctx, owner); err == nil && m.Kind == org.ServicePrincipal && kc.ServicePrincipalKeys != "" && st.actorDecision(kc.ServicePrincipalKeys).Allowed {
		return nil
	}
	if err := st.decide(kc.RevokeOthers); err != nil {
		return fmt.Errorf("the keys of %q: %w", owner, err)
	}
	return nil
}

// RevokeAPIKey revokes a key at once. Anyone may revoke its own keys;
// others' need the scheme's revoke-others capability (Wherobots:
// api_keys:revoke_others), or, for a service principal's, its
// service-principal-key capability.
func (s *Service) RevokeAPIKey(ctx context.Context, orgID, actor, keyID string) error {
	return s.updateReading(ctx, orgID, actor, readsAPIKey(keyID), func(ctx context.Context, tx store.Tx, st *state) error {
		k, err := tx.APIKey(ctx, keyID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("API key %q: %w", keyID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := s.mayReachKeys(ctx, tx, st, k.OwnerID); err != nil {
			return err
		}
		if !k.RevokedAt.IsZero() {
			return fmt.Errorf("API key %q: %w", keyID, ErrKeyRevoked)
		}
		return s.revokeKey(ctx, tx, actor, k, "")
	})
}

func (s *Service) revokeKey(ctx context.Context, tx store.Tx, actor string, k apikey.Key, why string) error {
	k.RevokedAt = s.now()
	if err := tx.UpdateAPIKey(ctx, k); err != nil {
		return err
	}
	detail := fmt.Sprintf("key %s (%s)", k.ID, k.Display)
	if why != "" {
		detail += "; " + why
	}
	return s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditKeyRevoke, Target: k.OwnerID, Detail: detail})
}

// revokeKeysOf revokes every live key of a principal leaving the
// organization.
func (s *Service) revokeKeysOf(ctx context.Context, tx store.Tx, actor, owner string) error {
	var live []apikey.Key
	for k, err := range tx.APIKeys(ctx, owner, "") {
		if err != nil {
			return err
		}
		if k.RevokedAt.IsZero() {
			live = append(live, k)
		}
	}
	for _, k := range live {
		if err := s.revokeKey(ctx, tx, actor, k, "owner left the organization"); err != nil {
			return err
		}
	}
	return nil
}

// KeyPage is one page of API keys, ordered by ID; Next is the After of the
// following page, or "".
type KeyPage struct {
	Keys []apikey.Key `json:"keys"`
	Next string       `json:"next,omitempty"`
}

// APIKeys lists the keys of owner ("" for the actor's own), ordered by ID,
// each with its status at the service's clock in mind (see
// apikey.Key.StatusAt). A listing never holds a secret or a hash. Listing
// others' keys needs what revoking them needs.
func (s *Service) APIKeys(ctx context.Context, orgID, actor, owner string, p Page) (KeyPage, error) {
	limit, err := p.limit()
	if err != nil {
		return KeyPage{}, err
	}
	if owner == "" {
		owner = actor
	}
	var out KeyPage
	err = s.viewReading(ctx, orgID, actor, readsMember(owner).and(func(ctx context.Context, r store.Reader) { first(r.APIKeys(ctx, owner, p.After)) }), func(ctx context.Context, r store.Reader, st *state) error {
		if err := s.mayReachKeys(ctx, r, st, owner); err != nil {
			return err
		}
		keys, next, err := page(r.APIKeys(ctx, owner, p.After), limit, func(k apikey.Key) string { return k.ID })
		for i := range keys {
			keys[i].Hash = nil
		}
		out = KeyPage{Keys: keys, Next: next}
		return err
	})
	return out, err
}

// Authentication is who an API key authenticates, and what it may do.
type Authentication struct {
	OrgID       string
	PrincipalID string
	KeyID       string
	// Scheme is the organization's scheme, and Capabilities the key's
	// effective capabilities in its catalog: the key's scope (or
	// everything) intersected with what its owner's role holds in the
	// organization's edition now.
	Scheme       *edition.Scheme
	Capabilities role.Set
	// Scoped says the key has a scope of its own: it may use only the
	// organization capabilities listed there, and no scope capability.
	Scoped bool
}

// Can reports whether the key may use capability c.
func (a Authentication) Can(c role.Capability) bool {
	if a.Scheme == nil {
		return false
	}
	i, ok := a.Scheme.Catalog().Index(c)
	return ok && a.Capabilities.Has(i)
}

// Authenticate checks an API key and returns who it acts as and what it
// may do. A malformed key or a bad checksum is refused without touching the
// store; then the key is looked up by ID and its secret compared in
// constant time. Revoked and expired keys are refused; so is a key whose
// owner is no longer a member, or lacks the scheme's authenticate
// capability. Demoting or removing the owner narrows or ends the key at
// once, since its capabilities are the owner's current ones (within the
// key's scope). The key's last-used time is written at most once a minute.
//
// "At once" is as the store answers KeyAccess: a store that caches it
// (pgstore does, by default) refuses a key revoked, or narrows one whose
// owner changed, through another replica within its notification latency
// rather than from the commit; see pgstore's "The read cache".
func (s *Service) Authenticate(ctx context.Context, key string) (Authentication, error) {
	id, hash, err := apikey.ParseHash(s.keyPrefix, key)
	if err != nil {
		return Authentication{}, ErrInvalidKey
	}
	ka, err := s.st.KeyAccess(ctx, id)
	s.effective(&ka.Owner) // the trial's edition while it runs
	// An unknown key ID costs what a wrong secret does: its hash is
	// compared too, with a dummy, and the store answers it without an
	// allocation (with store.ErrNotFound itself), as it answers a known
	// key without a scope.
	var dummy [len(ka.Hash)]byte
	stored := &ka.Hash
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return Authentication{}, err
		}
		stored = &dummy
	}
	if subtle.ConstantTimeCompare(hash[:], stored[:]) != 1 || err != nil {
		return Authentication{}, ErrInvalidKey
	}
	now := s.now()
	switch {
	case !ka.RevokedAt.IsZero():
		return Authentication{}, ErrKeyRevoked
	case !now.Before(ka.ExpiresAt):
		return Authentication{}, ErrKeyExpired
	case !ka.OwnerFound:
		return Authentication{}, fmt.Errorf("%w: the key's owner is no longer a member", ErrKeyRevoked)
	case ka.Owner.Archived:
		return Authentication{}, fmt.Errorf("%w: organization %q", ErrArchived, ka.OrgID)
	}
	sch, ok := s.Scheme(ka.Owner.Scheme)
	if !ok {
		return Authentication{}, fmt.Errorf("%w %q", ErrUnknownScheme, ka.Owner.Scheme)
	}
	if ka.Owner.Kind == org.ServicePrincipal {
		// A service principal left by a trial that ended authenticates no
		// more until the organization upgrades.
		if e, ok := sch.Edition(ka.Owner.Edition); !ok || !offersServicePrincipals(sch, e) {
			return Authentication{}, fmt.Errorf("%w: %w: edition %q of organization %q offers no service principals", ErrPermissionDenied, ErrEditionGated, ka.Owner.Edition, ka.OrgID)
		}
	}
	if c := sch.KeyCapabilities().Authenticate; c != "" {
		if d := policy.Decide(sch, ka.Owner.Edition, ka.Owner.Role, c); !d.Allowed {
			return Authentication{}, d.Err()
		}
	}
	caps := policy.Capabilities(sch, ka.Owner.Edition, ka.Owner.Role)
	if len(ka.Scope) > 0 {
		var scope role.Set
		for _, c := range ka.Scope {
			if i, ok := sch.Catalog().Index(c); ok {
				scope = scope.With(i)
			}
		}
		caps = caps.Intersect(scope)
	}
	if now.Sub(ka.LastUsedAt) >= s.keyTouch {
		// Best effort: a failure to record the use does not refuse the key.
		_ = s.st.TouchAPIKey(ctx, ka.KeyID, now)
	}
	return Authentication{OrgID: ka.OrgID, PrincipalID: ka.OwnerID, KeyID: ka.KeyID, Scheme: sch, Capabilities: caps, Scoped: len(ka.Scope) > 0}, nil
}
