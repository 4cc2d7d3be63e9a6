package memstore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
	"github.com/orgauthz/orgauthz/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}

// seed creates organization id with members m0..m(n-1).
func seed(t testing.TB, s *memstore.Store, id string, n int) {
	t.Helper()
	err := s.Update(context.Background(), id, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, org.Organization{ID: id, Name: id, Scheme: "s", Edition: "e"}); err != nil {
			return err
		}
		for i := range n {
			if err := tx.AddMember(ctx, org.Member{PrincipalID: fmt.Sprint("m", i), Kind: org.User, Role: "member"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// key returns API key id of principal owner, with a 32-byte hash and the
// given scope.
func key(id, owner string, scope ...role.Capability) apikey.Key {
	h := sha256.Sum256([]byte(id))
	return apikey.Key{ID: id, Name: id, OwnerID: owner, Scope: scope, Hash: h[:], ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// seedKeys gives organization id, seeded with at least n members, the
// keys id-key-0..id-key-(n-1), key i of member m<i>, the odd ones with a
// scope of two capabilities.
func seedKeys(t testing.TB, s *memstore.Store, id string, n int) {
	t.Helper()
	err := s.Update(context.Background(), id, func(ctx context.Context, tx store.Tx) error {
		for i := range n {
			var scope []role.Capability
			if i%2 == 1 {
				scope = []role.Capability{"doc:read", "doc:write"}
			}
			if err := tx.CreateAPIKey(ctx, key(fmt.Sprint(id, "-key-", i), fmt.Sprint("m", i), scope...)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Close does not wait for a running Update: the Tx's methods fail from
// then on, and the Update commits nothing.
func TestCloseDuringUpdate(t *testing.T) {
	s := memstore.New()
	seed(t, s, "acme", 1)
	err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		if err := tx.RemoveMember(ctx, "m0"); err != nil {
			return err
		}
		if err := s.Close(); err != nil {
			return err
		}
		if _, err := tx.Member(ctx, "m0"); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Member after Close: %v, want ErrClosed", err)
		}
		if err := tx.AddMember(ctx, org.Member{PrincipalID: "x"}); !errors.Is(err, store.ErrClosed) {
			t.Errorf("AddMember after Close: %v, want ErrClosed", err)
		}
		for _, err := range tx.Members(ctx, "") {
			if !errors.Is(err, store.ErrClosed) {
				t.Errorf("Members after Close: %v, want ErrClosed", err)
			}
		}
		return nil // the function does not notice
	})
	if !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update during which the store was closed returned %v, want ErrClosed", err)
	}
}

// An Update that created invitations when the store was closed commits
// none of them, and its reservations go with the store.
func TestCloseDuringUpdateWithInvitations(t *testing.T) {
	s := memstore.New()
	seed(t, s, "acme", 0)
	err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateInvitation(ctx, invite.Invitation{ID: "i1", Email: "a@example.com", Status: invite.Pending}); err != nil {
			return err
		}
		if err := tx.DeleteOrganization(ctx); err != nil {
			return err
		}
		_ = s.Close()
		if err := tx.CreateInvitation(ctx, invite.Invitation{ID: "i2"}); !errors.Is(err, store.ErrClosed) {
			t.Errorf("CreateInvitation after Close: %v, want ErrClosed", err)
		}
		if _, err := tx.Invitation(ctx, "i1"); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Invitation after Close: %v, want ErrClosed", err)
		}
		return nil
	})
	if !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update during which the store was closed returned %v, want ErrClosed", err)
	}
	if _, err := s.InvitationToken(t.Context(), "i1"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("InvitationToken after Close: %v, want ErrClosed", err)
	}
}

// An Update that created API keys when the store was closed commits none
// of them, and KeyAccess and TouchAPIKey fail with ErrClosed.
func TestCloseDuringUpdateWithKeys(t *testing.T) {
	s := memstore.New()
	seed(t, s, "acme", 1)
	seedKeys(t, s, "acme", 1)
	err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateAPIKey(ctx, key("k1", "m0")); err != nil {
			return err
		}
		if err := tx.DeleteOrganization(ctx); err != nil {
			return err
		}
		_ = s.Close()
		if err := tx.CreateAPIKey(ctx, key("k2", "m0")); !errors.Is(err, store.ErrClosed) {
			t.Errorf("CreateAPIKey after Close: %v, want ErrClosed", err)
		}
		if err := tx.UpdateAPIKey(ctx, key("k1", "m0")); !errors.Is(err, store.ErrClosed) {
			t.Errorf("UpdateAPIKey after Close: %v, want ErrClosed", err)
		}
		if _, err := tx.APIKey(ctx, "k1"); !errors.Is(err, store.ErrClosed) {
			t.Errorf("APIKey after Close: %v, want ErrClosed", err)
		}
		for _, err := range tx.APIKeys(ctx, "", "") {
			if !errors.Is(err, store.ErrClosed) {
				t.Errorf("APIKeys after Close: %v, want ErrClosed", err)
			}
		}
		return nil
	})
	if !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update during which the store was closed returned %v, want ErrClosed", err)
	}
	for _, id := range []string{"k1", "acme-key-0"} {
		if _, err := s.KeyAccess(t.Context(), id); !errors.Is(err, store.ErrClosed) {
			t.Errorf("KeyAccess(%s) after Close: %v, want ErrClosed", id, err)
		}
		if err := s.TouchAPIKey(t.Context(), id, time.Now()); !errors.Is(err, store.ErrClosed) {
			t.Errorf("TouchAPIKey(%s) after Close: %v, want ErrClosed", id, err)
		}
	}
}

