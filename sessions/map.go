package sessions

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// Errors returned by [Map.Create].
var (
	// ErrTooManySessions means [Options.MaxSessions] sessions are live. The
	// transport answers 503 with Retry-After.
	ErrTooManySessions = errors.New("sessions: too many live sessions")
	// ErrClosed means the Map was closed (the server is shutting down).
	ErrClosed = errors.New("sessions: map closed")
)

// Options configure a [Map]. The zero value (or a nil *Options) means
// defaults.
type Options struct {
	// IdleTimeout ends a session after this long with no request in flight,
	// no request received and no stream attached. Default: 30 min. Negative:
	// sessions never expire.
	IdleTimeout time.Duration
	// MaxSessions caps live sessions; past it Create fails with
	// ErrTooManySessions. Default: 100 000. Negative: no cap.
	MaxSessions int
	// MaxEventsPerStream bounds each stream's event log; the oldest events
	// are dropped first. Default: 1024.
	MaxEventsPerStream int
	// MaxStreamEventBytes bounds the bytes of event data (len of each
	// JSON-RPC message, summed) a stream's log keeps for its reader and for
	// resumption; the oldest events are dropped first, but the newest is
	// always kept, however large (a POST stream's last event is its
	// response). Default: 1 MiB.
	MaxStreamEventBytes int
	// MaxSessionEventBytes bounds the bytes of event data all the streams a
	// session retains keep together; past it the other streams' events are
	// dropped first, the least needed streams first (delivered, finished,
	// then open; oldest first), then the oldest of the stream appended to,
	// whose newest event is kept. Default: 8 MiB. A reader that falls
	// behind dropped events sees them as lost ([Reader.Next]); a resumption
	// after them replays from the oldest event kept. See [Stream].
	MaxSessionEventBytes int
	// MaxStreamsPerSession bounds the streams a session retains for
	// resumption (the GET stream does not count); past it the oldest
	// finished streams are dropped first, then the oldest open ones.
	// Default: 64.
	MaxStreamsPerSession int
	// OnEnd, if set, is called once for every session that ends, after it
	// has left the map, with the reason. It must not block.
	OnEnd func(s *Session, reason EndReason)

	// Store, if set, keeps the sessions' records outside the process so
	// that every node sharing it serves every session (see [Store] and
	// the package doc's "Session stores"). Default: nil, sessions live in
	// this process only.
	Store Store
	// Restore, with a Store, rebuilds the Conn of a session another node
	// started, from its record, for s (not yet in the map; its ID and
	// version are set). It runs under the map's lock for that ID, at most
	// once per session and node: it must not block or call back into the
	// map. An error means the session cannot be served here: 404. Nil: no
	// session of another node can be served here, and this node's
	// sessions are deleted from the store when they end here.
	Restore func(s *Session, r *mcp.SessionRecord) (mcp.Conn, error)
	// DeadIDs, with a Store, is how many IDs the store said were gone a
	// node remembers, so that a storm of stale IDs costs one store lookup
	// per ID rather than per request. Default: 65 536.
	DeadIDs int
}

// Defaults used where [Options] fields are zero.
const (
	DefaultIdleTimeout          = 30 * time.Minute
	DefaultMaxSessions          = 100_000
	DefaultMaxEventsPerStream   = 1024
	DefaultMaxStreamsPerSession = 64
	DefaultMaxStreamEventBytes  = 1 << 20
	DefaultMaxSessionEventBytes = 8 << 20
	DefaultDeadIDs              = 1 << 16
)

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.IdleTimeout == 0 {
		r.IdleTimeout = DefaultIdleTimeout
	}
	if r.MaxSessions == 0 {
		r.MaxSessions = DefaultMaxSessions
	}
	if r.MaxEventsPerStream <= 0 {
		r.MaxEventsPerStream = DefaultMaxEventsPerStream
	}
	if r.MaxStreamEventBytes <= 0 {
		r.MaxStreamEventBytes = DefaultMaxStreamEventBytes
	}
	if r.MaxSessionEventBytes <= 0 {
		r.MaxSessionEventBytes = DefaultMaxSessionEventBytes
	}
	if r.MaxStreamsPerSession <= 0 {
		r.MaxStreamsPerSession = DefaultMaxStreamsPerSession
	}
	if r.DeadIDs <= 0 {
		r.DeadIDs = DefaultDeadIDs
	}
	return r
}

