package pgstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

// querier is what reads and writes need of a transaction or a pool.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pageSize is the number of rows a listing reads at a time. A listing
// reads a page, closes its rows, then yields them, so that the caller may
// use the transaction while it ranges.
const pageSize = 256

// reader is the store.Reader of a View, and of an Update through tx.
type reader struct {
	s      *Store
	q      pgx.Tx
	orgID  string
	exists bool // the organization's row exists, as this transaction sees it
	done   bool // the function has returned
}

var _ store.Reader = (*reader)(nil)

// check returns the error of a call that cannot go on: after the function
// returned, after Close, with ctx done, or when the organization does not
// exist.
func (r *reader) check(ctx context.Context) error {
	switch {
	case r.done:
		return errClosed("transaction on organization %q used after its function returned", r.orgID)
	case r.s.closed.Load():
		return errClosed("transaction on organization %q", r.orgID)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !r.exists {
		return orgNotFound(r.orgID)
	}
	return nil
}

func orgNotFound(orgID string) error {
	return fmt.Errorf("pgstore: organization %q: %w", orgID, store.ErrOrganizationNotFound)
}

func memberNotFound(orgID, principalID string) error {
	return fmt.Errorf("pgstore: member %q of organization %q: %w", principalID, orgID, store.ErrMemberNotFound)
}

// fail translates the error of a statement of this transaction.
func (r *reader) fail(ctx context.Context, err error, what string, args ...any) error {
	return r.s.fail(ctx, err, "organization %q: %s", r.orgID, fmt.Sprintf(what, args...))
}

// notFound returns the ErrNotFound error of a record of this organization.
func (r *reader) notFound(what string, args ...any) error {
	return fmt.Errorf("pgstore: %s of organization %q: %w", fmt.Sprintf(what, args...), r.orgID, store.ErrNotFound)
}

// one reads one record with query, scanning it with scan; a missing row is
// notFound's error.
func one[T any](ctx context.Context, r *reader, scan pgx.RowToFunc[T], notFound func() error, query string, args ...any) (T, error) {
	var zero T
	if err := r.check(ctx); err != nil {
		return zero, err
	}
	rows, _ := r.q.Query(ctx, query, args...)
	v, err := pgx.CollectExactlyOneRow(rows, scan)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return zero, notFound()
	case err != nil:
		return zero, r.fail(ctx, err, "reading")
	}
	return v, nil
}

// listing returns a single-use listing that reads pages with query, whose
// arguments after returns for the last record yielded (nil before the
// first page). The query must end with a LIMIT of pageSize.
func listing[T any](ctx context.Context, check func(context.Context) error, q func() querier, scan pgx.RowToFunc[T], fail func(error) error, query string, after func(last *T) []any) iter.Seq2[T, error] {
	var used atomic.Bool
	return func(yield func(T, error) bool) {
		var zero T
		if used.Swap(true) {
			yield(zero, errors.New("pgstore: listing ranged over twice (listings are single use)"))
			return
		}
		var last *T
		for {
			if err := check(ctx); err != nil {
				yield(zero, err)
				return
			}
			rows, _ := q().Query(ctx, query, after(last)...)
			page, err := pgx.CollectRows(rows, scan)
			if err != nil {
				yield(zero, fail(err))
				return
			}
			for i := range page {
				if !yield(page[i], nil) {
					return
				}
			}
			if len(page) < pageSize {
				return
			}
			last = &page[len(page)-1]
		}
	}
}

// list is listing over this transaction.
func list[T any](ctx context.Context, r *reader, scan pgx.RowToFunc[T], query string, after func(last *T) []any) iter.Seq2[T, error] {
	return listing(ctx, r.check, func() querier { return r.q }, scan,
		func(err error) error { return r.fail(ctx, err, "listing") }, query, after)
}

// Times: zero is NULL; others are kept to the microsecond, in UTC.

func tsIn(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t.Truncate(time.Microsecond).UTC(), Valid: true}
}

