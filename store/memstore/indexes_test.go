package memstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
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
	wantX := map[[2]string]store.Access{}
	wantO := map[string]uint32{}
	s.mu.RLock()
	for _, st := range s.orgs {
		st.mu.RLock()
		for p, m := range st.d.members {
			if o := st.d.rec; o != nil {
				wantO[st.id] = st.handle
				wantX[[2]string{st.id, p}] = store.Access{Scheme: o.Scheme, Edition: o.Edition, Archived: o.Archived, Role: interned.str(m.role), Kind: m.kind, External: m.external}
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
	// other; its table of organizations, an entry for every organization
	// with a member, under the handle the organization has, each its own.
	orgOf := map[uint32]string{}
	gotO := map[string]uint32{}
	eachAccessEntry(t, &s.access.orgs, nil, func(a uint32, id string, w uint64) {
		h := uint32(w >> wHandle)
		if a != 0 || w&^wLens != orgWord(h) || h == 0 || orgOf[h] != "" {
			t.Errorf("index of access: organization %q under key %d, word %#x (handle %d of %q already)", id, a, w, h, orgOf[h])
		}
		orgOf[h] = id
		gotO[id] = h
	})
	if !maps.Equal(gotO, wantO) {
		t.Errorf("index of access, organizations:\n got %v\nwant %v", gotO, wantO)
	}
	// Every organization with a handle has its place, and no other.
	s.access.places.mu.RLock()
	if len(s.access.places.m) != len(orgOf) {
		t.Errorf("index of access: %d places for %d organizations", len(s.access.places.m), len(orgOf))
	}
	for h, id := range orgOf {
		if pl, ok := s.access.places.m[h]; !ok || pl != orgPlace(id) {
			t.Errorf("index of access: organization %q of handle %d has place %d (%v), want %d", id, h, pl, ok, orgPlace(id))
		}
	}
	s.access.places.mu.RUnlock()
	gotX := map[[2]string]store.Access{}
	eachAccessEntry(t, &s.access.members, &s.access.places, func(a uint32, id string, w uint64) {
		o, ok := orgOf[a]
		if !ok {
			t.Errorf("index of access: member %q under handle %d, of no organization", id, a)
		}
		x := interned.access(w)
		if want := w >> wScheme & (1<<48 - 1); x.Code != want {
			t.Errorf("index of access: member %q under handle %d: code %#x, want the handles, %#x", id, a, x.Code, want)
		}
		x.Code = 0
		gotX[[2]string{o, id}] = x
	})
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
	// IDs of every class of the index of access: two organization IDs of
	// the shortest, one as the service makes them, one too long for any;
	// principal IDs of each class, and too long for any.
	orgs := []string{"a", "b", "ioi2ntf4nzdnv6mkl7ytrcjhfe", strings.Repeat("o", maxInline+1)}
	principals := []string{"p", "q", "r", "6f1c2b0e-7d3a-4c55-9e21-0b8f4a6d2c17", strings.Repeat("s", 52), strings.Repeat("t", 128), strings.Repeat("u", maxInline+1)}
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
	got.Code = 0 // the index gives codes, the lock none
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

// eachAccessEntry calls f with every entry of table tab, after checking
// that it is where its key puts it (in its class and shard, and in its
// shard's slots no further from its first slot than a used slot away),
// placed by the places of its handles (nil: by the handles themselves),
// and checks each shard's counts and its table published to readers.
func eachAccessEntry(t *testing.T, tab *accessTable, places *orgPlaces, f func(a uint32, id string, w uint64)) {
	t.Helper()
	for c := range tab.shards {
		for i := range tab.shards[c] {
			sh := &tab.shards[c][i]
			sh.mu.RLock()
			for lk, w := range sh.long {
				if class(len(lk.id)) != nClasses || tab.shard(c, hashLong(lk.a, lk.id)) != sh {
					t.Errorf("index of access: long key (%d, %q) not in its shard", lk.a, lk.id)
				}
				f(lk.a, lk.id, w)
			}
			if c == nClasses {
				if sh.slots != nil || sh.n != 0 {
					t.Errorf("index of access: a shard of long keys has %d slots", sh.n)
				}
				sh.mu.RUnlock()
				continue
			}
			stride, n := strides[c], 0
			ns := len(sh.slots) / stride
			for j := range ns {
				sl := sh.slot(stride, j)
				if sl[0] == 0 {
					continue
				}
				n++
				l := int(sl[0] & wLens)
				var kb [8 * maxKeyWords]byte
				for x := range stride - 1 {
					binary.LittleEndian.PutUint64(kb[8*x:], sl[1+x])
				}
				a, id := binary.LittleEndian.Uint32(kb[:]), string(kb[4:4+l])
				var k accessKey
				h := hashAt(makeKey(k[:], a, id), l, places.of(a))
				if class(l) != c || tab.shard(c, h) != sh || strings.Trim(string(kb[4+l:8*(stride-1)]), "\x00") != "" {
					t.Errorf("index of access: key (%d, %q) of class %d in class %d, or not in its shard, or not zero padded", a, id, class(l), c)
				}
				// Every slot from the key's first one to its own is used.
				for p := home(h, ns); p != j; p = (p + 1) % ns {
					if sh.slot(stride, p)[0] == 0 {
						t.Errorf("index of access: key (%d, %q) at slot %d past an empty one, %d", a, id, j, p)
						break
					}
				}
				f(a, id, sl[0])
			}
			if tab := sh.tab.Load(); len(sh.slots) > 0 && (tab == nil || tab.n != ns || len(tab.slots) != len(sh.slots) || &tab.slots[0] != &sh.slots[0]) {
				t.Errorf("index of access: class %d, shard %d: the table published is not the shard's", c, i)
			}
			if n != sh.n || n*maxLoadDen > ns*maxLoadNum || ns > minSlots && n*4 < ns {
				t.Errorf("index of access: class %d, shard %d holds %d entries in %d slots, counts %d", c, i, n, ns, sh.n)
			}
			sh.mu.RUnlock()
		}
	}
}

// accessIDs are IDs of every length class of the index of access, and
// past them: IDs of the keys of the tests of its tables.
func accessID(rng *rand.Rand) string {
	n := rng.IntN(300)
	switch l := []int{1, 8, 20, 21, 26, 36, 37, 52, 53, 128, maxInline, maxInline + 1}[rng.IntN(12)]; {
	case l < 8:
		return fmt.Sprint("p", n)
	default:
		return fmt.Sprintf("%0*d", l, n)
	}
}

// The tables of the index of access keep every entry findable through
// insertions, replacements and deletions (which shift entries back), as
// they grow and shrink: checked against a map, at random, with keys of
// every class crowded into few shards' tables and keys too long to fit
// inline.
func TestAccessIndexTable(t *testing.T) {
	var tab accessTable
	var closed atomic.Bool
	rng := rand.New(rand.NewPCG(3, 4))
	want := map[longKey]uint64{}
	key := func() longKey { return longKey{uint32(rng.IntN(4)), accessID(rng)} }
	// An inline key is the handle's bytes then the ID's, zero padded, as
	// little-endian words.
	for n := range maxInline + 1 {
		id := strings.Repeat("\xff", n/2) + strings.Repeat("z", n-n/2)
		var k accessKey
		var b [8 * maxKeyWords]byte
		binary.LittleEndian.PutUint32(b[:], 0x01020304)
		copy(b[4:], id)
		if kw := len(makeKey(k[:], 0x01020304, id)); kw != keyWords(n) || class(n) == nClasses || strides[class(n)]-1 < kw || class(n) > 0 && strides[class(n)-1]-1 >= kw {
			t.Fatalf("ID of %d bytes: %d key words, want %d, class %d", n, kw, keyWords(n), class(n))
		}
		for j := range k {
			if k[j] != binary.LittleEndian.Uint64(b[8*j:]) {
				t.Fatalf("ID of %d bytes: key word %d is %#x, want %#x", n, j, k[j], binary.LittleEndian.Uint64(b[8*j:]))
			}
		}
	}
	if class(maxInline+1) != nClasses {
		t.Fatalf("an ID of %d bytes is in class %d", maxInline+1, class(maxInline+1))
	}
	for step := range 200_000 {
		k := key()
		if rng.IntN(3) == 0 || step > 150_000 {
			tab.set(k.a, k.id, 0, &closed)
			delete(want, k)
		} else {
			w, _ := pack(uint32(rng.IntN(handleMax)+1), 1, 2, org.User, rng.IntN(2) == 0, false)
			tab.set(k.a, k.id, w, &closed)
			if class(len(k.id)) < nClasses {
				w |= uint64(len(k.id))
			}
			want[k] = w
		}
		if step%5000 == 0 || step > 199_990 {
			r := rand.New(rand.NewPCG(9, 10))
			for range 5000 {
				k := longKey{uint32(r.IntN(4)), accessID(r)}
				if got := tab.get(k.a, k.id); got != want[k] {
					t.Fatalf("step %d: get(%d, %q) = %#x, want %#x", step, k.a, k.id, got, want[k])
				}
			}
		}
	}
	got := map[longKey]uint64{}
	eachAccessEntry(t, &tab, nil, func(a uint32, id string, w uint64) { got[longKey{a, id}] = w })
	if !maps.Equal(got, want) {
		t.Errorf("%d entries, want %d", len(got), len(want))
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
	var tab accessTable
	var closed atomic.Bool
	const stable = 64
	word := func(i int) uint64 {
		w, _ := pack(uint32(i+1), 2, 3, org.User, i%2 == 0, false)
		return w
	}
	// IDs of 20, 36, 52 and 128 bytes: each class.
	id := func(kind string, i int) string { return fmt.Sprintf("%s-%0*d", kind, []int{14, 30, 46, 122}[i%4], i) }
	for i := range stable {
		tab.set(1, id("stable", i), word(i), &closed)
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
				tab.set(1, id("churn", i), word(i), &closed)
			}
			for i := range n {
				tab.set(1, id("churn", i), 0, &closed)
			}
		}
	}()
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Go(func() {
			for n := range 200_000 {
				i := (n + r) % stable
				k := id("stable", i)
				if got, want := tab.get(1, k), word(i)|uint64(len(k)); got != want {
					t.Errorf("get(%q) = %#x, want %#x", k, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-done
}

// A reader that has read a slot's word, and finds the slot holding
// another key by the time it reads the key, answers for neither: it tries
// again (the seqlock of the shard). The test stops a reader between the
// two reads, with probeHook, and meanwhile removes the entry whose word
// it read and puts another key, with another word, in its slot: the
// reader must answer with the new key's own word, not the old word under
// the new key (which it would without trying again: the two words
// differ in every field).
func TestAccessIndexTornRead(t *testing.T) {
	var tab accessTable
	var closed atomic.Bool
	// Two keys of one length, one shard and one first slot in a table of
	// minSlots slots: the second takes the slot the first leaves.
	const a = 7
	first := map[[2]uint64]string{}
	var k1, k2 string
	for i := 0; k2 == ""; i++ {
		id := fmt.Sprintf("%036d", i) // the length of a UUID
		var k accessKey
		h := hashAt(makeKey(k[:], a, id), len(id), a)
		at := [2]uint64{h >> (64 - accessShardBits), uint64(home(h, minSlots))}
		if prev, ok := first[at]; ok {
			k1, k2 = prev, id
		}
		first[at] = id
	}
	w1, _ := pack(1, 2, 3, org.User, false, false)
	w2, _ := pack(4, 5, 6, org.ServicePrincipal, true, true)
	for _, f := range []struct{ at, bits int }{{wKind, 2}, {wExternal, 1}, {wArchived, 1}, {wScheme, 16}, {wEdition, 16}, {wRole, 16}} {
		if m := uint64(1)<<f.bits - 1; w1>>f.at&m == w2>>f.at&m {
			t.Fatalf("words %#x and %#x agree at bit %d", w1, w2, f.at)
		}
	}
	tab.set(a, k1, w1, &closed)
	defer func() { probeHook = nil }()
	moved := false
	probeHook = func() {
		probeHook = nil
		tab.set(a, k1, 0, &closed)
		tab.set(a, k2, w2, &closed)
		moved = true
	}
	got := tab.get(a, k2)
	if !moved {
		t.Fatal("the reader never stopped at a slot")
	}
	if want := w2 | uint64(len(k2)); got != want {
		t.Errorf("get(%q) = %#x, want %#x (%#x is the word of %q, the key gone from its slot)", k2, got, want, w1|uint64(len(k1)), k1)
	}
}

// Each shard of the index of access fills two cache lines exactly.
func TestAccessShardSize(t *testing.T) {
	if n := unsafe.Sizeof(accessShard{}); n != 128 {
		t.Errorf("accessShard is %d bytes, want 128", n)
	}
}
