package transport

import (
	"context"
	"time"

	"github.com/mcpfiber/mcpfiber/sessions"
)

// Broadcasts across nodes (sessions.BroadcastLog: redisstore). A
// notification for every client goes through one log that every node
// reads in order (Options.OnBroadcast), and each node appends it to the
// GET streams it holds, the ones whose claim it took (Stream.Hold), with
// the entry's position as the stream's cursor; every event of a GET
// stream carries its cursor in its ID ("<stream>_<seq>_<ms>-<n>") and in
// the event log. A node that takes a GET stream over (the client resumed
// it here; its holder died or let it go) replays, after the events
// logged by the holder, the broadcasts after the cursor of the last of
// them, up to what this node has delivered, with the broadcasts paused
// so that none slips between; then it holds the stream, and the next
// ones come live. Events whose cursor is at or before the stream's are
// not appended again.
//
//	kill B ──── broadcasts X1 X2 (no holder) ──── GET Last-Event-ID B_7_<c> on C
//	C: B's log after 7 (cursors up to c') → log (c', P_C] filtered → Hold(P_C) → live

// replayTimeout bounds the reads of the broadcast log for a take-over.
const replayTimeout = 2 * time.Second

// broadcastArrived is the log's OnBroadcast function: the entry id (zero
// for a broadcast of this node that Redis did not take) goes to this
// node's clients, and to the GET streams held here with id as cursor.
func (h *Handler) broadcastArrived(id sessions.Cursor, payload []byte) {
	if h.opts.OnBroadcast == nil {
		return
	}
	h.bcur.Store(&id) // one allocation per broadcast
	h.opts.OnBroadcast(payload)
	h.bcur.Store(nil)
}

// hold makes this node deliver the broadcasts to session s's GET stream
// st, whose claim it has just taken. With from not zero (a resumption:
// the cursor of the last event the client will have got), the
// broadcasts of the log after from that this node has delivered already
// go to st first, filtered for s (Options.ReplayBroadcast), while the
// broadcasts are paused. Without a broadcast log it does nothing.
//
// A gap (the log's bound dropped entries after from, or it cannot be
// read) is logged: the client then misses those broadcasts.
func (h *Handler) hold(s *sessions.Session, st *sessions.Stream, from sessions.Cursor) {
	if h.blog == nil {
		return
	}
	var conn = s.Conn()
	if conn != nil {
		// The GET stream is open: the client is initialized, whichever
		// node got its notifications/initialized.
		conn.State().MarkInitialized()
	}
	var (
		bs  []sessions.Broadcast
		gap bool
		err error
	)
	replay := !from.IsZero() && conn != nil && h.opts.ReplayBroadcast != nil
	ctx, cancel := context.WithTimeout(context.Background(), replayTimeout)
	defer cancel()
	if replay { // the bulk, outside the pause
		bs, gap, err = h.blog.ReadBroadcasts(ctx, from, sessions.Cursor{}, 0)
	}
	h.blog.PauseBroadcasts(func(pos sessions.Cursor) {
		if replay && err == nil {
			last := from
			if len(bs) > 0 {
				last = bs[len(bs)-1].ID
			}
			if last.Less(pos) { // delivered here since the read (rare)
				var more []sessions.Broadcast
				more, _, err = h.blog.ReadBroadcasts(ctx, last, pos, 0)
				bs = append(bs, more...)
			}
		}
		st.Hold(sessions.Cursor{}) // so that the replay appends
		if replay && err == nil {
			state := conn.State()
			for _, b := range bs {
				if pos.Less(b.ID) {
					break // not delivered here yet: it comes live
				}
				h.bcur.Store(&b.ID)
				h.opts.ReplayBroadcast(state, b.Payload)
			}
			h.bcur.Store(nil)
		}
		st.Hold(pos)
	})
	if err != nil || gap {
		h.log.Warn("GET stream taken over: broadcasts the client missed may be lost",
			"session", s.ID(), "after", string(sessions.AppendCursor(nil, from)), "gap", gap, "err", err)
	}
}

// unhold makes this node stop delivering the broadcasts to the GET
// stream st (its claim goes, or went to another node).
func (h *Handler) unhold(st *sessions.Stream) {
	if h.blog == nil {
		return
	}
	h.blog.PauseBroadcasts(st.Unhold)
}

// deliveringBroadcast returns the position of the broadcast being
// delivered, zero for none.
func (h *Handler) deliveringBroadcast() sessions.Cursor {
	if c := h.bcur.Load(); c != nil {
		return *c
	}
	return sessions.Cursor{}
}
