// Package pgstore is the PostgreSQL store of orgauthz, for services that run
// as several replicas over one database. It keeps the whole contract of
// package store (storetest.Run asserts it against a real server).
//
// # Setting up
//
// The schema lives in the PostgreSQL schema "orgauthz" and is created and
// upgraded by Migrate, an explicit step that is safe to run from every
// replica at once. Open (or New, over a pool of the caller's) then checks
// that the schema is there:
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	...
//	if err := pgstore.Migrate(ctx, pool); err != nil { ... }
//	st, err := pgstore.New(ctx, pool, pgstore.Options{})
//	...
//	defer st.Close()
//	svc, err := orgauthz.New(st, orgauthz.Options{...})
//
// # Consistency
//
// Store.Update runs in one READ COMMITTED transaction that first locks the
// organization: a transaction-scoped advisory lock on its ID (which holds
// an organization that has no row yet, so that two replicas creating it at
// once are serialized too, and the second finds it), then its row FOR
// UPDATE. The Updates of one organization are so serialized across every
// replica, and an invariant checked inside one (the last admin, the seat
// limit) still holds at its commit; their functions run one at a time.
// Updates of different organizations never wait on each other. Store.View
// reads one REPEATABLE READ, read-only snapshot.
//
// The database holds what it can itself: one membership per principal and
// organization, one scope per kind and ID, invitation and API key IDs
// unique across the store (unique indexes on the ID alone; the primary
// keys lead with the organization, migration 6), at most one Pending
// invitation per address and organization, and at most one member per
// non-empty address and organization (partial unique indexes). Of two
// Updates creating one invitation or key ID at once, the second waits for
// the first to end, then fails with store.ErrExists if it committed. A
// Tx checks before it writes, or writes with ON CONFLICT DO NOTHING, so
// that a duplicate it reports as store.ErrExists leaves its transaction
// usable; only a writer outside the store racing it can make the database
// refuse a row, which also reads as store.ErrExists.
//
// # Round trips
//
// Over a network each round trip to the server costs more than the work it
// carries, so an Update or a View sends its statements in batches
// (pipelined, one round trip each) on a connection of its own:
//
//   - The statements that begin it (BEGIN, the locks, the organization's
//     row, its last audit sequence number) go in one batch, with the reads
//     that the caller names through store.UpdateWith or store.ViewWith; a
//     View sends nothing before its first read, which goes with BEGIN.
//   - Every read is remembered until the function returns, so that a read
//     made twice, or named first, costs nothing; Prefetch (a
//     store.Prefetcher) names more reads, made together in one round trip,
//     and the member records it names are read in one statement.
//   - A write whose success the transaction can tell from what it has read
//     (the member exists, the address is free, the scope is there) is
//     queued, and sent before the reads of the next batch, or with COMMIT;
//     consecutive inserts of members, and of audit events, go as one
//     statement each. A write it cannot tell (an invitation or key ID,
//     unique across the store) is sent at once, with the queue before it,
//     so that it fails where the store contract says; CreateInvitations
//     checks its IDs in one round trip and queues one INSERT, so that of
//     two Updates creating one ID at once the second fails at commit
//     (store.ErrExists from Update, as the contract allows). Every queued
//     write states the rows it must change, and the server checks it: one
//     that finds the rows other than the transaction knew them fails the
//     Update, and the transaction, COMMIT and all, is rolled back. Only a
//     writer outside the store could cause that, the organization being
//     locked.
//   - A transaction remembers what it writes, so that it reads its own
//     writes without asking.
//
// The service names the reads of every operation, so that a change takes
// at most three round trips (the begin with its reads, at most one more
// batch, the writes with COMMIT) and a read two; its tests count them.
// An import of 10,000 members is one INSERT per table (migration 5 runs
// the triggers on members once per statement).
//
// # Lookups across organizations
//
// Store.Memberships (a principal's organizations) and Store.InvitationsTo
// (the Pending invitations to an address) read what was last committed,
// one statement per page, through indexes by principal and by address
// (migration 3), so that a page costs the same however many
// organizations, members and invitations the database holds. So do the
// lookups of a Reader by address (MemberByEmail), by kind
// (ServicePrincipals) and by principal and scope kind (MemberScopes), and
// Store.TrialsEnding (the organizations whose trial ends in a window, for
// reminders), through a partial index of the organizations on trial
// (migration 7). Every listing reads pages of up to 256 rows: a caller
// that takes fewer entries, a page of 20 say, costs one statement.
//
// Database errors are translated to the store's sentinels (store.ErrExists,
// store.ErrNotFound, store.ErrClosed) or, for everything else, wrapped with
// ErrDatabase: no caller needs pgx to read an error.
//
// # The read cache
//
// The hot paths answer from a per-process cache of what they last read:
// Store.Access (the principal's role, the organization's scheme, edition,
// trial and standing, or that either is missing; an answer with a trial
// has no Code), Store.ScopeAccess (the same,
// with whether a scope resource exists, the principal's explicit role on
// it and the capabilities of that role when it is custom: everything a
// scope check reads, in one statement on a miss) and Store.KeyAccess (an
// API key with its owner's access, by key ID; unknown keys are not kept).
// All three are kept by organization, and dropped together: whatever
// changes in an organization drops every answer about it.
//
// An Update of this Store drops the organization's entries when it
// commits, before it returns, so a replica never answers from a state older
// than its own last write: a key it revokes is refused by its next
// Authenticate. Changes made elsewhere (another replica, or anyone writing
// the tables) reach the cache through PostgreSQL's LISTEN/NOTIFY: triggers
// on the organizations, members, scopes, scope_members, scope_roles and
// api_keys tables (migrations 1 and 4) notify channel "orgauthz" with the
// organization's ID at commit (an empty payload, which empties the cache,
// when a table is truncated; a write made with session_replication_role =
// replica fires no trigger, and is seen only when the entries expire), and
// a dedicated connection of each Store listens and drops the entries. A
// key's last use (TouchAPIKey) notifies no one: it would drop every answer
// of the organization in every process once a minute per key in use. The
// Store that touches a key keeps its cached last use up to date; others
// answer the one they read, and touch the key themselves when that looks a
// minute old, so a key is touched at most once a minute per replica.
//
// A read that raced with a change is not kept: every entry carries the
// organization's generation from before its read (a read of KeyAccess,
// which learns its organization only from the answer, checks the cache's
// journal of recent invalidations instead). While the listening connection
// is down the cache is bypassed, and emptied when it is back. Entries also
// expire after Options.CacheTTL, which bounds staleness even if a
// notification were lost without the connection failing.
// Options.DisableCache turns the cache off: every call then reads the
// database.
//
// The cache of KeyAccess is on by default, with the trade-off the cache
// of Access already makes for a change of role or a member's removal: a
// key revoked, or whose owner is removed or demoted, through another
// replica is refused there within the notification latency (milliseconds;
// within CacheTTL if a notification were lost without the connection
// failing), not from the moment the revocation commits; the replica that
// revoked it refuses it at once. In exchange, Authenticate costs no
// round trip. Options.DisableKeyCache turns this cache off alone, for
// deployments where a revocation must hold across replicas from its
// commit: every Authenticate then reads the key (one statement). A miss of
// an unknown key ID costs a statement where a cached known one costs none,
// so the time Authenticate takes may tell whether a key ID was used
// lately on that replica; it never tells anything of the secret, and key
// IDs are 80 random bits, which no one guesses.
//
// The answers of ScopeAccess share the custom role's capabilities, read
// only, with every caller (as the contract allows), so that a hit
// allocates nothing; KeyAccess answers a copy of the key's Scope.
// InvitationToken, Memberships and InvitationsTo are not cached, nor is
// any read of a View or an Update.
//
// # Read replicas
//
// Options.Replicas (pools of the caller's) and Options.ReplicaURLs (pools
// the Store opens and closes) name streaming hot standbys of the database.
// Views, the listings outside transactions (Organizations, Memberships,
// InvitationsTo), the misses of the read cache (Access, ScopeAccess,
// KeyAccess) and the lookups of an invitation by ID (InvitationToken,
// FindInvitation) may be answered by one; every Update, everything inside
// it, TouchAPIKey and LISTEN stay on the primary. The guarantees:
//
//   - A Store never reads older than its own last committed change. Each
//     commit's batch also reads the primary's WAL insert position (no
//     round trip more), and a read goes to a standby only once, as
//     polled, it has replayed that far; the read itself then checks it,
//     in a statement of its own before the ones that read and in the same
//     round trip, so the snapshot it reads is at least that recent, and a
//     standby found behind hands the read to the primary.
//   - A cache entry filled from a standby is never older than the change
//     whose notification dropped its predecessor. The listener, having
//     dropped the entries, reads the primary's WAL position (past the
//     change, which committed before its notification was sent) and raises
//     a fence that every read must have replayed; until it knows it, every
//     read goes to the primary. When the listener reconnects, the fence is
//     raised to the primary's position before the cache is used again.
//   - A standby that is down, restarting, promoted or further behind the
//     primary than Options.MaxReplicaLag (by the poller's samples of both
//     positions, every Options.ReplicaPoll) is skipped until a poll finds
//     it well; a read that fails on one (the standby went away, or replay
//     cancelled the statement) is made again on the primary, so nothing
//     fails because a standby is gone. A View moves only if its first
//     round trip fails; one whose standby fails later fails.
//   - The ID lookups that a caller acts on when they find nothing
//     (KeyAccess, InvitationToken, FindInvitation: a key or invitation
//     another Store has just made) ask the primary before saying so.
//
// Without a cache (Options.DisableCache) there is no fence: a change of
// another Store is seen by this one once the standby has replayed it, or,
// if the standby lags, once it is further behind than MaxReplicaLag and
// the primary answers. ReplicaStats counts where reads went and describes
// each standby, for a host's metrics.
//
// # Connections and deadlocks
//
// An Update or a View holds one connection of the pool for the whole of its
// function; Access, ScopeAccess and KeyAccess (when they miss the cache),
// TouchAPIKey, InvitationToken and each page of Organizations, Memberships and
// InvitationsTo take one for a statement. Size the pool for the Updates that may wait on one
// organization's lock at once, plus the reads beside them. The lock of an
// organization is not reentrant: a function passed to Update or View must
// not call Update on the same organization, which would wait for itself.
// A listing of a Tx or Reader reads a page at a time and holds no rows
// while it yields, so the function may use its Tx as it ranges.
//
// # Close
//
// Close stops the listener and, for a Store made by Open, closes its pool,
// which waits for running calls to return their connections. Calls after
// Close fail with store.ErrClosed; so does an Update that was running when
// Close was called, unless its function failed on its own, and it commits
// nothing.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgauthz/orgauthz/store"
)

