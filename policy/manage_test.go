package policy_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manageOracle restates, from the specification's text, who may manage whom
// in one preset. It is written as plain sets, not derived from ranks, so
// that it checks the scheme's rank rule and management rules rather than
// repeating them.
type manageOracle struct {
	scheme func() *edition.Scheme
	// holders lists, per action, the roles holding the capability it needs;
	// a missing action is not offered by the scheme.
	holders map[edition.Action][]string
	// reach lists, per actor, the roles of the members it may remove or
	// re-role.
	reach map[string][]string
	// gives lists, per actor, the roles it may give.
	gives map[string][]string
	// onlyIn lists roles offered only in some editions.
	onlyIn map[string][]string
}

var actions = []edition.Action{edition.ActionInvite, edition.ActionAdd, edition.ActionRemove, edition.ActionChangeRole}

func oracles() map[string]manageOracle {
	return map[string]manageOracle{
		// Admins invite, remove and re-role anyone, other admins included;
		// users manage nobody; there is no direct addition.
		"wherobots": {
			scheme: edition.Wherobots,
			holders: map[edition.Action][]string{
				edition.ActionInvite:     {"admin"},
				edition.ActionRemove:     {"admin"},
				edition.ActionChangeRole: {"admin"},
			},
			reach: map[string][]string{"admin": {"admin", "user"}},
			gives: map[string][]string{"admin": {"admin", "user"}},
		},
		// Only owners add users, create accounts and change roles; making
		// someone owner is allowed. The external standing is never given
		// or managed.
		"aiengine": {
			scheme: edition.AIEngine,
			holders: map[edition.Action][]string{
				edition.ActionInvite:     {"owner"},
				edition.ActionAdd:        {"owner"},
				edition.ActionRemove:     {"owner"},
				edition.ActionChangeRole: {"owner"},
			},
			reach: map[string][]string{"owner": {"owner", "editor", "viewer"}},
			gives: map[string][]string{"owner": {"owner", "editor", "viewer"}},
		},
		// The owner role is never given or taken and its holder never
		// removed or edited; owner and administrators manage administrators
		// and users.
		"uipath": {
			scheme: edition.UiPath,
			holders: map[edition.Action][]string{
				edition.ActionInvite:     {"owner", "administrator"},
				edition.ActionRemove:     {"owner", "administrator"},
				edition.ActionChangeRole: {"owner", "administrator"},
			},
			reach: map[string][]string{"owner": {"administrator", "user"}, "administrator": {"administrator", "user"}},
			gives: map[string][]string{"owner": {"administrator", "user"}, "administrator": {"administrator", "user"}},
		},
		// Owners manage anyone, owners included; managers manage non-owners
		// only and never give owner; member exists only in enterprise.
		"soterai": {
			scheme: edition.SoterAI,
			holders: map[edition.Action][]string{
				edition.ActionInvite:     {"owner", "manager"},
				edition.ActionRemove:     {"owner", "manager"},
				edition.ActionChangeRole: {"owner", "manager"},
			},
			reach:  map[string][]string{"owner": {"owner", "manager", "member"}, "manager": {"manager", "member"}},
			gives:  map[string][]string{"owner": {"owner", "manager", "member"}, "manager": {"manager", "member"}},
			onlyIn: map[string][]string{"member": {"enterprise"}},
		},
	}
}

func (o manageOracle) offered(r, ed string) bool {
	eds, gated := o.onlyIn[r]
	return !gated || slices.Contains(eds, ed)
}

// allowed is the oracle's answer for one question.
func (o manageOracle) allowed(ed, actor string, a edition.Action, target, newRole string) bool {
	if !slices.Contains(o.holders[a], actor) || !o.offered(actor, ed) {
		return false
	}
	if (a == edition.ActionRemove || a == edition.ActionChangeRole) && !slices.Contains(o.reach[actor], target) {
		return false
	}
	if a != edition.ActionRemove && (!slices.Contains(o.gives[actor], newRole) || !o.offered(newRole, ed)) {
		return false
	}
	return true
}

