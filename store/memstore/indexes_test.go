package memstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// checkIndexes asserts that the store-wide indexes hold exactly what the
// organizations of s hold as committed, and keep their own invariants: a
// principal is in one or many, never both, and in many only with two
// organizations or more; every address entry has its reverse entry.
func checkIndexes(t *testing.T, s *Store) {
	t.Helper()
	wantM := map[string]map[*orgState]membership{}
	wantA := map[string]map[string]*orgState{}
	wantX := map[longKey]store.Access{}
	s.mu.RLock()
	for _, st := range s.orgs {
		st.mu.RLock()
		for p, m := range st.d.members {
			if o := st.d.rec; o != nil {
				wantX[longKey{st.id, p}] = store.Access{Scheme: o.Scheme, Edition: o.Edition, Archived: o.Archived, Role: interned.str(m.role), Kind: m.kind, External: m.external}
			}
			if text, ok := st.d.texts[p]; ok != m.texted || ok && text == (memberText{}) {
				t.Errorf("organization %q, member %q: texted %v, text %+v (in texts: %v)", st.id, p, m.texted, text, ok)
			}
			if wantM[p] == nil {
				wantM[p] = map[*orgState]membership{}
			}
			wantM[p][st] = newMembership(st, &m)
		}
		for id, inv := range st.d.invites {
			if inv.Status == invite.Pending {
				if wantA[inv.Email] == nil {
					wantA[inv.Email] = map[string]*orgState{}
				}
				wantA[inv.Email][id] = st
			}
		}
		for p := range st.d.texts {
			if _, ok := st.d.members[p]; !ok {
				t.Errorf("organization %q: text of %q, not a member", st.id, p)
			}
		}
		st.mu.RUnlock()
	}
	s.mu.RUnlock()

	// The index of access holds an entry for every member of an existing
	// organization, as it stands, under the key its IDs give it, and no
	// other.
	gotX := map[longKey]store.Access{}
	for i := range s.access.shards {
		sh := &s.access.shards[i]
		sh.mu.RLock()
		n := 0
		for j, sl := range sh.slots {
			if sl.w == 0 {
				continue
			}
			n++
			no, np := int(sl.w>>wOrgLen&(1<<wLenBits-1)), int(sl.w>>wPrincipalLen&(1<<wLenBits-1))
			var kb [inlineIDs]byte
			for i, w := range sl.k {
				binary.LittleEndian.PutUint64(kb[8*i:], w)
			}
			lk := longKey{string(kb[:no]), string(kb[no : no+np])}
			k, lens, ok := inlineKey(lk.org, lk.principal)
			h := hashKey(&k, lens)
			if !ok || k != sl.k || lens != sl.w&wLens || s.access.shard(h) != sh {
				t.Errorf("index of access: inline key %x is not the key of %q in its shard", sl.k, lk)
			}
			// Every slot from the key's first one to its own is used.
			for p := sh.home(h); p != j; p = (p + 1) % len(sh.slots) {
				if sh.slots[p].w == 0 {
					t.Errorf("index of access: key %q at slot %d past an empty one, %d", lk, j, p)
					break
				}
			}
			gotX[lk] = interned.access(sl.w)
		}
		if tab := sh.tab.Load(); len(sh.slots) > 0 && (tab == nil || len(*tab) != len(sh.slots) || &(*tab)[0] != &sh.slots[0]) {
			t.Errorf("index of access: shard %d: the table published is not the shard's", i)
		}
		if n != sh.n || n*maxLoadDen > len(sh.slots)*maxLoadNum {
			t.Errorf("index of access: shard %d holds %d entries in %d slots, counts %d", i, n, len(sh.slots), sh.n)
		}
		for lk, w := range sh.long {
			if _, _, ok := inlineKey(lk.org, lk.principal); ok || s.access.shard(maphash.Comparable(accessSeed, lk)) != sh {
				t.Errorf("index of access: long key %q fits inline or is not in its shard", lk)
			}
			gotX[lk] = interned.access(w)
		}
		sh.mu.RUnlock()
	}
	if !maps.Equal(gotX, wantX) {
		t.Errorf("index of access:\n got %v\nwant %v", gotX, wantX)
	}

	x := &s.memberships
	x.mu.RLock()
	gotM := map[string]map[*orgState]membership{}
	x.one.each(func(p string, e membership) {
		if x.many[p] != nil {
			t.Errorf("principal %q is in both one and many", p)
		}
		gotM[p] = map[*orgState]membership{e.st: e}
	})
	checkTable(t, &x.one)
	for p, set := range x.many {
		if set.len() < 2 {
			t.Errorf("principal %q is in many with %d organizations", p, set.len())
		}
		gotM[p] = map[*orgState]membership{}
		last := ""
		set.each(func(e membership) {
			if e.st.id <= last {
				t.Errorf("principal %q: organization %q after %q", p, e.st.id, last)
			}
			last = e.st.id
			gotM[p][e.st] = e
		})
	}
	x.mu.RUnlock()
	if fmt.Sprint(gotM) != fmt.Sprint(wantM) {
		t.Errorf("index of memberships:\n got %v\nwant %v", gotM, wantM)
	}

	a := &s.addresses
	a.mu.RLock()
	gotA := map[string]map[string]*orgState{}
	n := 0
	for email, set := range a.to {
		if set.len() == 0 {
			t.Errorf("address %q has an empty set", email)
		}
		gotA[email] = map[string]*orgState{}
		set.each(func(e addressed) {
			n++
			gotA[email][e.inv.ID] = e.st
			if a.at[e.inv.ID] != email || e.inv.Email != email || e.inv.Status != invite.Pending {
				t.Errorf("invitation %q under %q: reverse entry %q, record %+v", e.inv.ID, email, a.at[e.inv.ID], e.inv)
			}
			if got := e.st.d.invites[e.inv.ID]; len(got.TokenHash) > 0 && &got.TokenHash[0] != &e.inv.TokenHash[0] {
				// Shared with the committed record (no Update runs now).
				t.Errorf("invitation %q: entry's TokenHash is not the stored one's", e.inv.ID)
			}
		})
	}
	if len(a.at) != n {
		t.Errorf("index of addresses: %d reverse entries for %d entries", len(a.at), n)
	}
	a.mu.RUnlock()
	if fmt.Sprint(gotA) != fmt.Sprint(wantA) {
		t.Errorf("index of addresses:\n got %v\nwant %v", gotA, wantA)
	}
}

