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
)

// Reads from hot standbys (Options.Replicas).
//
// A read that may go to a standby (a View, a listing, a miss of the cache
// of Access, ScopeAccess or KeyAccess, an invitation looked up by ID) goes
// to one only if the standby is up, not further behind than
// Options.MaxReplicaLag, and has replayed, as last polled, at least the
// read's need: the WAL position of this Store's last committed change, and
// of the last change another Store notified (the fence; see below). The
// poll is only a hint: the read itself, in the same round trip, first
// checks the standby's replay position in a statement of its own, before
// the statements that read, whose snapshots are then at least as recent
// (a standby shows a commit to every snapshot taken after it replayed it).
// A standby behind the need fails that statement, and the read goes to the
// primary, as it does when the standby fails to answer at all (a standby
// that is down, restarting or promoted). So a read never sees an older
// state than the Store's own last change, whatever the standbys do.
//
// The fence keeps the read cache from being filled with a row older than
// the change that dropped its predecessor: a notification of another
// Store's change arrives after that change committed, so the listener,
// having dropped the cached answers, reads the primary's WAL position and
// raises the fence to it; until it has, every read goes to the primary. A
// read that fills the cache after the notification is so at least as
// recent as the change. When the listener reconnects, the fence is raised
// to the primary's position before the cache is used again.

// Defaults of the options of replicas.
const (
	DefaultMaxReplicaLag = time.Second
	DefaultReplicaPoll   = 50 * time.Millisecond
)

// lsnQuery reads the primary's WAL insert position, as a number of bytes:
// at or past the end of every commit record written before it ran.
const lsnQuery = `SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::int8`

// replayedQuery fails (a division by zero) unless the server is a standby
// that has replayed the WAL up to position $1 and has not restarted since
// $2, the start the poller saw: the first statement of every read sent to
// a standby. Either condition makes the snapshots taken after it recent
// enough. Replay only moves forward while a standby runs, so a standby
// the poller found past the need, and that has not restarted since, shows
// every later snapshot at least that much; that covers a REPEATABLE READ
// View, whose snapshot is taken by this very statement, before it reads
// the position. A statement of a READ COMMITTED read takes a snapshot of
// its own after this one has read the position.
const replayedQuery = `SELECT 1 / (pg_is_in_recovery() AND pg_postmaster_start_time() = $2
	AND coalesce(pg_last_wal_replay_lsn() - '0/0'::pg_lsn >= $1::int8, false))::int`

// pollQuery is what the poller reads of a standby: whether it is one, how
// far it has replayed (-1 if it has not), and when it started.
const pollQuery = `SELECT pg_is_in_recovery(), coalesce((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::int8, -1), pg_postmaster_start_time()`

// replica is a standby and what the poller last learned of it.
type replica struct {
	pool  *pgxpool.Pool
	owned bool // opened by the Store (Options.ReplicaURLs), closed by it
	name  string

	up atomic.Bool
	// polled is the replay position and start of the standby, as last
	// polled, together.
	polled atomic.Pointer[polled]
	// caughtUp is when, as far as the poller knows, the standby last held
	// everything the primary had written: the time of the latest sample of
	// the primary's position that the standby has replayed (Unix ns).
	caughtUp atomic.Int64
	reads    atomic.Int64 // reads it answered
	lastErr  atomic.Pointer[string]
}

// replicas are the standbys of a Store, and what routes reads to them.
type replicas struct {
	list    []*replica
	maxLag  time.Duration
	poll    time.Duration
	next    atomic.Uint64 // round robin
	stop    context.CancelFunc
	polling sync.WaitGroup

	// lastCommit is the WAL position after this Store's last committed
	// change; fence that of the last change another Store notified, and
	// pending the notifications whose position is being read.
	lastCommit atomic.Int64
	fence      atomic.Int64
	pending    atomic.Int64
	// unknown says a change committed whose position could not be read:
	// reads go to the primary until the poller has sampled the primary's
	// position after it.
	unknown atomic.Bool

	// samples of the primary's position, for the lag: the last few polls.
	mu      sync.Mutex
	samples [64]sample
	nsample int

	standby, primary, retried atomic.Int64
}

