package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// tx is the store.Tx of an Update.
//
// A statement that fails aborts a PostgreSQL transaction, so a Tx method
// never lets an expected failure reach the database: it checks first (the
// organization is locked, so what it checked still holds when it writes),
// or writes with ON CONFLICT DO NOTHING and counts the rows. A failure it
// did not expect (a lost connection) leaves the transaction aborted, and
// the Update fails at commit if its function goes on.
type tx struct {
	reader
	// The IDs of invitations and API keys this transaction created, and
	// of the committed ones its DeleteOrganization dropped: until it
	// commits, these are still held, and cannot be created again in it.
	created, dropped map[idKey]bool
}

// idKey is an ID in a store-wide space of IDs.
type idKey struct {
	space string // "invitation" or "API key"
	id    string
}

// heldID returns the ErrExists error of creating ID id of a space if a
// record committed before this transaction holds it, though this
// transaction dropped it.
func (t *tx) heldID(space, id string) error {
	if t.dropped[idKey{space, id}] {
		return fmt.Errorf("pgstore: %s %q: %w (its organization's deletion is not committed)", space, id, store.ErrExists)
	}
	return nil
}

// createdID notes that this transaction created ID id of a space.
func (t *tx) createdID(space, id string) {
	if t.created == nil {
		t.created = make(map[idKey]bool)
	}
	t.created[idKey{space, id}] = true
}

// drop notes the committed IDs of a space that the organization's
// deletion is about to drop.
func (t *tx) drop(ctx context.Context, space, query string) error {
	rows, _ := t.q.Query(ctx, query, t.orgID)
	var id string
	_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
		k := idKey{space, id}
		if !t.created[k] {
			if t.dropped == nil {
				t.dropped = make(map[idKey]bool)
			}
			t.dropped[k] = true
		}
		return nil
	})
	if err != nil {
		return t.fail(ctx, err, "reading the IDs of its %ss", space)
	}
	return nil
}

var _ store.Tx = (*tx)(nil)

// existsErr returns the ErrExists error of a record of this organization.
func (t *tx) existsErr(what string, args ...any) error {
	return fmt.Errorf("pgstore: %s of organization %q: %w", fmt.Sprintf(what, args...), t.orgID, store.ErrExists)
}

// execOne runs a write that must change a row: none's error if it changed
// none (the row was missing, or ON CONFLICT DO NOTHING found it there).
func (t *tx) execOne(ctx context.Context, what string, none func() error, query string, args ...any) error {
	n, err := t.exec(ctx, what, query, args...)
	if err == nil && n == 0 {
		err = none()
	}
	return err
}

// exec runs a write and returns the number of rows it changed.
func (t *tx) exec(ctx context.Context, what string, query string, args ...any) (int64, error) {
	tag, err := t.q.Exec(ctx, query, args...)
	if err != nil {
		return 0, t.fail(ctx, err, "%s", what)
	}
	return tag.RowsAffected(), nil
}

func (t *tx) CreateOrganization(ctx context.Context, o org.Organization) error {
	switch err := t.check(ctx); {
	case err == nil:
		return fmt.Errorf("pgstore: organization %q: %w", t.orgID, store.ErrExists)
	case !errors.Is(err, store.ErrOrganizationNotFound):
		return err
	case o.ID != t.orgID:
		return fmt.Errorf("pgstore: cannot create organization %q in a transaction on organization %q", o.ID, t.orgID)
	}
	_, err := t.exec(ctx, "creating it", `INSERT INTO orgauthz.organizations (`+orgColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		o.ID, o.Name, o.Scheme, o.Edition, o.SeatOverride, o.Settings, o.Archived, tsIn(o.CreatedAt), tsIn(o.UpdatedAt))
	if err == nil {
		t.exists = true
	}
	return err
}

func (t *tx) UpdateOrganization(ctx context.Context, o org.Organization) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if o.ID != t.orgID {
		return fmt.Errorf("pgstore: cannot change the ID of organization %q to %q", t.orgID, o.ID)
	}
	_, err := t.exec(ctx, "updating it", `UPDATE orgauthz.organizations
		SET name = $2, scheme = $3, edition = $4, seat_override = $5, settings = $6, archived = $7, created_at = $8, updated_at = $9
		WHERE id = $1`,
		o.ID, o.Name, o.Scheme, o.Edition, o.SeatOverride, o.Settings, o.Archived, tsIn(o.CreatedAt), tsIn(o.UpdatedAt))
	return err
}

