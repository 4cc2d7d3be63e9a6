package orgauthz_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a settable clock for the service; tests never sleep.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type fixture struct {
	svc   *orgauthz.Service
	st    store.Store
	clock *clock
	ids   int
}

// newFixture returns a fixture over a new memstore, closed when the test
// ends.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, st, "")
}

// newFixtureOn returns a fixture over st whose service names what it
// creates with IDs that start with prefix.
func newFixtureOn(t testing.TB, st store.Store, prefix string) *fixture {
	t.Helper()
	f := &fixture{st: st, clock: &clock{now: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}}
	var mu sync.Mutex
	svc, err := orgauthz.New(f.st, orgauthz.Options{
		Schemes: []*edition.Scheme{edition.Wherobots(), edition.AIEngine(), edition.UiPath(), edition.SoterAI()},
		Clock:   f.clock.Now,
		NewID: func() string {
			mu.Lock()
			defer mu.Unlock()
			f.ids++
			return fmt.Sprintf("%sid%03d", prefix, f.ids)
		},
	})
	require.NoError(t, err)
	f.svc = svc
	return f
}

var ctx = context.Background()

func user(id string) org.Principal { return org.Principal{ID: id, Kind: org.User} }

// newOrg creates an organization of the scheme and edition, created by
// "creator", and provisions the given members (id → role).
func (f *fixture) newOrg(t testing.TB, scheme, ed string, members ...string) string {
	t.Helper()
	o, err := f.svc.CreateOrganization(ctx, user("creator"), orgauthz.NewOrganization{Name: "Acme " + scheme, Scheme: scheme, Edition: ed})
	require.NoError(t, err)
	for i := 0; i+1 < len(members); i += 2 {
		_, err := f.svc.Host().Provision(ctx, o.ID, user(members[i]), members[i+1])
		require.NoError(t, err, "provision %s as %s", members[i], members[i+1])
	}
	return o.ID
}

func (f *fixture) role(t testing.TB, orgID, principal string) string {
	t.Helper()
	a, err := f.st.Access(ctx, orgID, principal)
	if err != nil {
		return ""
	}
	return a.Role
}

func TestNew(t *testing.T) {
	t.Parallel()
	_, err := orgauthz.New(nil, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	assert.ErrorIs(t, err, orgauthz.ErrInvalidArgument)
	_, err = orgauthz.New(memstore.New(), orgauthz.Options{})
	assert.ErrorIs(t, err, orgauthz.ErrUnknownScheme)
	_, err = orgauthz.New(memstore.New(), orgauthz.Options{Schemes: []*edition.Scheme{nil}})
	assert.ErrorIs(t, err, orgauthz.ErrUnknownScheme)
	_, err = orgauthz.New(memstore.New(), orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots(), edition.Wherobots()}})
	assert.ErrorIs(t, err, orgauthz.ErrExists)
}

func TestCreateOrganizationGivesTheCreatorRole(t *testing.T) {
	t.Parallel()
	for scheme, want := range map[string]string{"wherobots": "admin", "aiengine": "owner", "uipath": "owner", "soterai": "owner"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			o, err := f.svc.CreateOrganization(ctx, user("ada"), orgauthz.NewOrganization{Name: "Ada's", Scheme: scheme})
			require.NoError(t, err)
			assert.Equal(t, want, f.role(t, o.ID, "ada"))
			sch, _ := f.svc.Scheme(scheme)
			assert.Equal(t, sch.DefaultEdition().ID(), o.Edition)
			assert.Equal(t, f.clock.Now(), o.CreatedAt)
			assert.Equal(t, "id001", o.ID, "the service's ID source names it")
			d := f.svc.Check(ctx, o.ID, "ada", sch.Catalog().Def(0).ID)
			assert.True(t, d.Allowed, "%v", d)
		})
	}
}

func TestCreateOrganizationRefusesBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, err := f.svc.CreateOrganization(ctx, user("ada"), orgauthz.NewOrganization{ID: "taken", Name: "First", Scheme: "wherobots"})
	require.NoError(t, err)
	tests := []struct {
		name    string
		creator org.Principal
		n       orgauthz.NewOrganization
		want    error
	}{
		{"empty name", user("ada"), orgauthz.NewOrganization{Name: "", Scheme: "wherobots"}, orgauthz.ErrInvalidName},
		{"blank name", user("ada"), orgauthz.NewOrganization{Name: "   ", Scheme: "wherobots"}, orgauthz.ErrInvalidName},
		{"oversized name", user("ada"), orgauthz.NewOrganization{Name: strings.Repeat("x", org.MaxNameLen+1), Scheme: "wherobots"}, orgauthz.ErrInvalidName},
		{"control character", user("ada"), orgauthz.NewOrganization{Name: "a\x00b", Scheme: "wherobots"}, orgauthz.ErrInvalidName},
		{"unknown scheme", user("ada"), orgauthz.NewOrganization{Name: "X", Scheme: "acme"}, orgauthz.ErrUnknownScheme},
		{"scheme required with several", user("ada"), orgauthz.NewOrganization{Name: "X"}, orgauthz.ErrUnknownScheme},
		{"unknown edition", user("ada"), orgauthz.NewOrganization{Name: "X", Scheme: "wherobots", Edition: "gold"}, orgauthz.ErrUnknownEdition},
		{"bad ID", user("ada"), orgauthz.NewOrganization{ID: "has space", Name: "X", Scheme: "wherobots"}, orgauthz.ErrInvalidID},
		{"taken ID", user("ada"), orgauthz.NewOrganization{ID: "taken", Name: "X", Scheme: "wherobots"}, orgauthz.ErrExists},
		{"bad creator", org.Principal{ID: "", Kind: org.User}, orgauthz.NewOrganization{Name: "X", Scheme: "wherobots"}, orgauthz.ErrInvalidID},
		{"bad settings", user("ada"), orgauthz.NewOrganization{Name: "X", Scheme: "wherobots", Settings: map[string]string{"": "v"}}, orgauthz.ErrInvalidSettings},
	}
	for _, tt := range tests {
		_, err := f.svc.CreateOrganization(ctx, tt.creator, tt.n)
		assert.ErrorIs(t, err, tt.want, tt.name)
	}
	// Nothing but the first organization was created.
	n := 0
	for o, err := range f.st.Organizations(ctx, "") {
		require.NoError(t, err)
		assert.Equal(t, "taken", o.ID)
		n++
	}
	assert.Equal(t, 1, n)
}

func TestChangeRoleKeepsTheLastAdmin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "community", "bob", "user")

	_, err := f.svc.ChangeRole(ctx, id, "creator", "creator", "user")
	require.ErrorIs(t, err, orgauthz.ErrMinHolders)
	assert.ErrorIs(t, err, orgauthz.ErrInvariant)
	assert.Contains(t, err.Error(), `at least 1 member(s) must hold "admin"`)
	assert.Equal(t, "admin", f.role(t, id, "creator"), "a refused change changes nothing")

	// Promote Bob, then the creator may step down.
	m, err := f.svc.ChangeRole(ctx, id, "creator", "bob", "admin")
	require.NoError(t, err)
	assert.Equal(t, "admin", m.Role)
	_, err = f.svc.ChangeRole(ctx, id, "creator", "creator", "user")
	require.NoError(t, err)
	// Users manage nobody.
	_, err = f.svc.ChangeRole(ctx, id, "creator", "bob", "user")
	require.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	assert.Contains(t, err.Error(), `role "user" lacks "roles:modify"`)
	// Unknown role and non-member.
	_, err = f.svc.ChangeRole(ctx, id, "bob", "creator", "root")
	assert.ErrorIs(t, err, orgauthz.ErrUnknownRole)
	_, err = f.svc.ChangeRole(ctx, id, "bob", "nobody", "user")
	assert.ErrorIs(t, err, orgauthz.ErrNotMember)
	_, err = f.svc.ChangeRole(ctx, id, "stranger", "bob", "user")
	assert.ErrorIs(t, err, orgauthz.ErrNotMember)
	_, err = f.svc.ChangeRole(ctx, "no-such-org", "bob", "bob", "user")
	assert.ErrorIs(t, err, orgauthz.ErrUnknownOrganization)
}

