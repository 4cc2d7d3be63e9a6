// Package pgtest starts private PostgreSQL servers for tests: each cluster
// is made by initdb in a new temporary directory and listens on a Unix
// socket in that directory only, never on TCP, so clusters of concurrent
// test binaries cannot meet.
//
// A package's tests usually share one cluster, and each test takes a fresh
// database of its own:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		pool, err := pgxpool.New(t.Context(), pgtest.NewDatabase(t, ""))
//		...
//	}
//
// A test that stops or crashes its server takes a cluster of its own with
// StartPrivate. Start, Stop, Restart and Close drive a cluster directly.
//
// A cluster can have streaming hot standbys (StartStandby,
// StartPrivateStandby; SharedStandby and StoreDatabaseWithStandby for the
// shared cluster), for tests of reads from replicas and of replication lag:
// PauseReplay, ResumeReplay and WaitReplayed drive their replay.
//
// The server binaries (initdb, pg_ctl, postgres; PostgreSQL 13 or later)
// are looked for in /usr/lib/postgresql/*/bin, the highest version first,
// then on PATH. Without them the helpers skip the test, unless the
// environment variable CI is "true": there they fail it, so that CI cannot
// pass by skipping. The server refuses to run as root; under root the
// binaries run as the OS user postgres, through runuser.
//
// If the test binary is killed (SIGKILL, or go test's -timeout, which exits
// without cleanup), its servers keep running: stop them with
// "pg_ctl -D $TMPDIR/pgtest-*/data stop -m immediate" (standbys first) and
// remove the directories. Main stops the shared cluster and its standby on
// SIGINT and SIGTERM.
//
// It is a test helper: import it from _test.go files only.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// ErrNoServer is the error, wrapped, of Start when no PostgreSQL server
// binaries are found.
var ErrNoServer = errors.New("pgtest: no PostgreSQL server binaries found")

// port is the port of every cluster: it only names the socket file, which
// lives in the cluster's own directory.
const port = 5432

// serverDirs is where Linux distributions (Debian, Ubuntu) install the
// server binaries, one directory per major version. Tests change it.
var serverDirs = "/usr/lib/postgresql/*/bin"

// maxSocketDir keeps the socket path, the directory plus "/.s.PGSQL.5432",
// within the roughly 107 bytes a Unix socket address holds.
const maxSocketDir = 80

// live holds the clusters started and not closed, for closeAll.
var live = struct {
	sync.Mutex
	m map[*Cluster]struct{}
}{m: make(map[*Cluster]struct{})}