func (t *tx) DeleteOrganization(ctx context.Context) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if err := t.drop(ctx, "invitation", `SELECT id FROM orgauthz.invitations WHERE org_id = $1`); err != nil {
		return err
	}
	if err := t.drop(ctx, "API key", `SELECT id FROM orgauthz.api_keys WHERE org_id = $1`); err != nil {
		return err
	}
	// Everything in it goes with it: ON DELETE CASCADE.
	_, err := t.exec(ctx, "deleting it", `DELETE FROM orgauthz.organizations WHERE id = $1`, t.orgID)
	if err == nil {
		t.exists = false
	}
	return err
}

func (t *tx) AddMember(ctx context.Context, m org.Member) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	// ON CONFLICT DO NOTHING stands for every unique index: the primary
	// key, and members_email for a non-empty address.
	n, err := t.exec(ctx, "adding member", `INSERT INTO orgauthz.members (org_id, `+memberColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING`,
		t.orgID, m.PrincipalID, int16(m.Kind), m.Name, m.Role, m.External, m.Email, tsIn(m.JoinedAt))
	switch {
	case err != nil:
		return err
	case n > 0:
		return nil
	case m.Email == "":
		return t.existsErr("member %q", m.PrincipalID)
	}
	// Which one was it?
	isMember, err := t.isMember(ctx, m.PrincipalID)
	switch {
	case err != nil:
		return err
	case isMember:
		return t.existsErr("member %q", m.PrincipalID)
	}
	return t.emailTaken(m.Email)
}

// isMember reports whether principalID is a member.
func (t *tx) isMember(ctx context.Context, principalID string) (bool, error) {
	var ok bool
	if err := t.q.QueryRow(ctx, `SELECT EXISTS (SELECT FROM orgauthz.members WHERE org_id = $1 AND principal_id = $2)`,
		t.orgID, principalID).Scan(&ok); err != nil {
		return false, t.fail(ctx, err, "looking up member %q", principalID)
	}
	return ok, nil
}

// emailTaken returns the ErrExists error of giving a second member the
// address email.
func (t *tx) emailTaken(email string) error {
	return t.existsErr("member with address %q", email)
}

func (t *tx) UpdateMember(ctx context.Context, m org.Member) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	// The row is written only if no other member has its non-empty
	// address, so that index members_email never refuses it (which would
	// abort the transaction): the organization is locked, so what the
	// statement checked still holds when it writes.
	n, err := t.exec(ctx, "updating member", `UPDATE orgauthz.members SET kind = $3, name = $4, role = $5, external = $6, email = $7, joined_at = $8
		WHERE org_id = $1 AND principal_id = $2
		AND ($7 = '' OR NOT EXISTS (
			SELECT FROM orgauthz.members o WHERE o.org_id = $1 AND o.email = $7 AND o.email <> '' AND o.principal_id <> $2))`,
		t.orgID, m.PrincipalID, int16(m.Kind), m.Name, m.Role, m.External, m.Email, tsIn(m.JoinedAt))
	switch {
	case err != nil:
		return err
	case n > 0:
		return nil
	case m.Email == "":
		return memberNotFound(t.orgID, m.PrincipalID)
	}
	// Which one was it? A missing member comes first.
	isMember, err := t.isMember(ctx, m.PrincipalID)
	switch {
	case err != nil:
		return err
	case !isMember:
		return memberNotFound(t.orgID, m.PrincipalID)
	}
	return t.emailTaken(m.Email)
}

func (t *tx) RemoveMember(ctx context.Context, principalID string) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	return t.execOne(ctx, "removing member", func() error { return memberNotFound(t.orgID, principalID) },
		`DELETE FROM orgauthz.members WHERE org_id = $1 AND principal_id = $2`, t.orgID, principalID)
}

func (t *tx) CreateScope(ctx context.Context, s org.Scope) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	return t.execOne(ctx, "creating scope", func() error { return t.existsErr("scope %s/%s", s.Kind, s.ID) },
		`INSERT INTO orgauthz.scopes (org_id, `+scopeColumns+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT DO NOTHING`,
		t.orgID, s.Kind, s.ID, s.Name, s.CreatedBy, tsIn(s.CreatedAt))
}