// polled is what a poll read of a standby.
type polled struct {
	replayed int64
	start    time.Time
}

type sample struct {
	at  int64 // Unix ns
	lsn int64
}

// ReplicaStats counts the reads of a Store with replicas since it opened:
// those a standby answered, those sent to the primary because no standby
// could answer (none up, all lagging, or behind what the read needs), and
// those tried on a standby first that the primary answered (the standby
// was behind after all, or failed).
type ReplicaStats struct {
	Standby, Primary, Retried int64
	// Replicas describe the standbys, in the order of the options.
	Replicas []ReplicaState
}

// ReplicaState is what the Store last learned of one standby.
type ReplicaState struct {
	// Name is the standby's host and port, as its pool connects.
	Name string
	// Up says it answered the last poll, as a standby.
	Up bool
	// Lag is how long ago it last held everything the primary had
	// written, as far as the polls tell (0 when it is up to date).
	Lag time.Duration
	// Reads is the reads it answered.
	Reads int64
	// LastError is the error of its last failed poll or read, if any.
	LastError string
}

// ReplicaStats returns the counts of reads by where they went, and the
// state of each standby. A Store without replicas returns zeros.
func (s *Store) ReplicaStats() ReplicaStats {
	rs := s.replicas
	if rs == nil {
		return ReplicaStats{}
	}
	st := ReplicaStats{Standby: rs.standby.Load(), Primary: rs.primary.Load(), Retried: rs.retried.Load()}
	now := time.Now().UnixNano()
	for _, r := range rs.list {
		x := ReplicaState{Name: r.name, Up: r.up.Load(), Reads: r.reads.Load()}
		if c := r.caughtUp.Load(); c > 0 {
			x.Lag = time.Duration(max(0, now-c))
		}
		if e := r.lastErr.Load(); e != nil {
			x.LastError = *e
		}
		st.Replicas = append(st.Replicas, x)
	}
	return st
}

// newReplicas makes the replicas of opts, opening the pools of
// ReplicaURLs, or returns nil if there are none.
func newReplicas(opts Options) (*replicas, error) {
	switch {
	case opts.MaxReplicaLag < 0:
		return nil, fmt.Errorf("pgstore: negative MaxReplicaLag %v", opts.MaxReplicaLag)
	case opts.ReplicaPoll < 0:
		return nil, fmt.Errorf("pgstore: negative ReplicaPoll %v", opts.ReplicaPoll)
	}
	if len(opts.Replicas) == 0 && len(opts.ReplicaURLs) == 0 {
		return nil, nil
	}
	rs := &replicas{maxLag: opts.MaxReplicaLag, poll: opts.ReplicaPoll}
	if rs.maxLag == 0 {
		rs.maxLag = DefaultMaxReplicaLag
	}
	if rs.poll == 0 {
		rs.poll = DefaultReplicaPoll
	}
	for i, p := range opts.Replicas {
		if p == nil {
			return nil, fmt.Errorf("pgstore: Options.Replicas[%d] is nil", i)
		}
		rs.list = append(rs.list, &replica{pool: p, name: poolName(p)})
	}
	for i, u := range opts.ReplicaURLs {
		cfg, err := pgxpool.ParseConfig(u)
		if err != nil {
			rs.closePools()
			return nil, fmt.Errorf("pgstore: Options.ReplicaURLs[%d]: %w", i, err)
		}
		// A pool connects on first use: a standby that is down now does
		// not keep the Store from opening.
		p, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			rs.closePools()
			return nil, fmt.Errorf("pgstore: Options.ReplicaURLs[%d]: %w", i, err)
		}
		rs.list = append(rs.list, &replica{pool: p, owned: true, name: poolName(p)})
	}
	return rs, nil
}

func poolName(p *pgxpool.Pool) string {
	c := p.Config().ConnConfig
	return fmt.Sprintf("%s:%d", c.Host, c.Port)
}

// closePools closes the pools the Store opened.
func (rs *replicas) closePools() {
	for _, r := range rs.list {
		if r.owned {
			r.pool.Close()
		}
	}
}

