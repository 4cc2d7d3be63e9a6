package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// exampleDatabase returns the connection string of a new database for an
// example: here on the private server of this package's tests; in a
// service, the DATABASE_URL of its deployment.
func exampleDatabase(name string) string {
	c, err := pgtest.SharedCluster()
	if err != nil {
		log.Fatal(err)
	}
	conn, err := c.CreateDatabase(context.Background(), name, "")
	if err != nil {
		log.Fatal(err)
	}
	return conn
}

// A service migrates the schema once at start-up (every replica may), then
// opens the store over its pool and hands it to orgauthz.New.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, exampleDatabase("example"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := pgstore.Migrate(ctx, pool); err != nil {
		log.Fatal(err)
	}
	st, err := pgstore.New(ctx, pool, pgstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	// The service does this through Service.CreateOrganization; here the
	// store is used directly.
	err = st.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, org.Organization{ID: "acme", Name: "Acme", Scheme: "wherobots", Edition: "professional"}); err != nil {
			return err
		}
		return tx.AddMember(ctx, org.Member{PrincipalID: "alice", Kind: org.User, Role: "admin"})
	})
	if err != nil {
		log.Fatal(err)
	}

	a, err := st.Access(ctx, "acme", "alice")
	fmt.Println(a.Role, a.Edition, err)
	_, err = st.Access(ctx, "acme", "bob")
	fmt.Println(errors.Is(err, store.ErrMemberNotFound))
	// Output:
	// admin professional <nil>
	// true
}

// Open refuses a database whose schema was not migrated.
func ExampleOpen() {
	ctx := context.Background()
	_, err := pgstore.Open(ctx, exampleDatabase("example_unmigrated"), pgstore.Options{})
	fmt.Println(errors.Is(err, pgstore.ErrSchema))
	// Output:
	// true
}

// A Store reads from a streaming standby (Options.ReplicaURLs or
// Options.Replicas) whenever the standby has replayed what the read needs,
// and from the primary otherwise: a read right after the Store's own
// change sees it, whatever the standby's lag.
func Example_replicas() {
	ctx := context.Background()
	primary, err := pgtest.SharedCluster()
	if err != nil {
		log.Fatal(err)
	}
	conn := exampleDatabase("example_replicas")
	pool, err := pgxpool.New(ctx, conn)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := pgstore.Migrate(ctx, pool); err != nil {
		log.Fatal(err)
	}
	standby, err := primary.StartStandby() // in a service: a standby of the deployment
	if err != nil {
		log.Fatal(err)
	}
	defer standby.Close()
	if err := standby.WaitReplayed(ctx, primary); err != nil {
		log.Fatal(err)
	}

	st, err := pgstore.New(ctx, pool, pgstore.Options{ReplicaURLs: []string{standby.ConnString("example_replicas")}})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	role := func(roleID string) error {
		return st.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
			m, err := tx.Member(ctx, "alice")
			if errors.Is(err, store.ErrOrganizationNotFound) {
				if err := tx.CreateOrganization(ctx, org.Organization{ID: "acme", Name: "Acme", Scheme: "wherobots", Edition: "professional"}); err != nil {
					return err
				}
				return tx.AddMember(ctx, org.Member{PrincipalID: "alice", Kind: org.User, Role: roleID})
			}
			if err != nil {
				return err
			}
			m.Role = roleID
			return tx.UpdateMember(ctx, m)
		})
	}
	for _, r := range []string{"admin", "user", "admin"} {
		if err := role(r); err != nil {
			log.Fatal(err)
		}
		// Read back at once: the standby may not have replayed the change
		// yet, and then the primary answers.
		a, err := st.Access(ctx, "acme", "alice")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("alice is", a.Role)
	}
	fmt.Println("standbys:", len(st.ReplicaStats().Replicas))
	// Output:
	// alice is admin
	// alice is user
	// alice is admin
	// standbys: 1
}
