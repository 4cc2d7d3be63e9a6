package pgtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// shared is the cluster of Shared, stopped by Main.
var shared struct {
	mu      sync.Mutex
	main    bool // Main runs the tests
	started bool // Start was called; c and err are its results
	closed  bool // Main has closed the cluster
	c       *Cluster
	err     error
}

// databases numbers the databases of NewDatabase.
var databases atomic.Int64

// Main runs the tests of a package that uses Shared or NewDatabase, then
// stops the shared cluster and exits with the tests' code. Call it from the
// package's TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// On SIGINT or SIGTERM it stops every cluster of the process, then dies of
// the signal.
//
// Examples cannot skip themselves: without server binaries (and CI not
// "true"), Main skips the package's examples, adding ^Example to the
// -test.skip flag, and says so.
func Main(m *testing.M) {
	shared.mu.Lock()
	shared.main = true
	shared.mu.Unlock()
	skipExamplesWithoutServer()
	stop := closeOnSignal()
	code := m.Run()
	stop()
	if err := closeShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// skipExamplesWithoutServer adds ^Example to the -test.skip flag when the
// examples could not run for want of a server.
func skipExamplesWithoutServer() {
	if _, err := findServer(); err == nil || os.Getenv("CI") == "true" {
		return
	}
	if !flag.Parsed() {
		flag.Parse()
	}
	f := flag.Lookup("test.skip")
	if f == nil {
		return
	}
	skip := "^Example"
	if v := f.Value.String(); v != "" {
		skip = v + "|" + skip
	}
	if err := f.Value.Set(skip); err == nil {
		fmt.Fprintln(os.Stderr, "pgtest: no PostgreSQL server binaries: skipping the examples (apt-get install postgresql)")
	}
}

// SharedCluster returns the package's shared cluster, as Shared does, for
// code that has no testing.TB, such as an example; it starts the cluster
// on first use. The package's TestMain must call Main.
func SharedCluster() (*Cluster, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	switch {
	case !shared.main:
		return nil, errors.New("pgtest: the shared cluster needs the package's TestMain to call pgtest.Main, which stops it after the tests")
	case shared.closed:
		return nil, errors.New("pgtest: the shared cluster is closed")
	}
	if !shared.started {
		shared.started = true
		shared.c, shared.err = Start(Options{})
	}
	return shared.c, shared.err
}

// closeShared closes the shared standby and the shared cluster, if
// started, and keeps SharedStandby and Shared from starting others.
func closeShared() error {
	standbyErr := closeSharedStandby() // first: it takes shared.mu
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.closed = true
	if shared.c == nil {
		return standbyErr
	}
	return errors.Join(standbyErr, shared.c.Close())
}

// closeOnSignal closes every cluster on SIGINT or SIGTERM, then raises the
// signal again, for its default action, until stop is called.
func closeOnSignal() (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			closeShared()
			closeAll()
			signal.Stop(sigs)
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				p.Signal(s)
			}
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// Shared returns the package's cluster, started on first use (non-durable:
// see Options). The package's TestMain must call Main, which stops it
// after the tests: without Main, Shared fails the test rather than leave a
// server running.
//
// Without server binaries Shared skips the test, saying how to install
// them, except when the environment variable CI is "true": there it fails
// it. It fails the test on any other error of Start, which includes the
// server log; the error is remembered, and the same for every test.
//
// Tests share the cluster, so they must not stop it: a test that stops or
// crashes its server takes one of its own with StartPrivate.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	c, err := SharedCluster()
	if err != nil {
		skipOrFatal(t, err)
	}
	return c
}

// NewDatabase creates a new database on the shared cluster (see Shared), a
// copy of database template or, when template is "", of the server's
// default, and returns its connection string. The database is dropped when
// the test ends, after the cleanups the test registered later (such as
// closing its connections) and ending any session left.
func NewDatabase(t testing.TB, template string) string {
	t.Helper()
	c := Shared(t)
	name := fmt.Sprintf("t_%d", databases.Add(1))
	conn, err := c.CreateDatabase(t.Context(), name, template)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.dropDatabase(ctx, name); err != nil {
			t.Error(err)
		}
	})
	return conn
}

// StartPrivate starts a cluster of the test's own, which it may stop and
// restart, and closes it when the test ends. It skips or fails the test as
// Shared does when the cluster cannot start.
func StartPrivate(t testing.TB, opts Options) *Cluster {
	t.Helper()
	c, err := Start(opts)
	if err != nil {
		skipOrFatal(t, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// skipOrFatal ends the test for the error of Start: skipped when there is
// no server to start, except on CI; failed otherwise.
func skipOrFatal(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNoServer) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI is true: failing rather than skipping)", err)
		}
		t.Skip(err)
	}
	t.Fatal(err)
}
