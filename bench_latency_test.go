package orgauthz_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// delayProxy relays TCP connections on 127.0.0.1 to a PostgreSQL Unix
// socket, holding every chunk of bytes for delay in each direction: a
// round trip through it costs 2×delay more than one to the socket, as a
// network between a service and its database would.
type delayProxy struct {
	ln     net.Listener
	socket string
	delay  time.Duration
	wg     sync.WaitGroup
	// sent counts the chunks relayed from client to server.
	sent atomic.Int64
}

// startDelayProxy starts a proxy to the server of connection string conn
// (a pgtest one: host is the socket's directory) and returns the
// connection string that goes through it. It stops when tb ends.
func startDelayProxy(tb testing.TB, conn string, delay time.Duration) (string, *delayProxy) {
	tb.Helper()
	kv := map[string]string{}
	for _, f := range strings.Fields(conn) {
		k, v, _ := strings.Cut(f, "=")
		kv[k] = strings.Trim(v, "'")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &delayProxy{ln: ln, socket: kv["host"] + "/.s.PGSQL." + kv["port"], delay: delay}
	p.wg.Add(1)
	go p.serve()
	tb.Cleanup(func() {
		ln.Close()
		p.wg.Wait()
	})
	port := ln.Addr().(*net.TCPAddr).Port
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", port, kv["user"], kv["dbname"]), p
}

func (p *delayProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("unix", p.socket)
		if err != nil {
			c.Close()
			continue
		}
		p.wg.Add(2)
		go p.pump(s, c, &p.sent)
		go p.pump(c, s, nil)
	}
}

// pump copies from src to dst, each chunk delay after it was read, in
// order; it closes both when either side ends.
func (p *delayProxy) pump(dst, src net.Conn, count *atomic.Int64) {
	defer p.wg.Done()
	type chunk struct {
		due  time.Time
		data []byte
	}
	q := make(chan chunk, 1024)
	go func() {
		for c := range q {
			wait(c.due)
			if _, err := dst.Write(c.data); err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
		for range q {
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if count != nil {
				count.Add(1)
			}
			q <- chunk{time.Now().Add(p.delay), append([]byte(nil), buf[:n]...)}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				_ = err // the other side went away: nothing to report
			}
			close(q)
			return
		}
	}
}

// wait returns at due. A timer of the Go runtime may fire a millisecond
// late on a busy machine, more than the delay it is to make, so wait
// sleeps only until a millisecond before and spins (yielding) the rest.
func wait(due time.Time) {
	if d := time.Until(due) - time.Millisecond; d > 0 {
		time.Sleep(d)
	}
	for time.Now().Before(due) {
		runtime.Gosched()
	}
}

