package orgauthz_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
	"github.com/stretchr/testify/require"
)

// snapshot is everything a store keeps of one organization.
type snapshot struct {
	Org          org.Organization
	Members      []org.Member
	Scopes       []org.Scope
	ScopeMembers []org.ScopeMember
	ScopeRoles   []org.ScopeRole
	// The audit trail only grows: its length and last event show any
	// write, without listing it all on every step.
	AuditLen  int
	LastAudit org.AuditEvent
	Counts    store.Counts
}

// takeSnapshot reads the organization; prevAudit is a sequence number the
// caller knows to exist, so only the tail of the audit trail is read.
func takeSnapshot(t testing.TB, st store.Store, sch *edition.Scheme, orgID string, prevAudit int64) snapshot {
	t.Helper()
	var s snapshot
	err := st.View(ctx, orgID, func(ctx context.Context, r store.Reader) error {
		var err error
		if s.Org, err = r.Organization(ctx); err != nil {
			return err
		}
		if s.Counts, err = r.Counts(ctx); err != nil {
			return err
		}
		for m, err := range r.Members(ctx, "") {
			if err != nil {
				return err
			}
			s.Members = append(s.Members, m)
		}
		for _, sc := range sch.Scopes() {
			for res, err := range r.Scopes(ctx, sc.Kind(), "") {
				if err != nil {
					return err
				}
				s.Scopes = append(s.Scopes, res)
				for m, err := range r.ScopeMembers(ctx, sc.Kind(), res.ID, "") {
					if err != nil {
						return err
					}
					s.ScopeMembers = append(s.ScopeMembers, m)
				}
				for sr, err := range r.ScopeRoles(ctx, sc.Kind(), res.ID) {
					if err != nil {
						return err
					}
					s.ScopeRoles = append(s.ScopeRoles, sr)
				}
			}
		}
		for e, err := range r.Audit(ctx, store.AuditFilter{AfterSeq: prevAudit}) {
			if err != nil {
				return err
			}
			s.LastAudit = e
		}
		s.AuditLen = int(s.LastAudit.Seq)
		return nil
	})
	require.NoError(t, err)
	return s
}

// checkInvariants asserts, over a snapshot, every invariant the
// specification names.
func checkInvariants(t testing.TB, sch *edition.Scheme, s snapshot, creator string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: "+format, append([]any{s.Org.ID}, args...)...)
	}
	e, ok := sch.Edition(s.Org.Edition)
	if !ok {
		fail("unknown edition %q", s.Org.Edition)
	}
	holders := map[string]int{}
	seats := 0
	inScope := map[string]bool{}
	for _, m := range s.ScopeMembers {
		inScope[m.PrincipalID] = true
	}
	for _, m := range s.Members {
		ri, ok := sch.RoleIndex(m.Role)
		switch {
		case !ok:
			fail("member %q holds unknown role %q", m.PrincipalID, m.Role)
		case m.External != sch.IsExternal(ri):
			fail("member %q: External=%v but role %q", m.PrincipalID, m.External, m.Role)
		case !e.OffersRole(ri):
			fail("member %q holds %q, which edition %q does not offer", m.PrincipalID, m.Role, e.ID())
		case m.External && !inScope[m.PrincipalID]:
			fail("external member %q belongs to no scope resource", m.PrincipalID)
		}
		holders[m.Role]++
		if !m.External {
			seats++
		}
	}
	for ri, r := range sch.Roles() {
		n := holders[r.ID]
		if min := sch.MinHolders(ri); n < min {
			fail("%d holders of %q, at least %d required", n, r.ID, min)
		}
		if max := sch.MaxHolders(ri); max > 0 && n > max {
			fail("%d holders of %q, at most %d allowed", n, r.ID, max)
		}
		if sch.Immutable(ri) {
			for _, m := range s.Members {
				if m.Role == r.ID && m.PrincipalID != creator {
					fail("immutable role %q held by %q, not the creator", r.ID, m.PrincipalID)
				}
			}
		}
	}
	if limit := e.Seats().Limit(s.Org.SeatOverride); limit > 0 && seats > limit {
		fail("%d seats in use, limit %d", seats, limit)
	}
	if s.Counts.Members != seats || !cmp.Equal(nonZero(s.Counts.Roles), holders) {
		fail("counts %+v disagree with the members (%d seats, %v)", s.Counts, seats, holders)
	}
	members := map[string]bool{}
	for _, m := range s.Members {
		members[m.PrincipalID] = true
	}
	for _, res := range s.Scopes {
		sc, _ := sch.Scope(res.Kind)
		byRole := map[string]int{}
		for _, m := range s.ScopeMembers {
			if m.Kind == res.Kind && m.ScopeID == res.ID {
				byRole[m.Role]++
				if !members[m.PrincipalID] {
					fail("%s %q has member %q, who is not in the organization (not even as external)", res.Kind, res.ID, m.PrincipalID)
				}
			}
		}
		for ri, r := range sc.Matrix().Roles() {
			if min := sc.MinHolders(ri); byRole[r.ID] < min {
				fail("%s %q has %d %q, at least %d required", res.Kind, res.ID, byRole[r.ID], r.ID, min)
			}
		}
	}
	if s.LastAudit.OrgID != s.Org.ID || s.LastAudit.Seq == 0 {
		fail("last audit event %+v", s.LastAudit)
	}
}

func nonZero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// TestPropertyRandomOperations runs 10,000 random operations by random
// actors over organizations of the four presets. After every step all
// invariants hold, and an operation that was refused changed nothing.
// On PostgreSQL it runs 5,000 operations: each step reads the whole
// organization twice, and the point there is that the store keeps the
// same promises, not more of the same random walk.
func TestPropertyRandomOperations(t *testing.T) {
	t.Parallel()
	forEachStoreAndStandby(t, func(t *testing.T, env storeEnv) {
		steps := 10000
		if env.kind == "pgstore" {
			steps = 5000
		}
		testPropertyRandomOperations(t, env.newFixture(t), steps)
	})
}

