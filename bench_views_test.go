package orgauthz_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// switcherState is a memstore of 100,000 organizations of 10 members each
// (1,000,000 members), written straight into the store (through the
// service it would take minutes), and a principal, "pat", that is a
// member of 100 of them, spread over the whole range.
var switcherState = sync.OnceValue(func() *memstore.Store {
	st := memstore.New()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for i := range 100_000 {
		id := fmt.Sprintf("org-%06d", i)
		err := st.Update(ctx, id, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateOrganization(ctx, org.Organization{ID: id, Name: "Org", Scheme: "wherobots", Edition: "enterprise", CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
			for j := range 10 {
				p, r := fmt.Sprintf("user-%07d", i*10+j), "user"
				if j == 0 {
					r = "admin"
				}
				if j == 9 && i%1000 == 0 {
					p = "pat"
				}
				if err := tx.AddMember(ctx, org.Member{PrincipalID: p, Kind: org.User, Role: r, JoinedAt: at}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			panic(err)
		}
	}
	return st
})

// BenchmarkMemberships measures one page of 20 of a principal's
// organizations (the organization switcher) through the service, over a
// memstore of 1,000,000 members in 100,000 organizations. The target is
// 5 µs; over PostgreSQL the same page is one query (see
// TestQueryCountsOfTheViews).
func BenchmarkMemberships(b *testing.B) {
	st := switcherState()
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		after string
	}{{"first", ""}, {"middle", "org-040000"}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				p, err := svc.Memberships(ctx, "pat", orgauthz.Page{After: c.after, Limit: 20})
				if err != nil || len(p.Memberships) != 20 {
					b.Fatalf("%d memberships, %v", len(p.Memberships), err)
				}
			}
		})
	}
}
