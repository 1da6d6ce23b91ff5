package transport

import (
	"context"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/sessions"
)

// The GET stream across nodes. With a session store that keeps GET
// stream claims (sessions.GETClaims: redisstore), a session has one GET
// stream over all the nodes: the node that opens it claims it, a GET on
// another node while the claim lasts gets 409, and the messages other
// nodes have for that stream (a log message or a request not tied to a
// request of the client) are relayed to the node holding it. A claim
// ends with its stream, or within seconds of its node's death; a node that
// finds the holder gone (killed) takes it over at once (claimGET).

// claimTimeout bounds a claim, a release or a holder lookup.
const claimTimeout = 500 * time.Millisecond

// claimGET claims session s's GET stream for this node. It reports false
// when another node holds it (409). When the store cannot tell, the
// stream is opened here: the rule is kept by the nodes that can reach it.
//
// A holder that is gone (killed: sessions.GETClaims.NodeGone) leaves its
// claim behind for seconds; claimGET takes it over at once (StealGET).
// A holder alive with the stream of a client that hung up may not have
// noticed yet (it finds out at its next keep-alive); as a GET on the
// node itself would (reapDeadGET), claimGET asks it to look (an empty
// message relayed to its GET stream), and claims again while the holder
// closes a dead stream, for up to claimRetry, checking each time whether
// the holder is gone.
func (h *Handler) claimGET(s *sessions.Session) bool {
	if h.claims == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), claimTimeout+claimRetry)
	defer cancel()
	ok, err := h.claims.ClaimGET(ctx, s.ID())
	if ok || err != nil {
		return true
	}
	probed := false
	deadline := time.Now().Add(claimRetry)
	t := time.NewTimer(claimPoll)
	defer t.Stop()
	for {
		node, err := h.claims.GETHolder(ctx, s.ID())
		switch {
		case err != nil || node == h.node:
			return false
		case node == 0: // the claim expired in between
		default:
			if gone, err := h.claims.NodeGone(ctx, node); err == nil && gone {
				if ok, err := h.claims.StealGET(ctx, s.ID(), node); ok || err != nil {
					return true
				}
				continue // another node was quicker: who holds it now?
			}
			if !probed {
				if h.claims.RelayStandalone(ctx, node, s.ID(), nil) != nil {
					return false
				}
				probed = true
			}
		}
		if node != 0 {
			if !time.Now().Before(deadline) {
				return false
			}
			<-t.C // the holder's probe and close take a round trip and a pump
			t.Reset(claimPoll)
		}
		if ok, err := h.claims.ClaimGET(ctx, s.ID()); ok || err != nil {
			return true
		}
	}
}

// claimRetry bounds how long claimGET waits for another node to close a
// GET stream whose client hung up (its reapWait, and the round trips);
// claimPoll is how often it claims again meanwhile.
const (
	claimRetry = reapWait + 100*time.Millisecond
	claimPoll  = 20 * time.Millisecond
)

// releaseGET gives up this node's claim on session s's GET stream, before
// the stream's reader detaches (so that a new GET on this node claims it
// after the release).
func (h *Handler) releaseGET(s *sessions.Session) {
	if h.claims == nil {
		return
	}
	if st := s.Standalone(); st != nil {
		h.unhold(st) // the next holder delivers the broadcasts
	}
	ctx, cancel := context.WithTimeout(context.Background(), claimTimeout)
	defer cancel()
	h.claims.ReleaseGET(ctx, s.ID())
}

// resumeGET serves a GET with a Last-Event-ID of this node's GET stream
// when the nodes share GET stream claims: the claim is taken again (the
// stream may have moved to another node meanwhile: 409), and the stream
// resumes after seq. A seq past the stream's last event is 400, as
// without claims.
func (h *Handler) resumeGET(ctx *fasthttp.RequestCtx, s *sessions.Session, seq uint64) {
	st := s.Standalone()
	if st == nil {
		h.refuse(ctx, h.endedRefusal(s))
		return
	}
	if seq > st.Last() {
		h.refuse(ctx, refuseBadEventID)
		return
	}
	if !h.claimGET(s) {
		h.refuse(ctx, refuseConflict)
		return
	}
	h.hold(s, st, st.Cursor()) // the broadcasts missed since it let the stream go
	h.startGETStream(ctx, s, func(notify func()) (*sessions.Reader, bool) {
		return st.AttachNotify(seq, notify), true
	})
}