// ErrDatabase wraps every database error that has no store sentinel of its
// own: a lost connection, a refused statement, an unreachable server.
var ErrDatabase = errors.New("pgstore: database error")

// Default settings of the read cache.
const (
	DefaultCacheTTL  = 10 * time.Second
	DefaultCacheSize = 100_000
)

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// DisableCache turns the read cache off: of Access, ScopeAccess and
	// KeyAccess.
	DisableCache bool
	// DisableKeyCache turns off the cache of KeyAccess only: every
	// Authenticate then reads the key from the database, so that a key
	// revoked through another Store (another replica) is refused from the
	// moment the revocation commits, rather than within the notification
	// latency (see the package documentation, "The read cache").
	DisableKeyCache bool
	// CacheTTL bounds how long a cached answer is used: DefaultCacheTTL
	// when 0. Notifications normally drop an entry within milliseconds of
	// the change; the TTL is the bound if one were lost.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached answers (DefaultCacheSize
	// when 0); a full cache is emptied and fills again.
	CacheSize int

	// Replicas are pools of streaming hot standbys of the database, for
	// reads: Views, listings, misses of the read cache, and invitations
	// looked up by ID may be answered by one, never older than this
	// Store's last change nor than a change another Store notified (see
	// the package documentation, "Read replicas"). Updates, and LISTEN,
	// stay on the primary. The caller keeps the pools and closes them
	// after the Store.
	Replicas []*pgxpool.Pool
	// ReplicaURLs are connection strings of more standbys, whose pools
	// the Store opens (without connecting: a standby down at the start
	// is only skipped) and closes.
	ReplicaURLs []string
	// MaxReplicaLag is how far behind the primary, in time, a standby may
	// be and still answer reads (DefaultMaxReplicaLag when 0); one
	// further behind is skipped until it catches up.
	MaxReplicaLag time.Duration
	// ReplicaPoll is how often each standby's replay position and health
	// are read (DefaultReplicaPoll when 0).
	ReplicaPoll time.Duration
}

