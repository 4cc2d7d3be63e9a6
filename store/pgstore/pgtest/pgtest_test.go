package pgtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// connect opens a connection closed when the test ends.
func connect(t *testing.T, connString string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), connString)
	if err != nil {
		t.Fatalf("connect %q: %v", connString, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// query returns the single text value of a query.
func query(t *testing.T, conn *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(t.Context(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestShared(t *testing.T) {
	t.Parallel()
	c := Shared(t)
	if c2 := Shared(t); c2 != c {
		t.Errorf("second Shared = %p, want the first, %p", c2, c)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(c.data)
		if err != nil {
			t.Fatal(err)
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; strconv.Itoa(int(uid)) != u.Uid {
			t.Errorf("data directory owned by uid %d, want postgres's, %s", uid, u.Uid)
		}
	}
}

func TestNewDatabase(t *testing.T) {
	t.Parallel()
	cs1, cs2 := NewDatabase(t, ""), NewDatabase(t, "")
	conn1, conn2 := connect(t, cs1), connect(t, cs2)
	if got := query(t, conn1, "SELECT 1::text"); got != "1" {
		t.Errorf("SELECT 1 = %s", got)
	}
	if v, _ := strconv.Atoi(query(t, conn1, "SHOW server_version_num")); v < 150000 {
		t.Errorf("server_version_num = %d, want 15 or later", v)
	}
	if got := query(t, conn1, "SHOW listen_addresses"); got != "" {
		t.Errorf("listen_addresses = %q, want '' (no TCP)", got)
	}
	if got := query(t, conn1, "SHOW max_connections"); got != "400" {
		t.Errorf("max_connections = %s, want 400", got)
	}
	db1, db2 := query(t, conn1, "SELECT current_database()"), query(t, conn2, "SELECT current_database()")
	if db1 == db2 {
		t.Errorf("two NewDatabase calls gave the same database, %s", db1)
	}
	if want := conn1.Config().Database; db1 != want {
		t.Errorf("connected to %s, want %s", db1, want)
	}
}

func TestNewDatabaseTemplate(t *testing.T) {
	t.Parallel()
	tmpl := connect(t, NewDatabase(t, ""))
	if _, err := tmpl.Exec(t.Context(), "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	name := tmpl.Config().Database
	if err := tmpl.Close(t.Context()); err != nil { // a template takes no sessions
		t.Fatal(err)
	}
	conn := connect(t, NewDatabase(t, name))
	if got := query(t, conn, "SELECT x::text FROM t"); got != "42" {
		t.Errorf("copy of the template has x = %s, want 42", got)
	}
}

func TestNewDatabaseDropped(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("Test", func(t *testing.T) {
		conn := connect(t, NewDatabase(t, ""))
		name = conn.Config().Database
		// The connection stays open: the drop ends it.
	})
	conn := connect(t, Shared(t).ConnString("postgres"))
	if n := query(t, conn, "SELECT count(*)::text FROM pg_database WHERE datname = $1", name); n != "0" {
		t.Errorf("database %s still exists after its test", name)
	}
}

func TestNewDatabaseParallel(t *testing.T) {
	t.Parallel()
	for i := range 16 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			conn := connect(t, NewDatabase(t, ""))
			if _, err := conn.Exec(t.Context(), "CREATE TABLE t (x int)"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestQuoting starts a cluster in a directory with a space and a quote,
// which pg_ctl passes through a shell and connection strings must quote,
// and creates a database whose name needs quoting too.
func TestQuoting(t *testing.T) {
	base, err := os.MkdirTemp("", "pg test's")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil { // for the user postgres
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", base)
	c := StartPrivate(t, Options{})
	if !strings.HasPrefix(c.dir, base+"/") {
		t.Fatalf("cluster in %s, want it under %s", c.dir, base)
	}
	cfg, err := pgx.ParseConfig(c.ConnString(`it's a "db" \`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != c.dir || cfg.Database != `it's a "db" \` || cfg.User != "postgres" || cfg.Port != 5432 {
		t.Errorf("ConnString parses as host %q port %d user %q dbname %q", cfg.Host, cfg.Port, cfg.User, cfg.Database)
	}
	cs, err := c.CreateDatabase(t.Context(), `we"ird name`, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := query(t, connect(t, cs), "SELECT current_database()"); got != `we"ird name` {
		t.Errorf("current_database() = %q", got)
	}
}

func TestDurable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{Durable: true}, "on"},
		{Options{}, "off"},
	} {
		t.Run(fmt.Sprintf("Durable=%v", tt.opts.Durable), func(t *testing.T) {
			t.Parallel()
			conn := connect(t, StartPrivate(t, tt.opts).ConnString("postgres"))
			for _, setting := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
				if got := query(t, conn, "SHOW "+setting); got != tt.want {
					t.Errorf("%s = %s, want %s", setting, got, tt.want)
				}
			}
		})
	}
}

func TestStopRestart(t *testing.T) {
	t.Parallel()
	c := StartPrivate(t, Options{Durable: true})
	cs, err := c.CreateDatabase(t.Context(), "app", "")
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, cs)
	if _, err := conn.Exec(t.Context(), "CREATE TABLE t (x int); INSERT INTO t VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(); err == nil {
		t.Error("Restart of a running server succeeded")
	}
	if err := c.Stop("immediate"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop("fast"); err == nil {
		t.Error("Stop of a stopped server succeeded")
	}
	if _, err := pgx.Connect(t.Context(), cs); err == nil {
		t.Error("connected to a stopped server")
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	if got := query(t, connect(t, cs), "SELECT x::text FROM t"); got != "7" {
		t.Errorf("after the crash, x = %s, want 7", got)
	}
	if err := c.Stop("fast"); err != nil {
		t.Fatal(err)
	}
	// Close does not need a running server.
}

func TestClose(t *testing.T) {
	t.Parallel()
	c, err := Start(Options{})
	if err != nil {
		skipOrFatal(t, err)
	}
	if c.Log() == "" {
		t.Error("empty server log")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, stat %s: %v, want not found", c.dir, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := c.Stop("fast"); err == nil {
		t.Error("Stop after Close succeeded")
	}
	if err := c.Restart(); err == nil {
		t.Error("Restart after Close succeeded")
	}
	if got := c.Log(); got != "" {
		t.Errorf("Log after Close = %q, want empty", got)
	}
}

func TestNoServer(t *testing.T) {
	old := serverDirs
	serverDirs = filepath.Join(t.TempDir(), "*", "bin")
	t.Cleanup(func() { serverDirs = old })
	t.Setenv("PATH", t.TempDir())
	_, err := Start(Options{})
	if !errors.Is(err, ErrNoServer) {
		t.Fatalf("Start without binaries: %v, want ErrNoServer", err)
	}
	for _, want := range []string{serverDirs, "PATH", "apt-get install postgresql"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// fakeTB records how skipOrFatal ends a test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

func TestSkipOrFatal(t *testing.T) {
	noServer := fmt.Errorf("%w: install it", ErrNoServer)
	for _, tt := range []struct {
		ci                   string
		err                  error
		wantSkip, wantFailed bool
	}{
		{"", noServer, true, false},
		{"false", noServer, true, false},
		{"true", noServer, false, true},
		{"", errors.New("initdb: boom"), false, true},
		{"true", errors.New("initdb: boom"), false, true},
	} {
		t.Setenv("CI", tt.ci)
		f := &fakeTB{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			skipOrFatal(f, tt.err)
		}()
		<-done
		if f.skipped != tt.wantSkip || f.failed != tt.wantFailed {
			t.Errorf("CI=%q, %v: skipped %v, failed %v; want %v, %v", tt.ci, tt.err, f.skipped, f.failed, tt.wantSkip, tt.wantFailed)
		}
		if !strings.Contains(f.msg, tt.err.Error()) {
			t.Errorf("CI=%q: message %q does not include the error %q", tt.ci, f.msg, tt.err)
		}
	}
}

func TestVersionLess(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"9.6", "15", true},
		{"15", "9.6", false},
		{"15", "16", true},
		{"16", "15", false},
		{"15", "15", false},
		{"10", "9", false},
	} {
		if got := versionLess(tt.a, tt.b); got != tt.want {
			t.Errorf("versionLess(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestSignal checks that Main stops the clusters when the test binary is
// interrupted: it runs this test binary again, as a child starting a
// shared cluster, its standby and a private cluster, and interrupts it.
func TestSignal(t *testing.T) {
	if os.Getenv("PGTEST_SIGNAL_CHILD") == "1" {
		fmt.Println("dir", Shared(t).dir)
		fmt.Println("dir", SharedStandby(t).dir)
		fmt.Println("dir", StartPrivate(t, Options{}).dir)
		time.Sleep(time.Minute)
		t.Fatal("not interrupted")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT on Windows")
	}
	t.Parallel()
	if _, err := findServer(); err != nil {
		skipOrFatal(t, err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignal$", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), "PGTEST_SIGNAL_CHILD=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for sc := bufio.NewScanner(out); len(dirs) < 3 && sc.Scan(); {
		if dir, ok := strings.CutPrefix(sc.Text(), "dir "); ok {
			dirs = append(dirs, dir)
		}
	}
	if len(dirs) < 3 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child printed %d cluster directories, want 3", len(dirs))
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("child ended with %v, want killed by SIGINT", err)
	}
	for _, dir := range dirs {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after SIGINT, stat %s: %v, want not found", dir, err)
		}
	}
}
