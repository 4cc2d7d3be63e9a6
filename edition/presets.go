package edition

import (
	"time"

	"github.com/orgauthz/orgauthz/role"
)

// The preset schemes of the orgauthz specification. Each function builds
// its scheme anew; build it once and share it, a Scheme being immutable and
// safe for concurrent use. The presets are validated by the package's
// tests, so building one never fails.

// The scope kinds of the presets, for CheckScope, CreateScope and the
// scope listings.
const (
	// ScopeProject is AIEngine's kind of scope resource.
	ScopeProject = "project"
	// ScopeService is UiPath's.
	ScopeService = "service"
	// ScopeWorkspace is SoterAI's.
	ScopeWorkspace = "workspace"
)

func mustBuild(sp Spec) *Scheme {
	s, err := NewScheme(sp)
	if err != nil {
		panic("orgauthz: preset scheme is invalid: " + err.Error())
	}
	return s
}

// Wherobots returns the role model of Wherobots Cloud: roles admin (rank 2)
// and user (rank 1); editions community (5 seats), professional (10 seats by
// default, overridable per organization) and enterprise (unlimited); at
// least one admin at all times; admins invite, remove and re-role anyone,
// other admins included. The first 16 capabilities are the rows of the
// product's role table, in its order and with its titles as labels.
//
// Decisions where the sources are silent:
//   - Pending invitations hold a seat, like members.
//   - A professional organization may carry its own seat limit in place of
//     the default 10.
//   - "Create Organization", denied to users, is kept as the capability
//     organization:create in the matrix; creating a new organization is open
//     to anyone, who becomes its admin.
//   - Inviting is allowed in every edition (the community example has
//     invited users).
//   - New organizations start in community, the free edition.
//   - No trials: the sources describe none, so no edition may be trialled.
//   - Members join by invitation only: the scheme offers no direct addition.
//   - Edition gates come from the public documentation: service principals
//     and their keys, job runs, raster inference, billing and audit logs are
//     professional and enterprise only.
//   - Renaming, changing the edition or seat override, and archiving or
//     deleting the organization need organization/settings:manage (admins);
//     reading the audit trail needs audit_logs:view, so it is professional
//     and enterprise only. api_keys:manage_own acts on one's own keys only.
//   - Service principals are created, renamed and deleted with
//     service_principals:create, and get keys with
//     service_principals/api_keys:add (admins, professional and enterprise);
//     any member makes keys of its own (api_keys:manage_own); admins revoke
//     anyone's (api_keys:revoke_others); a key authenticates only while its
//     owner holds api_keys:authenticate. A service principal takes a seat.
func Wherobots() *Scheme {
	const (
		admin, user = "admin", "user"
		paid        = "professional"
		ent         = "enterprise"
	)
	all := []role.Capability{
		"cloud:use", "notebook:start", "organization:create", "organization/settings:manage",
		"integrations/s3:create", "integrations/s3:use", "members:manage", "roles:modify",
		"service_principals:create", "service_principals/api_keys:add", "api_keys:revoke_others",
		"api_keys:manage_own", "api_keys:authenticate", "job_runs:create", "support:contact",
		"raster_inference:use", "billing:view", "audit_logs:view",
	}
	return mustBuild(Spec{
		ID:   "wherobots",
		Name: "Wherobots Cloud",
		Roles: []role.Role{
			{ID: admin, Name: "Admin", Rank: 2},
			{ID: user, Name: "User", Rank: 1},
		},
		Capabilities: []role.Def{
			{ID: "cloud:use", Label: "Use Wherobots Cloud"},
			{ID: "notebook:start", Label: "Start a notebook"},
			{ID: "organization:create", Label: "Create Organization"},
			{ID: "organization/settings:manage", Label: "Manage Organization Settings"},
			{ID: "integrations/s3:create", Label: "Create Amazon S3 integrations"},
			{ID: "integrations/s3:use", Label: "Use Amazon S3 integrations"},
			{ID: "members:manage", Label: "Invite/Remove Members"},
			{ID: "roles:modify", Label: "Modify Role configurations"},
			{ID: "service_principals:create", Label: "Create Service Principals"},
			{ID: "service_principals/api_keys:add", Label: "Add API key to Service Principal"},
			{ID: "api_keys:revoke_others", Label: "Revoke another Organization member's API key(s)"},
			{ID: "api_keys:manage_own", Label: "Create/Manage User-Owned API Keys"},
			{ID: "api_keys:authenticate", Label: "Use API Keys for Authentication"},
			{ID: "job_runs:create", Label: "Create Job Runs"},
			{ID: "support:contact", Label: "Contact `<support@wherobots.com>`"},
			{ID: "raster_inference:use", Label: "Use WherobotsAI Raster Inference"},
			{ID: "billing:view", Label: "View billing"},
			{ID: "audit_logs:view", Label: "View audit logs (90 days)"},
		},
		Matrix: map[string][]role.Capability{
			admin: all,
			user: {
				"cloud:use", "notebook:start", "integrations/s3:use", "api_keys:manage_own",
				"api_keys:authenticate", "job_runs:create", "support:contact", "raster_inference:use",
			},
		},
		Editions: []EditionSpec{
			{ID: "community", Name: "Community", Seats: Seats(5)},
			{ID: paid, Name: "Professional", Seats: DefaultSeats(10)},
			{ID: ent, Name: "Enterprise", Seats: Unlimited()},
		},
		DefaultEdition: "community",
		CapabilityEditions: map[role.Capability][]string{
			"service_principals:create":       {paid, ent},
			"service_principals/api_keys:add": {paid, ent},
			"job_runs:create":                 {paid, ent},
			"raster_inference:use":            {paid, ent},
			"billing:view":                    {paid, ent},
			"audit_logs:view":                 {paid, ent},
		},
		CreatorRole: admin,
		InviteRole:  user,
		Invariants:  []Invariant{{Role: admin, Min: 1}},
		Management: Management{
			Invite:     "members:manage",
			Remove:     "members:manage",
			ChangeRole: "roles:modify",
		},
		Organization: OrgCapabilities{
			Settings: "organization/settings:manage",
			Edition:  "organization/settings:manage",
			Delete:   "organization/settings:manage",
			Audit:    "audit_logs:view",
		},
		Own: []role.Capability{"api_keys:manage_own"},
		Keys: KeyCapabilities{
			ServicePrincipals:    "service_principals:create",
			ServicePrincipalKeys: "service_principals/api_keys:add",
			Own:                  "api_keys:manage_own",
			RevokeOthers:         "api_keys:revoke_others",
			Authenticate:         "api_keys:authenticate",
		},
	})
}