func TestSchemeRulesOnRoles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	up := f.newOrg(t, "uipath", "", "ann", "administrator", "uma", "user")
	so := f.newOrg(t, "soterai", "starter", "max", "manager")

	// UiPath: the owner is never re-roled or removed, not even by itself.
	_, err := f.svc.ChangeRole(ctx, up, "creator", "creator", "administrator")
	assert.ErrorIs(t, err, orgauthz.ErrImmutableRole)
	assert.ErrorIs(t, f.svc.RemoveMember(ctx, up, "ann", "creator"), orgauthz.ErrImmutableRole)
	assert.ErrorIs(t, f.svc.Leave(ctx, up, "creator"), orgauthz.ErrImmutableRole)
	_, err = f.svc.ChangeRole(ctx, up, "ann", "uma", "owner")
	assert.ErrorIs(t, err, orgauthz.ErrImmutableRole, "the owner role is never given")
	_, err = f.svc.ChangeRole(ctx, up, "ann", "uma", "administrator")
	assert.NoError(t, err, "administrators make administrators")
	_, err = f.svc.Host().Provision(ctx, up, user("usurper"), "owner")
	assert.ErrorIs(t, err, orgauthz.ErrImmutableRole, "not even the host gives it")

	// SoterAI: managers never touch owners; member exists only in enterprise.
	assert.ErrorIs(t, f.svc.RemoveMember(ctx, so, "max", "creator"), orgauthz.ErrPermissionDenied)
	_, err = f.svc.ChangeRole(ctx, so, "max", "max", "owner")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	_, err = f.svc.Host().Provision(ctx, so, user("meg"), "member")
	assert.ErrorIs(t, err, orgauthz.ErrEditionGated)
	require.NoError(t, f.svc.ChangeEdition(ctx, so, "creator", "enterprise"))
	_, err = f.svc.Host().Provision(ctx, so, user("meg"), "member")
	require.NoError(t, err)
	// A downgrade while members hold "member" is refused, saying how many.
	err = f.svc.ChangeEdition(ctx, so, "creator", "professional")
	require.ErrorIs(t, err, orgauthz.ErrEditionGated)
	assert.Contains(t, err.Error(), `which 1 member(s) hold`)
	_, err = f.svc.ChangeRole(ctx, so, "max", "meg", "manager")
	require.NoError(t, err)
	require.NoError(t, f.svc.ChangeEdition(ctx, so, "creator", "professional"))
}

func TestSeatLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "community", "u1", "user", "u2", "user", "u3", "user", "u4", "user")
	_, err := f.svc.Host().Provision(ctx, id, user("u5"), "user")
	require.ErrorIs(t, err, orgauthz.ErrSeatLimit)
	assert.Contains(t, err.Error(), `edition "community" allows 5 seats and 5 are in use`)

	// Community's limit is fixed; professional's is a default.
	assert.ErrorIs(t, f.svc.SetSeatOverride(ctx, id, "creator", 8), orgauthz.ErrInvalidArgument)
	require.NoError(t, f.svc.ChangeEdition(ctx, id, "creator", "professional"))
	require.NoError(t, f.svc.SetSeatOverride(ctx, id, "creator", 6))
	_, err = f.svc.Host().Provision(ctx, id, user("u5"), "user")
	require.NoError(t, err)
	_, err = f.svc.Host().Provision(ctx, id, user("u6"), "user")
	require.ErrorIs(t, err, orgauthz.ErrSeatLimit)
	// An override below the seats in use is refused.
	assert.ErrorIs(t, f.svc.SetSeatOverride(ctx, id, "creator", 5), orgauthz.ErrSeatLimit)
	// Downgrading to community with six members is refused.
	err = f.svc.ChangeEdition(ctx, id, "creator", "community")
	require.ErrorIs(t, err, orgauthz.ErrSeatLimit)
	assert.Contains(t, err.Error(), "free 1 first")
	// Users may not change editions.
	assert.ErrorIs(t, f.svc.ChangeEdition(ctx, id, "u1", "enterprise"), orgauthz.ErrPermissionDenied)
	assert.ErrorIs(t, f.svc.ChangeEdition(ctx, id, "creator", "platinum"), orgauthz.ErrUnknownEdition)
}

func TestRemovalEndsAccessAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "soterai", "enterprise", "max", "manager", "meg", "member")
	require.True(t, f.svc.Check(ctx, id, "meg", "content:use").Allowed)
	require.NoError(t, f.svc.RemoveMember(ctx, id, "max", "meg"))
	d := f.svc.Check(ctx, id, "meg", "content:use")
	assert.False(t, d.Allowed)
	assert.Equal(t, policy.ReasonNotMember, d.Reason)
	assert.ErrorIs(t, d.Err(), orgauthz.ErrNotMember)
	// Leaving: the last owner may not; a manager may.
	assert.ErrorIs(t, f.svc.Leave(ctx, id, "creator"), orgauthz.ErrMinHolders)
	require.NoError(t, f.svc.Leave(ctx, id, "max"))
	assert.Equal(t, "", f.role(t, id, "max"))
}

func TestCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "community", "bob", "user")
	tests := []struct {
		name      string
		org, who  string
		c         role.Capability
		allowed   bool
		reason    policy.Reason
		sentinels []error
	}{
		{"admin holds", id, "creator", "members:manage", true, policy.ReasonRoleHolds, nil},
		{"user lacks", id, "bob", "members:manage", false, policy.ReasonRoleLacks, []error{orgauthz.ErrPermissionDenied}},
		{"edition gates", id, "bob", "job_runs:create", false, policy.ReasonEditionGated, []error{orgauthz.ErrEditionGated}},
		{"unknown capability", id, "bob", "rockets:launch", false, policy.ReasonUnknownCapability, []error{orgauthz.ErrUnknownCapability}},
		{"not a member", id, "eve", "cloud:use", false, policy.ReasonNotMember, []error{orgauthz.ErrNotMember}},
		{"unknown organization", "nope", "bob", "cloud:use", false, policy.ReasonUnknownOrganization, []error{orgauthz.ErrUnknownOrganization}},
	}
	for _, tt := range tests {
		d := f.svc.Check(ctx, tt.org, tt.who, tt.c)
		assert.Equal(t, tt.allowed, d.Allowed, "%s: %v", tt.name, d)
		assert.Equal(t, tt.reason, d.Reason, tt.name)
		for _, s := range tt.sentinels {
			assert.ErrorIs(t, d.Err(), s, tt.name)
		}
	}
	// A done context fails closed.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	d := f.svc.Check(cctx, id, "creator", "members:manage")
	assert.False(t, d.Allowed)
	assert.Equal(t, policy.ReasonUnavailable, d.Reason)

	caps, err := f.svc.Capabilities(ctx, id, "bob")
	require.NoError(t, err)
	assert.Equal(t, []role.Capability{"cloud:use", "notebook:start", "integrations/s3:use", "api_keys:manage_own", "api_keys:authenticate", "support:contact"}, caps)
	_, err = f.svc.Capabilities(ctx, id, "eve")
	assert.ErrorIs(t, err, orgauthz.ErrNotMember)
	_, err = f.svc.Capabilities(ctx, "nope", "eve")
	assert.ErrorIs(t, err, orgauthz.ErrUnknownOrganization)
}

func TestCheckOwn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	so := f.newOrg(t, "soterai", "enterprise", "meg", "member", "mia", "member")
	assert.True(t, f.svc.CheckOwn(ctx, so, "meg", "content/own:edit", "meg").Allowed)
	d := f.svc.CheckOwn(ctx, so, "meg", "content/own:edit", "mia")
	assert.Equal(t, policy.ReasonNotOwner, d.Reason)
	assert.ErrorIs(t, d.Err(), policy.ErrNotOwner)
	assert.True(t, f.svc.CheckOwn(ctx, so, "meg", "content:use", "mia").Allowed, "not an own-thing capability: a plain check")
	// Not even an owner edits someone else's own things.
	assert.Equal(t, policy.ReasonNotOwner, f.svc.CheckOwn(ctx, so, "creator", "profile/own:edit", "meg").Reason)

	w := f.newOrg(t, "wherobots", "community", "bob", "user")
	assert.True(t, f.svc.CheckOwn(ctx, w, "bob", "api_keys:manage_own", "bob").Allowed)
	assert.False(t, f.svc.CheckOwn(ctx, w, "bob", "api_keys:manage_own", "creator").Allowed)
}

