package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orgauthz/orgauthz/store"
)

// ListenerName is the application_name of the connection on which a Store
// listens for changes, as pg_stat_activity shows it.
const ListenerName = "orgauthz-listener"

// The listener's connection is checked with a ping after keepAlive without
// a notification, which must answer within pingTimeout. keepAlive is half
// the cache's TTL, so that a connection that died silently is noticed
// before the entries it should have dropped expire, within bounds that
// spare the server.
const (
	minKeepAlive = time.Second
	maxKeepAlive = 30 * time.Second
	pingTimeout  = 10 * time.Second
)

// notifyChannel is the channel the schema's triggers notify with the ID of
// an organization whose record or members changed.
const notifyChannel = "orgauthz"

// cache keeps the answers of Access and ScopeAccess, by organization,
// then principal (and resource), and, unless it was made without, those of
// KeyAccess, by key ID, each filed under its key's organization too.
//
// An entry may be put only by a read that started after the last
// invalidation of its organization: a read takes a ticket (the
// organization's generation, and the cache's epoch) before it reads the
// database, and put drops its answer if either has moved since. So a read
// that raced with a change never outlives the change's invalidation.
//
// A read of KeyAccess does not know its organization before it reads, so
// it cannot take the organization's generation: its ticket is the
// position in the journal of the cache's recent events (invalidations,
// and touches of keys), and putKey drops its answer if an invalidation of
// the key's organization came since, or if more events came than the
// journal holds; a touch of the key since is applied to the answer.
type cache struct {
	ttl  time.Duration
	max  int
	base time.Time // for monotonic expiry times
	// withKeys says KeyAccess answers are cached.
	withKeys bool

	mu      sync.RWMutex
	live    bool // the listener listens: answers may be kept and used
	epoch   uint64
	orgs    map[string]*orgCache
	keys    map[string]keyAnswer
	entries int // orgCaches and answers of all three kinds, bounded by max
	// seq counts the events of the journal, whose last journalLen are
	// kept, event seq at journal[seq%journalLen].
	seq     uint64
	journal [journalLen]event
	// codes numbers the (scheme, edition, role) triples of the answers
	// kept, for store.Access.Code, from 1; never emptied, so that a triple
	// keeps its code for as long as the store is open (see code).
	codes map[[3]string]uint64
}

// maxCodes bounds the triples given codes: past it, answers have none.
const maxCodes = 1 << 16

// code returns the code of a's triple, giving it one if it has none, or
// 0 once maxCodes triples have one. The caller holds mu.
func (c *cache) code(a *store.Access) uint64 {
	k := [3]string{a.Scheme, a.Edition, a.Role}
	if n, ok := c.codes[k]; ok {
		return n
	}
	if len(c.codes) >= maxCodes {
		return 0
	}
	if c.codes == nil {
		c.codes = make(map[[3]string]uint64)
	}
	n := uint64(len(c.codes) + 1)
	c.codes[k] = n
	return n
}

// onTrial reports whether a holds a trial: then it has no code, which
// stands for the base triple only (see store.Access.Code).
func onTrial(a *store.Access) bool { return a.TrialEdition != "" || !a.TrialEndsAt.IsZero() }

// journalLen is how many recent events the cache remembers for the
// tickets of KeyAccess: more than can come in the time of one read, but
// for a storm of changes, which only keeps a read's answer out.
const journalLen = 256

// event is an entry of the journal: the invalidation of organization org,
// or the touch of key key at used.
type event struct {
	org  string
	key  string
	used time.Time
}

// orgCache holds one organization's answers.
type orgCache struct {
	gen     uint64
	answers map[string]answer
	scopes  map[scopeKey]scopeAnswer
	// keys holds the IDs of the organization's keys in cache.keys.
	keys map[string]struct{}
}

// answer is one cached answer of Access.
type answer struct {
	access  store.Access
	err     error // nil, store.ErrOrganizationNotFound or store.ErrMemberNotFound
	expires time.Duration
}

