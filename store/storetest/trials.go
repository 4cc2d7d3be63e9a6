package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// The Trials group: an organization's trial (org.Organization's
// TrialEdition and TrialEndsAt) is kept and returned as written, shown by
// Access, ScopeAccess and KeyAccess with no Code, and listed by the end
// of the trial (store.TrialsEnding).
func trialTests() []test {
	return []test{
		{"FieldsRoundTrip", testTrialRoundTrip},
		{"TimesTruncated", testTrialTimes},
		{"AccessShowsTrialWithoutCode", testTrialAccess},
		{"AccessAfterTrialEnds", testTrialAccessCleared},
		{"ListingWindowAndOrder", testTrialListing},
		{"ListingCursor", testTrialCursor},
		{"ListingPages", testTrialPages},
		{"ListingSkipsDeletedAndCleared", testTrialListingDeleted},
		{"ListingAsLastCommitted", testTrialListingCommitted},
		{"RollbackOfEndedTrial", testTrialRollback},
	}
}

// trialStart is the base of the trials' end times: a whole microsecond,
// in UTC.
var trialStart = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)

// trialEnd returns the end of trial fixture i: i hours past trialStart.
func trialEnd(i int) time.Time { return trialStart.Add(time.Duration(i) * time.Hour) }

// onTrial returns organization id on a trial of edition "enterprise" that
// ends at ends.
func onTrial(id string, ends time.Time) org.Organization {
	o := newOrg(id)
	o.TrialEdition, o.TrialEndsAt = "enterprise", ends
	return o
}

// trials lists TrialsEnding in [from, to) after the cursor.
func trials(t *testing.T, s store.Store, from, to time.Time, after store.TrialCursor) []org.Organization {
	t.Helper()
	return collect(t, "TrialsEnding", store.TrialsEnding(t.Context(), s, from, to, after))
}

// trialIDs lists the IDs TrialsEnding lists in [from, to) after the
// cursor.
func trialIDs(t *testing.T, s store.Store, from, to time.Time, after store.TrialCursor) []string {
	t.Helper()
	return keys(trials(t, s, from, to, after), func(o org.Organization) string { return o.ID })
}

// everyTrial is a window that holds every trial of the fixtures.
var everyTrialFrom, everyTrialTo = trialStart.Add(-24 * time.Hour), trialStart.Add(1000 * 24 * time.Hour)

// readOrg returns the organization's record, read in a View.
func readOrg(t *testing.T, s store.Store, id string) org.Organization {
	t.Helper()
	var o org.Organization
	view(t, s, id, func(ctx context.Context, r store.Reader) error {
		var err error
		o, err = r.Organization(ctx)
		return err
	})
	return o
}

// wantOrg checks that every read of organization id returns want: the
// Reader's, Organizations' and, when it is on trial, TrialsEnding's.
func wantOrg(t *testing.T, what string, s store.Store, want org.Organization) {
	t.Helper()
	diff(t, what+": Organization", want, readOrg(t, s, want.ID))
	for _, o := range collect(t, "Organizations", s.Organizations(t.Context(), "")) {
		if o.ID == want.ID {
			diff(t, what+": Organizations", want, o)
		}
	}
	var listed []org.Organization
	for _, o := range trials(t, s, time.Time{}, everyTrialTo.Add(100*365*24*time.Hour), store.TrialCursor{}) {
		if o.ID == want.ID {
			listed = append(listed, o)
		}
	}
	if want.TrialEdition == "" {
		diff(t, what+": TrialsEnding", []org.Organization(nil), listed)
	} else {
		diff(t, what+": TrialsEnding", []org.Organization{want}, listed)
	}
}

func testTrialRoundTrip(t *testing.T, s store.Store) {
	plain := newOrg("plain")
	update(t, s, "plain", func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, plain) })
	wantOrg(t, "without a trial", s, plain)

	o := onTrial("acme", trialEnd(1))
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, o))
		got, err := tx.Organization(ctx)
		must(t, err)
		diff(t, "Organization inside the Update that created it", o, got)
		return nil
	})
	wantOrg(t, "created on trial", s, o)

	o.TrialEdition, o.TrialEndsAt, o.Edition = "business", trialEnd(2), "free"
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateOrganization(ctx, o))
		got, err := tx.Organization(ctx)
		must(t, err)
		diff(t, "Organization inside the Update that changed the trial", o, got)
		return nil
	})
	wantOrg(t, "trial changed", s, o)

	o.TrialEdition, o.TrialEndsAt = "", time.Time{}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, o) })
	wantOrg(t, "trial cleared", s, o)

	plain.TrialEdition, plain.TrialEndsAt = "enterprise", trialEnd(3)
	update(t, s, "plain", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, plain) })
	wantOrg(t, "trial started", s, plain)
}