// Store is a store.Store over a PostgreSQL database. All its methods may be
// called concurrently.
type Store struct {
	pool     *pgxpool.Pool
	ownsPool bool
	closed   atomic.Bool
	cache    *cache    // nil when disabled
	replicas *replicas // nil without standbys

	stopListen context.CancelFunc
	listening  sync.WaitGroup
	closeOnce  sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at connString (a URL or keyword/value
// string, as pgxpool.ParseConfig takes) and returns a Store that owns the
// pool: Close closes it. The schema must have been migrated (see Migrate).
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	pool, err := pgxpool.New(ctx, connString)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	s, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownsPool = true
	return s, nil
}

// New returns a Store over pool, which the caller keeps and closes after
// the Store. It fails with an error matching ErrSchema unless the
// database's schema is at SchemaVersion or later (see Migrate). With the
// cache on, it opens one more connection of its own, outside the pool, to
// listen for changes, and returns once it listens.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	switch {
	case opts.CacheTTL < 0:
		return nil, fmt.Errorf("pgstore: negative CacheTTL %v", opts.CacheTTL)
	case opts.CacheSize < 0:
		return nil, fmt.Errorf("pgstore: negative CacheSize %d", opts.CacheSize)
	}
	v, err := schemaVersion(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("pgstore: reading the schema version: %w", translate(ctx, err))
	}
	if v < SchemaVersion {
		return nil, fmt.Errorf("%w: the database is at version %d, this package needs %d: call Migrate", ErrSchema, v, SchemaVersion)
	}
	rs, err := newReplicas(opts)
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool, replicas: rs}
	if rs != nil {
		rs.start(pool)
	}
	if opts.DisableCache {
		return s, nil
	}
	ttl, size := opts.CacheTTL, opts.CacheSize
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	if size == 0 {
		size = DefaultCacheSize
	}
	s.cache = newCache(ttl, size, !opts.DisableKeyCache)
	if err := s.startListener(ctx, pool.Config().ConnConfig.Copy(), min(max(ttl/2, minKeepAlive), maxKeepAlive)); err != nil {
		if rs != nil {
			rs.close()
		}
		return nil, err
	}
	return s, nil
}

