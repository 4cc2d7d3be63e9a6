package edition_test

import (
	"errors"
	"fmt"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

// A host application defines its own scheme: two roles, three
// capabilities, one edition of three seats.
func ExampleNewScheme() {
	s, err := edition.NewScheme(edition.Spec{
		ID:    "notes",
		Roles: []role.Role{{ID: "editor", Rank: 2}, {ID: "reader", Rank: 1}},
		Capabilities: []role.Def{
			{ID: "notes:read"},
			{ID: "notes:write"},
			{ID: "members:invite"},
		},
		Matrix: map[string][]role.Capability{
			"editor": {"notes:read", "notes:write", "members:invite"},
			"reader": {"notes:read"},
		},
		Editions:    []edition.EditionSpec{{ID: "free", Seats: edition.Seats(3)}},
		CreatorRole: "editor",
		InviteRole:  "reader",
		Invariants:  []edition.Invariant{{Role: "editor", Min: 1}},
		Management:  edition.Management{Invite: "members:invite"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Name(), "- creator:", s.CreatorRole(), "- edition:", s.DefaultEdition().ID(), s.DefaultEdition().Seats())
	fmt.Println("a reader may write:", s.Matrix().Holds("reader", "notes:write"))
	// Output:
	// notes - creator: editor - edition: free 3 seats
	// a reader may write: false
}

// A scheme that contradicts itself is refused when it is built: here an
// editor may invite readers, who hold a capability the editor lacks.
func ExampleNewScheme_invalid() {
	_, err := edition.NewScheme(edition.Spec{
		ID:    "notes",
		Roles: []role.Role{{ID: "editor", Rank: 2}, {ID: "reader", Rank: 1}},
		Capabilities: []role.Def{
			{ID: "notes:read"},
			{ID: "notes:export"},
			{ID: "members:invite"},
		},
		Matrix: map[string][]role.Capability{
			"editor": {"notes:read", "members:invite"},
			"reader": {"notes:read", "notes:export"},
		},
		Editions:    []edition.EditionSpec{{ID: "free"}},
		CreatorRole: "editor",
		InviteRole:  "reader",
		Management:  edition.Management{Invite: "members:invite"},
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, edition.ErrInvalidScheme))
	// Output:
	// invalid scheme "notes": role "editor" may give role "reader", which holds "notes:export" that "editor" lacks: add a management rule narrowing what "editor" may assign
	// true
}

func ExampleWherobots() {
	s := edition.Wherobots()
	for _, e := range s.Editions() {
		fmt.Printf("%s: %s\n", e.ID(), e.Seats())
	}
	pro, _ := s.Edition("professional")
	fmt.Println("professional with an override of 25:", pro.Seats().Limit(25))
	// Output:
	// community: 5 seats
	// professional: 10 seats (overridable)
	// enterprise: unlimited seats
	// professional with an override of 25: 25
}

// A host derives its own scheme from a preset through Spec, which returns a
// deep copy: the preset is left as it was.
func ExampleScheme_Spec() {
	spec := edition.Wherobots().Spec()
	spec.ID, spec.Name = "acme", "Acme Cloud"
	spec.Editions[0].Seats = edition.Seats(3)
	acme, err := edition.NewScheme(spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(acme.Name(), acme.DefaultEdition().ID(), acme.DefaultEdition().Seats())
	fmt.Println(edition.Wherobots().Name(), edition.Wherobots().DefaultEdition().Seats())
	// Output:
	// Acme Cloud community 3 seats
	// Wherobots Cloud 5 seats
}
