package schemefile_test

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/schemefile"
)

func ExampleBuild() {
	const file = `
id: notes
roles:
  - {id: editor, rank: 2}
  - {id: reader, rank: 1}
capabilities:
  - {id: notes:read, label: Read notes}
  - {id: notes:write, label: Write notes}
  - {id: members:invite}
matrix:
  editor: [notes:read, notes:write, members:invite]
  reader: [notes:read]
editions:
  - {id: free, seats: {max: 3}}
  - {id: pro}
capability_editions:
  notes:write: [pro]
creator_role: editor
invite_role: reader
invariants:
  - {role: editor, min: 1}
management:
  invite: members:invite
`
	s, err := schemefile.Build("notes.yaml", []byte(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(policy.Decide(s, "pro", "editor", "notes:write"))
	fmt.Println(policy.Decide(s, "free", "editor", "notes:write"))
	fmt.Println(policy.Decide(s, "pro", "reader", "notes:write"))
	// Output:
	// allowed (role-holds): role "editor" holds "notes:write" in edition "pro"
	// denied (edition-gated): edition "free" does not offer "notes:write"
	// denied (role-lacks): role "reader" lacks "notes:write"
}

// A scheme that NewScheme refuses comes back at the place of the file it
// is about, NewScheme's error wrapped.
func ExampleBuild_error() {
	const file = `id: notes
roles: [{id: editor, rank: 2}]
capabilities: [{id: 'notes:read'}]
matrix:
  editor: [notes:read]
  reader: [notes:read]
editions: [{id: free}]
creator_role: editor
invite_role: editor
`
	_, err := schemefile.Build("notes.yaml", []byte(file))
	fmt.Println(err)
	fmt.Println(errors.Is(err, schemefile.ErrInvalid), errors.Is(err, role.ErrUnknownRole))
	// Output:
	// notes.yaml:6:3: invalid scheme "notes": matrix: unknown role "reader": the matrix grants it capabilities but it is not a defined role
	// true true
}

func ExampleMarshal() {
	spec := edition.Spec{
		ID:           "notes",
		Roles:        []role.Role{{ID: "editor", Rank: 2}, {ID: "reader", Rank: 1}},
		Capabilities: []role.Def{{ID: "notes:read"}, {ID: "notes:write"}},
		Matrix:       map[string][]role.Capability{"reader": {"notes:read"}, "editor": {"notes:read", "notes:write"}},
		Editions:     []edition.EditionSpec{{ID: "free", Seats: edition.Seats(3)}},
		CreatorRole:  "editor",
		InviteRole:   "reader",
	}
	data, _ := schemefile.Marshal(spec, schemefile.YAML)
	fmt.Print(string(data))
	// Output:
	// id: notes
	// roles:
	//   - {id: editor, rank: 2}
	//   - {id: reader, rank: 1}
	// capabilities:
	//   - {id: 'notes:read'}
	//   - {id: 'notes:write'}
	// matrix:
	//   editor:
	//     - notes:read
	//     - notes:write
	//   reader:
	//     - notes:read
	// editions:
	//   - {id: free, seats: {max: 3}}
	// creator_role: editor
	// invite_role: reader
}

func ExampleLoad() {
	s, err := schemefile.Load("presets/soterai.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Name(), len(s.Roles()), "roles")
	fmt.Println(policy.CanInvite(s, "starter", "owner", "member"))
	// Output:
	// SoterAI 3 roles
	// denied (role-not-in-edition): edition "starter" does not offer role "member"
}

func ExamplePresets() {
	names, _ := fs.Glob(schemefile.Presets, "*.yaml")
	for _, name := range names {
		data, _ := fs.ReadFile(schemefile.Presets, name)
		s, err := schemefile.Build(name, data)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s: %s, %d editions\n", name, s.Name(), len(s.Editions()))
	}
	// Output:
	// aiengine.yaml: AI & Analytics Engine, 1 editions
	// soterai.yaml: SoterAI, 3 editions
	// uipath.yaml: UiPath Cloud Platform, 1 editions
	// wherobots.yaml: Wherobots Cloud, 3 editions
}
