package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pollInterval is how often PauseReplay and WaitReplayed look at the
// standby's replay.
const pollInterval = 10 * time.Millisecond

// replayTimeout bounds the wait of StoreDatabaseWithStandby for the shared
// standby.
const replayTimeout = 30 * time.Second

// sharedStandby is the standby of SharedStandby, stopped by Main.
var sharedStandby struct {
	mu      sync.Mutex
	started bool // StartStandby was called; c and err are its results
	closed  bool // Main has closed the standby
	c       *Cluster
	err     error
}

// StartStandby starts a streaming hot standby of c, which must be running:
// a base backup of c taken by pg_basebackup -R (so it streams from c over
// c's Unix socket) in a new temporary directory, listening on a Unix socket
// of its own in that directory. It returns the standby as a *Cluster:
// ConnString, Stop, Restart, Close and Log work on it as on any cluster
// (Close stops and removes it). Any error says which step failed with its
// output, and leaves nothing running or on disk.
//
// The standby has c's options and databases, takes no writes (SQLSTATE
// 25006, read_only_sql_transaction), and shows what c commits once it has
// replayed it, within milliseconds: WaitReplayed waits for that. A Restart
// of the standby streams again from where it stopped (c keeps 256 MB of
// WAL for it: wal_keep_size), and the standby connects again to c within
// 0.1 s of c's Restart. Replay waits at most 30 s (the server's
// default max_standby_streaming_delay) for a standby query that conflicts
// with it, such as one holding a lock on a table c truncates, then cancels
// the query. A standby of a standby is refused.
func (c *Cluster) StartStandby() (*Cluster, error) {
	if c.standby {
		return nil, errors.New("pgtest: StartStandby: the cluster is itself a standby; start the standby from its primary")
	}
	basebackup := filepath.Join(filepath.Dir(c.pgCtl), "pg_basebackup")
	if !isExecutable(basebackup) {
		return nil, fmt.Errorf("%w: no pg_basebackup next to %s; install it (apt-get install postgresql)", ErrNoServer, c.pgCtl)
	}
	// Held through the base backup, so that c is not stopped in its middle.
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, errors.New("pgtest: StartStandby: cluster closed")
	case !c.running:
		return nil, errors.New("pgtest: StartStandby: server not running")
	}
	dir, err := tempDir()
	if err != nil {
		return nil, err
	}
	s := &Cluster{
		dir:     dir,
		data:    filepath.Join(dir, "data"),
		log:     filepath.Join(dir, "log"),
		pgCtl:   c.pgCtl,
		asUser:  c.asUser,
		opts:    c.opts,
		standby: true,
	}
	if err := s.baseBackup(basebackup, c); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.start(); err != nil {
		// As in Start: pg_ctl may leave the server starting.
		s.pgctl("-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
		return nil, err
	}
	s.running = true
	live.Lock()
	live.m[s] = struct{}{}
	live.Unlock()
	return s, nil
}

