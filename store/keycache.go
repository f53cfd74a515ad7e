package store

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/relmcrm/relm/auth"
)

// KeyCacheTTL is how long an authenticated key is trusted without asking the database
// again. Revocation does not wait for it: every process drops its cache as soon as the
// database notifies a change to any key.
const KeyCacheTTL = 30 * time.Second

// keyChannel is the notification channel a trigger on api_keys (migration 00014) signals
// when a key is revoked or deleted.
const keyChannel = "relm_keys"

// keyCache remembers key hash → caller for the keys this process has authenticated. It is
// used only while a listener on keyChannel is connected: without one, a revocation made
// elsewhere could go unnoticed, so every lookup goes to the database.
type keyCache struct {
	mu        sync.Mutex
	entries   map[[32]byte]cachedKey
	gen       uint64 // bumped by every invalidation; a lookup begun before one is not cached
	listening bool
	hits      uint64
	misses    uint64
}

type cachedKey struct {
	caller  auth.Caller
	expires time.Time
}

// get returns the cached caller of hash, and the generation a lookup of it begins in.
func (c *keyCache) get(hash [32]byte, now time.Time) (auth.Caller, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[hash]; ok && c.listening && now.Before(e.expires) {
		return e.caller, true, c.gen
	}
	return auth.Caller{}, false, c.gen
}

// count records whether an authentication was answered from the cache.
func (c *keyCache) count(hit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hit {
		c.hits++
	} else {
		c.misses++
	}
}

// put caches a caller found by a lookup that began in generation gen, unless something was
// invalidated since, for KeyCacheTTL or until the key's sandbox expires (until, if not zero).
func (c *keyCache) put(hash [32]byte, caller auth.Caller, gen uint64, now, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.listening || gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) >= maxCachedKeys {
		c.entries = map[[32]byte]cachedKey{}
	}
	expires := now.Add(KeyCacheTTL)
	if !until.IsZero() && until.Before(expires) {
		expires = until
	}
	c.entries[hash] = cachedKey{caller: caller, expires: expires}
}

// maxCachedKeys bounds the cache; when full it starts again empty.
const maxCachedKeys = 100_000

// invalidate forgets every cached key and sets whether the cache may be used.
func (c *keyCache) invalidate(listening bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
	c.gen++
	c.listening = listening
}

func (c *keyCache) isListening() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listening
}

// KeyCacheStats are the key cache's hits and misses since the store opened.
type KeyCacheStats struct{ Hits, Misses uint64 }

// KeyCacheStats reports how often authentication was answered from memory.
func (s *Store) KeyCacheStats() KeyCacheStats {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	return KeyCacheStats{Hits: s.keys.hits, Misses: s.keys.misses}
}

// listenForKeyChanges holds one connection listening on keyChannel until ctx ends, dropping
// the key cache on every notification. While it is not connected (at start, after losing
// the connection) the cache is off; it reconnects after a pause.
func listenForKeyChanges(ctx context.Context, pool *pgxpool.Pool, cache *keyCache, log *slog.Logger) {
	const retry = time.Second
	for ctx.Err() == nil {
		err := listenOnce(ctx, pool, cache)
		cache.invalidate(false)
		if ctx.Err() != nil {
			return
		}
		log.Warn("key cache off: lost the database notification listener; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

func listenOnce(ctx context.Context, pool *pgxpool.Pool, cache *keyCache) error {
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack() // held for good: LISTEN belongs to its session
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+keyChannel); err != nil {
		return err
	}
	cache.invalidate(true) // anything cached before listening began may be stale
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		cache.invalidate(true)
	}
}
