package orgauthz_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store/memstore"
)

func Example() {
	ctx := context.Background()
	svc, err := orgauthz.New(memstore.New(), orgauthz.Options{
		Schemes: []*edition.Scheme{edition.Wherobots()},
		Clock:   func() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	ada := org.Principal{ID: "ada", Kind: org.User}
	_, err = svc.CreateOrganization(ctx, ada, orgauthz.NewOrganization{ID: "acme", Name: "Acme", Edition: "professional"})
	if err != nil {
		panic(err)
	}
	_, err = svc.Provision(ctx, "acme", org.Principal{ID: "bob", Kind: org.User}, "user")
	if err != nil {
		panic(err)
	}

	fmt.Println(svc.Check(ctx, "acme", "bob", "job_runs:create"))
	fmt.Println(svc.Check(ctx, "acme", "bob", "members:manage"))

	// The last admin cannot step down.
	_, err = svc.ChangeRole(ctx, "acme", "ada", "ada", "user")
	fmt.Println(errors.Is(err, orgauthz.ErrMinHolders), err)

	// Promote Bob first; then Ada may.
	_, _ = svc.ChangeRole(ctx, "acme", "ada", "bob", "admin")
	_, err = svc.ChangeRole(ctx, "acme", "ada", "ada", "user")
	fmt.Println(err)

	// Every change is in the audit trail.
	_ = svc.ExportAudit(ctx, "acme", "bob", orgauthz.AuditQuery{}, os.Stdout)
	// Output:
	// allowed (role-holds): role "user" holds "job_runs:create" in edition "professional"
	// denied (role-lacks): role "user" lacks "members:manage"
	// true change role of "ada" in "acme" to "user": invariant violated: too few holders of role: at least 1 member(s) must hold "admin", and this would leave 0
	// <nil>
	// {"seq":1,"org":"acme","time":"2026-11-22T09:00:00Z","actor":"ada","action":"organization.create","target":"ada","role_after":"admin","detail":"edition professional"}
	// {"seq":2,"org":"acme","time":"2026-11-22T09:00:00Z","action":"member.add","target":"bob","role_after":"user","detail":"provisioned"}
	// {"seq":3,"org":"acme","time":"2026-11-22T09:00:00Z","actor":"ada","action":"member.role","target":"bob","role_before":"user","role_after":"admin"}
	// {"seq":4,"org":"acme","time":"2026-11-22T09:00:00Z","actor":"ada","action":"member.role","target":"ada","role_before":"admin","role_after":"user"}
}

func ExampleService_CheckScope() {
	ctx := context.Background()
	svc, _ := orgauthz.New(memstore.New(), orgauthz.Options{Schemes: []*edition.Scheme{edition.AIEngine()}})
	owner := org.Principal{ID: "olga", Kind: org.User}
	o, _ := svc.CreateOrganization(ctx, owner, orgauthz.NewOrganization{Name: "Lab"})
	p, _ := svc.CreateScope(ctx, o.ID, "olga", "project", "Churn model")

	// Someone outside the organization joins the project as an editor and
	// becomes an External User.
	_, err := svc.AddScopeMember(ctx, o.ID, "olga", "project", p.ID, org.Principal{ID: "xavier", Kind: org.User}, "editor")
	fmt.Println(err)
	fmt.Println(svc.CheckScope(ctx, o.ID, "xavier", "project", p.ID, "project/assets:manage"))
	fmt.Println(svc.CheckScope(ctx, o.ID, "xavier", "project", p.ID, "project:delete"))
	m, _ := svc.Member(ctx, o.ID, "olga", "xavier")
	fmt.Println(m.Role, m.External)
	// Output:
	// <nil>
	// allowed (role-holds): project role "editor" holds "project/assets:manage"
	// denied (role-lacks): project role "editor" lacks "project:delete"
	// external true
}
