package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

func copyTests() []test {
	return []test{
		{"OrganizationSettingsAreCopiedInAndOut", testCopySettings},
		{"ScopeRoleCapabilitiesAreCopiedInAndOut", testCopyCapabilities},
		{"CountsRolesAreCopiedOut", testCopyCounts},
	}
}

func testCopySettings(t *testing.T, s store.Store) {
	want := map[string]string{"region": "eu", "tier": "gold"}
	in := newOrg("acme")
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, in))
		in.Settings["region"] = "changed after create"
		in.Settings["extra"] = "added after create"
		got, err := tx.Organization(ctx)
		must(t, err)
		diff(t, "Settings inside the Update after the caller changed its map", want, got.Settings)
		got.Settings["region"] = "changed in a record read"
		got, err = tx.Organization(ctx)
		must(t, err)
		diff(t, "Settings inside the Update after a record read was changed", want, got.Settings)
		return nil
	})
	readSettings := func() map[string]string {
		var got org.Organization
		view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
			var err error
			got, err = r.Organization(ctx)
			return err
		})
		return got.Settings
	}
	diff(t, "Settings after the caller changed its map", want, readSettings())
	readSettings()["region"] = "changed in a record read"
	diff(t, "Settings after a record read was changed", want, readSettings())
	for o, err := range s.Organizations(t.Context(), "") {
		must(t, err)
		o.Settings["region"] = "changed in a record listed"
	}
	diff(t, "Settings after a record listed was changed", want, readSettings())

	changed := map[string]string{"region": "us"}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		o := newOrg("acme")
		o.Settings = changed
		must(t, tx.UpdateOrganization(ctx, o))
		changed["region"] = "changed after update"
		return nil
	})
	diff(t, "Settings after the caller changed the map it updated with", map[string]string{"region": "us"}, readSettings())
}

func testCopyCapabilities(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	want := []role.Capability{"doc:read", "doc:write"}
	caps := []role.Capability{"doc:read", "doc:write"}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.PutScopeRole(ctx, newScopeRole("project", "p2", "editor", caps...)))
		r := newScopeRole("project", "p2", "r2")
		r.Capabilities = caps
		must(t, tx.PutScopeRole(ctx, r))
		caps[0] = "changed:after-put"
		got, err := tx.ScopeRole(ctx, "project", "p2", "r2")
		must(t, err)
		diff(t, "Capabilities inside the Update after the caller changed its slice", want, got.Capabilities)
		got.Capabilities[1] = "changed:in-read"
		got, err = tx.ScopeRole(ctx, "project", "p2", "r2")
		must(t, err)
		diff(t, "Capabilities inside the Update after a record read was changed", want, got.Capabilities)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		got, err := r.ScopeRole(ctx, "project", "p2", "r2")
		must(t, err)
		diff(t, "Capabilities after the caller changed its slice", want, got.Capabilities)
		got.Capabilities[0] = "changed:in-read"
		for sr, err := range r.ScopeRoles(ctx, "project", "p2") {
			must(t, err)
			sr.Capabilities[0] = "changed:in-listed"
		}
		got, err = r.ScopeRole(ctx, "project", "p2", "r2")
		must(t, err)
		diff(t, "Capabilities after records read were changed", want, got.Capabilities)
		return nil
	})
}

func testCopyCounts(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		c, err := r.Counts(ctx)
		must(t, err)
		want := map[string]int{"admin": 1, "member": 2, "external": 1}
		diff(t, "Counts.Roles", want, c.Roles)
		c.Roles["admin"] = 100
		c.Roles["ghost"] = 1
		c, err = r.Counts(ctx)
		must(t, err)
		diff(t, "Counts.Roles after a returned map was changed", want, c.Roles)
		return nil
	})
}

func timeTests() []test {
	return []test{
		{"TruncatedToMicrosecondsInUTC", testTimes},
	}
}