// Close stops the Store; see the package documentation. It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.stopListen != nil {
			s.stopListen()
			s.listening.Wait()
		}
		if s.replicas != nil {
			s.replicas.close()
		}
		if s.ownsPool {
			s.pool.Close()
		}
	})
	return nil
}

// errClosed returns the error of a call after Close.
func errClosed(what string, args ...any) error {
	return fmt.Errorf("pgstore: %s: %w", fmt.Sprintf(what, args...), store.ErrClosed)
}

// Update runs fn in a transaction that holds organization orgID; see
// store.Store and the package documentation.
func (s *Store) Update(ctx context.Context, orgID string, fn func(ctx context.Context, tx store.Tx) error) error {
	return s.update(ctx, orgID, nil, fn)
}

// UpdatePrefetched is Update, with the reads that reads makes sent in the
// round trip that begins the transaction; see store.PrefetchingStore.
func (s *Store) UpdatePrefetched(ctx context.Context, orgID string, reads func(r store.Reader), fn func(ctx context.Context, tx store.Tx) error) error {
	return s.update(ctx, orgID, reads, fn)
}

// ViewPrefetched is View, with the reads that reads makes sent in the
// round trip that begins the transaction; see store.PrefetchingStore.
func (s *Store) ViewPrefetched(ctx context.Context, orgID string, reads func(r store.Reader), fn func(ctx context.Context, r store.Reader) error) error {
	return s.view(ctx, orgID, reads, fn)
}

var _ store.PrefetchingStore = (*Store)(nil)

func (s *Store) update(ctx context.Context, orgID string, reads func(r store.Reader), fn func(ctx context.Context, tx store.Tx) error) error {
	if s.closed.Load() {
		return errClosed("update of organization %q", orgID)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := &pipe{s: s, orgID: orgID}
	t := &tx{reader: reader{s: s, p: p, orgID: orgID}}
	p.start = func(b *pgx.Batch) { t.begin(b) }
	committed := false
	defer func() {
		t.done = true
		if !committed {
			_ = p.end(ctx, false)
		}
	}()
	// The organization is locked before fn runs: the functions of its
	// Updates run one at a time.
	if err := t.startWith(ctx, reads); err != nil {
		return s.fail(ctx, err, "update of organization %q: begin", orgID)
	}
	if err := fn(ctx, t); err != nil {
		return err
	}
	t.done = true
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return errClosed("update of organization %q", orgID)
	}
	if err := p.end(ctx, true); err != nil {
		return s.fail(ctx, err, "update of organization %q: commit", orgID)
	}
	committed = true
	if s.cache != nil {
		s.cache.invalidate(orgID)
	}
	return nil
}