// baseBackup makes the data directory of standby c by pg_basebackup, the
// program at path, from primary, with the WAL it needs to start and the
// configuration to stream from primary (standby.signal, primary_conninfo).
func (c *Cluster) baseBackup(path string, primary *Cluster) error {
	if c.asUser != nil {
		if err := os.Chown(c.dir, c.asUser.uid, c.asUser.gid); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	args := []string{"-D", c.data, "-h", primary.dir, "-p", strconv.Itoa(port), "-U", "postgres", "-w",
		"--write-recovery-conf", "--wal-method=stream", "--checkpoint=fast", "--no-manifest"}
	if !c.opts.Durable {
		args = append(args, "--no-sync")
	}
	if out, err := c.command(path, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: StartStandby: pg_basebackup: %v\n%s", err, out)
	}
	return nil
}

// IsStandby reports whether c was started by StartStandby.
func (c *Cluster) IsStandby() bool {
	return c.standby
}

// PauseReplay pauses WAL replay on standby c (pg_wal_replay_pause()) and
// returns once replay is paused (pg_get_wal_replay_pause_state() =
// 'paused'). WAL keeps streaming; the standby's data stays as it is. The
// pause lasts until ResumeReplay, or until the standby is restarted.
func (c *Cluster) PauseReplay(ctx context.Context) error {
	if !c.standby {
		return errors.New("pgtest: PauseReplay: the cluster is not a standby (see StartStandby)")
	}
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: PauseReplay: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return fmt.Errorf("pgtest: PauseReplay: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		return fmt.Errorf("pgtest: PauseReplay: pg_wal_replay_pause(): %w", err)
	}
	paused := "SELECT pg_get_wal_replay_pause_state() = 'paused'"
	if version < 140000 { // PostgreSQL 13 has no pause state: the request is the pause
		paused = "SELECT pg_is_wal_replay_paused()"
	}
	for {
		var done bool
		if err := conn.QueryRow(ctx, paused).Scan(&done); err != nil {
			return fmt.Errorf("pgtest: PauseReplay: waiting for replay to pause: %w", err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgtest: PauseReplay: waiting for replay to pause: %w", ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// ResumeReplay resumes WAL replay on standby c.
func (c *Cluster) ResumeReplay(ctx context.Context) error {
	if !c.standby {
		return errors.New("pgtest: ResumeReplay: the cluster is not a standby (see StartStandby)")
	}
	if err := c.exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		return fmt.Errorf("pgtest: ResumeReplay: pg_wal_replay_resume(): %w", err)
	}
	return nil
}

// WaitReplayed waits until standby c has replayed everything primary has
// written up to the moment of the call (pg_last_wal_replay_lsn() on c ≥
// pg_current_wal_lsn() on primary, read at the call), or ctx ends.
//
// First it commits on primary a transaction that writes a WAL record
// (pg_logical_emit_message) with synchronous_commit on, which flushes the
// WAL before it: so the commits made before the call are waited for even
// when synchronous_commit is off (see Options), as they would not be
// written yet. primary must be the cluster c was started from: another is
// refused. While c's replay is paused, WaitReplayed waits until ctx ends;
// the error then wraps ctx's and says how far c has replayed.
func (c *Cluster) WaitReplayed(ctx context.Context, primary *Cluster) error {
	switch {
	case !c.standby:
		return errors.New("pgtest: WaitReplayed: the cluster is not a standby (see StartStandby)")
	case primary == nil:
		return errors.New("pgtest: WaitReplayed: no primary")
	case primary.standby:
		return errors.New("pgtest: WaitReplayed: the primary given is itself a standby")
	}
	target, primaryID, err := primary.flushWAL(ctx)
	if err != nil {
		return fmt.Errorf("pgtest: WaitReplayed: on the primary: %w", err)
	}
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: WaitReplayed: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var id string
	if err := conn.QueryRow(ctx, "SELECT system_identifier::text FROM pg_control_system()").Scan(&id); err != nil {
		return fmt.Errorf("pgtest: WaitReplayed: %w", err)
	}
	if id != primaryID {
		return fmt.Errorf("pgtest: WaitReplayed: the standby (system identifier %s) is not one of the primary given (%s)", id, primaryID)
	}
	replayed := "none"
	for {
		var lsn *string
		var done bool
		err := conn.QueryRow(ctx, "SELECT pg_last_wal_replay_lsn()::text, coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)",
			target).Scan(&lsn, &done)
		switch {
		case err != nil && ctx.Err() == nil:
			return fmt.Errorf("pgtest: WaitReplayed: %w", err)
		case err == nil && done:
			return nil
		case lsn != nil:
			replayed = *lsn
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgtest: WaitReplayed: the standby has replayed the WAL up to %s, the primary's is at %s: %w",
				replayed, target, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// flushWAL commits a transaction that writes WAL, flushing it and all the
// WAL before it, and returns c's WAL write position after it and c's
// system identifier.
func (c *Cluster) flushWAL(ctx context.Context) (lsn, id string, err error) {
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return "", "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `BEGIN; SET LOCAL synchronous_commit = on;
		SELECT pg_logical_emit_message(true, 'pgtest', 'WaitReplayed'); COMMIT`); err != nil {
		return "", "", err
	}
	err = conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text, system_identifier::text FROM pg_control_system()").Scan(&lsn, &id)
	return lsn, id, err
}

// StartPrivateStandby is StartStandby for a test: the standby is closed
// when the test ends; it fails the test on error (or skips it as Shared
// does, without server binaries). Register the cleanups that close the
// test's connections to the standby after calling it.
func StartPrivateStandby(t testing.TB, primary *Cluster) *Cluster {
	t.Helper()
	s, err := primary.StartStandby()
	if err != nil {
		skipOrFatal(t, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// SharedStandby returns a streaming standby of the package's shared
// cluster (Shared), started on first use and stopped by Main, shared by
// the package's tests like Shared: it has all the shared cluster's
// databases. It skips or fails the test as Shared does, and its error too
// is remembered. Tests must not stop it or pause its replay (use
// StartPrivate + StartPrivateStandby for that).
func SharedStandby(t testing.TB) *Cluster {
	t.Helper()
	s, err := sharedStandbyCluster()
	if err != nil {
		skipOrFatal(t, err)
	}
	return s
}

// sharedStandbyCluster returns the shared standby, started on first use.
func sharedStandbyCluster() (*Cluster, error) {
	sharedStandby.mu.Lock()
	defer sharedStandby.mu.Unlock()
	if sharedStandby.closed {
		return nil, errors.New("pgtest: the shared standby is closed")
	}
	if !sharedStandby.started {
		sharedStandby.started = true
		var primary *Cluster
		if primary, sharedStandby.err = SharedCluster(); sharedStandby.err == nil {
			sharedStandby.c, sharedStandby.err = primary.StartStandby()
		}
	}
	return sharedStandby.c, sharedStandby.err
}

// closeSharedStandby closes the shared standby, if started, and keeps
// SharedStandby from starting another.
func closeSharedStandby() error {
	sharedStandby.mu.Lock()
	defer sharedStandby.mu.Unlock()
	sharedStandby.closed = true
	if sharedStandby.c == nil {
		return nil
	}
	return sharedStandby.c.Close()
}

// StoreDatabaseWithStandby is StoreDatabase (a fresh migrated store
// database on the shared cluster) and returns also the connection string
// of the same database on SharedStandby, after the standby has replayed
// its creation (so it can be connected to at once); it fails the test if
// that takes more than 30 s.
//
// The standby then follows the database with a lag of milliseconds: a test
// that needs to read its own writes from the standby calls
// SharedStandby(t).WaitReplayed(ctx, Shared(t)) first. When the test ends,
// after the cleanups it registered later (close its connections to both
// there), the sessions left on the standby's copy are ended before the
// database is emptied for the next test.
func StoreDatabaseWithStandby(t testing.TB) (primary, standby string) {
	t.Helper()
	s := SharedStandby(t)
	c, name := storeDatabase(t)
	t.Cleanup(func() { // before StoreDatabase's, which truncates the tables
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := terminateSessions(ctx, s, name); err != nil {
			t.Errorf("pgtest: ending the sessions on the standby's database %q: %v", name, err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), replayTimeout)
	defer cancel()
	if err := s.WaitReplayed(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c.ConnString(name), s.ConnString(name)
}

// terminateSessions ends the sessions on database name of c.
func terminateSessions(ctx context.Context, c *Cluster, name string) error {
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name)
	return err
}
