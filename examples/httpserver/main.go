// Command httpserver is a small API protected by orgauthz's net/http
// middleware. It creates a Wherobots organization with an admin (ada) and a
// user (bob), issues each an API key, prints curl commands that succeed and
// fail, and serves:
//
//	GET  /v1/whoami   any valid key: who the key acts as
//	POST /v1/jobs     needs job_runs:create (admins and users)
//	GET  /v1/billing  needs billing:view (admins only)
//
//	go run ./examples/httpserver -addr localhost:8080
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store/memstore"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Parse()
	svc, keys, err := setup(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	usage(os.Stdout, "http://"+*addr, keys)
	log.Fatal(http.ListenAndServe(*addr, handler(svc)))
}

// keys are the API keys setup issued, by holder.
type keys map[string]apikey.Secret

// setup creates the organization, its members and their keys.
func setup(ctx context.Context) (*orgauthz.Service, keys, error) {
	svc, err := orgauthz.New(memstore.New(), orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}, KeyPrefix: "demo"})
	if err != nil {
		return nil, nil, err
	}
	o, err := svc.CreateOrganization(ctx, org.Principal{ID: "ada", Kind: org.User}, orgauthz.NewOrganization{ID: "acme", Name: "Acme", Edition: "professional"})
	if err != nil {
		return nil, nil, err
	}
	if _, err := svc.Host().Provision(ctx, o.ID, org.Principal{ID: "bob", Kind: org.User}, "user"); err != nil {
		return nil, nil, err
	}
	out := keys{}
	for _, who := range []string{"ada", "bob"} {
		_, secret, err := svc.CreateAPIKey(ctx, o.ID, who, orgauthz.NewKey{Name: who + "'s laptop"})
		if err != nil {
			return nil, nil, err
		}
		out[who] = secret
	}
	return svc, out, nil
}

// handler is the API: routes on a ServeMux, behind the middleware.
func handler(svc *orgauthz.Service) http.Handler {
	guard, err := httpauthz.New(httpauthz.Options{Service: svc})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/whoami", func(w http.ResponseWriter, r *http.Request) {
		c, _ := httpauthz.CallerFrom(r.Context())
		reply(w, map[string]any{"organization": c.Key.OrgID, "principal": c.PrincipalID, "key": c.Key.KeyID, "capabilities": c.Key.Scheme.Catalog().IDs(c.Key.Capabilities)})
	})
	mux.Handle("POST /v1/jobs", guard.MustRequire("job_runs:create")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := httpauthz.CallerFrom(r.Context())
		w.WriteHeader(http.StatusCreated)
		reply(w, map[string]string{"job": "job-1", "created_by": c.PrincipalID})
	})))
	mux.Handle("GET /v1/billing", guard.MustRequire("billing:view")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"plan": "professional", "seats": 10})
	})))
	return guard.Authenticate(mux)
}

func reply(w http.ResponseWriter, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	_ = json.NewEncoder(w).Encode(v)
}

// usage prints the keys (shown once) and curl commands to try.
func usage(w io.Writer, base string, k keys) {
	fmt.Fprintf(w, "ada (admin): %s\nbob (user):  %s\n\n", k["ada"].Reveal(), k["bob"].Reveal())
	fmt.Fprintf(w, "curl -i %s/v1/whoami -H 'X-API-Key: %s'                      # 200\n", base, k["bob"].Reveal())
	fmt.Fprintf(w, "curl -i -X POST %s/v1/jobs -H 'Authorization: Bearer %s'      # 201\n", base, k["bob"].Reveal())
	fmt.Fprintf(w, "curl -i %s/v1/billing -H 'Authorization: Bearer %s'           # 403: users lack billing:view\n", base, k["bob"].Reveal())
	fmt.Fprintf(w, "curl -i %s/v1/billing -H 'Authorization: Bearer %s'           # 200\n", base, k["ada"].Reveal())
	fmt.Fprintf(w, "curl -i %s/v1/whoami                                            # 401: no key\n", base)
	fmt.Fprintf(w, "curl -i %s/v1/whoami -H 'X-API-Key: demo_not_a_key'              # 401: invalid key\n\n", base)
}
