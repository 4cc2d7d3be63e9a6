package pgstore

import (
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

// These tests drive the cache directly, with no database, through the
// interleavings of a read and the events that race it that the tests over
// a database can only hope to hit: an invalidation, a touch, the cache
// emptied, a storm of events, while a read is under way.

func liveCache(max int) *cache {
	c := newCache(time.Hour, max, true)
	c.setLive(true)
	return c
}

func keyOf(orgID, id string) store.KeyAccess {
	return store.KeyAccess{OrgID: orgID, KeyID: id, OwnerID: "alice", Scope: []role.Capability{"a:b"},
		Owner: store.Access{Scheme: "s", Edition: "e", Role: "admin"}, OwnerFound: true}
}

// checkEntries fails the test unless c's count of entries is what it
// holds.
func checkEntries(t *testing.T, c *cache) {
	t.Helper()
	n := len(c.keys)
	for _, oc := range c.orgs {
		n += 1 + len(oc.answers) + len(oc.scopes)
	}
	if c.entries != n {
		t.Fatalf("cache counts %d entries, holds %d", c.entries, n)
	}
}

func TestCacheKeyTicket(t *testing.T) {
	t.Run("NothingSince", func(t *testing.T) {
		c := liveCache(100)
		tk := c.keyTicket()
		c.putKey(tk, keyOf("acme", "k1"))
		if _, ok := c.getKey("k1"); !ok {
			t.Fatal("a read with nothing since is not kept")
		}
		checkEntries(t, c)
	})
	t.Run("InvalidatedSince", func(t *testing.T) {
		c := liveCache(100)
		tk := c.keyTicket()
		c.invalidate("acme")
		c.putKey(tk, keyOf("acme", "k1"))
		if _, ok := c.getKey("k1"); ok {
			t.Fatal("a read that raced an invalidation of its organization is kept")
		}
		checkEntries(t, c)
	})
	t.Run("OthersInvalidatedSince", func(t *testing.T) {
		c := liveCache(100)
		tk := c.keyTicket()
		for range journalLen - 1 {
			c.invalidate("other")
		}
		c.touched("k9", time.Now())
		c.putKey(tk, keyOf("acme", "k1"))
		if _, ok := c.getKey("k1"); !ok {
			t.Fatal("a read is not kept after journalLen events of others")
		}
		checkEntries(t, c)
	})
	t.Run("TooMuchSince", func(t *testing.T) {
		c := liveCache(100)
		tk := c.keyTicket()
		for range journalLen + 1 {
			c.invalidate("other")
		}
		c.putKey(tk, keyOf("acme", "k1"))
		if _, ok := c.getKey("k1"); ok {
			t.Fatal("a read is kept after more events than the journal holds")
		}
	})
	t.Run("EmptiedSince", func(t *testing.T) {
		c := liveCache(100)
		tk := c.keyTicket()
		c.setLive(true) // a TRUNCATE, or the listener back
		c.putKey(tk, keyOf("acme", "k1"))
		if _, ok := c.getKey("k1"); ok {
			t.Fatal("a read that began before the cache was emptied is kept")
		}
	})
	t.Run("NotLive", func(t *testing.T) {
		c := liveCache(100)
		c.putKey(c.keyTicket(), keyOf("acme", "k1"))
		c.setLive(false)
		if _, ok := c.getKey("k1"); ok {
			t.Fatal("a cache whose listener is down answers")
		}
		c.putKey(c.keyTicket(), keyOf("acme", "k1"))
		if _, ok := c.getKey("k1"); ok {
			t.Fatal("a cache whose listener is down keeps answers")
		}
	})
	t.Run("TouchedSince", func(t *testing.T) {
		c := liveCache(100)
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		tk := c.keyTicket()
		c.touched("k1", t0.Add(time.Minute))
		c.touched("k1", t0.Add(30*time.Second)) // earlier: changes nothing
		ka := keyOf("acme", "k1")
		ka.LastUsedAt = t0
		c.putKey(tk, ka)
		got, ok := c.getKey("k1")
		if !ok || !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("after a touch during the read: %v, %v; want the touch's time", got.LastUsedAt, ok)
		}
		c.touched("k1", t0.Add(2*time.Minute))
		if got, _ := c.getKey("k1"); !got.LastUsedAt.Equal(t0.Add(2 * time.Minute)) {
			t.Fatalf("after a touch of the cached key: %v", got.LastUsedAt)
		}
		// A later read put over it that did not see the touch keeps it.
		c.putKey(c.keyTicket(), ka)
		if got, _ := c.getKey("k1"); !got.LastUsedAt.Equal(t0.Add(2 * time.Minute)) {
			t.Fatalf("after a read put over the touched answer: %v", got.LastUsedAt)
		}
		checkEntries(t, c)
	})
	t.Run("InvalidationDropsTheOrganizationsKeys", func(t *testing.T) {
		c := liveCache(100)
		for _, id := range []string{"k1", "k2"} {
			c.putKey(c.keyTicket(), keyOf("acme", id))
		}
		c.putKey(c.keyTicket(), keyOf("other", "k3"))
		c.invalidate("acme")
		for id, want := range map[string]bool{"k1": false, "k2": false, "k3": true} {
			if _, ok := c.getKey(id); ok != want {
				t.Errorf("after acme's invalidation, key %s cached: %v", id, ok)
			}
		}
		checkEntries(t, c)
	})
	t.Run("ScopeCopied", func(t *testing.T) {
		c := liveCache(100)
		ka := keyOf("acme", "k1")
		c.putKey(c.keyTicket(), ka)
		ka.Scope[0] = "changed:by-the-reader"
		got, _ := c.getKey("k1")
		got.Scope[0] = "changed:by-a-caller"
		if got, _ := c.getKey("k1"); got.Scope[0] != "a:b" {
			t.Fatalf("cached Scope changed to %q", got.Scope[0])
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		c := liveCache(10)
		for i := range 50 {
			c.putKey(c.keyTicket(), keyOf("acme", string(rune('a'+i))))
			if c.entries > 10 {
				t.Fatalf("%d entries, at most 10", c.entries)
			}
			checkEntries(t, c)
		}
	})
}

func TestCacheScopeTicket(t *testing.T) {
	c := liveCache(100)
	k := scopeKey{"alice", "project", "p1"}
	sa := store.ScopeAccess{Access: store.Access{Role: "admin"}, ScopeFound: true}

	tk := c.ticket("acme")
	c.invalidate("acme")
	c.putScope(tk, k, sa, nil)
	if _, _, ok := c.getScope("acme", k); ok {
		t.Fatal("a read that raced an invalidation of its organization is kept")
	}
	c.putScope(c.ticket("acme"), k, sa, nil)
	if got, err, ok := c.getScope("acme", k); !ok || err != nil || got.Access.Role != "admin" {
		t.Fatalf("getScope = %+v, %v, %v", got, err, ok)
	}
	c.putScope(c.ticket("acme"), scopeKey{"ghost", "project", "p1"}, store.ScopeAccess{}, store.ErrMemberNotFound)
	if _, err, ok := c.getScope("acme", scopeKey{"ghost", "project", "p1"}); !ok || err != store.ErrMemberNotFound {
		t.Fatalf("a denial: %v, %v", err, ok)
	}
	checkEntries(t, c)
	// An invalidation drops Access's answers and the scope answers alike.
	c.put(c.ticket("acme"), "acme", "alice", store.Access{Role: "admin"}, nil)
	c.invalidate("acme")
	if _, _, ok := c.getScope("acme", k); ok {
		t.Fatal("a scope answer survived its organization's invalidation")
	}
	if _, _, ok := c.get("acme", "alice"); ok {
		t.Fatal("an answer of Access survived its organization's invalidation")
	}
	checkEntries(t, c)
}

// A cached scope check costs no allocation.
func TestCacheScopeHitAllocates(t *testing.T) {
	c := liveCache(100)
	k := scopeKey{"alice", "project", "p1"}
	c.putScope(c.ticket("acme"), k, store.ScopeAccess{ScopeFound: true, CustomRole: true, Capabilities: []role.Capability{"a:b"}}, nil)
	if n := testing.AllocsPerRun(100, func() {
		if _, _, ok := c.getScope("acme", k); !ok {
			t.Fatal("miss")
		}
	}); n != 0 {
		t.Fatalf("getScope allocates %v times per hit", n)
	}
}