func testTrialTimes(t *testing.T, s store.Store) {
	loc := time.FixedZone("UTC+5:30", 5*3600+1800)
	o := onTrial("acme", time.Date(2025, 4, 2, 10, 30, 0, 123_456_789, loc))
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, o))
		return tx.AddMember(ctx, newMember("alice", "admin"))
	})
	want := o
	want.TrialEndsAt = time.Date(2025, 4, 2, 5, 0, 0, 123_456_000, time.UTC)
	wantOrg(t, "a trial end of nanoseconds in another zone", s, want)
	a, err := s.Access(t.Context(), "acme", "alice")
	must(t, err)
	if !a.TrialEndsAt.Equal(want.TrialEndsAt) || a.TrialEndsAt.Location() != time.UTC {
		t.Errorf("Access.TrialEndsAt = %v, want %v", a.TrialEndsAt, want.TrialEndsAt)
	}
}

// trialAccess returns seedAccess(p) with organization o's trial.
func trialAccess(p string, o org.Organization) *store.Access {
	a := seedAccess(p)
	if a != nil {
		a.Edition, a.TrialEdition, a.TrialEndsAt = o.Edition, o.TrialEdition, o.TrialEndsAt
	}
	return a
}

// wantTrialAccess checks what Access, ScopeAccess and KeyAccess answer
// for the seeded members and keys of organization o: their Access with
// o's trial, and no Code when o has a trial (codeless checks that).
func wantTrialAccess(t *testing.T, what string, s store.Store, o org.Organization) {
	t.Helper()
	ctx := t.Context()
	for _, p := range []string{"alice", "bob", "ci", "ext"} {
		a, err := s.Access(ctx, o.ID, p)
		if err != nil {
			t.Errorf("%s: Access(%q, %q): %v", what, o.ID, p, err)
			continue
		}
		diff(t, fmt.Sprintf("%s: Access(%q, %q)", what, o.ID, p), *trialAccess(p, o), codeless(t, s, a))
	}
	wantScopeAccess(t, what, s, o.ID, "alice", "project", "p1", scopeAnswer(trialAccess("alice", o), true, "project-admin", false), nil)
	wantScopeAccess(t, what, s, o.ID, "bob", "project", "p1", scopeAnswer(trialAccess("bob", o), true, "", false), nil)
	wantScopeAccess(t, what, s, o.ID, "ext", "workspace", "none", scopeAnswer(trialAccess("ext", o), false, "", false), nil)
	for i, k := range seedKeys(o.ID) {
		want := seedKeyAccess(o.ID, i)
		if want.OwnerFound {
			want.Owner = *trialAccess(k.OwnerID, o)
		}
		wantKeyAccess(t, what, s, k.ID, want)
	}
}

func testTrialAccess(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	seed(t, s, "neighbour")
	o := onTrial("acme", trialEnd(5))
	// Every answer before the trial is read, and cached if the store
	// caches, first.
	wantTrialAccess(t, "before the trial", s, newOrg("acme"))
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, o) })
	wantTrialAccess(t, "on trial", s, o)
	wantTrialAccess(t, "the other organization", s, newOrg("neighbour"))

	// A member who joins during the trial has it too.
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, newMember("dave", "member")) })
	a, err := s.Access(t.Context(), "acme", "dave")
	must(t, err)
	diff(t, "Access of a member who joined during the trial",
		store.Access{Scheme: "scheme-1", Edition: "pro", TrialEdition: "enterprise", TrialEndsAt: trialEnd(5), Role: "member", Kind: org.User},
		codeless(t, s, a))

	// A change of the base edition or of the trial shows at once.
	o.Edition, o.TrialEdition, o.TrialEndsAt = "free", "business", trialEnd(6)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, o) })
	wantTrialAccess(t, "trial and base edition changed", s, o)

	// An organization created on trial, with members, in one Update.
	update(t, s, "globex", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CreateOrganization(ctx, onTrial("globex", trialEnd(7))))
		return tx.AddMember(ctx, newMember("alice", "admin"))
	})
	a, err = s.Access(t.Context(), "globex", "alice")
	must(t, err)
	diff(t, "Access in an organization created on trial",
		store.Access{Scheme: "scheme-1", Edition: "pro", TrialEdition: "enterprise", TrialEndsAt: trialEnd(7), Role: "admin", Kind: org.User},
		codeless(t, s, a))
	_, err = s.Access(t.Context(), "globex", "nobody")
	wantErr(t, "Access of a non-member of an organization on trial", err, is(store.ErrMemberNotFound), store.ErrOrganizationNotFound)
}