// start starts the poller, which polls the primary (through primary) and
// every standby each rs.poll.
func (rs *replicas) start(primary *pgxpool.Pool) {
	ctx, stop := context.WithCancel(context.Background())
	rs.stop = stop
	rs.polling.Add(1)
	go func() {
		defer rs.polling.Done()
		t := time.NewTicker(rs.poll)
		defer t.Stop()
		for {
			rs.pollOnce(ctx, primary)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// close stops the poller and closes the pools the Store opened.
func (rs *replicas) close() {
	if rs.stop != nil {
		rs.stop()
		rs.polling.Wait()
	}
	rs.closePools()
}

// pollOnce samples the primary's position, then reads each standby's.
func (rs *replicas) pollOnce(ctx context.Context, primary *pgxpool.Pool) {
	timeout := max(rs.poll, time.Second)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	// A change whose position is unknown committed before the flag was
	// cleared, so before the sample: the sample is past it.
	unknown := rs.unknown.Swap(false)
	var p int64
	err := primary.QueryRow(pctx, lsnQuery).Scan(&p)
	cancel()
	if err == nil {
		rs.mu.Lock()
		rs.samples[rs.nsample%len(rs.samples)] = sample{time.Now().UnixNano(), p}
		rs.nsample++
		rs.mu.Unlock()
		if unknown {
			rs.committed(p)
		}
	} else if unknown {
		rs.unknown.Store(true)
	}
	var wg sync.WaitGroup
	for _, r := range rs.list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var standby bool
			var replayed int64
			var start time.Time
			err := r.pool.QueryRow(rctx, pollQuery).Scan(&standby, &replayed, &start)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				r.down(err)
			case !standby:
				r.down(errors.New("not a standby (promoted?)"))
			case replayed < 0:
				r.down(errors.New("nothing replayed yet"))
			default:
				r.polled.Store(&polled{replayed, start})
				if at := rs.caughtUpAt(replayed); at > r.caughtUp.Load() {
					r.caughtUp.Store(at)
				}
				r.up.Store(true)
			}
		}()
	}
	wg.Wait()
}

// caughtUpAt returns the time of the latest sample of the primary's
// position at or before lsn, or 0.
func (rs *replicas) caughtUpAt(lsn int64) int64 {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var at int64
	for i := range min(rs.nsample, len(rs.samples)) {
		if s := rs.samples[i]; s.lsn <= lsn && s.at > at {
			at = s.at
		}
	}
	return at
}

// down marks r down, for err, until a poll finds it up again.
func (r *replica) down(err error) {
	r.up.Store(false)
	msg := err.Error()
	r.lastErr.Store(&msg)
}

// need returns the WAL position a read must see, and false if no standby
// may answer at all (a notified position is being read).
func (rs *replicas) need() (int64, bool) {
	if rs.pending.Load() > 0 || rs.unknown.Load() {
		return 0, false
	}
	return max(rs.lastCommit.Load(), rs.fence.Load()), true
}

// route returns a standby that may answer a read, with the arguments of
// the read's replayedQuery, or nil (the primary); it counts a read sent to
// the primary.
func (rs *replicas) route() (*replica, []any) {
	need, ok := rs.need()
	if ok {
		now := time.Now().UnixNano()
		n := uint64(len(rs.list))
		first := rs.next.Add(1)
		for i := range n {
			r := rs.list[(first+i)%n]
			if p := r.polled.Load(); r.up.Load() && p != nil && p.replayed >= need && now-r.caughtUp.Load() <= int64(rs.maxLag) {
				return r, []any{need, p.start}
			}
		}
	}
	rs.primary.Add(1)
	return nil, nil
}

// committed records the WAL position after a change of this Store's.
func (rs *replicas) committed(lsn int64) { raise(&rs.lastCommit, lsn) }

// fenced records the WAL position after a notified change.
func (rs *replicas) fenced(lsn int64) { raise(&rs.fence, lsn) }

// raise sets v to x if x is larger.
func raise(v *atomic.Int64, x int64) {
	for {
		old := v.Load()
		if x <= old || v.CompareAndSwap(old, x) {
			return
		}
	}
}

// answered counts a read r answered.
func (rs *replicas) answered(r *replica) {
	r.reads.Add(1)
	rs.standby.Add(1)
}