func (t *tx) DeleteScope(ctx context.Context, kind, id string) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	// Its members and custom roles go with it: ON DELETE CASCADE.
	return t.execOne(ctx, "deleting scope", func() error { return t.scopeNotFound(kind, id) },
		`DELETE FROM orgauthz.scopes WHERE org_id = $1 AND kind = $2 AND id = $3`, t.orgID, kind, id)
}

// scopeExists is the condition of an INSERT ... SELECT that writes only
// into an existing scope ($1 organization, $2 kind, $3 scope ID).
const scopeExists = `EXISTS (SELECT FROM orgauthz.scopes WHERE org_id = $1 AND kind = $2 AND id = $3)`

func (t *tx) PutScopeMember(ctx context.Context, m org.ScopeMember) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	return t.execOne(ctx, "putting scope member", func() error { return t.scopeNotFound(m.Kind, m.ScopeID) },
		`INSERT INTO orgauthz.scope_members (org_id, `+scopeMemberColumns+`)
		SELECT $1, $2, $3, $4, $5, $6 WHERE `+scopeExists+`
		ON CONFLICT (org_id, kind, scope_id, principal_id) DO UPDATE SET role = excluded.role, added_at = excluded.added_at`,
		t.orgID, m.Kind, m.ScopeID, m.PrincipalID, m.Role, tsIn(m.AddedAt))
}

func (t *tx) RemoveScopeMember(ctx context.Context, kind, scopeID, principalID string) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	return t.execOne(ctx, "removing scope member", func() error { return t.notFound("member %q of scope %s/%s", principalID, kind, scopeID) },
		`DELETE FROM orgauthz.scope_members WHERE org_id = $1 AND kind = $2 AND scope_id = $3 AND principal_id = $4`,
		t.orgID, kind, scopeID, principalID)
}

func (t *tx) PutScopeRole(ctx context.Context, r org.ScopeRole) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	return t.execOne(ctx, "putting scope role", func() error { return t.scopeNotFound(r.Kind, r.ScopeID) },
		`INSERT INTO orgauthz.scope_roles (org_id, `+scopeRoleColumns+`)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE `+scopeExists+`
		ON CONFLICT (org_id, kind, scope_id, id) DO UPDATE
		SET name = excluded.name, capabilities = excluded.capabilities, created_by = excluded.created_by, created_at = excluded.created_at`,
		t.orgID, r.Kind, r.ScopeID, r.ID, r.Name, capsIn(r.Capabilities), r.CreatedBy, tsIn(r.CreatedAt))
}

func (t *tx) DeleteScopeRole(ctx context.Context, kind, scopeID, roleID string) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	return t.execOne(ctx, "deleting scope role", func() error { return t.notFound("role %q of scope %s/%s", roleID, kind, scopeID) },
		`DELETE FROM orgauthz.scope_roles WHERE org_id = $1 AND kind = $2 AND scope_id = $3 AND id = $4`,
		t.orgID, kind, scopeID, roleID)
}

func (t *tx) AppendAudit(ctx context.Context, e org.AuditEvent) (int64, error) {
	if err := t.check(ctx); err != nil {
		return 0, err
	}
	// The organization is locked: no one else appends meanwhile.
	var seq int64
	err := t.q.QueryRow(ctx, `INSERT INTO orgauthz.audit (org_id, seq, time, actor, action, target, role_before, role_after, detail)
		SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5, $6, $7, $8 FROM orgauthz.audit WHERE org_id = $1
		RETURNING seq`,
		t.orgID, tsIn(e.Time), e.Actor, e.Action, e.Target, e.RoleBefore, e.RoleAfter, e.Detail).Scan(&seq)
	if err != nil {
		return 0, t.fail(ctx, err, "appending audit event")
	}
	return seq, nil
}

// pendingTaken reports whether another invitation than id of the
// organization is Pending for address email.
func (t *tx) pendingTaken(ctx context.Context, email, id string) (bool, error) {
	var taken bool
	err := t.q.QueryRow(ctx, `SELECT EXISTS (SELECT FROM orgauthz.invitations WHERE org_id = $1 AND email = $2 AND status = $3 AND id <> $4)`,
		t.orgID, email, int16(invite.Pending), id).Scan(&taken)
	if err != nil {
		return false, t.fail(ctx, err, "looking up pending invitations")
	}
	return taken, nil
}

