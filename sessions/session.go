package sessions

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// An EndReason says why a session ended.
type EndReason uint32

// Why sessions end.
const (
	EndDelete   EndReason = iota + 1 // the client sent DELETE
	EndIdle                          // idle for longer than Options.IdleTimeout
	EndShutdown                      // the server shut down (Map.Close)
	EndClosed                        // the owner called Session.End for its own reason
	EndEvicted                       // with a Store: idle here, dropped from this node's cache; it lives on in the store
	EndGone                          // with a Store: ended elsewhere (another node's DELETE, expiry in the store)

	// MaxEndReason is the largest EndReason, for tables indexed by reason.
	MaxEndReason = EndGone
)

// String returns "delete", "idle", "shutdown", "closed", "evicted" or
// "gone".
func (r EndReason) String() string {
	switch r {
	case EndDelete:
		return "delete"
	case EndIdle:
		return "idle"
	case EndShutdown:
		return "shutdown"
	case EndClosed:
		return "closed"
	case EndEvicted:
		return "evicted"
	case EndGone:
		return "gone"
	}
	return "live"
}

// A Session is one MCP session of the 2025 revisions (2025-11-25
// basic/transports §Session Management). It is safe for concurrent use.
//
// Lifecycle: made by [Map.Create], live until [Session.End]; End removes it
// from the map, closes [Session.Done], detaches every stream reader and
// drops every buffered event.
type Session struct {
	m       *Map
	id      string
	version string
	conn    mcp.Conn // the backend's connection for the session; set by Create, then read-only
	created time.Time

	lastActive atomic.Int64  // unix nanoseconds of the last Touch
	eventBytes atomic.Int64  // event data bytes of the retained streams' logs (Stream.bytes summed)
	holds      atomic.Int32  // requests in flight + readers attached; >0 means busy
	reason     atomic.Uint32 // EndReason; 0 while live
	done       chan struct{} // closed by End

	// With a Store (storemap.go):
	savedRev atomic.Uint64 // the conn's state Revision last saved to the store
	savedAnn atomic.Uint64 // and its AnnounceRevision
	stale    atomic.Bool   // another node changed the record: reload before use
	flushed  int64         // lastActive at the flusher's last touch; the flusher's own

	mu         sync.Mutex         // guards the fields below
	streams    map[uint64]*Stream // by stream ID; 0 is the GET stream; nil after End
	nextStream uint64             // the last POST stream ID handed out
}

func newSession(m *Map, id, version string, conn mcp.Conn) *Session {
	s := &Session{
		m:       m,
		id:      id,
		version: version,
		conn:    conn,
		created: time.Now(),
		done:    make(chan struct{}),
		streams: make(map[uint64]*Stream),
	}
	s.lastActive.Store(s.created.UnixNano())
	if es := m.eventStore(); es != nil { // stream IDs of this node (mirror.go)
		s.nextStream = uint64(es.Node()) << 32
	}
	return s
}

// ID returns the session ID, as sent in the Mcp-Session-Id header.
func (s *Session) ID() string { return s.id }

// ProtocolVersion returns the protocol version negotiated at initialize.
func (s *Session) ProtocolVersion() string { return s.version }

// Conn returns the backend's connection for the session, given to
// [Map.Create]. It does not allocate.
func (s *Session) Conn() mcp.Conn { return s.conn }

// Record returns the session as plain data, for a session store: its
// conn's [mcp.SessionState.Record] with the ID, creation and last activity
// the map keeps (times in UTC). With no conn, only those are set.
func (s *Session) Record() mcp.SessionRecord {
	var r mcp.SessionRecord
	if s.conn != nil {
		r = s.conn.State().Record()
	}
	r.ID = s.id
	r.Created = s.created.UTC()
	r.LastUsed = time.Unix(0, s.lastActive.Load()).UTC()
	return r
}

// Created returns when the session started.
func (s *Session) Created() time.Time { return s.created }

// Done returns a channel closed when the session ends.
func (s *Session) Done() <-chan struct{} { return s.done }

// Reason returns why the session ended, or 0 while it is live.
func (s *Session) Reason() EndReason { return EndReason(s.reason.Load()) }

// Touch records activity now, postponing idle expiry. It does not allocate.
func (s *Session) Touch() { s.lastActive.Store(time.Now().UnixNano()) }

// Hold marks the session busy (a request in flight, a stream attached) so
// that idle expiry passes it by, until the matching [Session.Release].
func (s *Session) Hold() { s.holds.Add(1) }

// Release undoes one [Session.Hold] and records activity. With a Store,
// it first saves the session's record if the request made a change the
// other nodes must learn at once (logging/setLevel, resources/subscribe),
// so that the next request finds it on any node; the flusher saves the
// others (notifications/initialized).
func (s *Session) Release() {
	if st := s.m.st; st != nil {
		st.save(s, true)
	}
	s.Touch()
	s.holds.Add(-1)
}