func testTrialAccessCleared(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	o := onTrial("acme", trialEnd(5))
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, o) })
	wantTrialAccess(t, "on trial", s, o)
	// The trial ends (the service clears it), and the organization moves
	// to the edition it tried, in one Update.
	o.Edition, o.TrialEdition, o.TrialEndsAt = "enterprise", "", time.Time{}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, o) })
	wantTrialAccess(t, "after the trial, upgraded", s, o)
	// And again: a trial, then back to the base edition.
	o.TrialEdition, o.TrialEndsAt = "premium", trialEnd(9)
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, o) })
	wantTrialAccess(t, "a second trial", s, o)
	o.TrialEdition, o.TrialEndsAt = "", time.Time{}
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, o) })
	wantTrialAccess(t, "after the second trial", s, o)
}

// createTrials creates organizations of the given IDs, each on a trial
// ending at the given time (zero: no trial).
func createTrials(t *testing.T, s store.Store, ends map[string]time.Time) {
	t.Helper()
	for id, e := range ends {
		o := newOrg(id)
		if !e.IsZero() {
			o = onTrial(id, e)
		}
		update(t, s, id, func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, o) })
	}
}

func testTrialListing(t *testing.T, s store.Store) {
	createTrials(t, s, map[string]time.Time{
		"before":  trialEnd(0),
		"at-from": trialEnd(1),
		"b-mid":   trialEnd(2),
		"a-mid":   trialEnd(2),
		"c-mid":   trialEnd(2),
		"early":   trialEnd(1).Add(time.Microsecond),
		"late":    trialEnd(3).Add(-time.Microsecond),
		"at-to":   trialEnd(3),
		"after":   trialEnd(4),
		"none":    {},
		"none-2":  {},
	})
	got := trials(t, s, trialEnd(1), trialEnd(3), store.TrialCursor{})
	diff(t, "TrialsEnding in [1h, 3h): from is in, to is out, by end then ID",
		[]string{"at-from", "early", "a-mid", "b-mid", "c-mid", "late"}, keys(got, func(o org.Organization) string { return o.ID }))
	for _, o := range got {
		want := readOrg(t, s, o.ID)
		diff(t, "TrialsEnding's record of "+o.ID, want, o)
	}
	diff(t, "TrialsEnding of every trial", []string{"before", "at-from", "early", "a-mid", "b-mid", "c-mid", "late", "at-to", "after"},
		trialIDs(t, s, everyTrialFrom, everyTrialTo, store.TrialCursor{}))
	diff(t, "TrialsEnding from the zero time", []string{"before", "at-from", "early", "a-mid", "b-mid", "c-mid", "late", "at-to", "after"},
		trialIDs(t, s, time.Time{}, everyTrialTo, store.TrialCursor{}))
	diff(t, "TrialsEnding of an empty window", []string(nil), trialIDs(t, s, trialEnd(2), trialEnd(2), store.TrialCursor{}))
	diff(t, "TrialsEnding of a reversed window", []string(nil), trialIDs(t, s, trialEnd(3), trialEnd(1), store.TrialCursor{}))
	diff(t, "TrialsEnding of one instant", []string{"a-mid", "b-mid", "c-mid"},
		trialIDs(t, s, trialEnd(2), trialEnd(2).Add(time.Microsecond), store.TrialCursor{}))
	// Bounds in another zone are the same instants.
	loc := time.FixedZone("UTC-7", -7*3600)
	diff(t, "TrialsEnding with bounds in another zone", []string{"a-mid", "b-mid", "c-mid"},
		trialIDs(t, s, trialEnd(2).In(loc), trialEnd(2).Add(time.Microsecond).In(loc), store.TrialCursor{}))
}

