package sessions

import "sync"

// An Event is one SSE event of a stream: its sequence number (1, 2, … per
// stream) and a JSON-RPC message. Data is never modified once appended.
// Cursor is, on a GET stream whose node delivers broadcasts from a
// [BroadcastLog], the stream's broadcast cursor once the event was
// appended (see [Stream.AppendCursor]); zero otherwise.
type Event struct {
	Seq    uint64
	Data   []byte
	Cursor Cursor
}

// A Stream is the ordered event log of one SSE stream of a session: the
// response stream of a POST, or the GET stream (ID 0). Writers append
// without blocking; at most one [Reader] (an HTTP response) is attached at
// a time, and attaching a new one, as a GET with Last-Event-ID does,
// detaches the old (2025-11-25 basic/transports §Resumability and
// Redelivery).
//
// The log keeps a suffix of the events appended, for the attached reader
// and for resumption, within three bounds ([Options]), the oldest events
// dropped first:
//   - MaxEventsPerStream events (default 1024);
//   - MaxStreamEventBytes bytes of event data, len(Event.Data) summed
//     (default 1 MiB), except that the newest event is always kept, however
//     large: the last event of a POST stream is its response, what a
//     resumption most needs;
//   - MaxSessionEventBytes bytes of event data over all the streams the
//     session retains (default 8 MiB): past it, Append drops events of the
//     session's other streams first, in the order streams are evicted
//     (delivered, then finished, then open, the GET stream counting as the
//     oldest open one; oldest first), a finished stream left empty is
//     forgotten, and only then older events of the stream appended to,
//     whose newest event is again kept.
//
// So once an Append returns, the session's logs hold at most
// MaxSessionEventBytes, or only the event just appended when it alone is
// larger (the per-stream budget never drops the newest event; the session
// budget drops other streams' newest events too). Events dropped before the
// attached reader read them are reported by [Reader.Next] as lost; a
// resumption after them replays from the oldest event kept
// ([Stream.CanResume] says whether one would have a gap): the spec lets a
// server replay what it can (2025-11-25 basic/transports §Resumability and
// Redelivery).
type Stream struct {
	sess *Session
	id   uint64

	mu       sync.Mutex    // guards the fields below
	events   []Event       // retained events, ascending and consecutive Seq (see Stream for the bounds)
	bytes    int64         // the sum of len(Data) over events
	counted  bool          // bytes are counted in sess.eventBytes: the session retains the stream
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
	mirror    bool // a copy of another node's stream, filled from the EventStore (mirror.go)
	// cursor is the broadcast cursor of a GET stream (broadcast.go): every
	// broadcast of the log up to it that concerns the session is in the
	// stream, none after it is. Zero: none kept.
	cursor Cursor
	// held: this node holds the GET stream (its claim) and delivers the
	// broadcasts to it (broadcast.go).
	held bool
}

// newStream makes a stream the session retains (and counts the bytes of);
// the caller adds it to s.streams.
func newStream(s *Session, id uint64) *Stream {
	return &Stream{sess: s, id: id, counted: true}
}

// ID returns the stream ID, the first part of its event IDs.
func (st *Stream) ID() uint64 { return st.id }

// Session returns the session the stream belongs to.
func (st *Stream) Session() *Session { return st.sess }

// Append adds a JSON-RPC message to the stream and wakes the attached
// reader. It takes ownership of data and never blocks. It drops the
// oldest events past MaxEventsPerStream and MaxStreamEventBytes, keeping
// the new one whatever its size, and then, past MaxSessionEventBytes,
// events of the session's streams (see [Stream] for the order). It returns
// the event's sequence number, or false if the stream is finished or
// dropped.
func (st *Stream) Append(data []byte) (seq uint64, ok bool) {
	return st.append(data, true, Cursor{}, curKeep)
}

// How append treats the stream's broadcast cursor (broadcast.go).
type curMode uint8

const (
	curKeep curMode = iota // the event gets the stream's cursor
	curSet                 // the cursor becomes cur (even zero) first: a take-over's replay
	curHeld                // only if held, and cur (if not zero) is after the cursor, which becomes cur
)

