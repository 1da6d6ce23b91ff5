package sessions

import (
	"context"
	"time"
)

// Streams across nodes (issue #11). With an [EventStore], the node that
// writes a POST stream also appends its events to the store, and a node
// asked to resume a stream it does not hold (Last-Event-ID after the
// client's connection to the writer broke, or the writer's node went)
// makes a mirror of it: a local stream filled from the store, followed
// until the stream's end, that the transport attaches readers to as to
// any stream. The GET stream (0) is written by the node that holds it;
// with an EventStore its event IDs name that node ([Stream.EventStreamID])
// and its events go to the store too, so that the node a client resumes
// it on takes it over ([Session.TakeOverGET]).

// followWait is how long one read of a followed stream waits for an
// event; the follower checks between reads whether it should stop.
const followWait = 2 * time.Second

// eventStore returns the map's EventStore, or nil.
func (m *Map) eventStore() EventStore {
	if m.st == nil {
		return nil
	}
	return m.st.events
}

// shareAppend passes an event of a stream this node writes to the
// EventStore. Called by Append after the stream's lock is released.
func (st *Stream) shareAppend(seq uint64, data []byte, cur Cursor) {
	if st.mirror {
		return
	}
	if es := st.sess.m.eventStore(); es != nil {
		ss := st.sess.m.st
		es.AppendEvent(st.sess.id, st.EventStreamID(), seq, data, cur, ss.ttl, st.sess.m.opts.MaxEventsPerStream)
	}
}

// shareFinish passes the end of a stream this node writes to the
// EventStore.
func (st *Stream) shareFinish(last uint64) {
	if st.id == 0 || st.mirror {
		return
	}
	if es := st.sess.m.eventStore(); es != nil {
		es.FinishStream(st.sess.id, st.id, last, st.sess.m.st.ttl)
	}
}

// streamNode returns the number of the node that made stream id.
func streamNode(id uint64) uint32 { return uint32(id >> 32) }

// EventStreamID returns the stream ID the stream's event IDs carry: its
// ID, except that with an EventStore the GET stream's (0 here) names the
// node, Node()<<32 (the low half 0: this node's POST streams start at
// Node()<<32 + 1). The GET stream is not shared, and its sequence numbers
// are this node's own: a Last-Event-ID of it that reaches another node
// must be told from that node's GET stream, not read as one of its events
// (see [Session.OtherNodesGET]).
func (st *Stream) EventStreamID() uint64 {
	if st.id == 0 {
		if es := st.sess.m.eventStore(); es != nil {
			return uint64(es.Node()) << 32
		}
	}
	return st.id
}

// TakeOverGET makes this node's GET stream go on from another node's:
// from is that stream's ID as its event IDs carry it (OtherNodesGET), and
// after the last of its events the client received, whose broadcast
// cursor was cur (zero: unknown). The events that node wrote to the
// store after it (up to its death, or until it let the stream go) are
// appended to this node's GET stream, as its own, with their cursors, and
// TakeOverGET returns the sequence number to attach the reader after, so
// that the client gets those events and then this node's: no event the
// other node logged is lost, none repeated. The stream's cursor is then
// the last such event's, or cur (see [BroadcastLog] for what comes next).
// Without an EventStore, or when the store cannot be read, nothing is
// appended. It returns false after the session ended.
func (s *Session) TakeOverGET(from, after uint64, cur Cursor) (attachAfter uint64, ok bool) {
	st := s.Standalone()
	if st == nil {
		return 0, false
	}
	attachAfter = st.Last()
	st.SetCursor(cur)
	es := s.m.eventStore()
	if es == nil {
		return attachAfter, true
	}
	ctx, cancel := context.WithTimeout(s.m.st.life, 5*time.Second)
	defer cancel()
	for {
		evs, finished, err := es.ReadEvents(ctx, s.id, from, after, 0)
		if err != nil {
			break
		}
		for _, e := range evs {
			st.append(e.Data, true, e.Cursor, curSet)
			after = e.Seq
		}
		if finished || len(evs) == 0 {
			break
		}
	}
	return attachAfter, true
}

// OtherNodesGET reports whether the stream ID id of a Last-Event-ID
// names the GET stream of another node ([Stream.EventStreamID]). Its
// events are not shared: the transport opens this node's GET stream
// afresh in its place, as for a GET without Last-Event-ID.
func (s *Session) OtherNodesGET(id uint64) bool {
	es := s.m.eventStore()
	return es != nil && id != 0 && uint32(id) == 0 && streamNode(id) != es.Node()
}

// OwnGET reports whether the stream ID id of a Last-Event-ID names this
// node's GET stream: 0, or with an EventStore Node()<<32
// ([Stream.EventStreamID]).
func (s *Session) OwnGET(id uint64) bool {
	if id == 0 {
		return true
	}
	es := s.m.eventStore()
	return es != nil && id == uint64(es.Node())<<32
}

