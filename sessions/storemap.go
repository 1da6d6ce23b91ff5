package sessions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/puzpuzpuz/xsync/v3"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// storeCloseTimeout bounds what [Map.Close] asks of the store: the last
// touches and the deletes of sessions no other node can serve.
const storeCloseTimeout = 2 * time.Second

// storeState is the part of a Map that works with its Store.
type storeState struct {
	m       *Map
	store   Store
	restore func(*Session, *mcp.SessionRecord) (mcp.Conn, error)
	ttl     time.Duration // the records' idle expiry: Options.IdleTimeout, 0 for none
	max     int           // the cap across nodes: Options.MaxSessions, 0 for none

	dead     *xsync.MapOf[string, struct{}] // IDs the store said were gone
	deadMu   sync.Mutex                     // guards deadRing, deadNext
	deadRing []string                       // the same IDs, oldest first from deadNext: evicted in order
	deadNext int

	delMu   sync.Mutex
	delWait []string // deletes that failed, retried by the flusher

	flushWG sync.WaitGroup
	flushes atomic.Uint64 // flushes done; for tests

	events    EventStore         // the store, if it keeps event logs (mirror.go)
	life      context.Context    // cancelled by close: stops the followers
	cancel    context.CancelFunc //
	followers sync.WaitGroup     // mirror followers (Session.follow)
}

func newStoreState(m *Map) *storeState {
	st := &storeState{
		m:        m,
		store:    m.opts.Store,
		restore:  m.opts.Restore,
		ttl:      max(m.opts.IdleTimeout, 0),
		max:      max(m.opts.MaxSessions, 0),
		dead:     xsync.NewMapOf[string, struct{}](),
		deadRing: make([]string, m.opts.DeadIDs),
	}
	st.events, _ = st.store.(EventStore)
	st.life, st.cancel = context.WithCancel(context.Background())
	st.store.Watch(st.watch)
	st.flushWG.Add(1)
	go st.flusher()
	return st
}

// ctx returns the context of one store operation. The store bounds each
// operation itself (Store's doc); this is the outer bound.
func (st *storeState) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

// create is Map.Create with a store: the record first, then the map.
func (st *storeState) create(version string, conn mcp.Conn) (*Session, error) {
	m := st.m
	s := newSession(m, st.store.NewID(), version, conn)
	rec := s.Record()
	ctx, cancel := st.ctx()
	err := st.store.Create(ctx, &rec, st.ttl, st.max)
	cancel()
	if err != nil {
		return nil, err
	}
	if conn != nil {
		s.savedRev.Store(conn.State().Revision())
		s.savedAnn.Store(conn.State().AnnounceRevision())
	}
	m.live.Add(1)
	m.m.Store(s.id, s)
	if m.closed.Load() { // lost a race with Close
		s.End(EndShutdown)
		return nil, ErrClosed
	}
	return s, nil
}

// fresh reports whether s, held here, may be served without asking the
// store: not changed by another node since it was loaded, and busy or
// used within the idle timeout (past it the store may have expired it).
// It does not allocate.
func (st *storeState) fresh(s *Session) bool {
	if s.stale.Load() {
		return false
	}
	if st.ttl <= 0 || s.holds.Load() > 0 {
		return true
	}
	return time.Now().UnixNano()-s.lastActive.Load() < int64(st.ttl)
}