// scopeKey is the key of a cached answer of ScopeAccess in its
// organization.
type scopeKey struct{ principal, kind, id string }

// scopeAnswer is one cached answer of ScopeAccess. Its Capabilities are
// shared with every caller, read-only.
type scopeAnswer struct {
	access  store.ScopeAccess
	err     error // nil, store.ErrOrganizationNotFound or store.ErrMemberNotFound
	expires time.Duration
}

// keyAnswer is one cached answer of KeyAccess (unknown keys are not
// cached). Its Scope is the cache's own: callers get copies.
type keyAnswer struct {
	access  store.KeyAccess
	expires time.Duration
}

// ticket is what put needs to know that nothing changed since a read began.
type ticket struct {
	oc    *orgCache
	gen   uint64
	epoch uint64
}

// keyTicket is what putKey needs to know what changed since a read of
// KeyAccess began.
type keyTicket struct {
	seq   uint64
	epoch uint64
}

func newCache(ttl time.Duration, max int, withKeys bool) *cache {
	return &cache{ttl: ttl, max: max, base: time.Now(), withKeys: withKeys, orgs: make(map[string]*orgCache), keys: make(map[string]keyAnswer)}
}

// get returns the cached answer for (orgID, principalID), if there is a
// live one.
func (c *cache) get(orgID, principalID string) (store.Access, error, bool) {
	c.mu.RLock()
	if c.live {
		if oc := c.orgs[orgID]; oc != nil {
			if a, ok := oc.answers[principalID]; ok && time.Since(c.base) < a.expires {
				c.mu.RUnlock()
				return a.access, a.err, true
			}
		}
	}
	c.mu.RUnlock()
	return store.Access{}, nil, false
}

// getScope returns the cached answer of ScopeAccess for k in organization
// orgID, if there is a live one. It allocates nothing.
func (c *cache) getScope(orgID string, k scopeKey) (store.ScopeAccess, error, bool) {
	c.mu.RLock()
	if c.live {
		if oc := c.orgs[orgID]; oc != nil {
			if a, ok := oc.scopes[k]; ok && time.Since(c.base) < a.expires {
				c.mu.RUnlock()
				return a.access, a.err, true
			}
		}
	}
	c.mu.RUnlock()
	return store.ScopeAccess{}, nil, false
}

// getKey returns the cached answer of KeyAccess for key id, if there is a
// live one, with a Scope of its own.
func (c *cache) getKey(id string) (store.KeyAccess, bool) {
	c.mu.RLock()
	if c.live {
		if a, ok := c.keys[id]; ok && time.Since(c.base) < a.expires {
			c.mu.RUnlock()
			// The cached Scope is never changed: copying it unlocked is
			// safe.
			a.access.Scope = slices.Clone(a.access.Scope)
			return a.access, true
		}
	}
	c.mu.RUnlock()
	return store.KeyAccess{}, false
}

// ticket returns the ticket of a read of organization orgID about to begin.
func (c *cache) ticket(orgID string) ticket {
	c.mu.Lock()
	defer c.mu.Unlock()
	oc := c.orgs[orgID]
	if oc == nil && c.live {
		if c.entries >= c.max {
			c.reset()
		}
		oc = &orgCache{}
		c.orgs[orgID] = oc
		c.entries++
	}
	t := ticket{oc: oc, epoch: c.epoch}
	if oc != nil {
		t.gen = oc.gen
	}
	return t
}

// keyTicket returns the ticket of a read of KeyAccess about to begin.
func (c *cache) keyTicket() keyTicket {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return keyTicket{seq: c.seq, epoch: c.epoch}
}

// room reports whether an answer of a read that began with ticket t may
// be put, and makes room for it (emptying the cache when it is full, and
// then refusing it); c.mu is held.
func (c *cache) room(t ticket) bool {
	if !c.live || t.oc == nil || t.epoch != c.epoch || t.oc.gen != t.gen {
		return false
	}
	if c.entries >= c.max {
		c.reset()
		return false
	}
	return true
}