// TestIndexesFollowCommits drives random Updates, some failing, some
// deleting their organization, and checks after each that the
// store-wide indexes hold what the organizations hold; once every
// organization is deleted they are empty.
func TestIndexesFollowCommits(t *testing.T) {
	s := New()
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(1, 2))
	boom := errors.New("boom")
	orgs := []string{"a", "b", "c", "d"}
	// The last principal's key does not fit inline in the index of access.
	principals := []string{"p", "q", "r", "s", "t", "a-principal-whose-id-is-too-long-to-fit-inline"}
	editions := []string{"free", "pro"}
	emails := []string{"x@example.com", "y@example.com", "z@example.com"}
	statuses := []invite.Status{invite.Pending, invite.Pending, invite.Accepted, invite.Revoked, invite.Declined}
	nextInv := 0
	for step := range 3000 {
		orgID := orgs[rng.IntN(len(orgs))]
		err := s.Update(ctx, orgID, func(ctx context.Context, tx store.Tx) error {
			if _, err := tx.Organization(ctx); errors.Is(err, store.ErrNotFound) {
				if err := tx.CreateOrganization(ctx, org.Organization{ID: orgID, Name: orgID}); err != nil {
					return err
				}
			}
			for range 1 + rng.IntN(4) {
				p := principals[rng.IntN(len(principals))]
				m := org.Member{PrincipalID: p, Kind: org.User, Role: fmt.Sprint("r", step%3), External: rng.IntN(2) == 0, JoinedAt: time.UnixMicro(int64(step))}
				switch rng.IntN(4) {
				case 0:
					m.Name = "name of " + p
				case 1:
					m.Email = emails[rng.IntN(len(emails))]
				}
				var err error
				switch rng.IntN(11) {
				case 0, 1, 2:
					err = tx.AddMember(ctx, m)
				case 3, 4:
					err = tx.UpdateMember(ctx, m)
				case 5, 6:
					err = tx.RemoveMember(ctx, p)
				case 7:
					nextInv++
					err = tx.CreateInvitation(ctx, invite.Invitation{ID: fmt.Sprint("inv-", nextInv), Email: emails[rng.IntN(len(emails))], Status: statuses[rng.IntN(len(statuses))], TokenHash: []byte{byte(step)}})
				case 8:
					for inv, lerr := range tx.Invitations(ctx, "", false) {
						if lerr != nil {
							err = lerr
							break
						}
						if rng.IntN(3) == 0 {
							inv.Email = emails[rng.IntN(len(emails))]
							inv.Status = statuses[rng.IntN(len(statuses))]
							inv.TokenHash = []byte{byte(step), 1}
							err = tx.UpdateInvitation(ctx, inv)
							break
						}
					}
				case 9:
					if rng.IntN(3) == 0 {
						err = tx.DeleteOrganization(ctx)
						if err == nil && rng.IntN(2) == 0 {
							err = tx.CreateOrganization(ctx, org.Organization{ID: orgID, Name: orgID})
						}
					}
				case 10:
					// What the index of access holds of the organization.
					var o org.Organization
					if o, err = tx.Organization(ctx); err == nil {
						switch rng.IntN(3) {
						case 0:
							o.Edition = editions[rng.IntN(len(editions))]
						case 1:
							o.Archived = !o.Archived
						case 2:
							o.Scheme = fmt.Sprint("scheme-", rng.IntN(2))
						}
						err = tx.UpdateOrganization(ctx, o)
					}
				}
				if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrExists) {
					return err
				}
			}
			if rng.IntN(4) == 0 {
				return boom
			}
			return nil
		})
		if err != nil && err != boom {
			t.Fatalf("step %d: %v", step, err)
		}
		checkIndexes(t, s)
		for _, o := range orgs {
			for _, p := range principals {
				checkAccess(t, s, o, p)
			}
		}
		if t.Failed() {
			t.Fatalf("step %d", step)
		}
	}
	for _, orgID := range orgs {
		err := s.Update(ctx, orgID, func(ctx context.Context, tx store.Tx) error {
			err := tx.DeleteOrganization(ctx)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	checkIndexes(t, s)
	if s.memberships.one.len()+len(s.memberships.many)+len(s.addresses.to)+len(s.addresses.at) != 0 {
		t.Errorf("indexes not empty once every organization is deleted: %d, %d, %d, %d", s.memberships.one.len(), len(s.memberships.many), len(s.addresses.to), len(s.addresses.at))
	}
}

// checkAccess checks that Store.Access answers for (orgID, p) as the
// organization's data, read under its lock, says.
func checkAccess(t *testing.T, s *Store, orgID, p string) {
	t.Helper()
	got, err := s.Access(t.Context(), orgID, p)
	want, wantErr := s.accessLocked(orgID, p)
	if got != want || err != wantErr {
		t.Errorf("Access(%q, %q) = %+v, %v; want %+v, %v", orgID, p, got, err, want, wantErr)
	}
}

// The members of a role share one handle, whatever strings their records
// came in with, and keep it through changes and rollbacks; members with a
// name or an address keep it apart, and only they.
func TestMembersShareRoles(t *testing.T) {
	s := New()
	ctx := t.Context()
	role := func() string { return string([]byte("member")) } // a new string each time
	err := s.Update(ctx, "a", func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, org.Organization{ID: "a", Name: "a"}); err != nil {
			return err
		}
		for _, m := range []org.Member{
			{PrincipalID: "p", Kind: org.User, Role: role()},
			{PrincipalID: "q", Kind: org.User, Role: role(), Email: "q@example.com"},
			{PrincipalID: "r", Kind: org.ServicePrincipal, Role: role(), Name: "R"},
		} {
			if err := tx.AddMember(ctx, m); err != nil {
				return err
			}
		}
		return tx.UpdateMember(ctx, org.Member{PrincipalID: "p", Kind: org.User, Role: role(), Name: "P"})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, "a", func(ctx context.Context, tx store.Tx) error {
		if err := tx.UpdateMember(ctx, org.Member{PrincipalID: "q", Kind: org.User, Role: role()}); err != nil {
			return err
		}
		return errors.New("rolled back")
	})
	if err == nil {
		t.Fatal("the Update did not fail")
	}
	st := s.orgs["a"]
	d := &st.d
	want := d.members["p"].role
	if got := interned.str(want); got != "member" {
		t.Errorf("member p: role %q, want member", got)
	}
	for _, p := range []string{"q", "r"} {
		if got := d.members[p].role; got != want {
			t.Errorf("member %q: its role's handle is not the one p's is", p)
		}
	}
	if e, _ := s.memberships.one.get("q"); e.role != want {
		t.Errorf("q's membership: its role's handle is not the member's")
	}
	if len(d.texts) != 3 || d.texts["p"].name != "P" || d.texts["q"].email != "q@example.com" || d.texts["r"].name != "R" {
		t.Errorf("texts: %+v", d.texts)
	}
	checkIndexes(t, s)
}

// The tables of the index of access keep every entry findable through
// insertions, replacements and deletions (which shift entries back), as
// they grow and shrink: checked against a map, at random, with keys
// crowded into few shards' tables and keys too long to fit inline.
func TestAccessIndexTable(t *testing.T) {
	var x accessIndex
	rng := rand.New(rand.NewPCG(3, 4))
	want := map[longKey]uint64{}
	key := func() longKey {
		if rng.IntN(20) == 0 {
			return longKey{"an-organization-with-a-long-id", fmt.Sprint("p", rng.IntN(50))}
		}
		return longKey{fmt.Sprint("o", rng.IntN(30)), fmt.Sprint("principal-", rng.IntN(300))}
	}
	for step := range 200_000 {
		k := key()
		if rng.IntN(3) == 0 || step > 150_000 {
			x.set(k.org, k.principal, 0)
			delete(want, k)
		} else {
			w, _ := pack(uint32(rng.IntN(handleMax)+1), 1, 2, org.User, rng.IntN(2) == 0, false)
			x.set(k.org, k.principal, w)
			if _, lens, ok := inlineKey(k.org, k.principal); ok {
				w |= lens
			}
			want[k] = w
		}
		if step%1000 == 0 || step > 199_900 {
			for o := range 31 {
				for p := range 300 {
					k := longKey{fmt.Sprint("o", o), fmt.Sprint("principal-", p)}
					if o == 30 {
						k = longKey{"an-organization-with-a-long-id", fmt.Sprint("p", p)}
					}
					if got := x.get(k.org, k.principal); got != want[k] {
						t.Fatalf("step %d: get(%q) = %#x, want %#x", step, k, got, want[k])
					}
				}
			}
		}
	}
	total := 0
	for i := range x.shards {
		total += x.shards[i].n + len(x.shards[i].long)
		if n := len(x.shards[i].slots); n > minSlots && x.shards[i].n*4 < n {
			t.Errorf("shard %d: %d entries in %d slots, not shrunk", i, x.shards[i].n, n)
		}
	}
	if total != len(want) {
		t.Errorf("%d entries, want %d", total, len(want))
	}
}

// checkTable checks the invariants of a strTable: every entry is found
// from its first slot without crossing an empty one, no part is more than
// 4/5 full, and the counts are right.
func checkTable[V comparable](t *testing.T, tab *strTable[V]) {
	t.Helper()
	var zero V
	total := 0
	for pi := range tab.parts {
		p := &tab.parts[pi]
		n := 0
		for j, s := range p.slots {
			if s.v == zero {
				continue
			}
			n++
			q, h := tab.locate(s.k)
			if q != p {
				t.Errorf("table: key %q in part %d, not its own", s.k, pi)
				continue
			}
			for i := p.home(h); i != j; i = (i + 1) % len(p.slots) {
				if p.slots[i].v == zero {
					t.Errorf("table: key %q at slot %d past an empty one, %d", s.k, j, i)
					break
				}
			}
		}
		if n != p.n || n*5 > len(p.slots)*4 {
			t.Errorf("table: part %d holds %d entries in %d slots, counts %d", pi, n, len(p.slots), p.n)
		}
		total += n
	}
	if total != tab.len() {
		t.Errorf("table: %d entries, counts %d", total, tab.len())
	}
}

// A strTable keeps every entry findable through insertions, replacements
// and deletions (which shift entries back), as its parts grow and shrink:
// checked against a map, at random.
func TestStrTable(t *testing.T) {
	var tab strTable[int]
	rng := rand.New(rand.NewPCG(5, 6))
	want := map[string]int{}
	for step := range 300_000 {
		k := fmt.Sprint("k", rng.IntN(20_000))
		if rng.IntN(3) == 0 || step > 200_000 && rng.IntN(4) != 0 {
			tab.delete(k)
			delete(want, k)
		} else {
			v := 1 + rng.IntN(1000)
			tab.put(k, v)
			want[k] = v
		}
		if step%10_000 == 0 {
			checkTable(t, &tab)
			for i := range 20_000 {
				k := fmt.Sprint("k", i)
				got, ok := tab.get(k)
				if w, wok := want[k]; got != w || ok != wok {
					t.Fatalf("step %d: get(%q) = %d, %v; want %d, %v", step, k, got, ok, w, wok)
				}
			}
		}
	}
	checkTable(t, &tab)
	got := map[string]int{}
	tab.each(func(k string, v int) { got[k] = v })
	if !maps.Equal(got, want) {
		t.Errorf("each: %d entries, want %d", len(got), len(want))
	}
}

// Readers of the index of access take no lock: while a writer adds and
// removes entries around them, growing, shrinking and shifting the tables,
// entries that stay are always found, with their word.
func TestAccessIndexConcurrentReaders(t *testing.T) {
	var x accessIndex
	const stable = 64
	word := func(i int) uint64 {
		w, _ := pack(uint32(i+1), 2, 3, org.User, i%2 == 0, false)
		return w
	}
	for i := range stable {
		x.set("org", fmt.Sprint("stable-", i), word(i))
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(7, 8))
		for {
			select {
			case <-stop:
				return
			default:
			}
			// Bursts of additions then removals make the tables grow
			// and shrink.
			n := 1 + rng.IntN(3000)
			for i := range n {
				x.set("org", fmt.Sprint("churn-", i), word(i))
			}
			for i := range n {
				x.set("org", fmt.Sprint("churn-", i), 0)
			}
		}
	}()
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 200_000 {
				i := (n + r) % stable
				_, lens, _ := inlineKey("org", fmt.Sprint("stable-", i))
				if got, want := x.get("org", fmt.Sprint("stable-", i)), word(i)|lens; got != want {
					t.Errorf("get(stable-%d) = %#x, want %#x", i, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-done
}

// Each shard of the index of access fills two cache lines exactly.
func TestAccessShardSize(t *testing.T) {
	if n := unsafe.Sizeof(accessShard{}); n != 128 {
		t.Errorf("accessShard is %d bytes, want 128", n)
	}
}