// testTimes writes a time with nanoseconds in a zone east of UTC into
// every time field, and checks that every way of reading it back gives it
// truncated to the microsecond, in UTC, inside the Update and after.
func testTimes(t *testing.T, s store.Store) {
	zone := time.FixedZone("UTC+05:30", 5*3600+30*60)
	in := time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, zone)
	want := time.Date(2024, 2, 29, 18, 29, 59, 999_999_000, time.UTC)
	now := time.Now() // carries a monotonic reading
	wantNow := now.Round(0).Truncate(time.Microsecond).UTC()
	before1970 := time.Date(1955, 11, 5, 6, 15, 0, 1_500, zone)
	wantBefore1970 := time.Date(1955, 11, 5, 0, 45, 0, 1_000, time.UTC)

	check := func(t *testing.T, what string, want, got time.Time) {
		t.Helper()
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: got %v (%s), want %v", what, got, got.Location(), want)
		}
	}
	checkAll := func(t *testing.T, where string, ctx context.Context, r store.Reader) {
		t.Helper()
		o, err := r.Organization(ctx)
		must(t, err)
		check(t, where+" Organization.CreatedAt", want, o.CreatedAt)
		check(t, where+" Organization.UpdatedAt", wantNow, o.UpdatedAt)
		m, err := r.Member(ctx, "alice")
		must(t, err)
		check(t, where+" Member.JoinedAt", want, m.JoinedAt)
		m, err = r.Member(ctx, "bob")
		must(t, err)
		check(t, where+" Member.JoinedAt (monotonic)", wantNow, m.JoinedAt)
		m, err = r.Member(ctx, "carol")
		must(t, err)
		check(t, where+" Member.JoinedAt (before 1970)", wantBefore1970, m.JoinedAt)
		m, err = r.Member(ctx, "dave")
		must(t, err)
		if !m.JoinedAt.IsZero() {
			t.Errorf("%s Member.JoinedAt (zero): got %v, want the zero time", where, m.JoinedAt)
		}
		for _, m := range collect(t, "Members", r.Members(ctx, "alice")) {
			if m.PrincipalID == "carol" {
				check(t, where+" Members JoinedAt", wantBefore1970, m.JoinedAt)
			}
		}
		sc, err := r.Scope(ctx, "project", "p1")
		must(t, err)
		check(t, where+" Scope.CreatedAt", want, sc.CreatedAt)
		for _, sc := range collect(t, "Scopes", r.Scopes(ctx, "project", "")) {
			check(t, where+" Scopes CreatedAt", want, sc.CreatedAt)
		}
		sm, err := r.ScopeMember(ctx, "project", "p1", "alice")
		must(t, err)
		check(t, where+" ScopeMember.AddedAt", want, sm.AddedAt)
		for _, sm := range collect(t, "ScopeMembers", r.ScopeMembers(ctx, "project", "p1", "")) {
			check(t, where+" ScopeMembers AddedAt", want, sm.AddedAt)
		}
		for _, sm := range collect(t, "PrincipalScopes", r.PrincipalScopes(ctx, "alice")) {
			check(t, where+" PrincipalScopes AddedAt", want, sm.AddedAt)
		}
		sr, err := r.ScopeRole(ctx, "project", "p1", "r")
		must(t, err)
		check(t, where+" ScopeRole.CreatedAt", want, sr.CreatedAt)
		for _, sr := range collect(t, "ScopeRoles", r.ScopeRoles(ctx, "project", "p1")) {
			check(t, where+" ScopeRoles CreatedAt", want, sr.CreatedAt)
		}
		es := collect(t, "Audit", r.Audit(ctx, store.AuditFilter{}))
		if len(es) != 1 {
			t.Fatalf("%s Audit: %d events, want 1", where, len(es))
		}
		check(t, where+" AuditEvent.Time", want, es[0].Time)
	}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		o := newOrg("acme")
		o.CreatedAt, o.UpdatedAt = in, now
		must(t, tx.CreateOrganization(ctx, o))
		for id, joined := range map[string]time.Time{"alice": in, "bob": now, "carol": before1970, "dave": {}} {
			m := newMember(id, "member")
			m.JoinedAt = joined
			must(t, tx.AddMember(ctx, m))
		}
		sc := newScope("project", "p1")
		sc.CreatedAt = in
		must(t, tx.CreateScope(ctx, sc))
		sm := newScopeMember("project", "p1", "alice", "viewer")
		sm.AddedAt = in
		must(t, tx.PutScopeMember(ctx, sm))
		sr := newScopeRole("project", "p1", "r", "doc:read")
		sr.CreatedAt = in
		must(t, tx.PutScopeRole(ctx, sr))
		e := newEvent("alice", "x", 0)
		e.Time = in
		_, err := tx.AppendAudit(ctx, e)
		must(t, err)
		checkAll(t, "inside the Update:", ctx, tx)
		return nil
	})
	view(t, s, "acme", func(ctx context.Context, r store.Reader) error {
		checkAll(t, "after commit:", ctx, r)
		return nil
	})
	for o, err := range s.Organizations(t.Context(), "") {
		must(t, err)
		check(t, "Organizations CreatedAt", want, o.CreatedAt)
	}
}
