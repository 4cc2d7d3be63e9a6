package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

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
// or writes with ON CONFLICT DO NOTHING and counts the rows. Where what it
// has read already tells it the write succeeds (see pipe.go), it queues
// the write for the next batch instead of sending it. A failure it did
// not expect (a lost connection) leaves the transaction aborted, and the
// Update fails at commit if its function goes on.
type tx struct {
	reader
	// seq is the organization's last audit sequence number.
	seq int64
	// The IDs of invitations and API keys this transaction created, and
	// of the committed ones its DeleteOrganization dropped: until it
	// commits, these are still held, and cannot be created again in it.
	created, dropped map[idKey]bool
	// dropPending: the reads of the dropped IDs are queued, not sent.
	dropPending bool
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

// dropIDs queues, ahead of the organization's deletion, the reads of the
// committed IDs of its invitations and API keys, which the deletion is
// about to drop: they go with the DELETE, at no round trip of their own.
// A creation in the same transaction flushes them first (see
// flushDropped).
func (t *tx) dropIDs() {
	for _, q := range []struct{ space, query string }{
		{"invitation", `SELECT id FROM orgauthz.invitations WHERE org_id = $1`},
		{"API key", `SELECT id FROM orgauthz.api_keys WHERE org_id = $1`},
	} {
		t.p.queue = append(t.p.queue, queued{sql: q.query, args: []any{t.orgID}, read: func(rows pgx.Rows) error {
			var id string
			_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
				k := idKey{q.space, id}
				if !t.created[k] {
					if t.dropped == nil {
						t.dropped = make(map[idKey]bool)
					}
					t.dropped[k] = true
				}
				return nil
			})
			return err
		}})
	}
	t.dropPending = true
}

// flushDropped sends the reads dropIDs queued, if they are still queued,
// so that heldID knows the IDs.
func (t *tx) flushDropped(ctx context.Context) error {
	if !t.dropPending {
		return nil
	}
	t.dropPending = false
	if err := t.p.flush(ctx); err != nil {
		return t.fail(ctx, err, "reading the IDs of its invitations and API keys")
	}
	return nil
}

// recalled returns the record the memo holds under key, and whether it
// holds one (found or not).
func (t *tx) recalled(key string) (v any, found, known bool) {
	e, ok := t.p.recall(key)
	return e.v, e.found, ok
}

// knownFound reports whether the memo says the record under key exists;
// knownMissing, that it does not.
func (t *tx) knownFound(key string) bool {
	_, found, known := t.recalled(key)
	return known && found
}

func (t *tx) knownMissing(key string) bool {
	_, found, known := t.recalled(key)
	return known && !found
}

// queue queues a write that must change one row; the memo said it will.
// The arguments are copied (maps and slices), so that the caller may
// change what it passed in before the write is sent.
func (t *tx) queue(query string, args ...any) {
	for i, a := range args {
		switch x := a.(type) {
		case []byte:
			args[i] = bytes.Clone(x)
		case []string:
			args[i] = slices.Clone(x)
		case map[string]string:
			args[i] = maps.Clone(x)
		}
	}
	t.p.enqueue(1, query, args...)
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

// exec runs a write (after the queue, in one round trip) and returns the
// number of rows it changed.
func (t *tx) exec(ctx context.Context, what string, query string, args ...any) (int64, error) {
	n, err := t.p.exec(ctx, query, args...)
	if err != nil {
		return 0, t.fail(ctx, err, "%s", what)
	}
	return n, nil
}

const (
	insertOrgSQL = `INSERT INTO orgauthz.organizations (` + orgColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
	updateOrgSQL = `UPDATE orgauthz.organizations
		SET name = $2, scheme = $3, edition = $4, trial_edition = $5, trial_started_at = $6, trial_ends_at = $7, seat_override = $8, settings = $9,
			archived = $10, created_at = $11, updated_at = $12
		WHERE id = $1`
)

func (t *tx) CreateOrganization(ctx context.Context, o org.Organization) error {
	switch err := t.check(ctx); {
	case err == nil:
		return fmt.Errorf("pgstore: organization %q: %w", t.orgID, store.ErrExists)
	case !errors.Is(err, store.ErrOrganizationNotFound):
		return err
	case o.ID != t.orgID:
		return fmt.Errorf("pgstore: cannot create organization %q in a transaction on organization %q", o.ID, t.orgID)
	}
	// The organization is locked (by its ID, having no row): no one else
	// creates it meanwhile.
	t.queue(insertOrgSQL,
		o.ID, o.Name, o.Scheme, o.Edition, o.TrialEdition, tsIn(o.TrialStartedAt), tsIn(o.TrialEndsAt), o.SeatOverride, o.Settings, o.Archived, tsIn(o.CreatedAt), tsIn(o.UpdatedAt))
	t.exists = true
	t.p.remember(recordKey(orgQuery, t.orgID), copyOut(o), true)
	return nil
}

func (t *tx) UpdateOrganization(ctx context.Context, o org.Organization) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if o.ID != t.orgID {
		return fmt.Errorf("pgstore: cannot change the ID of organization %q to %q", t.orgID, o.ID)
	}
	t.queue(updateOrgSQL,
		o.ID, o.Name, o.Scheme, o.Edition, o.TrialEdition, tsIn(o.TrialStartedAt), tsIn(o.TrialEndsAt), o.SeatOverride, o.Settings, o.Archived, tsIn(o.CreatedAt), tsIn(o.UpdatedAt))
	t.p.remember(recordKey(orgQuery, t.orgID), copyOut(o), true)
	return nil
}

