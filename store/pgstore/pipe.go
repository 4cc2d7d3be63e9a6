package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// A pipe is the connection of one Update or View, and what it saves of
// the round trips to the server: the whole point of it is that a change
// costs at most three of them, and a read two, over a network where each
// costs a millisecond.
//
//   - It begins lazily: nothing is sent until the function's first call,
//     and the statements that begin the transaction (BEGIN, the lock, the
//     organization's row) go in the same batch as that call's, or as the
//     reads a Prefetch names.
//   - Writes whose success the transaction can tell from what it has read
//     (the member exists, the address is free, the next audit sequence
//     number is known) are queued, not sent: they go with the next batch,
//     before its reads, so that the reads see them, or with COMMIT. A
//     write it cannot tell is sent at once, with the queue before it, so
//     that it reports its failure as the store contract says.
//   - Reads are remembered (the memo), so that a read made twice, or named
//     by a Prefetch first, costs no round trip; a write updates or drops
//     the entries it affects, so that the transaction still sees its own
//     writes.
//
// A queued write that finds the database other than the transaction knew
// it (it changes no row) fails the batch that carries it, and with it the
// Update: that can only happen if something outside the store changed the
// rows, the organization being locked.
type pipe struct {
	s     *Store
	orgID string
	conn  *pgxpool.Conn
	// standby, if set, is the standby a View reads from, whose replay must
	// have reached need (see replica.go); the View falls back to the
	// primary if its first round trip finds the standby behind or gone.
	standby *replica
	check   []any // the arguments of its replayedQuery

	// start queues the statements that begin the transaction in b; it is
	// cleared once sent.
	start func(b *pgx.Batch)
	// queue holds the writes not sent yet.
	queue []queued
	// broken is the error that left the transaction unusable.
	broken error
	// recording collects the reads of a Prefetch instead of making them.
	recording *pgx.Batch
	// members are the principals whose member records a Prefetch named.
	members []string
	// The memo: records read by key and facts ("1" and "f" keys), and
	// pages and counts (the others), apart, so that a write forgets the
	// few pages it affects without going over every record.
	records, lists map[string]memoEntry
}

// queued is a write waiting for the next batch: it must change want rows,
// else the transaction fails.
type queued struct {
	sql  string
	args []any
	want int64
	// read, if set, makes it a read whose rows it is given instead.
	read func(rows pgx.Rows) error
}

// memoEntry is a remembered read: v its value (a record, or a page of a
// listing), found false when it found nothing.
type memoEntry struct {
	v     any
	found bool
}

// acquire takes the pipe's connection if it has none yet.
func (p *pipe) acquire(ctx context.Context) error {
	if p.conn != nil {
		return nil
	}
	pool := p.s.pool
	if p.standby != nil {
		pool = p.standby.pool
	}
	c, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquiring a connection: %w", err) // the caller translates it
	}
	p.conn = c
	return nil
}

// started reports whether the transaction has begun on the server.
func (p *pipe) started() bool { return p.start == nil }

// send sends b on the connection, after the statements that begin the
// transaction (the first time) and the queued writes, in one round trip.
func (p *pipe) send(ctx context.Context, b *pgx.Batch) error {
	if p.broken != nil {
		return p.broken
	}
	if p.standby != nil && p.start != nil {
		return p.sendFirstToStandby(ctx, b)
	}
	if err := p.acquire(ctx); err != nil {
		return err
	}
	full := &pgx.Batch{}
	if p.start != nil {
		p.start(full)
	}
	for _, w := range coalesce(p.queue) {
		w := w
		if w.read != nil {
			full.Queue(w.sql, w.args...).Query(w.read)
			continue
		}
		// The row count is checked by the server, which fails the
		// statement (a division by zero) when it is not the one expected:
		// the transaction is then aborted, and a COMMIT in the same batch
		// rolls it back. A check of the client's would come after the
		// server had run that COMMIT.
		sql := "WITH w AS (" + w.sql + " RETURNING 1) SELECT 1 / (count(*) = $" + strconv.Itoa(len(w.args)+1) + ")::int FROM w"
		full.Queue(sql, append(w.args[:len(w.args):len(w.args)], w.want)...).Exec(func(pgconn.CommandTag) error { return nil })
	}
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	p.start, p.queue = nil, p.queue[:0]
	if full.Len() == 0 {
		return nil
	}
	err := p.conn.SendBatch(ctx, full).Close()
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == codeDivisionByZero {
		err = fmt.Errorf("pgstore: organization %q: a queued write changed other rows than the transaction had read (was the database changed outside the store?): %w", p.orgID, ErrDatabase)
	}
	if err != nil {
		if !isPgError(err) || p.conn.Conn().PgConn().TxStatus() != 'T' {
			// The transaction is aborted or the connection lost: nothing
			// more can be sent in it.
			p.broken = p.s.fail(ctx, err, "organization %q", p.orgID)
		}
		return err
	}
	return nil
}

