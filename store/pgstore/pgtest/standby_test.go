package pgtest

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// waitReplayed waits until standby s has replayed what primary p wrote.
func waitReplayed(t *testing.T, s, p *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.WaitReplayed(ctx, p); err != nil {
		t.Fatalf("%v\nstandby log:\n%s", err, tail(s.Log(), 4<<10))
	}
}

// execSQL runs sql on conn.
func execSQL(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// eventually calls f until it reports true, failing the test after 10 s.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !f(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s, not %s", what)
		}
	}
}

// checkOwner checks that dir is owned by the user postgres when the test
// runs as root, and has mode perm.
func checkOwner(t *testing.T, dir string, perm os.FileMode) {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != perm {
		t.Errorf("%s has mode %v, want %v", dir, got, perm)
	}
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; strconv.Itoa(int(uid)) != u.Uid {
		t.Errorf("%s owned by uid %d, want postgres's, %s", dir, uid, u.Uid)
	}
}

func TestStandby(t *testing.T) {
	t.Parallel()
	p := StartPrivate(t, Options{})
	s := StartPrivateStandby(t, p)
	if p.IsStandby() || !s.IsStandby() {
		t.Errorf("IsStandby: primary %v, standby %v; want false, true", p.IsStandby(), s.IsStandby())
	}
	if s.dir == p.dir || filepath.Dir(s.dir) != filepath.Dir(p.dir) {
		t.Errorf("standby in %s, primary in %s: want sibling directories", s.dir, p.dir)
	}
	checkOwner(t, s.dir, 0o700)
	checkOwner(t, s.data, 0o700)
	if _, err := os.Stat(filepath.Join(s.dir, ".s.PGSQL.5432")); err != nil {
		t.Errorf("the standby's socket: %v", err)
	}

	pc := connect(t, p.ConnString("postgres"))
	execSQL(t, pc, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
	waitReplayed(t, s, p)
	sc := connect(t, s.ConnString("postgres"))
	if got := query(t, sc, "SELECT x::text FROM t"); got != "1" {
		t.Errorf("on the standby, x = %s, want 1", got)
	}
	for setting, want := range map[string]string{
		"listen_addresses":            "",
		"unix_socket_directories":     s.dir,
		"hot_standby":                 "on",
		"hot_standby_feedback":        "on",
		"max_standby_streaming_delay": "30s",
		"max_connections":             "400",
		"fsync":                       "off",
	} {
		if got := query(t, sc, "SHOW "+setting); got != want {
			t.Errorf("standby's %s = %q, want %q", setting, got, want)
		}
	}
	if got := query(t, sc, "SELECT pg_is_in_recovery()::text"); got != "true" {
		t.Errorf("standby's pg_is_in_recovery() = %s", got)
	}
	// pg_basebackup's WAL senders may still be ending.
	eventually(t, "streaming to the standby alone", func() bool {
		return query(t, pc, "SELECT coalesce(string_agg(state, ','), '') FROM pg_stat_replication") == "streaming"
	})
	_, err := sc.Exec(t.Context(), "INSERT INTO t VALUES (2)")
	if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != "25006" {
		t.Errorf("insert on the standby: %v, want SQLSTATE 25006 (read_only_sql_transaction)", err)
	}
	if got := query(t, pc, "SELECT count(*)::text FROM t"); got != "1" {
		t.Errorf("after the standby's insert, the primary has %s rows, want 1", got)
	}
}

func TestStandbyPauseReplay(t *testing.T) {
	t.Parallel()
	p := StartPrivate(t, Options{})
	s := StartPrivateStandby(t, p)
	pc := connect(t, p.ConnString("postgres"))
	execSQL(t, pc, "CREATE TABLE t (x int)")
	waitReplayed(t, s, p)
	sc := connect(t, s.ConnString("postgres"))

	if err := s.PauseReplay(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := query(t, sc, "SELECT pg_get_wal_replay_pause_state()"); got != "paused" {
		t.Errorf("after PauseReplay, pause state %q", got)
	}
	execSQL(t, pc, "INSERT INTO t VALUES (1)")
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	err := s.WaitReplayed(ctx, p)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "replayed the WAL up to") {
		t.Errorf("WaitReplayed while paused: %v, want a deadline error saying how far the standby replayed", err)
	}
	for i := range 2 {
		if got := query(t, sc, "SELECT count(*)::text FROM t"); got != "0" {
			t.Errorf("check %d: the paused standby has %s rows, want 0", i, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	eventually(t, "receiving WAL while paused", func() bool {
		return query(t, sc, "SELECT (pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn())::text") == "true"
	})

	if err := s.ResumeReplay(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitReplayed(t, s, p)
	if got := query(t, sc, "SELECT count(*)::text FROM t"); got != "1" {
		t.Errorf("after ResumeReplay, the standby has %s rows, want 1", got)
	}

	// Refusals.
	if err := p.PauseReplay(t.Context()); err == nil || !strings.Contains(err.Error(), "not a standby") {
		t.Errorf("PauseReplay on a primary: %v, want an error saying it is not a standby", err)
	}
	if err := p.ResumeReplay(t.Context()); err == nil || !strings.Contains(err.Error(), "not a standby") {
		t.Errorf("ResumeReplay on a primary: %v, want an error saying it is not a standby", err)
	}
	if err := p.WaitReplayed(t.Context(), p); err == nil || !strings.Contains(err.Error(), "not a standby") {
		t.Errorf("WaitReplayed on a primary: %v, want an error saying it is not a standby", err)
	}
	if err := s.WaitReplayed(t.Context(), nil); err == nil {
		t.Error("WaitReplayed with no primary succeeded")
	}
	if err := s.WaitReplayed(t.Context(), s); err == nil {
		t.Error("WaitReplayed with a standby as the primary succeeded")
	}
	if err := s.WaitReplayed(t.Context(), Shared(t)); err == nil || !strings.Contains(err.Error(), "not one of the primary") {
		t.Errorf("WaitReplayed with another primary: %v, want an error saying so", err)
	}
}

func TestStandbyStopRestart(t *testing.T) {
	t.Parallel()
	p := StartPrivate(t, Options{})
	s := StartPrivateStandby(t, p)
	pc := connect(t, p.ConnString("postgres"))
	execSQL(t, pc, "CREATE TABLE t (x int)")
	waitReplayed(t, s, p)
	for i, mode := range []string{"immediate", "fast"} {
		if err := s.Stop(mode); err != nil {
			t.Fatal(err)
		}
		if _, err := pgx.Connect(t.Context(), s.ConnString("postgres")); err == nil {
			t.Errorf("connected to a standby stopped (%s)", mode)
		}
		execSQL(t, pc, "INSERT INTO t VALUES (1)")
		if err := s.Restart(); err != nil {
			t.Fatal(err)
		}
		waitReplayed(t, s, p)
		if got := query(t, connect(t, s.ConnString("postgres")), "SELECT count(*)::text FROM t"); got != strconv.Itoa(i+1) {
			t.Errorf("after a stop (%s) and restart, the standby has %s rows, want %d", mode, got, i+1)
		}
	}

	// The standby reconnects to a restarted primary.
	if err := p.Stop("fast"); err != nil {
		t.Fatal(err)
	}
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	execSQL(t, connect(t, p.ConnString("postgres")), "INSERT INTO t VALUES (1)")
	waitReplayed(t, s, p)
	if got := query(t, connect(t, s.ConnString("postgres")), "SELECT count(*)::text FROM t"); got != "3" {
		t.Errorf("after the primary's restart, the standby has %s rows, want 3", got)
	}
}

// running reports whether process pid runs, a zombie not counting.
func running(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	// pid (comm) state ...
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || !strings.HasPrefix(string(stat[i+1:]), " Z")
}

func TestStandbyClose(t *testing.T) {
	t.Parallel()
	p := StartPrivate(t, Options{})
	s, err := p.StartStandby()
	if err != nil {
		skipOrFatal(t, err)
	}
	pid, err := os.ReadFile(filepath.Join(s.data, "postmaster.pid"))
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	postmaster, err := strconv.Atoi(strings.SplitN(string(pid), "\n", 2)[0])
	if err != nil {
		s.Close()
		t.Fatalf("postmaster.pid: %v", err)
	}
	if !running(postmaster) {
		t.Errorf("the standby's postmaster, %d, does not run", postmaster)
	}
	pc := connect(t, p.ConnString("postgres"))
	// The standby may take connections before it streams.
	eventually(t, "streaming to the standby", func() bool {
		return query(t, pc, "SELECT coalesce(string_agg(state, ','), '') FROM pg_stat_replication") == "streaming"
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, stat %s: %v, want not found", s.dir, err)
	}
	if running(postmaster) {
		t.Errorf("after Close, the standby's postmaster, %d, still runs", postmaster)
	}
	eventually(t, "without replication connections on the primary", func() bool {
		return query(t, pc, "SELECT count(*)::text FROM pg_stat_replication") == "0"
	})
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Restart(); err == nil {
		t.Error("Restart after Close succeeded")
	}
	if err := s.PauseReplay(t.Context()); err == nil {
		t.Error("PauseReplay after Close succeeded")
	}
}

// TestStandbyStart starts standbys in a directory with a space and a quote,
// which their primary_conninfo must quote, and checks that a failed start
// leaves nothing behind and says why.
func TestStandbyStart(t *testing.T) {
	base, err := os.MkdirTemp("", "pg standby's")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil { // for the user postgres
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", base)
	p := StartPrivate(t, Options{Durable: true})
	s := StartPrivateStandby(t, p)
	if !strings.HasPrefix(s.dir, base+"/") {
		t.Errorf("standby in %s, want it under %s", s.dir, base)
	}
	execSQL(t, connect(t, p.ConnString("postgres")), "CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
	waitReplayed(t, s, p)
	sc := connect(t, s.ConnString("postgres"))
	if got := query(t, sc, "SELECT count(*)::text FROM t"); got != "1" {
		t.Errorf("the standby has %s rows, want 1", got)
	}
	if got := query(t, sc, "SHOW fsync"); got != "on" {
		t.Errorf("a durable primary's standby has fsync = %s", got)
	}
	if _, err := s.StartStandby(); err == nil || !strings.Contains(err.Error(), "itself a standby") {
		t.Errorf("StartStandby of a standby: %v, want an error saying it is one", err)
	}
	sc.Close(t.Context())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A $TMPDIR too long for the socket path.
	t.Setenv("TMPDIR", "/"+strings.Repeat("x", maxSocketDir))
	if s := StartPrivateStandby(t, p); !strings.HasPrefix(s.dir, "/tmp/pgtest-") {
		t.Errorf("with a long $TMPDIR, standby in %s, want /tmp", s.dir)
	}
	t.Setenv("TMPDIR", base)

	// A primary that takes no replication connections.
	execSQL(t, connect(t, p.ConnString("postgres")), "ALTER SYSTEM SET max_wal_senders = 0")
	if err := p.Stop("fast"); err != nil {
		t.Fatal(err)
	}
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	_, err = p.StartStandby()
	if err == nil || !strings.Contains(err.Error(), "pg_basebackup:") || !strings.Contains(err.Error(), "max_wal_senders") {
		t.Errorf("StartStandby from a primary without WAL senders: %v, want pg_basebackup's error", err)
	}
	if entries, err := os.ReadDir(base); err != nil || len(entries) != 1 || filepath.Join(base, entries[0].Name()) != p.dir {
		t.Errorf("after a failed StartStandby, %s holds %v (%v), want only the primary's %s", base, entries, err, p.dir)
	}

	if err := p.Stop("fast"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.StartStandby(); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("StartStandby of a stopped primary: %v, want an error saying it is not running", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.StartStandby(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("StartStandby of a closed primary: %v, want an error saying it is closed", err)
	}
}

func TestSharedStandby(t *testing.T) {
	t.Parallel()
	s := SharedStandby(t)
	if s2 := SharedStandby(t); s2 != s {
		t.Errorf("second SharedStandby = %p, want the first, %p", s2, s)
	}
	if !s.IsStandby() {
		t.Error("SharedStandby is not a standby")
	}
	primary, standby := StoreDatabaseWithStandby(t)
	pc, sc := connect(t, primary), connect(t, standby)
	if p, s := query(t, pc, "SELECT current_database()"), query(t, sc, "SELECT current_database()"); p != s {
		t.Errorf("primary's database %s, standby's %s", p, s)
	}
	if got := query(t, sc, "SELECT pg_is_in_recovery()::text"); got != "true" {
		t.Errorf("standby's pg_is_in_recovery() = %s", got)
	}
	const tables = `SELECT coalesce(string_agg(table_name, ',' ORDER BY table_name), '')
		FROM information_schema.tables WHERE table_schema = 'orgauthz'`
	want, got := query(t, pc, tables), query(t, sc, tables)
	if got != want || !strings.Contains(got, "schema_migrations,") {
		t.Errorf("standby's orgauthz tables %q, want the primary's, %q", got, want)
	}
	const version = "SELECT count(*)::text FROM orgauthz.schema_migrations"
	if got, want := query(t, sc, version), query(t, pc, version); got != want || got == "0" {
		t.Errorf("standby has %s migrations, primary %s", got, want)
	}
}

// TestStoreDatabaseWithStandbyEnds leaves a session on the standby's copy
// of a store database, in a transaction holding a lock on a table: the
// test's end must end it, else the replay of the table's truncation would
// wait for it.
func TestStoreDatabaseWithStandbyEnds(t *testing.T) {
	t.Parallel()
	var leaked *pgx.Conn
	t.Run("Test", func(t *testing.T) {
		_, standby := StoreDatabaseWithStandby(t)
		var err error
		if leaked, err = pgx.Connect(t.Context(), standby); err != nil {
			t.Fatal(err)
		}
		table := query(t, leaked, `SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables
			WHERE table_schema = 'orgauthz' AND table_name <> 'schema_migrations' LIMIT 1`)
		execSQL(t, leaked, "BEGIN; SELECT count(*) FROM "+table)
	})
	if leaked == nil {
		return
	}
	defer leaked.Close(context.Background())
	eventually(t, "ending the session left on the standby", func() bool {
		_, err := leaked.Exec(t.Context(), "SELECT 1")
		return err != nil
	})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := SharedStandby(t).WaitReplayed(ctx, Shared(t)); err != nil {
		t.Errorf("the standby did not replay the truncation: %v", err)
	}
}
