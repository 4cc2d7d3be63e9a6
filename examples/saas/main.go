// Command saas is the back end of a small SaaS product built on orgauthz:
// the management API (httpauthz.NewAPI) under /api, a stub sign-in, and
// one product route guarded by guard.MustRequire, over the memory store,
// or over PostgreSQL when DATABASE_URL names a database (migrated at
// start-up).
//
//	POST /signin              {"principal", "email"}: sets the session cookie
//	     /api/...             the management API; GET /api/openapi.json
//	POST /orgs/{org}/jobs     the product: needs job_runs:create
//
//	go run ./examples/saas [-addr localhost:8080]
//	DATABASE_URL=postgres://user@localhost/app go run ./examples/saas
//
// The sign-in is a stub: it believes whoever calls it, and vouches for the
// address it is given as verified. A real host puts its own identity
// provider there, behind the same httpauthz.SessionFunc. README.md walks
// through a session with curl.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
	"github.com/orgauthz/orgauthz/store/pgstore"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, *addr, os.Getenv("DATABASE_URL"), logger); err != nil {
		fmt.Fprintln(os.Stderr, "saas:", err)
		os.Exit(1)
	}
}

// run serves on addr until ctx is done, over PostgreSQL at databaseURL or,
// when it is "", the memory store.
func run(ctx context.Context, addr, databaseURL string, logger *slog.Logger) error {
	st, closeStore, err := openStore(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer closeStore()
	svc, err := newService(st)
	if err != nil {
		return err
	}
	h, err := newHandler(svc, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	where := "the memory store (nothing survives a restart)"
	if databaseURL != "" {
		where = "PostgreSQL"
	}
	logger.Info("serving", "addr", "http://"+ln.Addr().String(), "store", where,
		"warning", "POST /signin is a stub that signs anyone in as anyone")
	return serve(ctx, ln, h)
}

// serve serves h on ln until ctx is done, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openStore returns the memory store when databaseURL is "", and otherwise
// migrates the database it names and opens a PostgreSQL store over it;
// closeStore closes it.
func openStore(ctx context.Context, databaseURL string) (st store.Store, closeStore func(), err error) {
	if databaseURL == "" {
		ms := memstore.New()
		return ms, func() { ms.Close() }, nil
	}
	// Migrate is a deployment step, safe from every replica at once and a
	// no-op once the schema is up to date; Open never changes the schema.
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return nil, nil, err
	}
	err = pgstore.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		return nil, nil, err
	}
	ps, err := pgstore.Open(ctx, databaseURL, pgstore.Options{})
	if err != nil {
		return nil, nil, err
	}
	return ps, func() { ps.Close() }, nil
}

// keyPrefix starts the API keys the service issues: saas_<id>_<secret>.
const keyPrefix = "saas"

// newService returns the service, offering the four preset schemes: an
// organization names its own when it is created.
func newService(st store.Store) (*orgauthz.Service, error) {
	return orgauthz.New(st, orgauthz.Options{
		Schemes:   []*edition.Scheme{edition.Wherobots(), edition.AIEngine(), edition.SoterAI(), edition.UiPath()},
		KeyPrefix: keyPrefix,
	})
}

// newHandler returns the server: the stub sign-in, the management API
// under /api and the product's routes, the latter two authenticated by
// one Guard (the session first, then API keys).
func newHandler(svc *orgauthz.Service, logger *slog.Logger) (http.Handler, error) {
	ss := &sessions{m: map[string]httpauthz.Identity{}}
	guard, err := httpauthz.New(httpauthz.Options{
		Service:        svc,
		Authenticators: []httpauthz.Authenticator{httpauthz.Session(ss.identify), httpauthz.APIKeys(svc)},
		Org:            httpauthz.PathOrg("org"),
		Logger:         logger,
	})
	if err != nil {
		return nil, err
	}
	api, err := httpauthz.NewAPI(httpauthz.APIOptions{Guard: guard, Prefix: "/api"})
	if err != nil {
		return nil, err
	}

	// The product. Require fails when the route is built if no scheme
	// defines the capability, so a typo cannot ship.
	product := http.NewServeMux()
	product.Handle("POST /orgs/{org}/jobs", guard.MustRequire("job_runs:create")(http.HandlerFunc(createJob)))

	// A session travels in a cookie, so unsafe cross-origin browser
	// requests are refused: the API refuses them itself, the sign-in and
	// the product here.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, httpauthz.Problem{Status: http.StatusForbidden, Reason: "cross-origin",
			Detail: "a cross-origin request from a browser may not change anything"})
	}))

	mux := http.NewServeMux()
	mux.Handle("POST /signin", cop.Handler(http.HandlerFunc(ss.signin)))
	// The API authenticates its own routes, and serves an invitation's
	// preview to anonymous callers: mount it beside the Guard, not behind.
	mux.Handle("/api/", api)
	mux.Handle("/orgs/", cop.Handler(guard.Authenticate(product)))
	return mux, nil
}

// createJob is the product's one action.
func createJob(w http.ResponseWriter, r *http.Request) {
	c, _ := httpauthz.CallerFrom(r.Context())
	writeJSON(w, http.StatusCreated, map[string]string{
		"job":        "job_" + strings.ToLower(rand.Text()[:10]),
		"org":        r.PathValue("org"),
		"created_by": c.PrincipalID,
		"via":        string(c.Via),
	})
}

// sessionCookie names the cookie of the stub sign-in's sessions.
const sessionCookie = "saas_session"

// sessions is the stub sign-in: an opaque random session ID, in a cookie,
// stands for a principal and the address it claimed. Sessions live in
// memory, whatever the store.
type sessions struct {
	mu sync.Mutex
	m  map[string]httpauthz.Identity
}

// signin takes {"principal", "email"} and signs the caller in as that
// principal, with that address as its verified one: a stub.
func (s *sessions) signin(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Principal string `json:"principal"`
		Email     string `json:"email"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		writeProblem(w, httpauthz.Problem{Status: http.StatusBadRequest, Reason: "bad-request", Detail: "want {\"principal\", \"email\"}: " + err.Error()})
		return
	}
	if err := org.ValidateID("principal", b.Principal); err != nil {
		writeProblem(w, httpauthz.Problem{Status: http.StatusBadRequest, Reason: "bad-request", Detail: err.Error()})
		return
	}
	id := rand.Text()
	s.mu.Lock()
	s.m[id] = httpauthz.Identity{PrincipalID: b.Principal, Email: b.Email}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/",
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	writeJSON(w, http.StatusOK, b)
}

// identify is the SessionFunc: no cookie is no session, an unknown one a
// bad session (401, even beside a valid API key).
func (s *sessions) identify(r *http.Request) (httpauthz.Identity, bool, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return httpauthz.Identity{}, false, nil
	}
	s.mu.Lock()
	id, ok := s.m[c.Value]
	s.mu.Unlock()
	if !ok {
		return httpauthz.Identity{}, true, &httpauthz.AuthError{Reason: "session-expired", Detail: "the session is not valid: sign in again"}
	}
	return id, true, nil
}

// writeProblem writes p as the Guard and the API write theirs: an RFC 9457
// problem document.
func writeProblem(w http.ResponseWriter, p httpauthz.Problem) {
	p.Type, p.Title = "about:blank", http.StatusText(p.Status)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