// AIEngine returns the role model of PI.EXCHANGE's AI & Analytics Engine:
// organization roles owner (rank 3), editor (2) and viewer (1), and the
// external standing of a principal who belongs to a project without being a
// member of the organization (its own matrix column, never assigned). Only
// owners add users, create accounts and change roles; making someone owner
// gives billing access. Projects carry their own roles owner, editor and
// viewer; who may hold which follows the projects:be_owner and
// projects:be_member rows.
//
// Decisions where the sources are silent:
//   - At least one owner at all times; owners may be several; the creator
//     of an organization is its owner.
//   - An invitation that names no role makes a viewer (least privilege).
//   - One edition, standard, with unlimited seats (none is published).
//   - No trials: the sources describe none, so no edition may be trialled.
//   - A project's creator is its owner; a project keeps at least one owner;
//     a project invitation that names no role makes a viewer.
//   - Only a project's owners manage its members and delete it; holding the
//     organization's owner role does not reach into projects one is not in.
//   - The organization itself (settings, edition, deletion) is managed with
//     billing:manage, the owners' right to "manage the organization's
//     subscription"; the audit trail is read with members:manage. Both are
//     owners only.
func AIEngine() *Scheme {
	const owner, editor, viewer, external = "owner", "editor", "viewer", "external"
	return mustBuild(Spec{
		ID:   "aiengine",
		Name: "AI & Analytics Engine",
		Roles: []role.Role{
			{ID: owner, Name: "Org Owner", Rank: 3},
			{ID: editor, Name: "Org Editor", Rank: 2},
			{ID: viewer, Name: "Org Viewer", Rank: 1},
			{ID: external, Name: "External User", Rank: 0},
		},
		Capabilities: []role.Def{
			{ID: "billing:manage", Label: "View and manage billing"},
			{ID: "quota:view", Label: "View organization's quota usage"},
			{ID: "members:manage", Label: "Manage users' membership and role within the organization"},
			{ID: "accounts:create", Label: "Create a new Engine user account"},
			{ID: "projects:create", Label: "Create a project"},
			{ID: "projects:be_owner", Label: "Can be added to a project as a project owner"},
			{ID: "projects:be_member", Label: "Can be added to a project as a project editor or viewer"},
		},
		Matrix: map[string][]role.Capability{
			owner:    {"billing:manage", "quota:view", "members:manage", "accounts:create", "projects:create", "projects:be_owner", "projects:be_member"},
			editor:   {"projects:create", "projects:be_owner", "projects:be_member"},
			viewer:   {"projects:be_owner", "projects:be_member"},
			external: {"projects:be_member"},
		},
		Editions:     []EditionSpec{{ID: "standard", Name: "Standard", Seats: Unlimited()}},
		CreatorRole:  owner,
		InviteRole:   viewer,
		ExternalRole: external,
		Invariants:   []Invariant{{Role: owner, Min: 1}},
		Management: Management{
			Invite:     "members:manage",
			Add:        "accounts:create",
			Remove:     "members:manage",
			ChangeRole: "members:manage",
			Owner:      owner,
		},
		Organization: OrgCapabilities{
			Settings: "billing:manage",
			Edition:  "billing:manage",
			Delete:   "billing:manage",
			Audit:    "members:manage",
		},
		Scopes: []ScopeSpec{{
			Kind: ScopeProject,
			Name: "Project",
			Roles: []role.Role{
				{ID: owner, Name: "Project Owner", Rank: 3},
				{ID: editor, Name: "Project Editor", Rank: 2},
				{ID: viewer, Name: "Project Viewer", Rank: 1},
			},
			Capabilities: []role.Def{
				{ID: "project/members:manage", Label: "Add, remove and change project roles"},
				{ID: "project:delete", Label: "Delete the project"},
				{ID: "project/assets:manage", Label: "Manage datasets, recipes and ML apps"},
				{ID: "project:view", Label: "View the project"},
			},
			Matrix: map[string][]role.Capability{
				owner:  {"project/members:manage", "project:delete", "project/assets:manage", "project:view"},
				editor: {"project/assets:manage", "project:view"},
				viewer: {"project:view"},
			},
			CreatorRole:          owner,
			DefaultRole:          viewer,
			MinHolders:           map[string]int{owner: 1},
			Create:               "projects:create",
			DeleteInScope:        "project:delete",
			ManageMembersInScope: "project/members:manage",
			Eligibility: []Eligibility{
				{ScopeRole: owner, OrgCapability: "projects:be_owner"},
				{ScopeRole: editor, OrgCapability: "projects:be_member"},
				{ScopeRole: viewer, OrgCapability: "projects:be_member"},
			},
			AllowExternal: true,
		}},
	})
}