// closeAll closes every cluster of the process, ignoring errors: the
// process is about to die of a signal.
func closeAll() {
	live.Lock()
	cs := make([]*Cluster, 0, len(live.m))
	for c := range live.m {
		cs = append(cs, c)
	}
	live.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// Options configure a cluster.
type Options struct {
	// Durable keeps fsync and synchronous_commit on (the server's
	// defaults), so that every acknowledged commit survives a crash;
	// otherwise they are off, for speed.
	Durable bool
}

// Cluster is a private PostgreSQL server, its data and its socket in a
// temporary directory. Its methods are safe for concurrent use.
type Cluster struct {
	dir    string // the temporary directory, also the socket directory
	data   string // the data directory
	log    string // the server log
	pgCtl  string
	asUser *osUser // the user the binaries run as, or nil for this process's
	opts   Options
	// standby: the cluster is a streaming standby, made by StartStandby.
	standby bool

	mu      sync.Mutex
	running bool
	closed  bool
}

// osUser is the unprivileged user the server runs as when this process is
// root.
type osUser struct {
	name     string
	uid, gid int
	runuser  string // path of runuser
}

// Start creates and starts a cluster in a new temporary directory. When no
// server binaries are found, the error wraps ErrNoServer and says where
// Start looked and how to install them. Any other error includes the
// output of initdb or the server log; nothing is left running or on disk.
func Start(opts Options) (*Cluster, error) {
	bin, err := findServer()
	if err != nil {
		return nil, err
	}
	var as *osUser
	if os.Geteuid() == 0 {
		if as, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	dir, err := tempDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		dir:    dir,
		data:   filepath.Join(dir, "data"),
		log:    filepath.Join(dir, "log"),
		pgCtl:  filepath.Join(bin, "pg_ctl"),
		asUser: as,
		opts:   opts,
	}
	if err := c.initdb(filepath.Join(bin, "initdb")); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.start(); err != nil {
		// pg_ctl gives up waiting after its timeout but leaves the server
		// starting: make sure it is gone before removing its directory.
		c.pgctl("-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
		return nil, err
	}
	c.running = true
	live.Lock()
	live.m[c] = struct{}{}
	live.Unlock()
	return c, nil
}

// tempDir creates the temporary directory of a new cluster, in $TMPDIR
// unless that would make the socket path too long.
func tempDir() (string, error) {
	base := os.TempDir()
	if len(base) > maxSocketDir-len("/pgtest-0123456789") {
		base = "/tmp" // a long $TMPDIR would overflow the socket path
	}
	dir, err := os.MkdirTemp(base, "pgtest-")
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	return dir, nil
}

// initdb runs initdb, the program at path.
func (c *Cluster) initdb(path string) error {
	if c.asUser != nil {
		if err := os.Chown(c.dir, c.asUser.uid, c.asUser.gid); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	out, err := c.command(path, "-D", c.data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "-N").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	return nil
}

// start runs pg_ctl start and waits until the server accepts connections.
// The settings are given on the command line, which overrides the
// configuration files: a standby's are copies of its primary's.
func (c *Cluster) start() error {
	// wal_keep_size keeps the WAL a standby stopped for a while needs to
	// catch up.
	o := fmt.Sprintf("-c listen_addresses='' -k %s -p %d -c max_connections=400 -c shared_buffers=64MB -c wal_keep_size=256MB",
		shellQuote(c.dir), port)
	if !c.opts.Durable {
		o += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	if c.standby {
		// hot_standby_feedback keeps the primary's vacuum from removing
		// rows that the standby's queries still see, which would cancel
		// them. A lost connection to the primary is tried again after
		// 100 ms, not 5 s.
		o += " -c hot_standby=on -c hot_standby_feedback=on -c wal_retrieve_retry_interval=100ms"
	}
	if out, err := c.pgctl("-l", c.log, "-w", "-t", "60", "-o", o, "start"); err != nil {
		return fmt.Errorf("pgtest: pg_ctl start: %v\n%s\nserver log:\n%s", err, out, tail(c.Log(), 16<<10))
	}
	return nil
}

// pgctl runs pg_ctl on the cluster's data directory.
func (c *Cluster) pgctl(args ...string) ([]byte, error) {
	return c.command(c.pgCtl, append([]string{"-D", c.data}, args...)...).CombinedOutput()
}

// command returns the command running the server binary at path, as the
// cluster's OS user, in the cluster's directory.
func (c *Cluster) command(path string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if c.asUser != nil {
		cmd = exec.Command(c.asUser.runuser, append([]string{"-u", c.asUser.name, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	// The user postgres may not be allowed in the test's directory.
	cmd.Dir = c.dir
	return cmd
}

// ConnString returns a keyword/value connection string for database dbname,
// e.g. "host=/tmp/pgtest-123 port=5432 user=postgres dbname=app
// sslmode=disable".
func (c *Cluster) ConnString(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable",
		quoteValue(c.dir), port, quoteValue(dbname))
}

// CreateDatabase creates database name as a copy of database template, or
// of the server's default (template1) when template is "", and returns its
// connection string. No other session may be connected to the template.
func (c *Cluster) CreateDatabase(ctx context.Context, name, template string) (string, error) {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if err := c.exec(ctx, sql); err != nil {
		return "", fmt.Errorf("pgtest: create database %q: %w", name, err)
	}
	return c.ConnString(name), nil
}

// dropDatabase drops database name, ending its sessions.
func (c *Cluster) dropDatabase(ctx context.Context, name string) error {
	sql := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"
	if err := c.exec(ctx, sql); err != nil {
		return fmt.Errorf("pgtest: drop database %q: %w", name, err)
	}
	return nil
}

// exec runs one statement over a connection of its own to the database
// postgres.
func (c *Cluster) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, sql)
	return errors.Join(err, conn.Close(context.WithoutCancel(ctx)))
}

// Stop stops the server with pg_ctl's shutdown mode: "smart", "fast" or
// "immediate" (a crash: the next start recovers from the WAL). The data
// stays, and Restart starts the server again on the same socket.
func (c *Cluster) Stop(mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return errors.New("pgtest: Stop: cluster closed")
	case !c.running:
		return errors.New("pgtest: Stop: server not running")
	}
	if out, err := c.pgctl("-m", mode, "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop -m %s: %v\n%s", mode, err, out)
	}
	c.running = false
	return nil
}

// Restart starts the stopped server again, with the same options, and
// waits until it accepts connections.
func (c *Cluster) Restart() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return errors.New("pgtest: Restart: cluster closed")
	case c.running:
		return errors.New("pgtest: Restart: server running; Stop it first")
	}
	if err := c.start(); err != nil {
		return err
	}
	c.running = true
	return nil
}

// Close stops the server (fast shutdown, or immediate if that fails) and
// removes the cluster's directory. Closing a closed cluster does nothing.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	live.Lock()
	delete(live.m, c)
	live.Unlock()
	var stopErr error
	if c.running {
		if _, err := c.pgctl("-m", "fast", "-w", "-t", "60", "stop"); err != nil {
			if out, err := c.pgctl("-m", "immediate", "-w", "stop"); err != nil {
				stopErr = fmt.Errorf("pgtest: pg_ctl stop: %v\n%s", err, out)
			}
		}
		c.running = false
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return errors.Join(stopErr, fmt.Errorf("pgtest: %w", err))
	}
	return stopErr
}