func tsOut(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// capsIn and capsOut convert capabilities to and from text[], nil to NULL.
func capsIn(cs []role.Capability) []string {
	if cs == nil {
		return nil
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

func capsOut(ss []string) []role.Capability {
	if ss == nil {
		return nil
	}
	out := make([]role.Capability, len(ss))
	for i, s := range ss {
		out[i] = role.Capability(s)
	}
	return out
}

// Organizations.

const orgColumns = `id, name, scheme, edition, seat_override, settings, archived, created_at, updated_at`

func scanOrg(row pgx.CollectableRow) (org.Organization, error) {
	var o org.Organization
	var created, updated pgtype.Timestamptz
	err := row.Scan(&o.ID, &o.Name, &o.Scheme, &o.Edition, &o.SeatOverride, &o.Settings, &o.Archived, &created, &updated)
	o.CreatedAt, o.UpdatedAt = tsOut(created), tsOut(updated)
	return o, err
}

func (r *reader) Organization(ctx context.Context) (org.Organization, error) {
	return one(ctx, r, scanOrg, func() error { return orgNotFound(r.orgID) },
		`SELECT `+orgColumns+` FROM orgauthz.organizations WHERE id = $1`, r.orgID)
}

// Members.

const memberColumns = `principal_id, kind, name, role, external, joined_at`

func scanMember(row pgx.CollectableRow) (org.Member, error) {
	var m org.Member
	var kind int16
	var joined pgtype.Timestamptz
	err := row.Scan(&m.PrincipalID, &kind, &m.Name, &m.Role, &m.External, &joined)
	m.Kind, m.JoinedAt = org.Kind(kind), tsOut(joined)
	return m, err
}

func (r *reader) Member(ctx context.Context, principalID string) (org.Member, error) {
	return one(ctx, r, scanMember, func() error { return memberNotFound(r.orgID, principalID) },
		`SELECT `+memberColumns+` FROM orgauthz.members WHERE org_id = $1 AND principal_id = $2`, r.orgID, principalID)
}

func (r *reader) Members(ctx context.Context, after string) iter.Seq2[org.Member, error] {
	return list(ctx, r, scanMember,
		`SELECT `+memberColumns+` FROM orgauthz.members WHERE org_id = $1 AND principal_id > $2 ORDER BY principal_id LIMIT 256`,
		func(last *org.Member) []any {
			if last != nil {
				after = last.PrincipalID
			}
			return []any{r.orgID, after}
		})
}

func (r *reader) Counts(ctx context.Context) (store.Counts, error) {
	if err := r.check(ctx); err != nil {
		return store.Counts{}, err
	}
	// Triggers keep the counts as members change (migration 2).
	rows, _ := r.q.Query(ctx, `SELECT role, external, n FROM orgauthz.member_counts WHERE org_id = $1 AND n > 0`, r.orgID)
	c := store.Counts{Roles: map[string]int{}}
	var roleID string
	var external bool
	var n int
	_, err := pgx.ForEachRow(rows, []any{&roleID, &external, &n}, func() error {
		if external {
			c.External += n
		} else {
			c.Members += n
		}
		c.Roles[roleID] += n
		return nil
	})
	if err != nil {
		return store.Counts{}, r.fail(ctx, err, "counting members")
	}
	return c, nil
}

// Scopes.

const scopeColumns = `kind, id, name, created_by, created_at`

func scanScope(row pgx.CollectableRow) (org.Scope, error) {
	var s org.Scope
	var created pgtype.Timestamptz
	err := row.Scan(&s.Kind, &s.ID, &s.Name, &s.CreatedBy, &created)
	s.CreatedAt = tsOut(created)
	return s, err
}

func (r *reader) scopeNotFound(kind, id string) error {
	return r.notFound("scope %s/%s", kind, id)
}

func (r *reader) Scope(ctx context.Context, kind, id string) (org.Scope, error) {
	return one(ctx, r, scanScope, func() error { return r.scopeNotFound(kind, id) },
		`SELECT `+scopeColumns+` FROM orgauthz.scopes WHERE org_id = $1 AND kind = $2 AND id = $3`, r.orgID, kind, id)
}

func (r *reader) Scopes(ctx context.Context, kind, after string) iter.Seq2[org.Scope, error] {
	return list(ctx, r, scanScope,
		`SELECT `+scopeColumns+` FROM orgauthz.scopes WHERE org_id = $1 AND kind = $2 AND id > $3 ORDER BY id LIMIT 256`,
		func(last *org.Scope) []any {
			if last != nil {
				after = last.ID
			}
			return []any{r.orgID, kind, after}
		})
}

const scopeMemberColumns = `kind, scope_id, principal_id, role, added_at`

func scanScopeMember(row pgx.CollectableRow) (org.ScopeMember, error) {
	var m org.ScopeMember
	var added pgtype.Timestamptz
	err := row.Scan(&m.Kind, &m.ScopeID, &m.PrincipalID, &m.Role, &added)
	m.AddedAt = tsOut(added)
	return m, err
}

func (r *reader) ScopeMember(ctx context.Context, kind, scopeID, principalID string) (org.ScopeMember, error) {
	return one(ctx, r, scanScopeMember, func() error { return r.notFound("member %q of scope %s/%s", principalID, kind, scopeID) },
		`SELECT `+scopeMemberColumns+` FROM orgauthz.scope_members WHERE org_id = $1 AND kind = $2 AND scope_id = $3 AND principal_id = $4`,
		r.orgID, kind, scopeID, principalID)
}

func (r *reader) ScopeMembers(ctx context.Context, kind, scopeID, after string) iter.Seq2[org.ScopeMember, error] {
	return list(ctx, r, scanScopeMember,
		`SELECT `+scopeMemberColumns+` FROM orgauthz.scope_members WHERE org_id = $1 AND kind = $2 AND scope_id = $3 AND principal_id > $4 ORDER BY principal_id LIMIT 256`,
		func(last *org.ScopeMember) []any {
			if last != nil {
				after = last.PrincipalID
			}
			return []any{r.orgID, kind, scopeID, after}
		})
}

func (r *reader) PrincipalScopes(ctx context.Context, principalID string) iter.Seq2[org.ScopeMember, error] {
	return list(ctx, r, scanScopeMember,
		`SELECT `+scopeMemberColumns+` FROM orgauthz.scope_members WHERE org_id = $1 AND principal_id = $2 AND (kind, scope_id) > ($3, $4) ORDER BY kind, scope_id LIMIT 256`,
		func(last *org.ScopeMember) []any {
			if last == nil {
				return []any{r.orgID, principalID, "", ""}
			}
			return []any{r.orgID, principalID, last.Kind, last.ScopeID}
		})
}

const scopeRoleColumns = `kind, scope_id, id, name, capabilities, created_by, created_at`

func scanScopeRole(row pgx.CollectableRow) (org.ScopeRole, error) {
	var sr org.ScopeRole
	var caps []string
	var created pgtype.Timestamptz
	err := row.Scan(&sr.Kind, &sr.ScopeID, &sr.ID, &sr.Name, &caps, &sr.CreatedBy, &created)
	sr.Capabilities, sr.CreatedAt = capsOut(caps), tsOut(created)
	return sr, err
}

func (r *reader) ScopeRole(ctx context.Context, kind, scopeID, roleID string) (org.ScopeRole, error) {
	return one(ctx, r, scanScopeRole, func() error { return r.notFound("role %q of scope %s/%s", roleID, kind, scopeID) },
		`SELECT `+scopeRoleColumns+` FROM orgauthz.scope_roles WHERE org_id = $1 AND kind = $2 AND scope_id = $3 AND id = $4`,
		r.orgID, kind, scopeID, roleID)
}

func (r *reader) ScopeRoles(ctx context.Context, kind, scopeID string) iter.Seq2[org.ScopeRole, error] {
	return list(ctx, r, scanScopeRole,
		`SELECT `+scopeRoleColumns+` FROM orgauthz.scope_roles WHERE org_id = $1 AND kind = $2 AND scope_id = $3 AND id > $4 ORDER BY id LIMIT 256`,
		func(last *org.ScopeRole) []any {
			after := ""
			if last != nil {
				after = last.ID
			}
			return []any{r.orgID, kind, scopeID, after}
		})
}

// Audit.

const auditColumns = `seq, org_id, time, actor, action, target, role_before, role_after, detail`

func scanAudit(row pgx.CollectableRow) (org.AuditEvent, error) {
	var e org.AuditEvent
	var t pgtype.Timestamptz
	err := row.Scan(&e.Seq, &e.OrgID, &t, &e.Actor, &e.Action, &e.Target, &e.RoleBefore, &e.RoleAfter, &e.Detail)
	e.Time = tsOut(t)
	return e, err
}

func (r *reader) Audit(ctx context.Context, f store.AuditFilter) iter.Seq2[org.AuditEvent, error] {
	// A zero bound selects everything: NULL bounds are left out.
	since, until := tsIn(f.Since), tsIn(f.Until)
	return list(ctx, r, scanAudit,
		`SELECT `+auditColumns+` FROM orgauthz.audit
		WHERE org_id = $1 AND seq > $2
		AND ($3::timestamptz IS NULL OR time >= $3)
		AND ($4::timestamptz IS NULL OR time < $4)
		AND ($5 = '' OR actor = $5)
		ORDER BY seq LIMIT 256`,
		func(last *org.AuditEvent) []any {
			after := f.AfterSeq
			if last != nil {
				after = last.Seq
			}
			return []any{r.orgID, after, since, until, f.Actor}
		})
}

// Invitations.

const invitationColumns = `id, email, role, status, token_hash, invited_by, created_at, expires_at, updated_at, accepted_by, sends`

func scanInvitation(row pgx.CollectableRow) (invite.Invitation, error) {
	var inv invite.Invitation
	var status int16
	var created, expires, updated pgtype.Timestamptz
	err := row.Scan(&inv.ID, &inv.Email, &inv.Role, &status, &inv.TokenHash, &inv.InvitedBy, &created, &expires, &updated, &inv.AcceptedBy, &inv.Sends)
	inv.Status = invite.Status(status)
	inv.CreatedAt, inv.ExpiresAt, inv.UpdatedAt = tsOut(created), tsOut(expires), tsOut(updated)
	return inv, err
}

func (r *reader) invitationNotFound(id string) error {
	return r.notFound("invitation %q", id)
}

func (r *reader) Invitation(ctx context.Context, id string) (invite.Invitation, error) {
	return one(ctx, r, scanInvitation, func() error { return r.invitationNotFound(id) },
		`SELECT `+invitationColumns+` FROM orgauthz.invitations WHERE org_id = $1 AND id = $2`, r.orgID, id)
}

func (r *reader) PendingInvitation(ctx context.Context, email string) (invite.Invitation, error) {
	return one(ctx, r, scanInvitation, func() error { return r.notFound("pending invitation to %q", email) },
		`SELECT `+invitationColumns+` FROM orgauthz.invitations WHERE org_id = $1 AND email = $2 AND status = $3`,
		r.orgID, email, int16(invite.Pending))
}

func (r *reader) Invitations(ctx context.Context, after string, pendingOnly bool) iter.Seq2[invite.Invitation, error] {
	return list(ctx, r, scanInvitation,
		`SELECT `+invitationColumns+` FROM orgauthz.invitations WHERE org_id = $1 AND id > $2 AND (NOT $3 OR status = $4) ORDER BY id LIMIT 256`,
		func(last *invite.Invitation) []any {
			if last != nil {
				after = last.ID
			}
			return []any{r.orgID, after, pendingOnly, int16(invite.Pending)}
		})
}

// API keys.

const keyColumns = `id, name, owner_id, scope, hash, display, created_by, created_at, expires_at, revoked_at, last_used_at`

func scanKey(row pgx.CollectableRow) (apikey.Key, error) {
	var k apikey.Key
	var scope []string
	var created, expires, revoked, used pgtype.Timestamptz
	err := row.Scan(&k.ID, &k.Name, &k.OwnerID, &scope, &k.Hash, &k.Display, &k.CreatedBy, &created, &expires, &revoked, &used)
	k.Scope = capsOut(scope)
	k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt = tsOut(created), tsOut(expires), tsOut(revoked), tsOut(used)
	return k, err
}

func (r *reader) keyNotFound(id string) error {
	return r.notFound("API key %q", id)
}

func (r *reader) APIKey(ctx context.Context, id string) (apikey.Key, error) {
	return one(ctx, r, scanKey, func() error { return r.keyNotFound(id) },
		`SELECT `+keyColumns+` FROM orgauthz.api_keys WHERE org_id = $1 AND id = $2`, r.orgID, id)
}

func (r *reader) APIKeys(ctx context.Context, ownerID, after string) iter.Seq2[apikey.Key, error] {
	return list(ctx, r, scanKey,
		`SELECT `+keyColumns+` FROM orgauthz.api_keys WHERE org_id = $1 AND ($2 = '' OR owner_id = $2) AND id > $3 ORDER BY id LIMIT 256`,
		func(last *apikey.Key) []any {
			if last != nil {
				after = last.ID
			}
			return []any{r.orgID, ownerID, after}
		})
}