// takeOverGET serves a GET whose Last-Event-ID names another node's GET
// stream (from, seq): the client lost its stream there (the node died,
// shut down, or the connection broke) and came here. The stream is
// claimed here (409 while the other node still holds it for a live
// client), the events that node logged after seq are appended to this
// node's GET stream, and the client gets them and then what comes
// (sessions.Session.TakeOverGET). cur is the broadcast cursor the
// Last-Event-ID carries (zero: none): with a broadcast log, the
// broadcasts after the cursor of the last event replayed (or cur) go to
// the stream next (hold, broadcast.go).
func (h *Handler) takeOverGET(ctx *fasthttp.RequestCtx, s *sessions.Session, from, seq uint64, cur sessions.Cursor) {
	if !h.claimGET(s) {
		h.refuse(ctx, refuseConflict)
		return
	}
	after, ok := s.TakeOverGET(from, seq, cur)
	st := s.Standalone()
	if !ok || st == nil {
		h.refuse(ctx, h.endedRefusal(s))
		return
	}
	h.hold(s, st, st.Cursor())
	h.startGETStream(ctx, s, func(notify func()) (*sessions.Reader, bool) {
		return st.AttachNotify(after, notify), true
	})
}

// standaloneRelayed takes a message another node relayed to session id's
// GET stream, which this node holds.
func (h *Handler) standaloneRelayed(id string, msg []byte) {
	if len(msg) == 0 { // another node's GET wants the stream: is its client still there?
		if s := h.sessions.Lookup(id); s != nil {
			go h.reapDeadGET(s) // owner: the Handler; exit: within reapWait
		}
		return
	}
	if s := h.sessions.Lookup(id); s != nil {
		if st := s.Standalone(); st != nil {
			_ = streamSink{st}.send(msg)
		}
	}
}

// lostGET is told that another node took session id's GET stream claim
// from this node (it found this node gone while it was not: see
// sessions.GETClaims.NodeGone): the client has opened its stream there,
// so the one here, if still attached, is closed (its reader detached;
// the stream keeps collecting, as after any server-side close).
func (h *Handler) lostGET(id string) {
	if s := h.sessions.Lookup(id); s != nil {
		if st := s.Standalone(); st != nil {
			h.unhold(st)
			st.Kick()
		}
	}
}

// standaloneOutbound sends on a session's GET stream (mcp.Outbound and
// mcp.HereSender). With GET stream claims, Send relays a message to the
// node holding the stream when it is not open here; SendHere, for the
// notifications every node sends its own clients, delivers only when it
// is open here.
type standaloneOutbound struct {
	h *Handler
	s *sessions.Session
}

func (o standaloneOutbound) Send(msg []byte) error {
	st := o.s.Standalone()
	if st == nil {
		return errSessionEnded
	}
	if h := o.h; h != nil && h.claims != nil && !st.Attached() {
		ctx, cancel := context.WithTimeout(context.Background(), claimTimeout)
		defer cancel()
		if node, err := h.claims.GETHolder(ctx, o.s.ID()); err == nil && node != 0 && node != h.node {
			if h.claims.RelayStandalone(ctx, node, o.s.ID(), msg) == nil {
				return nil
			}
		}
	}
	return streamSink{st}.send(msg)
}

// With a broadcast log, SendHere appends only to a stream this node holds
// (claimed, attached or not yet: the reader reads it once attached), with
// the position of the broadcast being delivered as the stream's cursor,
// and not a broadcast the stream has already (broadcast.go).
func (o standaloneOutbound) SendHere(msg []byte) error {
	st := o.s.Standalone()
	if st == nil {
		return errSessionEnded
	}
	if h := o.h; h != nil && h.blog != nil {
		st.AppendHeld(msg, h.deliveringBroadcast())
		return nil
	}
	if o.h != nil && o.h.claims != nil && !st.Attached() {
		return nil // the node holding the GET stream sends it
	}
	return streamSink{st}.send(msg)
}