// begin queues the statements that begin an Update's transaction: BEGIN;
// the lock of the organization, an advisory lock on its ID (which holds
// an organization that has no row yet, so that two replicas creating it
// are serialized too) and its row FOR UPDATE; and the last audit sequence
// number. The row read is remembered as the transaction's Organization.
func (t *tx) begin(b *pgx.Batch) {
	b.Queue(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClassOrg, t.orgID)
	b.Queue(orgQuery+` FOR UPDATE`, t.orgID).Query(func(rows pgx.Rows) error {
		o, found, err := collectOne(rows, scanOrg)
		if err != nil {
			return err
		}
		t.exists = found
		t.p.remember(recordKey(orgQuery, t.orgID), o, found)
		return nil
	})
	b.Queue(`SELECT coalesce(max(seq), 0) FROM orgauthz.audit WHERE org_id = $1`, t.orgID).QueryRow(func(row pgx.Row) error {
		return row.Scan(&t.seq)
	})
}

// View runs fn with a consistent read-only view of organization orgID; see
// store.Store.
func (s *Store) View(ctx context.Context, orgID string, fn func(ctx context.Context, r store.Reader) error) error {
	return s.view(ctx, orgID, nil, fn)
}

func (s *Store) view(ctx context.Context, orgID string, reads func(r store.Reader), fn func(ctx context.Context, r store.Reader) error) error {
	if s.closed.Load() {
		return errClosed("view of organization %q", orgID)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := &pipe{s: s, orgID: orgID}
	if s.replicas != nil {
		p.standby, p.check = s.replicas.route()
	}
	r := &reader{s: s, p: p, orgID: orgID}
	// The snapshot is taken by the first statement after BEGIN: on a
	// standby, the check that it is recent enough (see replayedQuery).
	p.start = func(b *pgx.Batch) {
		b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
		if p.standby != nil {
			b.Queue(replayedQuery, p.check...)
		}
		b.Queue(orgQuery, orgID).Query(func(rows pgx.Rows) error {
			o, found, err := collectOne(rows, scanOrg)
			if err != nil {
				return err
			}
			r.exists = found
			p.remember(recordKey(orgQuery, orgID), o, found)
			return nil
		})
	}
	defer func() {
		r.done = true
		_ = p.end(ctx, false)
	}()
	// Nothing is sent before fn's first read (or the reads named), which
	// goes with BEGIN.
	if reads != nil {
		if err := r.startWith(ctx, reads); err != nil {
			return s.fail(ctx, err, "view of organization %q: begin", orgID)
		}
	}
	return fn(ctx, r)
}

// fail translates err, the failure of a call described by what and args.
func (s *Store) fail(ctx context.Context, err error, what string, args ...any) error {
	if s.closed.Load() {
		return errClosed(what, args...)
	}
	return fmt.Errorf("pgstore: %s: %w", fmt.Sprintf(what, args...), translate(ctx, err))
}

// PostgreSQL error codes that have store sentinels.
const (
	codeUniqueViolation     = "23505"
	codeDivisionByZero      = "22012" // a queued write's check of its row count (pipe.go)
	codeForeignKeyViolation = "23503"
)

// translate maps a database error to the store's sentinels: a done context
// to its error, a unique violation to store.ErrExists, a foreign key
// violation to store.ErrNotFound, and anything else to ErrDatabase (still
// wrapping pgx's error, for logs).
func translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUniqueViolation:
			return fmt.Errorf("%w (%s)", store.ErrExists, pe.ConstraintName)
		case codeForeignKeyViolation:
			return fmt.Errorf("%w (%s)", store.ErrNotFound, pe.ConstraintName)
		}
	}
	return fmt.Errorf("%w: %w", ErrDatabase, err)
}