// sendFirstToStandby is send of a View's first batch, b, to its standby,
// the statements that begin the View including replayedQuery, which fails
// unless the standby has replayed what the View needs. If that fails, or
// the standby does (it is down, restarting, promoted, or cancelled the
// statement), what was read is read again, and the View goes to the
// primary with it.
func (p *pipe) sendFirstToStandby(ctx context.Context, b *pgx.Batch) error {
	r, rs, start := p.standby, p.s.replicas, p.start
	err := p.acquire(ctx)
	if err == nil {
		full := &pgx.Batch{}
		start(full)
		full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
		if err = p.conn.SendBatch(ctx, full).Close(); err == nil {
			p.start = nil
			rs.answered(r)
			return nil
		}
	}
	if !retryable(ctx, err) {
		p.start = nil
		if p.conn != nil && (!isPgError(err) || p.conn.Conn().PgConn().TxStatus() != 'T') {
			p.broken = p.s.fail(ctx, err, "organization %q", p.orgID)
		}
		return err
	}
	rs.failed(r, err)
	p.release()
	p.standby = nil
	return p.send(ctx, b)
}

// isPgError reports whether err is an error of the server (the
// connection survived it).
func isPgError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
}

// flush sends the queued writes (and the begin, if not yet sent).
func (p *pipe) flush(ctx context.Context) error {
	if p.started() && len(p.queue) == 0 {
		return nil
	}
	return p.send(ctx, &pgx.Batch{})
}

// query runs one statement after the queue, calling fn with its rows.
func (p *pipe) query(ctx context.Context, sql string, args []any, fn func(rows pgx.Rows) error) error {
	b := &pgx.Batch{}
	b.Queue(sql, args...).Query(fn)
	return p.send(ctx, b)
}

// exec runs one write after the queue and returns the rows it changed.
func (p *pipe) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	b := &pgx.Batch{}
	b.Queue(sql, args...).Exec(func(tag pgconn.CommandTag) error {
		n = tag.RowsAffected()
		return nil
	})
	return n, p.send(ctx, b)
}

// enqueue queues a write that must change want rows.
func (p *pipe) enqueue(want int64, sql string, args ...any) {
	p.queue = append(p.queue, queued{sql: sql, args: args, want: want})
}

// end ends the transaction: with the queued writes and COMMIT in one
// batch when commit is true, else with ROLLBACK (nothing at all if it
// never began). It releases the connection.
func (p *pipe) end(ctx context.Context, commit bool) error {
	defer p.release()
	if p.conn == nil && (!commit || len(p.queue) == 0) {
		return nil // nothing was ever sent, nothing is to be
	}
	if !commit {
		if p.conn.Conn().PgConn().TxStatus() == 'I' {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := p.conn.Exec(ctx, "ROLLBACK"); err != nil {
			p.broken = err
		}
		return nil
	}
	if p.broken != nil {
		return p.broken
	}
	var tag pgconn.CommandTag
	b := &pgx.Batch{}
	b.Queue("COMMIT").Exec(func(t pgconn.CommandTag) error {
		tag = t
		return nil
	})
	p.s.noteCommit(b)
	if err := p.send(ctx, b); err != nil {
		return err
	}
	if tag.String() != "COMMIT" {
		p.broken = fmt.Errorf("pgstore: organization %q: the transaction was rolled back at commit: %w", p.orgID, ErrDatabase)
		return p.broken
	}
	return nil
}

// release gives the connection back to the pool; one still in a
// transaction (after a failure) is closed instead.
func (p *pipe) release() {
	if p.conn == nil {
		return
	}
	c := p.conn
	p.conn = nil
	if c.Conn().PgConn().TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Conn().Close(ctx)
	}
	c.Release()
}

// The memo.

