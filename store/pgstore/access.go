package pgstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// accessQuery reads what Access needs in one statement: no row when the
// organization does not exist, NULL member columns when the principal is
// not a member.
const accessQuery = `SELECT o.scheme, o.edition, o.trial_edition, o.trial_ends_at, o.archived, m.role, m.kind, m.external
	FROM orgauthz.organizations o
	LEFT JOIN orgauthz.members m ON m.org_id = o.id AND m.principal_id = $2
	WHERE o.id = $1`

// Access returns what a permission check needs; see store.Store and, for
// the cache it answers from, the package documentation. A missing
// organization or member is store.ErrOrganizationNotFound or
// store.ErrMemberNotFound itself, unwrapped, so that a denial allocates
// nothing when it is cached.
func (s *Store) Access(ctx context.Context, orgID, principalID string) (store.Access, error) {
	if s.closed.Load() {
		return store.Access{}, errClosed("access to organization %q", orgID)
	}
	if err := ctx.Err(); err != nil {
		return store.Access{}, err
	}
	c := s.cache
	if c == nil {
		return s.readAccess(ctx, orgID, principalID)
	}
	if a, err, ok := c.get(orgID, principalID); ok {
		return a, err
	}
	tk := c.ticket(orgID)
	a, err := s.readAccess(ctx, orgID, principalID)
	if err == nil || err == store.ErrOrganizationNotFound || err == store.ErrMemberNotFound {
		a = c.put(tk, orgID, principalID, a, err)
	}
	return a, err
}

// readAccess reads Access from the database.
func (s *Store) readAccess(ctx context.Context, orgID, principalID string) (store.Access, error) {
	var a store.Access
	var roleID pgtype.Text
	var kind pgtype.Int2
	var external pgtype.Bool
	var trialEnds pgtype.Timestamptz
	err := s.queryRow(ctx, false, accessQuery, []any{orgID, principalID}, &a.Scheme, &a.Edition, &a.TrialEdition, &trialEnds, &a.Archived, &roleID, &kind, &external)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Access{}, store.ErrOrganizationNotFound
	case err != nil:
		return store.Access{}, s.fail(ctx, err, "access to organization %q", orgID)
	case !roleID.Valid:
		return store.Access{}, store.ErrMemberNotFound
	}
	a.TrialEndsAt = tsOut(trialEnds)
	a.Role, a.Kind, a.External = roleID.String, org.Kind(kind.Int16), external.Bool
	return a, nil
}

// scopeAccessQuery reads what ScopeAccess needs in one statement: no row
// when the organization does not exist, NULL member columns when the
// principal is not a member, a NULL scope ID when the resource does not
// exist, a NULL scope role when the principal holds none there, and a NULL
// custom role ID when its role is no custom role of the resource. (A
// scope member's role is not COLLATE "C", a custom role's ID is: the
// comparison says which.)
const scopeAccessQuery = `SELECT o.scheme, o.edition, o.trial_edition, o.trial_ends_at, o.archived, m.role, m.kind, m.external,
		s.id, sm.role, r.id, r.capabilities
	FROM orgauthz.organizations o
	LEFT JOIN orgauthz.members m ON m.org_id = o.id AND m.principal_id = $2
	LEFT JOIN orgauthz.scopes s ON s.org_id = o.id AND s.kind = $3 AND s.id = $4
	LEFT JOIN orgauthz.scope_members sm ON sm.org_id = s.org_id AND sm.kind = s.kind AND sm.scope_id = s.id AND sm.principal_id = $2
	LEFT JOIN orgauthz.scope_roles r ON r.org_id = s.org_id AND r.kind = s.kind AND r.scope_id = s.id AND r.id = sm.role COLLATE "C"
	WHERE o.id = $1`

// ScopeAccess returns what a scope permission check needs; see
// store.Store and, for the cache it answers from, the package
// documentation. A miss of the cache is one statement. A missing
// organization or member is store.ErrOrganizationNotFound or
// store.ErrMemberNotFound itself, unwrapped, and a cached answer is
// returned as it is kept, its Capabilities shared read-only, so that a
// hit allocates nothing.
func (s *Store) ScopeAccess(ctx context.Context, orgID, principalID, kind, scopeID string) (store.ScopeAccess, error) {
	if s.closed.Load() {
		return store.ScopeAccess{}, errClosed("access to %s %q of organization %q", kind, scopeID, orgID)
	}
	if err := ctx.Err(); err != nil {
		return store.ScopeAccess{}, err
	}
	c := s.cache
	if c == nil {
		return s.readScopeAccess(ctx, orgID, principalID, kind, scopeID)
	}
	k := scopeKey{principal: principalID, kind: kind, id: scopeID}
	if a, err, ok := c.getScope(orgID, k); ok {
		return a, err
	}
	tk := c.ticket(orgID)
	a, err := s.readScopeAccess(ctx, orgID, principalID, kind, scopeID)
	if err == nil || err == store.ErrOrganizationNotFound || err == store.ErrMemberNotFound {
		c.putScope(tk, k, a, err)
	}
	return a, err
}

