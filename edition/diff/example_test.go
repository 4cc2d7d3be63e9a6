package diff_test

import (
	"fmt"
	"os"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/edition/diff"
)

// Lowering the community edition's seat limit and letting users view
// billing: one change is breaking, the other escalates.
func ExampleCompare() {
	old := edition.Wherobots()
	spec := old.Spec()
	spec.Editions[0].Seats = edition.Seats(3)
	spec.Matrix["user"] = append(spec.Matrix["user"], "billing:view")
	next, err := edition.NewScheme(spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := diff.Compare(old, next)
	fmt.Println("breaking:", r.Breaking(), "escalating:", r.Escalating())
	if err := r.WriteText(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// breaking: true escalating: true
	// Scheme wherobots (Wherobots Cloud) → wherobots (Wherobots Cloud)
	// Breaking: yes. Escalating: yes (4).
	//
	// Roles
	//   ~ user
	//       capabilities: +billing:view  [relaxes]
	//
	// Editions
	//   ~ community
	//       seats: 5 seats → 3 seats  [restricts]
	//
	// Cells
	//   edition community
	//     user  billing:view  denied (role-lacks) → denied (edition-gated)
	//   edition professional
	//     user  billing:view  denied (role-lacks) → allowed (role-holds)  [relaxes]
	//   edition enterprise
	//     user  billing:view  denied (role-lacks) → allowed (role-holds)  [relaxes]
	//
	// Escalations
	//   !! capability: role "user" gains "billing:view" in edition "professional"
	//   !! assignable: role "admin" may give role "user", which now holds "billing:view" in edition "professional"
	//   !! capability: role "user" gains "billing:view" in edition "enterprise"
	//   !! assignable: role "admin" may give role "user", which now holds "billing:view" in edition "enterprise"
}

// A report's escalations, for a check in CI that refuses a scheme change
// granting more without review.
func ExampleReport_Escalating() {
	old := edition.SoterAI()
	spec := old.Spec()
	spec.Matrix["manager"] = append(spec.Matrix["manager"], "billing:manage")
	next, err := edition.NewScheme(spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	r := diff.Compare(old, next)
	for _, e := range r.Escalations {
		if e.Edition == "enterprise" {
			fmt.Println(e.Kind, "-", e.Detail)
		}
	}
	// Output:
	// capability - role "manager" gains "billing:manage" in edition "enterprise"
	// assignable - role "owner" may give role "manager", which now holds "billing:manage" in edition "enterprise"
	// assignable - role "manager" may give role "manager", which now holds "billing:manage" in edition "enterprise"
	// operation - role "manager" may now change the organization's edition or seat limit (organization.edition) in edition "enterprise"
	// operation - role "manager" may now start, extend or end a trial of an edition (organization.trial) in edition "enterprise"
}