// A Map holds the live sessions of one server. It is safe for concurrent
// use; reads are lock-free and writes lock one bucket (xsync.MapOf).
//
// A Map must not be copied after first use. Its one goroutine, the idle
// sweeper, exits on [Map.Close].
type Map struct {
	opts Options
	m    *xsync.MapOf[string, *Session]
	live atomic.Int64 // sessions created and not yet ended

	closed    atomic.Bool
	stop      chan struct{} // closed by Close: stops the sweeper (and the flusher)
	sweeperWG sync.WaitGroup
	closeOnce sync.Once

	st *storeState // with Options.Store; nil in memory
}

// New returns a Map with the given options (nil means defaults) and starts
// its idle sweeper when IdleTimeout is positive.
func New(opts *Options) *Map {
	m := &Map{
		opts: opts.withDefaults(),
		m:    xsync.NewMapOf[string, *Session](),
		stop: make(chan struct{}),
	}
	if m.opts.Store != nil {
		m.st = newStoreState(m)
	}
	if m.opts.IdleTimeout > 0 {
		m.sweeperWG.Add(1)
		go m.sweep()
	}
	return m
}

// Options returns the options in force, defaults filled in.
func (m *Map) Options() Options { return m.opts }

// Create starts a session for the negotiated protocol version and stores
// it. conn is the backend's connection for the session, returned by
// [Session.Conn]; the map does not close it (the owner does, from
// Options.OnEnd).
//
// It fails with ErrTooManySessions past MaxSessions and ErrClosed after
// Close. With a Store, the record is stored first (MaxSessions is then a
// cap across the nodes), and Create also fails with an error wrapping
// ErrStoreUnavailable.
func (m *Map) Create(version string, conn mcp.Conn) (*Session, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	if m.st != nil {
		return m.st.create(version, conn)
	}
	if n := m.live.Add(1); m.opts.MaxSessions > 0 && n > int64(m.opts.MaxSessions) {
		m.live.Add(-1)
		return nil, ErrTooManySessions
	}
	s := newSession(m, NewID(), version, conn)
	for _, taken := m.m.LoadOrStore(s.id, s); taken; _, taken = m.m.LoadOrStore(s.id, s) {
		s.id = NewID() // a 128-bit collision: never seen, but never overwrite
	}
	if m.closed.Load() { // lost a race with Close: do not leave it behind
		s.End(EndShutdown)
		return nil, ErrClosed
	}
	return s, nil
}

// Lookup returns the live session with the given ID held on this node,
// or nil; it never asks a Store (see [Map.Resolve]).
//
// id may alias request memory: Lookup neither retains nor copies it. An id
// that [ValidID] (or the Store's ValidID) rejects never reaches the map.
// Lookup does not allocate, on a hit or a miss; TestLookupAllocs enforces
// it.
func (m *Map) Lookup(id string) *Session {
	if !m.validID(id) {
		return nil
	}
	s, _ := m.m.Load(id)
	return s
}