func testTrialCursor(t *testing.T, s store.Store) {
	createTrials(t, s, map[string]time.Time{
		"a": trialEnd(1), "b": trialEnd(2), "c": trialEnd(2), "d": trialEnd(2), "e": trialEnd(3), "z": {},
	})
	from, to := trialEnd(0), trialEnd(10)
	for _, c := range []struct {
		after store.TrialCursor
		want  []string
	}{
		{store.TrialCursor{}, []string{"a", "b", "c", "d", "e"}},
		{store.TrialCursor{EndsAt: trialEnd(1), ID: "a"}, []string{"b", "c", "d", "e"}},
		{store.TrialCursor{EndsAt: trialEnd(2), ID: "b"}, []string{"c", "d", "e"}},
		{store.TrialCursor{EndsAt: trialEnd(2), ID: "c"}, []string{"d", "e"}},
		{store.TrialCursor{EndsAt: trialEnd(2), ID: "d"}, []string{"e"}},
		{store.TrialCursor{EndsAt: trialEnd(3), ID: "e"}, nil},
		// A cursor need not name a listed organization: it is a point of
		// the order.
		{store.TrialCursor{EndsAt: trialEnd(2), ID: "bb"}, []string{"c", "d", "e"}},
		{store.TrialCursor{EndsAt: trialEnd(2), ID: "zz"}, []string{"e"}},
		{store.TrialCursor{EndsAt: trialEnd(1), ID: "zz"}, []string{"b", "c", "d", "e"}},
		{store.TrialCursor{EndsAt: trialEnd(2)}, []string{"b", "c", "d", "e"}},
		{store.TrialCursor{EndsAt: trialEnd(20), ID: "a"}, nil},
	} {
		diff(t, fmt.Sprintf("TrialsEnding after %v %q", c.after.EndsAt, c.after.ID), c.want, trialIDs(t, s, from, to, c.after))
	}
	// Paging by the last one seen lists each once.
	var paged []string
	cur := store.TrialCursor{}
	for range 10 {
		var page []org.Organization
		for o, err := range store.TrialsEnding(t.Context(), s, from, to, cur) {
			must(t, err)
			page = append(page, o)
			if len(page) == 2 {
				break
			}
		}
		if len(page) == 0 {
			break
		}
		for _, o := range page {
			paged = append(paged, o.ID)
		}
		last := page[len(page)-1]
		cur = store.TrialCursor{EndsAt: last.TrialEndsAt, ID: last.ID}
	}
	diff(t, "TrialsEnding paged by twos", []string{"a", "b", "c", "d", "e"}, paged)
}

// testTrialPages lists more trials than a page of a store that reads
// listings by pages of 256, some sharing an end, between organizations
// without trials.
func testTrialPages(t *testing.T, s store.Store) {
	const n = 300
	ends := map[string]time.Time{}
	var want []string
	for i := range n {
		id := fmt.Sprintf("org-%03d", i)
		// Ten organizations share each end; the IDs of one end are not
		// those of the next in order.
		ends[id] = trialEnd(100 - i/10)
		if i%7 == 0 {
			ends[fmt.Sprintf("plain-%03d", i)] = time.Time{}
		}
	}
	for h := 100 - (n-1)/10; h <= 100; h++ {
		for i := range n {
			if i/10 == 100-h {
				want = append(want, fmt.Sprintf("org-%03d", i))
			}
		}
	}
	createTrials(t, s, ends)
	got := trials(t, s, everyTrialFrom, everyTrialTo, store.TrialCursor{})
	diff(t, "TrialsEnding of 300 trials", want, keys(got, func(o org.Organization) string { return o.ID }))
	for i, o := range got {
		if !o.TrialEndsAt.Equal(ends[o.ID]) || o.TrialEdition != "enterprise" {
			t.Errorf("TrialsEnding #%d: %s ends %v on %q, want %v on enterprise", i, o.ID, o.TrialEndsAt, o.TrialEdition, ends[o.ID])
		}
	}
	// From a cursor in the middle: the rest, across the page boundary.
	if len(got) == n {
		mid := got[27]
		diff(t, "TrialsEnding after the 28th", want[28:],
			trialIDs(t, s, everyTrialFrom, everyTrialTo, store.TrialCursor{EndsAt: mid.TrialEndsAt, ID: mid.ID}))
	}
}

