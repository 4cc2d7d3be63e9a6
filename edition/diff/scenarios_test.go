package diff_test

import (
	"slices"
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

// scenario is a preset and an edit of its Spec: the change under test.
type scenario struct {
	name string
	base func() *edition.Scheme
	edit func(*edition.Spec)
}

// build returns the preset and the scheme its edited Spec builds.
func (sc scenario) build(t *testing.T) (old, new *edition.Scheme) {
	t.Helper()
	old = sc.base()
	spec := old.Spec()
	sc.edit(&spec)
	new, err := edition.NewScheme(spec)
	if err != nil {
		t.Fatalf("%s: %v", sc.name, err)
	}
	return old, new
}

func without(list []role.Capability, drop ...role.Capability) []role.Capability {
	return slices.DeleteFunc(slices.Clone(list), func(c role.Capability) bool { return slices.Contains(drop, c) })
}

var scenarios = map[string]scenario{
	"add-role": {base: edition.Wherobots, edit: func(sp *edition.Spec) {
		sp.Roles = append(sp.Roles, role.Role{ID: "viewer", Name: "Viewer", Rank: 1})
		sp.Matrix["viewer"] = []role.Capability{"cloud:use", "notebook:start"}
	}},
	"remove-role": {base: edition.AIEngine, edit: func(sp *edition.Spec) {
		sp.Roles = slices.DeleteFunc(sp.Roles, func(r role.Role) bool { return r.ID == "editor" })
		delete(sp.Matrix, "editor")
	}},
	"grant": {base: edition.Wherobots, edit: func(sp *edition.Spec) {
		sp.Matrix["user"] = append(sp.Matrix["user"], "billing:view")
	}},
	"revoke": {base: edition.Wherobots, edit: func(sp *edition.Spec) {
		sp.Matrix["user"] = without(sp.Matrix["user"], "notebook:start")
	}},
	"lower-seats": {base: edition.Wherobots, edit: func(sp *edition.Spec) {
		sp.Editions[0].Seats = edition.Seats(3)
	}},
	"gate": {base: edition.Wherobots, edit: func(sp *edition.Spec) {
		sp.CapabilityEditions["api_keys:revoke_others"] = []string{"professional", "enterprise"}
	}},
	"invariant-max": {base: edition.Wherobots, edit: func(sp *edition.Spec) {
		sp.Invariants[0].Max = 2
	}},
	"invariant-mutable": {base: edition.UiPath, edit: func(sp *edition.Spec) {
		sp.Invariants[0].Immutable = false
	}},
	"split-role": {base: edition.Wherobots, edit: func(sp *edition.Spec) {
		sp.Roles = append(sp.Roles, role.Role{ID: "analyst", Name: "Analyst", Rank: 1})
		sp.Matrix["analyst"] = slices.Clone(sp.Matrix["user"])
		sp.Matrix["user"] = without(sp.Matrix["user"], "job_runs:create", "raster_inference:use")
	}},
	"add-capability": {base: edition.Wherobots, edit: func(sp *edition.Spec) {
		sp.Capabilities = append(sp.Capabilities, role.Def{ID: "exports:run", Label: "Run exports"})
		sp.Matrix["admin"] = append(sp.Matrix["admin"], "exports:run")
		sp.CapabilityEditions["exports:run"] = []string{"enterprise"}
	}},
	"not-own": {base: edition.Wherobots, edit: func(sp *edition.Spec) {
		sp.Own = nil
	}},
	"scope-grant": {base: edition.AIEngine, edit: func(sp *edition.Spec) {
		sp.Scopes[0].Matrix["viewer"] = append(sp.Scopes[0].Matrix["viewer"], "project/assets:manage")
		sp.Scopes[0].DefaultRole = "editor"
	}},
	"implicit-dropped": {base: edition.SoterAI, edit: func(sp *edition.Spec) {
		delete(sp.Scopes[0].Implicit, "manager")
	}},
	"eligibility": {base: edition.AIEngine, edit: func(sp *edition.Spec) {
		sp.Scopes[0].Eligibility[0].OrgCapability = "projects:be_member"
	}},
}
