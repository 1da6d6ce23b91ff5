package sessions

import "sync"

// An Event is one SSE event of a stream: its sequence number (1, 2, … per
// stream) and a JSON-RPC message. Data is never modified once appended.
type Event struct {
	Seq  uint64
	Data []byte
}

// A Stream is the ordered event log of one SSE stream of a session: the
// response stream of a POST, or the GET stream (ID 0). Writers append
// without blocking; at most one [Reader] (an HTTP response) is attached at
// a time, and attaching a new one, as a GET with Last-Event-ID does,
// detaches the old (2025-11-25 basic/transports §Resumability and
// Redelivery).
type Stream struct {
	sess *Session
	id   uint64

	mu       sync.Mutex    // guards the fields below
	events   []Event       // retained events, ascending Seq; at most MaxEventsPerStream
	last     uint64        // Seq of the last event appended; 0 before the first
	finished bool          // Finish was called: no more events
	dropped  bool          // the session ended or the stream was dropped
	wake     chan struct{} // the attached reader's wake-up channel (cap 1), or nil
	notify   func()        // the attached reader's wake-up function, or nil
	gen      uint64        // attach generation; a Reader with another is detached
	read     uint64        // the cursor of the last reader when it closed
	// delivered: finished, and a reader wrote every event. The writes may
	// still have gone into a dead connection, so the stream stays
	// resumable until evicted (first among the retained streams).
	delivered bool
}

func newStream(s *Session, id uint64) *Stream {
	return &Stream{sess: s, id: id}
}

// ID returns the stream ID, the first part of its event IDs.
func (st *Stream) ID() uint64 { return st.id }

// Session returns the session the stream belongs to.
func (st *Stream) Session() *Session { return st.sess }

// Append adds a JSON-RPC message to the stream and wakes the attached
// reader. It takes ownership of data and never blocks. Past
// MaxEventsPerStream the oldest event is dropped. It returns the event's
// sequence number, or false if the stream is finished or dropped.
func (st *Stream) Append(data []byte) (seq uint64, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.finished || st.dropped {
		return 0, false
	}
	st.last++
	if max := st.sess.m.opts.MaxEventsPerStream; len(st.events) >= max {
		n := copy(st.events, st.events[len(st.events)-max+1:])
		clear(st.events[n:])
		st.events = st.events[:n]
	}
	st.events = append(st.events, Event{Seq: st.last, Data: data})
	st.wakeLocked()
	return st.last, true
}

// Finish marks the stream complete: no more events will be appended (the
// last one carried the final JSON-RPC response). The attached reader
// returns [ReadFinished] once it has read everything.
func (st *Stream) Finish() {
	st.mu.Lock()
	st.finished = true
	st.wakeLocked()
	st.mu.Unlock()
}

// A streamState ranks streams for eviction: higher goes first.
type streamState uint8

const (
	streamOpen      streamState = iota // more events may come
	streamFinished                     // the response is in; not all written out
	streamDelivered                    // finished and written out to the end
)

func (st *Stream) state() streamState {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.delivered:
		return streamDelivered
	case st.finished:
		return streamFinished
	}
	return streamOpen
}

func (st *Stream) wakeLocked() {
	if st.wake != nil {
		select {
		case st.wake <- struct{}{}:
		default:
		}
	}
	if st.notify != nil {
		st.notify()
	}
}

// detachLocked tells the attached reader, if any, that it is detached
// (its Wake channel closes, or its notify function is called) and forgets
// it. It reports whether a reader was attached.
func (st *Stream) detachLocked() bool {
	switch {
	case st.wake != nil:
		close(st.wake)
		st.wake = nil
	case st.notify != nil:
		st.notify()
		st.notify = nil
	default:
		return false
	}
	return true
}

// drop detaches the reader and releases the events; the session ended.
func (st *Stream) drop() {
	st.mu.Lock()
	st.dropped = true
	st.events = nil
	st.detachLocked()
	st.mu.Unlock()
}

// Last returns the sequence number of the last event appended, 0 if none.
func (st *Stream) Last() uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.last
}

// Attach attaches a new reader that will read the events after sequence
// number after (0: from the start), detaching the previous reader if any,
// as a resumption with Last-Event-ID does. The reader holds the session
// busy until [Reader.Close].
func (st *Stream) Attach(after uint64) *Reader {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.attachLocked(after, nil)
}

// AttachNotify is Attach for a reader that is woken by a call of notify
// instead of a channel, so that no goroutine has to wait on it: notify is
// called, with the stream's lock held, whenever Next may have something
// new to say (events, the end, or detachment). It must not block and must
// not call back into the stream.
func (st *Stream) AttachNotify(after uint64, notify func()) *Reader {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.attachLocked(after, notify)
}

