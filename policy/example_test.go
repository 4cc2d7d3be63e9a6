package policy_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
)

func ExampleDecide() {
	s := edition.Wherobots()

	fmt.Println(policy.Decide(s, "professional", "user", "job_runs:create"))
	fmt.Println(policy.Decide(s, "community", "user", "job_runs:create"))
	fmt.Println(policy.Decide(s, "enterprise", "user", "members:manage"))
	// Output:
	// allowed (role-holds): role "user" holds "job_runs:create" in edition "professional"
	// denied (edition-gated): edition "community" does not offer "job_runs:create"
	// denied (role-lacks): role "user" lacks "members:manage"
}

// Hot paths resolve the edition, role and capability once and decide many
// times without a lookup.
func ExampleDecideAt() {
	s := edition.Wherobots()
	e, _ := s.Edition("professional")
	user, _ := s.RoleIndex("user")
	jobs, _ := s.Catalog().Index("job_runs:create")

	d := policy.DecideAt(s, e, user, jobs)
	fmt.Println(d.Allowed, d.Reason, d.Capability())
	// Output:
	// true role-holds job_runs:create
}

func ExampleCanManage() {
	s := edition.SoterAI()

	// Managers manage managers and members, never owners.
	fmt.Println(policy.CanChangeRole(s, "enterprise", "manager", "member", "manager"))
	fmt.Println(policy.CanRemove(s, "enterprise", "manager", "owner"))
	// The member role exists only in enterprise.
	fmt.Println(policy.CanInvite(s, "starter", "owner", "member"))
	// Output:
	// allowed (may-manage): role "manager" may change a member's role from "member" to "manager"
	// denied (outranked): role "manager" may not remove a member holding "owner"
	// denied (role-not-in-edition): edition "starter" does not offer role "member"
}

func ExampleCheckChange() {
	s := edition.Wherobots()
	counts := policy.Counts{Seats: 3, Holders: map[string]int{"admin": 1, "user": 2}}

	// Demoting the last admin breaks "at least one admin".
	err := policy.CheckChange(s, "community", 0, counts, policy.Change{Lose: "admin", Gain: "user"})
	fmt.Println(errors.Is(err, policy.ErrMinHolders), err)

	// A community organization has five seats.
	counts = policy.Counts{Seats: 5, Holders: map[string]int{"admin": 1, "user": 4}}
	err = policy.CheckChange(s, "community", 0, counts, policy.Change{Seats: 1, Gain: "user"})
	fmt.Println(errors.Is(err, policy.ErrSeatLimit), err)
	// Output:
	// true invariant violated: too few holders of role: at least 1 member(s) must hold "admin", and this would leave 0
	// true invariant violated: seat limit reached: edition "community" allows 5 seats and 5 are in use
}

func ExampleCheckEdition() {
	s := edition.SoterAI()
	counts := policy.Counts{Seats: 6, Holders: map[string]int{"owner": 1, "manager": 2, "member": 3}}

	err := policy.CheckEdition(s, "professional", 0, counts)
	fmt.Println(err)
	// Output:
	// invariant violated: not offered in this edition: edition "professional" does not offer role "member", which 3 member(s) hold; change their role first
}

func ExampleDecision_Err() {
	d := policy.CanRemove(edition.UiPath(), "standard", "administrator", "owner")
	err := d.Err()
	fmt.Println(errors.Is(err, policy.ErrImmutableRole), errors.Is(err, policy.ErrInvariant))
	fmt.Println(err)
	// Output:
	// true true
	// invariant violated: immutable role: role "owner" is immutable: its holder can be neither removed nor re-roled
}

func ExampleEligible() {
	s := edition.AIEngine()
	// A principal outside the organization joins a project as External
	// User: it may be an editor or viewer, never an owner.
	fmt.Println(policy.Eligible(s, "standard", "project", "external", "editor").Allowed)
	fmt.Println(policy.Eligible(s, "standard", "project", "external", "owner"))
	// Output:
	// true
	// denied (not-eligible): organization role "external" may not hold project role "owner": it lacks "projects:be_owner"
}

func ExampleRows() {
	s := edition.Wherobots()
	for row := range policy.Rows(s) {
		if row.Capability == "raster_inference:use" && row.Role == "user" {
			fmt.Println(row.Edition, row.Allowed)
		}
	}
	// Output:
	// community false
	// professional true
	// enterprise true
}

// UiPath's administrators hold organization_settings:delete, but only the
// immutable owner archives or deletes the organization.
func ExampleCanDeleteOrganization() {
	s := edition.UiPath()
	fmt.Println(policy.CanDeleteOrganization(s, "standard", "owner"))
	fmt.Println(policy.CanDeleteOrganization(s, "standard", "administrator"))
	// Output:
	// allowed (role-holds): role "owner" holds "organization_settings:delete" in edition "standard"
	// denied (immutable-owner): only the holder of the immutable role "owner" may archive or delete the organization; role "administrator" may not
}

// An AI Engine owner may remove an External User from the organization;
// an editor may not.
func ExampleCanRemoveExternal() {
	s := edition.AIEngine()
	fmt.Println(policy.CanRemoveExternal(s, "standard", "owner"))
	fmt.Println(policy.CanRemoveExternal(s, "standard", "editor"))
	// Output:
	// allowed (may-manage): role "owner" may remove an external principal from the organization
	// denied (role-lacks): role "editor" lacks "members:manage"
}

// A Decision marshals for a response: the verdict, the reason's name, the
// names it refers to and the explanation.
func ExampleDecision_MarshalJSON() {
	d := policy.Decide(edition.Wherobots(), "community", "admin", "billing:view")
	b, err := json.Marshal(d)
	fmt.Println(string(b), err)
	// Output:
	// {"allowed":false,"reason":"edition-gated","role":"admin","capability":"billing:view","edition":"community","explanation":"edition \"community\" does not offer \"billing:view\""} <nil>
}