// resolve is Map.Resolve past the map: held is the session held here
// (stale or possibly expired), or nil.
func (st *storeState) resolve(id string, held *Session) (*Session, error) {
	if held == nil {
		if _, dead := st.dead.Load(id); dead {
			return nil, nil
		}
		if st.m.closed.Load() { // shutting down: the session lives on elsewhere
			return nil, ErrClosed
		}
	}
	ctx, cancel := st.ctx()
	rec, err := st.store.Load(ctx, id)
	cancel()
	switch {
	case errors.Is(err, ErrNotFound):
		st.markDead(strings.Clone(id))
		if held != nil {
			held.End(EndGone)
		}
		return nil, nil
	case err != nil:
		if held != nil {
			return held, nil // served from here while the store is down
		}
		if !errors.Is(err, ErrStoreUnavailable) {
			// A record this node cannot read (one of a newer encoding,
			// during a rolling deploy): it cannot serve the session, and
			// the client starts over.
			return nil, nil
		}
		return nil, err
	case rec.ID != id:
		return nil, fmt.Errorf("%w: the record of %s names %s", ErrStoreUnavailable, id, rec.ID)
	}
	if held != nil {
		if c := held.conn; c != nil {
			c.State().Apply(rec)
			held.savedRev.Store(c.State().Revision())
			held.savedAnn.Store(c.State().AnnounceRevision())
		}
		held.stale.Store(false)
		held.Touch()
		return held, nil
	}
	return st.adopt(rec)
}

// adopt makes the session of rec, started on another node, a session of
// this map, rebuilding its Conn with Options.Restore. Concurrent adopts of
// one ID make one session.
func (st *storeState) adopt(rec *mcp.SessionRecord) (*Session, error) {
	if st.m.closed.Load() { // shutting down: the session lives on elsewhere
		return nil, ErrClosed
	}
	if st.restore == nil {
		return nil, nil
	}
	m := st.m
	id := strings.Clone(rec.ID)
	var made bool
	s, _ := m.m.Compute(id, func(old *Session, loaded bool) (*Session, bool) {
		if loaded {
			return old, false
		}
		s := newSession(m, id, rec.ProtocolVersion, nil)
		if !rec.Created.IsZero() {
			s.created = rec.Created
		}
		conn, err := st.restore(s, rec)
		if err != nil || conn == nil {
			return nil, true // nothing stored
		}
		s.conn = conn
		s.savedRev.Store(conn.State().Revision())
		s.savedAnn.Store(conn.State().AnnounceRevision())
		made = true
		return s, false
	})
	if s == nil {
		st.markDead(id) // this node cannot serve it; do not ask again
		return nil, nil
	}
	if made {
		m.live.Add(1)
		if m.closed.Load() {
			s.End(EndShutdown)
			return nil, ErrClosed
		}
	}
	return s, nil
}

// markDead remembers id as gone; the oldest remembered goes past
// Options.DeadIDs.
func (st *storeState) markDead(id string) {
	if _, loaded := st.dead.LoadOrStore(id, struct{}{}); loaded {
		return
	}
	st.deadMu.Lock()
	if old := st.deadRing[st.deadNext]; old != "" {
		st.dead.Delete(old)
	}
	st.deadRing[st.deadNext] = id
	st.deadNext = (st.deadNext + 1) % len(st.deadRing)
	st.deadMu.Unlock()
}

// watch is the store's Watch callback: another node changed or ended a
// session. It does not block: a change only marks the session stale (the
// next request reloads it); an end ends it here.
func (st *storeState) watch(id string, ended bool) {
	s, _ := st.m.m.Load(id)
	if ended {
		st.markDead(id)
		if s != nil {
			s.End(EndGone)
		}
		return
	}
	if s != nil {
		s.stale.Store(true)
	}
}

// ended is called by Session.End after s left the map: the store forgets
// a session that ended for good. A DELETE is done before End returns (the
// client's next request may land on another node); the store's failure
// leaves the delete to the flusher.
func (st *storeState) ended(s *Session, reason EndReason) {
	switch reason {
	case EndEvicted, EndGone:
		return // alive in the store, or already gone from it
	case EndShutdown:
		if st.restore != nil {
			return // others serve it
		}
		st.queueDelete(s.id) // Close deletes it
		return
	}
	st.markDead(s.id)
	ctx, cancel := st.ctx()
	err := st.store.Delete(ctx, s.id)
	cancel()
	if err != nil {
		st.queueDelete(s.id)
	}
}

func (st *storeState) queueDelete(id string) {
	st.delMu.Lock()
	st.delWait = append(st.delWait, id)
	st.delMu.Unlock()
}