// memoKey is the key of a read: its statement, by a number of its own
// (see statementID), and its arguments. It follows a byte that says what
// the key is: "1" a record read by key, "n" a page, "c" a count, "f" a
// fact.
func memoKey(kind byte, sql string, args ...any) string {
	id := statementID(sql)
	var b strings.Builder
	n := 5
	for _, a := range args {
		if s, ok := a.(string); ok {
			n += len(s) + 1
		} else {
			n += 21
		}
	}
	b.Grow(n)
	b.WriteByte(kind)
	b.WriteByte(byte(id >> 24))
	b.WriteByte(byte(id >> 16))
	b.WriteByte(byte(id >> 8))
	b.WriteByte(byte(id))
	for _, a := range args {
		b.WriteByte(0)
		switch x := a.(type) {
		case string:
			b.WriteString(x)
		case int16:
			b.WriteString(strconv.Itoa(int(x)))
		case int64:
			b.WriteString(strconv.FormatInt(x, 10))
		case bool:
			b.WriteString(strconv.FormatBool(x))
		case pgtype.Timestamptz:
			if x.Valid {
				b.WriteString(strconv.FormatInt(x.Time.UnixMicro(), 10))
			}
		default:
			fmt.Fprint(&b, x)
		}
	}
	return b.String()
}

// statements numbers the statements the memo has seen, and knows the
// tables each names, so that a key holds a number, not the statement.
var statements struct {
	mu     sync.Mutex                 // held to number a new statement
	ids    sync.Map                   // statement -> uint32
	tables atomic.Pointer[[][]string] // by number; replaced, never changed
}