const deleteOrgSQL = `DELETE FROM orgauthz.organizations WHERE id = $1`

func (t *tx) DeleteOrganization(ctx context.Context) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	t.dropIDs()
	// Everything in it goes with it: ON DELETE CASCADE.
	t.queue(deleteOrgSQL, t.orgID)
	t.exists, t.seq = false, 0
	t.p.forgetAll()
	return nil
}

const (
	insertMemberSQL = `INSERT INTO orgauthz.members (org_id, ` + memberColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	updateMemberSQL = `UPDATE orgauthz.members SET kind = $3, name = $4, role = $5, external = $6, email = $7, joined_at = $8
		WHERE org_id = $1 AND principal_id = $2`
)

// emailFree reports whether the memo says no member but principalID has
// address email.
func (t *tx) emailFree(email, principalID string) bool {
	v, found, known := t.recalled(t.emailKey(email))
	return known && (!found || v.(org.Member).PrincipalID == principalID)
}

// memberWritten updates the memo after a member's record changed from
// before (nil: none) to after (nil: removed).
func (t *tx) memberWritten(principalID string, before, after *org.Member) {
	if before != nil && before.Email != "" {
		t.p.remember(t.emailKey(before.Email), nil, false)
	}
	if after != nil {
		t.p.remember(t.memberKey(principalID), *after, true)
		if after.Email != "" {
			t.p.remember(t.emailKey(after.Email), *after, true)
		}
	} else {
		t.p.remember(t.memberKey(principalID), nil, false)
	}
	t.p.forget("members", "member_counts")
}

// knownMember returns the member record the memo holds, if it holds that
// the principal is a member.
func (t *tx) knownMember(principalID string) (org.Member, bool) {
	v, found, known := t.recalled(t.memberKey(principalID))
	if !known || !found {
		return org.Member{}, false
	}
	return v.(org.Member), true
}

