// Command postgres runs orgauthz over PostgreSQL. It migrates the schema of
// the database that DATABASE_URL names, creates an organization with a
// member, prints a few explained decisions (before and after a promotion,
// which the store's read cache sees at once), and deletes the organization
// again. Each run uses an organization ID of its own, so it can run any
// number of times, even at once, against one database.
//
//	DATABASE_URL=postgres://user@localhost/app go run ./examples/postgres
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store/pgstore"
)

func main() {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		fmt.Fprintln(os.Stderr, "postgres: DATABASE_URL is not set; name the database to use, e.g.\n\n"+
			"\tDATABASE_URL=postgres://user@localhost/app go run ./examples/postgres")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, url, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		os.Exit(1)
	}
}

// run does the whole example against the database at url, writing to w.
func run(ctx context.Context, url string, w io.Writer) (err error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	// A deployment step: safe from every replica at once, and a no-op once
	// the schema is up to date.
	if err := pgstore.Migrate(ctx, pool); err != nil {
		return err
	}
	fmt.Fprintf(w, "schema migrated to version %d\n", pgstore.SchemaVersion)

	st, err := pgstore.New(ctx, pool, pgstore.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		return err
	}

	orgID := "acme-" + strings.ToLower(rand.Text()[:8])
	o, err := svc.CreateOrganization(ctx, org.Principal{ID: "ada", Kind: org.User},
		orgauthz.NewOrganization{ID: orgID, Name: "Acme", Edition: "professional"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "organization %s created by ada (admin), edition %s\n", o.ID, o.Edition)
	defer func() {
		// Clean up even when interrupted, but not for ever.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		derr := svc.DeleteOrganization(dctx, orgID, "ada")
		if derr == nil {
			fmt.Fprintf(w, "organization %s deleted\n", orgID)
		}
		err = errors.Join(err, derr)
	}()
	if _, err := svc.Host().Provision(ctx, orgID, org.Principal{ID: "bob", Kind: org.User}, "user"); err != nil {
		return err
	}
	fmt.Fprintln(w, "bob provisioned as user")

	check := func(who string, c role.Capability) {
		fmt.Fprintf(w, "  %-3s %-16s %v\n", who, c, svc.Check(ctx, orgID, who, c))
	}
	check("bob", "job_runs:create")
	check("bob", "billing:view")
	check("ada", "billing:view")
	check("eve", "job_runs:create")

	if _, err := svc.ChangeRole(ctx, orgID, "ada", "bob", "admin"); err != nil {
		return err
	}
	fmt.Fprintln(w, "ada promotes bob to admin")
	check("bob", "billing:view")
	return nil
}