// End ends the session for reason: it leaves the map (so its ID gets 404
// from now on), Done is closed, readers are detached and buffered events
// dropped. End reports whether this call ended it; later calls do nothing.
func (s *Session) End(reason EndReason) bool {
	if !s.reason.CompareAndSwap(0, uint32(reason)) {
		return false
	}
	s.m.remove(s)
	if st := s.m.st; st != nil {
		st.ended(s, reason)
	}
	close(s.done)
	s.mu.Lock()
	streams := s.streams
	s.streams = nil
	s.mu.Unlock()
	for _, st := range streams {
		st.drop()
	}
	if s.m.opts.OnEnd != nil {
		s.m.opts.OnEnd(s, reason)
	}
	return true
}

// NewStream returns a new stream for the response to a POST, with the next
// stream ID (1, 2, …), or nil if the session has ended. Past
// MaxStreamsPerSession, the oldest retained stream is dropped first.
func (s *Session) NewStream() *Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams == nil {
		return nil
	}
	s.nextStream++
	st := newStream(s, s.nextStream)
	s.streams[st.id] = st
	s.evictLocked()
	return st
}

// Standalone returns the session's GET stream (stream 0), made on first
// use, or nil if the session has ended. Messages appended to it before a
// client opens the GET stream wait there, within MaxEventsPerStream.
func (s *Session) Standalone() *Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams == nil {
		return nil
	}
	st := s.streams[0]
	if st == nil {
		st = newStream(s, 0)
		s.streams[0] = st
	}
	return st
}

// Stream returns the retained stream with the given ID, or nil.
func (s *Session) Stream(id uint64) *Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[id]
}

// RetainDelivered is how many delivered POST streams (finished and written
// out to the end) a session keeps resumable, in case the connection they
// were written to was already dead.
const RetainDelivered = 4

// evictLocked drops retained POST streams past MaxStreamsPerSession:
// delivered ones first, then finished ones, oldest first; then the oldest
// open ones, whose readers keep working but which can no longer be
// resumed.
func (s *Session) evictLocked() {
	for s.postStreamsLocked() > s.m.opts.MaxStreamsPerSession {
		if !s.evictOneLocked(false) {
			return
		}
	}
}

// trimDelivered drops the oldest delivered streams past RetainDelivered.
func (s *Session) trimDelivered() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		n := 0
		for _, st := range s.streams {
			if st.state() == streamDelivered {
				n++
			}
		}
		if n <= RetainDelivered || !s.evictOneLocked(true) {
			return
		}
	}
}

// evictOneLocked drops the retained POST stream that matters least for
// resumption (see evictLocked); only a delivered one if deliveredOnly. It
// reports whether it dropped one.
func (s *Session) evictOneLocked(deliveredOnly bool) bool {
	var victim *Stream
	var vs streamState
	for id, st := range s.streams {
		if id == 0 {
			continue
		}
		ss := st.state()
		if deliveredOnly && ss != streamDelivered {
			continue
		}
		if victim == nil || ss > vs || ss == vs && id < victim.id {
			victim, vs = st, ss
		}
	}
	if victim == nil {
		return false
	}
	s.forgetLocked(victim)
	return true
}

// forgetLocked stops retaining st: it leaves s.streams, and its bytes the
// session's count. A reader still attached keeps reading it.
func (s *Session) forgetLocked(st *Stream) {
	delete(s.streams, st.id)
	st.mu.Lock()
	st.uncountLocked()
	st.mu.Unlock()
}

// trimEventBytes drops events while the session's logs hold more than
// MaxSessionEventBytes: first the oldest events of the other streams,
// taking streams in eviction order (delivered, finished, open; the oldest
// first; the GET stream as the oldest open one) and forgetting a finished
// stream left empty, then the older events of appended, the stream just
// appended to, whose newest event is kept. Each stream it takes costs one
// pass over the session's streams (at most MaxStreamsPerSession + 1).
//
// Lock order: the session's lock, then one stream's at a time; Append
// calls it after releasing the stream's lock.
func (s *Session) trimEventBytes(appended *Stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	budget := int64(s.m.opts.MaxSessionEventBytes)
	for {
		over := s.eventBytes.Load() - budget
		if over <= 0 || s.streams == nil {
			return
		}
		var victim *Stream
		var vs streamState
		for id, st := range s.streams {
			if st == appended {
				continue
			}
			ss, n := st.rank()
			if n == 0 {
				continue
			}
			if victim == nil || ss > vs || ss == vs && id < victim.id {
				victim, vs = st, ss
			}
		}
		if victim == nil {
			if s.streams[appended.id] == appended {
				appended.trimFront(over, 1)
			}
			return
		}
		_, ss, empty := victim.trimFront(over, 0)
		if empty && ss != streamOpen {
			s.forgetLocked(victim)
		}
	}
}

// postStreamsLocked counts the retained POST streams (the GET stream,
// ID 0, does not count against MaxStreamsPerSession).
func (s *Session) postStreamsLocked() int {
	if _, ok := s.streams[0]; ok {
		return len(s.streams) - 1
	}
	return len(s.streams)
}
