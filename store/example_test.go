package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// Every change runs in a transaction that holds its organization: here the
// last-admin rule is checked and the change written in one Update, and a
// failed Update leaves nothing behind.
func Example() {
	ctx := context.Background()
	var st store.Store = memstore.New()
	defer st.Close()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

	err := st.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, org.Organization{ID: "acme", Name: "Acme", Scheme: "wherobots", Edition: "community", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.AddMember(ctx, org.Member{PrincipalID: "ada", Kind: org.User, Role: "admin", JoinedAt: now})
	})
	fmt.Println(err)

	errLastAdmin := errors.New("last admin")
	err = st.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
		c, err := tx.Counts(ctx)
		if err != nil {
			return err
		}
		if c.Roles["admin"] <= 1 {
			return errLastAdmin // rolls the transaction back
		}
		return tx.UpdateMember(ctx, org.Member{PrincipalID: "ada", Kind: org.User, Role: "user", JoinedAt: now})
	})
	fmt.Println(err == errLastAdmin)

	a, err := st.Access(ctx, "acme", "ada")
	fmt.Println(a.Role, err)
	_, err = st.Access(ctx, "acme", "bob")
	fmt.Println(errors.Is(err, store.ErrMemberNotFound), errors.Is(err, store.ErrNotFound))
	// Output:
	// <nil>
	// true
	// admin <nil>
	// true true
}