// TestCanManageExhaustive asks every (edition, actor, action, target, new
// role) question of every preset, the external standing included, and
// compares the answer with the oracle. It also checks, for every allowed
// answer, that the actor cannot make anyone hold a capability it lacks
// itself, and that CanManageAt agrees with CanManage.
func TestCanManageExhaustive(t *testing.T) {
	t.Parallel()
	for name, o := range oracles() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := o.scheme()
			roles := make([]string, 0)
			for _, r := range s.Roles() {
				roles = append(roles, r.ID)
			}
			asked, allowed := 0, 0
			for _, e := range s.Editions() {
				ed := e.ID()
				for _, actor := range roles {
					for _, a := range actions {
						for _, target := range roles {
							for _, newRole := range roles {
								if a == edition.ActionInvite || a == edition.ActionAdd {
									target = ""
								}
								if a == edition.ActionRemove {
									newRole = ""
								}
								d := policy.CanManage(s, ed, actor, a, target, newRole)
								asked++
								want := o.allowed(ed, actor, a, target, newRole)
								if d.Allowed != want {
									t.Errorf("%s %s: %s %s target=%q new=%q: allowed=%v, want %v (%v)", name, ed, actor, a, target, newRole, d.Allowed, want, d)
								}
								if d.Allowed {
									allowed++
									assertNoEscalation(t, s, ed, actor, newRole, d)
									assert.Nil(t, d.Err())
								} else {
									assert.Error(t, d.Err(), "%v", d)
								}
								assertAtAgrees(t, s, ed, actor, a, target, newRole, d)
							}
						}
					}
				}
			}
			n := len(roles)
			require.Equal(t, len(s.Editions())*n*len(actions)*n*n, asked, "every question asked")
			require.Positive(t, allowed, "some management is allowed")
		})
	}
}

func assertNoEscalation(t *testing.T, s *edition.Scheme, ed, actor, newRole string, d policy.Decision) {
	t.Helper()
	if newRole == "" {
		return
	}
	given := policy.Capabilities(s, ed, newRole)
	held := policy.Capabilities(s, ed, actor)
	if !given.SubsetOf(held) {
		t.Errorf("%v: %q may give %q, which holds %v that it lacks", d, actor, newRole, s.Catalog().IDs(given.Minus(held)))
	}
}

func assertAtAgrees(t *testing.T, s *edition.Scheme, ed, actor string, a edition.Action, target, newRole string, d policy.Decision) {
	t.Helper()
	e, _ := s.Edition(ed)
	ai, _ := s.RoleIndex(actor)
	ti, ni := -1, -1
	if target != "" {
		ti, _ = s.RoleIndex(target)
	}
	if newRole != "" {
		ni, _ = s.RoleIndex(newRole)
	}
	at := policy.CanManageAt(s, e, ai, a, ti, ni)
	if at != d {
		t.Errorf("CanManageAt = %v, CanManage = %v", at, d)
	}
}