// BenchmarkChangesOverLatency measures ChangeRole, Invite and
// AcceptInvitation over pgstore through a proxy on 127.0.0.1 that adds
// 0.5 ms each way to every round trip (1 ms in all), as a network between
// a service and its database would. A change takes at most three round
// trips (see TestRoundTrips), so the goal is at most 3 × 1 ms + 1 ms of
// work each: ≤ 4 ms/op. It reports ms/op, the round trips each made as
// the pgx tracer counts them (trips/op) and as the proxy does (sends/op,
// the chunks the client sent), and the cost of a bare round trip through
// the proxy (SELECT 1).
func BenchmarkChangesOverLatency(b *testing.B) {
	const oneWay = 500 * time.Microsecond
	conn, proxy := startDelayProxy(b, pgtest.StoreDatabase(b), oneWay)
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		b.Fatal(err)
	}
	q := &trips{}
	cfg.ConnConfig.Tracer = q
	pool, err := pgxpool.NewWithConfig(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	st, err := pgstore.New(b.Context(), pool, pgstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	f := newFixtureOn(b, st, "lat-")
	svc := f.svc
	orgID := f.newOrg(b, "aiengine", "standard", "ed", "editor")

	var sentMark int64
	report := func(b *testing.B, n int, calls func() int) {
		b.ReportMetric(float64(proxy.sent.Load()-sentMark)/float64(n), "sends/op")
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(n), "ms/op")
		b.ReportMetric(float64(calls())/float64(n), "trips/op")
		b.ReportMetric(0, "ns/op")
	}
	count := func() func() int {
		sentMark = proxy.sent.Load()
		q.mu.Lock()
		mark := len(q.list)
		q.mu.Unlock()
		return func() int {
			q.mu.Lock()
			defer q.mu.Unlock()
			return len(q.list) - mark
		}
	}

	// The round trip itself, for comparison: one statement.
	b.Run("SELECT 1", func(b *testing.B) {
		calls := count()
		k := 0
		for b.Loop() {
			if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
				b.Fatal(err)
			}
			k++
		}
		report(b, k, calls)
	})
	b.Run("ChangeRole", func(b *testing.B) {
		roles := [2]string{"viewer", "editor"}
		calls := count()
		k := 0
		for b.Loop() {
			if _, err := svc.ChangeRole(ctx, orgID, "creator", "ed", roles[k&1]); err != nil {
				b.Fatal(err)
			}
			k++
		}
		report(b, k, calls)
	})
	b.Run("Invite", func(b *testing.B) {
		calls := count()
		k := 0
		for b.Loop() {
			if _, _, err := svc.Invite(ctx, orgID, "creator", fmt.Sprintf("inv%d-%d@example.com", b.N, k), "viewer"); err != nil {
				b.Fatal(err)
			}
			k++
		}
		report(b, k, calls)
	})
	var runs atomic.Int64 // so that every run invites addresses of its own
	b.Run("AcceptInvitation", func(b *testing.B) {
		run := runs.Add(1)
		tokens := make([]string, b.N)
		for i := range tokens {
			_, tok, err := svc.Invite(ctx, orgID, "creator", fmt.Sprintf("acc%d-%d@example.com", run, i), "viewer")
			if err != nil {
				b.Fatal(err)
			}
			tokens[i] = tok.Reveal()
		}
		calls := count()
		b.ResetTimer()
		for i := range b.N {
			p := org.Principal{ID: fmt.Sprintf("acc%d-%d", run, i), Kind: org.User}
			if _, _, err := svc.AcceptInvitation(ctx, tokens[i], p, fmt.Sprintf("acc%d-%d@example.com", run, i)); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		report(b, b.N, calls)
	})
}

// BenchmarkImport measures importing 10,000 members into one organization
// in one transaction, over memstore and over pgstore (a Unix socket to a
// local server): by the host's provisioning path (Host.ProvisionAll) and
// by invitation (BulkInvite, the service's bulk limit raised to 10,000).
// Each iteration imports into a fresh organization. Goals: ≤ 100 ms over
// memstore, ≤ 2 s over pgstore.
func BenchmarkImport(b *testing.B) {
	const n = 10_000
	for _, backend := range []string{"memstore", "pgstore"} {
		b.Run(backend, func(b *testing.B) {
			var st store.Store
			if backend == "memstore" {
				st = memstore.New()
			} else {
				st = openPG(b, pgstore.Options{})
			}
			b.Cleanup(func() { st.Close() })
			svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.AIEngine()}, MaxBulkInvite: n})
			if err != nil {
				b.Fatal(err)
			}
			ps := make([]orgauthz.Provisioning, n)
			emails := make([]string, n)
			newOrg := func(b *testing.B) string {
				b.StopTimer()
				defer b.StartTimer()
				o, err := svc.CreateOrganization(context.Background(), user("creator"), orgauthz.NewOrganization{Name: "Import", Scheme: "aiengine"})
				if err != nil {
					b.Fatal(err)
				}
				return o.ID
			}
			b.Run("ProvisionAll", func(b *testing.B) {
				for b.Loop() {
					id := newOrg(b)
					for i := range ps {
						ps[i] = orgauthz.Provisioning{Principal: user(fmt.Sprintf("%s-u%05d", id, i)), Role: "viewer"}
					}
					if _, err := svc.Host().ProvisionAll(ctx, id, ps); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("BulkInvite", func(b *testing.B) {
				for b.Loop() {
					id := newOrg(b)
					for i := range emails {
						emails[i] = fmt.Sprintf("%s-u%05d@example.com", id, i)
					}
					res, err := svc.BulkInvite(ctx, id, "creator", emails, "viewer")
					if err != nil {
						b.Fatal(err)
					}
					if res[n-1].Err != nil {
						b.Fatal(res[n-1].Err)
					}
				}
			})
		})
	}
}