func testPropertyRandomOperations(t *testing.T, f *fixture, steps int) {
	seed := uint64(20261122)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	type target struct {
		id  string
		sch *edition.Scheme
	}
	var orgs []target
	for _, name := range []string{"wherobots", "aiengine", "uipath", "soterai"} {
		sch, _ := f.svc.Scheme(name)
		for _, e := range sch.Editions() {
			o, err := f.svc.CreateOrganization(ctx, user("creator"), orgauthz.NewOrganization{Name: name, Scheme: name, Edition: e.ID()})
			require.NoError(t, err)
			orgs = append(orgs, target{o.ID, sch})
		}
	}
	principals := make([]string, 12)
	for i := range principals {
		principals[i] = fmt.Sprintf("p%02d", i)
	}
	principals = append(principals, "creator")
	pick := func(list []string) string { return list[rng.IntN(len(list))] }

	succeeded := map[string]int{}
	lastSeq := map[string]int64{} // per organization, a seq to read the audit trail after
	refused, done := 0, 0
	for step := range steps {
		o := orgs[rng.IntN(len(orgs))]
		sch := o.sch
		roles := make([]string, 0)
		for _, r := range sch.Roles() {
			roles = append(roles, r.ID)
		}
		roles = append(roles, "ghost") // an unknown role now and then
		editions := []string{"ghost"}
		for _, e := range sch.Editions() {
			editions = append(editions, e.ID())
		}
		before := takeSnapshot(t, f.st, sch, o.id, lastSeq[o.id])
		actor, who := pick(principals), pick(principals)
		if rng.IntN(2) == 0 {
			actor = "creator" // an owner or admin: more operations succeed
		}
		kind, scopeID, scopeRole := "", "", ""
		if scopes := sch.Scopes(); len(scopes) > 0 {
			sc := scopes[0]
			kind = sc.Kind()
			scopeRole = sc.Matrix().Role(rng.IntN(sc.Matrix().NumRoles())).ID
			var ids []string
			for _, res := range before.Scopes {
				ids = append(ids, res.ID)
			}
			if len(ids) > 0 && rng.IntN(8) > 0 {
				scopeID = pick(ids)
			} else {
				scopeID = "no-such-scope"
			}
		}
		var err error
		var op string
		switch n := rng.IntN(15); n {
		case 0, 1:
			op = "provision"
			_, err = f.svc.Host().Provision(ctx, o.id, user(who), pick(roles))
		case 2:
			op = "add"
			_, err = f.svc.AddMember(ctx, o.id, actor, user(who), pick(roles))
		case 3, 4:
			op = "change-role"
			_, err = f.svc.ChangeRole(ctx, o.id, actor, who, pick(roles))
		case 5:
			op = "remove"
			err = f.svc.RemoveMember(ctx, o.id, actor, who)
		case 6:
			op = "leave"
			err = f.svc.Leave(ctx, o.id, actor)
		case 7:
			op = "edition"
			err = f.svc.ChangeEdition(ctx, o.id, actor, pick(editions))
		case 8:
			op = "seats"
			err = f.svc.SetSeatOverride(ctx, o.id, actor, rng.IntN(8)-1)
		case 9:
			op = "create-scope"
			if kind == "" {
				continue
			}
			_, err = f.svc.CreateScope(ctx, o.id, actor, kind, "S")
		case 10:
			op = "delete-scope"
			if kind == "" {
				continue
			}
			err = f.svc.DeleteScope(ctx, o.id, actor, kind, scopeID)
		case 11, 12:
			op = "add-scope-member"
			if kind == "" {
				continue
			}
			_, err = f.svc.AddScopeMember(ctx, o.id, actor, kind, scopeID, user(who), scopeRole)
		case 13:
			op = "remove-scope-member"
			if kind == "" {
				continue
			}
			err = f.svc.RemoveScopeMember(ctx, o.id, actor, kind, scopeID, who)
		case 14:
			op = "define-scope-role"
			if kind != "service" {
				continue
			}
			caps := []role.Capability{"service:access"}
			if rng.IntN(2) == 0 {
				caps = append(caps, "service/jobs:manage")
			}
			_, err = f.svc.DefineScopeRole(ctx, o.id, actor, kind, scopeID, orgauthz.ScopeRoleDef{ID: "custom", Capabilities: caps})
		}
		after := takeSnapshot(t, f.st, sch, o.id, before.LastAudit.Seq-1)
		lastSeq[o.id] = after.LastAudit.Seq - 1
		if err != nil {
			refused++
			if diff := cmp.Diff(before, after); diff != "" {
				t.Fatalf("step %d (seed %d): refused %s by %q on %q changed the organization (-before +after):\n%s\nerror: %v", step, seed, op, actor, who, diff, err)
			}
		} else {
			done++
			succeeded[op]++
		}
		checkInvariants(t, sch, after, "creator")
	}
	t.Logf("%d operations: %d done, %d refused; done by kind: %v", steps, done, refused, succeeded)
	for _, op := range []string{"provision", "add", "change-role", "remove", "leave", "edition", "seats", "create-scope", "delete-scope", "add-scope-member", "remove-scope-member", "define-scope-role"} {
		require.Positive(t, succeeded[op], "no %s succeeded: the test does not exercise it", op)
	}
	require.Greater(t, done, steps/20, "enough operations succeed to exercise the invariants")
	require.Greater(t, refused, steps/20)
}