// TestManagementTightenings checks, by name, each rule the specification
// spells out, with the reason the decision must give.
func TestManagementTightenings(t *testing.T) {
	t.Parallel()
	w, ai, up, so := edition.Wherobots(), edition.AIEngine(), edition.UiPath(), edition.SoterAI()
	tests := []struct {
		rule   string
		d      policy.Decision
		reason policy.Reason
	}{
		{"wherobots: admins make others admins", policy.CanChangeRole(w, "community", "admin", "user", "admin"), policy.ReasonMayManage},
		{"wherobots: admins demote admins", policy.CanChangeRole(w, "enterprise", "admin", "admin", "user"), policy.ReasonMayManage},
		{"wherobots: users invite nobody", policy.CanInvite(w, "community", "user", "user"), policy.ReasonRoleLacks},
		{"wherobots: users re-role nobody", policy.CanChangeRole(w, "community", "user", "user", "user"), policy.ReasonRoleLacks},
		{"wherobots: no direct addition", policy.CanAdd(w, "community", "admin", "user"), policy.ReasonActionNotOffered},

		{"aiengine: owners create accounts", policy.CanAdd(ai, "standard", "owner", "editor"), policy.ReasonMayManage},
		{"aiengine: owners make owners", policy.CanChangeRole(ai, "standard", "owner", "viewer", "owner"), policy.ReasonMayManage},
		{"aiengine: editors do not manage", policy.CanInvite(ai, "standard", "editor", "viewer"), policy.ReasonRoleLacks},
		{"aiengine: viewers do not remove", policy.CanRemove(ai, "standard", "viewer", "viewer"), policy.ReasonRoleLacks},
		{"aiengine: external is never given", policy.CanInvite(ai, "standard", "owner", "external"), policy.ReasonExternalRole},
		{"aiengine: external is no member to remove", policy.CanRemove(ai, "standard", "owner", "external"), policy.ReasonExternalRole},
		{"aiengine: external never manages", policy.CanInvite(ai, "standard", "external", "viewer"), policy.ReasonExternalRole},

		{"uipath: owner role never given", policy.CanChangeRole(up, "standard", "owner", "user", "owner"), policy.ReasonImmutableRole},
		{"uipath: owner role never given by invitation", policy.CanInvite(up, "standard", "owner", "owner"), policy.ReasonImmutableRole},
		{"uipath: owner never removed, even by itself", policy.CanRemove(up, "standard", "owner", "owner"), policy.ReasonImmutableTarget},
		{"uipath: owner never edited, even by itself", policy.CanChangeRole(up, "standard", "owner", "owner", "administrator"), policy.ReasonImmutableTarget},
		{"uipath: administrators never remove the owner", policy.CanRemove(up, "standard", "administrator", "owner"), policy.ReasonImmutableTarget},
		{"uipath: administrators make administrators", policy.CanChangeRole(up, "standard", "administrator", "user", "administrator"), policy.ReasonMayManage},
		{"uipath: users invite nobody", policy.CanInvite(up, "standard", "user", "user"), policy.ReasonRoleLacks},
		{"uipath: invitation only", policy.CanAdd(up, "standard", "owner", "user"), policy.ReasonActionNotOffered},

		{"soterai: owners remove owners", policy.CanRemove(so, "starter", "owner", "owner"), policy.ReasonMayManage},
		{"soterai: owners promote to owner", policy.CanChangeRole(so, "enterprise", "owner", "member", "owner"), policy.ReasonMayManage},
		{"soterai: managers never remove owners", policy.CanRemove(so, "enterprise", "manager", "owner"), policy.ReasonOutranked},
		{"soterai: managers never re-role owners", policy.CanChangeRole(so, "enterprise", "manager", "owner", "manager"), policy.ReasonOutranked},
		{"soterai: managers never give owner", policy.CanChangeRole(so, "enterprise", "manager", "member", "owner"), policy.ReasonMayNotAssign},
		{"soterai: managers never invite owners", policy.CanInvite(so, "enterprise", "manager", "owner"), policy.ReasonMayNotAssign},
		{"soterai: managers manage managers", policy.CanRemove(so, "professional", "manager", "manager"), policy.ReasonMayManage},
		{"soterai: member only in enterprise (invite)", policy.CanInvite(so, "professional", "owner", "member"), policy.ReasonRoleNotInEdition},
		{"soterai: member only in enterprise (change)", policy.CanChangeRole(so, "starter", "manager", "manager", "member"), policy.ReasonRoleNotInEdition},
		{"soterai: member in enterprise", policy.CanInvite(so, "enterprise", "manager", "member"), policy.ReasonMayManage},
		{"soterai: members manage nobody", policy.CanInvite(so, "enterprise", "member", "member"), policy.ReasonRoleLacks},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.reason, tt.d.Reason, "%v", tt.d)
			assert.Equal(t, tt.reason == policy.ReasonMayManage, tt.d.Allowed)
		})
	}
}