// readScopeAccess reads ScopeAccess from the database.
func (s *Store) readScopeAccess(ctx context.Context, orgID, principalID, kind, scopeID string) (store.ScopeAccess, error) {
	var a store.ScopeAccess
	o := &a.Access
	var roleID, scope, scopeRole, custom pgtype.Text
	var mkind pgtype.Int2
	var external pgtype.Bool
	var caps []string
	var trialEnds pgtype.Timestamptz
	err := s.queryRow(ctx, false, scopeAccessQuery, []any{orgID, principalID, kind, scopeID},
		&o.Scheme, &o.Edition, &o.TrialEdition, &trialEnds, &o.Archived, &roleID, &mkind, &external, &scope, &scopeRole, &custom, &caps)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ScopeAccess{}, store.ErrOrganizationNotFound
	case err != nil:
		return store.ScopeAccess{}, s.fail(ctx, err, "access to %s %q of organization %q", kind, scopeID, orgID)
	case !roleID.Valid:
		return store.ScopeAccess{}, store.ErrMemberNotFound
	}
	o.TrialEndsAt = tsOut(trialEnds)
	o.Role, o.Kind, o.External = roleID.String, org.Kind(mkind.Int16), external.Bool
	a.ScopeFound = scope.Valid
	a.ScopeMember, a.ScopeRole = scopeRole.Valid, scopeRole.String
	if custom.Valid {
		a.CustomRole, a.Capabilities = true, capsOut(caps)
	}
	return a, nil
}

// Organizations lists the organizations, ordered by ID; see store.Store.
// Each page is read in a statement of its own.
func (s *Store) Organizations(ctx context.Context, after string) iter.Seq2[org.Organization, error] {
	return poolList(ctx, s, "listing organizations", scanOrg,
		`SELECT `+orgColumns+` FROM orgauthz.organizations WHERE id > $1 ORDER BY id LIMIT 256`,
		func(last *org.Organization) []any {
			if last != nil {
				after = last.ID
			}
			return []any{after}
		})
}

// trialsQuery lists the organizations whose trial ends in [$1, $2), by
// (trial_ends_at, id), past ($3, $4): a range of the partial index
// organizations_trial_ends, whose predicate it repeats as a literal so
// that a generic plan of the prepared statement uses it too.
var trialsQuery = `SELECT ` + orgColumns + ` FROM orgauthz.organizations
	WHERE trial_edition <> '' AND trial_ends_at >= $1 AND trial_ends_at < $2 AND (trial_ends_at, id) > ($3, $4)
	ORDER BY trial_ends_at, id LIMIT 256`

var _ store.TrialLister = (*Store)(nil)

// TrialsEnding lists the organizations whose trial ends in [from, to),
// ordered by (TrialEndsAt, ID), after the cursor, as last committed; see
// store.TrialLister. Its bounds and cursor are truncated to the
// microsecond, as the times they are compared with were when stored (a
// zero bound is before every time). Each page of 256 is read in a
// statement of its own, by the partial index of the organizations on
// trial, so that it costs the same however many have none.
func (s *Store) TrialsEnding(ctx context.Context, from, to time.Time, after store.TrialCursor) iter.Seq2[org.Organization, error] {
	ends, id := trialBound(after.EndsAt), after.ID
	return poolList(ctx, s, "listing trials", scanOrg, trialsQuery,
		func(last *org.Organization) []any {
			if last != nil {
				ends, id = trialBound(last.TrialEndsAt), last.ID
			}
			return []any{trialBound(from), trialBound(to), ends, id}
		})
}

// trialBound is t as a bound of trialsQuery: -infinity when zero (before
// every time) rather than NULL (which compares with none).
func trialBound(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	return tsIn(t)
}

// InvitationToken returns the organization that holds invitation id and
// the invitation's token hash, as last committed; see store.Store. It is
// one statement, which reads the committed row without waiting for a
// running Update of the organization, and it is not cached. An unknown ID
// is store.ErrNotFound itself, unwrapped.
func (s *Store) InvitationToken(ctx context.Context, id string) (store.InvitationToken, error) {
	if s.closed.Load() {
		return store.InvitationToken{}, errClosed("invitation %q", id)
	}
	var it store.InvitationToken
	var hash []byte
	err := s.queryRow(ctx, true, `SELECT org_id, token_hash FROM orgauthz.invitations WHERE id = $1`, []any{id}, &it.OrgID, &hash)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.InvitationToken{}, store.ErrNotFound
	case err != nil:
		return store.InvitationToken{}, s.fail(ctx, err, "invitation %q", id)
	}
	if len(hash) == len(it.Hash) {
		it.Hash, it.HashOK = [len(it.Hash)]byte(hash), true
	}
	return it, nil
}