func (t *tx) pendingExists(email string) error {
	return fmt.Errorf("pgstore: pending invitation to %q in organization %q: %w", email, t.orgID, store.ErrExists)
}

func (t *tx) CreateInvitation(ctx context.Context, inv invite.Invitation) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if err := t.heldID("invitation", inv.ID); err != nil {
		return err
	}
	if inv.Status == invite.Pending {
		if taken, err := t.pendingTaken(ctx, inv.Email, inv.ID); err != nil || taken {
			if err == nil {
				err = t.pendingExists(inv.Email)
			}
			return err
		}
	}
	// The ID is the primary key, across the store: of two transactions
	// inserting one ID, the second waits for the first and inserts
	// nothing if it commits.
	n, err := t.exec(ctx, "creating invitation", `INSERT INTO orgauthz.invitations (org_id, `+invitationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT DO NOTHING`,
		t.orgID, inv.ID, inv.Email, inv.Role, int16(inv.Status), inv.TokenHash, inv.InvitedBy,
		tsIn(inv.CreatedAt), tsIn(inv.ExpiresAt), tsIn(inv.UpdatedAt), inv.AcceptedBy, inv.DeclinedBy, inv.Sends)
	switch {
	case err != nil:
		return err
	case n == 0:
		return fmt.Errorf("pgstore: invitation %q: %w", inv.ID, store.ErrExists)
	}
	t.createdID("invitation", inv.ID)
	return nil
}

func (t *tx) UpdateInvitation(ctx context.Context, inv invite.Invitation) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if inv.Status == invite.Pending {
		if taken, err := t.pendingTaken(ctx, inv.Email, inv.ID); err != nil || taken {
			if err == nil {
				err = t.pendingExists(inv.Email)
			}
			return err
		}
	}
	return t.execOne(ctx, "updating invitation", func() error { return t.invitationNotFound(inv.ID) },
		`UPDATE orgauthz.invitations
		SET email = $3, role = $4, status = $5, token_hash = $6, invited_by = $7, created_at = $8, expires_at = $9, updated_at = $10,
			accepted_by = $11, declined_by = $12, sends = $13
		WHERE org_id = $1 AND id = $2`,
		t.orgID, inv.ID, inv.Email, inv.Role, int16(inv.Status), inv.TokenHash, inv.InvitedBy,
		tsIn(inv.CreatedAt), tsIn(inv.ExpiresAt), tsIn(inv.UpdatedAt), inv.AcceptedBy, inv.DeclinedBy, inv.Sends)
}

func (t *tx) CreateAPIKey(ctx context.Context, k apikey.Key) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if err := t.heldID("API key", k.ID); err != nil {
		return err
	}
	n, err := t.exec(ctx, "creating API key", `INSERT INTO orgauthz.api_keys (org_id, `+keyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT DO NOTHING`,
		t.orgID, k.ID, k.Name, k.OwnerID, capsIn(k.Scope), k.Hash, k.Display, k.CreatedBy,
		tsIn(k.CreatedAt), tsIn(k.ExpiresAt), tsIn(k.RevokedAt), tsIn(k.LastUsedAt))
	switch {
	case err != nil:
		return err
	case n == 0:
		return fmt.Errorf("pgstore: API key %q: %w", k.ID, store.ErrExists)
	}
	t.createdID("API key", k.ID)
	return nil
}

func (t *tx) UpdateAPIKey(ctx context.Context, k apikey.Key) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	return t.execOne(ctx, "updating API key", func() error { return t.keyNotFound(k.ID) },
		`UPDATE orgauthz.api_keys
		SET name = $3, owner_id = $4, scope = $5, hash = $6, display = $7, created_by = $8, created_at = $9, expires_at = $10, revoked_at = $11, last_used_at = $12
		WHERE org_id = $1 AND id = $2`,
		t.orgID, k.ID, k.Name, k.OwnerID, capsIn(k.Scope), k.Hash, k.Display, k.CreatedBy,
		tsIn(k.CreatedAt), tsIn(k.ExpiresAt), tsIn(k.RevokedAt), tsIn(k.LastUsedAt))
}
