package sessions

import "context"

// Broadcasts across nodes (issue #11). A notification for every client
// of a deployment (a list changed, a resource was updated, a log message
// for all: mcp.Server.NotifyAll) is raised on one node and delivered by
// every node to the sessions whose GET stream it holds. With a
// [BroadcastLog], the broadcasts go through one ordered log that every
// node reads, and each GET stream keeps a cursor: the position in the log
// up to which it has every broadcast that concerns its session. Every
// event of the stream carries the cursor it had once appended
// ([Event].Cursor, in its event ID and in the [EventStore]), so that the
// node a client resumes the stream on (after the node that held it died)
// knows which broadcasts the client may have missed: those after the
// cursor of the last event it gets, which it delivers again from the log,
// filtered as live delivery filters them. No broadcast is lost between
// the death of one holder and the client's return to another, and none
// is repeated.

// A Broadcast is an entry of a [BroadcastLog]: its position and what was
// broadcast.
type Broadcast struct {
	ID      Cursor
	Payload []byte
}

// A BroadcastLog is a [Store] whose nodes share an ordered log of
// broadcasts, each node delivering every entry, in order, to its own
// clients.
type BroadcastLog interface {
	// OnBroadcast sets f to be called with each entry of the log, in
	// order, one at a time, and with a broadcast this node raised that
	// could not go to the log (id zero: delivered here only). f must
	// not block for long: it holds up the node's deliveries.
	OnBroadcast(f func(id Cursor, payload []byte))
	// PauseBroadcasts runs f while no OnBroadcast call runs, with the
	// position of the last entry delivered ({1, 0} before any): what f
	// does is ordered with the deliveries.
	PauseBroadcasts(f func(pos Cursor))
	// ReadBroadcasts returns the entries after after, in order, up to
	// upTo included (zero: the end of the log), at most max (<= 0: no
	// limit). gap reports that the log no longer holds every entry after
	// after (its bound dropped some).
	ReadBroadcasts(ctx context.Context, after, upTo Cursor, max int) (bs []Broadcast, gap bool, err error)
}

// AppendHeld appends data, a broadcast for the session (or the position
// cur, zero for one delivered here only), to the GET stream st if this
// node holds it ([Stream.Hold]) and cur, when not zero, comes after the
// stream's cursor, which then becomes cur. It reports whether it
// appended. It takes ownership of data and never blocks.
func (st *Stream) AppendHeld(data []byte, cur Cursor) bool {
	_, ok := st.append(data, true, cur, curHeld)
	return ok
}

// Hold marks the GET stream as held by this node: from now on the
// broadcasts are appended to it (AppendHeld), and its cursor is at least
// pos, the position up to which it has every broadcast that concerns the
// session. Call it while the broadcasts are paused
// ([BroadcastLog.PauseBroadcasts]).
func (st *Stream) Hold(pos Cursor) {
	st.mu.Lock()
	st.held = true
	if st.cursor.Less(pos) {
		st.cursor = pos
	}
	st.mu.Unlock()
}

// Unhold marks the GET stream as no longer held by this node: the
// broadcasts are no longer appended to it. pos is the position up to
// which the node delivered them: while it held the stream, every
// broadcast up to pos was appended or found of no concern to the
// session, so the stream's cursor becomes at least pos (and a resumption
// replays from there, not from the last broadcast appended). Call it
// while the broadcasts are paused.
func (st *Stream) Unhold(pos Cursor) {
	st.mu.Lock()
	if st.held && st.cursor.Less(pos) {
		st.cursor = pos
	}
	st.held = false
	st.mu.Unlock()
}

// Held reports whether this node holds the GET stream ([Stream.Hold]).
func (st *Stream) Held() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.held
}

// Cursor returns the stream's broadcast cursor: every broadcast up to it
// that concerns the session is in the stream. Zero: none kept.
func (st *Stream) Cursor() Cursor {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.cursor
}

// SetCursor sets the stream's broadcast cursor, before a take-over
// appends the events it replays ([Session.TakeOverGET]).
func (st *Stream) SetCursor(c Cursor) {
	st.mu.Lock()
	st.cursor = c
	st.mu.Unlock()
}

// CursorAt returns the cursor the stream had after its event seq: the
// current one for its last event, the event's for one it retains, zero
// when it no longer knows (the event was dropped).
func (st *Stream) CursorAt(seq uint64) Cursor {
	st.mu.Lock()
	defer st.mu.Unlock()
	if seq == st.last {
		return st.cursor
	}
	for _, e := range st.events {
		if e.Seq == seq {
			return e.Cursor
		}
	}
	return Cursor{}
}
