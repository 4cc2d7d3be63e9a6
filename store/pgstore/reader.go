package pgstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
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

// reader is the store.Reader of a View, and of an Update through tx. Its
// statements go through the pipe of the transaction (see pipe.go).
type reader struct {
	s      *Store
	p      *pipe
	orgID  string
	exists bool // the organization's row exists, as this transaction sees it
	done   bool // the function has returned
}

var _ store.Reader = (*reader)(nil)

// usable returns the error of a call that cannot go on: after the
// function returned, after Close, or with ctx done.
func (r *reader) usable(ctx context.Context) error {
	switch {
	case r.done:
		return errClosed("transaction on organization %q used after its function returned", r.orgID)
	case r.s.closed.Load():
		return errClosed("transaction on organization %q", r.orgID)
	}
	return ctx.Err()
}

// check is usable, then (the transaction begun, so that it is known) the
// error of an organization that does not exist.
func (r *reader) check(ctx context.Context) error {
	if err := r.usable(ctx); err != nil {
		return err
	}
	if !r.p.started() {
		if err := r.p.flush(ctx); err != nil {
			return r.fail(ctx, err, "beginning")
		}
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
	if r.p.broken != nil && err != r.p.broken {
		return r.p.broken
	}
	if r.p.broken != nil {
		return err
	}
	return r.s.fail(ctx, err, "organization %q: %s", r.orgID, fmt.Sprintf(what, args...))
}

// notFound returns the ErrNotFound error of a record of this organization.
func (r *reader) notFound(what string, args ...any) error {
	return fmt.Errorf("pgstore: %s of organization %q: %w", fmt.Sprintf(what, args...), r.orgID, store.ErrNotFound)
}

// Keys of the memo: a record read by its key ("1"), a page of a listing
// ("n"), and what the transaction knows without having read the record
// ("f": that a scope exists).
func recordKey(query string, args ...any) string { return memoKey('1', query, args...) }
func pageKey(query string, args ...any) string   { return memoKey('n', query, args...) }

// one reads one record with query, scanning it with scan; a missing row is
// notFound's error. The read is remembered, and answered from the memo
// when it was made before (or named by a Prefetch).
func one[T any](ctx context.Context, r *reader, scan pgx.RowToFunc[T], notFound func() error, query string, args ...any) (T, error) {
	return oneBy[T](ctx, r, recordKey(query, args...), notFound, query, args, func(rows pgx.Rows) (any, bool, error) {
		return collectOne(rows, scan)
	})
}

// remembered returns what the memo holds under key, reading it first with
// query (args), whose rows collect remembers under key, unless the memo
// holds it (and fresh, if not nil, says it still holds) after the
// transaction began. While a Prefetch records, it queues the read there
// instead, once, and returns errRecorded. An organization that does not
// exist is its error.
func (r *reader) remembered(ctx context.Context, key string, fresh func(memoEntry) bool, query string, args []any, collect func(rows pgx.Rows) error) (memoEntry, error) {
	e, ok := r.p.recall(key)
	ok = ok && (fresh == nil || fresh(e))
	if r.p.recording != nil {
		if !ok {
			r.p.recording.Queue(query, args...).Query(collect)
		}
		return memoEntry{}, errRecorded
	}
	if !ok || !r.p.started() {
		b := &pgx.Batch{}
		b.Queue(query, args...).Query(collect)
		if err := r.p.send(ctx, b); err != nil {
			return memoEntry{}, r.fail(ctx, err, "reading")
		}
		e, _ = r.p.recall(key)
	}
	if !r.exists {
		return memoEntry{}, orgNotFound(r.orgID)
	}
	return e, nil
}

// oneBy is one, remembering under key what query (with args) reads, as
// collect scans it.
func oneBy[T any](ctx context.Context, r *reader, key string, notFound func() error, query string, args []any, collect func(rows pgx.Rows) (any, bool, error)) (T, error) {
	var zero T
	if err := r.usable(ctx); err != nil {
		return zero, err
	}
	e, err := r.remembered(ctx, key, nil, query, args, r.collectOne(key, collect))
	if err != nil {
		return zero, err
	}
	if !e.found {
		return zero, notFound()
	}
	return copyOut(e.v.(T)), nil
}

// collectOne scans the one row rows has, if any.
func collectOne[T any](rows pgx.Rows, scan pgx.RowToFunc[T]) (any, bool, error) {
	v, err := pgx.CollectExactlyOneRow(rows, scan)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return v, true, nil
}

// collectOne returns the callback of a batched read that remembers its
// record under key.
func (r *reader) collectOne(key string, collect func(rows pgx.Rows) (any, bool, error)) func(rows pgx.Rows) error {
	return func(rows pgx.Rows) error {
		v, found, err := collect(rows)
		if err != nil {
			return err
		}
		r.p.remember(key, v, found)
		if found {
			r.note(v)
		}
		return nil
	}
}

// listing returns a single-use listing over the pool that reads pages with
// query, whose arguments after returns for the last record yielded (nil
// before the first page). The query must end with a LIMIT of pageSize.
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

// list is a listing of this transaction: pages are read through the pipe
// and remembered, so that a page named by a Prefetch costs no round trip.
// While a Prefetch records, ranging over it records its first page and
// yields nothing.
func list[T any](ctx context.Context, r *reader, scan pgx.RowToFunc[T], query string, after func(last *T) []any) iter.Seq2[T, error] {
	var used atomic.Bool
	return func(yield func(T, error) bool) {
		var zero T
		if used.Swap(true) {
			yield(zero, errors.New("pgstore: listing ranged over twice (listings are single use)"))
			return
		}
		var last *T
		for {
			if err := r.usable(ctx); err != nil {
				yield(zero, err)
				return
			}
			args := after(last)
			key := pageKey(query, args...)
			collect := func(rows pgx.Rows) error {
				page, err := pgx.CollectRows(rows, scan)
				if err != nil {
					return err
				}
				r.p.remember(key, page, true)
				for i := range page {
					r.note(page[i])
				}
				return nil
			}
			e, err := r.remembered(ctx, key, nil, query, args, collect)
			if err == errRecorded {
				return
			}
			if err != nil {
				yield(zero, err)
				return
			}
			page := e.v.([]T)
			for i := range page {
				if !yield(copyOut(page[i]), nil) {
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

// qualify prefixes each of the comma-separated columns with alias, for a
// join: qualify("o", "id, name") is "o.id, o.name".
func qualify(alias, columns string) string {
	cs := strings.Split(columns, ", ")
	for i, c := range cs {
		cs[i] = alias + "." + c
	}
	return strings.Join(cs, ", ")
}

// Organizations.

const orgColumns = `id, name, scheme, edition, trial_edition, trial_started_at, trial_ends_at, seat_override, settings, archived, created_at, updated_at`

// orgRow scans orgColumns: Scan into dest, then take value. The scanner
// of joined rows (InvitationsTo) puts two of them together.
type orgRow struct {
	o                                         org.Organization
	trialStarted, trialEnds, created, updated pgtype.Timestamptz
}

func (r *orgRow) dest() []any {
	return []any{&r.o.ID, &r.o.Name, &r.o.Scheme, &r.o.Edition, &r.o.TrialEdition, &r.trialStarted, &r.trialEnds, &r.o.SeatOverride, &r.o.Settings, &r.o.Archived, &r.created, &r.updated}
}

func (r *orgRow) value() org.Organization {
	r.o.TrialStartedAt, r.o.TrialEndsAt, r.o.CreatedAt, r.o.UpdatedAt = tsOut(r.trialStarted), tsOut(r.trialEnds), tsOut(r.created), tsOut(r.updated)
	return r.o
}

func scanOrg(row pgx.CollectableRow) (org.Organization, error) {
	var o orgRow
	err := row.Scan(o.dest()...)
	return o.value(), err
}

// orgQuery reads the organization; the transaction's first batch reads it
// (locked, in an Update) and remembers it under this key.
const orgQuery = `SELECT ` + orgColumns + ` FROM orgauthz.organizations WHERE id = $1`

func (r *reader) Organization(ctx context.Context) (org.Organization, error) {
	if !r.p.started() {
		if r.p.recording != nil {
			return org.Organization{}, errRecorded // the begin reads it
		}
		if err := r.check(ctx); err != nil { // sends the begin, which reads it
			return org.Organization{}, err
		}
	}
	return one(ctx, r, scanOrg, func() error { return orgNotFound(r.orgID) }, orgQuery, r.orgID)
}

// Members.

const memberColumns = `principal_id, kind, name, role, external, email, joined_at`

// memberRow scans memberColumns, as orgRow does orgColumns.
type memberRow struct {
	m      org.Member
	kind   int16
	joined pgtype.Timestamptz
}

func (r *memberRow) dest() []any {
	return []any{&r.m.PrincipalID, &r.kind, &r.m.Name, &r.m.Role, &r.m.External, &r.m.Email, &r.joined}
}

func (r *memberRow) value() org.Member {
	r.m.Kind, r.m.JoinedAt = org.Kind(r.kind), tsOut(r.joined)
	return r.m
}

func scanMember(row pgx.CollectableRow) (org.Member, error) {
	var m memberRow
	err := row.Scan(m.dest()...)
	return m.value(), err
}

const memberQuery = `SELECT ` + memberColumns + ` FROM orgauthz.members WHERE org_id = $1 AND principal_id = $2`

func (r *reader) memberKey(principalID string) string {
	return recordKey(memberQuery, r.orgID, principalID)
}

func (r *reader) Member(ctx context.Context, principalID string) (org.Member, error) {
	if r.p.recording != nil && r.usable(ctx) == nil {
		// Recorded members are read together, in one statement (see
		// pipe.prefetch).
		if _, ok := r.p.recall(r.memberKey(principalID)); !ok {
			r.p.members = append(r.p.members, principalID)
		}
		return org.Member{}, errRecorded
	}
	return one(ctx, r, scanMember, func() error { return memberNotFound(r.orgID, principalID) }, memberQuery, r.orgID, principalID)
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

// memberByEmailQuery finds a member by its non-empty address, through
// index members_email (whose predicate it repeats, so that a generic plan
// of the prepared statement uses it too).
const memberByEmailQuery = `SELECT ` + memberColumns + ` FROM orgauthz.members WHERE org_id = $1 AND email = $2 AND email <> ''`

func (r *reader) MemberByEmail(ctx context.Context, email string) (org.Member, error) {
	notFound := func() error {
		return fmt.Errorf("pgstore: member with address %q of organization %q: %w", email, r.orgID, store.ErrMemberNotFound)
	}
	if email == "" {
		// No member has the empty address: there is nothing to look up.
		if err := r.check(ctx); err != nil {
			return org.Member{}, err
		}
		return org.Member{}, notFound()
	}
	return one(ctx, r, scanMember, notFound, memberByEmailQuery, r.orgID, email)
}

func (r *reader) emailKey(email string) string { return recordKey(memberByEmailQuery, r.orgID, email) }

// servicePrincipalsQuery lists service principals (kind 2) through index
// members_service_principals, whose predicate it repeats as a literal.
const servicePrincipalsQuery = `SELECT ` + memberColumns + ` FROM orgauthz.members
	WHERE org_id = $1 AND kind = 2 AND principal_id > $2 ORDER BY principal_id LIMIT 256`

func (r *reader) ServicePrincipals(ctx context.Context, after string) iter.Seq2[org.Member, error] {
	return list(ctx, r, scanMember, servicePrincipalsQuery,
		func(last *org.Member) []any {
			if last != nil {
				after = last.PrincipalID
			}
			return []any{r.orgID, after}
		})
}

// countsQuery reads the head counts, which triggers keep as members
// change (migration 2).
const countsQuery = `SELECT role, external, n FROM orgauthz.member_counts WHERE org_id = $1 AND n > 0`

func (r *reader) Counts(ctx context.Context) (store.Counts, error) {
	var zero store.Counts
	if err := r.usable(ctx); err != nil {
		return zero, err
	}
	key := memoKey('c', countsQuery, r.orgID)
	collect := func(rows pgx.Rows) error {
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
			return err
		}
		r.p.remember(key, c, true)
		return nil
	}
	e, err := r.remembered(ctx, key, nil, countsQuery, []any{r.orgID}, collect)
	if err != nil {
		return zero, err
	}
	return copyOut(e.v.(store.Counts)), nil
}

// Scopes.

const scopeColumns = `kind, id, name, created_by, created_at`

// scopeRow scans scopeColumns, as orgRow does orgColumns.
type scopeRow struct {
	s       org.Scope
	created pgtype.Timestamptz
}

func (r *scopeRow) dest() []any {
	return []any{&r.s.Kind, &r.s.ID, &r.s.Name, &r.s.CreatedBy, &r.created}
}

func (r *scopeRow) value() org.Scope {
	r.s.CreatedAt = tsOut(r.created)
	return r.s
}

func scanScope(row pgx.CollectableRow) (org.Scope, error) {
	var s scopeRow
	err := row.Scan(s.dest()...)
	return s.value(), err
}

func (r *reader) scopeNotFound(kind, id string) error {
	return r.notFound("scope %s/%s", kind, id)
}

const scopeQuery = `SELECT ` + scopeColumns + ` FROM orgauthz.scopes WHERE org_id = $1 AND kind = $2 AND id = $3`

func (r *reader) scopeKey(kind, id string) string { return recordKey(scopeQuery, r.orgID, kind, id) }

// scopeFact is the key under which the transaction notes that a scope
// exists, having read one of its members.
func (r *reader) scopeFact(kind, id string) string { return "f\x00scope\x00" + kind + "\x00" + id }

func (r *reader) Scope(ctx context.Context, kind, id string) (org.Scope, error) {
	return one(ctx, r, scanScope, func() error { return r.scopeNotFound(kind, id) }, scopeQuery, r.orgID, kind, id)
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

// scopeMemberRow scans scopeMemberColumns, as orgRow does orgColumns.
type scopeMemberRow struct {
	m     org.ScopeMember
	added pgtype.Timestamptz
}

func (r *scopeMemberRow) dest() []any {
	return []any{&r.m.Kind, &r.m.ScopeID, &r.m.PrincipalID, &r.m.Role, &r.added}
}

func (r *scopeMemberRow) value() org.ScopeMember {
	r.m.AddedAt = tsOut(r.added)
	return r.m
}

func scanScopeMember(row pgx.CollectableRow) (org.ScopeMember, error) {
	var m scopeMemberRow
	err := row.Scan(m.dest()...)
	return m.value(), err
}

const scopeMemberQuery = `SELECT ` + scopeMemberColumns + ` FROM orgauthz.scope_members WHERE org_id = $1 AND kind = $2 AND scope_id = $3 AND principal_id = $4`

func (r *reader) scopeMemberKey(kind, scopeID, principalID string) string {
	return recordKey(scopeMemberQuery, r.orgID, kind, scopeID, principalID)
}

func (r *reader) ScopeMember(ctx context.Context, kind, scopeID, principalID string) (org.ScopeMember, error) {
	return one(ctx, r, scanScopeMember, func() error { return r.notFound("member %q of scope %s/%s", principalID, kind, scopeID) },
		scopeMemberQuery, r.orgID, kind, scopeID, principalID)
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

// memberScopesQuery lists one principal's memberships of one kind with
// their scopes: index scope_members_principal (org_id, principal_id, kind,
// scope_id) gives them in order, and each finds its scope by primary key.
var memberScopesQuery = `SELECT ` + qualify("s", scopeColumns) + `, ` + qualify("sm", scopeMemberColumns) + `
	FROM orgauthz.scope_members sm
	JOIN orgauthz.scopes s ON s.org_id = sm.org_id AND s.kind = sm.kind AND s.id = sm.scope_id
	WHERE sm.org_id = $1 AND sm.principal_id = $2 AND sm.kind = $3 AND sm.scope_id > $4
	ORDER BY sm.scope_id LIMIT 256`

func scanScopeMembership(row pgx.CollectableRow) (org.ScopeMembership, error) {
	var s scopeRow
	var m scopeMemberRow
	err := row.Scan(append(s.dest(), m.dest()...)...)
	return org.ScopeMembership{Scope: s.value(), Member: m.value()}, err
}

func (r *reader) MemberScopes(ctx context.Context, principalID, kind, after string) iter.Seq2[org.ScopeMembership, error] {
	return list(ctx, r, scanScopeMembership, memberScopesQuery,
		func(last *org.ScopeMembership) []any {
			if last != nil {
				after = last.Member.ScopeID
			}
			return []any{r.orgID, principalID, kind, after}
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

const scopeRoleQuery = `SELECT ` + scopeRoleColumns + ` FROM orgauthz.scope_roles WHERE org_id = $1 AND kind = $2 AND scope_id = $3 AND id = $4`

func (r *reader) scopeRoleKey(kind, scopeID, roleID string) string {
	return recordKey(scopeRoleQuery, r.orgID, kind, scopeID, roleID)
}

func (r *reader) ScopeRole(ctx context.Context, kind, scopeID, roleID string) (org.ScopeRole, error) {
	return one(ctx, r, scanScopeRole, func() error { return r.notFound("role %q of scope %s/%s", roleID, kind, scopeID) },
		scopeRoleQuery, r.orgID, kind, scopeID, roleID)
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

const invitationColumns = `id, email, role, status, token_hash, invited_by, created_at, expires_at, updated_at, accepted_by, declined_by, sends`

// invitationRow scans invitationColumns, as orgRow does orgColumns.
type invitationRow struct {
	inv                       invite.Invitation
	status                    int16
	created, expires, updated pgtype.Timestamptz
}

func (r *invitationRow) dest() []any {
	return []any{&r.inv.ID, &r.inv.Email, &r.inv.Role, &r.status, &r.inv.TokenHash, &r.inv.InvitedBy,
		&r.created, &r.expires, &r.updated, &r.inv.AcceptedBy, &r.inv.DeclinedBy, &r.inv.Sends}
}

func (r *invitationRow) value() invite.Invitation {
	r.inv.Status = invite.Status(r.status)
	r.inv.CreatedAt, r.inv.ExpiresAt, r.inv.UpdatedAt = tsOut(r.created), tsOut(r.expires), tsOut(r.updated)
	return r.inv
}

func scanInvitation(row pgx.CollectableRow) (invite.Invitation, error) {
	var inv invitationRow
	err := row.Scan(inv.dest()...)
	return inv.value(), err
}

func (r *reader) invitationNotFound(id string) error {
	return r.notFound("invitation %q", id)
}

const (
	invitationQuery        = `SELECT ` + invitationColumns + ` FROM orgauthz.invitations WHERE org_id = $1 AND id = $2`
	pendingInvitationQuery = `SELECT ` + invitationColumns + ` FROM orgauthz.invitations WHERE org_id = $1 AND email = $2 AND status = $3`
)

func (r *reader) invitationKey(id string) string { return recordKey(invitationQuery, r.orgID, id) }

func (r *reader) pendingKey(email string) string {
	return recordKey(pendingInvitationQuery, r.orgID, email, int16(invite.Pending))
}

// invitationInviterQuery reads an invitation with its inviter's member
// record (NULL columns when it is no member), which whoever reads an
// invitation reads next (is its inviter still allowed to send it?).
var invitationInviterQuery = `SELECT ` + qualify("i", invitationColumns) + `, ` + qualify("m", memberColumns) + `
	FROM orgauthz.invitations i
	LEFT JOIN orgauthz.members m ON m.org_id = i.org_id AND m.principal_id = i.invited_by
	WHERE i.org_id = $1 AND i.id = $2`

func (r *reader) Invitation(ctx context.Context, id string) (invite.Invitation, error) {
	return oneBy[invite.Invitation](ctx, r, r.invitationKey(id), func() error { return r.invitationNotFound(id) },
		invitationInviterQuery, []any{r.orgID, id}, func(rows pgx.Rows) (any, bool, error) {
			var inv invitationRow
			var principal, name, roleID, email pgtype.Text
			var kind pgtype.Int2
			var external pgtype.Bool
			var joined pgtype.Timestamptz
			found := false
			for rows.Next() {
				if err := rows.Scan(append(inv.dest(), &principal, &kind, &name, &roleID, &external, &email, &joined)...); err != nil {
					return nil, false, err
				}
				found = true
			}
			if err := rows.Err(); err != nil || !found {
				return nil, false, err
			}
			v := inv.value()
			if principal.Valid {
				r.note(org.Member{PrincipalID: principal.String, Kind: org.Kind(kind.Int16), Name: name.String, Role: roleID.String,
					External: external.Bool, Email: email.String, JoinedAt: tsOut(joined)})
			} else {
				r.p.remember(r.memberKey(v.InvitedBy), nil, false)
			}
			return v, true, nil
		})
}

func (r *reader) PendingInvitation(ctx context.Context, email string) (invite.Invitation, error) {
	return one(ctx, r, scanInvitation, func() error { return r.notFound("pending invitation to %q", email) },
		pendingInvitationQuery, r.orgID, email, int16(invite.Pending))
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

const keyQuery = `SELECT ` + keyColumns + ` FROM orgauthz.api_keys WHERE org_id = $1 AND id = $2`

func (r *reader) keyKey(id string) string { return recordKey(keyQuery, r.orgID, id) }

func (r *reader) APIKey(ctx context.Context, id string) (apikey.Key, error) {
	return one(ctx, r, scanKey, func() error { return r.keyNotFound(id) }, keyQuery, r.orgID, id)
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

// pendingCountQuery counts the pending invitations that expire after $2,
// through the partial index of pending invitations, with the earliest of
// their expiries: until then, the count holds for any later time.
const pendingCountQuery = `SELECT count(*), min(expires_at) FROM orgauthz.invitations WHERE org_id = $1 AND status = 1 AND expires_at > $2`

// pendingCount is a remembered count of pending invitations: n of them
// expire after at, the first of them at next (zero if none); so n expire
// after any time from at until next.
type pendingCount struct {
	at, next time.Time
	n        int
}

func (c pendingCount) holdsAt(t time.Time) bool {
	return !t.Before(c.at) && (c.next.IsZero() || t.Before(c.next))
}

// PendingInvitations counts the organization's invitations whose stored
// status is Pending and that expire after at, in one statement; see
// store.PendingCounter. The count is remembered, and answers for later
// times until the first of those invitations expires.
func (r *reader) PendingInvitations(ctx context.Context, at time.Time) (int, error) {
	if err := r.usable(ctx); err != nil {
		return 0, err
	}
	at = at.Truncate(time.Microsecond)
	key := memoKey('c', pendingCountQuery, r.orgID)
	collect := func(rows pgx.Rows) error {
		var n int
		var next pgtype.Timestamptz
		if _, err := pgx.ForEachRow(rows, []any{&n, &next}, func() error { return nil }); err != nil {
			return err
		}
		r.p.remember(key, pendingCount{at: at, next: tsOut(next), n: n}, true)
		return nil
	}
	e, err := r.remembered(ctx, key, func(e memoEntry) bool { return e.v.(pendingCount).holdsAt(at) },
		pendingCountQuery, []any{r.orgID, tsIn(at)}, collect)
	if err != nil {
		return 0, err
	}
	return e.v.(pendingCount).n, nil
}

var _ store.PendingCounter = (*reader)(nil)

// membersQuery reads the members among a set of principals: the members
// a Prefetch names, in one statement.
const membersQuery = `SELECT ` + memberColumns + ` FROM orgauthz.members WHERE org_id = $1 AND principal_id = ANY($2)`

// queueMembers queues, in b, the read of the members named, remembering
// each, found or not.
func (r *reader) queueMembers(b *pgx.Batch, ids []string) {
	b.Queue(membersQuery, r.orgID, ids).Query(func(rows pgx.Rows) error {
		found := make(map[string]bool, len(ids))
		_, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) {
			m, err := scanMember(row)
			if err == nil {
				found[m.PrincipalID] = true
				r.p.remember(r.memberKey(m.PrincipalID), m, true)
				r.note(m)
			}
			return struct{}{}, err
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if !found[id] {
				r.p.remember(r.memberKey(id), nil, false)
			}
		}
		return nil
	})
}