// UiPath returns the role model of UiPath Cloud Platform: roles owner
// (rank 3), administrator (2) and user (1). There is exactly one owner, the
// person who signed up; the owner role cannot be given or taken, and the
// owner cannot be removed or edited, by anyone, itself included.
// Administrators may be many. Capabilities are the five rows of the action
// table and the twelve resources × view, edit, create and delete
// (<resource>:<action>); owner and administrator hold all 48 of the latter.
// Services carry their own roles: administrator by default; service
// administrators may define custom service roles.
//
// Decisions where the sources are silent or contradict each other:
//   - The seed lost the user role's icons (every cell of its table reads
//     "permission_admin", which would grant users everything), while its
//     text says users get read-only access to Resource Center, Licenses,
//     Users and Services. The safer reading wins: user holds exactly
//     resource_center:view, licenses:view, users:view and services:view.
//   - No member can transfer ownership, the owner included: the owner
//     role is immutable. The host can (orgauthz's Host.TransferOwnership,
//     a support action), so that a founder who leaves can hand over.
//   - Users see the organization's services (services:view lets them list
//     the services and read their members) without access to any.
//   - Inviting needs users:create, removing users:delete, changing a role
//     users:edit; members join by invitation only (no direct addition).
//   - One edition, standard, with unlimited seats.
//   - No trials: the sources describe none, so no edition may be trialled.
//   - The owner reaches every service as its administrator; a service's
//     creator gets access as administrator; owner and administrators grant
//     access to any service (services:grant_access), themselves included;
//     users may not. Service administrators define custom service roles but
//     do not grant access themselves.
//   - A service's capabilities are its administration actions named by the
//     product: service:access, service/roles:manage (custom roles), and
//     service/<thing>:manage for machines, robots, processes, jobs,
//     packages, queues, environments and schedules. The default service
//     role, administrator, holds all of them.
//   - Creating and deleting a service needs services:create and
//     services:delete.
//   - Settings need organization_settings:edit, archiving or deleting the
//     organization organization_settings:delete, changing the edition
//     licenses:edit, and reading the audit trail audit_logs:view.
//   - Only the owner, or the host, archives or deletes the organization,
//     although administrators hold organization_settings:delete (the seed:
//     the owner cannot be deleted). Because owner is the immutable role,
//     policy.CanDeleteOrganization denies every other role
//     (policy.ReasonImmutableOwner).
//   - Keys follow the Licenses > API Keys resource: making keys (one's own
//     or a service principal's) and service principals needs
//     licenses/api_keys:create, revoking another's licenses/api_keys:delete;
//     so owners and administrators have keys and users do not.
func UiPath() *Scheme {
	const owner, admin, user = "owner", "administrator", "user"
	// The twelve resources of the organization permission matrix.
	resources := [...]struct{ id, title string }{
		{"dashboard", "Dashboard"},
		{"services", "Services"},
		{"services/users", "Services > Users"},
		{"services/usage_trend", "Services > Usage Trend"},
		{"services/license_usage", "Services > License Usage"},
		{"users", "Users"},
		{"licenses", "Licenses"},
		{"licenses/api_keys", "Licenses > API Keys"},
		{"resource_center", "Resource Center"},
		{"notifications", "Notifications"},
		{"audit_logs", "Audit Logs"},
		{"organization_settings", "Organization Settings"},
	}
	defs := []role.Def{
		{ID: "services/first:access", Label: "Access the organization's first service"},
		{ID: "services:grant_access", Label: "Grant access to a service"},
		{ID: "services:toggle_all", Label: "Enable/disable all the organization's services"},
		{ID: "licenses:request", Label: "Request more licenses or license renewal"},
		{ID: "audit_logs:download", Label: "Download audit logs files"},
	}
	var resourceCaps []role.Capability
	for _, r := range resources {
		for _, act := range [...]string{"view", "edit", "create", "delete"} {
			id := role.Capability(r.id + ":" + act)
			defs = append(defs, role.Def{ID: id, Label: r.title + ": " + act})
			resourceCaps = append(resourceCaps, id)
		}
	}
	adminCaps := append([]role.Capability{"services:grant_access", "services:toggle_all", "licenses:request", "audit_logs:download"}, resourceCaps...)
	serviceCaps := []role.Capability{
		"service:access", "service/roles:manage", "service/machines:manage", "service/robots:manage",
		"service/processes:manage", "service/jobs:manage", "service/packages:manage",
		"service/queues:manage", "service/environments:manage", "service/schedules:manage",
	}
	serviceDefs := make([]role.Def, len(serviceCaps))
	for i, c := range serviceCaps {
		serviceDefs[i] = role.Def{ID: c}
	}
	return mustBuild(Spec{
		ID:   "uipath",
		Name: "UiPath Cloud Platform",
		Roles: []role.Role{
			{ID: owner, Name: "Organization Owner", Rank: 3},
			{ID: admin, Name: "Organization Administrator", Rank: 2},
			{ID: user, Name: "User", Rank: 1},
		},
		Capabilities: defs,
		Matrix: map[string][]role.Capability{
			owner: append([]role.Capability{"services/first:access"}, adminCaps...),
			admin: adminCaps,
			user:  {"resource_center:view", "licenses:view", "users:view", "services:view"},
		},
		Editions:    []EditionSpec{{ID: "standard", Name: "Standard", Seats: Unlimited()}},
		CreatorRole: owner,
		InviteRole:  user,
		Invariants:  []Invariant{{Role: owner, Min: 1, Max: 1, Immutable: true}},
		Management: Management{
			Invite:     "users:create",
			Remove:     "users:delete",
			ChangeRole: "users:edit",
			Owner:      owner,
		},
		Organization: OrgCapabilities{
			Settings: "organization_settings:edit",
			Edition:  "licenses:edit",
			Delete:   "organization_settings:delete",
			Audit:    "audit_logs:view",
		},
		Keys: KeyCapabilities{
			ServicePrincipals:    "licenses/api_keys:create",
			ServicePrincipalKeys: "licenses/api_keys:create",
			Own:                  "licenses/api_keys:create",
			RevokeOthers:         "licenses/api_keys:delete",
		},
		Scopes: []ScopeSpec{{
			Kind:          ScopeService,
			Name:          "Service",
			Roles:         []role.Role{{ID: admin, Name: "Administrator", Rank: 1}},
			Capabilities:  serviceDefs,
			Matrix:        map[string][]role.Capability{admin: serviceCaps},
			CreatorRole:   admin,
			DefaultRole:   admin,
			Create:        "services:create",
			Delete:        "services:delete",
			ManageMembers: "services:grant_access",
			View:          "services:view",
			CustomRoles:   "service/roles:manage",
			Implicit:      map[string]string{owner: admin},
		}},
	})
}

