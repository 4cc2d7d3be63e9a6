package memstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// Create an organization and its first member in one Update, then read
// them back through a View and through Access, the hot path of permission
// checks.
func Example() {
	ctx := context.Background()
	s := memstore.New()
	defer s.Close()

	created := time.Date(2025, 5, 1, 9, 30, 0, 0, time.UTC)
	err := s.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
		err := tx.CreateOrganization(ctx, org.Organization{
			ID: "acme", Name: "Acme", Scheme: "wherobots", Edition: "professional", CreatedAt: created,
		})
		if err != nil {
			return err
		}
		return tx.AddMember(ctx, org.Member{PrincipalID: "alice", Kind: org.User, Role: "admin", JoinedAt: created})
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	err = s.View(ctx, "acme", func(ctx context.Context, r store.Reader) error {
		o, err := r.Organization(ctx)
		if err != nil {
			return err
		}
		fmt.Println(o.Name, o.Edition)
		for m, err := range r.Members(ctx, "") {
			if err != nil {
				return err
			}
			fmt.Println(m.PrincipalID, m.Role, m.JoinedAt.Format(time.DateOnly))
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	a, err := s.Access(ctx, "acme", "alice")
	fmt.Printf("%s %s %v\n", a.Role, a.Kind, err)
	_, err = s.Access(ctx, "acme", "bob")
	fmt.Println(err)
	// Output:
	// Acme professional
	// alice admin 2025-05-01
	// admin user <nil>
	// member not found
}