// TestHostRulesTighten builds a scheme where a rule narrows the rank rule
// and checks both the rule and the fallback.
func TestHostRulesTighten(t *testing.T) {
	t.Parallel()
	s := hostScheme(t)
	// lead (rank 2) may manage only member, by rule; admin (rank 3) keeps
	// the rank rule.
	assert.True(t, policy.CanChangeRole(s, "std", "admin", "lead", "member").Allowed)
	d := policy.CanChangeRole(s, "std", "lead", "lead", "member")
	assert.Equal(t, policy.ReasonOutranked, d.Reason, "%v", d)
	d = policy.CanInvite(s, "std", "lead", "lead")
	assert.Equal(t, policy.ReasonMayNotAssign, d.Reason, "%v", d)
	assert.True(t, policy.CanInvite(s, "std", "lead", "member").Allowed)
}

func hostScheme(t *testing.T) *edition.Scheme {
	t.Helper()
	s, err := edition.NewScheme(edition.Spec{
		ID:           "host",
		Roles:        []roleT{{ID: "admin", Rank: 3}, {ID: "lead", Rank: 2}, {ID: "member", Rank: 1}},
		Capabilities: []defT{{ID: "people:manage"}, {ID: "docs:read"}},
		Matrix: map[string][]capT{
			"admin":  {"people:manage", "docs:read"},
			"lead":   {"people:manage", "docs:read"},
			"member": {"docs:read"},
		},
		Editions:    []edition.EditionSpec{{ID: "std"}},
		CreatorRole: "admin",
		InviteRole:  "member",
		Invariants:  []edition.Invariant{{Role: "admin", Min: 1}},
		Management: edition.Management{
			Invite: "people:manage", Remove: "people:manage", ChangeRole: "people:manage",
			Rules: []edition.Rule{{Actor: "lead", Manage: []string{"member"}, Assign: []string{"member"}}},
		},
	})
	require.NoError(t, err)
	return s
}

func TestCanLeave(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s      *edition.Scheme
		ed, r  string
		reason policy.Reason
	}{
		{edition.Wherobots(), "community", "admin", policy.ReasonMayLeave},
		{edition.Wherobots(), "community", "user", policy.ReasonMayLeave},
		{edition.UiPath(), "standard", "owner", policy.ReasonImmutableRole},
		{edition.UiPath(), "standard", "administrator", policy.ReasonMayLeave},
		{edition.AIEngine(), "standard", "external", policy.ReasonExternalRole},
		{edition.AIEngine(), "standard", "nobody", policy.ReasonUnknownRole},
		{edition.AIEngine(), "gold", "owner", policy.ReasonUnknownEdition},
		{nil, "standard", "owner", policy.ReasonUnknownScheme},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.ed, tt.r), func(t *testing.T) {
			t.Parallel()
			d := policy.CanLeave(tt.s, tt.ed, tt.r)
			assert.Equal(t, tt.reason, d.Reason, "%v", d)
			assert.Equal(t, tt.reason == policy.ReasonMayLeave, d.Allowed)
		})
	}
}