// Log returns the contents of the server log, for failure messages; ""
// once the cluster is closed.
func (c *Cluster) Log() string {
	b, err := os.ReadFile(c.log)
	if err != nil {
		return ""
	}
	return string(b)
}

// findServer returns the directory holding initdb and pg_ctl.
func findServer() (string, error) {
	dirs, _ := filepath.Glob(serverDirs)
	best, bestVersion := "", ""
	for _, d := range dirs {
		v := filepath.Base(filepath.Dir(d))
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) &&
			(best == "" || versionLess(bestVersion, v)) {
			best, bestVersion = d, v
		}
	}
	if best != "" {
		return best, nil
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(initdb)
		if isExecutable(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w in %s nor next to an initdb on PATH (%s); "+
		"install them (apt-get install postgresql) or put initdb and pg_ctl on PATH",
		ErrNoServer, serverDirs, os.Getenv("PATH"))
}

// isExecutable reports whether path is an executable file.
func isExecutable(path string) bool {
	_, err := exec.LookPath(path)
	return err == nil
}

// versionLess reports whether version a ("9.6", "15") is older than b.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errX := strconv.Atoi(as[i])
		y, errY := strconv.Atoi(bs[i])
		switch {
		case errX != nil || errY != nil:
			if as[i] != bs[i] {
				return as[i] < bs[i]
			}
		case x != y:
			return x < y
		}
	}
	return len(as) < len(bs)
}

// postgresUser returns the OS user postgres, which the binaries run as
// when this process is root.
func postgresUser() (*osUser, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, which the server refuses, "+
			"and there is no OS user postgres to run it as (installing the postgresql package creates one): %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("pgtest: user postgres: uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("pgtest: user postgres: gid %q: %w", u.Gid, err)
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, and the server must run as user postgres through runuser (util-linux): %w", err)
	}
	return &osUser{name: u.Username, uid: uid, gid: gid, runuser: runuser}, nil
}

// shellQuote quotes s for the shell through which pg_ctl starts the server.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// quoteValue quotes a value of a keyword/value connection string when it
// needs it.
func quoteValue(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\r\v\f'\\") {
		return s
	}
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		if r == '\'' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// tail returns the last n bytes of s, from a line start when it cuts.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "...\n" + s
}