// keyAccessQuery reads what KeyAccess needs in one statement.
const keyAccessQuery = `SELECT k.org_id, k.owner_id, k.hash, k.scope, k.expires_at, k.revoked_at, k.last_used_at,
		o.scheme, o.edition, o.trial_edition, o.trial_ends_at, o.archived, m.role, m.kind, m.external
	FROM orgauthz.api_keys k
	JOIN orgauthz.organizations o ON o.id = k.org_id
	LEFT JOIN orgauthz.members m ON m.org_id = k.org_id AND m.principal_id = k.owner_id
	WHERE k.id = $1`

// KeyAccess returns what authenticating API key id needs, as last
// committed; see store.Store and, for the cache it answers from unless
// Options.DisableKeyCache, the package documentation. A miss of the cache
// is one statement. An unknown key is store.ErrNotFound itself,
// unwrapped; it is not cached.
func (s *Store) KeyAccess(ctx context.Context, id string) (store.KeyAccess, error) {
	if s.closed.Load() {
		return store.KeyAccess{}, errClosed("API key %q", id)
	}
	if err := ctx.Err(); err != nil {
		return store.KeyAccess{}, err
	}
	c := s.cache
	if c == nil || !c.withKeys {
		return s.readKeyAccess(ctx, id)
	}
	if ka, ok := c.getKey(id); ok {
		return ka, nil
	}
	tk := c.keyTicket()
	ka, err := s.readKeyAccess(ctx, id)
	if err == nil {
		c.putKey(tk, ka)
	}
	return ka, err
}

// readKeyAccess reads KeyAccess from the database.
func (s *Store) readKeyAccess(ctx context.Context, id string) (store.KeyAccess, error) {
	ka := store.KeyAccess{KeyID: id}
	var hash []byte
	var scope []string
	var expires, revoked, used, trialEnds pgtype.Timestamptz
	var roleID pgtype.Text
	var kind pgtype.Int2
	var external pgtype.Bool
	o := &ka.Owner
	err := s.queryRow(ctx, true, keyAccessQuery, []any{id}, &ka.OrgID, &ka.OwnerID, &hash, &scope, &expires, &revoked, &used,
		&o.Scheme, &o.Edition, &o.TrialEdition, &trialEnds, &o.Archived, &roleID, &kind, &external)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.KeyAccess{}, store.ErrNotFound
	case err != nil:
		return store.KeyAccess{}, s.fail(ctx, err, "API key %q", id)
	case len(hash) != len(ka.Hash):
		return store.KeyAccess{}, fmt.Errorf("pgstore: API key %q of organization %q: stored hash is %d bytes long, want %d", id, ka.OrgID, len(hash), len(ka.Hash))
	}
	copy(ka.Hash[:], hash)
	if len(scope) > 0 {
		ka.Scope = capsOut(scope)
	}
	ka.ExpiresAt, ka.RevokedAt, ka.LastUsedAt = tsOut(expires), tsOut(revoked), tsOut(used)
	if roleID.Valid {
		ka.OwnerFound = true
		o.TrialEndsAt = tsOut(trialEnds)
		o.Role, o.Kind, o.External = roleID.String, org.Kind(kind.Int16), external.Bool
	} else {
		ka.Owner = store.Access{}
	}
	return ka, nil
}

// touchQuery sets a key's last use if later, holding its organization's
// row FOR SHARE meanwhile, so that it waits for a running Update of the
// organization (which might write the key back) instead of racing it. It
// yields whether the key exists.
const touchQuery = `WITH o AS (
		SELECT o.id FROM orgauthz.organizations o JOIN orgauthz.api_keys k ON k.org_id = o.id
		WHERE k.id = $1 FOR SHARE OF o
	), u AS (
		UPDATE orgauthz.api_keys k SET last_used_at = $2 FROM o
		WHERE k.id = $1 AND k.org_id = o.id AND (k.last_used_at IS NULL OR k.last_used_at < $2)
	)
	SELECT EXISTS (SELECT FROM o)`

// TouchAPIKey records that key id was used at time t; see store.Store. It
// is one statement, not a transaction of the caller's. It notifies no
// other Store (see the package documentation): their caches answer the
// last use they read, and this Store's, the latest of that and t.
func (s *Store) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	if s.closed.Load() {
		return errClosed("API key %q", id)
	}
	var found bool
	var err error
	if s.replicas == nil {
		err = s.pool.QueryRow(ctx, touchQuery, id, tsIn(t)).Scan(&found)
	} else {
		// The write is a change of this Store's: its position goes with
		// it, for the reads of the standbys.
		b := &pgx.Batch{}
		b.Queue(touchQuery, id, tsIn(t)).QueryRow(func(row pgx.Row) error { return row.Scan(&found) })
		s.noteCommit(b)
		err = s.pool.SendBatch(ctx, b).Close()
	}
	if err != nil {
		return s.fail(ctx, err, "API key %q", id)
	}
	if !found {
		return fmt.Errorf("pgstore: API key %q: %w", id, store.ErrNotFound)
	}
	if c := s.cache; c != nil && c.withKeys {
		// The use is this process's own: its cache must not answer an
		// earlier one.
		if used := tsIn(t); used.Valid {
			c.touched(id, used.Time)
		}
	}
	return nil
}