func TestArchive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "professional", "bob", "user")
	assert.ErrorIs(t, f.svc.ArchiveOrganization(ctx, id, "bob"), orgauthz.ErrPermissionDenied)
	require.NoError(t, f.svc.ArchiveOrganization(ctx, id, "creator"))
	d := f.svc.Check(ctx, id, "creator", "cloud:use")
	assert.Equal(t, policy.ReasonArchived, d.Reason)
	assert.ErrorIs(t, d.Err(), orgauthz.ErrArchived)
	_, err := f.svc.ChangeRole(ctx, id, "creator", "bob", "admin")
	assert.ErrorIs(t, err, orgauthz.ErrArchived)
	_, err = f.svc.Host().Provision(ctx, id, user("carl"), "user")
	assert.ErrorIs(t, err, orgauthz.ErrArchived)
	caps, err := f.svc.Capabilities(ctx, id, "creator")
	require.NoError(t, err)
	assert.Empty(t, caps)
	// Still readable, then deletable.
	o, err := f.svc.Organization(ctx, id, "bob")
	require.NoError(t, err)
	assert.True(t, o.Archived)
	events, err := f.svc.Audit(ctx, id, "creator", orgauthz.AuditQuery{})
	require.NoError(t, err)
	assert.Equal(t, orgauthz.AuditOrganizationArchive, events[len(events)-1].Action)
	assert.ErrorIs(t, f.svc.DeleteOrganization(ctx, id, "bob"), orgauthz.ErrPermissionDenied)
	require.NoError(t, f.svc.DeleteOrganization(ctx, id, "creator"))
	assert.Equal(t, policy.ReasonUnknownOrganization, f.svc.Check(ctx, id, "creator", "cloud:use").Reason)
}

func TestUpdateOrganization(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "community", "bob", "user")
	name := "Renamed"
	f.clock.Advance(time.Hour)
	o, err := f.svc.UpdateOrganization(ctx, id, "creator", orgauthz.OrganizationUpdate{Name: &name, Settings: map[string]string{"region": "eu"}})
	require.NoError(t, err)
	assert.Equal(t, "Renamed", o.Name)
	assert.Equal(t, map[string]string{"region": "eu"}, o.Settings)
	assert.Equal(t, f.clock.Now(), o.UpdatedAt)
	_, err = f.svc.UpdateOrganization(ctx, id, "bob", orgauthz.OrganizationUpdate{Name: &name})
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	bad := ""
	_, err = f.svc.UpdateOrganization(ctx, id, "creator", orgauthz.OrganizationUpdate{Name: &bad})
	assert.ErrorIs(t, err, orgauthz.ErrInvalidName)
	got, err := f.svc.Organization(ctx, id, "bob")
	require.NoError(t, err)
	assert.Equal(t, "Renamed", got.Name, "a refused update changed nothing")
	_, err = f.svc.Organization(ctx, id, "eve")
	assert.ErrorIs(t, err, orgauthz.ErrNotMember)
}

func TestMembersPaged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "enterprise")
	for i := range 25 {
		_, err := f.svc.Host().Provision(ctx, id, user(fmt.Sprintf("m%02d", i)), "user")
		require.NoError(t, err)
	}
	var all []string
	p := orgauthz.Page{Limit: 10}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		got, err := f.svc.Members(ctx, id, "m03", p)
		require.NoError(t, err)
		for _, m := range got.Members {
			all = append(all, m.PrincipalID)
		}
		if got.Next == "" {
			break
		}
		p.After = got.Next
	}
	require.Len(t, all, 26)
	assert.Equal(t, "creator", all[0])
	assert.Equal(t, "m24", all[25])
	_, err := f.svc.Members(ctx, id, "m03", orgauthz.Page{Limit: 5000})
	assert.ErrorIs(t, err, orgauthz.ErrInvalidArgument)
	m, err := f.svc.Member(ctx, id, "m03", "m07")
	require.NoError(t, err)
	assert.Equal(t, "user", m.Role)
	_, err = f.svc.Member(ctx, id, "m03", "zz")
	assert.ErrorIs(t, err, orgauthz.ErrNotMember)
}

func TestAddMemberDirectly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ai := f.newOrg(t, "aiengine", "", "ed", "editor")
	m, err := f.svc.AddMember(ctx, ai, "creator", user("viv"), "")
	require.NoError(t, err)
	assert.Equal(t, "viewer", m.Role, "the default invitation role")
	_, err = f.svc.AddMember(ctx, ai, "creator", user("viv"), "editor")
	assert.ErrorIs(t, err, orgauthz.ErrAlreadyMember)
	_, err = f.svc.AddMember(ctx, ai, "ed", user("zed"), "viewer")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "only owners add")
	_, err = f.svc.AddMember(ctx, ai, "creator", user("zed"), "external")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "external is never given")
	// Wherobots admits members by invitation only.
	w := f.newOrg(t, "wherobots", "community")
	_, err = f.svc.AddMember(ctx, w, "creator", user("bob"), "user")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	assert.Contains(t, err.Error(), "offers no add action")
}