// statementID returns the number of statement sql.
func statementID(sql string) uint32 {
	if id, ok := statements.ids.Load(sql); ok {
		return id.(uint32)
	}
	statements.mu.Lock()
	defer statements.mu.Unlock()
	if id, ok := statements.ids.Load(sql); ok {
		return id.(uint32)
	}
	var all [][]string
	if p := statements.tables.Load(); p != nil {
		all = *p
	}
	id := uint32(len(all))
	var tables []string
	for rest := sql; ; {
		i := strings.Index(rest, "orgauthz.")
		if i < 0 {
			break
		}
		rest = rest[i+len("orgauthz."):]
		j := strings.IndexFunc(rest, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z') })
		if j < 0 {
			j = len(rest)
		}
		tables = append(tables, rest[:j])
	}
	next := append(all[:len(all):len(all)], tables)
	statements.tables.Store(&next)
	statements.ids.Store(sql, id)
	return id
}

// tablesOf returns the tables the statement of memo key key names.
func tablesOf(key string) []string {
	if len(key) < 5 {
		return nil
	}
	id := uint32(key[1])<<24 | uint32(key[2])<<16 | uint32(key[3])<<8 | uint32(key[4])
	p := statements.tables.Load()
	if p == nil || int(id) >= len(*p) {
		return nil
	}
	return (*p)[id]
}

func (p *pipe) remember(key string, v any, found bool) {
	if found {
		v = asStored(v)
	}
	m := &p.lists
	if isRecordKey(key) {
		m = &p.records
	}
	if *m == nil {
		*m = make(map[string]memoEntry)
	}
	(*m)[key] = memoEntry{v: v, found: found}
}

func isRecordKey(key string) bool { return key[0] == '1' || key[0] == 'f' }

func (p *pipe) recall(key string) (memoEntry, bool) {
	m := p.lists
	if isRecordKey(key) {
		m = p.records
	}
	e, ok := m[key]
	return e, ok
}

// forget drops the remembered pages and counts that read the given
// tables (their statements name them as orgauthz.<table>); records read
// by key are kept, a write updating each it changes (see forgetRecords).
func (p *pipe) forget(tables ...string) {
	for k := range p.lists {
		if mentions(k, tables) {
			delete(p.lists, k)
		}
	}
}

// forgetRecords drops every remembered read of the given tables, records
// and facts included.
func (p *pipe) forgetRecords(tables ...string) {
	p.forget(tables...)
	for k := range p.records {
		if k[0] == 'f' || mentions(k, tables) {
			delete(p.records, k)
		}
	}
}

func mentions(key string, tables []string) bool {
	for _, t := range tablesOf(key) {
		if slices.Contains(tables, t) {
			return true
		}
	}
	return false
}

// forgetAll drops every remembered read.
func (p *pipe) forgetAll() {
	clear(p.records)
	clear(p.lists)
}

// errRecorded is what a read returns while a Prefetch records it.
var errRecorded = errors.New("pgstore: read recorded by Prefetch")

// prefetch makes the reads fn makes of r in one round trip (with the
// begin, if not yet sent, and the queued writes), and remembers them.
func (p *pipe) prefetch(ctx context.Context, r store.Reader, fn func(r store.Reader)) error {
	if p.recording != nil {
		fn(r) // nested: the outer Prefetch records these too
		return nil
	}
	b := &pgx.Batch{}
	p.recording = b
	func() {
		defer func() { p.recording = nil }()
		fn(r)
	}()
	if len(p.members) > 0 {
		if rd, ok := r.(*reader); ok {
			rd.queueMembers(b, slices.Compact(slices.Sorted(slices.Values(p.members))))
		}
		p.members = p.members[:0]
	}
	if b.Len() == 0 && p.started() {
		return nil
	}
	return p.send(ctx, b)
}

// Prefetch makes the reads fn makes of its Reader together, in one round
// trip, and remembers them, so that the same reads made next cost none;
// see store.Prefetcher. While fn runs, reads return zero values and
// listings yield nothing.
func (r *reader) Prefetch(ctx context.Context, fn func(r store.Reader)) error {
	if err := r.usable(ctx); err != nil {
		return err
	}
	if err := r.p.prefetch(ctx, r, fn); err != nil {
		return r.fail(ctx, err, "prefetching")
	}
	return nil
}

// note remembers what a record read in a listing tells of the records
// read by key: that it exists, as it is.
func (r *reader) note(v any) {
	switch x := v.(type) {
	case org.Member:
		r.p.remember(r.memberKey(x.PrincipalID), x, true)
		if x.Email != "" {
			r.p.remember(r.emailKey(x.Email), x, true)
		}
	case org.Scope:
		r.p.remember(r.scopeKey(x.Kind, x.ID), x, true)
	case org.ScopeMember:
		r.p.remember(r.scopeMemberKey(x.Kind, x.ScopeID, x.PrincipalID), x, true)
		r.p.remember(r.scopeFact(x.Kind, x.ScopeID), nil, true)
	case org.ScopeMembership:
		r.note(x.Scope)
		r.note(x.Member)
	case org.ScopeRole:
		r.p.remember(r.scopeRoleKey(x.Kind, x.ScopeID, x.ID), x, true)
	case invite.Invitation:
		r.p.remember(r.invitationKey(x.ID), x, true)
		if x.Status == invite.Pending {
			r.p.remember(r.pendingKey(x.Email), x, true)
		}
	case apikey.Key:
		r.p.remember(r.keyKey(x.ID), x, true)
	}
}

// copyOut copies the slices and maps of a record the memo holds, so that
// the caller's changes to a record it was given change nothing kept.
func copyOut[T any](v T) T {
	switch x := any(v).(type) {
	case org.Organization:
		x.Settings = maps.Clone(x.Settings)
		return any(x).(T)
	case invite.Invitation:
		x.TokenHash = bytes.Clone(x.TokenHash)
		return any(x).(T)
	case apikey.Key:
		x.Scope, x.Hash = slices.Clone(x.Scope), bytes.Clone(x.Hash)
		return any(x).(T)
	case org.ScopeRole:
		x.Capabilities = slices.Clone(x.Capabilities)
		return any(x).(T)
	case store.Counts:
		x.Roles = maps.Clone(x.Roles)
		return any(x).(T)
	}
	return v
}

// at is a time as the database keeps it: to the microsecond, in UTC.
func at(t time.Time) time.Time { return tsOut(tsIn(t)) }

// asStored returns a record as the database keeps it, its times as at
// makes them, so that a record remembered from a write reads back as the
// same record read from the database would.
func asStored(v any) any {
	switch x := v.(type) {
	case org.Organization:
		x.TrialStartedAt, x.TrialEndsAt, x.CreatedAt, x.UpdatedAt = at(x.TrialStartedAt), at(x.TrialEndsAt), at(x.CreatedAt), at(x.UpdatedAt)
		return x
	case org.Member:
		x.JoinedAt = at(x.JoinedAt)
		return x
	case org.Scope:
		x.CreatedAt = at(x.CreatedAt)
		return x
	case org.ScopeMember:
		x.AddedAt = at(x.AddedAt)
		return x
	case org.ScopeRole:
		x.CreatedAt = at(x.CreatedAt)
		return x
	case invite.Invitation:
		x.CreatedAt, x.ExpiresAt, x.UpdatedAt = at(x.CreatedAt), at(x.ExpiresAt), at(x.UpdatedAt)
		return x
	case apikey.Key:
		x.CreatedAt, x.ExpiresAt, x.RevokedAt, x.LastUsedAt = at(x.CreatedAt), at(x.ExpiresAt), at(x.RevokedAt), at(x.LastUsedAt)
		return x
	}
	return v
}

// startWith begins the transaction, with the reads that reads makes in the
// same round trip.
func (r *reader) startWith(ctx context.Context, reads func(r store.Reader)) error {
	if reads == nil {
		return r.p.flush(ctx)
	}
	return r.p.prefetch(ctx, r, reads)
}

// coalesce merges the queued inserts of members, and of audit events,
// each into one statement that inserts them all (from arrays, by unnest):
// an import of ten thousand members is then two statements, not twenty
// thousand, and the triggers on members run once per statement. An
// insert joins the group of inserts of its table before it unless a
// statement between them touches that table (an update of a member, a
// read of the audit trail): the order of what any statement could see is
// kept.
func coalesce(q []queued) []queued {
	if len(q) < 2 {
		return q
	}
	type group struct {
		at   int // its place in out
		rows [][]any
	}
	open := map[string]*group{} // by statement, while no other statement touched its table
	var groups []*group
	out := make([]queued, 0, len(q))
	for _, w := range q {
		_, ok := coalescers[w.sql]
		if ok && w.read == nil && w.want == 1 {
			if g := open[w.sql]; g != nil {
				g.rows = append(g.rows, w.args)
				continue
			}
			g := &group{at: len(out), rows: [][]any{w.args}}
			open[w.sql] = g
			groups = append(groups, g)
			out = append(out, w)
			continue
		}
		// Another statement: the groups of the tables it names close; a
		// deletion of the organization (whose rows go with it) closes all.
		for sql := range open {
			if strings.Contains(w.sql, "orgauthz."+coalescers[sql].table) || strings.HasPrefix(w.sql, deleteOrgSQL) {
				delete(open, sql)
			}
		}
		out = append(out, w)
	}
	for _, g := range groups {
		if len(g.rows) < 2 {
			continue
		}
		w := out[g.at]
		sql, args := coalescers[w.sql].merge(g.rows)
		out[g.at] = queued{sql: sql, args: args, want: int64(len(g.rows))}
	}
	return out
}

// coalescer merges rows of arguments of one insert into table (each row
// with the organization's ID first) into one statement and its arguments.
type coalescer struct {
	table string
	merge func(rows [][]any) (string, []any)
}

// coalescers turn rows of arguments of one insert (each with the
// organization's ID first) into one statement and its arguments.
var coalescers = map[string]coalescer{
	insertMemberSQL: {"members", func(rows [][]any) (string, []any) {
		n := len(rows)
		ids, names, roles, emails := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		kinds, externals, joined := make([]int16, n), make([]bool, n), make([]pgtype.Timestamptz, n)
		for i, r := range rows {
			ids[i], kinds[i], names[i], roles[i] = r[1].(string), r[2].(int16), r[3].(string), r[4].(string)
			externals[i], emails[i], joined[i] = r[5].(bool), r[6].(string), r[7].(pgtype.Timestamptz)
		}
		return `INSERT INTO orgauthz.members (org_id, ` + memberColumns + `)
			SELECT $1, * FROM unnest($2::text[], $3::int2[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::timestamptz[])`,
			[]any{rows[0][0], ids, kinds, names, roles, externals, emails, joined}
	}},
	insertAuditSQL: {"audit", func(rows [][]any) (string, []any) {
		n := len(rows)
		seqs, times := make([]int64, n), make([]pgtype.Timestamptz, n)
		actors, actions, targets, befores, afters, details := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, r := range rows {
			seqs[i], times[i] = r[1].(int64), r[2].(pgtype.Timestamptz)
			actors[i], actions[i], targets[i], befores[i], afters[i], details[i] = r[3].(string), r[4].(string), r[5].(string), r[6].(string), r[7].(string), r[8].(string)
		}
		return `INSERT INTO orgauthz.audit (org_id, seq, time, actor, action, target, role_before, role_after, detail)
			SELECT $1, * FROM unnest($2::int8[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`,
			[]any{rows[0][0], seqs, times, actors, actions, targets, befores, afters, details}
	}},
}
