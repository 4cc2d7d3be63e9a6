package render_test

import (
	"fmt"
	"os"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/edition/render"
	"github.com/orgauthz/orgauthz/role"
)

// A small scheme's matrix as Markdown: one table per edition; the reader
// role is not offered in the free edition, and notes:export is offered in
// the team edition only.
func ExampleMatrix() {
	s, err := edition.NewScheme(edition.Spec{
		ID:           "notes",
		Name:         "Notes",
		Roles:        []role.Role{{ID: "editor", Name: "Editor", Rank: 2}, {ID: "reader", Name: "Reader", Rank: 1}},
		Capabilities: []role.Def{{ID: "notes:read", Label: "Read notes"}, {ID: "notes:export", Label: "Export notes"}},
		Matrix: map[string][]role.Capability{
			"editor": {"notes:read", "notes:export"},
			"reader": {"notes:read"},
		},
		Editions:           []edition.EditionSpec{{ID: "free", Name: "Free", Seats: edition.Seats(3)}, {ID: "team", Name: "Team"}},
		CapabilityEditions: map[role.Capability][]string{"notes:export": {"team"}},
		RoleEditions:       map[string][]string{"reader": {"team"}},
		CreatorRole:        "editor",
		InviteRole:         "editor",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := render.Matrix(os.Stdout, s, render.Markdown); err != nil {
		fmt.Println(err)
	}
	// Output:
	// # Notes (`notes`)
	//
	// ## Free (`free`)
	//
	// - 3 seats; the default edition.
	// - Not offered in this edition: Reader (—).
	//
	// | Capability | Editor | Reader | Editions | ID |
	// |---|:-:|:-:|---|---|
	// | Read notes | ✅ | — | all | `notes:read` |
	// | Export notes | ❌ | — | Team | `notes:export` |
	//
	// ## Team (`team`)
	//
	// - Unlimited seats.
	//
	// | Capability | Editor | Reader | Editions | ID |
	// |---|:-:|:-:|---|---|
	// | Read notes | ✅ | ✅ | all | `notes:read` |
	// | Export notes | ✅ | ❌ | Team | `notes:export` |
}

// A preset's scope tables as CSV, one header row for every kind.
func ExampleScopes() {
	if err := render.Scopes(os.Stdout, edition.SoterAI(), render.CSV); err != nil {
		fmt.Println(err)
	}
	// Output:
	// scope,capability,label,manager,member
	// workspace,workspace:use,Use the workspace,✅,✅
	// workspace,workspace:configure,Configure the workspace,✅,❌
	// workspace,workspace/members:manage,Manage the workspace's members,✅,❌
}