// ResumeStream returns the stream id (as event IDs carry it: see
// [Stream.EventStreamID]) to resume after its event after: the stream
// held here, or, with an EventStore and a POST stream another node wrote, a mirror of it filled from the store and followed until it
// ends. It returns nil when there is no such stream (or no events of it
// anywhere, and its writer is gone), and after the session ended. A
// stream whose writer is gone and whose store log ends before after
// resumes finished, with no event.
func (s *Session) ResumeStream(id, after uint64) *Stream {
	es := s.m.eventStore()
	if es != nil && id == uint64(es.Node())<<32 {
		id = 0 // this node's GET stream, as its event IDs name it
	}
	if st := s.Stream(id); st != nil || id == 0 {
		return st
	}
	if es == nil || streamNode(id) == es.Node() {
		return nil // this node's own streams are all in s.streams while resumable
	}
	ctx, cancel := context.WithTimeout(s.m.st.life, 5*time.Second)
	from := after
	if from > 0 {
		from-- // read the event after names too: it shows the stream exists
	}
	evs, finished, err := es.ReadEvents(ctx, s.id, id, from, 0)
	cancel()
	if err != nil {
		return nil
	}
	if len(evs) == 0 && !finished {
		ctx, cancel := context.WithTimeout(s.m.st.life, 5*time.Second)
		alive, err := es.NodeAlive(ctx, streamNode(id))
		if err == nil && !alive {
			// The writer is gone with nothing in the store from after on:
			// the events it had not passed to the store yet (the client
			// read some of them) died with it. A stream the store knows
			// ended where its log ends, as a follower would have found had
			// the client come back before the node's liveness key expired.
			var known []Event
			known, _, err = es.ReadEvents(ctx, s.id, id, 0, 0)
			finished = err == nil && len(known) > 0
		}
		cancel()
		if err != nil || !alive && !finished {
			return nil
		}
	}
	s.mu.Lock()
	if s.streams == nil {
		s.mu.Unlock()
		return nil
	}
	if st := s.streams[id]; st != nil { // a concurrent resume made it
		s.mu.Unlock()
		return st
	}
	st := newStream(s, id)
	st.mirror = true
	if len(evs) > 0 {
		st.last = evs[0].Seq - 1
	} else {
		st.last = after
	}
	s.streams[id] = st
	s.evictLocked()
	s.mu.Unlock()
	for _, e := range evs {
		st.appendAt(e.Seq, e.Data)
	}
	if finished {
		st.Finish()
		return st
	}
	s.m.st.followers.Add(1)
	go s.follow(st, es) // owner: the Map; exit: the stream ends, is dropped, or the Map closes
	return st
}

// follow fills the mirror st from the EventStore until the stream's end,
// the end of the session or of the Map, or its writer's node is gone
// with nothing more in the store.
func (s *Session) follow(st *Stream, es EventStore) {
	defer s.m.st.followers.Done()
	ctx, cancel := context.WithCancel(s.m.st.life)
	defer cancel()
	go func() { // owner: follow; exit: follow returns (cancel) or the session ends
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	for ctx.Err() == nil {
		if st.over() {
			return
		}
		evs, finished, err := es.ReadEvents(ctx, s.id, st.id, st.Last(), followWait)
		if err != nil {
			select { // the store is down: try again in a while
			case <-ctx.Done():
			case <-time.After(followWait):
			}
			continue
		}
		for _, e := range evs {
			st.appendAt(e.Seq, e.Data)
		}
		if finished {
			st.Finish()
			return
		}
		if len(evs) == 0 {
			if alive, err := es.NodeAlive(ctx, streamNode(st.id)); err == nil && !alive {
				st.Finish() // its writer is gone: nothing more will come
				return
			}
		}
	}
}

// over reports whether the stream takes no more events: finished or
// dropped.
func (st *Stream) over() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.finished || st.dropped
}

// appendAt appends the event seq of a mirror, as read from the store:
// one it has is skipped; after a gap (events the store no longer had)
// the events kept before it are dropped, so that the log stays
// consecutive, and a reader behind them sees them as lost.
func (st *Stream) appendAt(seq uint64, data []byte) {
	st.mu.Lock()
	if st.finished || st.dropped || seq <= st.last {
		st.mu.Unlock()
		return
	}
	if seq > st.last+1 {
		freed := int64(0)
		for _, e := range st.events {
			freed += int64(len(e.Data))
		}
		clear(st.events)
		st.events = st.events[:0]
		st.addBytesLocked(-freed)
		st.last = seq - 1
	}
	st.mu.Unlock()
	st.append(data, false, Cursor{}, curKeep)
}