func (t *tx) AddMember(ctx context.Context, m org.Member) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	args := []any{t.orgID, m.PrincipalID, int16(m.Kind), m.Name, m.Role, m.External, m.Email, tsIn(m.JoinedAt)}
	if t.knownMissing(t.memberKey(m.PrincipalID)) && (m.Email == "" || t.emailFree(m.Email, m.PrincipalID)) {
		t.queue(insertMemberSQL, args...)
		t.memberWritten(m.PrincipalID, nil, &m)
		return nil
	}
	// ON CONFLICT DO NOTHING stands for every unique index: the primary
	// key, and members_email for a non-empty address.
	n, err := t.exec(ctx, "adding member", insertMemberSQL+` ON CONFLICT DO NOTHING`, args...)
	switch {
	case err != nil:
		return err
	case n > 0:
		t.memberWritten(m.PrincipalID, nil, &m)
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
	err := t.p.query(ctx, `SELECT EXISTS (SELECT FROM orgauthz.members WHERE org_id = $1 AND principal_id = $2)`,
		[]any{t.orgID, principalID}, func(rows pgx.Rows) error {
			_, err := pgx.ForEachRow(rows, []any{&ok}, func() error { return nil })
			return err
		})
	if err != nil {
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
	args := []any{t.orgID, m.PrincipalID, int16(m.Kind), m.Name, m.Role, m.External, m.Email, tsIn(m.JoinedAt)}
	if old, ok := t.knownMember(m.PrincipalID); ok && (m.Email == "" || m.Email == old.Email || t.emailFree(m.Email, m.PrincipalID)) {
		t.queue(updateMemberSQL, args...)
		t.memberWritten(m.PrincipalID, &old, &m)
		return nil
	}
	old, hadOld := t.knownMember(m.PrincipalID)
	// The row is written only if no other member has its non-empty
	// address, so that index members_email never refuses it (which would
	// abort the transaction): the organization is locked, so what the
	// statement checked still holds when it writes.
	n, err := t.exec(ctx, "updating member", updateMemberSQL+`
		AND ($7 = '' OR NOT EXISTS (
			SELECT FROM orgauthz.members o WHERE o.org_id = $1 AND o.email = $7 AND o.email <> '' AND o.principal_id <> $2))`,
		args...)
	switch {
	case err != nil:
		return err
	case n > 0:
		if hadOld {
			t.memberWritten(m.PrincipalID, &old, &m)
		} else {
			// The address it had is not known: forget every address.
			t.p.forgetRecords("members")
			t.memberWritten(m.PrincipalID, nil, &m)
		}
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

const deleteMemberSQL = `DELETE FROM orgauthz.members WHERE org_id = $1 AND principal_id = $2`

func (t *tx) RemoveMember(ctx context.Context, principalID string) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if old, ok := t.knownMember(principalID); ok {
		t.queue(deleteMemberSQL, t.orgID, principalID)
		t.memberWritten(principalID, &old, nil)
		return nil
	}
	err := t.execOne(ctx, "removing member", func() error { return memberNotFound(t.orgID, principalID) },
		deleteMemberSQL, t.orgID, principalID)
	if err == nil {
		t.p.forgetRecords("members") // its address is not known
		t.memberWritten(principalID, nil, nil)
	}
	return err
}

// scopeExists reports whether the memo says scope (kind, id) exists.
func (t *tx) scopeExists(kind, id string) bool {
	return t.knownFound(t.scopeKey(kind, id)) || t.knownFound(t.scopeFact(kind, id))
}

const insertScopeSQL = `INSERT INTO orgauthz.scopes (org_id, ` + scopeColumns + `) VALUES ($1, $2, $3, $4, $5, $6)`

func (t *tx) CreateScope(ctx context.Context, s org.Scope) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	args := []any{t.orgID, s.Kind, s.ID, s.Name, s.CreatedBy, tsIn(s.CreatedAt)}
	if t.knownMissing(t.scopeKey(s.Kind, s.ID)) {
		t.queue(insertScopeSQL, args...)
	} else if err := t.execOne(ctx, "creating scope", func() error { return t.existsErr("scope %s/%s", s.Kind, s.ID) },
		insertScopeSQL+` ON CONFLICT DO NOTHING`, args...); err != nil {
		return err
	}
	t.p.remember(t.scopeKey(s.Kind, s.ID), s, true)
	t.p.forget("scopes")
	return nil
}

const deleteScopeSQL = `DELETE FROM orgauthz.scopes WHERE org_id = $1 AND kind = $2 AND id = $3`

func (t *tx) DeleteScope(ctx context.Context, kind, id string) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	// Its members and custom roles go with it: ON DELETE CASCADE.
	if t.scopeExists(kind, id) {
		t.queue(deleteScopeSQL, t.orgID, kind, id)
	} else if err := t.execOne(ctx, "deleting scope", func() error { return t.scopeNotFound(kind, id) },
		deleteScopeSQL, t.orgID, kind, id); err != nil {
		return err
	}
	t.p.forgetRecords("scope_members", "scope_roles")
	t.p.forget("scopes")
	t.p.remember(t.scopeKey(kind, id), nil, false)
	return nil
}

// scopeExistsSQL is the condition of an INSERT ... SELECT that writes only
// into an existing scope ($1 organization, $2 kind, $3 scope ID).
const scopeExistsSQL = `EXISTS (SELECT FROM orgauthz.scopes WHERE org_id = $1 AND kind = $2 AND id = $3)`