// put keeps the answer of a read that began with ticket t, unless the
// organization changed (or the cache was emptied) since, and returns a
// with its code (see code), kept or not.
func (c *cache) put(t ticket, orgID, principalID string, a store.Access, err error) store.Access {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && !onTrial(&a) {
		a.Code = c.code(&a)
	}
	if !c.room(t) {
		return a
	}
	if t.oc.answers == nil {
		t.oc.answers = make(map[string]answer)
	}
	if _, ok := t.oc.answers[principalID]; !ok {
		c.entries++
	}
	t.oc.answers[principalID] = answer{access: a, err: err, expires: time.Since(c.base) + c.ttl}
	return a
}

// putScope keeps the answer of ScopeAccess for k of a read that began with
// ticket t, unless the organization changed (or the cache was emptied)
// since.
func (c *cache) putScope(t ticket, k scopeKey, a store.ScopeAccess, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.room(t) {
		return
	}
	if t.oc.scopes == nil {
		t.oc.scopes = make(map[scopeKey]scopeAnswer)
	}
	if _, ok := t.oc.scopes[k]; !ok {
		c.entries++
	}
	t.oc.scopes[k] = scopeAnswer{access: a, err: err, expires: time.Since(c.base) + c.ttl}
}

// putKey keeps a, the answer of a read of KeyAccess that began with ticket
// t, unless its organization was invalidated (or the cache emptied)
// since, or too much happened since to tell; the touches of the key since
// are applied to it. It keeps a copy of a's Scope.
func (c *cache) putKey(t keyTicket, a store.KeyAccess) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || t.epoch != c.epoch || c.seq-t.seq > journalLen {
		return
	}
	for seq := t.seq + 1; seq <= c.seq; seq++ {
		switch e := &c.journal[seq%journalLen]; {
		case e.org == a.OrgID:
			return
		case e.key == a.KeyID && e.used.After(a.LastUsedAt):
			a.LastUsedAt = e.used
		}
	}
	oc := c.orgs[a.OrgID]
	if oc == nil {
		if c.entries >= c.max {
			c.reset()
			return
		}
		oc = &orgCache{}
		c.orgs[a.OrgID] = oc
		c.entries++
	}
	if c.entries >= c.max {
		c.reset()
		return
	}
	if old, ok := c.keys[a.KeyID]; ok {
		// Put by a read of the same state, but for the touches: keep the
		// latest use either saw.
		if old.access.LastUsedAt.After(a.LastUsedAt) {
			a.LastUsedAt = old.access.LastUsedAt
		}
		if old.access.OrgID != a.OrgID {
			// Moved to another organization (by SQL): both were
			// invalidated, so this cannot be; be safe anyway.
			c.dropKey(a.KeyID)
		}
	}
	if _, ok := c.keys[a.KeyID]; !ok {
		c.entries++
	}
	if oc.keys == nil {
		oc.keys = make(map[string]struct{})
	}
	oc.keys[a.KeyID] = struct{}{}
	a.Scope = slices.Clone(a.Scope)
	c.keys[a.KeyID] = keyAnswer{access: a, expires: time.Since(c.base) + c.ttl}
}

// dropKey drops the cached answer of key id; c.mu is held.
func (c *cache) dropKey(id string) {
	a, ok := c.keys[id]
	if !ok {
		return
	}
	delete(c.keys, id)
	c.entries--
	if oc := c.orgs[a.access.OrgID]; oc != nil {
		delete(oc.keys, id)
	}
}

// touched records that key id was used at used (as stored: in UTC, to the
// microsecond), so that neither its cached answer nor one being read
// answers an earlier use.
func (c *cache) touched(id string, used time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record(event{key: id, used: used})
	if a, ok := c.keys[id]; ok && used.After(a.access.LastUsedAt) {
		a.access.LastUsedAt = used
		c.keys[id] = a
	}
}

// record appends e to the journal; c.mu is held.
func (c *cache) record(e event) {
	c.seq++
	c.journal[c.seq%journalLen] = e
}