func TestAudit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "professional", "bob", "user")
	f.clock.Advance(time.Minute)
	_, err := f.svc.ChangeRole(ctx, id, "creator", "bob", "admin")
	require.NoError(t, err)
	f.clock.Advance(time.Minute)
	_, err = f.svc.ChangeRole(ctx, id, "bob", "creator", "user")
	require.NoError(t, err)

	events, err := f.svc.Audit(ctx, id, "bob", orgauthz.AuditQuery{})
	require.NoError(t, err)
	require.Len(t, events, 4)
	assert.Equal(t, []string{orgauthz.AuditOrganizationCreate, orgauthz.AuditMemberAdd, orgauthz.AuditMemberRole, orgauthz.AuditMemberRole},
		[]string{events[0].Action, events[1].Action, events[2].Action, events[3].Action})
	last := events[3]
	assert.Equal(t, org.AuditEvent{Seq: 4, OrgID: id, Time: f.clock.Now(), Actor: "bob", Action: orgauthz.AuditMemberRole, Target: "creator", RoleBefore: "admin", RoleAfter: "user"}, last)

	byBob, err := f.svc.Audit(ctx, id, "bob", orgauthz.AuditQuery{Actor: "bob"})
	require.NoError(t, err)
	assert.Len(t, byBob, 1)
	start := f.clock.Now().Add(-time.Minute)
	window, err := f.svc.Audit(ctx, id, "bob", orgauthz.AuditQuery{Since: start, Until: f.clock.Now()})
	require.NoError(t, err)
	require.Len(t, window, 1)
	assert.Equal(t, int64(3), window[0].Seq)

	var out strings.Builder
	require.NoError(t, f.svc.ExportAudit(ctx, id, "bob", orgauthz.AuditQuery{AfterSeq: 2}, &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, `{"seq":4,"org":"`+id+`","time":"2026-11-22T09:02:00Z","actor":"bob","action":"member.role","target":"creator","role_before":"admin","role_after":"user"}`, lines[1])

	// Users may not read it; community admins neither (edition-gated).
	_, err = f.svc.Audit(ctx, id, "creator", orgauthz.AuditQuery{})
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
	c := f.newOrg(t, "wherobots", "community")
	_, err = f.svc.Audit(ctx, c, "creator", orgauthz.AuditQuery{})
	assert.ErrorIs(t, err, orgauthz.ErrEditionGated)
}

func TestRefusalsWriteNoAudit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "professional", "bob", "user")
	before, err := f.svc.Audit(ctx, id, "creator", orgauthz.AuditQuery{})
	require.NoError(t, err)
	_, err = f.svc.ChangeRole(ctx, id, "creator", "creator", "user")
	require.Error(t, err)
	_, err = f.svc.ChangeRole(ctx, id, "bob", "creator", "user")
	require.Error(t, err)
	after, err := f.svc.Audit(ctx, id, "creator", orgauthz.AuditQuery{})
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

// counts reads an organization's head counts straight from the store.
func counts(t testing.TB, f *fixture, orgID string) store.Counts {
	t.Helper()
	var c store.Counts
	require.NoError(t, f.st.View(ctx, orgID, func(ctx context.Context, r store.Reader) error {
		var err error
		c, err = r.Counts(ctx)
		return err
	}))
	return c
}

// Where owners may be several, ownership passes by promoting the new owner
// and then demoting the old one; UiPath has no transfer at all.
func TestOwnershipPassesByPromotionThenDemotion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, scheme := range []string{"soterai", "aiengine"} {
		second := "manager"
		if scheme == "aiengine" {
			second = "editor"
		}
		id := f.newOrg(t, scheme, "", "max", second)
		_, err := f.svc.ChangeRole(ctx, id, "creator", "max", "owner")
		require.NoError(t, err, scheme)
		_, err = f.svc.ChangeRole(ctx, id, "max", "creator", second)
		require.NoError(t, err, scheme)
		assert.Equal(t, "owner", f.role(t, id, "max"), scheme)
		assert.Equal(t, second, f.role(t, id, "creator"), scheme)
		// The new owner is now the last one.
		_, err = f.svc.ChangeRole(ctx, id, "max", "max", second)
		assert.ErrorIs(t, err, orgauthz.ErrMinHolders, scheme)
	}
	up := f.newOrg(t, "uipath", "", "ann", "administrator")
	_, err := f.svc.ChangeRole(ctx, up, "creator", "ann", "owner")
	assert.ErrorIs(t, err, orgauthz.ErrImmutableRole)
}