// failed counts a read that r could not answer, which goes to the primary:
// r is marked down unless it was only behind.
func (rs *replicas) failed(r *replica, err error) {
	rs.retried.Add(1)
	if !isBehind(err) {
		r.down(err)
	}
}

// errBehind is the error of a standby behind a read's need.
var errBehind = errors.New("pgstore: the standby has not replayed what the read needs")

// isBehind reports whether err is a standby's refusal of replayedQuery.
func isBehind(err error) bool {
	if errors.Is(err, errBehind) {
		return true
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeDivisionByZero
}

// retryable reports whether a read that failed with err on a standby
// should go to the primary: unless the caller's context ended, or the
// statement itself was refused (which the primary would refuse too).
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	return isBehind(err) || !isPgError(err) || isRecoveryConflict(err)
}

// isRecoveryConflict reports whether err is a standby cancelling a
// statement that conflicted with replay (SQLSTATE 40001 on a standby).
func isRecoveryConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "57P04")
}

// queryRow runs a read of one row (Scan into dest): on a standby when one
// may answer, else on the primary. With retryMissing, a standby that finds
// no row hands the read to the primary, for reads whose absence a caller
// acts on (an API key, an invitation just made by another Store).
func (s *Store) queryRow(ctx context.Context, retryMissing bool, sql string, args []any, dest ...any) error {
	rs := s.replicas
	if rs == nil {
		return s.pool.QueryRow(ctx, sql, args...).Scan(dest...)
	}
	if r, check := rs.route(); r != nil {
		b := &pgx.Batch{}
		b.Queue(replayedQuery, check...)
		b.Queue(sql, args...)
		br := r.pool.SendBatch(ctx, b)
		_, err := br.Exec()
		if err == nil {
			err = br.QueryRow().Scan(dest...)
		}
		if cerr := br.Close(); err == nil && cerr != nil && !errors.Is(cerr, pgx.ErrNoRows) {
			err = cerr
		}
		switch {
		case err == nil || errors.Is(err, pgx.ErrNoRows) && !retryMissing:
			rs.answered(r)
			return err
		case errors.Is(err, pgx.ErrNoRows) || retryable(ctx, err):
			if !errors.Is(err, pgx.ErrNoRows) {
				rs.failed(r, err)
			} else {
				rs.retried.Add(1)
			}
		default:
			return err
		}
	}
	return s.pool.QueryRow(ctx, sql, args...).Scan(dest...)
}

// readQuerier is the querier of the listings outside transactions: each
// page is read on a standby when one may answer, else on the primary.
type readQuerier struct{ s *Store }

func (q readQuerier) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return q.s.pool.Exec(ctx, sql, args...)
}

func (q readQuerier) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return q.s.pool.QueryRow(ctx, sql, args...)
}

func (q readQuerier) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	s := q.s
	rs := s.replicas
	if rs == nil {
		return s.pool.Query(ctx, sql, args...)
	}
	if r, check := rs.route(); r != nil {
		b := &pgx.Batch{}
		b.Queue(replayedQuery, check...)
		b.Queue(sql, args...)
		br := r.pool.SendBatch(ctx, b)
		_, err := br.Exec()
		if err == nil {
			rows, err := br.Query()
			if err == nil {
				rs.answered(r)
				return &batchRows{Rows: rows, br: br}, nil
			}
		}
		br.Close()
		if !retryable(ctx, err) {
			return nil, err
		}
		rs.failed(r, err)
	}
	return s.pool.Query(ctx, sql, args...)
}

// batchRows are the rows of a batch's statement, whose Close closes the
// batch too, giving its connection back.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r *batchRows) Close() {
	r.Rows.Close()
	r.br.Close()
}

// noteCommit queues, after the COMMIT in b, the read of the WAL position
// the commit reached, for the Store's replicas (nothing without them).
func (s *Store) noteCommit(b *pgx.Batch) {
	rs := s.replicas
	if rs == nil {
		return
	}
	b.Queue(lsnQuery).QueryRow(func(row pgx.Row) error {
		var lsn int64
		if err := row.Scan(&lsn); err != nil {
			// The change committed, but its position is unknown: read from
			// the primary until a later one is known.
			rs.unknown.Store(true)
			return nil
		}
		rs.committed(lsn)
		return nil
	})
}