const putScopeMemberSQL = `INSERT INTO orgauthz.scope_members (org_id, ` + scopeMemberColumns + `)
		SELECT $1, $2, $3, $4, $5, $6 WHERE ` + scopeExistsSQL + `
		ON CONFLICT (org_id, kind, scope_id, principal_id) DO UPDATE SET role = excluded.role, added_at = excluded.added_at`

func (t *tx) PutScopeMember(ctx context.Context, m org.ScopeMember) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	args := []any{t.orgID, m.Kind, m.ScopeID, m.PrincipalID, m.Role, tsIn(m.AddedAt)}
	if t.scopeExists(m.Kind, m.ScopeID) {
		t.queue(putScopeMemberSQL, args...)
	} else if err := t.execOne(ctx, "putting scope member", func() error { return t.scopeNotFound(m.Kind, m.ScopeID) },
		putScopeMemberSQL, args...); err != nil {
		return err
	}
	t.p.remember(t.scopeMemberKey(m.Kind, m.ScopeID, m.PrincipalID), m, true)
	t.p.remember(t.scopeFact(m.Kind, m.ScopeID), nil, true)
	t.p.forget("scope_members")
	return nil
}

const deleteScopeMemberSQL = `DELETE FROM orgauthz.scope_members WHERE org_id = $1 AND kind = $2 AND scope_id = $3 AND principal_id = $4`

func (t *tx) RemoveScopeMember(ctx context.Context, kind, scopeID, principalID string) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if t.knownFound(t.scopeMemberKey(kind, scopeID, principalID)) {
		t.queue(deleteScopeMemberSQL, t.orgID, kind, scopeID, principalID)
	} else if err := t.execOne(ctx, "removing scope member", func() error { return t.notFound("member %q of scope %s/%s", principalID, kind, scopeID) },
		deleteScopeMemberSQL, t.orgID, kind, scopeID, principalID); err != nil {
		return err
	}
	t.p.remember(t.scopeMemberKey(kind, scopeID, principalID), nil, false)
	t.p.forget("scope_members")
	return nil
}

const putScopeRoleSQL = `INSERT INTO orgauthz.scope_roles (org_id, ` + scopeRoleColumns + `)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE ` + scopeExistsSQL + `
		ON CONFLICT (org_id, kind, scope_id, id) DO UPDATE
		SET name = excluded.name, capabilities = excluded.capabilities, created_by = excluded.created_by, created_at = excluded.created_at`

func (t *tx) PutScopeRole(ctx context.Context, r org.ScopeRole) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	args := []any{t.orgID, r.Kind, r.ScopeID, r.ID, r.Name, capsIn(r.Capabilities), r.CreatedBy, tsIn(r.CreatedAt)}
	if t.scopeExists(r.Kind, r.ScopeID) {
		t.queue(putScopeRoleSQL, args...)
	} else if err := t.execOne(ctx, "putting scope role", func() error { return t.scopeNotFound(r.Kind, r.ScopeID) },
		putScopeRoleSQL, args...); err != nil {
		return err
	}
	t.p.remember(t.scopeRoleKey(r.Kind, r.ScopeID, r.ID), copyOut(r), true)
	t.p.remember(t.scopeFact(r.Kind, r.ScopeID), nil, true)
	t.p.forget("scope_roles")
	return nil
}

const deleteScopeRoleSQL = `DELETE FROM orgauthz.scope_roles WHERE org_id = $1 AND kind = $2 AND scope_id = $3 AND id = $4`

func (t *tx) DeleteScopeRole(ctx context.Context, kind, scopeID, roleID string) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if t.knownFound(t.scopeRoleKey(kind, scopeID, roleID)) {
		t.queue(deleteScopeRoleSQL, t.orgID, kind, scopeID, roleID)
	} else if err := t.execOne(ctx, "deleting scope role", func() error { return t.notFound("role %q of scope %s/%s", roleID, kind, scopeID) },
		deleteScopeRoleSQL, t.orgID, kind, scopeID, roleID); err != nil {
		return err
	}
	t.p.remember(t.scopeRoleKey(kind, scopeID, roleID), nil, false)
	t.p.forget("scope_roles")
	return nil
}

