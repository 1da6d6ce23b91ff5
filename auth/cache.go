package auth

import (
	"context"
	"hash/maphash"
	"strings"
	"sync/atomic"
	"time"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// Defaults of [CacheOptions].
const (
	DefaultCacheTTL  = 5 * time.Minute
	DefaultCacheSize = 20_000
)

// CacheOptions configure a [Cache]. Zero fields mean their defaults.
type CacheOptions struct {
	// TTL bounds how long a verified token is served from the cache; an
	// entry also ends when the token expires. A revoked token keeps working
	// for at most TTL. Default: 5 min.
	TTL time.Duration
	// Size bounds the number of tokens kept; past it expired entries are
	// dropped, then a quarter of the others. Default: 20 000 (each entry
	// holds its token: a few MB at most).
	Size int
	// Now is the clock; default time.Now. For tests.
	Now func() time.Time
}

// A Cache is a [Verifier] that remembers the principals another Verifier
// returned, until min(the token's expiry, now+TTL). A token seen before
// is served without verifying it again: a map read keyed by a hash of
// the token (hash/maphash with a per-cache random seed), then a
// comparison with the token the entry holds, so that a hash collision is
// a miss, never another token's principal. Failures are not cached. It is
// safe for concurrent use.
type Cache struct {
	v       Verifier
	ttl     time.Duration
	size    int
	now     func() time.Time
	seed    maphash.Seed
	m       *xsync.MapOf[uint64, cacheEntry]
	pruning atomic.Bool // one prune at a time
}

type cacheEntry struct {
	token string // a copy of the token, compared on every hit
	p     *mcp.Principal
	until int64 // Unix nanoseconds
}

// NewCache returns a Cache in front of v. A nil opts means defaults.
func NewCache(v Verifier, opts *CacheOptions) *Cache {
	c := &Cache{v: v, ttl: DefaultCacheTTL, size: DefaultCacheSize, now: time.Now}
	if opts != nil {
		if opts.TTL > 0 {
			c.ttl = opts.TTL
		}
		if opts.Size > 0 {
			c.size = opts.Size
		}
		if opts.Now != nil {
			c.now = opts.Now
		}
	}
	c.seed = maphash.MakeSeed()
	c.m = xsync.NewMapOf[uint64, cacheEntry]()
	return c
}

// Verify returns the principal of token from the cache, or verifies it
// with the Verifier behind and keeps the result. A hit does not allocate
// (TestCacheHitAllocs); token is not retained.
func (c *Cache) Verify(ctx context.Context, token string) (*mcp.Principal, error) {
	key := maphash.String(c.seed, token)
	now := c.now().UnixNano()
	if e, ok := c.m.Load(key); ok {
		if now < e.until && e.token == token {
			return e.p, nil
		}
		c.m.Delete(key)
	}
	token = strings.Clone(token) // kept in the entry; token may alias request memory
	p, err := c.v.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	until := now + int64(c.ttl)
	if !p.Expiry.IsZero() {
		if exp := p.Expiry.UnixNano(); exp < until {
			until = exp
		}
	}
	if until > now {
		if c.m.Size() >= c.size {
			c.prune(now)
		}
		c.m.Store(key, cacheEntry{token: token, p: p, until: until})
	}
	return p, nil
}

// Close closes the Verifier behind the cache, if it has a Close method
// (a [JWT] stops its key set refresh).
func (c *Cache) Close() error { return closeVerifier(c.v) }

// Len returns the number of tokens cached.
func (c *Cache) Len() int { return c.m.Size() }

// prune drops expired entries and, if the cache is still full, a quarter
// of the rest (those the map's iteration meets first).
func (c *Cache) prune(now int64) {
	if !c.pruning.CompareAndSwap(false, true) {
		return
	}
	defer c.pruning.Store(false)
	c.m.Range(func(k uint64, e cacheEntry) bool {
		if now >= e.until {
			c.m.Delete(k)
		}
		return true
	})
	if drop := c.m.Size() - c.size*3/4; drop > 0 {
		c.m.Range(func(k uint64, _ cacheEntry) bool {
			c.m.Delete(k)
			drop--
			return drop > 0
		})
	}
}
