package role_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/orgauthz/orgauthz/role"
)

func ExampleCapability_Validate() {
	for _, c := range []role.Capability{
		"job_runs:create",
		"organization/settings:manage",
		"JobRuns:create",
		"job_runs",
	} {
		if err := c.Validate(); err != nil {
			fmt.Println(errors.Is(err, role.ErrInvalidCapability), err)
			continue
		}
		fmt.Printf("%s: resource %s, action %s\n", c, c.Resource(), c.Action())
	}
	// Output:
	// job_runs:create: resource job_runs, action create
	// organization/settings:manage: resource organization/settings, action manage
	// true invalid capability ID "JobRuns:create": resource segment "JobRuns" has upper-case 'J' (IDs are lower case)
	// true invalid capability ID "job_runs": missing ":" between resource and action
}

func ExampleNewCatalog() {
	caps, err := role.NewCatalog(
		role.Def{ID: "job_runs:create", Label: "Create job runs"},
		role.Def{ID: "job_runs:read", Label: "View job runs"},
		role.Def{ID: "organization/settings:manage", Label: "Manage settings"},
	)
	if err != nil {
		log.Fatal(err)
	}

	i, ok := caps.Index("job_runs:read")
	fmt.Println(i, ok)
	_, ok = caps.Index("job_runs:delete")
	fmt.Println(ok)

	s, err := caps.Set("organization/settings:manage", "job_runs:create")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(caps.IDs(s))

	_, err = caps.Set("job_runs:delete")
	fmt.Println(err)
	// Output:
	// 1 true
	// false
	// [job_runs:create organization/settings:manage]
	// unknown capability "job_runs:delete"
}

func ExampleSet() {
	// Positions are those of a catalog: 0 is its first capability.
	var editor role.Set
	editor = editor.With(0).With(1)
	viewer := role.Set{}.With(1)

	fmt.Println(viewer.SubsetOf(editor), editor.SubsetOf(viewer))
	fmt.Println(editor.Minus(viewer).Has(0), editor.Len())
	for i := range editor.Union(role.Set{}.With(200)).All() {
		fmt.Print(i, " ")
	}
	fmt.Println()
	// Output:
	// true false
	// true 2
	// 0 1 200
}

func ExampleMatrix_Render() {
	caps, err := role.NewCatalog(
		role.Def{ID: "job_runs:create", Label: "Create job runs"},
		role.Def{ID: "job_runs:read", Label: "View job runs"},
	)
	if err != nil {
		log.Fatal(err)
	}
	m, err := role.NewMatrix(caps,
		[]role.Role{
			{ID: "admin", Name: "Admin", Rank: 20},
			{ID: "member", Name: "Member", Rank: 10},
		},
		map[string][]role.Capability{
			"admin":  {"job_runs:create", "job_runs:read"},
			"member": {"job_runs:read"},
		})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Render(os.Stdout, role.RenderOptions{}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// | Capability | Admin | Member |
	// |---|:-:|:-:|
	// | Create job runs | ✅ | ❌ |
	// | View job runs | ✅ | ✅ |
}