// TryAttach attaches a reader that continues where the previous one
// stopped, unless a reader is attached: then it returns false. The GET
// stream uses it (one per session).
func (st *Stream) TryAttach() (*Reader, bool) {
	return st.TryAttachNotify(nil)
}

// TryAttachNotify is TryAttach for a reader woken by notify (see
// AttachNotify); a nil notify means a channel.
func (st *Stream) TryAttachNotify(notify func()) (*Reader, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.wake != nil || st.notify != nil || st.dropped {
		return nil, false
	}
	return st.attachLocked(st.read, notify), true
}

func (st *Stream) attachLocked(after uint64, notify func()) *Reader {
	st.detachLocked() // the old reader, if any, then sees it is detached
	st.gen++
	r := &Reader{st: st, gen: st.gen, cursor: after}
	if notify != nil {
		st.notify = notify
	} else {
		st.wake = make(chan struct{}, 1)
		r.wake = st.wake
		if st.finished || len(st.events) > 0 {
			st.wake <- struct{}{} // something may be ready already
		}
	}
	st.sess.Hold()
	return r
}

// Kick detaches the attached reader, if any, without attaching another:
// its HTTP response ends, and the stream goes on collecting events for a
// resumption with Last-Event-ID. This is the server-initiated disconnect
// of 2025-11-25 basic/transports §Sending Messages to the Server, item 6
// (SEP-1699). It reports whether a reader was attached.
func (st *Stream) Kick() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.detachLocked() {
		return false
	}
	st.gen++
	return true
}

// Attached reports whether a reader is attached.
func (st *Stream) Attached() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.wake != nil || st.notify != nil
}

// A ReadStatus says what [Reader.Next] found.
type ReadStatus uint8

// Reader states.
const (
	ReadMore     ReadStatus = iota // more events may come; wait on Wake
	ReadFinished                   // the stream is finished and every event was returned
	ReadDetached                   // another reader took over, or the session ended
)

// A Reader reads a [Stream] for one HTTP response. It is used by one
// goroutine; its Close must be called once when the response ends.
type Reader struct {
	st     *Stream
	gen    uint64
	wake   chan struct{}
	cursor uint64
	closed bool
}

// Stream returns the stream being read.
func (r *Reader) Stream() *Stream { return r.st }

// Cursor returns the sequence number of the last event returned by Next
// (or given to Attach).
func (r *Reader) Cursor() uint64 { return r.cursor }

// Wake returns a channel that receives (or is closed) when Next may have
// something new to say; nil for a reader attached with a notify function.
func (r *Reader) Wake() <-chan struct{} { return r.wake }

// Next appends to buf the retained events after the cursor, advances the
// cursor past them and returns them with the reader's status. lost counts
// events that were dropped (MaxEventsPerStream) before this reader could
// read them. Next does not allocate when buf has room.
func (r *Reader) Next(buf []Event) (evs []Event, lost uint64, status ReadStatus) {
	st := r.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.dropped || st.gen != r.gen {
		return buf, 0, ReadDetached
	}
	evs = buf
	for _, e := range st.events {
		if e.Seq > r.cursor {
			if len(evs) == len(buf) && e.Seq > r.cursor+1 {
				lost = e.Seq - r.cursor - 1
			}
			evs = append(evs, e)
		}
	}
	if len(evs) == len(buf) && st.last > r.cursor {
		lost = st.last - r.cursor // all of them were dropped
	}
	r.cursor = st.last
	if st.finished {
		return evs, lost, ReadFinished
	}
	return evs, lost, ReadMore
}

// Close detaches the reader, if still attached, and releases its hold on
// the session. When the reader has read a finished POST stream to its end,
// the stream is marked delivered: a flush into a connection the client
// already dropped often succeeds, so it stays resumable, but the session
// keeps only the last [RetainDelivered] delivered streams. Close is
// idempotent.
func (r *Reader) Close() {
	if r.closed {
		return
	}
	r.closed = true
	st := r.st
	st.mu.Lock()
	delivered := false
	if st.gen == r.gen && !st.dropped {
		st.wake = nil
		st.notify = nil
		st.read = r.cursor
		delivered = st.finished && r.cursor == st.last && st.id != 0
		st.delivered = st.delivered || delivered
	}
	st.mu.Unlock()
	if delivered {
		st.sess.trimDelivered()
	}
	st.sess.Release()
}