func TestCanManageUnknownInput(t *testing.T) {
	t.Parallel()
	s := edition.SoterAI()
	tests := []struct {
		name   string
		d      policy.Decision
		reason policy.Reason
		input  func(policy.Decision) string
		want   string
	}{
		{"edition", policy.CanInvite(s, "gold", "owner", "manager"), policy.ReasonUnknownEdition, policy.Decision.Edition, "gold"},
		{"actor", policy.CanInvite(s, "starter", "boss", "manager"), policy.ReasonUnknownRole, policy.Decision.Role, "boss"},
		{"target", policy.CanRemove(s, "starter", "owner", "ghost"), policy.ReasonUnknownTarget, policy.Decision.Target, "ghost"},
		{"new role", policy.CanChangeRole(s, "starter", "owner", "manager", "czar"), policy.ReasonUnknownNewRole, policy.Decision.NewRole, "czar"},
		{"action", policy.CanManage(s, "starter", "owner", edition.Action(99), "", ""), policy.ReasonActionNotOffered, nil, ""},
		{"scheme", policy.CanInvite(nil, "starter", "owner", "manager"), policy.ReasonUnknownScheme, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.False(t, tt.d.Allowed)
			assert.Equal(t, tt.reason, tt.d.Reason, "%v", tt.d)
			assert.Error(t, tt.d.Err())
			if tt.input != nil {
				assert.Equal(t, tt.want, tt.input(tt.d))
				assert.Contains(t, tt.d.String(), tt.want)
			}
		})
	}
}

func TestCanManageAtOutOfRange(t *testing.T) {
	t.Parallel()
	s := edition.Wherobots()
	e, _ := s.Edition("community")
	for _, tt := range []struct {
		name             string
		e                *edition.Edition
		actor, tgt, next int
		a                edition.Action
		reason           policy.Reason
	}{
		{"nil edition", nil, 0, 1, -1, edition.ActionRemove, policy.ReasonUnknownEdition},
		{"actor", e, 7, 1, -1, edition.ActionRemove, policy.ReasonUnknownRole},
		{"negative actor", e, -1, 1, -1, edition.ActionRemove, policy.ReasonUnknownRole},
		{"target", e, 0, 9, -1, edition.ActionRemove, policy.ReasonUnknownTarget},
		{"new role", e, 0, -1, 9, edition.ActionInvite, policy.ReasonUnknownNewRole},
	} {
		d := policy.CanManageAt(s, tt.e, tt.actor, tt.a, tt.tgt, tt.next)
		assert.Equal(t, tt.reason, d.Reason, "%s: %v", tt.name, d)
		assert.False(t, d.Allowed, tt.name)
	}
	assert.Equal(t, policy.ReasonUnknownScheme, policy.CanManageAt(nil, e, 0, edition.ActionRemove, 1, -1).Reason)
}

func TestCanAssign(t *testing.T) {
	t.Parallel()
	w, up, so, ai := edition.Wherobots(), edition.UiPath(), edition.SoterAI(), edition.AIEngine()
	for _, tt := range []struct {
		s                *edition.Scheme
		ed, actor, giver string
		reason           policy.Reason
	}{
		{w, "professional", "admin", "user", policy.ReasonMayManage},
		{w, "professional", "admin", "admin", policy.ReasonMayManage},
		{w, "professional", "user", "admin", policy.ReasonMayNotAssign},
		{up, "standard", "owner", "owner", policy.ReasonImmutableRole},
		{up, "standard", "administrator", "user", policy.ReasonMayManage},
		{so, "starter", "manager", "owner", policy.ReasonMayNotAssign},
		{so, "starter", "owner", "member", policy.ReasonRoleNotInEdition},
		{ai, "standard", "owner", "external", policy.ReasonExternalRole},
		{ai, "standard", "external", "viewer", policy.ReasonExternalRole},
		{ai, "standard", "owner", "ghost", policy.ReasonUnknownNewRole},
		{ai, "gold", "owner", "viewer", policy.ReasonUnknownEdition},
		{nil, "gold", "owner", "viewer", policy.ReasonUnknownScheme},
	} {
		d := policy.CanAssign(tt.s, tt.ed, tt.actor, tt.giver)
		assert.Equal(t, tt.reason, d.Reason, "%s gives %s: %v", tt.actor, tt.giver, d)
		assert.Equal(t, tt.reason == policy.ReasonMayManage, d.Allowed)
	}
}