func testTrialListingDeleted(t *testing.T, s store.Store) {
	createTrials(t, s, map[string]time.Time{"a": trialEnd(1), "b": trialEnd(2), "c": trialEnd(3)})
	seed(t, s, "d")
	update(t, s, "d", func(ctx context.Context, tx store.Tx) error {
		return tx.UpdateOrganization(ctx, onTrial("d", trialEnd(4)))
	})
	diff(t, "TrialsEnding", []string{"a", "b", "c", "d"}, trialIDs(t, s, everyTrialFrom, everyTrialTo, store.TrialCursor{}))
	update(t, s, "b", func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
	update(t, s, "d", func(ctx context.Context, tx store.Tx) error { return tx.DeleteOrganization(ctx) })
	update(t, s, "c", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, newOrg("c")) })
	diff(t, "TrialsEnding after deletes and a cleared trial", []string{"a"}, trialIDs(t, s, everyTrialFrom, everyTrialTo, store.TrialCursor{}))
	// Deleted and created again without a trial, in one Update.
	update(t, s, "a", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.DeleteOrganization(ctx))
		return tx.CreateOrganization(ctx, newOrg("a"))
	})
	diff(t, "TrialsEnding after a recreate without a trial", []string(nil), trialIDs(t, s, everyTrialFrom, everyTrialTo, store.TrialCursor{}))
	// Archived organizations are listed: the store does not judge.
	archived := onTrial("e", trialEnd(5))
	archived.Archived = true
	update(t, s, "e", func(ctx context.Context, tx store.Tx) error { return tx.CreateOrganization(ctx, archived) })
	diff(t, "TrialsEnding of an archived organization", []string{"e"}, trialIDs(t, s, everyTrialFrom, everyTrialTo, store.TrialCursor{}))
}

func testTrialListingCommitted(t *testing.T, s store.Store) {
	createTrials(t, s, map[string]time.Time{"a": trialEnd(1), "b": {}})
	update(t, s, "b", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateOrganization(ctx, onTrial("b", trialEnd(2))))
		diff(t, "TrialsEnding during the Update that starts a trial", []string{"a"},
			trialIDs(t, s, everyTrialFrom, everyTrialTo, store.TrialCursor{}))
		return nil
	})
	diff(t, "TrialsEnding after it", []string{"a", "b"}, trialIDs(t, s, everyTrialFrom, everyTrialTo, store.TrialCursor{}))
	err := s.Update(t.Context(), "a", func(ctx context.Context, tx store.Tx) error {
		must(t, tx.UpdateOrganization(ctx, newOrg("a")))
		return errBoom
	})
	if err != errBoom {
		t.Errorf("Update returned %v, want its function's error", err)
	}
	diff(t, "TrialsEnding after a failed Update that ended a trial", []string{"a", "b"},
		trialIDs(t, s, everyTrialFrom, everyTrialTo, store.TrialCursor{}))
}

// errBoom is the error of a failed function.
var errBoom = errors.New("boom")

// testTrialRollback checks that a failed Update that ends a trial and
// changes members leaves everything as it was, the trial included.
func testTrialRollback(t *testing.T, s store.Store) {
	seed(t, s, "acme")
	o := onTrial("acme", trialEnd(5))
	update(t, s, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, o) })
	wantTrialAccess(t, "on trial", s, o)
	before := snapshot(t, s, "acme")
	for _, f := range failures() {
		f.run(t, s, "acme", func(ctx context.Context, tx store.Tx) {
			must(t, tx.UpdateOrganization(ctx, newOrg("acme")))
			must(t, tx.UpdateMember(ctx, newMember("bob", "admin")))
			must(t, tx.AddMember(ctx, newMember("dave", "member")))
		})
		diff(t, f.name+": organization after the failed Update", before, snapshot(t, s, "acme"))
		wantTrialAccess(t, f.name+": after the failed Update", s, o)
	}
}