const insertAuditSQL = `INSERT INTO orgauthz.audit (org_id, seq, time, actor, action, target, role_before, role_after, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

func (t *tx) AppendAudit(ctx context.Context, e org.AuditEvent) (int64, error) {
	if err := t.check(ctx); err != nil {
		return 0, err
	}
	// The organization is locked: no one else appends meanwhile, and the
	// last sequence number was read when the transaction began.
	t.seq++
	t.queue(insertAuditSQL,
		t.orgID, t.seq, tsIn(e.Time), e.Actor, e.Action, e.Target, e.RoleBefore, e.RoleAfter, e.Detail)
	t.p.forget("audit")
	return t.seq, nil
}

// pendingTaken reports whether another invitation than id of the
// organization is Pending for address email.
func (t *tx) pendingTaken(ctx context.Context, email, id string) (bool, error) {
	if v, found, known := t.recalled(t.pendingKey(email)); known {
		return found && v.(invite.Invitation).ID != id, nil
	}
	var taken bool
	err := t.p.query(ctx, `SELECT EXISTS (SELECT FROM orgauthz.invitations WHERE org_id = $1 AND email = $2 AND status = $3 AND id <> $4)`,
		[]any{t.orgID, email, int16(invite.Pending), id}, func(rows pgx.Rows) error {
			_, err := pgx.ForEachRow(rows, []any{&taken}, func() error { return nil })
			return err
		})
	if err != nil {
		return false, t.fail(ctx, err, "looking up pending invitations")
	}
	return taken, nil
}

func (t *tx) pendingExists(email string) error {
	return fmt.Errorf("pgstore: pending invitation to %q in organization %q: %w", email, t.orgID, store.ErrExists)
}

// invitationWritten updates the memo after an invitation changed from
// before (nil: none, or not known) to after.
func (t *tx) invitationWritten(before *invite.Invitation, after invite.Invitation) {
	if before != nil && before.Status == invite.Pending {
		t.p.remember(t.pendingKey(before.Email), nil, false)
	}
	if after.Status == invite.Pending {
		t.p.remember(t.pendingKey(after.Email), copyOut(after), true)
	}
	t.p.remember(t.invitationKey(after.ID), copyOut(after), true)
	t.p.forget("invitations")
}

func (t *tx) CreateInvitation(ctx context.Context, inv invite.Invitation) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if err := t.flushDropped(ctx); err != nil {
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
	// The ID is unique across the store (index invitations_id): of two
	// transactions inserting one ID, the second waits for the first and
	// inserts nothing if it commits.
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
	t.invitationWritten(nil, inv)
	return nil
}

const updateInvitationSQL = `UPDATE orgauthz.invitations
		SET email = $3, role = $4, status = $5, token_hash = $6, invited_by = $7, created_at = $8, expires_at = $9, updated_at = $10,
			accepted_by = $11, declined_by = $12, sends = $13
		WHERE org_id = $1 AND id = $2`

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
	args := []any{t.orgID, inv.ID, inv.Email, inv.Role, int16(inv.Status), inv.TokenHash, inv.InvitedBy,
		tsIn(inv.CreatedAt), tsIn(inv.ExpiresAt), tsIn(inv.UpdatedAt), inv.AcceptedBy, inv.DeclinedBy, inv.Sends}
	if v, found, known := t.recalled(t.invitationKey(inv.ID)); known && found {
		old := v.(invite.Invitation)
		t.queue(updateInvitationSQL, args...)
		t.invitationWritten(&old, inv)
		return nil
	}
	if err := t.execOne(ctx, "updating invitation", func() error { return t.invitationNotFound(inv.ID) }, updateInvitationSQL, args...); err != nil {
		return err
	}
	t.p.forgetRecords("invitations") // what it was is not known
	t.invitationWritten(nil, inv)
	return nil
}

func (t *tx) CreateAPIKey(ctx context.Context, k apikey.Key) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if err := t.flushDropped(ctx); err != nil {
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
	t.p.remember(t.keyKey(k.ID), copyOut(k), true)
	t.p.forget("api_keys")
	return nil
}

const updateKeySQL = `UPDATE orgauthz.api_keys
		SET name = $3, owner_id = $4, scope = $5, hash = $6, display = $7, created_by = $8, created_at = $9, expires_at = $10, revoked_at = $11, last_used_at = $12
		WHERE org_id = $1 AND id = $2`

func (t *tx) UpdateAPIKey(ctx context.Context, k apikey.Key) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	args := []any{t.orgID, k.ID, k.Name, k.OwnerID, capsIn(k.Scope), k.Hash, k.Display, k.CreatedBy,
		tsIn(k.CreatedAt), tsIn(k.ExpiresAt), tsIn(k.RevokedAt), tsIn(k.LastUsedAt)}
	if t.knownFound(t.keyKey(k.ID)) {
		t.queue(updateKeySQL, args...)
	} else if err := t.execOne(ctx, "updating API key", func() error { return t.keyNotFound(k.ID) }, updateKeySQL, args...); err != nil {
		return err
	}
	t.p.remember(t.keyKey(k.ID), copyOut(k), true)
	t.p.forget("api_keys")
	return nil
}

// CreateInvitations creates invs, each as CreateInvitation would, in one
// round trip for the checks (the IDs, across the store; the addresses'
// pending invitations) and one statement queued for the writes; see
// store.BulkCreator.
func (t *tx) CreateInvitations(ctx context.Context, invs []invite.Invitation) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if len(invs) == 0 {
		return nil
	}
	if err := t.flushDropped(ctx); err != nil {
		return err
	}
	ids := make([]string, len(invs))
	var emails []string
	seenID := make(map[string]bool, len(invs))
	seenEmail := map[string]bool{}
	for i, inv := range invs {
		if err := t.heldID("invitation", inv.ID); err != nil {
			return err
		}
		if seenID[inv.ID] {
			return fmt.Errorf("pgstore: invitation %q: %w", inv.ID, store.ErrExists)
		}
		seenID[inv.ID] = true
		ids[i] = inv.ID
		if inv.Status == invite.Pending {
			if seenEmail[inv.Email] {
				return t.pendingExists(inv.Email)
			}
			seenEmail[inv.Email] = true
			if v, found, known := t.recalled(t.pendingKey(inv.Email)); known {
				if found && v.(invite.Invitation).ID != inv.ID {
					return t.pendingExists(inv.Email)
				}
				continue
			}
			emails = append(emails, inv.Email)
		}
	}
	// The IDs in use anywhere, and the addresses pending here.
	var taken, pending []string
	b := &pgx.Batch{}
	b.Queue(`SELECT id FROM orgauthz.invitations WHERE id = ANY($1)`, ids).Query(func(rows pgx.Rows) error {
		var id string
		_, err := pgx.ForEachRow(rows, []any{&id}, func() error { taken = append(taken, id); return nil })
		return err
	})
	if len(emails) > 0 {
		b.Queue(`SELECT email FROM orgauthz.invitations WHERE org_id = $1 AND status = $2 AND email = ANY($3)`,
			t.orgID, int16(invite.Pending), emails).Query(func(rows pgx.Rows) error {
			var e string
			_, err := pgx.ForEachRow(rows, []any{&e}, func() error { pending = append(pending, e); return nil })
			return err
		})
	}
	if err := t.p.send(ctx, b); err != nil {
		return t.fail(ctx, err, "looking up invitations")
	}
	if len(taken) > 0 {
		return fmt.Errorf("pgstore: invitation %q: %w", taken[0], store.ErrExists)
	}
	if len(pending) > 0 {
		return t.pendingExists(pending[0])
	}
	n := len(invs)
	idCol, emailCol, roleCol, byCol, acceptedCol, declinedCol := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	statuses, hashes, sends := make([]int16, n), make([][]byte, n), make([]int32, n)
	created, expires, updated := make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
	for i, inv := range invs {
		idCol[i], emailCol[i], roleCol[i], byCol[i], acceptedCol[i], declinedCol[i] = inv.ID, inv.Email, inv.Role, inv.InvitedBy, inv.AcceptedBy, inv.DeclinedBy
		statuses[i], hashes[i], sends[i] = int16(inv.Status), bytes.Clone(inv.TokenHash), int32(inv.Sends)
		created[i], expires[i], updated[i] = tsIn(inv.CreatedAt), tsIn(inv.ExpiresAt), tsIn(inv.UpdatedAt)
	}
	t.p.enqueue(int64(len(invs)), `INSERT INTO orgauthz.invitations (org_id, `+invitationColumns+`)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int2[], $6::bytea[], $7::text[],
			$8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::text[], $13::int4[])`,
		t.orgID, idCol, emailCol, roleCol, statuses, hashes, byCol, created, expires, updated, acceptedCol, declinedCol, sends)
	for _, inv := range invs {
		t.createdID("invitation", inv.ID)
		t.invitationWritten(nil, inv)
	}
	return nil
}

var _ store.BulkCreator = (*tx)(nil)