// Resolve returns the live session with the given ID, or nil if there is
// none: what the transport serves a request with. Without a Store it is
// [Map.Lookup]. With one, a session held here is returned as is while it
// is fresh (used within IdleTimeout, and not changed by another node
// since); otherwise, and for an ID not held here, the store is asked
// once, and the session is rebuilt here with Options.Restore. An ID the
// store said was gone is remembered (Options.DeadIDs) and answered nil
// without asking again.
//
// The error wraps ErrStoreUnavailable when the store could not be
// reached and the session is not held here (a session held here is
// served while the store is down), and is ErrClosed for a session not
// held here once the Map is closed (it lives on in the store, for other
// nodes to serve).
//
// id may alias request memory: Resolve copies it only to keep a session
// it rebuilds. It does not allocate for an ID of the wrong shape or one
// failing the Store's check, for a fresh session held here, nor for a
// remembered dead ID (TestResolveAllocs).
func (m *Map) Resolve(id string) (*Session, error) {
	if !m.validID(id) {
		return nil, nil
	}
	s, _ := m.m.Load(id)
	if m.st == nil || s != nil && m.st.fresh(s) {
		return s, nil
	}
	return m.st.resolve(id, s)
}

// validID reports whether id has the shape of the map's IDs: the
// Store's, or [NewID]'s. It does not allocate.
func (m *Map) validID(id string) bool {
	if m.st != nil {
		return m.opts.Store.ValidID(id)
	}
	return ValidID(id)
}

// Len returns the number of live sessions.
func (m *Map) Len() int { return int(m.live.Load()) }

// Range calls f for each live session until f returns false. Sessions
// created or ended during Range may or may not be seen.
func (m *Map) Range(f func(s *Session) bool) {
	m.m.Range(func(_ string, s *Session) bool { return f(s) })
}

// Close stops the sweeper and ends every session with [EndShutdown]. Later
// calls to Create fail with ErrClosed. Close is idempotent and returns when
// the sweeper has exited.
//
// With a Store, the sessions live on in it for other nodes to serve:
// Close first postpones the expiry of every session held here, then ends
// them here only, except those no other node can serve (no
// Options.Restore), which it deletes from the store. It gives the store
// at most storeCloseTimeout in all.
func (m *Map) Close() {
	m.closeOnce.Do(func() {
		m.closed.Store(true)
		close(m.stop)
		m.sweeperWG.Wait()
		if m.st != nil {
			m.st.close()
			return
		}
		m.Range(func(s *Session) bool {
			s.End(EndShutdown)
			return true
		})
	})
}

// sweepInterval is how often the sweeper looks for idle sessions: a tenth
// of the idle timeout, within [1s, 1min].
func (m *Map) sweepInterval() time.Duration {
	return min(max(m.opts.IdleTimeout/10, time.Second), time.Minute)
}

// sweep ends idle sessions until Close. Owner: the Map; exit: Close.
func (m *Map) sweep() {
	defer m.sweeperWG.Done()
	t := time.NewTicker(m.sweepInterval())
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case now := <-t.C:
			m.ExpireIdle(now)
		}
	}
}

// ExpireIdle ends, with [EndIdle], every session that has been idle for
// longer than IdleTimeout at now, and returns how many it ended. The
// sweeper calls it; it is exported for tests and for operators that drive
// expiry themselves.
func (m *Map) ExpireIdle(now time.Time) int {
	if m.opts.IdleTimeout <= 0 {
		return 0
	}
	deadline := now.Add(-m.opts.IdleTimeout).UnixNano()
	reason := EndIdle
	if m.st != nil && m.opts.Restore != nil {
		reason = EndEvicted // idle here; the store keeps it as long as others use it
	}
	n := 0
	m.Range(func(s *Session) bool {
		if s.holds.Load() == 0 && s.lastActive.Load() < deadline {
			if s.End(reason) {
				n++
			}
		}
		return true
	})
	return n
}

// remove takes s out of the map, if it is still s's entry (a session
// rebuilt from a store may have lost a race for its ID).
func (m *Map) remove(s *Session) {
	if m.st == nil { // IDs are unique in the map (Create): this is s's entry
		m.m.Delete(s.id)
		m.live.Add(-1)
		return
	}
	removed := false
	m.m.Compute(s.id, func(old *Session, loaded bool) (*Session, bool) {
		if loaded && old == s {
			removed = true
			return nil, true
		}
		return old, !loaded
	})
	if removed {
		m.live.Add(-1)
	}
}