// append is Append; share passes the event to the EventStore, if any;
// cur and how say what becomes of the stream's broadcast cursor.
func (st *Stream) append(data []byte, share bool, cur Cursor, how curMode) (seq uint64, ok bool) {
	st.mu.Lock()
	if st.finished || st.dropped {
		st.mu.Unlock()
		return 0, false
	}
	switch how {
	case curSet:
		st.cursor = cur
	case curHeld:
		if !st.held || !cur.IsZero() && !st.cursor.Less(cur) {
			st.mu.Unlock()
			return 0, false
		}
		if !cur.IsZero() {
			st.cursor = cur
		}
	}
	opts := &st.sess.m.opts
	n := len(st.events)
	drop := 0
	if n >= opts.MaxEventsPerStream {
		drop = n - opts.MaxEventsPerStream + 1
	}
	size := int64(len(data))
	budget := int64(opts.MaxStreamEventBytes) - size
	freed := int64(0)
	for i := range drop {
		freed += int64(len(st.events[i].Data))
	}
	for drop < n && st.bytes-freed > budget {
		freed += int64(len(st.events[drop].Data))
		drop++
	}
	if drop > 0 {
		k := copy(st.events, st.events[drop:])
		clear(st.events[k:])
		st.events = st.events[:k]
	}
	st.last++
	st.events = append(st.events, Event{Seq: st.last, Data: data, Cursor: st.cursor})
	st.addBytesLocked(size - freed)
	st.wakeLocked()
	seq, counted, cur := st.last, st.counted, st.cursor
	st.mu.Unlock()
	if share {
		st.shareAppend(seq, data, cur)
	}
	if counted && st.sess.eventBytes.Load() > int64(opts.MaxSessionEventBytes) {
		st.sess.trimEventBytes(st)
	}
	return seq, true
}

// addBytesLocked changes the stream's byte count, and the session's while
// the session retains the stream, by delta.
func (st *Stream) addBytesLocked(delta int64) {
	st.bytes += delta
	if st.counted && delta != 0 {
		st.sess.eventBytes.Add(delta)
	}
}

// uncountLocked takes the stream's bytes out of the session's count, as
// the session stops retaining it (eviction, End). The stream's own budgets
// still hold for the reader still attached to it, if any.
func (st *Stream) uncountLocked() {
	if st.counted {
		st.sess.eventBytes.Add(-st.bytes)
		st.counted = false
	}
}

// trimFront drops the stream's oldest events until want bytes are freed
// or only keep events are left, and returns the bytes freed, the stream's
// state and whether it is now empty. The session's lock is held.
func (st *Stream) trimFront(want int64, keep int) (freed int64, ss streamState, empty bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	drop := 0
	for drop < len(st.events)-keep && freed < want {
		freed += int64(len(st.events[drop].Data))
		drop++
	}
	if drop > 0 {
		k := copy(st.events, st.events[drop:])
		clear(st.events[k:])
		st.events = st.events[:k]
		st.addBytesLocked(-freed)
	}
	return freed, st.stateLocked(), len(st.events) == 0
}

// CanResume reports whether the log still holds every event after
// sequence number after, so that a reader attached after it misses none:
// after is the last event appended, or no later than the one before the
// oldest event kept. It is false for an after beyond the last event, and
// once events after it were dropped (the budgets; see [Stream]).
func (st *Stream) CanResume(after uint64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case after > st.last:
		return false
	case after == st.last:
		return true
	}
	return len(st.events) > 0 && st.events[0].Seq <= after+1
}

// Finish marks the stream complete: no more events will be appended (the
// last one carried the final JSON-RPC response). The attached reader
// returns [ReadFinished] once it has read everything.
func (st *Stream) Finish() {
	st.mu.Lock()
	was := st.finished || st.dropped
	st.finished = true
	st.wakeLocked()
	last := st.last
	st.mu.Unlock()
	if !was {
		st.shareFinish(last)
	}
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
	return st.stateLocked()
}

// rank returns the stream's eviction state and its bytes of event data.
func (st *Stream) rank() (streamState, int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.stateLocked(), st.bytes
}

func (st *Stream) stateLocked() streamState {
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
	st.uncountLocked()
	st.events, st.bytes = nil, 0
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
	gap    bool // Next reported lost events: not a delivery to the end
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
// the events that were dropped before this reader could read them
// (MaxEventsPerStream, MaxStreamEventBytes, MaxSessionEventBytes; see
// [Stream]); they come before the events returned. Next does not
// allocate when buf has room.
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
	r.gap = r.gap || lost > 0
	if st.finished {
		return evs, lost, ReadFinished
	}
	return evs, lost, ReadMore
}

// Close detaches the reader, if still attached, and releases its hold on
// the session. When the reader has read a finished POST stream to its end
// without a gap (Next never reported lost events), the stream is marked
// delivered: a flush into a connection the client already dropped often
// succeeds, so it stays resumable, but the session keeps only the last
// [RetainDelivered] delivered streams. Close is idempotent.
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
		delivered = st.finished && r.cursor == st.last && st.id != 0 && !r.gap
		st.delivered = st.delivered || delivered
	}
	st.mu.Unlock()
	if delivered {
		st.sess.trimDelivered()
	}
	st.sess.Release()
}
