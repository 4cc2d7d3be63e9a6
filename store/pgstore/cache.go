package pgstore

import (
	"context"
	"errors"
	"fmt"
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

// cache keeps the answers of Access, by organization, then principal.
//
// An entry may be put only by a read that started after the last
// invalidation of its organization: a read takes a ticket (the
// organization's generation, and the cache's epoch) before it reads the
// database, and put drops its answer if either has moved since. So a read
// that raced with a change never outlives the change's invalidation.
type cache struct {
	ttl  time.Duration
	max  int
	base time.Time // for monotonic expiry times

	mu      sync.RWMutex
	live    bool // the listener listens: answers may be kept and used
	epoch   uint64
	orgs    map[string]*orgCache
	entries int // orgCaches and answers, bounded by max
}

// orgCache holds one organization's answers.
type orgCache struct {
	gen     uint64
	answers map[string]answer
}

// answer is one cached answer of Access.
type answer struct {
	access  store.Access
	err     error // nil, store.ErrOrganizationNotFound or store.ErrMemberNotFound
	expires time.Duration
}

// ticket is what put needs to know that nothing changed since a read began.
type ticket struct {
	oc    *orgCache
	gen   uint64
	epoch uint64
}

func newCache(ttl time.Duration, max int) *cache {
	return &cache{ttl: ttl, max: max, base: time.Now(), orgs: make(map[string]*orgCache)}
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

// put keeps the answer of a read that began with ticket t, unless the
// organization changed (or the cache was emptied) since.
func (c *cache) put(t ticket, orgID, principalID string, a store.Access, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || t.oc == nil || t.epoch != c.epoch || t.oc.gen != t.gen {
		return
	}
	if c.entries >= c.max {
		c.reset()
		return
	}
	if t.oc.answers == nil {
		t.oc.answers = make(map[string]answer)
	}
	if _, ok := t.oc.answers[principalID]; !ok {
		c.entries++
	}
	t.oc.answers[principalID] = answer{access: a, err: err, expires: time.Since(c.base) + c.ttl}
}

// invalidate drops organization orgID's answers, and any read of it under
// way from putting its own.
func (c *cache) invalidate(orgID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if oc := c.orgs[orgID]; oc != nil {
		oc.gen++
		c.entries -= len(oc.answers)
		oc.answers = nil
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
	c.entries = 0
}

// startListener starts the goroutine that listens for changes on a
// connection of its own, and waits until it listens (or fails to).
// keepAlive is how long it waits for a notification before checking that
// the connection still works.
func (s *Store) startListener(ctx context.Context, cfg *pgx.ConnConfig, keepAlive time.Duration) error {
	cfg.RuntimeParams["application_name"] = ListenerName
	conn, err := listen(ctx, cfg)
	if err != nil {
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
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			if conn, err = listen(ctx, cfg); err == nil {
				break
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
		case err == nil && n.Payload == "":
			s.cache.setLive(true) // a table was truncated: forget everything
		case err == nil:
			s.cache.invalidate(n.Payload)
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