// save writes s's record if its state changed since it was last saved,
// announcing it to the other nodes if the change is one they must learn
// at once (mcp.SessionState.AnnounceRevision). With urgentOnly it writes
// only such a change, and leaves the others (notifications/initialized)
// to the flusher: no node needs them before then (a node that opens the
// session's GET stream marks it initialized itself). [Session.Release]
// calls it with urgentOnly, the flusher without; it does not allocate
// when nothing is to be written.
func (st *storeState) save(s *Session, urgentOnly bool) {
	c := s.conn
	if c == nil {
		return
	}
	state := c.State()
	rev := state.Revision()
	if s.savedRev.Load() == rev {
		return
	}
	ann := state.AnnounceRevision()
	if urgentOnly && ann == s.savedAnn.Load() {
		return
	}
	rec := s.Record()
	ctx, cancel := st.ctx()
	err := st.store.Save(ctx, &rec, ann != s.savedAnn.Load())
	cancel()
	switch {
	case err == nil:
		s.savedRev.Store(rev)
		s.savedAnn.Store(ann)
	case errors.Is(err, ErrNotFound):
		s.End(EndGone)
	} // else: the flusher tries again
}

// flushInterval is how often the flusher postpones the expiry of the
// sessions used here: a tenth of the idle timeout, within [10ms, 30s].
func (st *storeState) flushInterval() time.Duration {
	if st.ttl <= 0 {
		return 30 * time.Second
	}
	return min(max(st.ttl/10, 10*time.Millisecond), 30*time.Second)
}

// flusher postpones the expiry of the sessions used here, saves changed
// records and retries failed deletes, every flushInterval, until Close.
// Owner: the Map; exit: Close.
func (st *storeState) flusher() {
	defer st.flushWG.Done()
	t := time.NewTicker(st.flushInterval())
	defer t.Stop()
	for {
		select {
		case <-st.m.stop:
			return
		case <-t.C:
			ctx, cancel := st.ctx()
			st.flush(ctx, false)
			cancel()
		}
	}
}

// flush does one round of the flusher's work; all touches every session
// held here, used or not.
func (st *storeState) flush(ctx context.Context, all bool) {
	var ids []string
	st.m.Range(func(s *Session) bool {
		st.save(s, false)
		la := s.lastActive.Load()
		if all || st.ttl > 0 && (s.holds.Load() > 0 || la != s.flushed) {
			ids = append(ids, s.id)
			s.flushed = la
		}
		return true
	})
	if len(ids) > 0 && st.ttl > 0 {
		gone, err := st.store.Touch(ctx, ids, st.ttl)
		if err != nil {
			for _, id := range ids { // touch them again next time
				if s, _ := st.m.m.Load(id); s != nil {
					s.flushed = 0
				}
			}
		}
		for _, id := range gone {
			st.markDead(id)
			if s, _ := st.m.m.Load(id); s != nil {
				s.End(EndGone)
			}
		}
	}
	st.delMu.Lock()
	del := st.delWait
	st.delWait = nil
	st.delMu.Unlock()
	for i, id := range del {
		if err := st.store.Delete(ctx, id); err != nil {
			st.delMu.Lock()
			st.delWait = append(st.delWait, del[i:]...)
			st.delMu.Unlock()
			break
		}
	}
	st.flushes.Add(1)
}

// close is Map.Close's part with a store: the flusher stops, every session
// held here gets its expiry postponed (its clients go on elsewhere), then
// ends here; those no other node can serve are deleted from the store.
func (st *storeState) close() {
	st.flushWG.Wait()
	st.cancel()
	defer st.followers.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), storeCloseTimeout)
	defer cancel()
	if st.restore != nil {
		st.flush(ctx, true)
	}
	st.m.Range(func(s *Session) bool {
		s.End(EndShutdown)
		return true
	})
	st.flush(ctx, false) // the deletes End queued
}
