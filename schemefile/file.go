package schemefile

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

// The file types mirror edition.Spec field by field (a test checks that
// none is left out): a field named Foo in edition is foo here, FooBar is
// foo_bar. The codec (decode.go, encode.go) reads and writes them through
// their yaml tags; the option "flow" writes a struct, or each struct of a
// list, on one line, and "always" writes a field even when it is zero.
//
// Maps are mappings: their keys keep the file's order on the way in and
// the Spec's order (the roles', the capabilities') on the way out.

type fileSpec struct {
	// Schema names the JSON Schema of the file, for editors; it is not
	// part of the scheme and Marshal does not write it.
	Schema             string            `yaml:"$schema"`
	ID                 string            `yaml:"id"`
	Name               string            `yaml:"name"`
	Roles              []fileRole        `yaml:"roles,flow"`
	Capabilities       []fileDef         `yaml:"capabilities,flow"`
	Matrix             mapping[[]string] `yaml:"matrix"`
	Editions           []fileEdition     `yaml:"editions,flow"`
	DefaultEdition     string            `yaml:"default_edition"`
	CapabilityEditions mapping[[]string] `yaml:"capability_editions"`
	RoleEditions       mapping[[]string] `yaml:"role_editions"`
	Trials             []fileTrial       `yaml:"trials,flow"`
	CreatorRole        string            `yaml:"creator_role"`
	InviteRole         string            `yaml:"invite_role"`
	ExternalRole       string            `yaml:"external_role"`
	Invariants         []fileInvariant   `yaml:"invariants,flow"`
	Management         fileManagement    `yaml:"management"`
	Scopes             []fileScope       `yaml:"scopes"`
	Organization       fileOrganization  `yaml:"organization"`
	Own                []string          `yaml:"own"`
	Keys               fileKeys          `yaml:"keys"`
}

type fileRole struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	Rank int    `yaml:"rank,always"`
}

type fileDef struct {
	ID    string `yaml:"id"`
	Label string `yaml:"label"`
}

type fileEdition struct {
	ID    string    `yaml:"id"`
	Name  string    `yaml:"name"`
	Seats fileSeats `yaml:"seats"`
}

type fileSeats struct {
	Max         int  `yaml:"max"`
	Overridable bool `yaml:"overridable"`
}

type fileTrial struct {
	Edition     string   `yaml:"edition"`
	MaxDuration duration `yaml:"max_duration"`
	From        []string `yaml:"from"`
}

// duration is a time.Duration, written as a Go duration string ("720h",
// "1h30m").
type duration time.Duration

