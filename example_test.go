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
	_, err = svc.Host().Provision(ctx, "acme", org.Principal{ID: "bob", Kind: org.User}, "user")
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

// An organization switcher: the organizations a signed-in principal
// belongs to, and the invitations waiting for its verified address.
func ExampleService_Memberships() {
	ctx := context.Background()
	svc, err := orgauthz.New(memstore.New(), orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots(), edition.SoterAI()}})
	if err != nil {
		panic(err)
	}
	gil := org.Principal{ID: "gil", Kind: org.User}
	if _, err := svc.CreateOrganization(ctx, gil, orgauthz.NewOrganization{ID: "acme", Name: "Acme", Scheme: "wherobots"}); err != nil {
		panic(err)
	}
	hal := org.Principal{ID: "hal", Kind: org.User}
	if _, err := svc.CreateOrganization(ctx, hal, orgauthz.NewOrganization{ID: "globex", Name: "Globex", Scheme: "soterai", Edition: "enterprise"}); err != nil {
		panic(err)
	}
	if _, _, err := svc.Invite(ctx, "globex", "hal", "Gil@Example.com", "manager"); err != nil {
		panic(err)
	}

	ms, _ := svc.Memberships(ctx, "gil", orgauthz.Page{})
	for _, m := range ms.Memberships {
		fmt.Printf("%s: %s\n", m.OrgName, m.Role)
	}
	waiting, _ := svc.InvitationsFor(ctx, "gil@example.com", orgauthz.Page{})
	for _, inv := range waiting.Invitations {
		fmt.Printf("invited to %s as %s by %s\n", inv.OrgName, inv.RoleName, inv.InvitedBy)
		_, joined, err := svc.AcceptInvitationByID(ctx, inv.ID, gil, "gil@example.com")
		fmt.Println("joined", joined.Name, err)
	}
	// Output:
	// Acme: admin
	// invited to Globex as Manager by hal
	// joined Globex <nil>
}

// The host's authority: a support desk hands UiPath's immutable ownership
// over, which no member can do.
func ExampleHost_TransferOwnership() {
	ctx := context.Background()
	svc, err := orgauthz.New(memstore.New(), orgauthz.Options{Schemes: []*edition.Scheme{edition.UiPath()}})
	if err != nil {
		panic(err)
	}
	ada := org.Principal{ID: "ada", Kind: org.User}
	if _, err := svc.CreateOrganization(ctx, ada, orgauthz.NewOrganization{ID: "acme", Name: "Acme"}); err != nil {
		panic(err)
	}
	if _, err := svc.Host().Provision(ctx, "acme", org.Principal{ID: "al", Kind: org.User}, "administrator"); err != nil {
		panic(err)
	}

	err = svc.TransferOwnership(ctx, "acme", "ada", "al", "administrator")
	fmt.Println(errors.Is(err, orgauthz.ErrImmutableRole))
	err = svc.Host().TransferOwnership(ctx, "acme", "ada", "al", "administrator")
	fmt.Println(err)
	fmt.Println(svc.Check(ctx, "acme", "al", "audit_logs:download").Allowed)
	// Output:
	// true
	// <nil>
	// true
}

// A host imports members in one transaction: all of them, or none when
// one is refused. Wherobots Community has 5 seats, so the creator and four
// more fill it, and a sixth import of two is refused whole.
func ExampleHost_ProvisionAll() {
	ctx := context.Background()
	svc, err := orgauthz.New(memstore.New(), orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		panic(err)
	}
	ada := org.Principal{ID: "ada", Kind: org.User}
	if _, err := svc.CreateOrganization(ctx, ada, orgauthz.NewOrganization{ID: "acme", Name: "Acme", Edition: "community"}); err != nil {
		panic(err)
	}
	var ps []orgauthz.Provisioning
	for _, id := range []string{"bob", "cy", "dee", "eve"} {
		ps = append(ps, orgauthz.Provisioning{Principal: org.Principal{ID: id, Kind: org.User}, Role: "user"})
	}
	ms, err := svc.Host().ProvisionAll(ctx, "acme", ps)
	fmt.Println(len(ms), err)

	_, err = svc.Host().ProvisionAll(ctx, "acme", []orgauthz.Provisioning{
		{Principal: org.Principal{ID: "fay", Kind: org.User}, Role: "user"},
		{Principal: org.Principal{ID: "gus", Kind: org.User}, Role: "user"},
	})
	fmt.Println(errors.Is(err, orgauthz.ErrSeatLimit))
	_, err = svc.Host().Member(ctx, "acme", "fay")
	fmt.Println(errors.Is(err, orgauthz.ErrNotMember))
	// Output:
	// 4 <nil>
	// true
	// true
}

// Before a change of scheme ships, the host plans it over the store: here
// the community edition would drop from 5 seats to 2, and one
// organization has 3 members.
func ExamplePlanSchemes() {
	ctx := context.Background()
	st := memstore.New()
	defer st.Close()
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		panic(err)
	}
	if _, err := svc.CreateOrganization(ctx, org.Principal{ID: "ada", Kind: org.User}, orgauthz.NewOrganization{ID: "acme", Name: "Acme", Edition: "community"}); err != nil {
		panic(err)
	}
	for _, p := range []string{"bob", "cy"} {
		if _, err := svc.Host().Provision(ctx, "acme", org.Principal{ID: p, Kind: org.User}, "user"); err != nil {
			panic(err)
		}
	}
	spec := edition.Wherobots().Spec()
	spec.Editions[0].Seats = edition.Seats(2)
	next, err := edition.NewScheme(spec)
	if err != nil {
		panic(err)
	}
	plan, err := orgauthz.PlanSchemes(ctx, st, []*edition.Scheme{next})
	if err != nil {
		panic(err)
	}
	plan.WriteText(os.Stdout)
	// Output:
	// 1 organization(s) examined, 1 broken, 1 break(s)
	//   acme: seats: 3 seat(s) in use (3 member(s), 0 pending invitation(s)), edition "community" allows 2
}