// SoterAI returns the role model of SoterAI by Soter Analytics: roles owner
// (rank 3), manager (2) and member (1); editions starter, professional and
// enterprise; the member role exists only in enterprise. Owners invite,
// remove and re-role anyone, other owners included; managers do so for
// non-owners only and never give the owner role. Removal revokes access at
// once.
//
// Decisions where the sources are silent:
//   - SoterAI bills per seat, so no edition caps seats: an organization's
//     limit is its own setting, unlimited by default.
//   - At least one owner at all times; owners may be several; the creator of
//     an organization is its owner; new organizations start in starter.
//   - Managers may give manager or member (a management rule makes the
//     seed's "but not Owners" explicit).
//   - An invitation that names no role makes a member (least privilege);
//     outside enterprise, where member does not exist, an invitation must
//     name its role rather than fall back to a more powerful one.
//   - A downgrade from enterprise while members hold the member role is
//     refused, and the error says how many hold it.
//   - Members join by invitation only (no direct addition).
//   - Settings need organization/settings:edit, edition changes and the
//     seat limit billing:manage, archiving or deleting organization:delete;
//     the audit trail, which the product does not describe, is read by
//     owners (organization/settings:edit). content/own:edit and
//     profile/own:edit act on one's own things only.
//   - Trials: the seed says only that owners manage "trials", with billing
//     and edition changes. The safer reading: the paid editions,
//     professional and enterprise, may each be trialled for at most 30
//     days, extensions included, and only from starter, the base edition
//     (a professional organization does not trial enterprise); starting,
//     extending and ending a trial needs billing:manage
//     (Organization.Trial), the owners' capability that already governs
//     edition changes, so a trial lets nobody reach an edition they could
//     not already move the organization to. When a trial ends, starter
//     decides again and nothing is deleted: members holding the member
//     role (enterprise only) keep it but it grants nothing, in the
//     organization or its workspaces, until an owner changes their role
//     or upgrades; converting the trial (the paid upgrade) keeps
//     everything.
//   - Workspaces carry roles manager (rank 2) and member (rank 1), and the
//     capabilities workspace:use (both), workspace:configure and
//     workspace/members:manage (manager). A workspace's creator is its
//     manager; someone added without a role named becomes a member. Owners
//     and managers reach every workspace as its manager; a workspace manager
//     must hold the organization's workspace/settings:edit, so only owners
//     and managers can be one; any member may be a workspace member.
//     Creating, deleting and managing access to any workspace need
//     workspaces:create, workspaces:delete and workspaces:edit; a workspace's
//     own managers manage its members too.
func SoterAI() *Scheme {
	const owner, manager, member = "owner", "manager", "member"
	shared := []role.Capability{"content:use", "content/own:edit", "files:upload", "profile/own:edit"}
	managerCaps := append([]role.Capability{
		"billing:view", "workspaces:create", "workspaces:edit", "workspaces:delete",
		"workspace/settings:edit", "members:invite", "members:remove", "members:change_role",
	}, shared...)
	ownerCaps := append([]role.Capability{"organization/settings:edit", "organization:delete", "billing:manage"}, managerCaps...)
	editions := []string{"starter", "professional", "enterprise"}
	return mustBuild(Spec{
		ID:   "soterai",
		Name: "SoterAI",
		Roles: []role.Role{
			{ID: owner, Name: "Owner", Rank: 3},
			{ID: manager, Name: "Manager", Rank: 2},
			{ID: member, Name: "Member", Rank: 1},
		},
		Capabilities: []role.Def{
			{ID: "organization/settings:edit", Label: "Edit Organization settings (name, location, industry, priority regulations)"},
			{ID: "organization:delete", Label: "Archive or delete the Organization"},
			{ID: "billing:manage", Label: "Manage billing, edition upgrades/downgrades, and trials"},
			{ID: "billing:view", Label: "View billing and usage dashboards"},
			{ID: "workspaces:create", Label: "Create Workspaces"},
			{ID: "workspaces:edit", Label: "Edit Workspaces"},
			{ID: "workspaces:delete", Label: "Delete Workspaces"},
			{ID: "workspace/settings:edit", Label: "Configure workspace-level settings (branding, data-source connections, workflows)"},
			{ID: "members:invite", Label: "Invite users"},
			{ID: "members:remove", Label: "Remove users"},
			{ID: "members:change_role", Label: "Change users' roles"},
			{ID: "content:use", Label: "View and use Chats, Workflows, Data Sources, and AI Intelligence layers"},
			{ID: "content/own:edit", Label: "Create and edit their own chats and workflows"},
			{ID: "files:upload", Label: "Upload files to data sources"},
			{ID: "profile/own:edit", Label: "Edit only their own user profile settings"},
		},
		Matrix: map[string][]role.Capability{
			owner:   ownerCaps,
			manager: managerCaps,
			member:  shared,
		},
		Editions: []EditionSpec{
			{ID: editions[0], Name: "Starter", Seats: DefaultSeats(0)},
			{ID: editions[1], Name: "Professional", Seats: DefaultSeats(0)},
			{ID: editions[2], Name: "Enterprise", Seats: DefaultSeats(0)},
		},
		RoleEditions: map[string][]string{member: {"enterprise"}},
		Trials: []TrialSpec{
			{Edition: editions[1], MaxDuration: 30 * 24 * time.Hour, From: []string{editions[0]}},
			{Edition: editions[2], MaxDuration: 30 * 24 * time.Hour, From: []string{editions[0]}},
		},
		CreatorRole: owner,
		InviteRole:  member,
		Invariants:  []Invariant{{Role: owner, Min: 1}},
		Management: Management{
			Invite:     "members:invite",
			Remove:     "members:remove",
			ChangeRole: "members:change_role",
			Rules:      []Rule{{Actor: manager, Manage: []string{manager, member}, Assign: []string{manager, member}}},
			Owner:      owner,
		},
		Organization: OrgCapabilities{
			Settings: "organization/settings:edit",
			Edition:  "billing:manage",
			Delete:   "organization:delete",
			Audit:    "organization/settings:edit",
			Trial:    "billing:manage",
		},
		Own: []role.Capability{"content/own:edit", "profile/own:edit"},
		Scopes: []ScopeSpec{{
			Kind: ScopeWorkspace,
			Name: "Workspace",
			Roles: []role.Role{
				{ID: manager, Name: "Workspace Manager", Rank: 2},
				{ID: member, Name: "Workspace Member", Rank: 1},
			},
			Capabilities: []role.Def{
				{ID: "workspace:use", Label: "Use the workspace"},
				{ID: "workspace:configure", Label: "Configure the workspace"},
				{ID: "workspace/members:manage", Label: "Manage the workspace's members"},
			},
			Matrix: map[string][]role.Capability{
				manager: {"workspace:use", "workspace:configure", "workspace/members:manage"},
				member:  {"workspace:use"},
			},
			CreatorRole:          manager,
			DefaultRole:          member,
			Create:               "workspaces:create",
			Delete:               "workspaces:delete",
			ManageMembers:        "workspaces:edit",
			ManageMembersInScope: "workspace/members:manage",
			Eligibility:          []Eligibility{{ScopeRole: manager, OrgCapability: "workspace/settings:edit"}},
			Implicit:             map[string]string{owner: manager, manager: manager},
		}},
	})
}