// String returns d as time.Duration does, without the zero minutes and
// seconds of a whole number of hours or minutes: "720h", "90m", "1h30m".
func (d duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

type fileInvariant struct {
	Role      string `yaml:"role"`
	Min       int    `yaml:"min"`
	Max       int    `yaml:"max"`
	Immutable bool   `yaml:"immutable"`
}

type fileManagement struct {
	Invite     string     `yaml:"invite"`
	Add        string     `yaml:"add"`
	Remove     string     `yaml:"remove"`
	ChangeRole string     `yaml:"change_role"`
	Rules      []fileRule `yaml:"rules"`
	Owner      string     `yaml:"owner"`
}

type fileRule struct {
	Actor  string   `yaml:"actor"`
	Manage []string `yaml:"manage"`
	Assign []string `yaml:"assign"`
}

type fileOrganization struct {
	Settings string `yaml:"settings"`
	Edition  string `yaml:"edition"`
	Delete   string `yaml:"delete"`
	Audit    string `yaml:"audit"`
	Trial    string `yaml:"trial"`
}

type fileKeys struct {
	ServicePrincipals    string `yaml:"service_principals"`
	ServicePrincipalKeys string `yaml:"service_principal_keys"`
	Own                  string `yaml:"own"`
	RevokeOthers         string `yaml:"revoke_others"`
	Authenticate         string `yaml:"authenticate"`
}

type fileScope struct {
	Kind                 string            `yaml:"kind"`
	Name                 string            `yaml:"name"`
	Roles                []fileRole        `yaml:"roles,flow"`
	Capabilities         []fileDef         `yaml:"capabilities,flow"`
	Matrix               mapping[[]string] `yaml:"matrix"`
	CreatorRole          string            `yaml:"creator_role"`
	DefaultRole          string            `yaml:"default_role"`
	MinHolders           mapping[int]      `yaml:"min_holders"`
	Create               string            `yaml:"create"`
	Delete               string            `yaml:"delete"`
	DeleteInScope        string            `yaml:"delete_in_scope"`
	ManageMembers        string            `yaml:"manage_members"`
	ManageMembersInScope string            `yaml:"manage_members_in_scope"`
	View                 string            `yaml:"view"`
	CustomRoles          string            `yaml:"custom_roles"`
	Eligibility          []fileEligibility `yaml:"eligibility,flow"`
	AllowExternal        bool              `yaml:"allow_external"`
	Implicit             mapping[string]   `yaml:"implicit"`
}

type fileEligibility struct {
	ScopeRole     string   `yaml:"scope_role"`
	OrgCapability string   `yaml:"org_capability"`
	OrgRoles      []string `yaml:"org_roles"`
}

// mapping is a YAML mapping from strings to V, in order. A nil mapping is
// absent from the file; an empty one is written {}.
type mapping[V any] []entry[V]

type entry[V any] struct {
	Key   string
	Value V
}

// isMapping marks the type for the codec.
func (mapping[V]) isMapping() {}

// toMap returns m as a map; nil stays nil.
func toMap[K ~string, V, W any](m mapping[V], conv func(V) W) map[K]W {
	if m == nil {
		return nil
	}
	out := make(map[K]W, len(m))
	for _, e := range m {
		out[K(e.Key)] = conv(e.Value)
	}
	return out
}

// fromMap returns m as a mapping, its keys in the order of order and then
// the others sorted; nil stays nil.
func fromMap[K ~string, V, W any](m map[K]V, order []K, conv func(V) W) mapping[W] {
	if m == nil {
		return nil
	}
	out := make(mapping[W], 0, len(m))
	done := make(map[K]bool, len(m))
	add := func(k K) {
		if v, ok := m[k]; ok && !done[k] {
			done[k] = true
			out = append(out, entry[W]{Key: string(k), Value: conv(v)})
		}
	}
	for _, k := range order {
		add(k)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		add(k)
	}
	return out
}

func identity[V any](v V) V { return v }

// strings converts a list of string-kinded values, keeping nil and empty
// apart.
func conv[To, From ~string](in []From) []To {
	if in == nil {
		return nil
	}
	out := make([]To, len(in))
	for i, s := range in {
		out[i] = To(s)
	}
	return out
}

func convSlice[To, From any](in []From, f func(From) To) []To {
	if in == nil {
		return nil
	}
	out := make([]To, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func roleIDs(roles []role.Role) []string {
	ids := make([]string, len(roles))
	for i, r := range roles {
		ids[i] = r.ID
	}
	return ids
}

func capIDs(defs []role.Def) []role.Capability {
	ids := make([]role.Capability, len(defs))
	for i, d := range defs {
		ids[i] = d.ID
	}
	return ids
}

func toFileRole(r role.Role) fileRole { return fileRole{ID: r.ID, Name: r.Name, Rank: r.Rank} }
func toRole(r fileRole) role.Role     { return role.Role{ID: r.ID, Name: r.Name, Rank: r.Rank} }
func toFileDef(d role.Def) fileDef    { return fileDef{ID: string(d.ID), Label: d.Label} }
func toDef(d fileDef) role.Def        { return role.Def{ID: role.Capability(d.ID), Label: d.Label} }

// toFile converts spec to the file types.
func toFile(sp edition.Spec) fileSpec {
	roles := roleIDs(sp.Roles)
	return fileSpec{
		ID:           sp.ID,
		Name:         sp.Name,
		Roles:        convSlice(sp.Roles, toFileRole),
		Capabilities: convSlice(sp.Capabilities, toFileDef),
		Matrix:       fromMap(sp.Matrix, roles, conv[string, role.Capability]),
		Editions: convSlice(sp.Editions, func(e edition.EditionSpec) fileEdition {
			return fileEdition{ID: e.ID, Name: e.Name, Seats: fileSeats{Max: e.Seats.Max, Overridable: e.Seats.Overridable}}
		}),
		DefaultEdition:     sp.DefaultEdition,
		CapabilityEditions: fromMap(sp.CapabilityEditions, capIDs(sp.Capabilities), slices.Clone[[]string]),
		RoleEditions:       fromMap(sp.RoleEditions, roles, slices.Clone[[]string]),
		Trials: convSlice(sp.Trials, func(t edition.TrialSpec) fileTrial {
			return fileTrial{Edition: t.Edition, MaxDuration: duration(t.MaxDuration), From: slices.Clone(t.From)}
		}),
		CreatorRole:  sp.CreatorRole,
		InviteRole:   sp.InviteRole,
		ExternalRole: sp.ExternalRole,
		Invariants: convSlice(sp.Invariants, func(i edition.Invariant) fileInvariant {
			return fileInvariant{Role: i.Role, Min: i.Min, Max: i.Max, Immutable: i.Immutable}
		}),
		Management: fileManagement{
			Invite:     string(sp.Management.Invite),
			Add:        string(sp.Management.Add),
			Remove:     string(sp.Management.Remove),
			ChangeRole: string(sp.Management.ChangeRole),
			Rules: convSlice(sp.Management.Rules, func(r edition.Rule) fileRule {
				return fileRule{Actor: r.Actor, Manage: slices.Clone(r.Manage), Assign: slices.Clone(r.Assign)}
			}),
			Owner: sp.Management.Owner,
		},
		Scopes: convSlice(sp.Scopes, func(sc edition.ScopeSpec) fileScope { return toFileScope(sc, roles) }),
		Organization: fileOrganization{
			Settings: string(sp.Organization.Settings),
			Edition:  string(sp.Organization.Edition),
			Delete:   string(sp.Organization.Delete),
			Audit:    string(sp.Organization.Audit),
			Trial:    string(sp.Organization.Trial),
		},
		Own: conv[string](sp.Own),
		Keys: fileKeys{
			ServicePrincipals:    string(sp.Keys.ServicePrincipals),
			ServicePrincipalKeys: string(sp.Keys.ServicePrincipalKeys),
			Own:                  string(sp.Keys.Own),
			RevokeOthers:         string(sp.Keys.RevokeOthers),
			Authenticate:         string(sp.Keys.Authenticate),
		},
	}
}

// toFileScope converts a scope kind; orgRoles orders Implicit.
func toFileScope(sc edition.ScopeSpec, orgRoles []string) fileScope {
	roles := roleIDs(sc.Roles)
	return fileScope{
		Kind:                 sc.Kind,
		Name:                 sc.Name,
		Roles:                convSlice(sc.Roles, toFileRole),
		Capabilities:         convSlice(sc.Capabilities, toFileDef),
		Matrix:               fromMap(sc.Matrix, roles, conv[string, role.Capability]),
		CreatorRole:          sc.CreatorRole,
		DefaultRole:          sc.DefaultRole,
		MinHolders:           fromMap(sc.MinHolders, roles, identity[int]),
		Create:               string(sc.Create),
		Delete:               string(sc.Delete),
		DeleteInScope:        string(sc.DeleteInScope),
		ManageMembers:        string(sc.ManageMembers),
		ManageMembersInScope: string(sc.ManageMembersInScope),
		View:                 string(sc.View),
		CustomRoles:          string(sc.CustomRoles),
		Eligibility: convSlice(sc.Eligibility, func(e edition.Eligibility) fileEligibility {
			return fileEligibility{ScopeRole: e.ScopeRole, OrgCapability: string(e.OrgCapability), OrgRoles: slices.Clone(e.OrgRoles)}
		}),
		AllowExternal: sc.AllowExternal,
		Implicit:      fromMap(sc.Implicit, orgRoles, identity[string]),
	}
}

// toSpec converts the file types to a Spec.
func (f *fileSpec) toSpec() edition.Spec {
	return edition.Spec{
		ID:           f.ID,
		Name:         f.Name,
		Roles:        convSlice(f.Roles, toRole),
		Capabilities: convSlice(f.Capabilities, toDef),
		Matrix:       toMap[string](f.Matrix, conv[role.Capability, string]),
		Editions: convSlice(f.Editions, func(e fileEdition) edition.EditionSpec {
			return edition.EditionSpec{ID: e.ID, Name: e.Name, Seats: edition.SeatLimit{Max: e.Seats.Max, Overridable: e.Seats.Overridable}}
		}),
		DefaultEdition:     f.DefaultEdition,
		CapabilityEditions: toMap[role.Capability](f.CapabilityEditions, identity[[]string]),
		RoleEditions:       toMap[string](f.RoleEditions, identity[[]string]),
		Trials: convSlice(f.Trials, func(t fileTrial) edition.TrialSpec {
			return edition.TrialSpec{Edition: t.Edition, MaxDuration: time.Duration(t.MaxDuration), From: t.From}
		}),
		CreatorRole:  f.CreatorRole,
		InviteRole:   f.InviteRole,
		ExternalRole: f.ExternalRole,
		Invariants: convSlice(f.Invariants, func(i fileInvariant) edition.Invariant {
			return edition.Invariant{Role: i.Role, Min: i.Min, Max: i.Max, Immutable: i.Immutable}
		}),
		Management: edition.Management{
			Invite:     role.Capability(f.Management.Invite),
			Add:        role.Capability(f.Management.Add),
			Remove:     role.Capability(f.Management.Remove),
			ChangeRole: role.Capability(f.Management.ChangeRole),
			Rules: convSlice(f.Management.Rules, func(r fileRule) edition.Rule {
				return edition.Rule{Actor: r.Actor, Manage: r.Manage, Assign: r.Assign}
			}),
			Owner: f.Management.Owner,
		},
		Scopes: convSlice(f.Scopes, func(sc fileScope) edition.ScopeSpec {
			return edition.ScopeSpec{
				Kind:                 sc.Kind,
				Name:                 sc.Name,
				Roles:                convSlice(sc.Roles, toRole),
				Capabilities:         convSlice(sc.Capabilities, toDef),
				Matrix:               toMap[string](sc.Matrix, conv[role.Capability, string]),
				CreatorRole:          sc.CreatorRole,
				DefaultRole:          sc.DefaultRole,
				MinHolders:           toMap[string](sc.MinHolders, identity[int]),
				Create:               role.Capability(sc.Create),
				Delete:               role.Capability(sc.Delete),
				DeleteInScope:        role.Capability(sc.DeleteInScope),
				ManageMembers:        role.Capability(sc.ManageMembers),
				ManageMembersInScope: role.Capability(sc.ManageMembersInScope),
				View:                 role.Capability(sc.View),
				CustomRoles:          role.Capability(sc.CustomRoles),
				Eligibility: convSlice(sc.Eligibility, func(e fileEligibility) edition.Eligibility {
					return edition.Eligibility{ScopeRole: e.ScopeRole, OrgCapability: role.Capability(e.OrgCapability), OrgRoles: e.OrgRoles}
				}),
				AllowExternal: sc.AllowExternal,
				Implicit:      toMap[string](sc.Implicit, identity[string]),
			}
		}),
		Organization: edition.OrgCapabilities{
			Settings: role.Capability(f.Organization.Settings),
			Edition:  role.Capability(f.Organization.Edition),
			Delete:   role.Capability(f.Organization.Delete),
			Audit:    role.Capability(f.Organization.Audit),
			Trial:    role.Capability(f.Organization.Trial),
		},
		Own: conv[role.Capability](f.Own),
		Keys: edition.KeyCapabilities{
			ServicePrincipals:    role.Capability(f.Keys.ServicePrincipals),
			ServicePrincipalKeys: role.Capability(f.Keys.ServicePrincipalKeys),
			Own:                  role.Capability(f.Keys.Own),
			RevokeOthers:         role.Capability(f.Keys.RevokeOthers),
			Authenticate:         role.Capability(f.Keys.Authenticate),
		},
	}
}