// CreateAPIKey reserves its ID store-wide, as CreateInvitation does: an
// Update of another organization creating the same ID meanwhile fails at
// once with ErrExists, while KeyAccess and TouchAPIKey answer at once that
// there is no such key (they do not wait for the Update), and the ID is
// free again once the reserving Update has failed. The invitation space
// is another: an invitation may have the ID meanwhile.
func TestAPIKeyIDReservedUntilTheUpdateEnds(t *testing.T) {
	s := memstore.New()
	seed(t, s, "a", 1)
	seed(t, s, "b", 1)
	create := func(orgID, id string) error {
		return s.Update(t.Context(), orgID, func(ctx context.Context, tx store.Tx) error {
			return tx.CreateAPIKey(ctx, key(id, "m0"))
		})
	}
	boom := errors.New("boom")
	err := s.Update(t.Context(), "a", func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateAPIKey(ctx, key("x", "m0")); err != nil {
			return err
		}
		if err := create("b", "x"); !errors.Is(err, store.ErrExists) {
			t.Errorf("creating an ID another organization's running Update reserved: %v, want ErrExists", err)
		}
		err := s.Update(ctx, "b", func(ctx context.Context, tx store.Tx) error {
			return tx.CreateInvitation(ctx, invite.Invitation{ID: "x", Status: invite.Pending})
		})
		if err != nil {
			t.Errorf("creating an invitation with the ID of a reserved key: %v", err)
		}
		// These do not wait for this Update: a reservation is no key.
		answers := make(chan error, 2)
		go func() {
			_, err := s.KeyAccess(ctx, "x")
			answers <- err
			answers <- s.TouchAPIKey(ctx, "x", time.Now())
		}()
		for _, what := range []string{"KeyAccess", "TouchAPIKey"} {
			select {
			case err := <-answers:
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s of a reserved ID: %v, want ErrNotFound", what, err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("%s of a reserved ID waits for the Update that reserved it", what)
				return boom
			}
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update returned %v", err)
	}
	if err := create("b", "x"); err != nil {
		t.Errorf("creating an ID whose reserving Update failed: %v", err)
	}
	if a, err := s.KeyAccess(t.Context(), "x"); err != nil || a.OrgID != "b" {
		t.Errorf("KeyAccess: %+v, %v; want b's", a, err)
	}
}

// TouchAPIKey is a write: it waits for a running Update of the key's
// organization, and its time is applied after the Update's changes.
func TestTouchAPIKeyWaitsForUpdate(t *testing.T) {
	s := memstore.New()
	seed(t, s, "acme", 1)
	seedKeys(t, s, "acme", 1)
	early, late := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	touched := make(chan error, 1)
	var touchErr error
	returned := false
	err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		k, err := tx.APIKey(ctx, "acme-key-0")
		if err != nil {
			return err
		}
		go func() { touched <- s.TouchAPIKey(context.Background(), "acme-key-0", late) }()
		select {
		case touchErr = <-touched:
			returned = true
			t.Errorf("TouchAPIKey returned %v while an Update of the key's organization was running", touchErr)
		case <-time.After(50 * time.Millisecond):
		}
		k.LastUsedAt = early
		return tx.UpdateAPIKey(ctx, k)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !returned {
		touchErr = <-touched
	}
	if touchErr != nil {
		t.Fatalf("TouchAPIKey: %v", touchErr)
	}
	a, err := s.KeyAccess(t.Context(), "acme-key-0")
	if err != nil || !a.LastUsedAt.Equal(late) {
		t.Errorf("KeyAccess after the Update and the touch: %v, %v; want LastUsedAt %v", a.LastUsedAt, err, late)
	}
}

// KeyAccess returns the hash as [32]byte: a stored hash of another length
// is an error (not ErrNotFound), never truncated or padded.
func TestKeyAccessHashNot32Bytes(t *testing.T) {
	s := memstore.New()
	seed(t, s, "acme", 1)
	hashes := map[string][]byte{"nil": nil, "31": make([]byte, 31), "33": make([]byte, 33), "64": make([]byte, 64)}
	err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		for id, h := range hashes {
			k := key(id, "m0")
			k.Hash = h
			if err := tx.CreateAPIKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range hashes {
		a, err := s.KeyAccess(t.Context(), id)
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("KeyAccess of a key whose hash is %s bytes: %+v, %v; want an error that is not ErrNotFound", id, a, err)
		}
	}
}

func TestKeyAccessAllocations(t *testing.T) {
	s := memstore.New()
	seed(t, s, "acme", 100)
	seedKeys(t, s, "acme", 100)
	ctx := context.Background()
	for _, c := range []struct {
		id   string
		want float64
	}{
		{"acme-key-42", 0}, // no scope
		{"acme-key-43", 1}, // the copy of its scope
	} {
		allocs := testing.AllocsPerRun(1000, func() {
			if _, err := s.KeyAccess(ctx, c.id); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != c.want {
			t.Errorf("KeyAccess(%s) allocates %v times per call, want %v", c.id, allocs, c.want)
		}
	}
}

// CreateInvitation reserves its ID store-wide: an Update of another
// organization creating the same ID meanwhile fails at once with
// ErrExists, even though InvitationToken does not report the
// reservation, and even if the reserving Update then fails. Once it has
// failed, the ID is free.
func TestInvitationIDReservedUntilTheUpdateEnds(t *testing.T) {
	s := memstore.New()
	seed(t, s, "a", 0)
	seed(t, s, "b", 0)
	create := func(orgID, id string) error {
		return s.Update(t.Context(), orgID, func(ctx context.Context, tx store.Tx) error {
			return tx.CreateInvitation(ctx, invite.Invitation{ID: id, Email: orgID + "@example.com", Status: invite.Pending})
		})
	}
	boom := errors.New("boom")
	err := s.Update(t.Context(), "a", func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateInvitation(ctx, invite.Invitation{ID: "x", Status: invite.Pending}); err != nil {
			return err
		}
		if err := create("b", "x"); !errors.Is(err, store.ErrExists) {
			t.Errorf("creating an ID another organization's running Update reserved: %v, want ErrExists", err)
		}
		if _, err := s.InvitationToken(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("InvitationToken of a reserved ID: %v, want ErrNotFound", err)
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update returned %v", err)
	}
	if err := create("b", "x"); err != nil {
		t.Errorf("creating an ID whose reserving Update failed: %v", err)
	}
	if got, err := s.InvitationToken(t.Context(), "x"); got.OrgID != "b" || err != nil {
		t.Errorf("InvitationToken: %+v, %v; want b", got, err)
	}
}

// A View running when the store is closed fails from then on too.
func TestCloseDuringView(t *testing.T) {
	s := memstore.New()
	seed(t, s, "acme", 1)
	err := s.View(t.Context(), "acme", func(ctx context.Context, r store.Reader) error {
		if _, err := r.Member(ctx, "m0"); err != nil {
			return err
		}
		_ = s.Close()
		_, err := r.Member(ctx, "m0")
		return err
	})
	if !errors.Is(err, store.ErrClosed) {
		t.Errorf("View during which the store was closed returned %v, want ErrClosed", err)
	}
}

// A Tx or Reader kept past its function fails with ErrClosed, and so do
// listings ranged over after it.
func TestTxUsedAfterItsFunction(t *testing.T) {
	s := memstore.New()
	seed(t, s, "acme", 2)
	var kept store.Tx
	var members func(func(org.Member, error) bool)
	if err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		kept = tx
		members = tx.Members(ctx, "")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := kept.AddMember(t.Context(), org.Member{PrincipalID: "late"}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("AddMember of a Tx after its function: %v, want ErrClosed", err)
	}
	for _, err := range members {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("listing of a Tx after its function: %v, want ErrClosed", err)
		}
	}
	var keptR store.Reader
	if err := s.View(t.Context(), "acme", func(ctx context.Context, r store.Reader) error { keptR = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := keptR.Member(t.Context(), "m0"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Member of a Reader after its function: %v, want ErrClosed", err)
	}
}

// A listing may run while its own Tx changes what it lists: it lists every
// key past the last one it yielded, as things stand when it gets there.
func TestListingWhileChanging(t *testing.T) {
	s := memstore.New()
	const n = 3000 // several chunks
	seed(t, s, "acme", n)
	err := s.Update(t.Context(), "acme", func(ctx context.Context, tx store.Tx) error {
		seen := 0
		last := ""
		for m, err := range tx.Members(ctx, "") {
			if err != nil {
				return err
			}
			if m.PrincipalID <= last {
				return fmt.Errorf("listed %s after %s", m.PrincipalID, last)
			}
			last = m.PrincipalID
			seen++
			// Remove what was listed and add keys behind and ahead.
			if err := tx.RemoveMember(ctx, m.PrincipalID); err != nil {
				return err
			}
			if seen%100 == 0 {
				if err := tx.AddMember(ctx, org.Member{PrincipalID: "a-behind-" + m.PrincipalID}); err != nil {
					return err
				}
				if err := tx.AddMember(ctx, org.Member{PrincipalID: m.PrincipalID + "~ahead"}); err != nil {
					return err
				}
			}
		}
		if want := n + n/100; seen != want {
			return fmt.Errorf("listed %d members, want the %d there were and the %d added ahead", seen, n, n/100)
		}
		c, err := tx.Counts(ctx)
		if err != nil {
			return err
		}
		if c.Members != n/100 {
			return fmt.Errorf("%d members left, want the %d added behind", c.Members, n/100)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAccessDoesNotAllocate(t *testing.T) {
	s := memstore.New()
	seed(t, s, "acme", 100)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := s.Access(ctx, "acme", "m42"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Access allocates %v times per call, want 0", allocs)
	}
}

// TestAccessOfATrial checks how the index of access treats an
// organization on trial: its members have no packed entry (Code 0, the
// trial read under the organization's lock, still without allocating),
// and have one again, with a code, once the trial is cleared; the
// members of other organizations keep theirs throughout.
func TestAccessOfATrial(t *testing.T) {
	s := memstore.New()
	seed(t, s, "acme", 10)
	seed(t, s, "globex", 10)
	ctx := context.Background()
	access := func(orgID string) store.Access {
		t.Helper()
		a, err := s.Access(ctx, orgID, "m3")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	base := access("acme")
	if base.Code == 0 || base.TrialEdition != "" {
		t.Fatalf("Access without a trial: %+v, want a code and no trial", base)
	}
	ends := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	setOrg := func(o org.Organization) {
		t.Helper()
		if err := s.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error { return tx.UpdateOrganization(ctx, o) }); err != nil {
			t.Fatal(err)
		}
	}
	setOrg(org.Organization{ID: "acme", Name: "acme", Scheme: "s", Edition: "e", TrialEdition: "trial", TrialEndsAt: ends})
	a := access("acme")
	want := store.Access{Scheme: "s", Edition: "e", TrialEdition: "trial", TrialEndsAt: ends, Role: "member", Kind: org.User}
	if a != want {
		t.Errorf("Access on trial: %+v, want %+v", a, want)
	}
	if allocs := testing.AllocsPerRun(1000, func() { access("acme") }); allocs != 0 {
		t.Errorf("Access on trial allocates %v times per call, want 0", allocs)
	}
	if g := access("globex"); g.Code != base.Code {
		t.Errorf("Access of another organization's member during a trial: code %#x, want %#x", g.Code, base.Code)
	}
	// Only the trial's end changes: still no entry.
	setOrg(org.Organization{ID: "acme", Name: "acme", Scheme: "s", Edition: "e", TrialEdition: "trial", TrialEndsAt: ends.Add(time.Hour)})
	if a := access("acme"); a.Code != 0 || !a.TrialEndsAt.Equal(ends.Add(time.Hour)) {
		t.Errorf("Access after the trial's end moved: %+v", a)
	}
	setOrg(org.Organization{ID: "acme", Name: "acme", Scheme: "s", Edition: "e"})
	if a := access("acme"); a != base {
		t.Errorf("Access after the trial: %+v, want %+v (packed again, with its code)", a, base)
	}
}

// memberBytes builds orgs organizations of perOrg members each and returns
// the heap bytes per member they take, all indexes included. Principal IDs
// are made once, outside the measure, as a host's would be: the store
// shares their strings, so they are not counted (the root package's
// BenchmarkMemoryPerMember makes them inside its measure, and counts 16
// more bytes per member for them). The figure depends on the scale: the
// hash tables grow in steps, so the bytes per member at 100,000 members
// (TestMemoryPerMember) and at 1,000,000 (BenchmarkMemoryPerMember)
// differ.
func memberBytes(tb testing.TB, orgs, perOrg int) float64 {
	tb.Helper()
	ctx := context.Background()
	ids := make([]string, orgs*perOrg)
	for i := range ids {
		ids[i] = fmt.Sprintf("user-%08d", i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := memstore.New()
	joined := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	for o := range orgs {
		orgID := fmt.Sprintf("org-%06d", o)
		err := s.Update(ctx, orgID, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateOrganization(ctx, org.Organization{ID: orgID, Name: orgID, Scheme: "scheme", Edition: "pro", CreatedAt: joined}); err != nil {
				return err
			}
			for i, id := range ids[o*perOrg : (o+1)*perOrg] {
				r := "member"
				if i == 0 {
					r = "admin"
				}
				if err := tx.AddMember(ctx, org.Member{PrincipalID: id, Kind: org.User, Role: r, JoinedAt: joined}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	runtime.KeepAlive(ids)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(orgs*perOrg)
}

// TestMemoryPerMember keeps the footprint of members in check, at a tenth
// of the scale BenchmarkMemoryPerMember reports.
func TestMemoryPerMember(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures memory: not in -short mode or under the race detector")
	}
	const limit = 300
	if b := memberBytes(t, 10_000, 10); b > limit {
		t.Errorf("%.0f bytes per member at 100,000 members in 10,000 organizations, want at most %d", b, limit)
	} else {
		t.Logf("%.0f bytes per member", b)
	}
}

// BenchmarkMemoryPerMember reports the heap bytes per member of a million
// members spread over 100,000 organizations, all indexes included.
func BenchmarkMemoryPerMember(b *testing.B) {
	var per float64
	for range b.N {
		per = memberBytes(b, 100_000, 10)
	}
	b.ReportMetric(per, "B/member")
}

// BenchmarkAccess measures the hot path of permission checks: an
// organization among 10,000, a member among 100.
func BenchmarkAccess(b *testing.B) {
	s := memstore.New()
	for o := range 10_000 {
		seed(b, s, fmt.Sprint("org-", o), 100)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Access(ctx, "org-4242", "m42"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyAccess measures the hot path of authentication: a key among
// 100,000, in an organization among 10,000, its owner a member among 100;
// a key without a scope, and one with a scope of two capabilities (whose
// copy is the one allocation).
func BenchmarkKeyAccess(b *testing.B) {
	s := memstore.New()
	for o := range 10_000 {
		id := fmt.Sprint("org-", o)
		seed(b, s, id, 100)
		seedKeys(b, s, id, 10)
	}
	ctx := context.Background()
	for _, c := range []struct{ name, id string }{{"NoScope", "org-4242-key-4"}, {"Scope", "org-4242-key-5"}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.KeyAccess(ctx, c.id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKeyAccessParallel is BenchmarkKeyAccess (a key without a scope)
// from every core.
func BenchmarkKeyAccessParallel(b *testing.B) {
	s := memstore.New()
	for o := range 1000 {
		id := fmt.Sprint("org-", o)
		seed(b, s, id, 100)
		seedKeys(b, s, id, 10)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := s.KeyAccess(ctx, "org-42-key-4"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTouchAPIKey measures recording a key's use, a write under the
// organization's lock.
func BenchmarkTouchAPIKey(b *testing.B) {
	s := memstore.New()
	seed(b, s, "acme", 100)
	seedKeys(b, s, "acme", 10)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.TouchAPIKey(ctx, "acme-key-3", t0.Add(time.Duration(i)*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccessParallel is BenchmarkAccess from every core, with an
// Update of another organization now and then.
func BenchmarkAccessParallel(b *testing.B) {
	s := memstore.New()
	for o := range 1000 {
		seed(b, s, fmt.Sprint("org-", o), 100)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := s.Access(ctx, "org-42", "m42"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUpdate measures a small Update (one role change with its audit
// event) in an organization of 100,000 members.
func BenchmarkUpdate(b *testing.B) {
	s := memstore.New()
	seed(b, s, "big", 100_000)
	ctx := context.Background()
	roles := []string{"admin", "member"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		err := s.Update(ctx, "big", func(ctx context.Context, tx store.Tx) error {
			if err := tx.UpdateMember(ctx, org.Member{PrincipalID: "m500", Role: roles[i%2]}); err != nil {
				return err
			}
			_, err := tx.AppendAudit(ctx, org.AuditEvent{Actor: "a", Action: "member.role.change"})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMembersPage measures one page of 100 members, after a key, in
// an organization of 100,000 members.
func BenchmarkMembersPage(b *testing.B) {
	s := memstore.New()
	seed(b, s, "big", 100_000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		err := s.View(ctx, "big", func(ctx context.Context, r store.Reader) error {
			n := 0
			for _, err := range r.Members(ctx, "m5") {
				if err != nil {
					return err
				}
				if n++; n == 100 {
					break
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func TestZeroValueStore(t *testing.T) {
	var s memstore.Store
	if _, err := s.Access(t.Context(), "acme", "m0"); !errors.Is(err, store.ErrOrganizationNotFound) {
		t.Errorf("Access on an empty zero Store: %v", err)
	}
	if _, err := s.KeyAccess(t.Context(), "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("KeyAccess on an empty zero Store: %v", err)
	}
	if err := s.TouchAPIKey(t.Context(), "k", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchAPIKey on an empty zero Store: %v", err)
	}
	seed(t, &s, "acme", 1)
	if _, err := s.Access(t.Context(), "acme", "m0"); err != nil {
		t.Errorf("Access: %v", err)
	}
	seedKeys(t, &s, "acme", 1)
	if a, err := s.KeyAccess(t.Context(), "acme-key-0"); err != nil || !a.OwnerFound {
		t.Errorf("KeyAccess: %+v, %v", a, err)
	}
}

// TestAccessDenialsDoNotAllocate: a check of a non-member or of an unknown
// organization costs no allocation either.
func TestAccessDenialsDoNotAllocate(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	ctx := context.Background()
	if err := s.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
		return tx.CreateOrganization(ctx, org.Organization{ID: "acme", Name: "Acme", Scheme: "s", Edition: "e"})
	}); err != nil {
		t.Fatal(err)
	}
	for name, orgID := range map[string]string{"not a member": "acme", "unknown organization": "nope"} {
		n := testing.AllocsPerRun(100, func() {
			if _, err := s.Access(ctx, orgID, "ghost"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: %v", name, err)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per Access, want 0", name, n)
		}
	}
}

// TestLookupsBeforeTheSecretDoNotAllocate: KeyAccess of an unknown key and
// InvitationToken of a known or an unknown invitation allocate nothing, as
// KeyAccess of a known key without a scope does, so that the time a
// refusal of a forged credential takes does not tell whether its ID
// exists.
func TestLookupsBeforeTheSecretDoNotAllocate(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	seed(t, s, "acme", 1)
	seedKeys(t, s, "acme", 1)
	ctx := context.Background()
	hash := sha256.Sum256([]byte("a secret"))
	if err := s.Update(ctx, "acme", func(ctx context.Context, tx store.Tx) error {
		return tx.CreateInvitation(ctx, invite.Invitation{ID: "inv-1", Email: "a@example.com", Status: invite.Pending, TokenHash: hash[:]})
	}); err != nil {
		t.Fatal(err)
	}
	if it, err := s.InvitationToken(ctx, "inv-1"); err != nil || it != (store.InvitationToken{OrgID: "acme", Hash: hash, HashOK: true}) {
		t.Fatalf("InvitationToken: %+v, %v", it, err)
	}
	for _, c := range []struct {
		name  string
		found bool
		call  func() error
	}{
		{"KeyAccess of a known key", true, func() error { _, err := s.KeyAccess(ctx, "acme-key-0"); return err }},
		{"KeyAccess of an unknown key", false, func() error { _, err := s.KeyAccess(ctx, "nope"); return err }},
		{"InvitationToken of a known invitation", true, func() error { _, err := s.InvitationToken(ctx, "inv-1"); return err }},
		{"InvitationToken of an unknown invitation", false, func() error { _, err := s.InvitationToken(ctx, "nope"); return err }},
	} {
		n := testing.AllocsPerRun(100, func() {
			if err := c.call(); c.found && err != nil || !c.found && err != store.ErrNotFound {
				t.Fatalf("%s: %v", c.name, err)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", c.name, n)
		}
	}
}

// TestAccessFlipsAreNeverTorn: while writers move a member between two
// organizations, as two entries of the index of access whose words differ
// in every field (scheme, edition, archived flag, role, kind, external
// flag), and add and remove other members around it (so that its entries
// move between slots, and the tables grow and shrink), every Access of
// many readers answers exactly one of the states committed: the member's
// entry in that organization, or no member. A reader that mixed a slot's
// word with another key would answer a state that never was.
// TestAccessIndexTornRead (in indexes_test.go) stops a reader at that
// moment on purpose; this one runs the index as a service would, and
// under the race detector.
func TestAccessFlipsAreNeverTorn(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	ctx := context.Background()
	// Organization IDs as the service makes them; a principal ID of a
	// UUID's length.
	orgA, orgB := "ioi2ntf4nzdnv6mkl7ytrcjhfe", "b7xq4kzv2m3nwr5tyu6pa7ldse"
	const p = "6f1c2b0e-7d3a-4c55-9e21-0b8f4a6d2c17"
	inA := org.Member{PrincipalID: p, Kind: org.User, Role: "viewer"}
	inB := org.Member{PrincipalID: p, Kind: org.ServicePrincipal, Role: "owner", External: true}
	want := map[string]store.Access{
		orgA: {Scheme: "s1", Edition: "free", Role: "viewer", Kind: org.User},
		orgB: {Scheme: "s2", Edition: "pro", Archived: true, Role: "owner", Kind: org.ServicePrincipal, External: true},
	}
	for id, a := range want {
		err := s.Update(ctx, id, func(ctx context.Context, tx store.Tx) error {
			return tx.CreateOrganization(ctx, org.Organization{ID: id, Name: id, Scheme: a.Scheme, Edition: a.Edition, Archived: a.Archived})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	update := func(id string, fn func(ctx context.Context, tx store.Tx) error) {
		if err := s.Update(ctx, id, fn); err != nil {
			t.Error(err)
		}
	}
	flips, churns := 20_000, 200
	if raceEnabled || testing.Short() {
		flips, churns = 2_000, 20
	}
	churner := func(i int) string { return fmt.Sprintf("%08d-0000-4000-8000-000000000000", i) }
	var writers sync.WaitGroup
	stop := make(chan struct{})
	writers.Go(func() {
		for range flips {
			update(orgA, func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, inA) })
			update(orgA, func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, p) })
			update(orgB, func(ctx context.Context, tx store.Tx) error { return tx.AddMember(ctx, inB) })
			update(orgB, func(ctx context.Context, tx store.Tx) error { return tx.RemoveMember(ctx, p) })
		}
	})
	writers.Go(func() {
		for n := 0; n < churns; n++ {
			for _, id := range []string{orgA, orgB} {
				update(id, func(ctx context.Context, tx store.Tx) error {
					for i := range 50 + n%200 {
						if err := tx.AddMember(ctx, org.Member{PrincipalID: churner(i), Kind: org.User, Role: "viewer"}); err != nil {
							return err
						}
					}
					return nil
				})
			}
			for _, id := range []string{orgA, orgB} {
				update(id, func(ctx context.Context, tx store.Tx) error {
					for i := range 50 + n%200 {
						if err := tx.RemoveMember(ctx, churner(i)); err != nil {
							return err
						}
					}
					return nil
				})
			}
		}
	})
	go func() { writers.Wait(); close(stop) }()
	var readers sync.WaitGroup
	var seen [2][2]atomic.Int64 // [organization][member or not]
	for r := range 4 {
		readers.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := orgA
				if (n+r)%2 == 1 {
					id = orgB
				}
				// IDs of the reader's own, as a request's are.
				a, err := s.Access(ctx, strings.Clone(id), strings.Clone(p))
				a.Code = 0 // the index gives codes, the lock none
				switch {
				case err == nil && a == want[id]:
					seen[(n+r)%2][0].Add(1)
				case errors.Is(err, store.ErrMemberNotFound) && a == store.Access{}:
					seen[(n+r)%2][1].Add(1)
				default:
					t.Errorf("Access(%q, %q) = %+v, %v; want %+v or ErrMemberNotFound", id, p, a, err, want[id])
					return
				}
			}
		})
	}
	readers.Wait()
	t.Logf("answers: %d of A, %d not in A, %d of B, %d not in B", seen[0][0].Load(), seen[0][1].Load(), seen[1][0].Load(), seen[1][1].Load())
	for i := range seen {
		if seen[i][0].Load() == 0 || seen[i][1].Load() == 0 {
			t.Errorf("organization %d: readers saw %d members and %d non-members; want both", i, seen[i][0].Load(), seen[i][1].Load())
		}
	}
}

// Access gives one (scheme, edition, role) one code, in every
// organization, and another triple another code.
func TestAccessCodes(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	ctx := context.Background()
	for _, o := range []struct{ id, edition string }{{"a", "e"}, {"b", "e"}, {"c", "f"}} {
		err := s.Update(ctx, o.id, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateOrganization(ctx, org.Organization{ID: o.id, Name: o.id, Scheme: "s", Edition: o.edition}); err != nil {
				return err
			}
			for _, m := range []org.Member{{PrincipalID: "u", Kind: org.User, Role: "member"}, {PrincipalID: "v", Kind: org.User, Role: "admin"}} {
				if err := tx.AddMember(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	code := func(o, p string) uint64 {
		t.Helper()
		a, err := s.Access(ctx, o, p)
		if err != nil {
			t.Fatal(err)
		}
		if a.Code == 0 {
			t.Fatalf("Access(%q, %q) gave no code", o, p)
		}
		return a.Code
	}
	au, bu, av, cu := code("a", "u"), code("b", "u"), code("a", "v"), code("c", "u")
	if au != bu {
		t.Errorf("one triple, two codes: %#x and %#x", au, bu)
	}
	if au == av || au == cu || av == cu {
		t.Errorf("codes of three triples: %#x, %#x, %#x", au, av, cu)
	}
	// A change of role gives the member the code of its new triple.
	err := s.Update(ctx, "a", func(ctx context.Context, tx store.Tx) error {
		m, err := tx.Member(ctx, "u")
		if err != nil {
			return err
		}
		m.Role = "admin"
		return tx.UpdateMember(ctx, m)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := code("a", "u"); got != av {
		t.Errorf("after the change to admin: code %#x, want %#x", got, av)
	}
}