// invalidate drops organization orgID's answers (and its keys'), and any
// read of it under way from putting its own.
func (c *cache) invalidate(orgID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record(event{org: orgID})
	if oc := c.orgs[orgID]; oc != nil {
		oc.gen++
		c.entries -= len(oc.answers) + len(oc.scopes) + len(oc.keys)
		for id := range oc.keys {
			delete(c.keys, id)
		}
		oc.answers, oc.scopes, oc.keys = nil, nil, nil
	}
}

// setLive empties the cache and says whether it may be used: not while
// the listener is down, when changes could go unnoticed.
func (c *cache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
	c.live = live
}

// reset empties the cache; c.mu is held.
func (c *cache) reset() {
	c.epoch++
	c.orgs = make(map[string]*orgCache)
	c.keys = make(map[string]keyAnswer)
	c.entries = 0
}

// startListener starts the goroutine that listens for changes on a
// connection of its own, and waits until it listens (or fails to).
// keepAlive is how long it waits for a notification before checking that
// the connection still works.
func (s *Store) startListener(ctx context.Context, cfg *pgx.ConnConfig, keepAlive time.Duration) error {
	cfg.RuntimeParams["application_name"] = ListenerName
	conn, err := listen(ctx, cfg)
	if err == nil {
		err = s.fenceAll(ctx, conn)
	}
	if err != nil {
		if conn != nil {
			conn.Close(context.Background())
		}
		return fmt.Errorf("pgstore: listening for changes: %w", translate(ctx, err))
	}
	s.cache.setLive(true)
	lctx, stop := context.WithCancel(context.Background())
	s.stopListen = stop
	s.listening.Add(1)
	go func() {
		defer s.listening.Done()
		s.listenLoop(lctx, cfg, conn, keepAlive)
	}()
	return nil
}

// fenceAll raises the fence of the replicas, if any, to the primary's
// position once conn listens: changes made while no connection listened
// were not notified, and a standby must not fill the cache with rows
// older than they are.
func (s *Store) fenceAll(ctx context.Context, conn *pgx.Conn) error {
	rs := s.replicas
	if rs == nil {
		return nil
	}
	var lsn int64
	if err := conn.QueryRow(ctx, lsnQuery).Scan(&lsn); err != nil {
		return err
	}
	rs.fenced(lsn)
	return nil
}

// listen connects and listens on the channel.
func listen(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// listenLoop drops the cached answers of every organization notified on
// conn, until ctx is done. When the connection fails, the cache is
// bypassed until a new connection listens, then emptied and used again.
func (s *Store) listenLoop(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn, keepAlive time.Duration) {
	const maxBackoff = 2 * time.Second
	backoff := 10 * time.Millisecond
	for {
		err := s.receive(ctx, conn, keepAlive)
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		_ = err // the connection failed: bypass the cache, reconnect
		s.cache.setLive(false)
		if rs := s.replicas; rs != nil {
			rs.pending.Store(0) // the cache is off: no answer of a standby is kept
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			if conn, err = listen(ctx, cfg); err == nil {
				if err = s.fenceAll(ctx, conn); err == nil {
					break
				}
				conn.Close(context.Background())
			}
		}
		backoff = 10 * time.Millisecond
		s.cache.setLive(true)
	}
}

// receive handles notifications until the connection fails or ctx is done.
func (s *Store) receive(ctx context.Context, conn *pgx.Conn, keepAlive time.Duration) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, keepAlive)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			rs := s.replicas
			if rs != nil {
				rs.pending.Add(1) // reads go to the primary meanwhile
			}
			if n.Payload == "" {
				s.cache.setLive(true) // a table was truncated: forget everything
			} else {
				s.cache.invalidate(n.Payload)
			}
			if rs != nil {
				// The change committed before its notification came: the
				// primary's position now is past it.
				var lsn int64
				if err := conn.QueryRow(ctx, lsnQuery).Scan(&lsn); err != nil {
					return err // pending stays up until the cache is off
				}
				rs.fenced(lsn)
				rs.pending.Add(-1)
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Quiet for a while: make sure the connection still works.
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}
