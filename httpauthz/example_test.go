package httpauthz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// exampleService is a Wherobots service with organization acme
// (professional: ada admin, bob user) and garage (community: ada admin).
func exampleService() *orgauthz.Service {
	ctx := context.Background()
	svc, err := orgauthz.New(memstore.New(), orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		panic(err)
	}
	ada := org.Principal{ID: "ada", Kind: org.User}
	for _, o := range []orgauthz.NewOrganization{{ID: "acme", Name: "Acme", Edition: "professional"}, {ID: "garage", Name: "Garage"}} {
		if _, err := svc.CreateOrganization(ctx, ada, o); err != nil {
			panic(err)
		}
	}
	if _, err := svc.Host().Provision(ctx, "acme", org.Principal{ID: "bob", Kind: org.User}, "user"); err != nil {
		panic(err)
	}
	return svc
}

// exampleSession is the host's own authentication; here a header names
// the signed-in user (a real host checks its session cookie).
func exampleSession(r *http.Request) (httpauthz.Identity, bool, error) {
	id := r.Header.Get("X-Example-User")
	if id == "" {
		return httpauthz.Identity{}, false, nil
	}
	return httpauthz.Identity{PrincipalID: id, Email: id + "@example.com"}, true, nil
}

func ExampleGuard_Require() {
	svc := exampleService()
	guard, err := httpauthz.New(httpauthz.Options{
		Service:        svc,
		Authenticators: []httpauthz.Authenticator{httpauthz.Session(exampleSession), httpauthz.APIKeys(svc)},
		Org:            httpauthz.PathOrg("org"),
	})
	if err != nil {
		panic(err)
	}
	show := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := httpauthz.CallerFrom(r.Context())
		fmt.Fprintf(w, "%s of %s, for %s (%s)", r.Pattern, r.PathValue("org"), c.PrincipalID, c.Via)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /orgs/{org}/billing", guard.MustRequire("billing:view")(show))
	mux.Handle("POST /orgs/{org}/jobs", guard.MustRequire("job_runs:create")(show))
	h := guard.Authenticate(mux)

	for _, try := range []struct{ method, path, user string }{
		{"GET", "/orgs/acme/billing", "ada"},
		{"POST", "/orgs/acme/jobs", "bob"},
		{"GET", "/orgs/acme/billing", "bob"},
		{"POST", "/orgs/garage/jobs", "ada"},
		{"GET", "/orgs/acme/billing", "carol"},
		{"GET", "/orgs/acme/billing", ""},
	} {
		r := httptest.NewRequest(try.method, try.path, nil)
		if try.user != "" {
			r.Header.Set("X-Example-User", try.user)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%s %s as %q: %d ", try.method, try.path, try.user, w.Code)
		if w.Code == http.StatusOK {
			fmt.Println(w.Body.String())
			continue
		}
		var p httpauthz.Problem
		if err := json.NewDecoder(w.Body).Decode(&p); err != nil {
			panic(err)
		}
		fmt.Println(p.Reason, p.Capability, p.Role, p.Editions)
	}
	// Output:
	// GET /orgs/acme/billing as "ada": 200 GET /orgs/{org}/billing of acme, for ada (session)
	// POST /orgs/acme/jobs as "bob": 200 POST /orgs/{org}/jobs of acme, for bob (session)
	// GET /orgs/acme/billing as "bob": 403 role-lacks billing:view user []
	// POST /orgs/garage/jobs as "ada": 403 edition-gated job_runs:create admin [professional enterprise]
	// GET /orgs/acme/billing as "carol": 403 not-member   []
	// GET /orgs/acme/billing as "": 401 unauthenticated   []
}

func ExampleNewAPI() {
	svc := exampleService()
	guard, err := httpauthz.New(httpauthz.Options{
		Service:        svc,
		Authenticators: []httpauthz.Authenticator{httpauthz.Session(exampleSession), httpauthz.APIKeys(svc)},
	})
	if err != nil {
		panic(err)
	}
	api, err := httpauthz.NewAPI(httpauthz.APIOptions{Guard: guard, Prefix: "/api"})
	if err != nil {
		panic(err)
	}
	// The host mounts the API under its prefix, next to its own routes.
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.HandleFunc("GET /home", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "the host's page") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	send := func(method, path, user, body string) (int, http.Header, string) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		if user != "" {
			req.Header.Set("X-Example-User", user)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}

	status, h, _ := send("POST", "/api/orgs", "ada", `{"id":"lab","name":"Lab","edition":"enterprise"}`)
	fmt.Println("create:", status, h.Get("Location"))
	status, _, _ = send("POST", "/api/orgs/lab/invitations", "ada", `{"email":"bob@example.com"}`)
	fmt.Println("invite bob:", status)

	_, _, body := send("GET", "/api/orgs/lab/members", "ada", "")
	var page struct {
		Members []org.Member `json:"members"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		panic(err)
	}
	for _, m := range page.Members {
		fmt.Println("member:", m.PrincipalID, m.Role)
	}
	var seats orgauthz.Seats
	_, _, body = send("GET", "/api/orgs/lab/seats", "ada", "")
	if err := json.Unmarshal([]byte(body), &seats); err != nil {
		panic(err)
	}
	fmt.Println("seats in use:", seats.InUse, "pending:", seats.Pending)

	status, _, body = send("GET", "/api/orgs/lab/members", "bob", "")
	fmt.Println("bob lists members:", status, strings.Contains(body, `"reason":"not-member"`))
	status, _, _ = send("GET", "/api/orgs/lab/members", "", "")
	fmt.Println("anonymous:", status)
	_, _, body = send("GET", "/home", "", "")
	fmt.Println("outside the prefix:", body)
	// Output:
	// create: 201 /api/orgs/lab
	// invite bob: 201
	// member: ada admin
	// seats in use: 2 pending: 1
	// bob lists members: 403 true
	// anonymous: 401
	// outside the prefix: the host's page
}
